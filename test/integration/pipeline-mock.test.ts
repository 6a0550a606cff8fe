/**
 * The same traffic as the real-Kafka pipeline test, against librdkafka's mock
 * cluster (3 brokers). The mock speaks only old protocol versions, so this
 * exercises version negotiation: the ApiVersions fallback and Produce v7 /
 * Metadata v2 instead of the newest versions. The mock trims each partition
 * log to a few MB, so what is read back is checked as a contiguous tail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KafkaProducer } from '../../src/index.js'
import { consumeWithKcat } from '../harness/consume.js'
import { type MockCluster, startMockCluster } from '../harness/mock.js'
import { expectIdentical, sendTraffic } from './traffic.js'

const TOPIC = 'pipeline'
const RECORDS = 100_000
let mock: MockCluster

beforeAll(async () => {
  mock = await startMockCluster({ brokers: 3 })
  await mock.createTopic(TOPIC, 6, 3)
}, 60_000)

afterAll(async () => {
  await mock?.stop()
})

describe('against the librdkafka mock cluster', () => {
  it('delivers the same 100,000 records with negotiated older versions, byte-identical through kcat', async () => {
    const producer = new KafkaProducer({ bootstrapServers: mock.bootstrap })
    let versions: Record<string, Record<string, number>>
    let sent
    try {
      sent = await sendTraffic(producer, TOPIC, RECORDS)
      versions = producer.negotiatedApiVersions()
    } finally {
      await producer.close()
    }
    const used = Object.values(versions)
    expect(used.length).toBeGreaterThanOrEqual(1)
    // Every API the client knows that the mock advertises; it has no SaslHandshake/SaslAuthenticate
    // or telemetry APIs, which negotiation leaves out rather than failing.
    const expected = { Produce: 7, Metadata: 2, ApiVersions: 0, InitProducerId: 4, FindCoordinator: 2, AddPartitionsToTxn: 1, AddOffsetsToTxn: 1, EndTxn: 1, TxnOffsetCommit: 2 }
    for (const v of used) expect(v).toEqual(expected)
    console.log(`[pipeline-mock] negotiated versions per broker: ${JSON.stringify(versions)}`)
    const consumed = await consumeWithKcat(mock.bootstrap, TOPIC, { partitions: 6, timeoutMs: 120_000 })
    // The mock keeps only a few MB per partition log, so the oldest records are trimmed away.
    expectIdentical(consumed, sent, { headers: 'text', logStartTrimmed: true })
    console.log(`[pipeline-mock] kcat read ${consumed.length} of ${RECORDS} records; the rest were trimmed by the mock's log size limit`)
  }, 180_000)
})
