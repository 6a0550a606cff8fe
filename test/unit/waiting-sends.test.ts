import { EventEmitter } from 'node:events'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Cluster, type PartitionInfo } from '../../src/clients/cluster.js'
import { KafkaInvalidRecordError, KafkaProducerClosedError, KafkaTimeoutError, KafkaTransactionAbortedError } from '../../src/errors.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { RECORD_BATCH_OVERHEAD, sizeOfRecord } from '../../src/protocol/record-batch.js'
import { BufferPool } from '../../src/producer/buffer-pool.js'
import { ProducerMetrics } from '../../src/producer/metrics.js'
import { APPEND_NEEDS_MEMORY, RecordAccumulator, UNKNOWN_PARTITION } from '../../src/producer/record-accumulator.js'
import type { Bytes, HeaderPairs, ProducerRecord } from '../../src/producer/record.js'
import { PARTITION_NOT_CHOSEN, WaitingSends, type WaitingSendsContext } from '../../src/producer/waiting-sends.js'

const MAX_BLOCK_MS = 1000
const V100 = Buffer.alloc(100, 7)
const ONE_RECORD_BATCH = RECORD_BATCH_OVERHEAD + sizeOfRecord(0, 0, null, V100, undefined)

/** The label of a value `enqueue` padded. */
function label(value: unknown): string {
  return String(value).replace(/\.+$/, '')
}

function cluster(topics: Record<string, number>): Cluster {
  const partitions: PartitionInfo[] = []
  for (const [topic, n] of Object.entries(topics)) {
    for (let p = 0; p < n; p++) partitions.push({ topic, partition: p, leader: 1, leaderEpoch: 0, replicas: [], isr: [] })
  }
  return new Cluster([{ id: 1, host: 'b1', port: 9092, rack: null }], partitions)
}

/** Metadata as the waiting sends see it; `publish` is a successful update. */
class FakeMetadata {
  cluster = cluster({})
  version = 0
  topicErrors = new Map<string, number>()
  readonly added: string[] = []
  updateRequests = 0
  private waiters: { version: number; resolve: () => void }[] = []
  add(topic: string): boolean {
    this.added.push(topic)
    return true
  }
  requestUpdate(): void {
    this.updateRequests++
  }
  awaitUpdate(version: number): Promise<void> {
    if (this.version > version) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push({ version, resolve }))
  }
  publish(c: Cluster, errors: Record<string, number> = {}): void {
    this.cluster = c
    this.topicErrors = new Map(Object.entries(errors))
    this.version++
    const ws = this.waiters
    this.waiters = []
    for (const w of ws) w.resolve()
  }
}

interface Outcome {
  readonly value: string
  readonly error: Error | null
}

/** A harness: real accumulator and pool, fake metadata and sender, fake timers (Date.now is the clock). */
function setup(options: { totalMemory?: number; batchSize?: number; ctx?: Partial<WaitingSendsContext> } = {}) {
  const batchSize = options.batchSize ?? 16384
  const pool = new BufferPool(options.totalMemory ?? 1 << 20, batchSize)
  const accumulator = new RecordAccumulator({ batchSize, lingerMs: 0, deliveryTimeoutMs: 120_000, retryBackoffMs: 100, retryBackoffMaxMs: 1000, bufferPool: pool })
  const metadata = new FakeMetadata()
  /** Values in the order they reached the accumulator. */
  const appended: string[] = []
  const outcomes: Outcome[] = []
  let wakeups = 0
  let closed = false
  const stats = new ProducerMetrics(() => Date.now())
  const fatal: { fatalError: Error | null } = { fatalError: null }
  const ctx: WaitingSendsContext = {
    metadata,
    accumulator: {
      append: (topic, partition, ts, key, value, ...rest) => {
        const r = accumulator.append(topic, partition, ts, key, value, ...rest)
        if (r !== APPEND_NEEDS_MEMORY) appended.push(label(value))
        return r
      },
      appendAsync: async (topic, partition, ts, key, value, ...rest) => {
        const r = await accumulator.appendAsync(topic, partition, ts, key, value, ...rest)
        appended.push(label(value))
        return r
      },
    },
    sender: { wakeup: () => wakeups++ },
    stats,
    transactionManager: fatal,
    maxBlockMs: MAX_BLOCK_MS,
    bufferMemory: options.totalMemory ?? 1 << 20,
    time: () => Date.now(),
    sendClock: () => Date.now(),
    partitionFor: (_topic, explicit) => explicit ?? 0,
    isClosed: () => closed,
    ...options.ctx,
  }
  const waiting = new WaitingSends(ctx)
  /**
   * Queues a send as the producer would, callback style. `value` is a label,
   * padded to 100 bytes so that each record takes one ONE_RECORD_BATCH batch.
   */
  function enqueue(record: Omit<ProducerRecord, 'value'> & { value: string }, partition = PARTITION_NOT_CHOSEN, headers: HeaderPairs = null): void {
    const label = record.value
    const padded = { ...record, value: label.padEnd(100, '.') }
    waiting.enqueue(padded, partition, (record.key ?? null) as Bytes | null, headers, 0, Date.now(), (err: Error | null) => {
      outcomes.push({ value: label, error: err })
    }, null)
  }
  /** Completes every queued batch, returning its memory to the pool. */
  function deliverAll(): void {
    const c = metadata.cluster
    for (const batches of accumulator.drain(c, new Set([1]), 1 << 30, Date.now()).values()) {
      for (const b of batches) {
        b.done(0n, -1, null)
        accumulator.deallocate(b)
      }
    }
  }
  return {
    waiting,
    metadata,
    accumulator,
    pool,
    appended,
    outcomes,
    stats,
    fatal,
    enqueue,
    deliverAll,
    wakeups: () => wakeups,
    close: () => (closed = true),
  }
}

beforeEach(() => {
  vi.useFakeTimers({ now: 10_000 })
})

afterEach(() => {
  vi.useRealTimers()
})

describe('WaitingSends order', () => {
  it('appends in send() order once the topic is known, draining without an await per send', async () => {
    const h = setup()
    h.enqueue({ topic: 't', value: 'a', partition: 1 })
    h.enqueue({ topic: 't', value: 'b' })
    h.enqueue({ topic: 'u', value: 'c' })
    h.enqueue({ topic: 't', value: 'd', partition: 1 })
    await vi.advanceTimersByTimeAsync(50)
    expect(h.appended).toEqual([])
    expect(h.waiting.size).toBe(4)
    expect(h.metadata.updateRequests).toBeGreaterThan(0)
    expect(h.wakeups()).toBeGreaterThan(0)
    h.metadata.publish(cluster({ t: 2, u: 1 }))
    await vi.advanceTimersByTimeAsync(0)
    expect(h.appended).toEqual(['a', 'b', 'c', 'd'])
    expect(h.waiting.size).toBe(0)
    expect(h.accumulator.batchesFor('t', 1)[0]!.recordCount).toBe(2)
    expect(h.outcomes).toEqual([]) // appended, not yet delivered
    h.deliverAll()
    expect(h.outcomes.map((o) => [o.value, o.error])).toEqual([
      ['a', null],
      ['d', null],
      ['b', null],
      ['c', null],
    ])
  })

  it('keeps sends queued behind one that waits for memory, even once memory frees up for them', async () => {
    // One batch of one record: every further record needs the memory the first holds.
    const h = setup({ totalMemory: ONE_RECORD_BATCH, batchSize: ONE_RECORD_BATCH })
    h.metadata.publish(cluster({ t: 2 }))
    expect(h.accumulator.append('t', 0, 0, null, V100, null, () => {}, null, Date.now(), h.metadata.cluster)).not.toBe(APPEND_NEEDS_MEMORY)
    h.enqueue({ topic: 't', value: 'a' }, 0)
    h.enqueue({ topic: 't', value: 'b', partition: 1 })
    h.enqueue({ topic: 't', value: 'c' }, 0)
    await vi.advanceTimersByTimeAsync(10)
    expect(h.appended).toEqual([])
    for (let i = 0; i < 3; i++) {
      h.deliverAll()
      await vi.advanceTimersByTimeAsync(1)
    }
    expect(h.appended).toEqual(['a', 'b', 'c'])
    // Each waited in the pool, measured on the injected clock: 'a' 10 ms until the first delivery, 'b' and 'c' 1 ms each.
    expect(h.stats.bufferPoolWait.totalCount).toBe(3)
    expect(h.stats.bufferPoolWait.totalSum).toBe(12)
    expect(h.stats.bufferExhausted.totalCount).toBe(0)
    h.deliverAll()
    expect(h.outcomes.map((o) => o.value)).toEqual(['a', 'b', 'c'])
    expect(h.outcomes.every((o) => o.error === null)).toBe(true)
  })

  it('restarts its worker for a send queued after the loop ended but before the worker exited', async () => {
    const h = setup()
    h.metadata.publish(cluster({ t: 1 }))
    const appended: string[] = []
    let late = false
    const waiting: WaitingSends = new WaitingSends({
      ...ctxOf(h),
      accumulator: {
        append: (_t, _p, _ts, _k, value) => {
          appended.push(String(value))
          if (!late) {
            late = true
            // Runs after this (last) append ends the worker's loop, before its `finally`.
            queueMicrotask(() => waiting.enqueue({ topic: 't', value: 'late' }, 0, null, null, 0, Date.now(), () => {}, null))
          }
          return { partition: 0, batchIsFull: false, newBatchCreated: false, abortForNewBatch: false, appendedBytes: 1 }
        },
        appendAsync: () => Promise.reject(new Error('not used')),
      },
    })
    waiting.enqueue({ topic: 't', value: 'first' }, 0, null, null, 0, Date.now(), () => {}, null)
    await waiting.whenIdle()
    await vi.advanceTimersByTimeAsync(0)
    await waiting.whenIdle()
    expect(appended).toEqual(['first', 'late'])
    expect(waiting.size).toBe(0)
  })
})

describe('WaitingSends deadlines', () => {
  it('fails a send at its own max.block.ms deadline when the topic never shows up', async () => {
    const h = setup()
    h.enqueue({ topic: 'missing', value: 'a' })
    await vi.advanceTimersByTimeAsync(400)
    h.enqueue({ topic: 'missing', value: 'b' })
    await vi.advanceTimersByTimeAsync(MAX_BLOCK_MS - 400 - 1)
    expect(h.outcomes).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(h.outcomes.map((o) => o.value)).toEqual(['a'])
    expect(h.outcomes[0]!.error).toBeInstanceOf(KafkaTimeoutError)
    expect(h.outcomes[0]!.error!.message).toMatch(/Topic 'missing' not present in metadata after 1000 ms \(max\.block\.ms\)/)
    // b was sent 400 ms later: its deadline is its own.
    await vi.advanceTimersByTimeAsync(399)
    expect(h.outcomes).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(h.outcomes.map((o) => o.value)).toEqual(['a', 'b'])
    expect(h.stats.errors.totalSum).toBe(2)
    expect(h.waiting.size).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('fails a send at its deadline when memory does not free up, naming max.block.ms', async () => {
    const h = setup({ totalMemory: ONE_RECORD_BATCH, batchSize: ONE_RECORD_BATCH })
    h.metadata.publish(cluster({ t: 1 }))
    h.accumulator.append('t', 0, 0, null, V100, null, () => {}, null, Date.now(), h.metadata.cluster)
    h.enqueue({ topic: 't', value: 'a' }, 0)
    await vi.advanceTimersByTimeAsync(MAX_BLOCK_MS - 1)
    expect(h.outcomes).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(h.outcomes).toHaveLength(1)
    expect(h.outcomes[0]!.error).toBeInstanceOf(KafkaTimeoutError)
    expect(h.outcomes[0]!.error!.message).toMatch(/max blocking time 1000 ms \(max\.block\.ms\)/)
    expect(h.pool.queued()).toBe(0)
    // Java's BufferPool sensors: the whole max.block.ms waited, and one send exhausted; the error counted too.
    expect(h.stats.bufferPoolWait.totalSum).toBe(MAX_BLOCK_MS)
    expect(h.stats.bufferExhausted.totalCount).toBe(1)
    expect(h.stats.errors.totalSum).toBe(1)
    expect(h.stats.errors.rate(Date.now())).toBeGreaterThan(0)
  })

  it('ends a max.block.ms timeout with the connection failures and makes them its cause, asking only at the deadline', async () => {
    let asked = 0
    const report = { summary: 'h:9092 ECONNREFUSED (12 attempts)', error: new AggregateError([], 'h:9092 ECONNREFUSED (12 attempts)'), anyReady: false }
    const h = setup({ ctx: { connectionFailures: () => (asked++, report) } })
    h.enqueue({ topic: 'missing', value: 'a' })
    await vi.advanceTimersByTimeAsync(MAX_BLOCK_MS - 1)
    expect(asked).toBe(0)
    await vi.advanceTimersByTimeAsync(1)
    expect(asked).toBe(1)
    expect(h.outcomes[0]!.error!.message).toBe(
      "Topic 'missing' not present in metadata after 1000 ms (max.block.ms); no broker reachable: h:9092 ECONNREFUSED (12 attempts)",
    )
    expect(h.outcomes[0]!.error!.cause).toBe(report.error)
  })

  it('explains a buffer.memory timeout by the connection failures too', async () => {
    const report = { summary: 'h:9092 ENOTFOUND (4 attempts)', error: new AggregateError([], 'h:9092 ENOTFOUND (4 attempts)'), anyReady: false }
    const h = setup({ totalMemory: ONE_RECORD_BATCH, batchSize: ONE_RECORD_BATCH, ctx: { connectionFailures: () => report } })
    h.metadata.publish(cluster({ t: 1 }))
    h.accumulator.append('t', 0, 0, null, V100, null, () => {}, null, Date.now(), h.metadata.cluster)
    h.enqueue({ topic: 't', value: 'a' }, 0)
    await vi.advanceTimersByTimeAsync(MAX_BLOCK_MS)
    expect(h.outcomes[0]!.error).toBeInstanceOf(KafkaTimeoutError)
    expect(h.outcomes[0]!.error!.message).toMatch(/not yet delivered; no broker reachable: h:9092 ENOTFOUND \(4 attempts\)$/)
    expect(h.outcomes[0]!.error!.cause).toBe(report.error)
  })

  it('fails a send at once for a topic error that cannot go away', async () => {
    const h = setup()
    h.enqueue({ topic: 'bad', value: 'a' })
    h.enqueue({ topic: 'ok', value: 'b' })
    await vi.advanceTimersByTimeAsync(1)
    h.metadata.publish(cluster({ ok: 1 }), { bad: ErrorCode.TOPIC_AUTHORIZATION_FAILED })
    await vi.advanceTimersByTimeAsync(1)
    expect(h.outcomes.map((o) => [o.value, o.error?.constructor])).toEqual([['a', KafkaInvalidRecordError]])
    expect(h.appended).toEqual(['b'])
  })

  it('fails a send whose partition, chosen at send(), the re-created topic no longer has', async () => {
    const h = setup()
    h.metadata.publish(cluster({ t: 1 }))
    h.enqueue({ topic: 't', value: 'a' }, 3)
    await vi.advanceTimersByTimeAsync(0)
    expect(h.outcomes[0]!.error).toBeInstanceOf(KafkaInvalidRecordError)
    expect(h.outcomes[0]!.error!.message).toMatch(/Invalid partition 3 for topic 't': it now has 1 partitions/)
  })

  it("fails the sends still waiting with the idempotent producer's fatal error", async () => {
    const h = setup()
    const fatal = new Error('fenced')
    h.fatal.fatalError = fatal
    h.metadata.publish(cluster({ t: 1 }))
    h.enqueue({ topic: 't', value: 'a' })
    await vi.advanceTimersByTimeAsync(0)
    expect(h.outcomes).toEqual([{ value: 'a', error: fatal }])
  })
})

describe('WaitingSends in a transaction', () => {
  /** The transaction manager as the waiting sends see it: `current` is the open transaction's generation. */
  function fakeTransaction() {
    const t = {
      current: 1,
      added: [] as string[],
      /** recordNotAppended calls: the generation, the error's name, and how many outcomes had been delivered then. */
      notAppended: [] as [number, string, number][],
      outcomesSeen: (): number => 0,
      get transactionGeneration(): number {
        return t.current
      },
      ensureAppendAllowed(generation: number): void {
        if (generation !== t.current) throw new KafkaTransactionAbortedError()
      },
      maybeAddPartition(topic: string, partition: number): void {
        t.added.push(`${topic}-${partition}`)
      },
      recordNotAppended(generation: number, error: Error): void {
        t.notAppended.push([generation, error.name, t.outcomesSeen()])
      },
    }
    return t
  }

  /** A send made now, in the transaction open now (`txn.current`). */
  function enqueueIn(h: ReturnType<typeof setup>, value: string, topic = 't'): void {
    h.waiting.enqueue({ topic, value: value.padEnd(100, '.') }, 0, null, null, 0, Date.now(), (err: Error | null) => h.outcomes.push({ value, error: err }), null, null)
  }

  it('a send that waited for metadata joins its own transaction, and fails if that one ended meanwhile', async () => {
    const txn = fakeTransaction()
    const h = setup({ ctx: { transaction: txn } })
    enqueueIn(h, 'a')
    enqueueIn(h, 'b', 'other')
    await vi.advanceTimersByTimeAsync(1)
    // a's topic arrives while its transaction is open; b's only after it was aborted and another begun.
    h.metadata.publish(cluster({ t: 1 }))
    await vi.advanceTimersByTimeAsync(1)
    txn.current = 2
    h.metadata.publish(cluster({ t: 1, other: 1 }))
    await vi.advanceTimersByTimeAsync(1)
    expect(h.appended).toEqual(['a'])
    expect(txn.added).toEqual(['t-0'])
    expect(h.outcomes.map((o) => [o.value, o.error?.constructor])).toEqual([['b', KafkaTransactionAbortedError]])
  })

  it('a send that fails here (timeout, cancelled) tells the transaction before its callback runs, so the transaction cannot commit without it', async () => {
    const txn = fakeTransaction()
    const h = setup({ ctx: { transaction: txn } })
    txn.outcomesSeen = () => h.outcomes.length
    const controller = new AbortController()
    enqueueIn(h, 'times-out', 'missing')
    h.waiting.enqueue({ topic: 'missing', value: 'c'.padEnd(100, '.') }, 0, null, null, 0, Date.now(), (err: Error | null) => h.outcomes.push({ value: 'cancelled', error: err }), null, controller.signal)
    await vi.advanceTimersByTimeAsync(1)
    controller.abort() // 'cancelled' is still QUEUED behind 'times-out'
    expect(txn.notAppended).toEqual([[1, 'AbortError', 0]])
    await vi.advanceTimersByTimeAsync(MAX_BLOCK_MS)
    expect(h.outcomes.map((o) => [o.value, o.error?.name])).toEqual([
      ['cancelled', 'AbortError'],
      ['times-out', 'KafkaTimeoutError'],
    ])
    expect(txn.notAppended).toEqual([
      [1, 'AbortError', 0],
      [1, 'KafkaTimeoutError', 1],
    ])
  })

  it('a send that waited for buffer.memory is checked again once memory is free: never appended to a later transaction', async () => {
    const txn = fakeTransaction()
    const h = setup({ totalMemory: ONE_RECORD_BATCH, batchSize: ONE_RECORD_BATCH, ctx: { transaction: txn } })
    h.metadata.publish(cluster({ t: 1 }))
    h.accumulator.append('t', 0, 0, null, V100, null, () => {}, null, Date.now(), h.metadata.cluster)
    enqueueIn(h, 'a')
    await vi.advanceTimersByTimeAsync(1)
    expect(h.outcomes).toEqual([]) // waiting for memory
    txn.current = 2 // its transaction was aborted, and another begun
    h.deliverAll()
    await vi.advanceTimersByTimeAsync(1)
    expect(h.appended).toEqual([])
    expect(txn.added).toEqual([])
    expect(h.outcomes.map((o) => [o.value, o.error?.constructor])).toEqual([['a', KafkaTransactionAbortedError]])
    expect(h.pool.availableMemory()).toBe(ONE_RECORD_BATCH) // the buffer it got went back
  })
})

describe('WaitingSends flush targets', () => {
  it('has nothing to wait for when no send waits', () => {
    expect(setup().waiting.whenEarlierSendsSettle()).toBeNull()
  })

  it('waits for the sends queued before the call, not for those queued after', async () => {
    const h = setup()
    h.enqueue({ topic: 't', value: 'a' })
    h.enqueue({ topic: 'missing', value: 'b' })
    const flushed = h.waiting.whenEarlierSendsSettle()!
    h.enqueue({ topic: 'missing', value: 'c' })
    const later = h.waiting.whenEarlierSendsSettle()!
    let done = 0
    void flushed.then(() => (done |= 1))
    void later.then(() => (done |= 2))
    h.metadata.publish(cluster({ t: 1 }))
    await vi.advanceTimersByTimeAsync(1)
    expect(done).toBe(0) // b still waits for its topic
    await vi.advanceTimersByTimeAsync(MAX_BLOCK_MS)
    // b failed at its deadline: the first flush's sends have all settled; c (sent at the same time) too.
    expect(h.outcomes.map((o) => o.value)).toEqual(['b', 'c'])
    expect(done).toBe(3)
  })

  it('resolves a flush while later sends keep the queue busy', async () => {
    const h = setup()
    h.enqueue({ topic: 't', value: 'a' })
    const flushed = h.waiting.whenEarlierSendsSettle()!
    h.enqueue({ topic: 'missing', value: 'b' })
    let done = false
    void flushed.then(() => (done = true))
    h.metadata.publish(cluster({ t: 1 }))
    await vi.advanceTimersByTimeAsync(1)
    expect(done).toBe(true)
    expect(h.waiting.size).toBe(1)
  })
})

describe('WaitingSends close', () => {
  it('fails sends waiting for metadata once closed, and becomes idle', async () => {
    const h = setup()
    h.enqueue({ topic: 'missing', value: 'a' })
    h.enqueue({ topic: 'missing', value: 'b' })
    await vi.advanceTimersByTimeAsync(10)
    h.close()
    const idle = h.waiting.whenIdle()
    h.metadata.publish(cluster({})) // the producer wakes metadata waiters as it closes
    await vi.advanceTimersByTimeAsync(0)
    await idle
    expect(h.outcomes.map((o) => o.value)).toEqual(['a', 'b'])
    for (const o of h.outcomes) expect(o.error).toBeInstanceOf(KafkaProducerClosedError)
    expect(h.waiting.size).toBe(0)
  })

  it('fails sends waiting for memory when the accumulator closes', async () => {
    const h = setup({ totalMemory: ONE_RECORD_BATCH, batchSize: ONE_RECORD_BATCH })
    h.metadata.publish(cluster({ t: 1 }))
    h.accumulator.append('t', 0, 0, null, V100, null, () => {}, null, Date.now(), h.metadata.cluster)
    h.enqueue({ topic: 't', value: 'a' }, 0)
    h.enqueue({ topic: 't', value: 'b' }, 0)
    await vi.advanceTimersByTimeAsync(10)
    h.accumulator.close()
    await h.waiting.whenIdle()
    await vi.advanceTimersByTimeAsync(0)
    expect(h.outcomes.map((o) => [o.value, o.error?.constructor])).toEqual([
      ['a', KafkaProducerClosedError],
      ['b', KafkaProducerClosedError],
    ])
  })
})

describe('WaitingSends copies', () => {
  it("keeps the record's fields and a copy of its header pairs, not the objects the application reuses", async () => {
    const h = setup()
    const seen: { value: unknown; headers: unknown }[] = []
    const waiting = new WaitingSends({
      ...ctxOf(h),
      partitionFor: () => UNKNOWN_PARTITION,
      accumulator: {
        append: (_t, _p, _ts, _k, value, headers) => {
          seen.push({ value, headers: headers === null || headers === undefined ? headers : headers.map((p) => [...p]) })
          return { partition: 0, batchIsFull: false, newBatchCreated: false, abortForNewBatch: false, appendedBytes: 1 }
        },
        appendAsync: () => Promise.reject(new Error('not used')),
      },
    })
    const pair: [string, Bytes] = ['h', 'one']
    const headers = [pair]
    const record: ProducerRecord = { topic: 't', value: 'v1', headers }
    waiting.enqueue(record, PARTITION_NOT_CHOSEN, null, headers, 0, Date.now(), () => {}, null)
    record.value = 'v2'
    pair[1] = 'two'
    waiting.enqueue(record, PARTITION_NOT_CHOSEN, null, headers, 0, Date.now(), () => {}, null)
    h.metadata.publish(cluster({ t: 1 }))
    await vi.advanceTimersByTimeAsync(0)
    await waiting.whenIdle()
    expect(seen).toEqual([
      { value: 'v1', headers: [['h', 'one']] },
      { value: 'v2', headers: [['h', 'two']] },
    ])
  })
})

/** The context of a harness, to build a second WaitingSends with some parts replaced. */
function ctxOf(h: ReturnType<typeof setup>): WaitingSendsContext {
  return {
    metadata: h.metadata,
    accumulator: h.accumulator,
    sender: { wakeup: () => {} },
    stats: h.stats,
    transactionManager: null,
    maxBlockMs: MAX_BLOCK_MS,
    bufferMemory: 1 << 20,
    time: () => Date.now(),
    sendClock: () => Date.now(),
    partitionFor: (_topic, explicit) => explicit ?? 0,
    isClosed: () => false,
  }
}

describe('WaitingSends cancellation', () => {
  /** Queues `value` (padded as `setup`'s enqueue does) with `signal`; returns nothing, outcomes land in `h.outcomes`. */
  function enqueueWith(h: ReturnType<typeof setup>, value: string, signal: AbortSignal, partition = PARTITION_NOT_CHOSEN): void {
    h.waiting.enqueue({ topic: 't', value: value.padEnd(100, '.'), partition: 0 }, partition, null, null, 0, Date.now(), (err: Error | null) => {
      h.outcomes.push({ value, error: err })
    }, null, signal)
  }
  const isAbort = (e: Error | null): boolean => e instanceof DOMException && e.name === 'AbortError'

  it('a queued send aborted behind a waiting one settles at once, is skipped, and keeps flush targets and order', async () => {
    const h = setup()
    const signals = ['a', 'b', 'c', 'd'].map(() => new AbortController())
    ;['a', 'b', 'c', 'd'].forEach((v, i) => enqueueWith(h, v, signals[i]!.signal))
    const flushed = h.waiting.whenEarlierSendsSettle()!
    let flushDone = false
    void flushed.then(() => (flushDone = true))
    await vi.advanceTimersByTimeAsync(10)
    const reason = new Error('why')
    signals[1]!.abort(reason)
    signals[2]!.abort()
    await vi.advanceTimersByTimeAsync(0)
    expect(h.outcomes.map((o) => o.value)).toEqual(['b', 'c'])
    expect(h.outcomes.every((o) => isAbort(o.error))).toBe(true)
    expect((h.outcomes[0]!.error as Error).cause).toBe(reason)
    expect(h.stats.errors.totalSum).toBe(2)
    // Still in the queue (skipped later), so a send made now still queues behind 'a'.
    expect(h.waiting.size).toBe(4)
    h.metadata.publish(cluster({ t: 1 }))
    await vi.advanceTimersByTimeAsync(0)
    expect(h.appended).toEqual(['a', 'd'])
    expect(h.waiting.size).toBe(0)
    expect(flushDone).toBe(true)
    // Aborting after the append changes nothing: the batch decides.
    signals[0]!.abort()
    signals[3]!.abort()
    h.deliverAll()
    expect(h.outcomes.map((o) => [o.value, o.error === null])).toEqual([
      ['b', false],
      ['c', false],
      ['a', true],
      ['d', true],
    ])
  })

  it('the send the worker waits on for metadata fails at the abort, and the next one takes its place', async () => {
    const h = setup()
    const first = new AbortController()
    enqueueWith(h, 'a', first.signal)
    enqueueWith(h, 'b', new AbortController().signal)
    await vi.advanceTimersByTimeAsync(100)
    first.abort()
    await vi.advanceTimersByTimeAsync(0)
    expect(h.outcomes.map((o) => o.value)).toEqual(['a'])
    expect(isAbort(h.outcomes[0]!.error)).toBe(true)
    expect(h.waiting.size).toBe(1)
    h.metadata.publish(cluster({ t: 1 }))
    await vi.advanceTimersByTimeAsync(0)
    expect(h.appended).toEqual(['b'])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('the send waiting in the pool for memory leaves the pool at the abort; its reservation goes to the next', async () => {
    const h = setup({ totalMemory: ONE_RECORD_BATCH, batchSize: ONE_RECORD_BATCH })
    h.metadata.publish(cluster({ t: 1 }))
    h.accumulator.append('t', 0, 0, null, V100, null, () => {}, null, Date.now(), h.metadata.cluster)
    const first = new AbortController()
    enqueueWith(h, 'a', first.signal, 0)
    enqueueWith(h, 'b', new AbortController().signal, 0)
    await vi.advanceTimersByTimeAsync(10)
    expect(h.pool.queued()).toBe(1)
    first.abort()
    await vi.advanceTimersByTimeAsync(0)
    expect(h.outcomes.map((o) => o.value)).toEqual(['a'])
    expect(isAbort(h.outcomes[0]!.error)).toBe(true)
    expect(h.pool.queued()).toBe(1) // b waits now
    h.deliverAll()
    await vi.advanceTimersByTimeAsync(0)
    expect(h.appended).toEqual(['b'])
    h.deliverAll()
    expect(h.outcomes.map((o) => [o.value, o.error === null])).toEqual([
      ['a', false],
      ['b', true],
    ])
    expect(h.pool.availableMemory()).toBe(ONE_RECORD_BATCH)
  })

  it('an already-aborted signal fails the send without queuing it; listeners do not outlive their send', async () => {
    const h = setup()
    enqueueWith(h, 'x', AbortSignal.abort())
    expect(h.waiting.size).toBe(0)
    const shared = new AbortController()
    for (const v of ['a', 'b', 'c']) enqueueWith(h, v, shared.signal)
    for (let i = 0; i < 20; i++) enqueueWith(h, `more${i}`, shared.signal)
    await vi.advanceTimersByTimeAsync(0) // the worker starts a microtask later, then waits for metadata
    // One for the waiting sends, however many share the signal, and the metadata wait of the one the worker is on.
    expect(EventEmitter.getEventListeners(shared.signal, 'abort')).toHaveLength(2)
    h.metadata.publish(cluster({ t: 1 }))
    await vi.advanceTimersByTimeAsync(0)
    expect(h.appended).toEqual(['a', 'b', 'c', ...Array.from({ length: 20 }, (_, i) => `more${i}`)])
    expect(EventEmitter.getEventListeners(shared.signal, 'abort')).toHaveLength(0)
    expect(h.outcomes.map((o) => o.value)).toEqual(['x'])
    expect(isAbort(h.outcomes[0]!.error)).toBe(true)
  })
})
