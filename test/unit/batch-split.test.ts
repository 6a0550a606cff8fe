import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Cluster, type PartitionInfo } from '../../src/clients/cluster.js'
import { KafkaClientError } from '../../src/errors.js'
import { BufferPool } from '../../src/producer/buffer-pool.js'
import { ProducerBatch, type RecordMetadata } from '../../src/producer/producer-batch.js'
import {
  APPEND_NEEDS_MEMORY,
  type ProducerStateHooks,
  RecordAccumulator,
  type RecordAccumulatorOptions,
} from '../../src/producer/record-accumulator.js'
import {
  RECORD_BATCH_OVERHEAD,
  type RecordData,
  type HeaderPairs,
  type RecordView,
  readRecordView,
  sizeOfRecord,
} from '../../src/protocol/record-batch.js'
import { decodeRecordBatches } from '../harness/record-batch-decoder.js'

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

const KiB = 1024
const T0 = 1_700_000_000_000

/** The fake clock: the accumulator reads no clock, every call gets `clock.now`; timers are faked too. */
const clock = { now: T0 }

beforeEach(() => {
  vi.useFakeTimers()
  clock.now = T0
})
afterEach(() => {
  vi.useRealTimers()
})

interface Rec {
  ts: number
  key: RecordData
  value: RecordData
  headers: HeaderPairs
}

/** ~2 KiB records (1990-byte values, ~2012 bytes encoded): two fit in a 4 KiB batch, three do not. */
function rec(i: number, valueSize = 1990): Rec {
  return {
    ts: T0 + i * 7 - (i % 3), // not monotonic: deltas may be negative
    key: i % 4 === 3 ? null : `key-${i}`,
    value: Buffer.alloc(valueSize, i + 1),
    headers: i % 2 === 0 ? [['h', `v${i}`], ['n', null]] : undefined,
  }
}

type Outcome = { err: Error | null; md: RecordMetadata | null }

/** Records of one batch with callback-style slots; `outcomes[i]` lists every completion of record i. */
function batchOf(records: Rec[], capacity = 64 * KiB) {
  const outcomes: Outcome[][] = records.map(() => [])
  const b = new ProducerBatch('t', 0, Buffer.alloc(capacity), clock.now)
  records.forEach((r, i) => {
    const idx = b.tryAppend(r.ts, r.key, r.value, r.headers, (err: Error | null, md: RecordMetadata | null) => outcomes[i]!.push({ err, md }), null, clock.now)
    expect(idx).toBe(i)
  })
  return { b, outcomes }
}

/** Independent model of the split: greedy, each part limited to max(splitBatchSize, header + its first record). */
function expectedGroups(records: Rec[], splitBatchSize: number): number[][] {
  const groups: number[][] = []
  let size = 0
  let limit = 0
  let base = 0
  records.forEach((r, i) => {
    const g = groups[groups.length - 1]
    if (g !== undefined) {
      const s = sizeOfRecord(g.length, r.ts - base, r.key, r.value, r.headers)
      if (size + s <= limit) {
        g.push(i)
        size += s
        return
      }
    }
    base = r.ts
    size = RECORD_BATCH_OVERHEAD + sizeOfRecord(0, 0, r.key, r.value, r.headers)
    limit = Math.max(splitBatchSize, size)
    groups.push([i])
  })
  return groups
}

function asBuffer(v: RecordData): Buffer | null {
  return v === null ? null : typeof v === 'string' ? Buffer.from(v) : v
}

/** Closes `part`, decodes it (CRC checked by the decoder) and checks it holds exactly `records[indices]`, in order. */
function expectPartHolds(part: ProducerBatch, records: Rec[], indices: number[]): void {
  const [d, ...rest] = decodeRecordBatches(part.close())
  expect(rest).toHaveLength(0)
  expect(d!.recordCount).toBe(indices.length)
  expect(d!.lastOffsetDelta).toBe(indices.length - 1)
  expect(d!.baseTimestamp).toBe(records[indices[0]!]!.ts)
  expect(d!.maxTimestamp).toBe(Math.max(...indices.map((i) => records[i]!.ts)))
  expect(part.sizeInBytes).toBe(part.buffer.length) // exactly sized
  d!.records.forEach((got, j) => {
    const want = records[indices[j]!]!
    expect(got.offsetDelta).toBe(j)
    expect(got.timestamp).toBe(want.ts)
    expect(got.key).toEqual(asBuffer(want.key))
    expect(got.value).toEqual(asBuffer(want.value))
    expect(got.headers).toEqual((want.headers ?? []).map(([k, v]) => [k, asBuffer(v)]))
  })
}

function cluster(partitions = 1): Cluster {
  const infos: PartitionInfo[] = []
  for (let p = 0; p < partitions; p++) infos.push({ topic: 't', partition: p, leader: 1, leaderEpoch: 0, replicas: [], isr: [] })
  return new Cluster([{ id: 1, host: 'b1', port: 9092, rack: null }], infos)
}

const TOTAL_MEMORY = 512 * KiB

function accumulator(overrides: Partial<RecordAccumulatorOptions> = {}): RecordAccumulator {
  const batchSize = overrides.batchSize ?? 32 * KiB
  return new RecordAccumulator({
    batchSize,
    lingerMs: 0,
    deliveryTimeoutMs: 120_000,
    retryBackoffMs: 100,
    retryBackoffMaxMs: 1000,
    bufferPool: new BufferPool(TOTAL_MEMORY, batchSize),
    random: () => 0.5,
    ...overrides,
  })
}

function appendRec(acc: RecordAccumulator, c: Cluster, r: Rec, cb: (err: Error | null, md: RecordMetadata | null) => void): void {
  const res = acc.append('t', 0, r.ts, r.key, r.value, r.headers, cb, null, clock.now, c)
  if (res === APPEND_NEEDS_MEMORY) throw new Error('unexpected APPEND_NEEDS_MEMORY')
}

/** An accumulator whose partition 0 has one drained (in-flight) batch of `records`. */
function inFlight(records: Rec[], overrides: Partial<RecordAccumulatorOptions> = {}) {
  const c = cluster()
  const acc = accumulator(overrides)
  const outcomes: Outcome[][] = records.map(() => [])
  records.forEach((r, i) => appendRec(acc, c, r, (err, md) => outcomes[i]!.push({ err, md })))
  expect(acc.batchesFor('t', 0)).toHaveLength(1)
  clock.now += 10
  const drained = acc.drain(c, acc.ready(c, clock.now).readyNodes, 1 << 20, clock.now).get(1)!
  expect(drained).toHaveLength(1)
  return { c, acc, pool: acc.bufferPool, batch: drained[0]!, outcomes }
}

/** Drains partition 0 until empty, one batch per drain, as the sender would. */
function drainAll(acc: RecordAccumulator, c: Cluster): ProducerBatch[] {
  const out: ProducerBatch[] = []
  for (;;) {
    const ready = acc.ready(c, clock.now).readyNodes
    const got = acc.drain(c, ready, 1 << 20, clock.now).get(1) ?? []
    if (got.length === 0) return out
    out.push(...got)
  }
}

async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false
  void p.then(() => (done = true))
  for (let i = 0; i < 5; i++) await Promise.resolve()
  return done
}

// ---------------------------------------------------------------------------
// Reading records back
// ---------------------------------------------------------------------------

describe('readRecordView', () => {
  it('reads each record in place, key, value and header section as views of the batch', () => {
    const records = [rec(0, 10), rec(1, 0), rec(2, 5), rec(3, 3)]
    records[1]!.value = null
    const { b } = batchOf(records)
    const batch = b.close()
    const v: RecordView = { timestampDelta: 0, offsetDelta: 0, key: null, value: null, headers: Buffer.alloc(0) }
    let pos = RECORD_BATCH_OVERHEAD
    records.forEach((r, i) => {
      const next = readRecordView(batch, pos, v)
      expect(next - pos).toBe(sizeOfRecord(i, r.ts - records[0]!.ts, r.key, r.value, r.headers))
      expect(v.offsetDelta).toBe(i)
      expect(v.timestampDelta).toBe(r.ts - records[0]!.ts)
      expect(v.key).toEqual(asBuffer(r.key))
      expect(v.value).toEqual(asBuffer(r.value))
      // Views, not copies.
      for (const view of [v.key, v.value, v.headers]) if (view !== null && view.length > 0) expect(view.buffer).toBe(batch.buffer)
      // The header section is the tail of the record: count varint, then the headers.
      expect(v.headers[0]).toBe(r.headers == null ? 0 : r.headers.length * 2) // zigzag count
      pos = next
    })
    expect(pos).toBe(batch.length)
  })

  it('rejects a record that runs past the end of the records region', () => {
    const { b } = batchOf([rec(0, 10)])
    const batch = b.close()
    const v: RecordView = { timestampDelta: 0, offsetDelta: 0, key: null, value: null, headers: Buffer.alloc(0) }
    expect(() => readRecordView(batch.subarray(0, batch.length - 1), RECORD_BATCH_OVERHEAD, v)).toThrow(/declares|Truncated/)
  })
})

// ---------------------------------------------------------------------------
// ProducerBatch.split
// ---------------------------------------------------------------------------

describe('ProducerBatch.split', () => {
  it('splits a 10-record batch of ~2 KiB records at 4 KiB into decodable parts, in order', () => {
    const records = Array.from({ length: 10 }, (_, i) => rec(i))
    const { b } = batchOf(records)
    b.close() // as after a drain; split reads the records region either way
    const groups = expectedGroups(records, 4 * KiB)
    expect(groups).toEqual([[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]])
    const parts = b.split(4 * KiB)
    expect(parts).toHaveLength(5)
    parts.forEach((p, k) => {
      expect(p.isSplitBatch).toBe(true)
      expect(p.recordCount).toBe(2)
      expect(p.buffer.length).toBeLessThanOrEqual(4 * KiB)
      expect(p.accountedBytes).toBe(0) // until the accumulator hands memory over
      expect(p.createdMs).toBe(b.createdMs)
      expect(p.seq).toBe(b.seq)
      expect(p.attempts).toBe(0)
      expect(p.isFull).toBe(true) // closed for appends
      expect(p.tryAppend(T0, null, 'x', undefined, () => {}, null, T0)).toBe(-1)
      expect(p.state).toBe('IN_PROGRESS')
      expect(p.hasSequence()).toBe(false)
      expectPartHolds(p, records, groups[k]!)
    })
    expect(b.state).toBe('SPLIT')
    expect(b.isDone).toBe(true)
  })

  it('gives 2 KiB records a batch each at 4 KiB (two of them plus a header do not fit)', () => {
    const records = Array.from({ length: 10 }, (_, i) => rec(i, 2 * KiB))
    const { b } = batchOf(records)
    const parts = b.split(4 * KiB)
    expect(parts).toHaveLength(10)
    parts.forEach((p, k) => expectPartHolds(p, records, [k]))
  })

  it('completes each original record exactly once, through its new batch, with base + index offsets', () => {
    const records = Array.from({ length: 10 }, (_, i) => rec(i))
    const { b, outcomes } = batchOf(records)
    const parts = b.split(4 * KiB)
    expect(outcomes.every((o) => o.length === 0)).toBe(true)
    // The original completes nothing any more, whatever happens to it.
    expect(b.done(0n, -1, null)).toBe(false)
    expect(b.done(-1n, -1, new Error('late'))).toBe(false)
    b.abort(new Error('aborted'))
    expect(b.state).toBe('SPLIT')
    expect(outcomes.every((o) => o.length === 0)).toBe(true)

    const bases = [100n, 250n, 400n, 7n, 9000n]
    parts.forEach((p, k) => expect(p.done(bases[k]!, -1, null)).toBe(true))
    parts.forEach((p) => expect(() => p.done(1n, -1, null)).toThrow(/SUCCEEDED/)) // as any batch
    const groups = expectedGroups(records, 4 * KiB)
    groups.forEach((g, k) =>
      g.forEach((i, j) => {
        expect(outcomes[i]).toEqual([{ err: null, md: { topic: 't', partition: 0, offset: bases[k]! + BigInt(j), timestamp: records[i]!.ts } }])
      }),
    )
  })

  it('fails the records of a failed part only, each once', () => {
    const records = Array.from({ length: 4 }, (_, i) => rec(i))
    const { b, outcomes } = batchOf(records)
    const [p0, p1] = b.split(4 * KiB)
    const err = new Error('still too large')
    p1!.done(-1n, -1, err)
    p0!.done(5n, 42, null) // LogAppendTime
    expect(outcomes.map((o) => o.length)).toEqual([1, 1, 1, 1])
    expect(outcomes[0]![0]!.md).toEqual({ topic: 't', partition: 0, offset: 5n, timestamp: 42 })
    expect(outcomes[1]![0]!.md!.offset).toBe(6n)
    expect(outcomes[2]![0]).toEqual({ err, md: null })
    expect(outcomes[3]![0]).toEqual({ err, md: null })
  })

  it('puts a record bigger than splitBatchSize in a batch of its own, sized exactly', () => {
    const records = [rec(0, 100), rec(1, 100), rec(2, 6000), rec(3, 100), rec(4, 100)]
    const { b } = batchOf(records)
    const parts = b.split(4 * KiB)
    expect(parts.map((p) => p.recordCount)).toEqual([2, 1, 2])
    expect(expectedGroups(records, 4 * KiB)).toEqual([[0, 1], [2], [3, 4]])
    const big = records[2]!
    expect(parts[1]!.buffer.length).toBe(RECORD_BATCH_OVERHEAD + sizeOfRecord(0, 0, big.key, big.value, big.headers))
    expectPartHolds(parts[0]!, records, [0, 1])
    expectPartHolds(parts[1]!, records, [2])
    expectPartHolds(parts[2]!, records, [3, 4])
  })

  it('moves promise-style slots too', async () => {
    const records = Array.from({ length: 6 }, (_, i) => rec(i))
    const b = new ProducerBatch('t', 2, Buffer.alloc(64 * KiB), T0)
    const promises: Promise<RecordMetadata>[] = []
    const callbacks: Outcome[][] = []
    records.forEach((r, i) => {
      if (i % 2 === 0) {
        let resolve!: (m: RecordMetadata) => void
        let reject!: (e: Error) => void
        promises.push(new Promise<RecordMetadata>((res, rej) => ((resolve = res), (reject = rej))))
        b.tryAppend(r.ts, r.key, r.value, r.headers, resolve, reject, T0)
      } else {
        const seen: Outcome[] = []
        callbacks.push(seen)
        b.tryAppend(r.ts, r.key, r.value, r.headers, (err: Error | null, md: RecordMetadata | null) => seen.push({ err, md }), null, T0)
      }
    })
    const parts = b.split(4 * KiB)
    expect(parts).toHaveLength(3)
    parts[0]!.done(10n, -1, null)
    parts[1]!.done(20n, -1, null)
    const err = new Error('nope')
    parts[2]!.done(-1n, -1, err)
    const results = await Promise.allSettled(promises)
    expect(results[0]).toEqual({ status: 'fulfilled', value: { topic: 't', partition: 2, offset: 10n, timestamp: records[0]!.ts } })
    expect(results[1]).toEqual({ status: 'fulfilled', value: { topic: 't', partition: 2, offset: 20n, timestamp: records[2]!.ts } })
    expect(results[2]).toEqual({ status: 'rejected', reason: err })
    expect(callbacks.map((c) => c.length)).toEqual([1, 1, 1])
    expect(callbacks[0]![0]!.md!.offset).toBe(11n)
    expect(callbacks[1]![0]!.md!.offset).toBe(21n)
    expect(callbacks[2]![0]!.err).toBe(err)
  })

  it('hands consecutive slices of the sequence range to the parts, with the producer id/epoch and transactional flag', () => {
    const records = Array.from({ length: 5 }, (_, i) => rec(i))
    const { b } = batchOf(records)
    b.setProducerState(77n, 3, 1000, true)
    b.close()
    const parts = b.split(4 * KiB)
    expect(parts.map((p) => p.baseSequence)).toEqual([1000, 1002, 1004])
    for (const p of parts) {
      const [d] = decodeRecordBatches(p.close())
      expect([d!.producerId, d!.producerEpoch, d!.baseSequence, d!.isTransactional]).toEqual([77n, 3, p.baseSequence, true])
    }
  })

  it('wraps the sequence past Integer.MAX_VALUE as Kafka does', () => {
    const { b } = batchOf(Array.from({ length: 5 }, (_, i) => rec(i)))
    b.setProducerState(1n, 0, 0x7fffffff - 2, false)
    expect(b.split(4 * KiB).map((p) => p.baseSequence)).toEqual([0x7fffffff - 2, 0x7fffffff, 1])
  })

  it('refuses to split an empty, completed or deallocated batch, changing nothing', () => {
    expect(() => new ProducerBatch('t', 0, Buffer.alloc(100), 0).split(100)).toThrow(KafkaClientError)
    const { b: done, outcomes } = batchOf([rec(0, 10), rec(1, 10)])
    done.done(0n, -1, null)
    expect(() => done.split(100)).toThrow(/final state SUCCEEDED/)
    expect(outcomes.map((o) => o.length)).toEqual([1, 1])
    const { b: freed } = batchOf([rec(0, 10), rec(1, 10)])
    freed.markBufferDeallocated()
    expect(() => freed.split(100)).toThrow(/deallocated/)
    expect(freed.state).toBe('IN_PROGRESS')
  })
})

// ---------------------------------------------------------------------------
// RecordAccumulator.splitAndReenqueue
// ---------------------------------------------------------------------------

describe('RecordAccumulator.splitAndReenqueue', () => {
  const ten = () => Array.from({ length: 10 }, (_, i) => rec(i))

  it('re-enqueues the parts at the front, in order, sendable at once, and completes every record once', () => {
    const records = ten()
    const { c, acc, pool, batch, outcomes } = inFlight(records)
    expect(acc.hasUndrained()).toBe(false)
    const n = acc.splitAndReenqueue(batch, 4 * KiB)
    expect(n).toBe(5)
    const queued = acc.batchesFor('t', 0)
    expect(queued).toHaveLength(5)
    expect(acc.queuedBatchCount()).toBe(5)
    // "As if not even tried": no backoff, and linger has long passed since createdMs.
    expect([...acc.ready(c, clock.now).readyNodes]).toEqual([1])
    expect(queued.every((p) => p.attempts === 0 && p.isSplitBatch)).toBe(true)
    // The sender's usual clean-up of the original is harmless.
    const before = pool.availableMemory()
    acc.deallocate(batch)
    expect(pool.availableMemory()).toBe(before)
    expect(batch.done(-1n, -1, new Error('MESSAGE_TOO_LARGE'))).toBe(false)

    const drained = drainAll(acc, c)
    expect(drained).toEqual(queued) // same objects, same order
    const groups = expectedGroups(records, 4 * KiB)
    drained.forEach((p, k) => {
      expectPartHolds(p, records, groups[k]!)
      p.done(BigInt(1000 * (k + 1)), -1, null)
      acc.deallocate(p)
    })
    groups.forEach((g, k) => g.forEach((i, j) => expect(outcomes[i]!.map((o) => o.md?.offset)).toEqual([BigInt(1000 * (k + 1) + j)])))
    expect(outcomes.every((o) => o.length === 1 && o[0]!.err === null)).toBe(true)
    expect(acc.hasIncomplete()).toBe(false)
    expect(pool.availableMemory()).toBe(TOTAL_MEMORY)
  })

  it('puts the parts before a batch queued behind the original and before one appended after the split', () => {
    const records = ten()
    const { c, acc, batch } = inFlight(records)
    // Appended while the original was in flight: a new batch, queued.
    appendRec(acc, c, rec(20, 10), () => {})
    const [behind] = acc.batchesFor('t', 0)
    const n = acc.splitAndReenqueue(batch, 4 * KiB)
    let queue = acc.batchesFor('t', 0)
    expect(queue).toHaveLength(n + 1)
    expect(queue.slice(0, n).every((p) => p.isSplitBatch)).toBe(true)
    expect(queue[n]).toBe(behind)
    // A record appended after the split goes to the open last batch, never into a part.
    appendRec(acc, c, rec(21, 10), () => {})
    expect(behind!.recordCount).toBe(2)

    // Without a batch behind: an append after the split makes a new batch behind the parts.
    const fresh = inFlight(ten())
    const m = fresh.acc.splitAndReenqueue(fresh.batch, 4 * KiB)
    appendRec(fresh.acc, fresh.c, rec(30, 10), () => {})
    queue = fresh.acc.batchesFor('t', 0)
    expect(queue).toHaveLength(m + 1)
    expect(queue.slice(0, m).every((p) => p.isSplitBatch && p.recordCount === 2)).toBe(true)
    expect(queue[m]!.isSplitBatch).toBe(false)
    expect(drainAll(fresh.acc, fresh.c)).toEqual(queue)
  })

  it('makes a flush begun before the split wait for every part', async () => {
    const { c, acc, pool, batch } = inFlight(ten())
    acc.beginFlush()
    const flushed = acc.awaitFlushCompletion()
    const n = acc.splitAndReenqueue(batch, 4 * KiB)
    acc.deallocate(batch)
    expect(await settled(flushed)).toBe(false)
    // A batch appended after the flush began is not waited for.
    appendRec(acc, c, rec(40, 10), () => {})
    const parts = drainAll(acc, c)
    expect(parts).toHaveLength(n + 1)
    const late = parts.pop()!
    for (let k = 0; k < n; k++) {
      expect(await settled(flushed)).toBe(false)
      if (k % 2 === 0) parts[k]!.done(BigInt(k), -1, null)
      else parts[k]!.done(-1n, -1, new Error('failed')) // failures complete a flush too
      acc.deallocate(parts[k]!)
    }
    expect(await settled(flushed)).toBe(true)
    expect(acc.flushInProgress()).toBe(false)
    expect(late.isDone).toBe(false)
    late.done(0n, -1, null)
    acc.deallocate(late)
    expect(pool.availableMemory()).toBe(TOTAL_MEMORY)
  })

  it('hands the original reservation to the parts: the pool never counts more than before, and ends full', () => {
    const { c, acc, pool, batch } = inFlight(ten())
    const held = batch.accountedBytes
    expect(held).toBe(32 * KiB) // the poolable batch.size buffer
    expect(pool.availableMemory()).toBe(TOTAL_MEMORY - held)
    acc.splitAndReenqueue(batch, 4 * KiB)
    const parts = acc.batchesFor('t', 0)
    const partBytes = parts.reduce((s, p) => s + p.buffer.length, 0)
    const accounted = parts.reduce((s, p) => s + p.accountedBytes, 0)
    // 10 records of ~2 KiB fill 20 KiB of the 32 KiB: every part is fully accounted, the rest is back.
    expect(accounted).toBe(partBytes)
    expect(pool.availableMemory()).toBe(TOTAL_MEMORY - partBytes)
    for (const p of drainAll(acc, c)) {
      p.done(0n, -1, null)
      acc.deallocate(p)
    }
    expect(pool.availableMemory()).toBe(TOTAL_MEMORY)
    expect(pool.unallocatedMemory() + pool.freeBufferBytes()).toBe(TOTAL_MEMORY)
  })

  it('leaves at most one header per extra part unaccounted when the original was full', () => {
    // batch.size fits the 10 records exactly: no spare capacity in the original.
    const records = Array.from({ length: 10 }, (_, i) => ({ ...rec(i), ts: T0 }))
    const exact = RECORD_BATCH_OVERHEAD + records.reduce((s, r, i) => s + sizeOfRecord(i, 0, r.key, r.value, r.headers), 0)
    const { c, acc, pool, batch } = inFlight(records, { batchSize: exact })
    expect(batch.estimatedSizeInBytes).toBe(exact)
    const n = acc.splitAndReenqueue(batch, 4 * KiB)
    const parts = acc.batchesFor('t', 0)
    const partBytes = parts.reduce((s, p) => s + p.buffer.length, 0)
    const accounted = parts.reduce((s, p) => s + p.accountedBytes, 0)
    expect(accounted).toBe(exact)
    expect(pool.availableMemory()).toBe(TOTAL_MEMORY - exact)
    expect(partBytes - accounted).toBeGreaterThan(0)
    expect(partBytes - accounted).toBeLessThanOrEqual((n - 1) * RECORD_BATCH_OVERHEAD)
    for (const p of drainAll(acc, c)) {
      p.done(0n, -1, null)
      acc.deallocate(p)
    }
    expect(pool.availableMemory()).toBe(TOTAL_MEMORY)
  })

  it('halves by default, since an uncompressed multi-record batch always fits batch.size; and halves a rejected part again', () => {
    const records: Rec[] = Array.from({ length: 10 }, (_, i) => ({ ts: T0 + i, key: 'k', value: Buffer.alloc(1990, i), headers: undefined }))
    const { c, acc, pool, batch, outcomes } = inFlight(records)
    const halfOf = (b: ProducerBatch) => RECORD_BATCH_OVERHEAD + Math.ceil((b.estimatedSizeInBytes - RECORD_BATCH_OVERHEAD) / 2)
    const groups = expectedGroups(records, halfOf(batch))
    expect(groups).toEqual([[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]])
    expect(acc.splitAndReenqueue(batch)).toBe(2)
    acc.deallocate(batch)
    const all = drainAll(acc, c)
    expect(all).toHaveLength(2)
    const first = all[0]!
    expectPartHolds(first, records, groups[0]!)
    // The broker rejects the first part again: it is a split batch, so it is halved again.
    expect(expectedGroups(records.slice(0, 5), halfOf(first))).toEqual([[0, 1], [2, 3], [4]])
    expect(acc.splitAndReenqueue(first)).toBe(3)
    acc.deallocate(first)
    const again = drainAll(acc, c)
    expectPartHolds(again[0]!, records, [0, 1])
    expectPartHolds(again[1]!, records, [2, 3])
    expectPartHolds(again[2]!, records, [4])
    ;[...again, all[1]!].forEach((p, k) => {
      p.done(BigInt(100 * k), -1, null)
      acc.deallocate(p)
    })
    expect(outcomes.map((o) => o.length)).toEqual(Array(10).fill(1))
    expect(outcomes.map((o) => o[0]!.md!.offset)).toEqual([0n, 1n, 100n, 101n, 200n, 300n, 301n, 302n, 303n, 304n])
    expect(pool.availableMemory()).toBe(TOTAL_MEMORY)
    expect(acc.hasIncomplete()).toBe(false)
  })

  it('refuses done, deallocated and single-record batches without changing anything', () => {
    const one = inFlight([rec(0)])
    expect(() => one.acc.splitAndReenqueue(one.batch)).toThrow(/1 records/)
    expect(one.acc.hasIncomplete()).toBe(true)
    const done = inFlight(ten())
    done.batch.done(0n, -1, null)
    expect(() => done.acc.splitAndReenqueue(done.batch)).toThrow(/SUCCEEDED/)
    const freed = inFlight(ten())
    freed.acc.deallocate(freed.batch)
    expect(() => freed.acc.splitAndReenqueue(freed.batch)).toThrow(/deallocated/)
    expect(freed.acc.batchesFor('t', 0)).toHaveLength(0)
  })

  it('removes the original from its queue if it was still queued', () => {
    const c = cluster()
    const acc = accumulator()
    for (let i = 0; i < 4; i++) appendRec(acc, c, rec(i), () => {})
    const [original] = acc.batchesFor('t', 0)
    expect(acc.splitAndReenqueue(original!, 4 * KiB)).toBe(2)
    expect(acc.batchesFor('t', 0).includes(original!)).toBe(false)
    expect(acc.queuedBatchCount()).toBe(2)
  })

  it('aborts parts like any batch on a forced close, completing each record once and returning all memory', () => {
    const { acc, pool, batch, outcomes } = inFlight(ten())
    acc.splitAndReenqueue(batch, 4 * KiB)
    acc.close()
    acc.abortIncompleteBatches(new Error('forced'))
    expect(outcomes.every((o) => o.length === 1 && o[0]!.err?.message === 'forced')).toBe(true)
    expect(acc.hasIncomplete()).toBe(false)
    expect(acc.hasUndrained()).toBe(false)
    expect(pool.availableMemory()).toBe(TOTAL_MEMORY)
  })

  it('keeps the delivery deadline of the original records', () => {
    const { acc, batch } = inFlight(ten())
    acc.splitAndReenqueue(batch, 4 * KiB)
    expect(acc.expiredBatches(batch.createdMs + 119_999)).toHaveLength(0)
    expect(acc.nextExpiryTimeMs()).toBe(batch.createdMs + 120_000)
    expect(acc.expiredBatches(batch.createdMs + 120_000)).toHaveLength(5)
  })

  describe('with idempotence hooks', () => {
    function idempotent() {
      let seq = 0
      const calls: { original: ProducerBatch; parts: ProducerBatch[]; queuedAtCall: number }[] = []
      const hooks: ProducerStateHooks = {
        shouldStopDrainBatchesForPartition: () => false,
        onDrain: (b) => {
          if (!b.hasSequence()) {
            b.setProducerState(5n, 1, seq, false)
            seq += b.recordCount
          }
        },
        isTransactionCompleting: () => false,
        onSplit: (original, parts) => calls.push({ original, parts: [...parts], queuedAtCall: acc.queuedBatchCount() }),
      }
      const acc = accumulator({ producerState: hooks, batchSize: 32 * KiB })
      return { acc, calls }
    }

    it('calls onSplit before queueing the parts, which carry the original sequence range, in sequence order', () => {
      const { acc, calls } = idempotent()
      const c = cluster()
      const records = ten()
      records.forEach((r) => appendRec(acc, c, r, () => {}))
      clock.now += 10
      const [original] = acc.drain(c, acc.ready(c, clock.now).readyNodes, 1 << 20, clock.now).get(1)!
      expect(original!.baseSequence).toBe(0)
      // Behind it: a batch that has not been drained yet (no sequence).
      appendRec(acc, c, rec(50, 10), () => {})
      const n = acc.splitAndReenqueue(original!, 4 * KiB)
      expect(calls).toHaveLength(1)
      expect(calls[0]!.original).toBe(original)
      expect(calls[0]!.queuedAtCall).toBe(1) // the parts were not queued yet
      const queue = acc.batchesFor('t', 0)
      expect(calls[0]!.parts).toEqual(queue.slice(0, n))
      expect(queue.map((b) => b.baseSequence)).toEqual([0, 2, 4, 6, 8, -1])
      // Drain keeps the sequences the parts already have.
      const drained = drainAll(acc, c)
      expect(drained.map((b) => b.baseSequence)).toEqual([0, 2, 4, 6, 8, 10])
      expect(decodeRecordBatches(drained[2]!.records())[0]!.baseSequence).toBe(4)
    })

    it('queues the parts in sequence order behind a retried batch with a lower sequence', () => {
      const { acc } = idempotent()
      const c = cluster()
      const first = [rec(0, 10)]
      // Two in-flight batches: sequence 0 (1 record) and sequence 1 (10 records).
      first.forEach((r) => appendRec(acc, c, r, () => {}))
      clock.now += 10
      const [b0] = acc.drain(c, acc.ready(c, clock.now).readyNodes, 1 << 20, clock.now).get(1)!
      ten().forEach((r) => appendRec(acc, c, r, () => {}))
      clock.now += 10
      const [b1] = acc.drain(c, acc.ready(c, clock.now).readyNodes, 1 << 20, clock.now).get(1)!
      expect([b0!.baseSequence, b1!.baseSequence]).toEqual([0, 1])
      acc.reenqueue(b0!, clock.now) // retried
      acc.splitAndReenqueue(b1!, 4 * KiB)
      expect(acc.batchesFor('t', 0).map((b) => b.baseSequence)).toEqual([0, 1, 3, 5, 7, 9])
    })
  })
})
