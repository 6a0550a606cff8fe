/**
 * Typed keys against a single-node Apache Kafka: a record goes to the
 * partition Java's default partitioner computes (Utils.murmur2 in
 * kafka-clients) for the key's serialized bytes, and the interceptors and
 * the write stream work end to end.
 */
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KafkaProducer, type RecordMetadata, serializers } from '../../src/index.js'
import { consumeWithKcat } from '../harness/consume.js'
import { type KafkaCluster, startKafka } from '../harness/kafka.js'
import { javaPartitionsForKeys } from '../harness/murmur.js'

let kafka: KafkaCluster

beforeAll(async () => {
  kafka = await startKafka({ brokers: 1 })
  await kafka.createTopic('typed-keys', 6, 1)
}, 180_000)

afterAll(async () => {
  await kafka?.stop()
})

interface AccountKey {
  region: string
  account: number
}

/** A structured key as a user would serialize it: a fixed binary layout, region then account. */
function accountKeyBytes(k: AccountKey): Buffer {
  const region = Buffer.from(k.region, 'utf8')
  const b = Buffer.alloc(2 + region.length + 8)
  b.writeUInt16BE(region.length, 0)
  region.copy(b, 2)
  b.writeBigInt64BE(BigInt(k.account), 2 + region.length)
  return b
}

describe('typed keys on Apache Kafka', () => {
  it("puts each record on Java's murmur2 partition of its serialized key, through send() and through a write stream", async () => {
    let acks = 0
    const producer = new KafkaProducer<AccountKey, { balance: number }>({
      bootstrapServers: kafka.bootstrap,
      keySerializer: (k) => accountKeyBytes(k),
      valueSerializer: serializers.json,
      interceptors: [{ onAcknowledgement: (_md, err) => void (err === null && acks++) }],
    })
    const regions = ['eu-west', 'us-east', 'ap-south', 'émea'] // a non-ASCII one too
    const keys: AccountKey[] = Array.from({ length: 4000 }, (_, i) => ({ region: regions[i % 4]!, account: i * 104729 - 2_000_000 }))
    let mds: RecordMetadata[]
    try {
      mds = await Promise.all(keys.slice(0, 2000).map((key, i) => producer.send({ topic: 'typed-keys', key, value: { balance: i } })))
      await pipeline(
        Readable.from(keys.slice(2000).map((key, i) => ({ key, value: { balance: 2000 + i } }))),
        producer.createWriteStream({ topic: 'typed-keys' }),
      )
    } finally {
      await producer.close()
    }
    expect(acks).toBe(4000)
    const java = await javaPartitionsForKeys(keys.map(accountKeyBytes), 6)
    mds.forEach((md, i) => expect(md.partition).toBe(java[i]))
    const got = await consumeWithKcat(kafka.bootstrap, 'typed-keys', { partitions: 6 })
    expect(got).toHaveLength(4000)
    for (const r of got) {
      const i = (JSON.parse(r.value!.toString()) as { balance: number }).balance
      expect(r.key!.equals(accountKeyBytes(keys[i]!))).toBe(true)
      expect(r.partition).toBe(java[i])
    }
  }, 180_000)
})
