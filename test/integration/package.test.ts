/**
 * The published artefact works: `npm pack` yields a tarball that installs into
 * an empty project and produces to a broker from both `import` and `require`,
 * and its `kafka-producer-perf` bin runs from node_modules/.bin.
 * Its `kafka-producer-ts/opentelemetry` subpath fails with the missing peer's
 * name until `@opentelemetry/api` is installed, then traces sends; the main
 * entry never loads `@opentelemetry/api`, installed or not.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type MockCluster, startMockCluster } from '../harness/mock.js'
import { SUMMARY } from './perf-cli.js'

const ROOT = path.resolve(import.meta.dirname, '..', '..')
let dir: string
let mock: MockCluster

beforeAll(async () => {
  mock = await startMockCluster({ brokers: 1 })
  await mock.createTopic('pkg', 1, 1)
  dir = mkdtempSync(path.join(tmpdir(), 'kpts-pack-'))
  // `npm test` builds dist/ before the tests run; pack what a publish would ship.
  execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'))!
  const app = path.join(dir, 'app')
  execFileSync('mkdir', ['-p', app])
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }))
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--silent', path.join(dir, tgz)], {
    cwd: app,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}, 180_000)

afterAll(async () => {
  await mock?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

function run(file: string, source: string, nodeArgs: string[] = []): { status: number | null; out: string } {
  const app = path.join(dir, 'app')
  writeFileSync(path.join(app, file), source)
  const r = spawnSync(process.execPath, [...nodeArgs, file], { cwd: app, encoding: 'utf8', env: { ...process.env, BROKERS: mock.bootstrap }, timeout: 60_000 })
  return { status: r.status, out: r.stdout + r.stderr }
}

const body = (mod: string): string => `
const { KafkaProducer, KafkaConfigError, VERSION } = ${mod}
let configError = null
try { new KafkaProducer({ bootstrapServers: process.env.BROKERS, lingerMS: 5 }) } catch (e) { configError = e }
if (!(configError instanceof KafkaConfigError) || configError.key !== 'lingerMS') throw new Error('config error not typed: ' + configError)
const producer = new KafkaProducer({ bootstrapServers: process.env.BROKERS })
producer.send({ topic: 'pkg', value: 'hello' }).then(async (md) => {
  await producer.close()
  console.log('OK ' + VERSION + ' ' + md.topic + ' ' + md.partition + ' ' + typeof md.offset)
})
`

describe('npm pack', () => {
  it('installs into an empty project and works from import (ESM)', () => {
    const r = run('esm.mjs', body("await import('kafka-producer-ts')"))
    expect(r.out).toMatch(/^OK \d+\.\d+\.\d+ pkg 0 bigint$/m)
    expect(r.status).toBe(0)
  })

  it('installs into an empty project and works from require (CJS)', () => {
    const r = run('cjs.cjs', body("require('kafka-producer-ts')"))
    expect(r.out).toMatch(/^OK \d+\.\d+\.\d+ pkg 0 bigint$/m)
    expect(r.status).toBe(0)
  })

  it('ships type declarations for both module systems', () => {
    const files = execFileSync('tar', ['-tzf', path.join(dir, readdirSync(dir).find((f) => f.endsWith('.tgz'))!)], { encoding: 'utf8' })
    expect(files).toMatch(/package\/dist\/index\.d\.ts/)
    expect(files).toMatch(/package\/dist\/index\.d\.cts/)
    expect(files).toMatch(/package\/dist\/index\.cjs/)
    expect(files).toMatch(/package\/dist\/index\.js/)
    for (const f of ['index.js', 'index.cjs', 'index.d.ts', 'index.d.cts']) expect(files).toContain(`package/dist/opentelemetry/${f}`)
  })

  // The bin runs under the node of its shebang whatever runtime runs this file: not a Node-only check.
  it('installs the kafka-producer-perf bin, which produces and prints Java\'s summary line', () => {
    const bin = path.join(dir, 'app', 'node_modules', '.bin', 'kafka-producer-perf')
    const r = spawnSync(bin, ['--bootstrap-server', mock.bootstrap, '--topic', 'pkg', '--num-records', '100', '--record-size', '10', '--throughput', '-1'], { encoding: 'utf8', timeout: 60_000 })
    expect(r.stderr).toBe('')
    expect(SUMMARY.exec(r.stdout)?.[1], r.stdout).toBe('100')
    expect(r.status).toBe(0)
  })
})

/** Traces one send through the subpath with the real SDK's in-memory exporter; prints the span. */
const otelBody = (load: (mod: string) => string): string => `
const { KafkaProducer } = ${load('kafka-producer-ts')}
const { enableOpenTelemetry } = ${load('kafka-producer-ts/opentelemetry')}
const { TracerProvider, SimpleSpanProcessor, InMemorySpanExporter } = ${load('@opentelemetry/sdk-trace')}
const exporter = new InMemorySpanExporter()
const otel = enableOpenTelemetry({ tracerProvider: new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }), metrics: false })
const producer = new KafkaProducer({ bootstrapServers: process.env.BROKERS })
producer.send({ topic: 'pkg', value: 'traced' }).then(async (md) => {
  await producer.close()
  otel.disable()
  const [span] = exporter.getFinishedSpans()
  console.log('SPAN ' + span.name + ' ' + span.attributes['messaging.system'] + ' ' + (span.attributes['messaging.kafka.offset'] === Number(md.offset)))
})
`

// Node only: these checks are about Node's module resolution (a registered resolve hook, require.cache, its
// missing-package message). Under Bun and Deno the main entry's tests above still run.
const NOT_NODE = process.versions.bun !== undefined || 'Deno' in globalThis

describe.skipIf(NOT_NODE)('npm pack: the opentelemetry subpath', () => {
  it('without @opentelemetry/api installed, fails to load naming the missing peer (ESM and CJS)', () => {
    const esm = run('otel-missing.mjs', "await import('kafka-producer-ts/opentelemetry')")
    expect(esm.status).not.toBe(0)
    expect(esm.out).toMatch(/Cannot find (package|module) '@opentelemetry\/api'/)
    const cjs = run('otel-missing.cjs', "require('kafka-producer-ts/opentelemetry')")
    expect(cjs.status).not.toBe(0)
    expect(cjs.out).toMatch(/Cannot find module '@opentelemetry\/api'/)
  })

  describe('with @opentelemetry/api (and the SDK) installed', () => {
    beforeAll(() => {
      // Linked from this checkout's devDependencies: no registry access in the test.
      const scope = path.join(dir, 'app', 'node_modules', '@opentelemetry')
      mkdirSync(scope, { recursive: true })
      for (const p of ['api', 'sdk-trace']) symlinkSync(path.join(ROOT, 'node_modules', '@opentelemetry', p), path.join(scope, p), 'dir')
    })

    it('traces a send from import (ESM) and require (CJS)', () => {
      const esm = run('otel.mjs', otelBody((m) => `await import('${m}')`))
      expect(esm.out).toMatch(/^SPAN send pkg kafka true$/m)
      expect(esm.status).toBe(0)
      const cjs = run('otel.cjs', otelBody((m) => `require('${m}')`))
      expect(cjs.out).toMatch(/^SPAN send pkg kafka true$/m)
      expect(cjs.status).toBe(0)
    })

    it('the main entry does not load @opentelemetry/api (ESM: a resolve hook refuses it; CJS: require.cache)', () => {
      writeFileSync(
        path.join(dir, 'app', 'refuse-otel-hooks.mjs'),
        "export async function resolve(spec, ctx, next) { if (spec.startsWith('@opentelemetry/')) throw new Error('REFUSED ' + spec); return next(spec, ctx) }\n",
      )
      writeFileSync(path.join(dir, 'app', 'refuse-otel.mjs'), "import { register } from 'node:module'\nregister('./refuse-otel-hooks.mjs', import.meta.url)\n")
      // The hook works: the subpath is refused.
      const refused = run('otel-refused.mjs', "await import('kafka-producer-ts/opentelemetry')", ['--import', './refuse-otel.mjs'])
      expect(refused.out).toMatch(/REFUSED @opentelemetry\/api/)
      const esm = run('esm.mjs', body("await import('kafka-producer-ts')"), ['--import', './refuse-otel.mjs'])
      expect(esm.out).toMatch(/^OK \d+\.\d+\.\d+ pkg 0 bigint$/m)
      expect(esm.status).toBe(0)
      const cjs = run(
        'main-cache.cjs',
        "require('kafka-producer-ts')\nconst loaded = Object.keys(require.cache).filter((k) => k.includes('@opentelemetry'))\nconsole.log('LOADED ' + JSON.stringify(loaded))\n",
      )
      expect(cjs.out).toMatch(/^LOADED \[\]$/m)
    })
  })
})
