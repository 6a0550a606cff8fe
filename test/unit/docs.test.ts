/** Documentation that is generated or duplicated must not drift from the code. */
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { SOFTWARE_VERSION } from '../../src/version.js'

/** The user- and developer-facing Markdown whose links must resolve. */
const DOCS = ['README.md', 'CONTRIBUTING.md', ...readdirSync('docs').filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`), 'docs/api/README.md']

/** GitHub's heading anchor: lower case, punctuation dropped (except - and _), spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .replace(/`/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-')
}

function anchorsOf(file: string): Set<string> {
  const seen = new Map<string, number>()
  const out = new Set<string>()
  let inFence = false
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('```')) inFence = !inFence
    const m = !inFence && /^#{1,6} (.*)$/.exec(line)
    if (!m) continue
    const base = slug(m[1]!)
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    out.add(n === 0 ? base : `${base}-${n}`)
  }
  return out
}

/** Relative link targets of a Markdown file, outside code fences and code spans. */
function linksOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
    .replace(/^```[\s\S]*?^```/gm, '')
    .replace(/`[^`\n]*`/g, '')
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((t) => !/^[a-z]+:/i.test(t))
}

describe('docs and metadata', () => {
  it('docs/configuration.md options table matches src/config.ts', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/gen-config-table.mjs', '--check', 'docs/configuration.md'], { encoding: 'utf8' })
    // On failure: npx tsx scripts/gen-config-table.mjs --write docs/configuration.md
    expect(r.stderr + r.stdout).not.toMatch(/differs|out of date|not found/i)
    expect(r.status).toBe(0)
  }, 30_000)

  it('the options table has one home: README.md links to it instead of copying it', () => {
    const readme = readFileSync('README.md', 'utf8')
    expect(readme).not.toContain('<!-- config-table:start -->')
    expect(readme).toContain('](docs/configuration.md')
  })

  it('docs/performance.md measured part matches bench/results/results.json', async () => {
    // Plain ESM without types: imported by URL, as config.test.ts does with the config generator.
    const report = await import(pathToFileURL(path.resolve('bench/lib/report.mjs')).href)
    const results = JSON.parse(readFileSync('bench/results/results.json', 'utf8'))
    const doc = readFileSync('docs/performance.md', 'utf8')
    const i = doc.indexOf(report.DOCS_START)
    const j = doc.indexOf(report.DOCS_END)
    expect(i, 'bench-report markers missing').toBeGreaterThan(0)
    expect(j).toBeGreaterThan(i)
    // On failure: node bench/run.mjs --rerender results
    expect(doc.slice(i + report.DOCS_START.length, j).trim()).toBe(String(report.docsSection(results)).trim())
    expect(readFileSync('bench/results/performance-section.md', 'utf8').trim()).toBe(String(report.docsSection(results)).trim())
  })

  it('every relative link in README.md, CONTRIBUTING.md and docs/ resolves', () => {
    const broken: string[] = []
    for (const file of DOCS) {
      for (const target of linksOf(file)) {
        const [p, anchor] = target.split('#') as [string, string | undefined]
        const dest = p === '' ? file : path.join(path.dirname(file), decodeURIComponent(p))
        if (!existsSync(dest)) broken.push(`${file}: ${target} (no such file)`)
        else if (anchor !== undefined && dest.endsWith('.md') && !anchorsOf(dest).has(anchor)) broken.push(`${file}: ${target} (no such heading)`)
      }
    }
    expect(broken).toEqual([])
  })

  it('the API reference documents every entry point of package.json, and npm test fails on an undocumented export', async () => {
    // Plain ESM without types, imported by URL as above. Running TypeDoc is `npm run docs:check`, a step of `npm test`.
    const docs = await import(pathToFileURL(path.resolve('scripts/docs.mjs')).href)
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string>; exports: Record<string, unknown> }
    const entries: string[] = docs.entryPointsOf(pkg)
    expect(entries[0]).toBe('src/index.ts')
    for (const e of entries) expect(existsSync(e), e).toBe(true)
    const jsExports = Object.keys(pkg.exports).filter((k) => k !== './package.json')
    expect(entries).toHaveLength(jsExports.length)
    expect(pkg.scripts.test).toContain('node scripts/docs.mjs --check')
    const typedoc = JSON.parse(readFileSync('typedoc.json', 'utf8'))
    expect(typedoc).toMatchObject({ treatWarningsAsErrors: true, excludeInternal: true, validation: { notDocumented: true, notExported: true } })
    // A subpath export is documented from src/<path>.ts or src/<path>/index.ts; one without a source is an error.
    const sub = { exports: { '.': { import: { types: './dist/index.d.ts' } }, './otel': { import: { types: './dist/otel/index.d.ts', default: './dist/otel/index.js' } }, './package.json': './package.json' } }
    expect(docs.entryPointsOf(sub, (f: string) => ['src/index.ts', 'src/otel/index.ts'].includes(f))).toEqual(['src/index.ts', 'src/otel/index.ts'])
    expect(() => docs.entryPointsOf(sub, (f: string) => f === 'src/index.ts')).toThrow(/"\.\/otel" → \.\/dist\/otel\/index\.d\.ts: no source/)
  })

  it('the version sent to brokers is the package version', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }
    expect(SOFTWARE_VERSION).toBe(pkg.version)
  })
})
