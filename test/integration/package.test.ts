/**
 * The published artefact works: `npm pack` yields a tarball that installs into
 * an empty project and produces to a broker from both `import` and `require`,
 * and its `kafka-producer-perf` bin runs from node_modules/.bin.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type MockCluster, startMockCluster } from '../harness/mock.js'

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

function run(file: string, source: string): { status: number | null; out: string } {
  const app = path.join(dir, 'app')
  writeFileSync(path.join(app, file), source)
  const r = spawnSync(process.execPath, [file], { cwd: app, encoding: 'utf8', env: { ...process.env, BROKERS: mock.bootstrap }, timeout: 60_000 })
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
  })

  it('installs the kafka-producer-perf bin, which produces and prints Java\'s summary line', () => {
    const bin = path.join(dir, 'app', 'node_modules', '.bin', 'kafka-producer-perf')
    const r = spawnSync(bin, ['--bootstrap-server', mock.bootstrap, '--topic', 'pkg', '--num-records', '100', '--record-size', '10', '--throughput', '-1'], { encoding: 'utf8', timeout: 60_000 })
    expect(r.stderr).toBe('')
    expect(r.stdout).toMatch(/^100 records sent, [\d.]+ records\/sec \([\d.]+ MB\/sec\), [\d.]+ ms avg latency, [\d.]+ ms max latency, \d+ ms 50th, \d+ ms 95th, \d+ ms 99th, \d+ ms 99\.9th\.$/m)
    expect(r.status).toBe(0)
  })
})
