/**
 * Keyed traffic over a 2,048-partition topic on a real Kafka (issue 16), with
 * the producer's defaults: batch.size 16 KiB and buffer.memory 32 MiB, so a
 * full-size buffer per open batch would need all 32 MiB. Batches that start
 * small and grow must carry it without waiting for memory, and the readback
 * must be exact: every record once, on the partition Java's murmur2 picks for
 * its key (computed by Kafka's own Java code), in send order per key. kcat
 * reads it back and verifies every batch CRC.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KafkaProducer } from '../../src/index.js'
import { consumeWithKcat } from '../harness/consume.js'
import { type KafkaCluster, startKafka } from '../harness/kafka.js'
import { javaPartitionsForKeys } from '../harness/murmur.js'

const PARTITIONS = 2048
const KEYS = 20_000
const RECORDS = 100_000

let kafka: KafkaCluster

beforeAll(async () => {
  kafka = await startKafka({ brokers: 1 })
  await kafka.createTopic('wide', PARTITIONS, 1)
}, 240_000)

afterAll(async () => {
  await kafka?.stop()
})

describe('2,048 partitions, keyed, producer defaults', () => {
  it('every record once, on its murmur2 partition, in order per key, without waiting for buffer memory', async () => {
    const producer = new KafkaProducer({ bootstrapServers: kafka.bootstrap })
    const keyOf = (i: number): string => `key-${i % KEYS}`
    let maxUsed = 0
    try {
      await new Promise<void>((resolve, reject) => {
        let done = 0
        for (let i = 0; i < RECORDS; i++) {
          producer.send({ topic: 'wide', key: keyOf(i), value: `v-${i}` }, (err) => {
            if (err !== null) return reject(err)
            if (++done === RECORDS) resolve()
          })
          if (i % 10_000 === 0) {
            const pool = producer.inspect({ maxPartitions: 0 }).bufferPool
            maxUsed = Math.max(maxUsed, pool.usedBytes)
          }
        }
      })
      const m = producer.metrics()
      // A full-size buffer per open batch would have exhausted the pool at 2,048 partitions and made sends wait.
      expect(m['bufferpool-wait-time-ns-total']).toBe(0)
      expect(m['buffer-exhausted-total']).toBe(0)
      expect(maxUsed).toBeLessThan(16 * 1024 * 1024)
      expect(m['record-send-total']).toBe(RECORDS)
    } finally {
      await producer.close()
    }

    const records = await consumeWithKcat(kafka.bootstrap, 'wide', { partitions: PARTITIONS, timeoutMs: 180_000 })
    expect(records).toHaveLength(RECORDS)
    const keys = Array.from({ length: KEYS }, (_, k) => Buffer.from(`key-${k}`))
    const expected = await javaPartitionsForKeys(keys, PARTITIONS)
    const seen = new Uint8Array(RECORDS)
    const lastOfKey = new Int32Array(KEYS).fill(-1)
    let misplaced = 0
    let reordered = 0
    // Sorted by (partition, offset): within a partition, a key's records must come in send order.
    for (const r of records) {
      const i = Number(r.value!.toString().slice(2))
      const k = i % KEYS
      expect(seen[i], `record ${i} twice`).toBe(0)
      seen[i] = 1
      expect(r.key!.toString()).toBe(keyOf(i))
      if (r.partition !== expected[k]) misplaced++
      if (i <= lastOfKey[k]!) reordered++
      lastOfKey[k] = i
    }
    expect(misplaced).toBe(0)
    expect(reordered).toBe(0)
    expect(new Set(records.map((r) => r.partition)).size).toBe(PARTITIONS)
  }, 300_000)
})
