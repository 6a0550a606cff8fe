import { afterEach, describe, expect, it, vi } from 'vitest'
import { ExponentialBackoff } from '../../src/util/backoff.js'
import { Cluster, type PartitionInfo } from '../../src/clients/cluster.js'
import { KafkaProducerClosedError, KafkaTimeoutError } from '../../src/errors.js'
import { BufferPool } from '../../src/producer/buffer-pool.js'
import { ProducerBatch, type RecordMetadata } from '../../src/producer/producer-batch.js'
import {
  APPEND_NEEDS_MEMORY,
  type AppendResult,
  type ProducerStateHooks,
  RecordAccumulator,
  type RecordAccumulatorOptions,
  type StickyPartitionInfoLike,
  type StickyPartitionSource,
  UNKNOWN_PARTITION,
} from '../../src/producer/record-accumulator.js'
import { RECORD_BATCH_OVERHEAD, type RecordData, sizeOfRecord } from '../../src/protocol/record-batch.js'
import { Deque } from '../../src/util/deque.js'
import { decodeRecordBatches } from '../harness/record-batch-decoder.js'

const noop = () => {}

function cluster(leaders: Record<string, number[]>, nodeIds = [1, 2, 3], epochs: Record<string, number[]> = {}): Cluster {
  const partitions: PartitionInfo[] = []
  for (const [topic, ls] of Object.entries(leaders)) {
    ls.forEach((leader, partition) =>
      partitions.push({ topic, partition, leader, leaderEpoch: epochs[topic]?.[partition] ?? 0, replicas: [], isr: [] }),
    )
  }
  return new Cluster(
    nodeIds.map((id) => ({ id, host: `b${id}`, port: 9092, rack: null })),
    partitions,
  )
}

/** A 100-byte value record makes a batch of exactly this many bytes. */
const V100 = Buffer.alloc(100, 7)
const ONE_RECORD_BATCH = RECORD_BATCH_OVERHEAD + sizeOfRecord(0, 0, null, V100, undefined)

function accumulator(overrides: Partial<RecordAccumulatorOptions> & { totalMemory?: number } = {}): RecordAccumulator {
  const batchSize = overrides.batchSize ?? 16384
  return new RecordAccumulator({
    batchSize,
    lingerMs: 10,
    deliveryTimeoutMs: 120_000,
    retryBackoffMs: 100,
    retryBackoffMaxMs: 1000,
    bufferPool: new BufferPool(overrides.totalMemory ?? 1 << 20, batchSize),
    random: () => 0.5, // jitter factor exactly 1.0
    ...overrides,
  })
}

function append(
  acc: RecordAccumulator,
  c: Cluster,
  nowMs: number,
  opts: { topic?: string; partition?: number; key?: RecordData; value?: RecordData; ts?: number; cb?: (e: Error | null, m: RecordMetadata | null) => void } = {},
): AppendResult {
  const r = acc.append(
    opts.topic ?? 't',
    opts.partition ?? 0,
    opts.ts ?? nowMs,
    opts.key ?? null,
    opts.value === undefined ? V100 : opts.value,
    undefined,
    opts.cb ?? noop,
    null,
    nowMs,
    c,
  )
  if (r === APPEND_NEEDS_MEMORY) throw new Error('unexpected APPEND_NEEDS_MEMORY')
  return { ...r }
}

afterEach(() => {
  vi.useRealTimers()
})

describe('RecordAccumulator readiness', () => {
  it('makes a partition ready after lingerMs, with an exact nextReadyCheckDelayMs', () => {
    const c = cluster({ t: [1, 2] })
    const acc = accumulator({ lingerMs: 10 })
    const r = append(acc, c, 100)
    expect(r).toEqual({ partition: 0, batchIsFull: false, newBatchCreated: true, abortForNewBatch: false, appendedBytes: ONE_RECORD_BATCH })
    append(acc, c, 104, { partition: 1 })

    let ready = acc.ready(c, 100)
    expect([...ready.readyNodes]).toEqual([])
    expect(ready.nextReadyCheckDelayMs).toBe(10)
    ready = acc.ready(c, 107)
    expect(ready.nextReadyCheckDelayMs).toBe(3)
    ready = acc.ready(c, 110)
    expect([...ready.readyNodes]).toEqual([1])
    expect(ready.nextReadyCheckDelayMs).toBe(4) // partition 1 (node 2) was created at 104
    ready = acc.ready(c, 114)
    expect([...ready.readyNodes].sort()).toEqual([1, 2])
    expect(ready.nextReadyCheckDelayMs).toBe(Infinity)
    expect(ready.unknownLeaderTopics.size).toBe(0)
  })

  it('reports Infinity when nothing is queued', () => {
    const acc = accumulator()
    const ready = acc.ready(cluster({ t: [1] }), 0)
    expect(ready.readyNodes.size).toBe(0)
    expect(ready.nextReadyCheckDelayMs).toBe(Infinity)
  })

  it('makes a full batch ready immediately', () => {
    const c = cluster({ t: [1] })
    const acc = accumulator({ batchSize: 2 * ONE_RECORD_BATCH - RECORD_BATCH_OVERHEAD, lingerMs: 1000 })
    expect(append(acc, c, 0).batchIsFull).toBe(false)
    // The second record fits exactly: the batch is full by size.
    expect(append(acc, c, 0)).toMatchObject({ batchIsFull: true, newBatchCreated: false })
    expect([...acc.ready(c, 0).readyNodes]).toEqual([1])
  })

  it('treats a batch that refused a record as full (a second batch exists)', () => {
    const c = cluster({ t: [1] })
    const acc = accumulator({ batchSize: ONE_RECORD_BATCH + 50, lingerMs: 1000 })
    append(acc, c, 0)
    const r = append(acc, c, 0)
    expect(r).toMatchObject({ newBatchCreated: true, batchIsFull: true })
    expect(acc.batchesFor('t', 0)).toHaveLength(2)
    expect(acc.batchesFor('t', 0)[0]!.isFull).toBe(true)
    expect([...acc.ready(c, 0).readyNodes]).toEqual([1])
  })

  it('gives a record larger than batch.size a batch of its own, sized exactly', () => {
    const c = cluster({ t: [1] })
    const pool = new BufferPool(1 << 20, 1024)
    const acc = accumulator({ batchSize: 1024, bufferPool: pool, lingerMs: 1000 })
    append(acc, c, 0, { value: Buffer.alloc(10) })
    const big = Buffer.alloc(5000, 1)
    const r = append(acc, c, 0, { value: big, key: 'k' })
    expect(r.newBatchCreated).toBe(true)
    const [small, own] = acc.batchesFor('t', 0)
    const exact = RECORD_BATCH_OVERHEAD + sizeOfRecord(0, 0, 'k', big, undefined)
    expect(own!.initialCapacity).toBe(exact)
    expect(own!.estimatedSizeInBytes).toBe(exact)
    expect(own!.isFull).toBe(true)
    expect(small!.isFull).toBe(true)
    expect(small!.capacity).toBe(512) // the smallest size class, not batch.size
    expect(pool.availableMemory()).toBe((1 << 20) - 512 - exact)
    // The next record needs yet another batch.
    expect(append(acc, c, 0, { value: Buffer.alloc(10) }).newBatchCreated).toBe(true)
    const [d] = decodeRecordBatches(own!.close())
    expect(d!.records[0]!.value!.equals(big)).toBe(true)
    // Non-poolable memory comes back as bytes, not as a pooled buffer.
    own!.done(0n, -1, null)
    const freeBefore = pool.freeBufferCount()
    acc.deallocate(own!)
    expect(pool.freeBufferCount()).toBe(freeBefore)
    expect(pool.availableMemory()).toBe((1 << 20) - 2 * 512)
  })

  it('puts topics with a leaderless partition in unknownLeaderTopics', () => {
    const c = cluster({ t: [1, -1], u: [7] }) // node 7 is not in the node list
    const acc = accumulator({ lingerMs: 0 })
    append(acc, c, 0, { partition: 0 })
    append(acc, c, 0, { partition: 1 })
    append(acc, c, 0, { topic: 'u', partition: 0 })
    append(acc, c, 0, { topic: 'v', partition: 0 }) // topic not in metadata at all
    const ready = acc.ready(c, 0)
    expect([...ready.readyNodes]).toEqual([1])
    expect([...ready.unknownLeaderTopics].sort()).toEqual(['t', 'u', 'v'])
    // A new snapshot with a leader makes it routable.
    const c2 = cluster({ t: [1, 2], u: [3], v: [2] })
    const ready2 = acc.ready(c2, 0)
    expect([...ready2.readyNodes].sort()).toEqual([1, 2, 3])
    expect(ready2.unknownLeaderTopics.size).toBe(0)
  })

  it('is ready before linger when the pool has waiters', async () => {
    const c = cluster({ t: [1, 2, 3] })
    const acc = accumulator({ batchSize: 1000, totalMemory: 2000, lingerMs: 1000 })
    // Records of 600 bytes need batch.size from the first one (the next size class down, 512, is too small).
    const v600 = Buffer.alloc(600)
    append(acc, c, 0, { partition: 0, value: v600 })
    append(acc, c, 0, { partition: 1, value: v600 })
    expect(acc.bufferPool.availableMemory()).toBe(0)
    expect(acc.ready(c, 1).readyNodes.size).toBe(0)
    const r = acc.append('t', 2, 1, null, v600, undefined, noop, null, 1, c)
    expect(r).toBe(APPEND_NEEDS_MEMORY)
    expect(acc.ready(c, 1).readyNodes.size).toBe(0) // nobody waits yet
    const pending = acc.appendAsync('t', 2, 1, null, v600, undefined, noop, null, 60_000, 1, c, () => 42)
    expect(acc.appendsInProgress()).toBe(1)
    expect([...acc.ready(c, 1).readyNodes].sort()).toEqual([1, 2])

    // Sending and completing a batch frees memory for the waiting append.
    const drained = acc.drain(c, new Set([1]), 1 << 20, 2)
    const batch = drained.get(1)![0]!
    batch.done(0n, -1, null)
    acc.deallocate(batch)
    const res = await pending
    expect(res).toMatchObject({ partition: 2, newBatchCreated: true })
    expect(acc.batchesFor('t', 2)[0]!.createdMs).toBe(42) // stamped after the wait
    expect(acc.appendsInProgress()).toBe(0)
  })

  it('is ready for everything while a flush is in progress, and the flush waits for earlier batches only', async () => {
    const c = cluster({ t: [1, 2] })
    const acc = accumulator({ lingerMs: 1000 })
    append(acc, c, 0, { partition: 0 })
    append(acc, c, 0, { partition: 1 })
    expect(acc.ready(c, 0).readyNodes.size).toBe(0)
    acc.beginFlush()
    expect(acc.flushInProgress()).toBe(true)
    const flushed = acc.awaitFlushCompletion()
    let done = false
    void flushed.then(() => (done = true))
    expect([...acc.ready(c, 0).readyNodes].sort()).toEqual([1, 2])
    const drained = acc.drain(c, new Set([1, 2]), 1 << 20, 0)
    // A batch created after the flush started is not waited for.
    append(acc, c, 0, { partition: 0 })
    const b1 = drained.get(1)![0]!
    const b2 = drained.get(2)![0]!
    b1.done(0n, -1, null)
    acc.deallocate(b1)
    await Promise.resolve()
    expect(done).toBe(false)
    b2.done(-1n, -1, new Error('boom')) // failures count as completed too
    await flushed
    expect(done).toBe(true)
    expect(acc.flushInProgress()).toBe(false)
    expect(acc.ready(c, 0).readyNodes.size).toBe(0)
  })

  it('resolves a flush at once when nothing is incomplete', async () => {
    const acc = accumulator()
    acc.beginFlush()
    await acc.awaitFlushCompletion()
    expect(acc.flushInProgress()).toBe(false)
  })

  it('is ready for everything once closed', () => {
    const c = cluster({ t: [1] })
    const acc = accumulator({ lingerMs: 1000 })
    append(acc, c, 0)
    acc.close()
    expect([...acc.ready(c, 0).readyNodes]).toEqual([1])
    expect(() => append(acc, c, 0)).toThrow(KafkaProducerClosedError)
  })

  it('neither readies nor drains a muted partition', () => {
    const c = cluster({ t: [1, 1] })
    const acc = accumulator({ lingerMs: 0 })
    append(acc, c, 0, { partition: 0 })
    acc.mutePartition('t', 0)
    expect(acc.isMuted('t', 0)).toBe(true)
    expect(acc.ready(c, 0).readyNodes.size).toBe(0)
    append(acc, c, 0, { partition: 1 })
    const drained = acc.drain(c, acc.ready(c, 0).readyNodes, 1 << 20, 0)
    expect(drained.get(1)!.map((b) => b.partition)).toEqual([1])
    acc.unmutePartition('t', 0)
    expect(acc.drain(c, acc.ready(c, 0).readyNodes, 1 << 20, 0).get(1)!.map((b) => b.partition)).toEqual([0])
  })
})

describe('RecordAccumulator drain', () => {
  /** Four partitions led by node 1, `perPartition` full one-record batches each. */
  function loaded(perPartition: number) {
    const c = cluster({ t: [1, 1, 1, 1] })
    const acc = accumulator({ batchSize: ONE_RECORD_BATCH, lingerMs: 0 })
    for (let p = 0; p < 4; p++) for (let i = 0; i < perPartition; i++) append(acc, c, 0, { partition: p })
    return { c, acc }
  }

  it('keeps each request within maxRequestSize and rotates the starting partition', () => {
    const { c, acc } = loaded(3)
    const take = () => acc.drain(c, new Set([1]), 2 * ONE_RECORD_BATCH, 0).get(1)!.map((b) => b.partition)
    expect(take()).toEqual([0, 1])
    expect(take()).toEqual([2, 3]) // starts at the partition that did not fit
    expect(take()).toEqual([0, 1])
    expect(take()).toEqual([2, 3])
    expect(take()).toEqual([0, 1])
    expect(take()).toEqual([2, 3])
    expect(take()).toEqual([])
    expect(acc.hasUndrained()).toBe(false)
    expect(acc.hasIncomplete()).toBe(true)
  })

  it('takes one batch per partition and rotates the lead when everything fits', () => {
    const { c, acc } = loaded(2)
    const take = () => acc.drain(c, new Set([1]), 1 << 20, 0).get(1)!.map((b) => b.partition)
    expect(take()).toEqual([0, 1, 2, 3])
    expect(take()).toEqual([1, 2, 3, 0])
  })

  it('always takes the first batch even if it alone exceeds maxRequestSize', () => {
    const { c, acc } = loaded(1)
    const drained = acc.drain(c, new Set([1]), 10, 0).get(1)!
    expect(drained).toHaveLength(1)
    expect(drained[0]!.sizeInBytes).toBe(ONE_RECORD_BATCH)
  })

  it('closes drained batches and stamps drainedMs for the queue-time metric', () => {
    const c = cluster({ t: [1] })
    const acc = accumulator({ lingerMs: 5 })
    append(acc, c, 100)
    append(acc, c, 101)
    const [b] = acc.drain(c, acc.ready(c, 107).readyNodes, 1 << 20, 107).get(1)!
    expect(b!.isClosed).toBe(true)
    expect(b!.recordCount).toBe(2)
    expect(b!.sizeInBytes).toBe(b!.records().length)
    expect(b!.queueTimeMs).toBe(7)
    expect(decodeRecordBatches(b!.records())[0]!.recordCount).toBe(2)
  })

  it('follows leadership changes from a new cluster snapshot', () => {
    const acc = accumulator({ lingerMs: 0 })
    const c1 = cluster({ t: [1, 2] })
    append(acc, c1, 0, { partition: 0 })
    append(acc, c1, 0, { partition: 1 })
    const c2 = cluster({ t: [2, 2] })
    const ready = acc.ready(c2, 0)
    expect([...ready.readyNodes]).toEqual([2])
    expect(acc.drain(c2, ready.readyNodes, 1 << 20, 0).get(2)!.map((b) => b.partition).sort()).toEqual([0, 1])
  })
})

describe('RecordAccumulator retries and expiry', () => {
  it('re-enqueues at the front and honours the retry backoff', () => {
    const c = cluster({ t: [1] })
    const acc = accumulator({ lingerMs: 0, retryBackoffMs: 100, retryBackoffMaxMs: 1000 })
    append(acc, c, 0, { value: 'first' })
    const [first] = acc.drain(c, new Set([1]), 1 << 20, 0).get(1)!
    append(acc, c, 5, { value: 'second' })
    acc.reenqueue(first!, 10)
    expect(first!.inRetry()).toBe(true)
    expect(first!.attempts).toBe(1)
    expect(acc.batchesFor('t', 0)[0]).toBe(first)
    expect(first!.retryBackoffMs).toBe(100)

    let ready = acc.ready(c, 109)
    expect(ready.readyNodes.size).toBe(0) // the head is backing off; the one behind must wait its turn
    expect(ready.nextReadyCheckDelayMs).toBe(1)
    expect(acc.drain(c, new Set([1]), 1 << 20, 109).get(1)).toEqual([])
    ready = acc.ready(c, 110)
    expect([...ready.readyNodes]).toEqual([1])
    const again = acc.drain(c, ready.readyNodes, 1 << 20, 110).get(1)!
    expect(again[0]).toBe(first)

    // Second retry: exponential.
    acc.reenqueue(first!, 200)
    expect(first!.retryBackoffMs).toBe(200)
    expect(acc.ready(c, 399).nextReadyCheckDelayMs).toBe(1)
  })

  it('skips the backoff when the leader changed since the last attempt (KIP-951)', () => {
    const acc = accumulator({ lingerMs: 0 })
    const c1 = cluster({ t: [1] }, [1, 2], { t: [5] })
    append(acc, c1, 0)
    expect(acc.ready(c1, 0).readyNodes.size).toBe(1)
    const [b] = acc.drain(c1, new Set([1]), 1 << 20, 0).get(1)!
    acc.reenqueue(b!, 10)
    expect(acc.ready(c1, 20).readyNodes.size).toBe(0)
    const c2 = cluster({ t: [2] }, [1, 2], { t: [6] })
    expect([...acc.ready(c2, 20).readyNodes]).toEqual([2])
  })

  it('keeps sequence order when re-enqueueing with idempotence hooks', () => {
    const c = cluster({ t: [1] })
    const hooks: ProducerStateHooks = {
      shouldStopDrainBatchesForPartition: () => false,
      onDrain: (b) => b.setProducerState(1n, 0, seq++, false),
      isTransactionCompleting: () => false,
    }
    let seq = 0
    const acc = accumulator({ lingerMs: 0, batchSize: ONE_RECORD_BATCH, producerState: hooks })
    for (let i = 0; i < 4; i++) append(acc, c, 0)
    const drained: ProducerBatch[] = []
    for (let i = 0; i < 3; i++) drained.push(...acc.drain(c, new Set([1]), 1 << 20, 0).get(1)!)
    expect(drained.map((b) => b.baseSequence)).toEqual([0, 1, 2])
    acc.reenqueue(drained[2]!, 1)
    acc.reenqueue(drained[0]!, 1)
    acc.reenqueue(drained[1]!, 1)
    expect(acc.batchesFor('t', 0).map((b) => b.baseSequence)).toEqual([0, 1, 2, -1])
    expect(decodeRecordBatches(drained[1]!.records())[0]!.baseSequence).toBe(1)
  })

  it('expires queued batches after deliveryTimeoutMs and reports the next expiry', () => {
    const c = cluster({ t: [1, 1] })
    const acc = accumulator({ deliveryTimeoutMs: 1000, lingerMs: 10_000, batchSize: ONE_RECORD_BATCH })
    append(acc, c, 0, { partition: 0 })
    append(acc, c, 300, { partition: 0 })
    append(acc, c, 200, { partition: 1 })
    expect(acc.expiredBatches(999)).toEqual([])
    expect(acc.nextExpiryTimeMs()).toBe(1000)
    const expired = acc.expiredBatches(1200)
    expect(expired.map((b) => [b.partition, b.createdMs])).toEqual([
      [0, 0],
      [1, 200],
    ])
    expect(acc.nextExpiryTimeMs()).toBe(1300)
    expect(acc.batchesFor('t', 0)).toHaveLength(1)
    for (const b of expired) {
      b.done(-1n, -1, new KafkaTimeoutError('expired'))
      acc.deallocate(b)
    }
    expect(acc.expiredBatches(1300)).toHaveLength(1)
    expect(acc.nextExpiryTimeMs()).toBe(Infinity)
    expect(acc.hasUndrained()).toBe(false)
  })

  it('backoff matches Java ExponentialBackoff bounds', () => {
    const lo = new ExponentialBackoff(100, 2, 1000, 0.2, () => 0)
    const hi = new ExponentialBackoff(100, 2, 1000, 0.2, () => 0.999999)
    expect([0, 1, 2, 3, 4, 10].map((a) => lo.backoff(a))).toEqual([80, 160, 320, 640, 800, 800])
    expect([0, 1, 2, 3, 4].map((a) => hi.backoff(a))).toEqual([119, 239, 479, 959, 1000])
    expect(new ExponentialBackoff(100, 2, 100, 0.2).backoff(5)).toBe(100)
  })
})

describe('RecordAccumulator sender passes visit only partitions with batches', () => {
  /** `n` partitions led round-robin by nodes 1..3, every one with a queue (one batch appended and drained), so all idle. */
  function idle(n: number, overrides: Partial<RecordAccumulatorOptions> = {}) {
    const c = cluster({ t: Array.from({ length: n }, (_, p) => 1 + (p % 3)) })
    const acc = accumulator({ lingerMs: 0, batchSize: ONE_RECORD_BATCH, totalMemory: 64 << 20, ...overrides })
    for (let p = 0; p < n; p++) append(acc, c, 0, { partition: p })
    for (const batches of acc.drain(c, new Set([1, 2, 3]), 1 << 30, 0).values()) for (const b of batches) acc.deallocate(b)
    expect(acc.hasUndrained()).toBe(false)
    return { c, acc }
  }

  /** Calls of Deque.peekFront (one per queue a scan looks at) during `fn`. */
  function peeks<T>(fn: () => T): [T, number] {
    const spy = vi.spyOn(Deque.prototype, 'peekFront')
    try {
      const r = fn()
      return [r, spy.mock.calls.length]
    } finally {
      spy.mockRestore()
    }
  }

  it('ready(), drain() and expiredBatches() look at the few non-empty queues of 4,096', () => {
    const { c, acc } = idle(4096)
    append(acc, c, 10, { partition: 7 }) // node 2
    append(acc, c, 10, { partition: 4000 }) // node 2
    append(acc, c, 10, { partition: 4095 }) // node 1
    const [ready, readyPeeks] = peeks(() => acc.ready(c, 10))
    expect([...ready.readyNodes].sort()).toEqual([1, 2])
    expect(readyPeeks).toBeLessThanOrEqual(3)
    const [drained, drainPeeks] = peeks(() => acc.drain(c, ready.readyNodes, 1 << 20, 10))
    expect(drained.get(1)!.map((b) => b.partition)).toEqual([4095])
    expect(drained.get(2)!.map((b) => b.partition).sort((a, b) => a - b)).toEqual([7, 4000])
    expect(drainPeeks).toBe(3)
    append(acc, c, 20, { partition: 9 })
    const [expired, expiryPeeks] = peeks(() => acc.expiredBatches(20))
    expect(expired).toEqual([])
    expect(expiryPeeks).toBe(1)
    expect(acc.nextExpiryTimeMs()).toBe(20 + 120_000)
    // Idle again: nothing is looked at.
    acc.drain(c, new Set([1]), 1 << 20, 20)
    expect(peeks(() => [acc.ready(c, 30), acc.expiredBatches(30)])[1]).toBe(0)
  })

  it('keeps the ready rules on the visited queues: linger delay, muted, unknown leader', () => {
    const c = cluster({ t: [1, 1, 2, -1] })
    const acc = accumulator({ lingerMs: 50 })
    append(acc, c, 0, { partition: 0 })
    append(acc, c, 20, { partition: 2 })
    append(acc, c, 0, { partition: 3 })
    let r = acc.ready(c, 30)
    expect(r.readyNodes.size).toBe(0)
    expect(r.nextReadyCheckDelayMs).toBe(20) // partition 0: 50 - 30
    expect([...r.unknownLeaderTopics]).toEqual(['t'])
    acc.mutePartition('t', 0)
    r = acc.ready(c, 70)
    expect([...r.readyNodes]).toEqual([2]) // partition 0 (node 1) muted
    r = acc.ready(c, 50)
    expect(r.nextReadyCheckDelayMs).toBe(20) // partition 2 only: 50 - 30
  })

  it('drain rotates fairly over the non-empty partitions when max.request.size cuts', () => {
    const c = cluster({ t: [1, 1, 1, 1, 1] })
    const acc = accumulator({ lingerMs: 0, batchSize: ONE_RECORD_BATCH })
    for (let p = 0; p < 5; p++) for (let i = 0; i < 4; i++) append(acc, c, 0, { partition: p })
    const taken = [0, 0, 0, 0, 0]
    const order: number[][] = []
    for (let pass = 0; pass < 5; pass++) {
      const batches = acc.drain(c, new Set([1]), 2 * ONE_RECORD_BATCH, pass).get(1)!
      order.push(batches.map((b) => b.partition))
      for (const b of batches) taken[b.partition]!++
    }
    expect(order).toEqual([
      [0, 1],
      [2, 3],
      [4, 0],
      [1, 2],
      [3, 4],
    ])
    expect(taken).toEqual([2, 2, 2, 2, 2])
  })

  it('a partition that empties and fills again is drained within one round, and keeps its place in expiry order', () => {
    const c = cluster({ t: [1, 1, 1] })
    const acc = accumulator({ lingerMs: 0, batchSize: ONE_RECORD_BATCH, deliveryTimeoutMs: 1000 })
    append(acc, c, 0, { partition: 0 })
    for (let p = 1; p < 3; p++) for (let i = 0; i < 3; i++) append(acc, c, 0, { partition: p })
    const take = (now: number) => acc.drain(c, acc.ready(c, now).readyNodes, 2 * ONE_RECORD_BATCH, now).get(1)?.map((b) => b.partition) ?? []
    expect(take(0)).toEqual([0, 1]) // partition 0 is empty now
    expect(acc.batchesFor('t', 0)).toHaveLength(0)
    append(acc, c, 1, { partition: 0 })
    // The next drain starts where the cut was (2); the refilled partition comes after the others, within this round,
    expect(take(1)).toEqual([2, 1])
    // and, cut there, leads the next.
    expect(take(2)).toEqual([0, 2])
    expect(take(3)).toEqual([1, 2])
    expect(take(4)).toEqual([])
    // Fill in reverse order: expiry still reports in partition (queue creation) order.
    append(acc, c, 5, { partition: 2 })
    append(acc, c, 5, { partition: 1 })
    append(acc, c, 5, { partition: 0 })
    expect(acc.expiredBatches(2000).map((b) => b.partition)).toEqual([0, 1, 2])
    expect(acc.hasUndrained()).toBe(false)
    expect(acc.ready(c, 2000).readyNodes.size).toBe(0)
    // A retried batch refills its queue too.
    append(acc, c, 2000, { partition: 1 })
    const [b] = acc.drain(c, new Set([1]), 1 << 20, 2000).get(1)!
    expect(acc.ready(c, 2001).readyNodes.size).toBe(0)
    acc.reenqueue(b!, 2001)
    expect(acc.ready(c, 2001).nextReadyCheckDelayMs).toBe(100)
    expect(acc.drain(c, acc.ready(c, 2101).readyNodes, 1 << 20, 2101).get(1)).toEqual([b])
  })

  it('follows a leader move: the partition is ready and drained on its new leader only', () => {
    const acc = accumulator({ lingerMs: 0 })
    const c1 = cluster({ t: [1, 2] })
    append(acc, c1, 0, { partition: 0 })
    expect([...acc.ready(c1, 0).readyNodes]).toEqual([1])
    const c2 = cluster({ t: [2, 2] })
    expect([...acc.ready(c2, 0).readyNodes]).toEqual([2])
    expect(acc.drain(c2, new Set([1, 2]), 1 << 20, 0).get(1)).toEqual([])
    append(acc, c2, 0, { partition: 0 })
    append(acc, c2, 0, { partition: 1 })
    // Leader unknown, then known again: reported, then drained.
    const c3 = cluster({ t: [-1, 2] })
    const r = acc.ready(c3, 0)
    expect([...r.readyNodes]).toEqual([2])
    expect([...r.unknownLeaderTopics]).toEqual(['t'])
    expect(acc.drain(c3, r.readyNodes, 1 << 20, 0).get(2)!.map((b) => b.partition)).toEqual([1])
    const c4 = cluster({ t: [3, 2] })
    const r4 = acc.ready(c4, 0)
    expect([...r4.readyNodes]).toEqual([3])
    expect(r4.unknownLeaderTopics.size).toBe(0)
    expect(acc.drain(c4, r4.readyNodes, 1 << 20, 0).get(3)!.map((b) => b.partition)).toEqual([0])
    expect(acc.hasUndrained()).toBe(false)
  })

  it('takes undrained batches of one node and aborts undrained ones, leaving the lists consistent', () => {
    const c = cluster({ t: [1, 2] })
    const acc = accumulator({ lingerMs: 0 })
    append(acc, c, 0, { partition: 0 })
    append(acc, c, 0, { partition: 1 })
    acc.ready(c, 0)
    expect(acc.takeUndrainedBatchesFor(1).map((b) => b.partition)).toEqual([0])
    expect([...acc.ready(c, 0).readyNodes]).toEqual([2])
    acc.abortUndrainedBatches(new Error('aborted'))
    expect(acc.ready(c, 0).readyNodes.size).toBe(0)
    append(acc, c, 1, { partition: 0 })
    expect([...acc.ready(c, 1).readyNodes]).toEqual([1])
    expect(acc.drain(c, new Set([1]), 1 << 20, 1).get(1)!.map((b) => b.partition)).toEqual([0])
  })

  it('feeds the load stats without allocating new arrays each pass', () => {
    const c = cluster({ t: [1, 2, 3] })
    const seen: Int32Array[] = []
    const sticky: StickyPartitionSource = {
      peekCurrentPartitionInfo: () => ({ partition: 0 }),
      updatePartitionInfo: () => {},
      updatePartitionLoadStats: (sizes) => void (sizes !== null && seen.push(sizes)),
    }
    const acc = accumulator({ createPartitioner: () => sticky })
    for (let p = 1; p < 3; p++) append(acc, c, 0, { partition: p })
    for (let pass = 0; pass < 4; pass++) {
      append(acc, c, 0, { partition: UNKNOWN_PARTITION })
      acc.ready(c, 0)
    }
    expect(seen).toHaveLength(4)
    // Two pairs in turn: the partitioner may keep the last pair until the next call.
    expect(seen[2]).toBe(seen[0])
    expect(seen[3]).toBe(seen[1])
    expect(seen[1]).not.toBe(seen[0])
  })
})

describe('RecordAccumulator memory', () => {
  it('routes appends that need a new batch through appendAsync while the pool is exhausted, in order', async () => {
    const c = cluster({ t: [1, 1] })
    const pool = new BufferPool(ONE_RECORD_BATCH, ONE_RECORD_BATCH)
    const acc = accumulator({ batchSize: ONE_RECORD_BATCH, bufferPool: pool, lingerMs: 0 })
    const order: string[] = []
    append(acc, c, 0, { partition: 0, cb: () => order.push('a') })
    const args = (p: number, name: string) =>
      ['t', p, 0, null, V100, undefined, () => order.push(name), null] as const
    expect(acc.append(...args(0, 'b'), 0, c)).toBe(APPEND_NEEDS_MEMORY)
    const b = acc.appendAsync(...args(0, 'b'), 60_000, 0, c, () => 5)
    // Memory frees up before c's turn, but c must still queue behind b.
    expect(acc.append(...args(1, 'c'), 0, c)).toBe(APPEND_NEEDS_MEMORY)
    const cc = acc.appendAsync(...args(1, 'c'), 60_000, 0, c, () => 6)
    expect(pool.queued()).toBe(2)
    const [first] = acc.drain(c, new Set([1]), 1 << 20, 1).get(1)!
    first!.done(0n, -1, null)
    acc.deallocate(first!)
    expect((await b).partition).toBe(0)
    const [second] = acc.drain(c, new Set([1]), 1 << 20, 6).get(1)!
    second!.done(1n, -1, null)
    acc.deallocate(second!)
    expect((await cc).partition).toBe(1)
    expect(order).toEqual(['a', 'b'])
    expect(acc.batchesFor('t', 1)[0]!.createdMs).toBe(6)
  })

  it('fails appendAsync with KafkaTimeoutError after max.block.ms', async () => {
    vi.useFakeTimers()
    const c = cluster({ t: [1] })
    const acc = accumulator({ batchSize: ONE_RECORD_BATCH, totalMemory: ONE_RECORD_BATCH })
    append(acc, c, 0) // fills the only buffer the pool has
    expect(acc.append('t', 0, 0, null, V100, undefined, noop, null, 0, c)).toBe(APPEND_NEEDS_MEMORY)
    const pending = acc.appendAsync('t', 0, 0, null, V100, undefined, noop, null, 250, 0, c, () => 0)
    const failed = expect(pending).rejects.toThrow(KafkaTimeoutError)
    vi.advanceTimersByTime(250)
    await failed
    expect(acc.appendsInProgress()).toBe(0)
    expect(acc.bufferPool.queued()).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('fails a waiting append when the accumulator closes', async () => {
    const c = cluster({ t: [1] })
    const acc = accumulator({ batchSize: ONE_RECORD_BATCH, totalMemory: ONE_RECORD_BATCH })
    append(acc, c, 0)
    const pending = acc.appendAsync('t', 0, 0, null, V100, undefined, noop, null, 60_000, 0, c, () => 0)
    acc.close()
    await expect(pending).rejects.toThrow(KafkaProducerClosedError)
  })

  it('abortIncompleteBatches fails every record and returns all memory', () => {
    const c = cluster({ t: [1, 2] })
    const pool = new BufferPool(1 << 20, 16384)
    const acc = accumulator({ bufferPool: pool })
    const errors: (Error | null)[] = []
    append(acc, c, 0, { partition: 0, cb: (e) => errors.push(e) })
    append(acc, c, 0, { partition: 1, cb: (e) => errors.push(e) })
    const inflight = acc.drain(c, new Set([1]), 1 << 20, 100).get(1)!
    expect(inflight).toHaveLength(1)
    acc.close()
    const err = new KafkaProducerClosedError('forced')
    acc.abortIncompleteBatches(err)
    expect(errors).toEqual([err, err])
    expect(acc.hasIncomplete()).toBe(false)
    expect(acc.hasUndrained()).toBe(false)
    expect(pool.availableMemory()).toBe(1 << 20)
    // A late response for the in-flight batch is ignored, and so is a second deallocate.
    expect(inflight[0]!.done(5n, -1, null)).toBe(false)
    acc.deallocate(inflight[0]!)
    expect(pool.availableMemory()).toBe(1 << 20)
  })

  it('abortUndrainedBatches leaves batches that were already sent', () => {
    const c = cluster({ t: [1] })
    const acc = accumulator({ batchSize: ONE_RECORD_BATCH })
    const seen: string[] = []
    append(acc, c, 0, { cb: (e) => seen.push(e ? 'failed-1' : 'ok-1') })
    append(acc, c, 0, { cb: (e) => seen.push(e ? 'failed-2' : 'ok-2') })
    const [sent] = acc.drain(c, new Set([1]), 1 << 20, 0).get(1)!
    acc.reenqueue(sent!, 1)
    acc.abortUndrainedBatches(new Error('fatal'))
    expect(seen).toEqual(['failed-2'])
    expect(acc.batchesFor('t', 0)).toEqual([sent])
  })
})

describe('RecordAccumulator with a sticky partitioner', () => {
  class FakeSticky implements StickyPartitionSource {
    current: StickyPartitionInfoLike = { partition: 2 }
    readonly updates: [number, number, boolean][] = []
    readonly stats: [number[] | null, number[], number][] = []
    peekCurrentPartitionInfo(): StickyPartitionInfoLike {
      return this.current
    }
    updatePartitionInfo(info: StickyPartitionInfoLike | null, appendedBytes: number, _c: Cluster, enableSwitch: boolean): void {
      this.updates.push([info!.partition, appendedBytes, enableSwitch])
    }
    updatePartitionLoadStats(queueSizes: Int32Array | null, partitionIds: Int32Array, length: number): void {
      this.stats.push([queueSizes === null ? null : [...queueSizes], [...partitionIds], length])
    }
  }

  it('appends UNKNOWN_PARTITION records to the peeked partition and reports appended bytes', () => {
    const c = cluster({ t: [1, 2, 3] })
    const sticky = new FakeSticky()
    const created: string[] = []
    const acc = accumulator({
      createPartitioner: (topic) => {
        created.push(topic)
        return sticky
      },
    })
    const r1 = append(acc, c, 0, { partition: UNKNOWN_PARTITION })
    expect(r1.partition).toBe(2)
    const r2 = append(acc, c, 0, { partition: UNKNOWN_PARTITION })
    expect(created).toEqual(['t'])
    expect(sticky.updates).toEqual([
      [2, r1.appendedBytes, false],
      [2, r2.appendedBytes, false],
    ])
    expect(r2.appendedBytes).toBe(sizeOfRecord(1, 0, null, V100, undefined))
    // Explicit partitions do not touch the partitioner.
    append(acc, c, 0, { partition: 0 })
    expect(sticky.updates).toHaveLength(2)
  })

  it('feeds queue sizes once every partition has a queue, excluded slow nodes last', () => {
    const c = cluster({ t: [1, 2, 3, -1] })
    const sticky = new FakeSticky()
    const acc = accumulator({ createPartitioner: () => sticky, batchSize: ONE_RECORD_BATCH, partitionerAvailabilityTimeoutMs: 100 })
    append(acc, c, 0, { partition: UNKNOWN_PARTITION })
    acc.ready(c, 0)
    expect(sticky.stats.at(-1)).toEqual([null, [], 0]) // partitions 0, 1, 3 have no queue yet
    append(acc, c, 0, { partition: 0 })
    append(acc, c, 0, { partition: 0 })
    append(acc, c, 0, { partition: 1 })
    append(acc, c, 0, { partition: 3 })
    // Fed only after a keyless append: the stats are read only when the sticky partitioner chooses.
    const fed = sticky.stats.length
    acc.ready(c, 0)
    expect(sticky.stats).toHaveLength(fed)
    append(acc, c, 0, { partition: UNKNOWN_PARTITION })
    acc.ready(c, 0)
    // Queues in creation order: 2, 0, 1, 3(leaderless, left out).
    expect(sticky.stats.at(-1)).toEqual([[2, 2, 1], [2, 0, 1], 3])
    acc.updateNodeLatencyStats(1, 0, true)
    acc.updateNodeLatencyStats(1, 150, false) // node 1 not drainable for 150 ms > 100
    append(acc, c, 150, { partition: UNKNOWN_PARTITION })
    acc.ready(c, 150)
    expect(sticky.stats.at(-1)).toEqual([[3, 1, 2], [2, 1, 0], 2])
    expect(sticky.stats).toHaveLength(fed + 2)
  })

  it('does not feed stats when adaptive partitioning is off', () => {
    const c = cluster({ t: [1] })
    const sticky = new FakeSticky()
    sticky.current = { partition: 0 }
    const acc = accumulator({ createPartitioner: () => sticky, partitionerAdaptive: false })
    append(acc, c, 0, { partition: UNKNOWN_PARTITION })
    acc.ready(c, 0)
    expect(sticky.stats).toEqual([[null, [], 0]])
  })

  it('returns abortForNewBatch without appending when asked to', () => {
    const c = cluster({ t: [1] })
    const acc = accumulator()
    const r = acc.append('t', 0, 0, null, V100, undefined, noop, null, 0, c, true)
    expect(r).toMatchObject({ abortForNewBatch: true, newBatchCreated: false, partition: 0 })
    expect(acc.hasIncomplete()).toBe(false)
  })
})

describe('ProducerBatch completion', () => {
  function batchWith(n: number, complete: (i: number) => [(...a: never[]) => void, ((e: Error) => void) | null]) {
    const b = new ProducerBatch('t', 3, Buffer.alloc(4096), 0)
    for (let i = 0; i < n; i++) {
      const [ok, fail] = complete(i)
      b.tryAppend(1000 + i, null, 'v', undefined, ok as never, fail, 0)
    }
    return b
  }

  it('completes callback-style and promise-style records with per-record metadata', async () => {
    const seen: [number, Error | null, RecordMetadata | null][] = []
    const promises: Promise<RecordMetadata>[] = []
    const b = batchWith(4, (i) => {
      if (i % 2 === 0) return [((e: Error | null, m: RecordMetadata | null) => seen.push([i, e, m])) as never, null]
      let resolve!: (m: RecordMetadata) => void
      let reject!: (e: Error) => void
      promises.push(new Promise((res, rej) => ((resolve = res), (reject = rej))))
      return [resolve as never, reject]
    })
    expect(b.done(500n, -1, null)).toBe(true)
    expect(seen).toEqual([
      [0, null, { topic: 't', partition: 3, offset: 500n, timestamp: 1000 }],
      [2, null, { topic: 't', partition: 3, offset: 502n, timestamp: 1002 }],
    ])
    expect(await Promise.all(promises)).toEqual([
      { topic: 't', partition: 3, offset: 501n, timestamp: 1001 },
      { topic: 't', partition: 3, offset: 503n, timestamp: 1003 },
    ])
    expect(b.state).toBe('SUCCEEDED')
  })

  it('uses LogAppendTime when the broker sets it, and -1 offsets for acks=0', () => {
    const seen: (RecordMetadata | null)[] = []
    const b = batchWith(2, () => [((_e: Error | null, m: RecordMetadata | null) => seen.push(m)) as never, null])
    b.done(-1n, 77, null)
    expect(seen.map((m) => [m!.offset, m!.timestamp])).toEqual([
      [-1n, 77],
      [-1n, 77],
    ])
  })

  it('completes each record exactly once', async () => {
    let calls = 0
    const b = batchWith(3, () => [(() => calls++) as never, null])
    expect(b.done(-1n, -1, new Error('first'))).toBe(true)
    expect(b.done(-1n, -1, new Error('again'))).toBe(false)
    expect(b.done(1n, -1, null)).toBe(false) // FAILED -> SUCCEEDED is ignored
    expect(calls).toBe(3)
    expect(() => b.abort(new Error('x'))).toThrow(/already been completed/)
    const ok = batchWith(1, () => [noop as never, null])
    ok.done(0n, -1, null)
    expect(() => ok.done(0n, -1, new Error('late'))).toThrow(/SUCCEEDED/)
  })

  it('applies per-record errors and keeps going when a callback throws', () => {
    const errors: string[] = []
    const thrown: unknown[] = []
    const b = new ProducerBatch('t', 0, Buffer.alloc(4096), 0, {
      hooks: { onBatchFinal: noop, onCallbackError: (e) => thrown.push(e) },
    })
    for (let i = 0; i < 3; i++) {
      b.tryAppend(0, null, 'v', undefined, (e: Error | null) => {
        errors.push(e!.message)
        if (i === 0) throw new Error('user bug')
      }, null, 0)
    }
    b.done(-1n, -1, new Error('batch'), (i) => (i === 1 ? new Error('record 1 invalid') : null))
    expect(errors).toEqual(['batch', 'record 1 invalid', 'batch'])
    expect(thrown.map((e) => (e as Error).message)).toEqual(['user bug'])
  })

  it('reports delivery timeout and retry state', () => {
    const b = new ProducerBatch('t', 0, Buffer.alloc(200), 100)
    expect(b.hasReachedDeliveryTimeout(50, 149)).toBe(false)
    expect(b.hasReachedDeliveryTimeout(50, 150)).toBe(true)
    expect(b.inRetry()).toBe(false)
    b.reenqueued(300)
    expect(b.inRetry()).toBe(true)
    expect(b.waitedTimeMs(320)).toBe(20)
  })
})
