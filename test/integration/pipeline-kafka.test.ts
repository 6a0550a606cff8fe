/**
 * The pipeline end to end against a real 3-broker Apache Kafka 4.x cluster
 * (KRaft): 100,000 mixed records to a 6-partition topic, read back by two
 * independent decoders (kcat with CRC checks, and Java's ConsoleConsumer), and
 * keyed placement checked against the Java client's own Utils.murmur2.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KafkaProducer } from '../../src/index.js'
import { consumeWithJavaConsoleConsumer, consumeWithKcat } from '../harness/consume.js'
import { type KafkaCluster, startKafka } from '../harness/kafka.js'
import { javaPartitionsForKeys } from '../harness/murmur.js'
import { expectIdentical, type SentTraffic, sendTraffic } from './traffic.js'

const TOPIC = 'pipeline'
const RECORDS = 100_000
let kafka: KafkaCluster
let sent: SentTraffic
let versions: Record<string, Record<string, number>>

beforeAll(async () => {
  kafka = await startKafka({ brokers: 3 })
  await kafka.createTopic(TOPIC, 6, 3)
}, 240_000)

afterAll(async () => {
  await kafka?.stop()
})

describe('against a 3-broker Apache Kafka cluster', () => {
  it('acknowledges 100,000 mixed records, each with a partition and an offset', async () => {
    const producer = new KafkaProducer({ bootstrapServers: kafka.bootstrap, clientId: 'pipeline-test' })
    try {
      sent = await sendTraffic(producer, TOPIC, RECORDS)
      versions = producer.negotiatedApiVersions()
      const m = producer.metrics()
      expect(m['record-send-total']).toBe(RECORDS)
      expect(m['record-error-total']).toBe(0)
      // Leaders spread over the three brokers: every broker took Produce requests.
      expect(Object.keys(m.nodes).sort()).toEqual(kafka.brokers.map((b) => String(b.nodeId)).sort())
    } finally {
      await producer.close()
    }
    const hw = await kafka.highWatermarks(TOPIC)
    expect([...hw.values()].reduce((a, b) => a + b, 0n)).toBe(BigInt(RECORDS))
  }, 180_000)

  it('negotiates the newest versions the broker offers that we implement', () => {
    for (const node of kafka.brokers) {
      expect(versions[String(node.nodeId)]).toMatchObject({ Produce: 12, Metadata: 13, ApiVersions: 5 })
      expect(versions[String(node.nodeId)]!.InitProducerId).toBeGreaterThanOrEqual(5)
    }
  })

  it('reads back byte-identical through kcat (check.crcs=true)', async () => {
    const consumed = await consumeWithKcat(kafka.bootstrap, TOPIC, { partitions: 6, timeoutMs: 170_000 })
    // kcat prints headers as k=v text, so only text headers are comparable there; the Java check covers all.
    expectIdentical(consumed, sent, { headers: 'text' })
  }, 180_000)

  it('reads back byte-identical, headers included, through the Java console consumer', async () => {
    const consumed = await consumeWithJavaConsoleConsumer(kafka.bootstrap, TOPIC, RECORDS, { timeoutMs: 170_000 })
    expectIdentical(consumed, sent, { headers: 'all' })
  }, 180_000)

  it('puts every keyed record where the Java client partitioner (Utils.murmur2) puts it', async () => {
    const keys = sent.keyed.map((k) => k.key)
    expect(keys.length).toBeGreaterThan(60_000)
    const java = await javaPartitionsForKeys(keys, 6)
    const wrong = sent.keyed.filter((k, i) => java[i] !== k.partition)
    expect(wrong.length).toBe(0)
  }, 120_000)
})
