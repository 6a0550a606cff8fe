/**
 * Developer-experience features against librdkafka's mock cluster (3
 * brokers), read back with kcat: typed serializers, interceptors,
 * cancellation of waiting sends, and the backpressure-aware write stream
 * and sendAll.
 */
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import {
  KafkaInvalidRecordError,
  KafkaProducer,
  KafkaSerializationError,
  partitionForKey,
  type ProducerRecord,
  type RecordMetadata,
  serializers,
} from '../../src/index.js'
import { consumeWithKcat } from '../harness/consume.js'
import { type MockCluster, startMockCluster } from '../harness/mock.js'

let mock: MockCluster

beforeAll(async () => {
  mock = await startMockCluster({ brokers: 3 })
  await mock.createTopic('typed', 6, 1)
  await mock.createTopic('intercepted', 3, 1)
  await mock.createTopic('cancel-memory', 2, 1)
  await mock.createTopic('cancel-metadata', 1, 1)
  await mock.createTopic('streamed', 8, 1)
  await mock.createTopic('send-all', 8, 1)
}, 60_000)

afterAll(async () => {
  await mock?.stop()
})

afterEach(() => {
  vi.restoreAllMocks()
})

interface Order {
  id: number
  item: string
  qty: number
}

const isAbortError = (e: unknown): boolean => e instanceof DOMException && e.name === 'AbortError'

describe('typed serializers', () => {
  it('serializes keys and values, places keys by the murmur2 of the serialized bytes, and fails only the send whose serializer throws', async () => {
    const customerKey = (id: number): Buffer => {
      const b = Buffer.alloc(4)
      b.writeInt32BE(id)
      return b
    }
    const producer = new KafkaProducer<number, Order>({
      bootstrapServers: mock.bootstrap,
      keySerializer: (id) => customerKey(id),
      valueSerializer: (order, topic, headers) => {
        if (order.qty < 0) throw new RangeError(`negative quantity in order ${order.id}`)
        expect(topic).toBe('typed')
        expect(headers).toEqual({ v: '1' })
        return serializers.json(order, topic, headers)
      },
    })
    const n = 500
    const results: (RecordMetadata | Error)[] = []
    try {
      await Promise.all(
        Array.from({ length: n }, (_, i) =>
          producer.send({ topic: 'typed', key: i * 7919, value: { id: i, item: `item-${i}`, qty: i === 123 ? -1 : i % 5 }, headers: { v: '1' } }).then(
            (md) => void (results[i] = md),
            (e: Error) => void (results[i] = e),
          ),
        ),
      )
      expect(producer.metrics()['record-error-total']).toBe(1)
    } finally {
      await producer.close()
    }
    const failed = results.filter((r) => r instanceof Error)
    expect(failed).toHaveLength(1)
    expect(results[123]).toBeInstanceOf(KafkaSerializationError)
    expect(results[123]).toMatchObject({ topic: 'typed', isKey: false, cause: expect.any(RangeError) })
    for (let i = 0; i < n; i++) {
      if (i === 123) continue
      expect((results[i] as RecordMetadata).partition).toBe(partitionForKey(customerKey(i * 7919), 6))
    }
    const got = await consumeWithKcat(mock.bootstrap, 'typed', { partitions: 6 })
    expect(got).toHaveLength(n - 1)
    for (const r of got) {
      const order = JSON.parse(r.value!.toString()) as Order
      expect(r.key!.readInt32BE()).toBe(order.id * 7919)
      expect(r.partition).toBe(partitionForKey(r.key!, 6))
      expect(order.item).toBe(`item-${order.id}`)
    }
  })

  it('string and json built-ins; a tombstone stays a tombstone', async () => {
    const producer = new KafkaProducer<string, { a: number }>({ bootstrapServers: mock.bootstrap, keySerializer: serializers.string, valueSerializer: serializers.json })
    try {
      const md = await producer.send({ topic: 'typed', key: 'tomb', value: null })
      const md2 = await producer.send({ topic: 'typed', key: 'tomb', value: { a: 1 } })
      expect(md2.partition).toBe(md.partition)
      expect(md.partition).toBe(partitionForKey(Buffer.from('tomb'), 6))
    } finally {
      await producer.close()
    }
    const got = (await consumeWithKcat(mock.bootstrap, 'typed', { partitions: 6 })).filter((r) => r.key?.toString() === 'tomb')
    expect(got.map((r) => r.value?.toString() ?? null)).toEqual([null, '{"a":1}'])
  })
})

describe('interceptors', () => {
  it('onSend changes records before serialization; onAcknowledgement sees every outcome, after retries too, before the callback', async () => {
    // Warned once per interceptor and hook; the repeats at debug level.
    const warnings: string[] = []
    const repeats: string[] = []
    const logger = {
      warn: (_f: unknown, m: string) => void warnings.push(m),
      error: (_f: unknown, m: string) => void warnings.push(m),
      debug: (f: { event: string }, m: string) => void (f.event === 'interceptor.threw' && repeats.push(m)),
    }
    const acks: { value: string; md: RecordMetadata; err: Error | null }[] = []
    const order: string[] = []
    const sentValues: string[] = []
    const producer = new KafkaProducer<string, string>({
      bootstrapServers: mock.bootstrap,
      logger,
      acks: 1,
      enableIdempotence: false,
      maxRequestSize: 4096,
      retryBackoffMs: 10,
      valueSerializer: (v) => {
        if (v === 'unserializable') throw new Error('cannot')
        return v
      },
      interceptors: [
        {
          onSend: (r) => {
            sentValues.push(r.value!)
            // Java's classic use: a header added on the way out.
            return { ...r, headers: { ...(r.headers as Record<string, string>), traced: 'yes' } }
          },
        },
        {
          onSend: () => {
            throw new Error('broken interceptor')
          },
          onAcknowledgement: () => {
            throw new Error('broken ack')
          },
        },
        {
          onAcknowledgement: (md, err) => {
            order.push(`ack ${md.offset >= 0n ? 'ok' : err!.name}`)
            acks.push({ value: '', md, err })
          },
        },
      ],
    })
    const send = (record: ProducerRecord<string, string>): Promise<RecordMetadata | Error> =>
      new Promise((resolve) =>
        producer.send(record, (err, md) => {
          order.push(`callback ${err === null ? 'ok' : err.name}`)
          resolve(err ?? md!)
        }),
      )
    try {
      await producer.send({ topic: 'intercepted', value: 'warm-up' })
      acks.length = 0
      order.length = 0
      // Two retriable errors, then success: one acknowledgement per record, after the retries.
      await mock.command('push_errors Produce NOT_LEADER_OR_FOLLOWER NOT_LEADER_OR_FOLLOWER')
      const retried = await Promise.all(Array.from({ length: 10 }, (_, i) => send({ topic: 'intercepted', partition: i % 3, value: `r${i}` })))
      expect(retried.every((r) => !(r instanceof Error))).toBe(true)
      expect(producer.metrics()['record-retry-total']).toBeGreaterThan(0)
      // A non-retriable broker error fails the batch.
      await mock.command('push_errors Produce INVALID_RECORD')
      const rejected = await send({ topic: 'intercepted', partition: 1, value: 'broker-says-no' })
      // Failures before any batch: invalid record (too large), serializer, bad partition.
      const tooLarge = await send({ topic: 'intercepted', partition: 2, value: 'x'.repeat(5000) })
      const unserializable = await send({ topic: 'intercepted', value: 'unserializable' })
      const badPartition = await send({ topic: 'intercepted', partition: 99, value: 'p' })
      expect(rejected).toMatchObject({ errorName: 'INVALID_RECORD' })
      expect(tooLarge).toBeInstanceOf(KafkaInvalidRecordError)
      expect(unserializable).toBeInstanceOf(KafkaSerializationError)
      expect(badPartition).toBeInstanceOf(KafkaInvalidRecordError)
    } finally {
      await producer.close()
    }
    expect(acks).toHaveLength(14)
    expect(acks.slice(0, 10).every((a) => a.err === null && a.md.topic === 'intercepted' && a.md.offset >= 0n)).toBe(true)
    expect(acks.slice(10).map((a) => [a.err!.constructor.name, a.md.topic, a.md.partition, a.md.offset])).toEqual([
      ['KafkaBrokerError', 'intercepted', 1, -1n],
      ['KafkaInvalidRecordError', 'intercepted', 2, -1n],
      ['KafkaSerializationError', 'intercepted', -1, -1n],
      ['KafkaInvalidRecordError', 'intercepted', 99, -1n],
    ])
    // Each acknowledgement right before its own callback.
    for (let i = 0; i < order.length; i += 2) {
      expect(order[i]).toMatch(/^ack /)
      expect(order[i + 1]).toMatch(/^callback /)
    }
    // The broken interceptor was logged once per hook (then at debug level on every send and acknowledgement), and broke nothing.
    expect(warnings.filter((w) => /interceptor 1 threw in onSend/.test(w))).toHaveLength(1)
    expect(warnings.filter((w) => /interceptor 1 threw in onAcknowledgement/.test(w))).toHaveLength(1)
    expect(repeats.filter((w) => /interceptor 1 threw in onSend/.test(w))).toHaveLength(14)
    expect(repeats.filter((w) => /interceptor 1 threw in onAcknowledgement/.test(w))).toHaveLength(14)
    const got = await consumeWithKcat(mock.bootstrap, 'intercepted', { partitions: 3 })
    const delivered = got.filter((r) => r.value!.toString().startsWith('r'))
    expect(delivered).toHaveLength(10)
    expect(delivered.every((r) => r.headers.some(([k, v]) => k === 'traced' && v.toString() === 'yes'))).toBe(true)
    expect(got.some((r) => r.value!.toString() === 'broker-says-no')).toBe(false)
  })
})

describe('cancellation', () => {
  it('aborted sends waiting for buffer.memory reject with AbortError and are never delivered; the others all arrive, in order', async () => {
    // A 40 ms round trip and 64 KiB of buffer.memory: most of the 600 sends queue in the producer.
    for (const id of [1, 2, 3]) await mock.command(`rtt ${id} 40`)
    const producer = new KafkaProducer({ bootstrapServers: mock.bootstrap, bufferMemory: 64 * 1024, batchSize: 8192, lingerMs: 1 })
    const total = 600
    const pad = 'm'.repeat(1000)
    const outcome: ('ok' | 'aborted' | Error)[] = []
    let aborted: number[] = []
    try {
      await producer.send({ topic: 'cancel-memory', partition: 0, value: 'warm-up' })
      const controllers = Array.from({ length: total }, () => new AbortController())
      const done = Array.from({ length: total }, (_, i) => {
        const record = { topic: 'cancel-memory', partition: i % 2, key: `k${i}`, value: `${i}:${pad}` }
        const settle = (err: Error | null): void => void (outcome[i] = err === null ? 'ok' : isAbortError(err) ? 'aborted' : err)
        // Both forms: promise with options, and options plus callback.
        if (i % 2 === 0) return producer.send(record, { signal: controllers[i]!.signal }).then(() => settle(null), settle)
        return new Promise<void>((resolve) => producer.send(record, { signal: controllers[i]!.signal }, (err) => resolve(settle(err))))
      })
      expect(producer.metrics()['waiting-sends']).toBeGreaterThan(300)
      // Abort every third send: those still waiting are cancelled, those already in a batch are delivered anyway.
      await new Promise((r) => setTimeout(r, 60))
      for (let i = 0; i < total; i += 3) controllers[i]!.abort()
      await Promise.all(done)
      aborted = outcome.flatMap((o, i) => (o === 'aborted' ? [i] : []))
      expect(outcome.filter((o) => o instanceof Error)).toEqual([])
      expect(aborted.length).toBeGreaterThan(100)
      expect(aborted.every((i) => i % 3 === 0)).toBe(true)
      // Some aborted ones had been appended before the abort: their fate was the batch's.
      expect(outcome.filter((o, i) => i % 3 === 0 && o === 'ok').length).toBeGreaterThan(0)
      expect(producer.metrics()['buffer-available-bytes']).toBe(64 * 1024)
    } finally {
      for (const id of [1, 2, 3]) await mock.command(`rtt ${id} 0`)
      await producer.close()
    }
    const got = await consumeWithKcat(mock.bootstrap, 'cancel-memory', { partitions: 2 })
    for (const p of [0, 1]) {
      const keys = got.filter((r) => r.partition === p && r.key !== null).map((r) => r.key!.toString())
      const expected = outcome.flatMap((o, i) => (o === 'ok' && i % 2 === p ? [`k${i}`] : []))
      expect(keys).toEqual(expected)
    }
    const readBack = new Set(got.map((r) => r.key?.toString()))
    expect(aborted.filter((i) => readBack.has(`k${i}`))).toEqual([])
  }, 60_000)

  it('aborted sends waiting for topic metadata are removed; the others go out in order once the topic is back', async () => {
    const producer = new KafkaProducer({ bootstrapServers: mock.bootstrap, maxBlockMs: 20_000 })
    const outcome: string[] = []
    try {
      await mock.command('topic_error cancel-metadata LEADER_NOT_AVAILABLE')
      const controllers = Array.from({ length: 50 }, () => new AbortController())
      const done = controllers.map((c, i) =>
        producer.send({ topic: 'cancel-metadata', key: `m${i}`, value: `v${i}` }, { signal: c.signal }).then(
          () => void (outcome[i] = 'ok'),
          (e: Error) => void (outcome[i] = isAbortError(e) ? 'aborted' : e.message),
        ),
      )
      await new Promise((r) => setTimeout(r, 300))
      expect(producer.metrics()['waiting-sends']).toBe(50)
      // The first (the one the worker waits on), and every fourth.
      for (let i = 0; i < 50; i += 4) controllers[i]!.abort(new Error('user changed their mind'))
      await new Promise((r) => setTimeout(r, 50))
      expect(outcome.filter(Boolean)).toEqual(Array(13).fill('aborted'))
      await mock.command('topic_error cancel-metadata NO_ERROR')
      await Promise.all(done)
      // An already-aborted signal: rejected at once, nothing sent.
      const gone = AbortSignal.abort()
      await expect(producer.send({ topic: 'cancel-metadata', key: 'never', value: 'x' }, { signal: gone })).rejects.toSatisfy(isAbortError)
      const cbErr = await new Promise<Error | null>((resolve) => producer.send({ topic: 'cancel-metadata', key: 'never', value: 'x' }, { signal: gone }, resolve))
      expect(isAbortError(cbErr)).toBe(true)
    } finally {
      await mock.command('topic_error cancel-metadata NO_ERROR')
      await producer.close()
    }
    expect(outcome.map((o, i) => (i % 4 === 0 ? o === 'aborted' : o === 'ok'))).toEqual(Array(50).fill(true))
    const got = await consumeWithKcat(mock.bootstrap, 'cancel-metadata', { partitions: 1 })
    expect(got.map((r) => r.key!.toString())).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`).filter((_, i) => i % 4 !== 0))
  }, 60_000)

  it('an AbortError carries the reason; flush({ signal }) stops waiting without touching the records', async () => {
    for (const id of [1, 2, 3]) await mock.command(`rtt ${id} 300`)
    const producer = new KafkaProducer({ bootstrapServers: mock.bootstrap, lingerMs: 0 })
    try {
      await producer.send({ topic: 'cancel-metadata', value: 'warm-up' })
      const sent = Array.from({ length: 20 }, (_, i) => producer.send({ topic: 'cancel-metadata', value: `f${i}` }))
      const c = new AbortController()
      const flushed = producer.flush({ signal: c.signal })
      const reason = new Error('deadline')
      setTimeout(() => c.abort(reason), 20)
      const err = await flushed.catch((e: unknown) => e)
      expect(isAbortError(err)).toBe(true)
      expect((err as Error).cause).toBe(reason)
      const mds = await Promise.all(sent)
      expect(mds).toHaveLength(20)
      await expect(producer.flush({ signal: AbortSignal.abort() })).rejects.toSatisfy(isAbortError)
      await producer.flush({ signal: new AbortController().signal })
    } finally {
      for (const id of [1, 2, 3]) await mock.command(`rtt ${id} 0`)
      await producer.close()
    }
  }, 60_000)
})

describe('backpressure: createWriteStream and sendAll', () => {
  it('a pipeline of 1 KiB records keeps memory bounded by buffer.memory and loses nothing', async () => {
    for (const id of [1, 2, 3]) await mock.command(`rtt ${id} 5`)
    const bufferMemory = 1 << 20
    const producer = new KafkaProducer({ bootstrapServers: mock.bootstrap, bufferMemory, batchSize: 16384, lingerMs: 2 })
    // librdkafka's mock keeps about 5 MB per partition: 24 MB over 8 partitions all read back.
    const total = 24_000
    const payload = 'p'.repeat(1000)
    let produced = 0
    let maxWaiting = 0
    let maxAhead = 0
    let peakRss = 0
    const rss0 = process.memoryUsage().rss
    try {
      await producer.send({ topic: 'streamed', value: 'warm-up' })
      // A source far faster than the brokers: only backpressure keeps it in check.
      const source = Readable.from(
        (function* () {
          for (let i = 0; i < total; i++) {
            produced++
            yield { key: `s${i}`, value: `${i}:${payload}` }
          }
        })(),
      )
      const stream = producer.createWriteStream({ topic: 'streamed' })
      const sampler = setInterval(() => {
        const m = producer.metrics()
        maxWaiting = Math.max(maxWaiting, m['waiting-sends'])
        maxAhead = Math.max(maxAhead, produced - stream.acknowledged)
        peakRss = Math.max(peakRss, process.memoryUsage().rss)
      }, 5)
      try {
        await pipeline(source, stream)
      } finally {
        clearInterval(sampler)
      }
      expect(stream.acknowledged).toBe(total)
      expect(stream.inFlight).toBe(0)
      expect(producer.metrics()['buffer-available-bytes']).toBe(bufferMemory)
    } finally {
      for (const id of [1, 2, 3]) await mock.command(`rtt ${id} 0`)
      await producer.close()
    }
    // At most the record the stream holds back waits in the producer, and the records between the source
    // and the broker fit in buffer.memory plus the stream's and Readable.from's buffers (16 each).
    expect(maxWaiting).toBeLessThanOrEqual(1)
    expect(maxAhead).toBeLessThan(bufferMemory / 1000 + 64)
    expect(peakRss - rss0).toBeLessThan(64 * 1024 * 1024)
    const got = await consumeWithKcat(mock.bootstrap, 'streamed', { partitions: 8 })
    const keyed = got.filter((r) => r.key !== null)
    expect(keyed).toHaveLength(total)
    // Per partition, keys in write order.
    for (let p = 0; p < 8; p++) {
      const idx = keyed.filter((r) => r.partition === p).map((r) => Number(r.key!.toString().slice(1)))
      expect(idx).toEqual([...idx].sort((a, b) => a - b))
    }
  }, 120_000)

  it("write() returns false while the producer's memory is full, and 'drain' follows", async () => {
    for (const id of [1, 2, 3]) await mock.command(`rtt ${id} 20`)
    const producer = new KafkaProducer({ bootstrapServers: mock.bootstrap, bufferMemory: 32 * 1024, batchSize: 4096, lingerMs: 1 })
    try {
      await producer.send({ topic: 'streamed', value: 'warm-up' })
      const stream = producer.createWriteStream({ topic: 'streamed', highWaterMark: 4 })
      const value = Buffer.alloc(1000, 'd')
      let refused = 0
      let drains = 0
      stream.on('drain', () => drains++)
      for (let i = 0; i < 400; i++) {
        if (!stream.write({ value })) {
          refused++
          expect(producer.metrics()['waiting-sends']).toBe(1)
          await new Promise((r) => stream.once('drain', r))
        }
      }
      stream.end()
      await new Promise((resolve, reject) => stream.on('finish', resolve).on('error', reject))
      expect(refused).toBeGreaterThan(10)
      expect(drains).toBe(refused)
      expect(stream.acknowledged).toBe(400)
    } finally {
      for (const id of [1, 2, 3]) await mock.command(`rtt ${id} 0`)
      await producer.close()
    }
  }, 60_000)

  it('the first failed record errors the stream, and a destroyed stream cancels its waiting records', async () => {
    const producer = new KafkaProducer({ bootstrapServers: mock.bootstrap, maxRequestSize: 2000 })
    try {
      await producer.send({ topic: 'streamed', value: 'warm-up' })
      const bad = pipeline(
        Readable.from([{ value: 'ok' }, { value: 'x'.repeat(3000) }, { value: 'ok' }]),
        producer.createWriteStream({ topic: 'streamed' }),
      )
      await expect(bad).rejects.toBeInstanceOf(KafkaInvalidRecordError)

      // Records waiting for metadata when the stream is destroyed fail with AbortError and are not sent.
      await mock.command('topic_error cancel-metadata LEADER_NOT_AVAILABLE')
      const c = new AbortController()
      const stream = producer.createWriteStream({ topic: 'cancel-metadata', signal: c.signal })
      const streamError = new Promise((resolve) => stream.on('error', resolve))
      for (let i = 0; i < 5; i++) stream.write({ key: 'destroyed', value: `${i}` })
      await new Promise((r) => setTimeout(r, 100))
      expect(producer.metrics()['waiting-sends']).toBe(1)
      c.abort()
      expect(isAbortError(await streamError) || (await streamError as Error).name === 'AbortError').toBe(true)
      await new Promise((r) => setTimeout(r, 20))
      expect(producer.metrics()['waiting-sends']).toBe(0)
    } finally {
      await mock.command('topic_error cancel-metadata NO_ERROR')
      await producer.close()
    }
    const got = await consumeWithKcat(mock.bootstrap, 'cancel-metadata', { partitions: 1 })
    expect(got.filter((r) => r.key?.toString() === 'destroyed')).toEqual([])
  }, 60_000)

  it('sendAll reads an async source only as fast as the producer takes it, and resolves once all are acknowledged', async () => {
    for (const id of [1, 2, 3]) await mock.command(`rtt ${id} 5`)
    const producer = new KafkaProducer<string, { n: number }>({
      bootstrapServers: mock.bootstrap,
      bufferMemory: 256 * 1024,
      batchSize: 16384,
      keySerializer: serializers.string,
      valueSerializer: serializers.json,
    })
    const total = 20_000
    let read = 0
    let maxAhead = 0
    let acked = 0
    try {
      await producer.send({ topic: 'send-all', key: 'w', value: { n: -1 } })
      async function* source(): AsyncGenerator<{ key: string; value: { n: number }; headers: Record<string, string> }> {
        for (let i = 0; i < total; i++) {
          read++
          maxAhead = Math.max(maxAhead, read - acked)
          yield { key: `a${i}`, value: { n: i }, headers: { pad: 'x'.repeat(900) } }
        }
      }
      const sampler = setInterval(() => (acked = producer.metrics()['record-send-total']), 1)
      try {
        expect(await producer.sendAll(source(), { topic: 'send-all' })).toBe(total)
      } finally {
        clearInterval(sampler)
      }
      // Nothing read far ahead of the broker: about buffer.memory's worth of 1 KiB records.
      expect(maxAhead).toBeLessThan(400)
      // An aborted sendAll stops reading and rejects.
      const c = new AbortController()
      let pulled = 0
      const endless = (function* () {
        for (;;) {
          pulled++
          if (pulled === 100) c.abort()
          yield { key: 'e', value: { n: pulled } }
        }
      })()
      await expect(producer.sendAll(endless, { topic: 'send-all', signal: c.signal })).rejects.toSatisfy(isAbortError)
      expect(pulled).toBe(100)
    } finally {
      for (const id of [1, 2, 3]) await mock.command(`rtt ${id} 0`)
      await producer.close()
    }
    const got = await consumeWithKcat(mock.bootstrap, 'send-all', { partitions: 8 })
    expect(got.filter((r) => r.key!.toString().startsWith('a'))).toHaveLength(total)
  }, 120_000)
})
