/**
 * How linger.ms, batch.size, max.in.flight and buffer.memory shape what the
 * producer does, observed through its metrics against librdkafka's mock
 * cluster (3 brokers).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KafkaProducer, KafkaTimeoutError } from '../../src/index.js'
import { consumeWithKcat } from '../harness/consume.js'
import { type MockCluster, startMockCluster } from '../harness/mock.js'

let mock: MockCluster

beforeAll(async () => {
  mock = await startMockCluster({ brokers: 3 })
  await mock.createTopic('batching', 6, 1)
  await mock.createTopic('inflight', 3, 1)
  await mock.createTopic('blocked', 3, 1)
  await mock.createTopic('overfull', 4, 1)
  await mock.createTopic('reused', 2, 1)
}, 60_000)

afterAll(async () => {
  await mock?.stop()
})

describe('batching', () => {
  it('lingerMs 0 with one awaited send at a time sends one record per request', async () => {
    const producer = new KafkaProducer({ bootstrapServers: mock.bootstrap, lingerMs: 0 })
    try {
      for (let i = 0; i < 200; i++) await producer.send({ topic: 'batching', key: `k${i}`, value: `v${i}` })
      const m = producer.metrics()
      expect(m['record-send-total']).toBe(200)
      expect(m['request-total']).toBe(200)
      expect(m['records-per-request-avg']).toBe(1)
    } finally {
      await producer.close()
    }
  })

  it('lingerMs 50 and batchSize 64 KiB with 20,000 concurrent sends fills batches to near 64 KiB', async () => {
    const producer = new KafkaProducer({ bootstrapServers: mock.bootstrap, lingerMs: 50, batchSize: 65536 })
    try {
      await producer.send({ topic: 'batching', value: 'warm-up' }) // metadata known before the burst
      const value = Buffer.alloc(1000, 'v')
      await Promise.all(Array.from({ length: 20_000 }, () => producer.send({ topic: 'batching', value })))
      const m = producer.metrics()
      // 20 MB in 64 KiB batches: all full but the last one per partition touched.
      expect(m['batch-size-avg']).toBeGreaterThan(0.9 * 65536)
      expect(m['batch-size-avg']).toBeLessThanOrEqual(65536)
      expect(m['records-per-request-avg']).toBeGreaterThan(60)
    } finally {
      await producer.close()
    }
  })
})

describe('max.in.flight.requests.per.connection', () => {
  it('is never exceeded on any node during a high-rate run, and is reached', async () => {
    // A round trip of 30 ms makes requests pile up behind the cap.
    for (const id of [1, 2, 3]) await mock.command(`rtt ${id} 30`)
    const maxInFlight = 3
    const producer = new KafkaProducer({
      bootstrapServers: mock.bootstrap,
      lingerMs: 0,
      batchSize: 4096,
      acks: 1,
      maxInFlightRequestsPerConnection: maxInFlight,
    })
    let highest = 0
    let samples = 0
    const sample = (): void => {
      const m = producer.metrics()
      samples++
      for (const node of Object.values(m.nodes)) highest = Math.max(highest, node['requests-in-flight'])
      for (const node of Object.values(m.nodes)) expect(node['requests-in-flight']).toBeLessThanOrEqual(maxInFlight)
      expect(m['requests-in-flight']).toBeLessThanOrEqual(maxInFlight * 3)
    }
    try {
      await producer.send({ topic: 'inflight', value: 'warm-up' })
      const value = Buffer.alloc(512, 'x')
      let done = 0
      const total = 12_000
      const finished = new Promise<void>((resolve, reject) => {
        for (let i = 0; i < total; i++) {
          producer.send({ topic: 'inflight', value, partition: i % 3 }, (err) => {
            if (err) reject(err)
            if (++done % 100 === 0) sample()
            if (done === total) resolve()
          })
        }
      })
      const ticker = setInterval(sample, 1)
      await finished
      clearInterval(ticker)
      expect(samples).toBeGreaterThan(100)
      expect(highest).toBe(maxInFlight)
    } finally {
      for (const id of [1, 2, 3]) await mock.command(`rtt ${id} 0`)
      await producer.close()
    }
  })
})

describe('buffer.memory offered many times over, brokers up', () => {
  it('delivers every record once, each partition in send order, callbacks and promises mixed, read back with kcat', async () => {
    const bufferMemory = 256 * 1024
    const total = 20_000
    const producer = new KafkaProducer({ bootstrapServers: mock.bootstrap, bufferMemory, batchSize: 16384, lingerMs: 2 })
    try {
      await producer.send({ topic: 'overfull', value: 'warm-up' })
      const base = new Map<number, bigint>()
      for (let p = 0; p < 4; p++) {
        const md = await producer.send({ topic: 'overfull', partition: p, value: 'base' })
        base.set(p, md.offset)
      }
      // 20,000 records of 1 KiB, about 80x what the buffer holds, in runs of 1,000 with an event-loop
      // turn between them: most wait for memory in the producer, and later runs arrive while
      // memory is being freed, so a send that skipped the queue would overtake waiting ones.
      const total = 20_000
      const value = Buffer.alloc(1024, 'o')
      const offsets: (bigint | null)[] = new Array(total).fill(null)
      const errors: Error[] = []
      const pending: Promise<void>[] = []
      for (let i = 0; i < total; i++) {
        if (i % 1000 === 999) await new Promise((r) => setImmediate(r))
        const record = { topic: 'overfull', partition: i % 4, key: `k${i}`, value }
        if (i % 3 === 0) {
          pending.push(
            producer.send(record).then(
              (md) => void (offsets[i] = md.offset),
              (e: Error) => void errors.push(e),
            ),
          )
        } else {
          pending.push(
            new Promise<void>((resolve) =>
              producer.send(record, (err, md) => {
                if (err) errors.push(err)
                else offsets[i] = md!.offset
                resolve()
              }),
            ),
          )
        }
      }
      await Promise.all(pending)
      expect(errors).toEqual([])
      // Per partition the offsets follow send order with no gap: nothing lost, duplicated or reordered.
      for (let p = 0; p < 4; p++) {
        let expected = base.get(p)! + 1n
        for (let i = p; i < total; i += 4) {
          expect(offsets[i]).toBe(expected)
          expected++
        }
      }
      expect(producer.metrics()['buffer-available-bytes']).toBe(bufferMemory)
    } finally {
      await producer.close()
    }
    // The same, as an independent consumer reads it: per partition, keys in send order, each once.
    const got = await consumeWithKcat(mock.bootstrap, 'overfull', { partitions: 4 })
    for (let p = 0; p < 4; p++) {
      const keys = got.filter((r) => r.partition === p && r.key !== null).map((r) => r.key!.toString())
      expect(keys).toEqual(Array.from({ length: total / 4 }, (_, j) => `k${4 * j + p}`))
    }
  }, 60_000)
})

describe('flush() while other code keeps sending into a full buffer', () => {
  it('waits for the sends made before it, not for those made after', async () => {
    // A 50 ms round trip drains the 64 KiB buffer at about 1 MB/s; the pump offers about 2 MB/s,
    // so sends keep queuing in the producer for as long as it runs.
    for (const id of [1, 2, 3]) await mock.command(`rtt ${id} 50`)
    const producer = new KafkaProducer({ bootstrapServers: mock.bootstrap, bufferMemory: 64 * 1024, batchSize: 8192, lingerMs: 1 })
    const value = Buffer.alloc(1024, 'f')
    try {
      await producer.send({ topic: 'overfull', value: 'warm-up' })
      let pumping = true
      let sent = 0
      let acked = 0
      const onDone = (err: Error | null): void => {
        if (err === null) acked++
      }
      const pump = (async () => {
        const stopAt = Date.now() + 3000
        while (Date.now() < stopAt) {
          for (let i = 0; i < 20; i++, sent++) producer.send({ topic: 'overfull', value }, onDone)
          await new Promise((r) => setTimeout(r, 10))
        }
        pumping = false
      })()
      await new Promise((r) => setTimeout(r, 300))
      const sentBeforeFlush = sent
      expect(producer.metrics()['waiting-sends']).toBeGreaterThan(0)
      await producer.flush()
      // Every record sent before flush() is acknowledged, while the pump is still adding more.
      expect(acked).toBeGreaterThanOrEqual(sentBeforeFlush)
      expect(pumping).toBe(true)
      await pump
      await producer.flush()
      expect(acked).toBe(sent)
    } finally {
      for (const id of [1, 2, 3]) await mock.command(`rtt ${id} 0`)
      await producer.close()
    }
  }, 60_000)
})

describe('a record object reused for every send', () => {
  it('delivers what each send() was given, also for sends that waited for buffer.memory', async () => {
    const producer = new KafkaProducer({ bootstrapServers: mock.bootstrap, bufferMemory: 64 * 1024, batchSize: 8192, lingerMs: 2 })
    const total = 3000
    const pad = 'p'.repeat(500)
    try {
      await producer.send({ topic: 'reused', partition: 0, value: 'warm-up' })
      // One object, changed after every send: most of these sends wait for memory, and must not pick up later contents.
      const header: [string, string] = ['h', '']
      const record = { topic: 'reused', partition: 0, key: '', value: '', headers: [header] }
      const done: Promise<void>[] = []
      for (let i = 0; i < total; i++) {
        record.partition = i % 2
        record.key = `k${i}`
        record.value = `v${i}:${pad}`
        header[1] = `h${i}`
        done.push(producer.send(record).then(() => undefined))
      }
      await Promise.all(done)
    } finally {
      await producer.close()
    }
    const got = await consumeWithKcat(mock.bootstrap, 'reused', { partitions: 2 })
    const seen = got
      .filter((r) => r.key !== null)
      .map((r) => ({ p: r.partition, key: r.key!.toString(), value: r.value!.toString(), header: r.headers[0]?.[1].toString() }))
    expect(seen.length).toBe(total)
    for (const p of [0, 1]) {
      const inPartition = seen.filter((r) => r.p === p)
      inPartition.forEach((r, j) => {
        const i = 2 * j + p
        expect(r.key).toBe(`k${i}`)
        expect(r.value).toBe(`v${i}:${pad}`)
        expect(r.header).toBe(`h${i}`)
      })
    }
  }, 60_000)
})

describe('buffer.memory exhausted with the brokers down', () => {
  it('makes sends wait, then fail after maxBlockMs with a clear error, without memory growing', async () => {
    const bufferMemory = 1024 * 1024
    const producer = new KafkaProducer({
      bootstrapServers: mock.bootstrap,
      bufferMemory,
      batchSize: 16384,
      maxBlockMs: 1500,
      lingerMs: 0,
      requestTimeoutMs: 1000,
      deliveryTimeoutMs: 3000,
    })
    try {
      await producer.send({ topic: 'blocked', value: 'warm-up' })
      for (const id of [1, 2, 3]) await mock.command(`broker_down ${id}`)
      const before = process.memoryUsage()
      const value = Buffer.alloc(10 * 1024, 'b') // shared: any growth is the producer's own
      const total = 32 * 100 // 32 MiB offered to a 1 MiB buffer
      const started = Date.now()
      const outcomes: { err: Error | null; afterMs: number }[] = []
      await new Promise<void>((resolve) => {
        for (let i = 0; i < total; i++) {
          producer.send({ topic: 'blocked', value }, (err) => {
            outcomes.push({ err, afterMs: Date.now() - started })
            if (outcomes.length === total) resolve()
          })
        }
      })
      const after = process.memoryUsage()
      expect(outcomes.every((o) => o.err instanceof KafkaTimeoutError)).toBe(true)
      const blocked = outcomes.filter((o) => /max blocking time/.test(o.err!.message))
      const expired = outcomes.filter((o) => /delivery\.timeout\.ms/.test(o.err!.message))
      expect(blocked.length + expired.length).toBe(total)
      // About buffer.memory's worth was accepted, the rest waited for memory that never came.
      expect(expired.length).toBeGreaterThan(0)
      expect(expired.length).toBeLessThanOrEqual(bufferMemory / (10 * 1024))
      expect(Math.min(...blocked.map((o) => o.afterMs))).toBeGreaterThanOrEqual(1400)
      expect(blocked[0]!.err!.message).toMatch(/Failed to allocate memory within the configured max blocking time 1500 ms \(max.block.ms\)/)
      // Pooled memory stays within buffer.memory; 32 MiB of offered values were never copied.
      expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(bufferMemory + 4 * 1024 * 1024)
      expect(producer.metrics()['buffer-available-bytes']).toBe(bufferMemory)
    } finally {
      for (const id of [1, 2, 3]) await mock.command(`broker_up ${id}`)
      await producer.close({ timeoutMs: 5000 })
    }
  }, 60_000)
})
