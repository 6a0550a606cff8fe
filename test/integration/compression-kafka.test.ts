/**
 * Compression against a single-node Apache Kafka 4.4 (topics with
 * compression.type=producer, so the broker keeps our batches as we framed
 * them): for each codec and a few levels, 50,000 records with mixed keys,
 * headers and values from 0 B to 900 KiB go through the producer and come back
 * byte-identical through kcat (librdkafka's decoders) and the Java console
 * consumer (kafka-clients' decoders); Kafka's own DumpLogSegments shows the
 * batches stored with our codec. Then a compressed batch over the topic's
 * max.message.bytes is split and delivered, and a single record too large
 * even alone fails with the broker's typed error.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CompressionCodec, KafkaBrokerError, KafkaProducer, type ProducerConfig, type RecordMetadata } from '../../src/index.js'
import { type ConsumedRecord, consumeWithJavaConsoleConsumer, consumeWithKcat } from '../harness/consume.js'
import { type KafkaCluster, startKafka } from '../harness/kafka.js'
import { mulberry32 } from '../harness/prng.js'
import { TOOL_JVM_FLAGS, kafkaToolsClasspath } from '../harness/util.js'

const RECORDS = Number(process.env.COMPRESSION_RECORDS ?? 50_000)
const PARTITIONS = 3
const MAX_BYTES = 4 * 1024 * 1024
let kafka: KafkaCluster

interface Case {
  codec: CompressionCodec
  level?: number
}
const CASES: Case[] = [
  { codec: 'gzip', level: 1 },
  { codec: 'gzip', level: 9 },
  { codec: 'snappy' },
  { codec: 'lz4' },
  { codec: 'zstd', level: 1 },
  { codec: 'zstd', level: 9 },
]
const topicOf = (c: Case) => `comp-${c.codec}-${c.level ?? 'x'}`

beforeAll(async () => {
  kafka = await startKafka({ brokers: 1, serverProperties: { 'message.max.bytes': String(MAX_BYTES) } })
  for (const c of CASES) await kafka.createTopic(topicOf(c), PARTITIONS, 1, { 'compression.type': 'producer', 'max.message.bytes': String(MAX_BYTES) })
  await kafka.createTopic('comp-small', 1, 1, { 'compression.type': 'producer', 'max.message.bytes': '6000' })
}, 180_000)

afterAll(async () => {
  await kafka?.stop()
})

interface Sent {
  key: Buffer | null
  value: Buffer | null
  headers: [string, Buffer][]
}

/**
 * Record i: keys null, short strings or binary; 0-3 headers (ASCII without ',' or '=' so kcat reads
 * them exactly); values mostly JSON-ish text of 0 B - 2 KiB, some random bytes, 1 in 500 up to
 * 64 KiB, and 4 of about 900 KiB.
 */
function makeRecords(n: number, seed: number): Sent[] {
  const rnd = mulberry32(seed)
  const big = new Set([Math.floor(n * 0.1), Math.floor(n * 0.4), Math.floor(n * 0.7), n - 1])
  const out: Sent[] = []
  for (let i = 0; i < n; i++) {
    const kr = rnd()
    const key = kr < 0.2 ? null : kr < 0.8 ? Buffer.from(`user-${Math.floor(rnd() * 5000)}`) : Buffer.from(Array.from({ length: 8 }, () => Math.floor(rnd() * 256)))
    const headers: [string, Buffer][] = []
    const hn = Math.floor(rnd() * 4)
    for (let h = 0; h < hn; h++) headers.push([`h${h}`, Buffer.from(`v${i}x${h}`)])
    let size: number
    if (big.has(i)) size = 900 * 1024 - Math.floor(rnd() * 1000)
    else if (rnd() < 0.002) size = Math.floor(rnd() * 65536)
    else if (rnd() < 0.02) size = 0
    else size = Math.floor(rnd() * rnd() * 2048)
    let value: Buffer | null
    if (rnd() < 0.01) value = null
    else if (rnd() < 0.15) value = Buffer.from(Array.from({ length: size }, () => Math.floor(rnd() * 256)))
    else {
      let s = ''
      while (s.length < size) s += `{"i":${i},"name":"item-${Math.floor(rnd() * 1000)}","tags":["a","b${Math.floor(rnd() * 10)}"],"n":${(rnd() * 1e6).toFixed(2)}},`
      value = Buffer.from(s.slice(0, size))
    }
    out.push({ key, value, headers })
  }
  return out
}

async function produceAll(config: ProducerConfig, topic: string, records: Sent[]): Promise<{ mds: RecordMetadata[]; metrics: ReturnType<KafkaProducer['metrics']> }> {
  const producer = new KafkaProducer(config)
  try {
    const mds = new Array<RecordMetadata>(records.length)
    await new Promise<void>((resolve, reject) => {
      let done = 0
      for (let i = 0; i < records.length; i++) {
        const r = records[i]!
        producer.send({ topic, key: r.key, value: r.value, headers: r.headers }, (err, md) => {
          if (err) return reject(err)
          mds[i] = md!
          if (++done === records.length) resolve()
        })
      }
    })
    return { mds, metrics: producer.metrics() }
  } finally {
    await producer.close()
  }
}

function expectIdentical(label: string, sent: Sent[], mds: RecordMetadata[], consumed: ConsumedRecord[]): void {
  expect(consumed.length, label).toBe(sent.length)
  const at = new Map<string, ConsumedRecord>()
  for (const c of consumed) at.set(`${c.partition}@${c.offset}`, c)
  let bad = 0
  for (let i = 0; i < sent.length; i++) {
    const c = at.get(`${mds[i]!.partition}@${mds[i]!.offset}`)
    const s = sent[i]!
    const same =
      c !== undefined &&
      (s.key === null ? c.key === null : c.key !== null && c.key.equals(s.key)) &&
      // kcat reads an empty value as... empty; null stays null in both readers.
      (s.value === null ? c.value === null : c.value !== null && c.value.equals(s.value)) &&
      c.headers.length === s.headers.length &&
      c.headers.every(([k, v], h) => k === s.headers[h]![0] && v.equals(s.headers[h]![1]))
    if (!same && bad++ < 3) {
      expect.fail(`${label}: record ${i} at ${mds[i]!.partition}@${mds[i]!.offset} differs: sent key=${s.key?.toString('hex')} value ${s.value?.length} B, read ${c === undefined ? 'nothing' : `key=${c.key?.toString('hex')} value ${c.value?.length} B headers ${c.headers.length}`}`)
    }
  }
  expect(bad, label).toBe(0)
}

/** Kafka's DumpLogSegments over every segment of the topic: the codec of each batch. */
async function storedCodecs(topic: string): Promise<Map<string, number>> {
  const files: string[] = []
  const data = path.join(kafka.dir, 'node1', 'data')
  for (const d of fs.readdirSync(data)) {
    if (!d.startsWith(`${topic}-`)) continue
    for (const f of fs.readdirSync(path.join(data, d))) if (f.endsWith('.log')) files.push(path.join(data, d, f))
  }
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn('java', [...TOOL_JVM_FLAGS, '-cp', kafkaToolsClasspath(), 'org.apache.kafka.tools.DumpLogSegments', '--files', files.join(',')])
    let text = ''
    let err = ''
    child.stdout.on('data', (d) => (text += d))
    child.stderr.on('data', (d) => (err += d))
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`DumpLogSegments exit ${code}: ${err}`))))
  })
  const codecs = new Map<string, number>()
  for (const m of out.matchAll(/compresscodec: (\w+)/g)) codecs.set(m[1]!.toLowerCase(), (codecs.get(m[1]!.toLowerCase()) ?? 0) + 1)
  return codecs
}

describe('compressed batches against Apache Kafka 4.4 (topic compression.type=producer)', () => {
  it.each(CASES)('$codec level $level: 50,000 mixed records read back byte-identical by kcat and the Java console consumer, stored with our codec', async (c) => {
    const topic = topicOf(c)
    const records = makeRecords(RECORDS, 0xc0ffee + CASES.indexOf(c))
    const config: ProducerConfig = {
      bootstrapServers: kafka.bootstrap,
      compressionType: c.codec,
      ...(c.codec === 'gzip' ? { compressionGzipLevel: c.level! } : c.codec === 'zstd' ? { compressionZstdLevel: c.level! } : {}),
      lingerMs: 5,
      maxRequestSize: MAX_BYTES,
      bufferMemory: 64 * 1024 * 1024,
    }
    const started = Date.now()
    const { mds, metrics } = await produceAll(config, topic, records)
    const producedMs = Date.now() - started
    const stats = metrics.compression[c.codec]!
    expect(stats['bytes-in-total']).toBeGreaterThan(0)
    expect(metrics['compression-rate-avg']).toBeGreaterThan(0)
    expect(metrics['compression-rate-avg']).toBeLessThan(1)
    const [kcat, java] = await Promise.all([
      consumeWithKcat(kafka.bootstrap, topic, { partitions: PARTITIONS }),
      consumeWithJavaConsoleConsumer(kafka.bootstrap, topic, records.length),
    ])
    expectIdentical(`kcat ${c.codec}`, records, mds, kcat)
    expectIdentical(`ConsoleConsumer ${c.codec}`, records, mds, java)
    const codecs = await storedCodecs(topic)
    expect([...codecs.keys()]).toEqual([c.codec])
    console.log(
      `[compression] ${c.codec}${c.level !== undefined ? ` level ${c.level}` : ''}: ${RECORDS} records in ${producedMs} ms, ` +
        `${stats['bytes-in-total']} B -> ${stats['bytes-out-total']} B (ratio ${(stats['bytes-out-total'] / stats['bytes-in-total']).toFixed(3)}, ` +
        `compression-rate-avg ${metrics['compression-rate-avg'].toFixed(3)}), batch-size-avg ${Math.round(metrics['batch-size-avg'])} B, ` +
        `${codecs.get(c.codec)} batches stored as ${c.codec}`,
    )
  }, 180_000)

  it('a compressed batch over max.message.bytes is split (by uncompressed size) and delivered once, in order; a record too large alone fails typed', async () => {
    // lz4, 64 KiB batches of ~1 KiB semi-compressible records against max.message.bytes 6000.
    const producer = new KafkaProducer({ bootstrapServers: kafka.bootstrap, compressionType: 'lz4', batchSize: 65536, lingerMs: 20 })
    const rnd = mulberry32(7)
    const value = (i: number): string => {
      let s = `${String(i).padStart(6, '0')}:`
      while (s.length < 1000) s += `${Math.floor(rnd() * 1e9).toString(36)},`
      return s
    }
    try {
      const mds = await Promise.all(Array.from({ length: 400 }, (_, i) => producer.send({ topic: 'comp-small', value: value(i) })))
      expect(mds.map((m) => m.offset)).toEqual(Array.from({ length: 400 }, (_, i) => BigInt(i)))
      const m = producer.metrics()
      expect(m['batch-split-total']).toBeGreaterThan(0)
      expect(m['batch-split-total']).toBeLessThan(200)
      // Random bytes do not compress: one record over the limit cannot be split, and fails with the broker's error.
      const err = await producer.send({ topic: 'comp-small', value: Buffer.from(Array.from({ length: 8000 }, () => Math.floor(rnd() * 256))) }).then(
        () => null,
        (e: Error) => e,
      )
      expect(err).toBeInstanceOf(KafkaBrokerError)
      expect((err as KafkaBrokerError).errorName).toBe('MESSAGE_TOO_LARGE')
      console.log(`[compression] split: batch-split-total ${m['batch-split-total']}, request-total ${m['request-total']}`)
    } finally {
      await producer.close()
    }
    const consumed = await consumeWithKcat(kafka.bootstrap, 'comp-small', { partitions: 1 })
    expect(consumed.map((c) => c.value!.toString().slice(0, 6))).toEqual(Array.from({ length: 400 }, (_, i) => String(i).padStart(6, '0')))
    expect([...(await storedCodecs('comp-small')).keys()]).toEqual(['lz4'])
  }, 120_000)
})
