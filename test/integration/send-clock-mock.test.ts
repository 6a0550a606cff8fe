/**
 * The send path's clock cache (KafkaProducer.sendClock): sends of one
 * synchronous run share a clock reading for at most 16 sends, and any yield
 * to the event loop or a microtask ends the sharing. Observed through the
 * timestamps the producer hands the accumulator (the mock cluster answers
 * with its own log-append time, so callbacks cannot show them), against
 * librdkafka's mock cluster.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { KafkaProducer } from '../../src/index.js'
import { RecordAccumulator } from '../../src/producer/record-accumulator.js'
import { type MockCluster, startMockCluster } from '../harness/mock.js'

let mock: MockCluster

beforeAll(async () => {
  mock = await startMockCluster({ brokers: 1 })
  await mock.createTopic('clock', 1, 1)
}, 60_000)

afterAll(async () => {
  vi.restoreAllMocks()
  await mock?.stop()
})

describe('default record timestamps', () => {
  it('are shared by at most 16 sends of one synchronous run, and read afresh after a yield', async () => {
    // Every Date.now() call advances 1 ms, so each fresh reading is a new timestamp.
    const realNow = Date.now.bind(Date)
    let calls = 0
    vi.spyOn(Date, 'now').mockImplementation(() => realNow() + calls++)
    const append = vi.spyOn(RecordAccumulator.prototype, 'append')
    const producer = new KafkaProducer({ bootstrapServers: mock.bootstrap, lingerMs: 0 })
    try {
      await producer.send({ topic: 'clock', value: 'warm-up' })
      const stamped = (): number[] => append.mock.calls.map((args) => args[2])
      append.mockClear()
      const sends = Array.from({ length: 40 }, (_, i) => producer.send({ topic: 'clock', value: `v${i}` })) // one synchronous run
      const ts = stamped()
      expect(ts).toHaveLength(40)
      for (let i = 1; i < ts.length; i++) expect(ts[i]).toBeGreaterThanOrEqual(ts[i - 1]!)
      // Groups of 16 sends: [0, 16), [16, 32), [32, 40).
      expect(new Set(ts.slice(0, 16)).size).toBe(1)
      expect(new Set(ts.slice(16, 32)).size).toBe(1)
      expect(new Set(ts.slice(32)).size).toBe(1)
      expect(ts[16]).toBeGreaterThan(ts[15]!)
      expect(ts[32]).toBeGreaterThan(ts[31]!)
      await Promise.all(sends)

      // After an await (even a microtask), the next send reads the clock again.
      append.mockClear()
      const a = producer.send({ topic: 'clock', value: 'a' })
      await Promise.resolve()
      const b = producer.send({ topic: 'clock', value: 'b' })
      await Promise.all([a, b])
      const [ta, tb] = stamped()
      expect(tb).toBeGreaterThan(ta!)

      // An explicit timestamp is kept as given.
      append.mockClear()
      await producer.send({ topic: 'clock', value: 'x', timestamp: 1234 })
      expect(stamped()).toEqual([1234])
    } finally {
      await producer.close()
      vi.restoreAllMocks()
    }
  })
})
