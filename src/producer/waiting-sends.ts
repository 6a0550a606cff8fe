import type { Cluster } from '../clients/cluster.js'
import { type ConnectionFailureReport, timeoutSuffix } from '../clients/connection-failures.js'
import type { ProducerMetadata } from '../clients/metadata.js'
import { createAbortError, KafkaInvalidRecordError, KafkaProducerClosedError, KafkaTimeoutError } from '../errors.js'
import { ErrorCode, errorName, isRetriable } from '../protocol/error-codes.js'
import { Deque } from '../util/deque.js'
import { failNotAppended, type RecordCompletion, type RecordReject, type SendTransaction } from './producer-batch.js'
import type { WaitingSendsInspection, WaitingTopicInspection } from './inspection.js'
import { APPEND_NEEDS_MEMORY, type AppendResult, type RecordAccumulator } from './record-accumulator.js'
import type { Bytes, HeaderPairs, ProducerRecord } from './record.js'
import type { ProducerMetrics } from './metrics.js'

/** `WaitingSend.partition` before a partition was chosen for it. */
export const PARTITION_NOT_CHOSEN = -2

/** `WaitingSend.state`: in the queue, not yet taken by the worker. */
const QUEUED = 0
/** The worker took it: only the worker settles it now (see `WaitingSends.abort`). */
const ACTIVE = 1
/** Aborted while QUEUED: already settled with an AbortError; the worker skips it. */
const CANCELLED = 2

/**
 * A send that waits in the producer (for metadata, or for buffer.memory).
 * It holds the record's fields as they were at `send()`, never the record
 * object, which the application may reuse for its next send.
 */
class WaitingSend {
  constructor(
    readonly topic: string,
    readonly explicitPartition: number | null,
    /** The partition chosen at send() (metadata was known), or PARTITION_NOT_CHOSEN. */
    readonly partition: number,
    readonly key: Bytes | null,
    readonly value: Bytes | null,
    readonly headers: HeaderPairs,
    readonly timestamp: number,
    readonly deadlineMs: number,
    readonly complete: RecordCompletion,
    readonly fail: RecordReject | null,
    /** The send's AbortSignal (`send(record, { signal })`), or null. */
    readonly signal: AbortSignal | null,
    /** The transaction the send was made in (TransactionManager.transactionGeneration); -1 without transactions. */
    readonly txnGeneration: number,
  ) {}
  /** QUEUED, ACTIVE or CANCELLED. */
  state = QUEUED
}

/**
 * The one 'abort' listener for a signal that waiting sends carry, and how
 * many of them (QUEUED or ACTIVE) still do. One listener per signal, not per
 * send: an application (or a stream) typically shares one signal across many
 * sends, and EventTarget warns beyond 10 listeners.
 */
interface SignalWatch {
  refs: number
  readonly onAbort: () => void
}

/** A flush() waiting until `settled` reaches `target`. */
interface FlushWaiter {
  readonly target: number
  readonly resolve: () => void
}

/**
 * What the waiting sends need from the producer: its parts, and the decisions
 * the producer owns (partition choice, clocks, whether it is closed). The
 * functions are created once with the producer, never per send.
 */
export interface WaitingSendsContext {
  readonly metadata: Pick<ProducerMetadata, 'cluster' | 'version' | 'topicErrors' | 'add' | 'requestUpdate' | 'awaitUpdate'> & { readonly authenticationError?: Error | null }
  readonly accumulator: Pick<RecordAccumulator, 'append' | 'appendAsync'>
  /** Woken for a new or full batch, and to fetch metadata for a topic a send waits for. */
  readonly sender: { wakeup(): void }
  /** Counts the sends failed here, and the waits for buffer memory (Java's BufferPool wait-time and exhausted sensors). */
  readonly stats: Pick<ProducerMetrics, 'recordErrors' | 'recordBufferPoolWait' | 'recordMetadataWait'>
  /** Its fatal error, once set, fails the sends still waiting; null without idempotence. */
  readonly transactionManager: { readonly fatalError: Error | null } | null
  /**
   * A transactional producer's manager (null or absent otherwise): checked
   * just before each waiting send is appended, so a record joins only the
   * transaction it was sent in; an appended record's partition joins it.
   */
  readonly transaction?:
    | (SendTransaction & {
        ensureAppendAllowed(generation: number): void
        maybeAddPartition(topic: string, partition: number): void
      })
    | null
  /** max.block.ms: how long a send may wait here, from its `send()`. */
  readonly maxBlockMs: number
  /** buffer.memory, for the timeout's message. */
  readonly bufferMemory: number
  /** The clock deadlines are checked against; read after every wait. */
  readonly time: () => number
  /** The send path's clock (it may reuse a reading within one synchronous run): the `now` of an append. */
  readonly sendClock: () => number
  /**
   * The producer's partition choice for a record (explicit, custom
   * partitioner, key hash; UNKNOWN_PARTITION for the sticky partitioner).
   * Throws KafkaInvalidRecordError for a partition the topic does not have.
   */
  readonly partitionFor: (topic: string, explicit: number | null, key: Bytes | null, value: Bytes | null, count: number, cluster: Cluster) => number
  /** True once close() began: sends still waiting for metadata then fail. */
  readonly isClosed: () => boolean
  /**
   * Why connections to brokers fail (KafkaClient.connectionFailures), asked
   * only when a wait times out: the timeout's message ends with its summary
   * and its `cause` is its AggregateError.
   */
  readonly connectionFailures?: () => ConnectionFailureReport | null
}

/**
 * The sends that could not be appended at once, in send() order: the topic's
 * metadata is not known yet, buffer.memory is full, or an earlier send is
 * still waiting here. Java's KafkaProducer blocks the sending thread in
 * `waitOnMetadata` and `BufferPool.allocate` for up to max.block.ms; on one
 * event-loop thread the send is queued instead, and one async worker appends
 * the queue in order, waiting where a blocked Java thread would have.
 *
 * Invariants:
 * - Order: a send never overtakes an earlier waiting send. Once one waits,
 *   the producer queues every later send here (`size > 0`), and the worker
 *   appends them strictly front to back, one at a time; so records to one
 *   partition (and to one topic) reach the accumulator in send() order.
 * - Every queued send settles exactly once, through its own `complete`/`fail`:
 *   appended to a batch (which completes it later), or failed with a typed
 *   error: KafkaTimeoutError at its max.block.ms deadline (counted from its
 *   send(), for metadata and memory together), KafkaProducerClosedError at
 *   close, KafkaInvalidRecordError for a topic or partition that cannot take
 *   it, the idempotent producer's fatal error, or an AbortError when its
 *   signal aborts before it was appended. Errors are delivered
 *   asynchronously (never inside send()).
 * - Cancellation never splices the queue: a send aborted while QUEUED is
 *   settled at once and marked CANCELLED, and stays in the queue until the
 *   worker reaches it and skips it, so order, `size` and the `settled`
 *   arithmetic of flushes are those of a queue without cancellation. Once
 *   the worker took a send (ACTIVE), only the worker settles it: it checks
 *   the signal before each step that commits the record (the synchronous
 *   append), the metadata wait returns early on abort, and the buffer pool
 *   removes an aborted memory waiter itself (`BufferPool.allocate`), so an
 *   aborted send has never been appended, and an appended one is never
 *   reported aborted.
 * - One 'abort' listener per distinct signal the waiting sends carry (plus
 *   one each for the worker's current metadata or memory wait), removed once
 *   no waiting send carries the signal: nothing is left on a long-lived
 *   signal, however many sends shared it.
 * - A queued send always has a worker: the worker restarts itself when sends
 *   arrived between its loop's end and its exit (see `startWorker`).
 * - A queued send holds copies of the record's fields (and of a header array
 *   and its pairs), never the record object the application may reuse.
 * - Flush: `whenEarlierSendsSettle()` waits for the sends queued before the
 *   call only, not for those queued after (Java's flush does not wait for
 *   sends blocked in other threads either); `settled` only grows, so the
 *   targets of successive flushes ascend and resolve in call order.
 * - Transactions: a waiting send is appended only into the transaction it
 *   was sent in (checked just before the append, after each wait); if that
 *   transaction was aborted or ended meanwhile, it fails (typed) instead of
 *   joining a later one, which Java's synchronous append never could. A
 *   send that fails here for any other reason (timeout, cancellation, ...)
 *   tells the transaction manager before its callback runs
 *   (`recordNotAppended`), so its transaction cannot commit without it.
 * - Only a send that must wait awaits: while the topic is known and the pool
 *   has room, the worker drains the queue synchronously (an await per record,
 *   a promise and a microtask each, would be most of the cost when an
 *   application offers more than buffer.memory holds).
 */
export class WaitingSends {
  private readonly queue = new Deque<WaitingSend>()
  private worker: Promise<void> | null = null
  /** Sends that left the queue (appended or failed) since the start; with `queue.size`, what a flush waits for. */
  private settled = 0
  private readonly flushes = new Deque<FlushWaiter>()
  /** Signals carried by waiting sends, each with its one listener (see SignalWatch). */
  private readonly signals = new Map<AbortSignal, SignalWatch>()

  constructor(private readonly ctx: WaitingSendsContext) {}

  /** Sends waiting; while above 0, every new send must be queued behind them. */
  get size(): number {
    return this.queue.size
  }

  /**
   * For `producer.inspect()`: the sends waiting now, by what they wait for and
   * by topic. A send waits for `metadata` while its topic is not in the
   * current metadata, else for `memory` (or behind an earlier send, in send()
   * order). Ages come from each send's deadline less max.block.ms, so nothing
   * is kept for this. Cancelled sends (already settled) are not counted.
   */
  inspect(nowMs: number): WaitingSendsInspection {
    const cluster = this.ctx.metadata.cluster
    const maxBlockMs = this.ctx.maxBlockMs
    const topics: Record<string, { sends: number; oldestAgeMs: number; waitingFor: 'metadata' | 'memory' }> = Object.create(null)
    let sends = 0
    let oldest = 0
    let head: 'metadata' | 'memory' | null = null
    const metadata = { sends: 0, oldestAgeMs: 0 }
    const memory = { sends: 0, oldestAgeMs: 0 }
    this.queue.forEach((w) => {
      if (w.state === CANCELLED) return
      const age = Math.max(0, nowMs - (w.deadlineMs - maxBlockMs))
      let t = topics[w.topic]
      if (t === undefined) {
        t = topics[w.topic] = { sends: 0, oldestAgeMs: 0, waitingFor: cluster.partitionCountForTopic(w.topic) === undefined ? 'metadata' : 'memory' }
      }
      t.sends++
      if (age > t.oldestAgeMs) t.oldestAgeMs = age
      const group = t.waitingFor === 'metadata' ? metadata : memory
      group.sends++
      if (age > group.oldestAgeMs) group.oldestAgeMs = age
      head ??= t.waitingFor
      sends++
      if (age > oldest) oldest = age
    })
    // A plain object for JSON (no null prototype surprises for consumers that use hasOwnProperty).
    return { sends, oldestAgeMs: oldest, head, metadata, memory, topics: { ...topics } as Record<string, WaitingTopicInspection> }
  }

  /**
   * Queues a send that cannot be appended now. `partition` is the one chosen
   * at send() (metadata was known, memory was not), or PARTITION_NOT_CHOSEN;
   * `key` and `headers` are those validateRecord returned for `record`, `now`
   * the send's clock reading (its deadline is `now + max.block.ms`). In a
   * transaction, the send belongs to the one open now: send() queues it in
   * the same synchronous run as its state check, and only
   * beginTransaction() changes the generation, which cannot succeed within
   * that run (ending the open transaction takes the coordinator's answer).
   *
   * Positional parameters, as `RecordAccumulator.append`: an options object
   * would be one more allocation per send under backpressure.
   */
  enqueue(
    record: ProducerRecord,
    partition: number,
    key: Bytes | null,
    headers: HeaderPairs,
    timestamp: number,
    now: number,
    complete: RecordCompletion,
    fail: RecordReject | null,
    signal: AbortSignal | null = null,
  ): void {
    const txn = this.ctx.transaction ?? null
    const txnGeneration = txn === null ? -1 : txn.transactionGeneration
    const w = new WaitingSend(
      record.topic,
      record.partition ?? null,
      partition,
      key,
      record.value,
      // The application may reuse its header array and pairs too; headers given as an object are fresh pairs already.
      headers != null && Array.isArray(record.headers) ? copyHeaderPairs(headers) : headers,
      timestamp,
      now + this.ctx.maxBlockMs,
      complete,
      fail,
      signal,
      txnGeneration,
    )
    if (signal !== null) {
      // Checked by the producer just before; kept for callers (tests) that enqueue directly.
      if (signal.aborted) {
        this.settleFailed(complete, fail, createAbortError(signal), txnGeneration)
        return
      }
      let watch = this.signals.get(signal)
      if (watch === undefined) {
        const onAbort = (): void => this.abortAll(signal)
        watch = { refs: 0, onAbort }
        this.signals.set(signal, watch)
        signal.addEventListener('abort', onAbort, { once: true })
      }
      watch.refs++
    }
    this.queue.pushBack(w)
    if (this.worker === null) this.startWorker()
  }

  /**
   * Null when no send is waiting; else a promise that resolves once every
   * send queued before this call has settled (appended or failed). Null
   * rather than a resolved promise, so a flush with nothing waiting goes on
   * in the same synchronous step and waits for no send made after it.
   */
  whenEarlierSendsSettle(): Promise<void> | null {
    if (this.queue.size === 0) return null
    const target = this.settled + this.queue.size
    return new Promise<void>((resolve) => this.flushes.pushBack({ target, resolve }))
  }

  /** Resolves once the worker has stopped with nothing queued (close() awaits it before closing the sender). */
  async whenIdle(): Promise<void> {
    while (this.worker !== null) await this.worker
  }

  /**
   * A signal aborted: every QUEUED send carrying it is settled now with an
   * AbortError and left in the queue, CANCELLED, for the worker to skip; an
   * ACTIVE one is the worker's (see the class header). O(queue), once per
   * aborted signal.
   */
  private abortAll(signal: AbortSignal): void {
    this.signals.delete(signal)
    this.queue.forEach((w) => {
      if (w.signal !== signal || w.state !== QUEUED) return
      w.state = CANCELLED
      this.settleFailed(w.complete, w.fail, createAbortError(signal), w.txnGeneration)
    })
  }

  /** See failNotAppended: the transaction the send was made in must not commit without it. */
  private settleFailed(complete: RecordCompletion, fail: RecordReject | null, err: Error, txnGeneration: number): void {
    failNotAppended(complete, fail, err, this.ctx.stats, this.ctx.transaction ?? null, txnGeneration)
  }

  /** A send the worker took is done: its signal's listener goes once no waiting send carries the signal. */
  private releaseSignal(signal: AbortSignal): void {
    const watch = this.signals.get(signal)
    if (watch === undefined || --watch.refs > 0) return
    this.signals.delete(signal)
    signal.removeEventListener('abort', watch.onAbort)
  }

  /**
   * The worker's loop can end (queue empty) a few microtasks before its
   * `finally` clears `worker`; a send queued in between found a worker and
   * started none. The `finally` restarts it, so no queued send is left
   * without one.
   */
  private startWorker(): void {
    this.worker = this.processQueue().finally(() => {
      this.worker = null
      if (this.queue.size > 0) this.startWorker()
    })
  }

  /**
   * Appends the queued sends in order, each waiting at most until its own
   * max.block.ms deadline for topic metadata and then for buffer memory.
   */
  private async processQueue(): Promise<void> {
    // `worker` is assigned only when this returns its promise. Until the first
    // await, anything here that runs application code (a custom partitioner,
    // a completion callback) and sends again would find no worker and start a
    // second one, which would append the same front send twice. One microtask
    // first closes that window.
    await null
    const ctx = this.ctx
    while (this.queue.size > 0) {
      const w = this.queue.peekFront()!
      // CANCELLED: settled by `abort` already; only its place in the queue is left.
      if (w.state === QUEUED) {
        w.state = ACTIVE
        try {
          const topic = w.topic
          let cluster = ctx.metadata.cluster
          let count = cluster.partitionCountForTopic(topic)
          if (count === undefined) {
            cluster = await this.awaitTopic(w)
            count = cluster.partitionCountForTopic(topic)!
          }
          const fatal = ctx.transactionManager?.fatalError
          if (fatal) throw fatal
          let partition: number
          if (w.partition === PARTITION_NOT_CHOSEN) {
            partition = ctx.partitionFor(topic, w.explicitPartition, w.key, w.value, count, cluster)
          } else {
            partition = w.partition
            // Chosen at send(); the topic may have been re-created smaller while the record waited.
            if (partition >= count) {
              throw new KafkaInvalidRecordError(`Invalid partition ${partition} for topic '${topic}': it now has ${count} partitions`)
            }
          }
          // The last moment the send can still be cancelled by the producer; from the append on, it is the batch's.
          if (w.signal?.aborted === true) throw createAbortError(w.signal)
          const txn = ctx.transaction ?? null
          // The transaction may have ended (and another begun) while the record waited: never append it to another.
          if (txn !== null) txn.ensureAppendAllowed(w.txnGeneration)
          const now = ctx.sendClock()
          let r = ctx.accumulator.append(topic, partition, w.timestamp, w.key, w.value, w.headers, w.complete, w.fail, now, cluster)
          if (r === APPEND_NEEDS_MEMORY) {
            // Batches are sendable at once while memory is short (ready()'s `exhausted`): wake a sender asleep for linger.ms.
            ctx.sender.wakeup()
            r = await this.appendWaitingForMemory(w, partition, now, cluster)
          }
          // Appended: from here it completes through its batch (an abort begun since fails that batch).
          if (txn !== null) txn.maybeAddPartition(topic, r.partition)
          if (r.batchIsFull || r.newBatchCreated) ctx.sender.wakeup()
        } catch (err) {
          this.settleFailed(w.complete, w.fail, err as Error, w.txnGeneration)
        }
        if (w.signal !== null) this.releaseSignal(w.signal)
      }
      this.queue.popFront()
      const settled = ++this.settled
      const flushes = this.flushes
      let f: FlushWaiter | undefined
      while ((f = flushes.peekFront()) !== undefined && f.target <= settled) {
        flushes.popFront()
        f.resolve()
      }
    }
  }

  /** Java's BufferPool.allocate wait, within the send's deadline, with the timeout explained in max.block.ms terms. */
  private async appendWaitingForMemory(w: WaitingSend, partition: number, now: number, cluster: Cluster): Promise<AppendResult> {
    const ctx = this.ctx
    const txn = ctx.transaction ?? null
    // Measured with the injected clock around the wait, as Java's BufferPool.allocate times its await.
    const startMs = ctx.time()
    let exhausted = false
    try {
      return await ctx.accumulator.appendAsync(
        w.topic,
        partition,
        w.timestamp,
        w.key,
        w.value,
        w.headers,
        w.complete,
        w.fail,
        Math.max(0, w.deadlineMs - now),
        now,
        cluster,
        ctx.time,
        w.signal,
        // Checked again once memory is free: the wait may have outlasted the send's transaction.
        txn !== null ? () => txn.ensureAppendAllowed(w.txnGeneration) : null,
      )
    } catch (err) {
      if (!(err instanceof KafkaTimeoutError)) throw err
      exhausted = true
      // The pool only knows the time left for this record; the user knows max.block.ms. When brokers
      // cannot be reached, that is why the memory is not freed: say so, and make the failures the cause.
      const failures = ctx.connectionFailures?.() ?? null
      throw new KafkaTimeoutError(
        `Failed to allocate memory within the configured max blocking time ${ctx.maxBlockMs} ms (max.block.ms): ` +
          `all ${ctx.bufferMemory} bytes of buffer.memory hold records not yet delivered${timeoutSuffix(failures)}`,
        { cause: failures?.error ?? err },
      )
    } finally {
      const endMs = ctx.time()
      ctx.stats.recordBufferPoolWait(Math.max(0, endMs - startMs), exhausted, endMs)
    }
  }

  /** Java's KafkaProducer.waitOnMetadata: waits until metadata knows the record's topic, or fails at its deadline. */
  private async awaitTopic(w: WaitingSend): Promise<Cluster> {
    const ctx = this.ctx
    const metadata = ctx.metadata
    const topic = w.topic
    // Counted only when it waited and the metadata came, as Java's waitOnMetadata records it, from the
    // send() call (deadline less max.block.ms), as a Java caller blocks from there, even behind other waiting sends.
    let waitStartMs = -1
    for (;;) {
      const cluster = metadata.cluster
      if (cluster.partitionCountForTopic(topic) !== undefined) {
        if (waitStartMs >= 0) ctx.stats.recordMetadataWait(Math.max(0, ctx.time() - waitStartMs))
        return cluster
      }
      const err = metadata.topicErrors.get(topic)
      if (err !== undefined && !isRetriable(err) && err !== ErrorCode.UNKNOWN_TOPIC_OR_PARTITION /* may be created yet */) {
        throw new KafkaInvalidRecordError(`Cannot send to topic '${topic}': the broker answered ${errorName(err)}`)
      }
      // The broker rejected our credentials or certificate: no metadata will come (Java's Metadata.fatalError).
      if (metadata.authenticationError != null) throw metadata.authenticationError
      if (ctx.isClosed()) throw new KafkaProducerClosedError('Producer closed while waiting for topic metadata')
      if (w.signal?.aborted === true) throw createAbortError(w.signal)
      const now = ctx.time()
      if (waitStartMs < 0) waitStartMs = Math.min(now, w.deadlineMs - ctx.maxBlockMs)
      const remaining = w.deadlineMs - now
      if (remaining <= 0) {
        const failures = ctx.connectionFailures?.() ?? null
        throw new KafkaTimeoutError(
          `Topic '${topic}' not present in metadata after ${ctx.maxBlockMs} ms (max.block.ms)${timeoutSuffix(failures)}`,
          failures !== null ? { cause: failures.error } : undefined,
        )
      }
      metadata.add(topic, now)
      metadata.requestUpdate()
      ctx.sender.wakeup()
      await waitFor(metadata.awaitUpdate(metadata.version), remaining, w.signal)
    }
  }
}

/** Resolves when `p` settles, after `ms`, or when `signal` aborts, whichever is first, leaving no timer or listener behind. */
function waitFor(p: Promise<void>, ms: number, signal: AbortSignal | null): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(t)
      if (signal !== null) signal.removeEventListener('abort', done)
      resolve()
    }
    const t = setTimeout(done, Math.min(ms, 2147483647))
    if (signal !== null) signal.addEventListener('abort', done, { once: true })
    void p.then(done)
  })
}

/** A copy of header pairs the application may change after send(). */
function copyHeaderPairs(headers: NonNullable<HeaderPairs>): HeaderPairs {
  const copy = new Array<readonly [string, Bytes | null]>(headers.length)
  for (let i = 0; i < headers.length; i++) copy[i] = [headers[i]![0], headers[i]![1]]
  return copy
}
