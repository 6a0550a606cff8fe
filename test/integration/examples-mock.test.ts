/**
 * The examples of issue 13 run as users run them (`npx tsx examples/x.ts`,
 * 'kafka-producer-ts' resolved to src/ through tsconfig paths) against
 * librdkafka's mock cluster, and what they wrote is read back with kcat.
 */
import { spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { partitionForKey } from '../../src/index.js'
import { consumeWithKcat } from '../harness/consume.js'
import { type MockCluster, startMockCluster } from '../harness/mock.js'

let mock: MockCluster

beforeAll(async () => {
  mock = await startMockCluster({ brokers: 3 })
  await mock.createTopic('ex-orders', 4, 1)
  await mock.createTopic('ex-events', 8, 1)
  await mock.createTopic('ex-requests', 2, 1)
  await mock.createTopic('ex-obs', 2, 1)
}, 60_000)

afterAll(async () => {
  await mock?.stop()
})

const NODE = process.versions.bun !== undefined || 'Deno' in globalThis ? 'node' : process.execPath

function runExample(file: string, env: Record<string, string>, runtime = process.execPath): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(runtime, ['--import', 'tsx', file], { env: { ...process.env, KAFKA_BROKERS: mock.bootstrap, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), 100_000)
    child.once('error', reject)
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

describe('examples', () => {
  it('typed-json.ts: JSON orders keyed by customer, a serialization failure reported, interceptor counts', async () => {
    const r = await runExample('examples/typed-json.ts', { TOPIC: 'ex-orders' })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/not sent: Can't serialize the value of a record for topic 'ex-orders'/)
    expect(r.stdout).toMatch(/acknowledged 10, failed 1/)
    const got = await consumeWithKcat(mock.bootstrap, 'ex-orders', { partitions: 4 })
    expect(got).toHaveLength(10)
    for (const rec of got) {
      const order = JSON.parse(rec.value!.toString()) as { customer: string }
      expect(rec.key!.toString()).toBe(order.customer)
      expect(rec.partition).toBe(partitionForKey(rec.key!, 4))
      expect(rec.headers.map(([k, v]) => `${k}=${v}`)).toEqual(['produced-by=typed-json-example'])
    }
  }, 120_000)

  it('stream-pipeline.ts: every record of the pipeline and of sendAll arrives', async () => {
    const r = await runExample('examples/stream-pipeline.ts', { TOPIC: 'ex-events', RECORDS: '20000' })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/pipeline: 20000 records acknowledged/)
    expect(r.stdout).toMatch(/sendAll: 2000 records acknowledged/)
    const got = await consumeWithKcat(mock.bootstrap, 'ex-events', { partitions: 8 })
    expect(got).toHaveLength(22_000)
  }, 120_000)

  it('cancellation.ts: withdrawn sends are not in the topic, the others all are', async () => {
    const r = await runExample('examples/cancellation.ts', { TOPIC: 'ex-requests' })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const deadline = /deadline: (\d+) delivered, (\d+) withdrawn before sending, (\d+) failed otherwise/.exec(r.stdout)!
    const abort = /abort\(\): (\d+) delivered \(already in batches\), (\d+) withdrawn/.exec(r.stdout)!
    expect(deadline).not.toBeNull()
    expect(abort).not.toBeNull()
    expect(Number(deadline[3])).toBe(0)
    expect(Number(deadline[1]) + Number(deadline[2])).toBe(2000)
    expect(Number(abort[1]) + Number(abort[2])).toBe(500)
    expect(Number(abort[2])).toBeGreaterThan(0)
    expect(r.stdout).toMatch(/already aborted: AbortError/)
    const got = await consumeWithKcat(mock.bootstrap, 'ex-requests', { partitions: 2 })
    // warm-up + what was delivered; 'never' and the withdrawn ones are absent.
    expect(got).toHaveLength(1 + Number(deadline[1]) + Number(abort[1]))
    expect(got.some((rec) => rec.value?.toString() === 'never')).toBe(false)
  }, 120_000)

  it('observability.ts: against a slow broker, the picture shows requests in flight, spans reach the console, traceparent reaches the records', async () => {
    // Every broker answers 400 ms late: requests stay in flight long enough to be seen.
    for (const b of [1, 2, 3]) await mock.command(`rtt ${b} 400`)
    try {
      // On Node, whatever runtime runs the suite: on Bun and Deno this example printed no span (their tracing channels and
      // the OpenTelemetry SDK's context are not verified there; docs/runtimes.md).
      const r = await runExample('examples/observability.ts', { TOPIC: 'ex-obs', RECORDS: '3000' }, NODE)
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(/broker \d+ ready: [1-5] in flight \[Produce#\d+ \d+ms \d+rec/)
      expect(r.stdout).toMatch(/after flush:\n(  broker \d+ ready: 0 in flight\n)+/)
      expect(r.stdout).toMatch(/name: 'send ex-obs'/)
      expect(r.stdout).toMatch(/done: 3000 acknowledged, 0 failed, 3 span\(s\) printed/)
    } finally {
      for (const b of [1, 2, 3]) await mock.command(`rtt ${b} 0`)
    }
    const got = await consumeWithKcat(mock.bootstrap, 'ex-obs', { partitions: 2 })
    expect(got).toHaveLength(3000)
    for (const rec of got) {
      const tp = rec.headers.find(([k]) => k === 'traceparent')
      expect(tp?.[1]?.toString()).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/)
    }
  }, 120_000)
})
