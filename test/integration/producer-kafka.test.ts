/**
 * Producer semantics against a single-node Apache Kafka 4.x: acks modes,
 * flush, per-partition completion order, explicit partitions and timestamps,
 * and a topic that does not exist (auto-creation is off in the harness).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KafkaBrokerError, KafkaProducer, KafkaTimeoutError, type RecordMetadata } from '../../src/index.js'
import { consumeWithKcat } from '../harness/consume.js'
import { type KafkaCluster, startKafka } from '../harness/kafka.js'

let kafka: KafkaCluster

beforeAll(async () => {
  // The broker closes connections idle for 1.5 s, so the producer must cope with that too.
  kafka = await startKafka({ brokers: 1, serverProperties: { 'connections.max.idle.ms': '1500' } })
  await kafka.createTopic('acks', 3, 1)
  await kafka.createTopic('order', 4, 1)
  await kafka.createTopic('flush', 2, 1)
  await kafka.createTopic('small', 1, 1, { 'max.message.bytes': '4000' })
}, 180_000)

afterAll(async () => {
  await kafka?.stop()
})

describe('against a single-node Apache Kafka', () => {
  it('acks=0 completes on send with offset -1; acks=1 and acks=all return real offsets', async () => {
    for (const acks of [0, 1, 'all'] as const) {
      const producer = new KafkaProducer({ bootstrapServers: kafka.bootstrap, acks })
      try {
        const mds = await Promise.all(Array.from({ length: 50 }, (_, i) => producer.send({ topic: 'acks', value: `${acks}-${i}`, partition: 0 })))
        if (acks === 0) expect(mds.every((m) => m.offset === -1n)).toBe(true)
        else expect(new Set(mds.map((m) => m.offset)).size).toBe(50)
      } finally {
        await producer.close()
      }
    }
    const hw = await kafka.highWatermarks('acks')
    expect(hw.get(0)).toBe(150n)
  })

  it('completes callbacks of one partition in send order, with increasing offsets', async () => {
    const producer = new KafkaProducer({ bootstrapServers: kafka.bootstrap, lingerMs: 2, batchSize: 2048 })
    const seen = new Map<number, { i: number; offset: bigint }[]>()
    try {
      await new Promise<void>((resolve, reject) => {
        let done = 0
        const n = 20_000
        for (let i = 0; i < n; i++) {
          const partition = i % 4
          producer.send({ topic: 'order', key: `k${i}`, value: `v${i}`, partition }, (err, md) => {
            if (err) return reject(err)
            let list = seen.get(partition)
            if (list === undefined) seen.set(partition, (list = []))
            list.push({ i, offset: md!.offset })
            if (++done === n) resolve()
          })
        }
      })
    } finally {
      await producer.close()
    }
    for (const list of seen.values()) {
      for (let j = 1; j < list.length; j++) {
        expect(list[j]!.i).toBeGreaterThan(list[j - 1]!.i)
        expect(list[j]!.offset).toBe(list[j - 1]!.offset + 1n)
      }
    }
  })

  it('flush() waits for every record sent before it, and keeps explicit timestamps', async () => {
    const producer = new KafkaProducer({ bootstrapServers: kafka.bootstrap, lingerMs: 60_000 })
    try {
      const results: (RecordMetadata | null)[] = []
      for (let i = 0; i < 1000; i++) {
        producer.send({ topic: 'flush', value: `f${i}`, timestamp: 1_600_000_000_000 + i }, (err, md) => {
          if (err) throw err
          results.push(md)
        })
      }
      expect(results.length).toBe(0) // linger is a minute: nothing would go without flush
      await producer.flush()
      expect(results.length).toBe(1000)
      expect(results.every((m) => m!.timestamp >= 1_600_000_000_000 && m!.timestamp < 1_600_000_001_000)).toBe(true)
    } finally {
      await producer.close()
    }
    const consumed = await consumeWithKcat(kafka.bootstrap, 'flush', { partitions: 2 })
    expect(consumed.length).toBe(1000)
    expect(consumed.map((c) => c.timestamp - 1_600_000_000_000).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i))
  })

  it('sends to a topic created while they wait for metadata deliver what each send() was given, with a reused record object', async () => {
    const producer = new KafkaProducer({ bootstrapServers: kafka.bootstrap, lingerMs: 2 })
    const total = 500
    try {
      // One record object, changed after every send, with headers given as an object and as a reused pair.
      const pair: [string, string] = ['pair', '']
      const asObject = { topic: 'late', key: '', value: '', headers: { obj: '' } as Record<string, string> }
      const asPairs = { topic: 'late', key: '', value: '', headers: [pair] }
      const done: Promise<unknown>[] = []
      for (let i = 0; i < total; i++) {
        const record = i % 2 === 0 ? asObject : asPairs
        record.key = `k${i}`
        record.value = `v${i}`
        if (record === asObject) asObject.headers = { obj: `h${i}` }
        else pair[1] = `h${i}`
        done.push(producer.send(record))
        if (i === total / 2) {
          // Half of them wait for the topic; the rest queue behind them.
          await kafka.createTopic('late', 3, 1)
        }
      }
      await Promise.all(done)
    } finally {
      await producer.close()
    }
    const got = await consumeWithKcat(kafka.bootstrap, 'late', { partitions: 3 })
    expect(got.length).toBe(total)
    const byKey = new Map(got.map((r) => [r.key!.toString(), r]))
    for (let i = 0; i < total; i++) {
      const r = byKey.get(`k${i}`)!
      expect(r.value!.toString()).toBe(`v${i}`)
      expect(r.headers.map(([k, v]) => [k, v.toString()])).toEqual([[i % 2 === 0 ? 'obj' : 'pair', `h${i}`]])
    }
  }, 60_000)

  it('a topic that does not exist fails after max.block.ms, naming the topic', async () => {
    const producer = new KafkaProducer({ bootstrapServers: kafka.bootstrap, maxBlockMs: 800 })
    try {
      const started = Date.now()
      const err = await producer.send({ topic: 'no-such-topic', value: 'x' }).then(
        () => null,
        (e: Error) => e,
      )
      expect(err).toBeInstanceOf(KafkaTimeoutError)
      expect(err!.message).toMatch(/Topic 'no-such-topic' not present in metadata after 800 ms/)
      expect(Date.now() - started).toBeGreaterThanOrEqual(750)
      // A later send to an existing topic is not held back by the failed one.
      const md = await producer.send({ topic: 'flush', value: 'after' })
      expect(md.offset).toBeGreaterThanOrEqual(0n)
    } finally {
      await producer.close()
    }
  })

  it('splits a batch the broker finds too large (MESSAGE_TOO_LARGE) and delivers every record once, in order', async () => {
    // 64 KiB batches of 1 KiB records against a 4000-byte max.message.bytes: each batch must be split down.
    const producer = new KafkaProducer({ bootstrapServers: kafka.bootstrap, batchSize: 65536, lingerMs: 20 })
    try {
      const value = (i: number): string => `${String(i).padStart(6, '0')}:${'x'.repeat(1000)}`
      const mds = await Promise.all(Array.from({ length: 200 }, (_, i) => producer.send({ topic: 'small', value: value(i) })))
      expect(mds.map((m) => m.offset)).toEqual(Array.from({ length: 200 }, (_, i) => BigInt(i)))
      expect(producer.metrics()['batch-split-total']).toBeGreaterThan(0)
      // A single record over the limit cannot be split: it fails with the broker's error, typed.
      const err = await producer.send({ topic: 'small', value: 'y'.repeat(5000) }).then(
        () => null,
        (e: Error) => e,
      )
      expect(err).toBeInstanceOf(KafkaBrokerError)
      expect((err as KafkaBrokerError).errorName).toBe('MESSAGE_TOO_LARGE')
    } finally {
      await producer.close()
    }
    const consumed = await consumeWithKcat(kafka.bootstrap, 'small', { partitions: 1 })
    expect(consumed.map((c) => c.value!.toString().slice(0, 6))).toEqual(Array.from({ length: 200 }, (_, i) => String(i).padStart(6, '0')))
  })

  it('survives the broker closing idle connections', async () => {
    const producer = new KafkaProducer({ bootstrapServers: kafka.bootstrap })
    try {
      await producer.send({ topic: 'acks', value: 'before idle', partition: 1 })
      const before = producer.metrics()
      // The broker closes the idle connection within a few of its poll rounds after 1.5 s.
      const deadline = Date.now() + 15_000
      while (producer.metrics()['connection-close-total'] === before['connection-close-total'] && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100))
      }
      expect(producer.metrics()['connection-close-total']).toBeGreaterThan(before['connection-close-total'])
      const md = await producer.send({ topic: 'acks', value: 'after idle', partition: 1 })
      expect(md.offset).toBeGreaterThanOrEqual(1n)
      const after = producer.metrics()
      expect(after['connection-creation-total']).toBeGreaterThan(before['connection-creation-total'])
      expect(after['record-error-total']).toBe(0)
    } finally {
      await producer.close()
    }
  })

  it('bootstraps past addresses that refuse connections', async () => {
    const port = kafka.brokers[0]!.port
    // Ports 1 and 2 on loopback refuse at once; the real broker is last.
    const producer = new KafkaProducer({ bootstrapServers: ['127.0.0.1:1', '127.0.0.1:2', `127.0.0.1:${port}`], reconnectBackoffMs: 10 })
    try {
      const md = await producer.send({ topic: 'acks', value: 'via the third address', partition: 2 })
      expect(md.offset).toBeGreaterThanOrEqual(0n)
    } finally {
      await producer.close()
    }
  })
})
