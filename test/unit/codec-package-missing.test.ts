/**
 * A producer configured with a codec whose optional package is not installed
 * fails at construction with a KafkaConfigError naming the package. The
 * package is hidden from a child Node process by a preloaded stub resolution
 * (Module._load throws MODULE_NOT_FOUND for it, as Node does for a
 * package that is not there); the shared node_modules is never touched.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { zstdBuiltIn } from '../../src/protocol/compression/zstd.js'

const ROOT = path.resolve(import.meta.dirname, '..', '..')
let dir = ''

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kpts-hidden-codec-'))
  fs.writeFileSync(
    path.join(dir, 'hide.cjs'),
    `const Module = require('node:module')
const hidden = new Set((process.env.HIDE_PACKAGES || '').split(',').filter(Boolean))
// Module._load sees the request before any resolver (tsx wraps _resolveFilename and resolves scoped names itself).
const load = Module._load
Module._load = function (request, ...rest) {
  if (hidden.has(request)) {
    const err = new Error("Cannot find module '" + request + "'")
    err.code = 'MODULE_NOT_FOUND'
    throw err
  }
  return load.call(this, request, ...rest)
}
`,
  )
  fs.writeFileSync(
    path.join(dir, 'probe.mts'),
    `import { KafkaProducer } from ${JSON.stringify(path.join(ROOT, 'src', 'index.ts'))}
const out: Record<string, unknown> = {}
for (const codec of process.argv.slice(2)) {
  try {
    const p = new KafkaProducer({ bootstrapServers: '127.0.0.1:1', compressionType: codec as 'lz4' })
    await p.close({ timeoutMs: 0 })
    out[codec] = 'ok'
  } catch (e) {
    const err = e as Error & { key?: string }
    out[codec] = { name: err.name, key: err.key, message: err.message }
  }
}
console.log(JSON.stringify(out))
`,
  )
})

afterAll(() => {
  if (dir !== '') fs.rmSync(dir, { recursive: true, force: true })
})

/**
 * The probe always runs on Node: hiding a package relies on Node's CommonJS
 * loader (Module._load) and tsx. Under Bun and Deno the matrix still runs this
 * file, and the producer's lookup of the package (createRequire) is the same
 * code on every runtime.
 */
const NODE = process.versions.bun !== undefined || 'Deno' in globalThis ? 'node' : process.execPath

function probe(hide: string[], codecs: string[]): Record<string, 'ok' | { name: string; key: string; message: string }> {
  const r = spawnSync(NODE, ['--require', path.join(dir, 'hide.cjs'), '--import', 'tsx', path.join(dir, 'probe.mts'), ...codecs], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, HIDE_PACKAGES: hide.join(',') },
    timeout: 60_000,
  })
  if (r.status !== 0) throw new Error(`probe failed (${r.status}): ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop()!)
}

describe('a missing optional codec package', () => {
  const cases: [string, string][] = [
    ['lz4', 'lz4-napi'],
    ['snappy', 'snappy'],
    ...(zstdBuiltIn() ? [] : ([['zstd', '@toondepauw/node-zstd']] as [string, string][])),
  ]

  it.each(cases)('%s without %s: the constructor throws a KafkaConfigError naming the package; gzip and none still work', (codec, pkg) => {
    const out = probe([pkg], [codec, 'gzip', 'none'])
    expect(out[codec]).toEqual({
      name: 'KafkaConfigError',
      key: 'compressionType',
      message: expect.stringContaining(`${codec} compression needs the optional package '${pkg}', but it is not installed; install it with 'npm install ${pkg}'`),
    })
    expect(out.gzip).toBe('ok')
    expect(out.none).toBe('ok')
  }, 90_000)

  it('with the packages present, every codec constructs', () => {
    const out = probe([], ['lz4', 'snappy', 'zstd', 'gzip'])
    expect(Object.values(out)).toEqual(['ok', 'ok', 'ok', 'ok'])
  }, 90_000)
})
