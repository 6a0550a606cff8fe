/**
 * The metric set after a run against librdkafka's mock cluster (3 brokers,
 * with a round trip injected and a buffer.memory small enough that sends
 * wait for memory): every name docs/metrics.md documents is in the snapshot
 * at each scope it documents (global, nodes[id], topics[name]), and the
 * values agree with what was sent.
 */
import fs from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KafkaProducer } from '../../src/index.js'
import { type MockCluster, startMockCluster } from '../harness/mock.js'

let mock: MockCluster

beforeAll(async () => {
  mock = await startMockCluster({ brokers: 3 })
  await mock.createTopic('metrics-a', 6, 1)
  await mock.createTopic('metrics-b', 3, 1)
}, 60_000)

afterAll(async () => {
  await mock?.stop()
})

/** Documented names per scope, from the table in docs/metrics.md (`name` / `name` | scope, scope | meaning). */
function documentedNames(): Record<'global' | 'node' | 'topic', Set<string>> {
  const out = { global: new Set<string>(), node: new Set<string>(), topic: new Set<string>() }
  const text = fs.readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8')
  for (const line of text.split('\n')) {
    const cells = line.split('|').map((c) => c.trim())
    if (cells.length < 5 || !cells[1]!.startsWith('`')) continue
    const names = [...cells[1]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!).filter((n) => /^[a-z][a-z0-9-]*$/.test(n))
    for (const scope of cells[2]!.split(',').map((s) => s.trim())) {
      if (scope !== 'global' && scope !== 'node' && scope !== 'topic') throw new Error(`docs/metrics.md: unknown scope '${scope}' in: ${line}`)
      for (const n of names) out[scope].add(n)
    }
  }
  return out
}

describe('metrics after a run on the mock cluster', () => {
  it('carry every documented name at its scope, with values that match the run', async () => {
    for (const id of [1, 2, 3]) await mock.command(`rtt ${id} 20`)
    const producer = new KafkaProducer({
      bootstrapServers: mock.bootstrap,
      lingerMs: 5,
      batchSize: 16384,
      bufferMemory: 65536, // 4 batches: sends wait for memory
      compressionType: 'gzip',
    })
    const N = 4000
    const value = Buffer.alloc(1000, 'm')
    try {
      const sent = Array.from({ length: N }, (_, i) => producer.send({ topic: i % 2 === 0 ? 'metrics-a' : 'metrics-b', value }))
      await producer.flush() // waits for at least one 20 ms round trip
      await Promise.all(sent)
      const m = producer.metrics() as unknown as Record<string, unknown> & {
        nodes: Record<string, Record<string, number>>
        topics: Record<string, Record<string, number>>
      }
      const docs = documentedNames()
      expect(docs.global.size).toBeGreaterThan(40)
      for (const name of docs.global) {
        expect(typeof m[name], `global ${name}`).toBe('number')
        expect(Number.isFinite(m[name]), `global ${name} = ${m[name]}`).toBe(true)
        expect(m[name] as number, `global ${name}`).toBeGreaterThanOrEqual(0)
      }
      expect(Object.keys(m.nodes).sort()).toEqual(['1', '2', '3'])
      for (const [id, n] of Object.entries(m.nodes)) {
        for (const name of docs.node) {
          expect(Number.isFinite(n[name]), `nodes[${id}] ${name} = ${n[name]}`).toBe(true)
        }
        expect(n['request-total']).toBeGreaterThan(0)
        expect(n['outgoing-byte-total']).toBeGreaterThan(0)
      }
      expect(Object.keys(m.topics).sort()).toEqual(['metrics-a', 'metrics-b'])
      for (const [topic, t] of Object.entries(m.topics)) {
        for (const name of docs.topic) expect(Number.isFinite(t[name]), `topics[${topic}] ${name} = ${t[name]}`).toBe(true)
        expect(t['record-send-total']).toBe(N / 2)
        expect(t['compression-rate']).toBeGreaterThan(0)
        expect(t['compression-rate']).toBeLessThan(0.2) // repeated bytes compress well
      }
      const g = m as unknown as Record<string, number>
      expect(g['record-send-total']).toBe(N)
      expect(g['record-error-total']).toBe(0)
      // Bytes written: every batch, plus request headers and the other APIs; the sum over nodes.
      const sumNodes = (k: string): number => Object.values(m.nodes).reduce((a, n) => a + n[k]!, 0)
      // The global counts include the bootstrap connection, which has no broker id and so no nodes[] entry.
      expect(g['outgoing-byte-total']).toBeGreaterThan(sumNodes('outgoing-byte-total'))
      expect(g['incoming-byte-total']).toBeGreaterThan(sumNodes('incoming-byte-total'))
      expect(g['outgoing-byte-total']).toBeGreaterThan(m.topics['metrics-a']!['byte-total']! + m.topics['metrics-b']!['byte-total']!)
      expect(sumNodes('request-total')).toBeGreaterThan(g['request-total']!) // + ApiVersions and Metadata
      expect(g['record-size-max']).toBeGreaterThan(1000)
      expect(g['record-size-max']).toBeLessThan(1100)
      expect(g['bufferpool-wait-time-ns-total']).toBeGreaterThan(0)
      expect(g['flush-time-ns-total']).toBeGreaterThan(15e6)
      expect(g['metadata-wait-time-ns-total']).toBeGreaterThan(15e6) // the first sends waited for both topics (20 ms RTT)
      expect(g['connection-creation-total']).toBeGreaterThanOrEqual(3)
      expect(g['successful-authentication-total']).toBeGreaterThanOrEqual(3)
      expect(g['metadata-age']).toBeLessThan(60)
      expect(g['request-latency-avg']).toBeGreaterThanOrEqual(20)
      expect(g['produce-throttle-time-max']).toBe(0)
      console.log(
        `[metrics] record-send-rate ${g['record-send-rate']!.toFixed(0)}/s, outgoing-byte-rate ${g['outgoing-byte-rate']!.toFixed(0)} B/s, ` +
          `bufferpool-wait-ratio ${g['bufferpool-wait-ratio']!.toFixed(3)}, request-size-avg ${g['request-size-avg']!.toFixed(0)}`,
      )
    } finally {
      await producer.close()
      for (const id of [1, 2, 3]) await mock.command(`rtt ${id} 0`)
    }
  }, 120_000)
})
