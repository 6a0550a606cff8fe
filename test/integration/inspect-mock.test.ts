/**
 * producer.inspect() and statistics.interval.ms against librdkafka's mock
 * cluster: with the leader's answers delayed (rtt), the inspector shows the
 * Produce requests in flight on that node, their ages growing, then gone once
 * answered; and the batches queued behind them match what was appended.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KafkaProducer, type ProducerInspection, type ProducerStatistics } from '../../src/index.js'
import { RECORD_BATCH_OVERHEAD, sizeOfRecord } from '../../src/protocol/record-batch.js'
import { type MockCluster, startMockCluster } from '../harness/mock.js'

let mock: MockCluster

beforeAll(async () => {
  mock = await startMockCluster({ brokers: 1 })
  await mock.createTopic('inspect', 1, 1)
  await mock.createTopic('stats', 1, 1)
}, 60_000)

afterAll(async () => {
  await mock?.stop()
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function producesOn(p: ProducerInspection, nodeId: number) {
  return (p.brokers.find((b) => b.nodeId === nodeId)?.inFlight ?? []).filter((r) => r.api === 'Produce')
}

describe('inspect() against the mock cluster', () => {
  it('with 500 ms RTT and max.in.flight 5: five Produce requests in flight on the leader, ages growing, then gone; queued batches match the appends', async () => {
    const value = Buffer.alloc(900, 1)
    const oneBatch = RECORD_BATCH_OVERHEAD + sizeOfRecord(0, 0, null, value, undefined)
    const producer = new KafkaProducer({
      bootstrapServers: mock.bootstrap,
      lingerMs: 0,
      batchSize: 1024, // one 900-byte record per batch
      maxInFlightRequestsPerConnection: 5,
      requestTimeoutMs: 10_000,
    })
    try {
      await producer.send({ topic: 'inspect', value: 'warm-up' })
      const warm = producer.inspect()
      const leader = warm.brokers.find((b) => b.nodeId === 1)!
      expect(leader.state).toBe('ready')
      expect(leader.apiVersions.Produce).toBeGreaterThanOrEqual(3)
      expect(leader.address).toMatch(/^127\.0\.0\.1:\d+$/)
      expect(producesOn(warm, 1)).toEqual([])

      await mock.command('rtt 1 500')
      const n = 20
      const sends = Array.from({ length: n }, () => producer.send({ topic: 'inspect', value }))

      let first: ProducerInspection = producer.inspect()
      for (let i = 0; i < 200 && producesOn(first, 1).length < 5; i++) {
        await sleep(5)
        first = producer.inspect()
      }
      const inFlight = producesOn(first, 1)
      expect(inFlight).toHaveLength(5)
      for (const r of inFlight) {
        expect(r).toMatchObject({ api: 'Produce', batches: 1, records: 1, partitions: ['inspect-0'], sent: true })
        expect(r.apiVersion).toBe(leader.apiVersions.Produce)
        expect(r.bytes).toBeGreaterThan(oneBatch)
        expect(r.ageMs).toBeLessThan(500)
      }
      // The other fifteen are queued, one record per batch, behind the cap.
      const queued = first.accumulator.partitions.find((p) => p.topic === 'inspect' && p.partition === 0)!
      expect(queued).toMatchObject({ leader: 1, batches: n - 5, records: n - 5, bytes: (n - 5) * oneBatch, waitingForLeader: false, backoffMs: 0 })
      expect(first.accumulator).toMatchObject({ batches: n - 5, records: n - 5, bytes: (n - 5) * oneBatch })
      expect(first.bufferPool.usedBytes).toBeGreaterThanOrEqual(n * 1024)

      await sleep(150)
      const second = producesOn(producer.inspect(), 1)
      const ids = inFlight.map((r) => r.correlationId)
      const again = second.filter((r) => ids.includes(r.correlationId))
      expect(again.length).toBeGreaterThan(0)
      for (const r of again) {
        const before = inFlight.find((x) => x.correlationId === r.correlationId)!
        expect(r.ageMs).toBeGreaterThanOrEqual(before.ageMs + 140)
      }

      await Promise.all(sends)
      const after = producer.inspect()
      expect(producesOn(after, 1)).toEqual([])
      expect(after.accumulator).toEqual({ batches: 0, bytes: 0, records: 0, partitions: [], partitionsOmitted: 0 })
      expect(JSON.parse(JSON.stringify(after))).toEqual(after)
    } finally {
      await mock.command('rtt 1 0')
      await producer.close({ timeoutMs: 5000 })
    }
  }, 30_000)

  it('statistics.interval.ms = 100: onStatistics gets { ts, metrics, inspection } each interval, and nothing after close', async () => {
    const got: ProducerStatistics[] = []
    const producer = new KafkaProducer({
      bootstrapServers: mock.bootstrap,
      'statistics.interval.ms': '100',
      onStatistics: (s) => got.push(JSON.parse(JSON.stringify(s)) as ProducerStatistics),
    })
    try {
      await producer.send({ topic: 'stats', value: 'one' })
      const start = got.length
      const deadline = Date.now() + 5000
      while (got.length < start + 3 && Date.now() < deadline) await sleep(20)
      expect(got.length).toBeGreaterThanOrEqual(start + 3)
      const last = got[got.length - 1]!
      expect(Object.keys(last)).toEqual(['ts', 'metrics', 'inspection'])
      expect(last.metrics['record-send-total']).toBe(1)
      expect(last.inspection.ts).toBe(last.ts)
      expect(last.inspection.brokers.find((b) => b.nodeId === 1)?.state).toBe('ready')
      expect(last.inspection.bufferPool.totalBytes).toBe(33554432)
      // The timer is re-armed one interval after each emission: consecutive emissions are an interval apart
      // at least (1 ms of slack: Node's timer clock and Date.now round differently), and a late one is not
      // made up in a burst.
      for (let k = 1; k < got.length; k++) expect(got[k]!.ts - got[k - 1]!.ts, `ts ${got.map((s) => s.ts).join(', ')}`).toBeGreaterThanOrEqual(99)
      expect(got.length).toBeLessThanOrEqual(Math.ceil((Date.now() - got[0]!.ts) / 100) + 2)
    } finally {
      await producer.close({ timeoutMs: 5000 })
    }
    const n = got.length
    await sleep(350)
    expect(got.length).toBe(n)
  }, 30_000)
})
