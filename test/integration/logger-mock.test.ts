/**
 * The `logger` option against librdkafka's mock cluster (3 brokers): a broker
 * taken down in the middle of a run of sends is logged a bounded number of
 * times, with its id and the cause, through a custom logger (structured
 * fields) and through the default one (stderr lines).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { KafkaProducer, type LogFields, type Logger } from '../../src/index.js'
import { type MockCluster, startMockCluster } from '../harness/mock.js'

let mock: MockCluster

beforeAll(async () => {
  mock = await startMockCluster({ brokers: 3 })
  await mock.createTopic('logged', 6, 1)
  // The mock picks each partition's replica at random, so broker 2 might lead none of them (about 1 run in 11);
  // leaders are set so that every broker leads two partitions.
  for (let p = 0; p < 6; p++) await mock.command(`leader logged ${p} ${(p % 3) + 1}`)
}, 60_000)

afterAll(async () => {
  await mock?.stop()
})

describe('logger', () => {
  // Not under Deno yet: its one failure (0 records failed) matched a layout where broker 2 led no partition, which
  // the leaders set above now rule out; not re-verified there (docs/runtimes.md).
  it.skipIf('Deno' in globalThis)('a broker down mid-run: a bounded number of lines, each with the broker id and the cause', async () => {
    const lines: { level: string; fields: LogFields; message: string }[] = []
    const logger: Logger = {
      warn: (fields, message) => void lines.push({ level: 'warn', fields, message }),
      error: (fields, message) => void lines.push({ level: 'error', fields, message }),
    }
    const stderr: string[] = []
    const realWrite = process.stderr.write.bind(process.stderr)
    vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = String(chunk)
      if (text.includes('kafka-producer-ts') && text.includes('clientId=default-logged')) stderr.push(text)
      return realWrite(chunk as string, ...(rest as []))
    }) as typeof process.stderr.write)
    const common = { bootstrapServers: mock.bootstrap, lingerMs: 5, deliveryTimeoutMs: 2500, requestTimeoutMs: 1000, reconnectBackoffMs: 20, reconnectBackoffMaxMs: 100 }
    const custom = new KafkaProducer({ ...common, clientId: 'custom-logged', logger })
    const byDefault = new KafkaProducer({ ...common, clientId: 'default-logged' })
    const outcomes = { ok: 0, failed: 0 }
    const send = (p: KafkaProducer, i: number): Promise<void> =>
      p.send({ topic: 'logged', partition: i % 6, value: `v${i}` }).then(
        () => void outcomes.ok++,
        () => void outcomes.failed++,
      )
    const down = 2
    try {
      // Warm up both producers on every partition, so they have connections to every broker.
      await Promise.all(Array.from({ length: 12 }, (_, i) => Promise.all([send(custom, i), send(byDefault, i)])))
      expect(lines).toEqual([])
      // Broker 2 (leader of some partitions) goes away while sends keep coming, for about 3 s: many reconnect attempts.
      await mock.command(`broker_down ${down}`)
      const pending: Promise<void>[] = []
      const until = Date.now() + 3000
      let i = 0
      while (Date.now() < until) {
        for (let j = 0; j < 6; j++, i++) pending.push(send(custom, i), send(byDefault, i))
        await new Promise((r) => setTimeout(r, 20))
      }
      await Promise.all(pending)
      await mock.command(`broker_up ${down}`)
    } finally {
      await Promise.all([custom.close({ timeoutMs: 3000 }), byDefault.close({ timeoutMs: 3000 })])
      vi.restoreAllMocks()
    }
    expect(outcomes.failed).toBeGreaterThan(100) // the down broker's partitions timed out, record after record
    const connection = lines.filter((l) => l.fields.event === 'connection.failed')
    expect(connection.length).toBeGreaterThanOrEqual(1)
    // Bounded: once per broker and distinct cause, plus once per kind of batch failure; not per record or attempt.
    expect(lines.length).toBeLessThanOrEqual(8)
    for (const l of connection) {
      expect(l.fields).toMatchObject({ clientId: 'custom-logged', nodeId: down, broker: expect.stringMatching(/^127\.0\.0\.1:\d+$/) })
      expect(typeof l.fields.cause).toBe('string')
      expect(l.message).toContain(`broker ${down} at 127.0.0.1:`)
    }
    const failed = lines.filter((l) => l.fields.event === 'batch.failed')
    expect(failed.length).toBeGreaterThanOrEqual(1)
    expect(failed.length).toBeLessThanOrEqual(3)
    // The default logger: the same few lines on stderr, each naming the broker and the cause.
    const stderrConnection = stderr.filter((l) => l.includes(`nodeId=${down}`) && /cause=\S+/.test(l))
    expect(stderrConnection.length).toBeGreaterThanOrEqual(1)
    expect(stderr.length).toBeLessThanOrEqual(8)
    for (const l of stderr) expect(l).toMatch(/^\[(WARN|ERROR)\] kafka-producer-ts: /)
  }, 60_000)
})
