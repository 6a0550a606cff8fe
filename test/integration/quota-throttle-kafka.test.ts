/**
 * Broker throttling against a real Kafka (KIP-219): a produce quota set with
 * Kafka's own config tool (`kafka-configs.sh --alter --add-config
 * producer_byte_rate=...`) makes the broker answer Produce requests with a
 * throttle time. The producer must then hold back (NetworkClient's throttle,
 * Sender's poll delay), so the byte rate it achieves stays near the quota,
 * and the throttle metrics show it. Assertions are loose on purpose: the
 * broker's quota is measured over 11 one-second windows, so an early burst
 * passes before throttling starts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KafkaProducer } from '../../src/index.js'
import { alterClientQuota } from '../harness/admin-tools.js'
import { type KafkaCluster, startKafka } from '../harness/kafka.js'

const QUOTA = 102_400 // bytes per second
const RECORD = 1024
const TOTAL = 3 * 1024 * 1024

describe('produce quota on a 1-node Kafka', () => {
  let kafka: KafkaCluster

  beforeAll(async () => {
    kafka = await startKafka({ brokers: 1 })
    await kafka.createTopic('quota', 3)
    await alterClientQuota(kafka.bootstrap, `producer_byte_rate=${QUOTA}`, 'quota-test')
  }, 240_000)

  afterAll(async () => {
    await kafka?.stop()
  }, 60_000)

  it('is honoured: throttle metrics non-zero and the achieved byte rate near the quota', async () => {
    const producer = new KafkaProducer({ bootstrapServers: kafka.bootstrap, clientId: 'quota-test', lingerMs: 5 })
    const value = Buffer.alloc(RECORD, 7)
    const started = Date.now()
    // The client's own throttle deadline (ClusterConnectionStates), as inspect() shows it.
    let maxThrottledForMs = 0
    const sampler = setInterval(() => {
      for (const b of producer.inspect().brokers) maxThrottledForMs = Math.max(maxThrottledForMs, b.throttledForMs ?? 0)
    }, 5)
    try {
      const sends: Promise<unknown>[] = []
      for (let i = 0; i < TOTAL / RECORD; i++) sends.push(producer.send({ topic: 'quota', value }))
      await Promise.all(sends)
      clearInterval(sampler)
      const elapsedS = (Date.now() - started) / 1000
      const m = producer.metrics()
      const rate = TOTAL / elapsedS
      const node = Object.values(m.nodes).find((n) => n['produce-throttle-time-max'] > 0)
      console.log(
        `[quota] ${TOTAL} B in ${elapsedS.toFixed(1)} s = ${Math.round(rate)} B/s (quota ${QUOTA}); ` +
          `produce-throttle-time-avg ${m['produce-throttle-time-avg'].toFixed(1)} max ${m['produce-throttle-time-max']}; ` +
          `outgoing-byte-total ${m['outgoing-byte-total']}, request-total ${m['request-total']}; ` +
          `inspect() throttledForMs max ${maxThrottledForMs}`,
      )
      expect(m['produce-throttle-time-max']).toBeGreaterThan(0)
      expect(m['produce-throttle-time-avg']).toBeGreaterThan(0)
      expect(node).toBeDefined()
      expect(maxThrottledForMs).toBeGreaterThan(0)
      expect(rate).toBeLessThan(3 * QUOTA)
      expect(m['outgoing-byte-total']).toBeGreaterThan(TOTAL)
      expect(m['record-send-total']).toBe(TOTAL / RECORD)
    } finally {
      clearInterval(sampler)
      await producer.close()
    }
  }, 180_000)
})
