/**
 * The optional codec packages load from both builds tsup makes (ESM and CJS),
 * and only when a codec needs them. To test the loader alone, this
 * bundles src/protocol/compression/index.ts with the same tsup settings
 * (node20, platform node, esm + cjs) and runs it in a fresh Node process.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const ROOT = path.resolve(import.meta.dirname, '..', '..')
// Inside node_modules/, so the bundle resolves packages from the project's node_modules.
const OUT = path.join(ROOT, 'node_modules', '.cache', `kpts-compression-bundle-${process.pid}`)

beforeAll(() => {
  execFileSync(
    process.execPath,
    [
      path.join(ROOT, 'node_modules', 'tsup', 'dist', 'cli-default.js'),
      path.join(ROOT, 'src', 'protocol', 'compression', 'index.ts'),
      '--no-config',
      '--format',
      'esm,cjs',
      '--target',
      'node20',
      '--platform',
      'node',
      '--treeshake',
      '--out-dir',
      OUT,
      '--silent',
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  )
}, 120_000)

afterAll(() => {
  fs.rmSync(OUT, { recursive: true, force: true })
})

/** Loads the bundle, checks no codec package is loaded, runs every codec, checks they are loaded now. */
const script = (load: string) => `
const Module = require('node:module')
const loaded = () => Object.keys(Module._cache).filter((f) => /[\\\\/](snappy|lz4-napi|@toondepauw[\\\\/]node-zstd)[\\\\/]/.test(f)).length
async function main() {
  const c = ${load}
  if (loaded() !== 0) throw new Error('a codec package was loaded at import')
  const input = Buffer.from('hello kafka '.repeat(10000))
  for (const codec of ['gzip', 'snappy', 'lz4', 'zstd']) {
    const frame = await c.compress(codec, undefined, input)
    if (!(await c.decompress(codec, frame)).equals(input) || frame.length >= input.length) throw new Error(codec + ' round trip failed')
  }
  if (loaded() === 0) throw new Error('no codec package was loaded')
  console.log('OK ' + loaded())
}
main().catch((e) => { console.error(e); process.exit(1) })
`

function run(file: string, source: string): { status: number | null; out: string } {
  fs.writeFileSync(path.join(OUT, file), source)
  const r = spawnSync(process.execPath, [file], { cwd: OUT, encoding: 'utf8', timeout: 60_000 })
  return { status: r.status, out: r.stdout + r.stderr }
}

describe('compression codecs in the built bundles', () => {
  it('the ESM build loads codec packages lazily and runs every codec', () => {
    const source = script("await import('./index.js')").replace("const Module = require('node:module')", "import Module from 'node:module'")
    const r = run('check.mjs', source.replace('async function main() {', 'async function main() {'))
    expect(r.out).toMatch(/^OK \d+$/m)
    expect(r.status).toBe(0)
  })

  it('the CJS build loads codec packages lazily and runs every codec', () => {
    const r = run('check.cjs', script("require('./index.cjs')"))
    expect(r.out).toMatch(/^OK \d+$/m)
    expect(r.status).toBe(0)
  })
})
