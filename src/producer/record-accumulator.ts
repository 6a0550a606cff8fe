import type { Cluster } from '../clients/cluster.js'
import { KafkaClientError, KafkaCompressionError, KafkaProducerClosedError } from '../errors.js'
import type { BatchCompression } from '../protocol/compression/index.js'
import { RECORD_BATCH_OVERHEAD, type RecordData, type HeaderPairs, sizeOfRecord } from '../protocol/record-batch.js'
import type { BufferPool } from './buffer-pool.js'
import { CompressionRatioEstimator, uncompressedWriteLimit } from './compression-ratio-estimator.js'
import { ExponentialBackoff } from '../util/backoff.js'
import { Deque } from '../util/deque.js'
import { rethrowOnNextTick } from '../util/rethrow.js'
import type { AccumulatorInspection, PartitionInspection } from './inspection.js'
import { LoadStatsArrays, PartitionLoadStats, type PartitionLoadStatsSink } from './partition-load-stats.js'
import { ProducerBatch, type ProducerBatchHooks, type RecordCompletion, type RecordReject } from './producer-batch.js'

/** The partition argument meaning "let the built-in sticky partitioner choose". */
export const UNKNOWN_PARTITION = -1

/**
 * Returned by the synchronous {@link RecordAccumulator.append} when the record
 * needs a new batch and the pool cannot hand out a buffer right now (or other
 * appends are already waiting for memory). Nothing was written; the caller
 * retries with {@link RecordAccumulator.appendAsync}.
 */
export const APPEND_NEEDS_MEMORY: unique symbol = Symbol('APPEND_NEEDS_MEMORY')
export type AppendNeedsMemory = typeof APPEND_NEEDS_MEMORY

/** What the accumulator needs from the sticky choice: the chosen partition. */
export interface StickyPartitionInfoLike {
  readonly partition: number
}

/**
 * The accumulator's view of the per-topic built-in partitioner (Java's
 * BuiltInPartitioner); `BuiltInPartitioner` in partitioner.ts satisfies it.
 * Adaptive partitioning (optional) is the `PartitionLoadStatsSink` half.
 */
export interface StickyPartitionSource extends PartitionLoadStatsSink {
  /** The partition keyless records of this topic go to right now. */
  peekCurrentPartitionInfo(cluster: Cluster): StickyPartitionInfoLike
  /**
   * Called right after a record was appended to `info.partition`, in the same
   * synchronous step as the peek. `enableSwitch` is false while the
   * partition's last batch still has room (Java's `allBatchesFull`). The
   * accumulator only calls it for sticky appends, so `info` is never null
   * here; the type admits null so Java-shaped implementations fit.
   */
  updatePartitionInfo(info: StickyPartitionInfoLike | null, appendedBytes: number, cluster: Cluster, enableSwitch: boolean): void
}

/**
 * Idempotence / transactions seam, filled by the transaction manager (next issue).
 * Java reaches into TransactionManager from drain() and ready(); here it is one
 * optional object.
 */
export interface ProducerStateHooks {
  /** Java's shouldStopDrainBatchesForPartition: true to leave this partition for now. */
  shouldStopDrainBatchesForPartition(first: ProducerBatch): boolean
  /**
   * A batch just left its queue for a request, before close(): assign
   * producer id/epoch/sequence with `batch.setProducerState` if it has none.
   */
  onDrain(batch: ProducerBatch): void
  /** True while a transaction commit/abort waits for the queues to empty. */
  isTransactionCompleting(): boolean
  /**
   * Optional. `splitAndReenqueue` split `original` (now final, SPLIT) into
   * `parts`, in record order; called before the parts are queued. Each part
   * already carries the original's producer id/epoch and a consecutive slice
   * of its sequence range (Java's ProducerBatch.split does the same), so the
   * transaction manager only has to track them as in flight (Java:
   * addInFlightBatch) in place of the original; it may also re-assign them
   * with `setProducerState`. Parts that have a sequence after this are queued
   * in sequence order (insertInSequenceOrder), others at the front.
   */
  onSplit?(original: ProducerBatch, parts: readonly ProducerBatch[]): void
  /** A batch's position in its partition's sequence order, unaffected by the 2^31 wrap (defaults to baseSequence). */
  sequenceOf?(batch: ProducerBatch): number
}

/** A batch whose codec failed, with the error its records are to fail with. */
export interface CompressionFailure {
  readonly batch: ProducerBatch
  readonly error: KafkaCompressionError
}

const NO_COMPRESSION_FAILURES: readonly CompressionFailure[] = Object.freeze([])

export interface RecordAccumulatorOptions {
  /** batch.size: capacity of a normal batch, and the pool's poolable size. */
  readonly batchSize: number
  readonly lingerMs: number
  readonly deliveryTimeoutMs: number
  readonly retryBackoffMs: number
  readonly retryBackoffMaxMs: number
  readonly bufferPool: BufferPool
  /** Creates the sticky partitioner for a topic on its first UNKNOWN_PARTITION append. */
  readonly createPartitioner?: (topic: string) => StickyPartitionSource
  /** partitioner.adaptive.partitioning.enable (default true). */
  readonly partitionerAdaptive?: boolean
  /** partitioner.availability.timeout.ms (default 0: off). */
  readonly partitionerAvailabilityTimeoutMs?: number
  readonly producerState?: ProducerStateHooks
  /** Uniform [0, 1) source for the retry backoff jitter; Math.random by default. */
  readonly random?: () => number
  /** A user completion callback threw. Default: rethrown on the next tick (Node's convention). */
  readonly onCallbackError?: (err: unknown, batch: ProducerBatch) => void
  /** compression.type with its level; absent, null or `none`: batches go uncompressed. */
  readonly compression?: BatchCompression | null
  /**
   * A batch's compression finished and it is sendable now: wake the sender
   * (and record the compression metrics). Runs on a later tick than the
   * append or ready() that started it.
   */
  readonly onBatchCompressed?: (batch: ProducerBatch, uncompressedRecordsBytes: number, compressedRecordsBytes: number) => void
}

/** Result of an append. From the synchronous `append` it is a reused object: read it before the next append. */
export interface AppendResult {
  /** The partition the record went to (the sticky choice when UNKNOWN_PARTITION was passed). */
  readonly partition: number
  /** The partition's queue has a sendable batch now: wake the sender. */
  readonly batchIsFull: boolean
  readonly newBatchCreated: boolean
  /** abortOnNewBatch was set and a new batch was needed: nothing was appended. */
  readonly abortForNewBatch: boolean
  /** Bytes the append added (the batch header too, for a new batch). */
  readonly appendedBytes: number
}

export interface ReadyCheckResult {
  /** Leaders with at least one sendable partition; a fresh set the caller may edit. */
  readonly readyNodes: Set<number>
  /** Time until the earliest not-yet-sendable batch becomes sendable by linger or backoff; Infinity if none. */
  readonly nextReadyCheckDelayMs: number
  /** Topics with queued batches for a partition without a known leader. */
  readonly unknownLeaderTopics: Set<string>
}


/** One partition's queue plus what routing needs, cached per cluster snapshot. */
class PartitionQueue {
  readonly deque = new Deque<ProducerBatch>()
  /** Leader node id in the routed cluster snapshot; -1 when unknown or not a known node. */
  leader = -1
  leaderEpoch = -1
  /** Set by the sender for max.in.flight=1 ordering; a muted partition is neither ready nor drained. */
  muted = false
  /** Completion runs of the last batch drained from this queue: how many its next batch reserves room for. */
  runsPerBatch: number | undefined = undefined
  /** The active list this queue is linked into (non-null exactly while its deque is non-empty), and its neighbours there. */
  active: ActiveQueues | null = null
  prev: PartitionQueue | null = null
  next: PartitionQueue | null = null
  /**
   * Uncompressed: the capacity the next batch starts at, when above its
   * first record's size class. Set to a batch's capacity when it grows or
   * fills (the partition's next batch would likely grow as far: starting
   * there saves the copies), halved at each new batch, so a partition
   * whose batches stop growing soon starts small again.
   */
  nextBatchCapacity = 0

  constructor(
    readonly topic: string,
    readonly partition: number,
    /** Position among all queues (topic creation order, then queue creation order): the order expiry reports in. */
    readonly order: number,
  ) {}
}

/**
 * An intrusive circular list of the non-empty queues of one leader (or of the
 * queues without a known leader), so that sender passes visit only queues
 * holding batches, as librdkafka's per-broker list of active partitions
 * (`rkb_active_toppars`). `cursor` is where the next drain starts: the
 * queue-pointer form of Java's `nodesDrainIndex`. A queue that becomes
 * non-empty is linked just before the cursor, so it is visited last in the
 * next round and waits at most one round, as in Java's rotation.
 */
class ActiveQueues {
  head: PartitionQueue | null = null
  cursor: PartitionQueue | null = null
  size = 0

  link(q: PartitionQueue): void {
    q.active = this
    const at = this.cursor
    if (at === null) {
      q.prev = q.next = q
      this.head = this.cursor = q
    } else {
      const before = at.prev!
      q.prev = before
      q.next = at
      before.next = q
      at.prev = q
    }
    this.size++
  }

  unlink(q: PartitionQueue): void {
    const next = q.next!
    if (next === q) {
      this.head = this.cursor = null
    } else {
      const prev = q.prev!
      prev.next = next
      next.prev = prev
      if (this.head === q) this.head = next
      if (this.cursor === q) this.cursor = next
    }
    q.active = q.prev = q.next = null
    this.size--
  }

  /** Forgets every member without touching them; for a rebuild that re-links every queue. */
  reset(): void {
    this.head = this.cursor = null
    this.size = 0
  }
}

class TopicState {
  /** Indexed by partition: the per-record lookup is an array index, not a Map. */
  readonly queues: (PartitionQueue | undefined)[] = []
  /** The same queues, dense, in creation order, for routing and the load stats. */
  readonly queueList: PartitionQueue[] = []
  partitioner: StickyPartitionSource | null = null
  /** A keyless (sticky) append happened since the last `ready()` fed the partitioner its load stats. */
  stickyUsed = false
  readonly loadStatsArrays = new LoadStatsArrays()
  /** From the routed snapshot: partitions in metadata, and queues with a known leader. */
  partitionCount = 0
  leaderCount = 0

  constructor(
    readonly topic: string,
    /** Position in `topicList`. */
    readonly index: number,
  ) {}
}

class NodeRoute {
  constructor(readonly nodeId: number) {}
  /** This leader's non-empty queues; its cursor is where the next drain starts (Java's nodesDrainIndex). */
  readonly active = new ActiveQueues()
  /** Queues (empty or not) this node leads in the routed snapshot; a route without any is dropped. */
  queueCount = 0
}

interface FlushWaiter {
  /** Batches with seq below this existed when the flush began. */
  readonly limit: number
  /** How many of them have not reached a final state yet. */
  remaining: number
  readonly resolve: () => void
}

type Writable<T> = { -readonly [K in keyof T]: T[K] }

/**
 * Collects records into per-partition batches for the sender; Java's
 * RecordAccumulator re-expressed for one event-loop thread.
 *
 * Appending:
 * - `append(...)` is synchronous and, when the record fits in the partition's
 *   last batch or the pool has a buffer at once, allocation-free apart from the
 *   record's completion slots. It returns a reused {@link AppendResult}.
 * - When a new batch is needed and no buffer is available at once (or other
 *   appends are already waiting for memory), it returns
 *   {@link APPEND_NEEDS_MEMORY} having written nothing; the caller then awaits
 *   `appendAsync(...)`, which waits up to max.block.ms for the pool (FIFO) and
 *   appends. While any `appendAsync` is pending, every append that needs a new
 *   batch takes that path too, so records sent later never overtake a waiting
 *   one into a new batch.
 *
 * Keyless records (UNKNOWN_PARTITION) go where the topic's sticky
 * partitioner (KIP-480/794, `BuiltInPartitioner`) says: it is peeked before
 * the append and told the appended bytes right after, in the same synchronous
 * step, as Java's append does with `TopicInfo.builtInPartitioner`; `ready()`
 * feeds it queue sizes through {@link PartitionLoadStats}.
 *
 * Invariants:
 * - Per partition, a deque ordered oldest first: only its last batch accepts
 *   appends; retried batches are put back at the front (in sequence order when
 *   idempotence hooks are set). Both ends are O(1).
 * - Every batch created is in `incomplete` until `deallocate(batch)`, and is
 *   counted in `unfinishedBatches` until it reaches a final state (done/abort).
 *   `splitAndReenqueue` replaces a batch by its parts in both, and the parts
 *   inherit its `seq`, so a flush that was waiting for it waits for all of them.
 * - Memory: every live batch holds `accountedBytes` of buffer.memory and
 *   returns exactly that on `deallocate`. Split parts share their original's
 *   reservation (see `splitAndReenqueue`). Without compression a batch
 *   starts in the pool's smallest size class that holds its first record
 *   (`newBatchSize`) and grows by size classes up to batch.size while open,
 *   taking the larger buffer from the pool before returning the smaller one,
 *   and only if the pool hands it out at once (`ProducerBatch.tryAppend`):
 *   a batch that cannot grow is closed as full, and the next record takes
 *   the new-batch path, which may wait for memory. So memory is held in
 *   proportion to what each partition has buffered, not batch.size per
 *   partition (Java's design, which with partitions x batch.size >
 *   buffer.memory makes every new batch wait and every batch tiny).
 * - `queuedBatches` is the number of batches in all deques, so `hasUndrained()`
 *   is O(1).
 * - Routing (each queue's leader) is rebuilt only when the cluster snapshot
 *   object or the set of queues changes, never per drain.
 * - A queue is linked into exactly one {@link ActiveQueues} list while it
 *   holds batches, and into none while empty: its routed leader's list, or
 *   `noLeader`. Every change that may empty or fill a deque re-syncs it
 *   (`syncActive`, or an inline link/unlink on the hot paths), so `ready()`,
 *   `drain()` and `expiredBatches()` cost O(non-empty queues), not
 *   O(partitions), as with thousands of mostly idle partitions.
 * - Compression (when configured): a batch is compressed once, in its close
 *   step, off the event loop. The step starts as soon as the batch can take
 *   no more records (an append it refused, in the append path itself, so
 *   full batches compress while later records are appended), or when
 *   `ready()` finds it sendable at the front of its queue (linger, flush,
 *   close, memory pressure). A partition whose first batch is still
 *   compressing ("closing") is neither ready nor drained; `drain()` only takes
 *   compressed batches; the codec's completion calls `onBatchCompressed`,
 *   which wakes the sender. A batch whose codec failed leaves its queue for
 *   `takeCompressionFailures`, so the sender fails it like any other batch.
 *   Batch sizing follows Java: `batch.size` bounds the estimated compressed
 *   size, with a per-topic {@link CompressionRatioEstimator}, updated by each
 *   compressed batch.
 * - Memory with compression: a batch holds its staging buffer (uncompressed
 *   records, from the pool as without compression, kept until deallocation
 *   for completion and splitting) plus, once compressed, its compressed
 *   copy's size, reserved then with `BufferPool.reserveOverdraft` (it cannot
 *   wait; a transient overdraft blocks new allocations until repaid). Both
 *   come back on `deallocate`. A staging buffer the codec is still reading
 *   is never recycled.
 * - No method reads a clock: every time-dependent decision takes `nowMs`, and
 *   the only post-wait time comes from the `nowAfterWait` the caller passes to
 *   `appendAsync`. The accumulator owns no timers (the pool has at most one
 *   while appends wait); the sender sleeps for `nextReadyCheckDelayMs`.
 */
export class RecordAccumulator {
  private readonly batchSize: number
  private readonly lingerMs: number
  private readonly deliveryTimeoutMs: number
  private readonly pool: BufferPool
  private readonly retryBackoff: ExponentialBackoff
  private readonly createPartitioner: ((topic: string) => StickyPartitionSource) | null
  /** KIP-794's queue sizes and node latency, fed to each topic's partitioner. */
  private readonly loadStats: PartitionLoadStats
  private readonly producerState: ProducerStateHooks | null
  /** Null without compression: every compression branch tests this first, so the uncompressed path does no new work. */
  private readonly compression: BatchCompression | null
  private readonly estimator = new CompressionRatioEstimator()
  private readonly onBatchCompressed: ((batch: ProducerBatch, uncompressedRecordsBytes: number, compressedRecordsBytes: number) => void) | null

  private readonly topics = new Map<string, TopicState>()
  private readonly topicList: TopicState[] = []
  private lastTopic: string | null = null
  private lastTopicState: TopicState | null = null

  private readonly incomplete = new Set<ProducerBatch>()
  /** Batches whose codec failed, out of their queues, for the sender to fail (`takeCompressionFailures`). */
  private compressionFailures: CompressionFailure[] = []
  private unfinishedBatches = 0
  private nextSeq = 0
  private queuedBatches = 0
  private appendsInProgressCount = 0
  private flushesInProgress = 0
  private readonly flushWaiters: FlushWaiter[] = []
  private closed = false
  private nextBatchExpiryTimeMs = Infinity

  private routedCluster: Cluster | null = null
  private routingVersion = 0
  private routedVersion = -1
  private readonly nodeRoutes = new Map<number, NodeRoute>()
  /** The same routes, dense, for the per-pass walks (no Map iterator per pass). */
  private routeList: NodeRoute[] = []
  /** Non-empty queues without a known leader in the routed snapshot (ready() reports their topics). */
  private readonly noLeader = new ActiveQueues()

  private readonly result: Writable<AppendResult> = {
    partition: -1,
    batchIsFull: false,
    newBatchCreated: false,
    abortForNewBatch: false,
    appendedBytes: 0,
  }
  private readonly batchHooks: ProducerBatchHooks

  constructor(options: RecordAccumulatorOptions) {
    if (!Number.isSafeInteger(options.batchSize) || options.batchSize < 0) throw new RangeError(`batchSize must be a non-negative integer, got ${options.batchSize}`)
    this.batchSize = options.batchSize
    this.lingerMs = options.lingerMs
    this.deliveryTimeoutMs = options.deliveryTimeoutMs
    this.pool = options.bufferPool
    this.retryBackoff = new ExponentialBackoff(options.retryBackoffMs, 2, options.retryBackoffMaxMs, 0.2, options.random)
    this.createPartitioner = options.createPartitioner ?? null
    this.loadStats = new PartitionLoadStats(options.partitionerAdaptive ?? true, options.partitionerAvailabilityTimeoutMs ?? 0)
    this.producerState = options.producerState ?? null
    const onCallbackError = options.onCallbackError ?? rethrowOnNextTick
    const compression = options.compression ?? null
    this.compression = compression !== null && compression.id !== 0 ? compression : null
    this.onBatchCompressed = options.onBatchCompressed ?? null
    this.batchHooks =
      this.compression === null
        ? { onBatchFinal: (batch) => this.batchFinished(batch), onCallbackError }
        : {
            onBatchFinal: (batch) => this.batchFinished(batch),
            onCallbackError,
            onCompressed: (batch, uncompressed, compressed) => this.batchCompressed(batch, uncompressed, compressed),
            onCompressionFailed: (batch, err) => this.batchCompressionFailed(batch, err),
          }
  }

  // -------------------------------------------------------------------------
  // Appending
  // -------------------------------------------------------------------------

  /**
   * Appends one record, synchronously. `partition` is the chosen partition, or
   * UNKNOWN_PARTITION to use the topic's sticky partitioner. The record is
   * completed through `complete`/`fail` (see RecordCompletion).
   *
   * Preconditions (the producer validates): `partition` is UNKNOWN_PARTITION
   * or a partition index of the topic; the record's size is within
   * buffer.memory and max.request.size.
   *
   * @returns a reused AppendResult, or APPEND_NEEDS_MEMORY with nothing
   *   written (then call `appendAsync` with the same arguments).
   */
  append(
    topic: string,
    partition: number,
    timestampMs: number,
    key: RecordData,
    value: RecordData,
    headers: HeaderPairs,
    complete: RecordCompletion,
    fail: RecordReject | null,
    nowMs: number,
    cluster: Cluster,
    abortOnNewBatch = false,
  ): AppendResult | AppendNeedsMemory {
    if (this.closed) throw new KafkaProducerClosedError('Producer closed while send in progress')
    const ts = this.topicState(topic)
    let info: StickyPartitionInfoLike | null = null
    let p = partition
    if (p === UNKNOWN_PARTITION) {
      info = this.partitionerOf(ts).peekCurrentPartitionInfo(cluster)
      p = info.partition
    }
    const q = ts.queues[p] ?? this.createQueue(ts, p)
    if (this.tryAppendToLast(ts, q, info, timestampMs, key, value, headers, complete, fail, nowMs, cluster)) return this.result
    if (abortOnNewBatch) return this.setResult(p, false, false, true, 0)
    if (this.appendsInProgressCount > 0) return APPEND_NEEDS_MEMORY
    const size = this.newBatchSize(ts.topic, key, value, headers, q.nextBatchCapacity)
    let buffer = this.pool.tryAllocate(size)
    // The partition's hint is only a guess: before waiting for it, try the smallest buffer the record needs.
    if (buffer === null && q.nextBatchCapacity > 0) {
      q.nextBatchCapacity = 0
      const least = this.newBatchSize(ts.topic, key, value, headers, 0)
      if (least < size) buffer = this.pool.tryAllocate(least)
    }
    if (buffer === null) return APPEND_NEEDS_MEMORY
    return this.appendNewBatch(ts, q, info, timestampMs, key, value, headers, complete, fail, buffer, nowMs, cluster)
  }

  /**
   * The slow path after APPEND_NEEDS_MEMORY: waits (FIFO, up to `maxBlockMs`
   * from `nowMs`) for a buffer, then appends, re-choosing the sticky partition
   * since time has passed. Rejects with KafkaTimeoutError when memory does
   * not come in time, KafkaProducerClosedError when closed meanwhile, and an
   * AbortError when `signal` aborts while it waits for memory (then nothing
   * was appended; once the pool hands the buffer over, the abort is too late).
   *
   * @param nowAfterWait the caller's clock, read once after the wait so that
   *   the new batch's linger and delivery timeout start when it is created
   * @returns a fresh AppendResult (not the reused one)
   */
  async appendAsync(
    topic: string,
    partition: number,
    timestampMs: number,
    key: RecordData,
    value: RecordData,
    headers: HeaderPairs,
    complete: RecordCompletion,
    fail: RecordReject | null,
    maxBlockMs: number,
    nowMs: number,
    cluster: Cluster,
    nowAfterWait: () => number,
    signal: AbortSignal | null = null,
    /** Called after the wait, just before the record is appended; a throw fails the append with nothing appended. */
    beforeAppend: (() => void) | null = null,
  ): Promise<AppendResult> {
    if (this.closed) throw new KafkaProducerClosedError('Producer closed while send in progress')
    // Counted before the first await, so synchronous appends that follow queue up behind this one.
    this.appendsInProgressCount++
    let buffer: Buffer | null = null
    try {
      // Memory is short: wait only for what the record needs, not for its partition's starting-size hint.
      buffer = await this.pool.allocate(this.newBatchSize(topic, key, value, headers, 0), maxBlockMs, nowMs, signal)
      if (this.closed) throw new KafkaProducerClosedError('Producer closed while send in progress')
      if (beforeAppend !== null) beforeAppend()
      const now = nowAfterWait()
      const ts = this.topicState(topic)
      let info: StickyPartitionInfoLike | null = null
      let p = partition
      if (p === UNKNOWN_PARTITION) {
        info = this.partitionerOf(ts).peekCurrentPartitionInfo(cluster)
        p = info.partition
      }
      const q = ts.queues[p] ?? this.createQueue(ts, p)
      // An earlier waiter may have opened a batch here with room: use it, and give the buffer back.
      if (this.tryAppendToLast(ts, q, info, timestampMs, key, value, headers, complete, fail, now, cluster)) return { ...this.result }
      const owned = buffer
      buffer = null
      return { ...this.appendNewBatch(ts, q, info, timestampMs, key, value, headers, complete, fail, owned, now, cluster) }
    } finally {
      this.appendsInProgressCount--
      if (buffer !== null) this.pool.deallocate(buffer)
    }
  }

  /** Appends to the partition's last batch if it has room; closes it for appends if not. */
  private tryAppendToLast(
    ts: TopicState,
    q: PartitionQueue,
    info: StickyPartitionInfoLike | null,
    timestampMs: number,
    key: RecordData,
    value: RecordData,
    headers: HeaderPairs,
    complete: RecordCompletion,
    fail: RecordReject | null,
    nowMs: number,
    cluster: Cluster,
  ): boolean {
    const last = q.deque.peekBack()
    if (last === undefined) return false
    const before = last.estimatedSizeInBytes
    const capacity = last.capacity
    const wasOpen = !last.isClosed && !last.isSplitBatch
    if (last.tryAppend(timestampMs, key, value, headers, complete, fail, nowMs) < 0) {
      // Java closes a batch that refused a record, so "deque.size > 1" and isFull agree.
      last.closeForAppends()
      // Only a batch that filled says something of the partition's rate: not an oversized record's own
      // batch, nor a retried batch or a split part that refuses every record.
      if (this.compression === null && wasOpen && last.capacity <= this.batchSize) q.nextBatchCapacity = last.capacity
      // It is final now: compress it while the next one fills (its completion wakes the sender).
      if (this.compression !== null) last.startCompression()
      return false
    }
    // It grew: the partition's next batch may as well start this large.
    if (last.capacity !== capacity) q.nextBatchCapacity = last.capacity
    const appended = last.estimatedSizeInBytes - before
    const full = last.isFull
    if (info !== null) ts.partitioner!.updatePartitionInfo(info, appended, cluster, full)
    this.setResult(q.partition, q.deque.size > 1 || full, false, false, appended)
    return true
  }

  /** Takes ownership of `buffer`: it ends up in the new batch, or back in the pool on failure. */
  private appendNewBatch(
    ts: TopicState,
    q: PartitionQueue,
    info: StickyPartitionInfoLike | null,
    timestampMs: number,
    key: RecordData,
    value: RecordData,
    headers: HeaderPairs,
    complete: RecordCompletion,
    fail: RecordReject | null,
    buffer: Buffer,
    nowMs: number,
    cluster: Cluster,
  ): AppendResult {
    const batch =
      this.compression === null
        ? new ProducerBatch(ts.topic, q.partition, buffer, nowMs, {
            hooks: this.batchHooks,
            seq: this.nextSeq,
            expectedRuns: q.runsPerBatch,
            memory: this.pool,
            maxCapacity: this.batchSize,
          })
        : this.newCompressedBatch(ts, q, buffer, key, value, headers, nowMs)
    q.nextBatchCapacity >>>= 1
    if (batch.tryAppend(timestampMs, key, value, headers, complete, fail, nowMs) < 0) {
      this.pool.deallocate(buffer)
      throw new KafkaClientError('INTERNAL', `A new ${buffer.length}-byte batch for ${ts.topic}-${q.partition} could not hold the record it was sized for`)
    }
    this.nextSeq++
    q.deque.pushBack(batch)
    if (q.active === null) this.syncActive(q)
    this.queuedBatches++
    this.incomplete.add(batch)
    this.unfinishedBatches++
    const appended = batch.estimatedSizeInBytes
    const full = batch.isFull
    if (info !== null) ts.partitioner!.updatePartitionInfo(info, appended, cluster, full)
    return this.setResult(q.partition, q.deque.size > 1 || full, true, false, appended)
  }

  /**
   * The first buffer of a new batch. Uncompressed: the pool's smallest size
   * class that holds the record alone in a batch (or the partition's
   * `nextBatchCapacity`, if larger), at most batch.size: the batch grows
   * from there up to batch.size as records arrive (ProducerBatch), so a
   * partition holds memory in proportion to what it has buffered. Java
   * takes max(batch.size, the record alone) at once, so with more
   * partitions than buffer.memory / batch.size every send waits for memory;
   * as Java, an oversized record gets a batch of its own, exactly sized.
   * With compression (no growth), the staging buffer holds the
   * uncompressed records whose estimated compressed size fits batch.size
   * ({@link uncompressedWriteLimit}), and at least batch.size, so that while
   * the estimate is near 1 the pool's recycled buffers serve.
   */
  private newBatchSize(topic: string, key: RecordData, value: RecordData, headers: HeaderPairs, nextBatchCapacity: number): number {
    const alone = RECORD_BATCH_OVERHEAD + sizeOfRecord(0, 0, key, value, headers)
    if (this.compression === null) {
      if (alone >= this.batchSize) return alone
      // Capped at buffer.memory too: a batch.size above it must not turn a record that fits into one that cannot.
      return Math.max(alone, Math.min(this.batchSize, this.pool.totalMemory, this.pool.sizeClassFor(alone > nextBatchCapacity ? alone : nextBatchCapacity)))
    }
    return Math.max(this.batchSize, this.compressedWriteLimit(topic), alone)
  }

  /**
   * Uncompressed bytes (header included) whose estimated compressed size is
   * batch.size, for `topic` now; at most an eighth of buffer.memory (but never
   * under batch.size), so a very good ratio cannot ask the pool for a staging
   * buffer it can never hand out. Java needs no such cap: it compresses while
   * appending, so only compressed bytes are ever buffered.
   */
  private compressedWriteLimit(topic: string): number {
    return this.capStaging(uncompressedWriteLimit(this.batchSize, this.estimator.estimation(topic), RECORD_BATCH_OVERHEAD))
  }

  private capStaging(limit: number): number {
    return Math.min(limit, Math.max(this.batchSize, Math.floor(this.pool.totalMemory / 8)))
  }

  /**
   * A compressed batch on `buffer` (sized by `newBatchSize`, maybe before the
   * estimate moved): appends stop at the estimate's write limit, or after the
   * first record when that alone is larger (Java always takes one record).
   * Deviation: Java's `hasRoomFor` counts the new record uncompressed on top
   * of the estimate ("be conservative"); here the limit is on uncompressed
   * bytes, so the new record counts at the estimated ratio like the others.
   * The difference is at most one record per batch.
   */
  private newCompressedBatch(
    ts: TopicState,
    q: PartitionQueue,
    buffer: Buffer,
    key: RecordData,
    value: RecordData,
    headers: HeaderPairs,
    nowMs: number,
  ): ProducerBatch {
    const ratio = this.estimator.estimation(ts.topic)
    const alone = RECORD_BATCH_OVERHEAD + sizeOfRecord(0, 0, key, value, headers)
    return new ProducerBatch(ts.topic, q.partition, buffer, nowMs, {
      hooks: this.batchHooks,
      seq: this.nextSeq,
      expectedRuns: q.runsPerBatch,
      compression: this.compression,
      writeLimit: Math.min(buffer.length, Math.max(this.capStaging(uncompressedWriteLimit(this.batchSize, ratio, RECORD_BATCH_OVERHEAD)), alone)),
      estimatedRatio: ratio,
    })
  }

  /** The codec finished a batch: count its copy against buffer.memory, learn its ratio, wake the sender. */
  private batchCompressed(batch: ProducerBatch, uncompressedRecordsBytes: number, compressedRecordsBytes: number): void {
    // Ended meanwhile (expired, aborted, failed by a fatal error): nothing will send it.
    if (batch.isDone || batch.isBufferDeallocated) return
    const wireBytes = RECORD_BATCH_OVERHEAD + compressedRecordsBytes
    this.pool.reserveOverdraft(wireBytes)
    batch.setCompressedAccountedBytes(wireBytes)
    // Java updates the estimate in ProducerBatch.close(), with MemoryRecordsBuilder.compressionRatio().
    if (uncompressedRecordsBytes > 0) this.estimator.updateEstimation(batch.topic, compressedRecordsBytes / uncompressedRecordsBytes)
    if (this.onBatchCompressed !== null) this.onBatchCompressed(batch, uncompressedRecordsBytes, compressedRecordsBytes)
  }

  /**
   * The codec failed (not expected: any bytes compress). The batch leaves its
   * queue and waits in `compressionFailures` for the sender, which fails it
   * as it fails any batch (`Sender.failBatch`: the transaction manager's
   * handleFailedBatch repairs the partition's sequences, as for a split part
   * that already had one, and makes a transaction abortable). Failing it
   * here would skip that bookkeeping. The other batches go on.
   */
  private batchCompressionFailed(batch: ProducerBatch, err: unknown): void {
    if (batch.isDone || batch.isBufferDeallocated) return
    const q = this.queueOf(batch.topic, batch.partition)
    if (q.deque.remove(batch)) this.queuedBatches--
    this.syncActive(q)
    const codec = this.compression!.codec
    const error = new KafkaCompressionError(
      codec,
      `Could not compress a batch of ${batch.recordCount} record(s) for ${batch.topic}-${batch.partition} with ${codec}: ${(err as Error)?.message ?? err}`,
      { cause: err },
    )
    this.compressionFailures.push({ batch, error })
    if (this.onBatchCompressed !== null) this.onBatchCompressed(batch, 0, 0)
  }

  /**
   * The batches whose codec failed since the last call, taken out of the
   * accumulator (no longer queued, still incomplete); the caller must fail
   * each, as the sender does with `failBatch`. Empty almost always.
   */
  takeCompressionFailures(): readonly CompressionFailure[] {
    if (this.compressionFailures.length === 0) return NO_COMPRESSION_FAILURES
    const taken = this.compressionFailures
    this.compressionFailures = []
    return taken
  }

  /** The current compression ratio estimate for `topic` (Java's CompressionRatioEstimator.estimation); 1 without compression. */
  compressionRatioEstimate(topic: string): number {
    return this.compression === null ? 1 : this.estimator.estimation(topic)
  }

  private setResult(partition: number, batchIsFull: boolean, newBatchCreated: boolean, abortForNewBatch: boolean, appendedBytes: number): AppendResult {
    const r = this.result
    r.partition = partition
    r.batchIsFull = batchIsFull
    r.newBatchCreated = newBatchCreated
    r.abortForNewBatch = abortForNewBatch
    r.appendedBytes = appendedBytes
    return r
  }

  private topicState(topic: string): TopicState {
    if (topic === this.lastTopic) return this.lastTopicState!
    let ts = this.topics.get(topic)
    if (ts === undefined) {
      ts = new TopicState(topic, this.topicList.length)
      this.topics.set(topic, ts)
      this.topicList.push(ts)
    }
    this.lastTopic = topic
    this.lastTopicState = ts
    return ts
  }

  private partitionerOf(ts: TopicState): StickyPartitionSource {
    ts.stickyUsed = true
    if (ts.partitioner !== null) return ts.partitioner
    if (this.createPartitioner === null) {
      throw new KafkaClientError('INTERNAL', `No sticky partitioner configured for UNKNOWN_PARTITION appends to '${ts.topic}'`)
    }
    return (ts.partitioner = this.createPartitioner(ts.topic))
  }

  private createQueue(ts: TopicState, partition: number): PartitionQueue {
    if (!Number.isInteger(partition) || partition < 0) throw new RangeError(`Invalid partition ${partition} for topic '${ts.topic}'`)
    const q = new PartitionQueue(ts.topic, partition, ts.index * 0x1_0000_0000 + ts.queueList.length)
    ts.queues[partition] = q
    ts.queueList.push(q)
    this.routingVersion++
    return q
  }

  private queueOf(topic: string, partition: number): PartitionQueue {
    const ts = this.topicState(topic)
    return ts.queues[partition] ?? this.createQueue(ts, partition)
  }

  /**
   * Keeps the invariant "a queue is linked into an active list exactly while
   * it holds batches": its leader's list, or `noLeader`. Call after any change
   * that may empty or fill a deque.
   */
  private syncActive(q: PartitionQueue): void {
    const nonEmpty = q.deque.size > 0
    if (nonEmpty === (q.active !== null)) return
    if (!nonEmpty) q.active!.unlink(q)
    else if (q.leader < 0) this.noLeader.link(q)
    else this.routeOf(q.leader).active.link(q)
  }

  private routeOf(nodeId: number): NodeRoute {
    let route = this.nodeRoutes.get(nodeId)
    if (route === undefined) {
      this.nodeRoutes.set(nodeId, (route = new NodeRoute(nodeId)))
      this.routeList.push(route)
    }
    return route
  }

  // -------------------------------------------------------------------------
  // Readiness and draining
  // -------------------------------------------------------------------------

  /**
   * Which leaders have something to send now. A partition's first batch is
   * sendable when it is full (or not the only batch), has waited lingerMs
   * since creation (its retry backoff since re-enqueue, when retried), or when
   * the pool has waiters, a flush is in progress, the accumulator is closed or
   * a transaction is completing; never while muted or backing off.
   * Also feeds each topic's partitioner its queue sizes through
   * {@link PartitionLoadStats} (KIP-794), as Java's partitionReady does, but
   * only for topics with a keyless (sticky) append since the last pass: the
   * partitioner reads them only then. Deviation: after a spell without
   * keyless appends, the first switch of partition uses the sizes of the
   * last pass that fed them; Java's are at most one pass old.
   *
   * Visits only queues holding batches, and, as Java's partitionReady, none
   * of a node's further partitions once the node is ready (unless a batch
   * there has to start compressing).
   */
  ready(cluster: Cluster, nowMs: number): ReadyCheckResult {
    this.ensureRouting(cluster)
    const readyNodes = new Set<number>()
    const unknownLeaderTopics = new Set<string>()
    let nextReadyCheckDelayMs = Infinity
    const exhausted = this.pool.queued() > 0
    const sendAnyway =
      exhausted || this.closed || this.flushesInProgress > 0 || (this.producerState !== null && this.producerState.isTransactionCompleting())
    const lingerMs = this.lingerMs
    const topics = this.topicList
    for (let t = 0; t < topics.length; t++) {
      const ts = topics[t]!
      // Only topics whose sticky partitioner chose since the last pass: a keyed-only topic never reads the stats.
      if (ts.partitioner !== null && ts.stickyUsed) {
        ts.stickyUsed = false
        this.loadStats.feed(ts.partitioner, ts.queueList, ts.partitionCount, ts.leaderCount, ts.loadStatsArrays)
      }
    }
    // Only queues holding batches are visited: per leader, then those without one.
    const routes = this.routeList
    for (let r = 0; r < routes.length; r++) {
      const route = routes[r]!
      const leader = route.nodeId
      const list = route.active
      let q = list.head
      for (let k = list.size; k > 0; k--, q = q!.next) {
        if (q!.muted) continue
        const first = q!.deque.peekFront()!
        // With compression, a node already ready still needs this partition's first batch looked at: it may have to start compressing.
        if (readyNodes.has(leader) && first.compressionStarted) continue
        first.maybeUpdateLeaderEpoch(q!.leaderEpoch)
        const waitedMs = first.waitedTimeMs(nowMs)
        const backingOff = this.shouldBackoff(first, waitedMs)
        const timeToWaitMs = backingOff ? first.retryBackoffMs : lingerMs
        if (!backingOff && (sendAnyway || waitedMs >= timeToWaitMs || q!.deque.size > 1 || first.isFull)) {
          // Sendable. A compressed batch must first get through its close step: the codec's completion wakes the sender.
          if (this.compression === null) {
            readyNodes.add(leader)
            // Java's partitionReady skips the partitions of a node already ready, so nothing else here counts.
            break
          }
          if (first.isCompressed) readyNodes.add(leader)
          else first.startCompression()
        } else {
          const left = timeToWaitMs - waitedMs
          if (left < nextReadyCheckDelayMs) nextReadyCheckDelayMs = left > 0 ? left : 0
        }
      }
    }
    let q = this.noLeader.head
    for (let k = this.noLeader.size; k > 0; k--, q = q!.next) unknownLeaderTopics.add(q!.topic)
    return { readyNodes, nextReadyCheckDelayMs, unknownLeaderTopics }
  }

  /**
   * Takes batches for each ready node: round-robin over the node's partitions
   * that hold batches, from a rotating start, one batch (the first) per
   * partition, while the request stays within `maxRequestSize` (the first
   * batch always goes, even if larger). Skips muted partitions and batches in
   * retry backoff. Drained batches are closed (header + CRC written) and
   * stamped with `drainedMs`.
   */
  drain(cluster: Cluster, readyNodes: ReadonlySet<number>, maxRequestSize: number, nowMs: number): Map<number, ProducerBatch[]> {
    const out = new Map<number, ProducerBatch[]>()
    if (readyNodes.size === 0) return out
    this.ensureRouting(cluster)
    for (const nodeId of readyNodes) out.set(nodeId, this.drainBatchesForOneNode(nodeId, maxRequestSize, nowMs))
    return out
  }

  private drainBatchesForOneNode(nodeId: number, maxRequestSize: number, nowMs: number): ProducerBatch[] {
    const ready: ProducerBatch[] = []
    const route = this.nodeRoutes.get(nodeId)
    if (route === undefined || route.active.size === 0) return ready
    const list = route.active
    const start = list.cursor!
    // Nothing is linked while draining, so `size` successors from `start` visit each queue once, even as emptied ones unlink.
    let q = start
    let stoppedAt: PartitionQueue | null = null
    let size = 0
    for (let k = list.size; k > 0; k--) {
      const at = q
      q = q.next!
      if (at.muted) continue
      const first = at.deque.peekFront()!
      // Record the epoch this attempt goes to, so a later retry can tell whether the leader moved (KIP-951).
      first.maybeUpdateLeaderEpoch(at.leaderEpoch)
      if (this.shouldBackoff(first, first.waitedTimeMs(nowMs))) continue
      // Still closing (compressing), or not sendable yet: unlike Java, whose close() compresses there and then, drain never waits.
      if (this.compression !== null && !first.isCompressed) continue
      if ((size + first.estimatedSizeInBytes > maxRequestSize && ready.length > 0) ||
          (this.producerState !== null && this.producerState.shouldStopDrainBatchesForPartition(first))) {
        stoppedAt = at
        break
      }
      at.deque.popFront()
      // An emptied queue leaves the list; were it the cursor (`start`), the cursor moves on to its successor.
      if (at.deque.size === 0) list.unlink(at)
      this.queuedBatches--
      at.runsPerBatch = first.completionRuns
      if (this.producerState !== null) this.producerState.onDrain(first)
      first.close()
      size += first.sizeInBytes
      first.drained(nowMs)
      ready.push(first)
    }
    // The partition that did not fit goes first next time; otherwise the next drain starts one further on, so no partition always leads.
    if (stoppedAt !== null) list.cursor = stoppedAt
    else if (start.active === list) list.cursor = start.next
    return ready
  }

  private shouldBackoff(batch: ProducerBatch, waitedMs: number): boolean {
    return batch.attempts > 0 && waitedMs < batch.retryBackoffMs && !batch.hasLeaderChangedForTheOngoingRetry()
  }

  /**
   * Sender feedback for partitioner.availability.timeout.ms (Java's
   * RecordAccumulator.updateNodeLatencyStats): `canDrain` false for a ready
   * node whose connection is not ready, true when it could be drained.
   */
  updateNodeLatencyStats(nodeId: number, nowMs: number, canDrain: boolean): void {
    this.loadStats.updateNodeLatencyStats(nodeId, nowMs, canDrain)
  }

  /**
   * Rebuilds each queue's leader and each node's list of non-empty queues when
   * the snapshot or the queue set changed (a leader move re-links the queue
   * into its new leader's list). A node keeps its drain cursor if that queue
   * still has batches and the same leader; otherwise its next drain starts at
   * the head of its list.
   */
  private ensureRouting(cluster: Cluster): void {
    if (cluster === this.routedCluster && this.routedVersion === this.routingVersion) return
    const cursors = new Map<NodeRoute, PartitionQueue | null>()
    for (const route of this.nodeRoutes.values()) {
      cursors.set(route, route.active.cursor)
      route.active.reset()
      route.queueCount = 0
    }
    this.noLeader.reset()
    for (const ts of this.topicList) {
      const infos = cluster.partitionsForTopic(ts.topic)
      ts.partitionCount = infos.length
      let leaders = 0
      for (const q of ts.queueList) {
        const info = infos[q.partition] as (typeof infos)[number] | undefined
        let leader = info === undefined ? -1 : info.leader
        if (leader >= 0 && cluster.nodeById(leader) === undefined) leader = -1
        q.leader = leader
        q.leaderEpoch = info === undefined ? -1 : info.leaderEpoch
        q.active = q.prev = q.next = null
        if (leader >= 0) {
          leaders++
          this.routeOf(leader).queueCount++
        }
        this.syncActive(q)
      }
      ts.leaderCount = leaders
    }
    for (const [nodeId, route] of this.nodeRoutes) {
      if (route.queueCount === 0) {
        this.nodeRoutes.delete(nodeId)
        continue
      }
      const cursor = cursors.get(route)
      if (cursor !== undefined && cursor !== null && cursor.active === route.active) route.active.cursor = cursor
    }
    this.routeList = Array.from(this.nodeRoutes.values())
    this.routedCluster = cluster
    this.routedVersion = this.routingVersion
  }

  // -------------------------------------------------------------------------
  // Retries, expiry, completion
  // -------------------------------------------------------------------------

  /**
   * Puts a batch that failed retriably back at the FRONT of its queue, with a
   * jittered exponential backoff (retry.backoff.ms .. retry.backoff.max.ms)
   * drawn once now. With idempotence hooks, batches are kept in sequence order.
   */
  reenqueue(batch: ProducerBatch, nowMs: number): void {
    batch.reenqueued(nowMs)
    batch.retryBackoffMs = this.retryBackoff.backoff(batch.attempts - 1)
    const q = this.queueOf(batch.topic, batch.partition)
    if (this.producerState !== null) insertInSequenceOrder(q.deque, batch, this.producerState)
    else q.deque.pushFront(batch)
    this.syncActive(q)
    this.queuedBatches++
  }

  /**
   * Java's RecordAccumulator.splitAndReenqueue, for a batch the broker
   * rejected with MESSAGE_TOO_LARGE: splits it (`ProducerBatch.split`), puts
   * the parts at the FRONT of the partition's queue in record order (in
   * sequence order with idempotence hooks), and returns how many there are.
   * The parts are "as if not even tried" (Java): attempts 0, no retry
   * backoff, the original's createdMs; so they are sendable at once.
   *
   * Also, in this one synchronous step:
   * - deallocates the original (it leaves `incomplete`; a later
   *   `deallocate(original)` is a no-op), and removes it from its queue if it
   *   was still queued;
   * - flush: the parts replace the original among the unfinished batches and
   *   keep its `seq`, so a flush begun before the split resolves only once
   *   every part is complete;
   * - memory: the original's reservation (`accountedBytes`) is handed to the
   *   parts in order, each taking up to its exact buffer size; what is left
   *   goes back to the pool now. Part buffers are allocated outside the pool
   *   (as Java), but unlike Java they stay accounted, and each part returns
   *   its share on `deallocate`. The parts need one extra 61-byte header per
   *   extra batch (plus a few varint bytes), so they can exceed the original's
   *   capacity by at most that; this excess alone is not counted in
   *   buffer.memory (Java counts none of the parts);
   * - with idempotence hooks, calls `producerState.onSplit(original, parts)`.
   *
   * `splitBatchSize` defaults to Java 4.2+'s rule (KAFKA-8350): batch.size for
   * a first split, half the batch once a split batch is rejected again.
   * Deviations: "half" is a header plus half the records bytes (Java halves
   * the whole size, header included, which gives parts of fewer than half
   * the records); and a batch that already fits in batch.size is halved on
   * its first split too, since splitting it at batch.size would only
   * re-create it. Without compression every multi-record batch fits
   * batch.size, so here the default always halves; halving a batch of 2+
   * records always yields 2+ parts, so repeated rejections converge on
   * single-record batches, which the sender must then fail, not split.
   *
   * Compressed batches (KAFKA-8350): sizes here are the *uncompressed* records
   * bytes, read back from the staging buffer (no decompression needed). The
   * topic's ratio estimate is reset to `max(1.0, the batch's ratio)`, as
   * Java's, so the batches appended after it are bounded by uncompressed
   * size too until the estimate improves again. A compressed batch usually
   * holds more than batch.size uncompressed, so its first split is by
   * batch.size, later ones halve: the same convergence. The parts start
   * compressing here, all at once (in parallel on the thread pool), and go
   * in queue order, each once it is at the front and compressed; the
   * original's compressed copy's memory is handed over with the rest.
   *
   * Preconditions (throws KafkaClientError INTERNAL, changing nothing): the
   * batch is not done, not deallocated, and has at least 2 records.
   */
  splitAndReenqueue(batch: ProducerBatch, splitBatchSize?: number): number {
    if (batch.isDone || batch.isBufferDeallocated || batch.recordCount < 2) {
      throw new KafkaClientError(
        'INTERNAL',
        `Cannot split the batch for ${batch.topic}-${batch.partition} (${batch.recordCount} records, state ${batch.state}${batch.isBufferDeallocated ? ', deallocated' : ''})`,
      )
    }
    if (this.compression !== null) this.estimator.setEstimation(batch.topic, Math.max(1, batch.compressionRatio))
    const size = batch.uncompressedSizeInBytes
    const target =
      splitBatchSize ??
      (batch.isSplitBatch || size <= this.batchSize ? RECORD_BATCH_OVERHEAD + Math.ceil((size - RECORD_BATCH_OVERHEAD) / 2) : this.batchSize)
    const parts = batch.split(target)
    const n = parts.length
    const q = this.queueOf(batch.topic, batch.partition)
    if (q.deque.remove(batch)) this.queuedBatches--

    // Flush bookkeeping: the original counted once; now each of its n parts does.
    this.unfinishedBatches += n - 1
    for (const w of this.flushWaiters) if (batch.seq < w.limit) w.remaining += n - 1

    // Memory: hand the original's reservation over to the parts.
    this.incomplete.delete(batch)
    let credit = batch.accountedBytes + batch.compressedAccountedBytes
    batch.markBufferDeallocated()
    for (const part of parts) {
      const share = Math.min(part.buffer.length, credit)
      part.setAccountedBytes(share)
      credit -= share
      this.incomplete.add(part)
    }
    if (credit > 0) this.pool.deallocate(null, credit)

    const hooks = this.producerState
    try {
      if (hooks !== null && hooks.onSplit !== undefined) hooks.onSplit(batch, parts)
    } finally {
      // Queued even if the hook throws: the parts own the records now, and only a queue gets them completed.
      const inSequenceOrder = hooks !== null && parts.every((p) => p.hasSequence())
      for (let i = n - 1; i >= 0; i--) {
        if (inSequenceOrder) insertInSequenceOrder(q.deque, parts[i]!, hooks!)
        else q.deque.pushFront(parts[i]!)
      }
      this.syncActive(q)
      this.queuedBatches += n
      // The parts are complete and independent: compress them all now, in parallel on the thread pool, rather
      // than each only once it reaches the front of the queue. Order is kept by the queue: ready() and drain()
      // only ever take a partition's first batch, and only once it is compressed.
      if (this.compression !== null) for (const part of parts) part.startCompression()
    }
    return n
  }

  /**
   * Removes from the queue fronts every batch that has reached
   * delivery.timeout.ms (queues are in creation order, so each scan stops at
   * the first live batch) and recomputes `nextExpiryTimeMs()`. The caller
   * fails them (`done(-1n, -1, timeoutError)`) and deallocates them.
   * In-flight batches are not here; to have their deadlines count, call
   * `maybeUpdateNextBatchExpiryTime` for them after this.
   */
  expiredBatches(nowMs: number): ProducerBatch[] {
    this.nextBatchExpiryTimeMs = Infinity
    const expired: ProducerBatch[] = []
    let sorted = true
    const routes = this.routeList
    for (let r = 0; r < routes.length; r++) sorted = this.expireFrom(routes[r]!.active, nowMs, expired, sorted)
    sorted = this.expireFrom(this.noLeader, nowMs, expired, sorted)
    // Reported partition by partition in queue creation order, as a scan of every queue would; stable, so each partition's stay oldest first.
    if (!sorted) expired.sort((a, b) => this.queueOf(a.topic, a.partition).order - this.queueOf(b.topic, b.partition).order)
    return expired
  }

  /** expiredBatches for one active list; returns whether `expired` is still in queue creation order. */
  private expireFrom(list: ActiveQueues, nowMs: number, expired: ProducerBatch[], sorted: boolean): boolean {
    let q = list.head
    for (let k = list.size; k > 0; k--) {
      const at = q!
      q = at.next
      let first: ProducerBatch | undefined
      while ((first = at.deque.peekFront()) !== undefined) {
        if (!first.hasReachedDeliveryTimeout(this.deliveryTimeoutMs, nowMs)) {
          this.maybeUpdateNextBatchExpiryTime(first)
          break
        }
        at.deque.popFront()
        this.queuedBatches--
        first.closeForAppends()
        if (sorted && expired.length > 0) {
          const last = expired[expired.length - 1]!
          if (last.topic !== first.topic || last.partition !== first.partition) sorted = false
        }
        expired.push(first)
      }
      if (at.deque.size === 0) list.unlink(at)
    }
    return sorted
  }

  maybeUpdateNextBatchExpiryTime(batch: ProducerBatch): void {
    const t = batch.createdMs + this.deliveryTimeoutMs
    if (t < this.nextBatchExpiryTimeMs) this.nextBatchExpiryTimeMs = t
  }

  /** Earliest delivery deadline seen by the last `expiredBatches` pass; Infinity if none. */
  nextExpiryTimeMs(): number {
    return this.nextBatchExpiryTimeMs
  }

  /**
   * Gives a finished batch's buffer back to the pool and forgets it. Call
   * only once the batch's bytes are no longer referenced by a pending socket
   * write (after its response, or after its send with acks=0). When that is
   * not certain (e.g. a batch expired while in flight), pass
   * `reuseBuffer = false`: the memory is returned but the buffer is not
   * recycled (KAFKA-19012). Repeated calls are ignored.
   */
  deallocate(batch: ProducerBatch, reuseBuffer = true): void {
    this.incomplete.delete(batch)
    if (batch.isBufferDeallocated) return
    batch.markBufferDeallocated()
    const bytes = batch.accountedBytes
    if (this.compression === null) {
      // A split batch's buffer never came from the pool: only its share of memory goes back.
      if (bytes > 0) this.pool.deallocate(reuseBuffer && !batch.isSplitBatch ? batch.buffer : null, bytes)
      return
    }
    // Nor is a staging buffer the codec may still be reading recycled (an expired or aborted batch).
    if (bytes > 0) this.pool.deallocate(reuseBuffer && !batch.isSplitBatch && !batch.isCompressing ? batch.buffer : null, bytes)
    const compressedBytes = batch.compressedAccountedBytes
    if (compressedBytes > 0) this.pool.deallocate(null, compressedBytes)
  }

  /**
   * For a forced close: fails every batch not yet completed, queued or in
   * flight, and returns all memory (without recycling buffers a socket write
   * may still hold). Call after `close()`, so no append can add more.
   */
  abortIncompleteBatches(error: Error): void {
    for (const ts of this.topicList) for (const q of ts.queueList) q.deque.clear()
    for (const route of this.nodeRoutes.values()) route.active.reset()
    this.noLeader.reset()
    for (const ts of this.topicList) for (const q of ts.queueList) q.active = q.prev = q.next = null
    this.queuedBatches = 0
    this.compressionFailures = []
    for (const batch of Array.from(this.incomplete)) {
      batch.closeForAppends()
      if (!batch.isDone) batch.abort(error)
      this.deallocate(batch, false)
    }
  }

  /**
   * Fails the batches that never left the accumulator (no sequence assigned
   * with idempotence hooks; never drained otherwise), e.g. when a transaction
   * aborts or the producer hits a fatal error. Retried batches stay.
   */
  abortUndrainedBatches(error: Error): void {
    const withHooks = this.producerState !== null
    for (const ts of this.topicList) {
      for (const q of ts.queueList) {
        if (q.deque.size === 0) continue
        const removed = q.deque.removeWhere((b) => (withHooks ? !b.hasSequence() : !b.isClosed))
        this.queuedBatches -= removed.length
        this.syncActive(q)
        for (const batch of removed) {
          batch.closeForAppends()
          batch.abort(error)
          this.deallocate(batch)
        }
      }
    }
  }

  /**
   * Removes and returns the batches of the partitions led by `nodeId` that
   * never left the accumulator (as `abortUndrainedBatches` chooses them), for
   * the sender to fail when that broker rejected this client's credentials
   * or certificate. Retried batches stay: they may have been written.
   */
  takeUndrainedBatchesFor(nodeId: number): ProducerBatch[] {
    const withHooks = this.producerState !== null
    const taken: ProducerBatch[] = []
    for (const ts of this.topicList) {
      for (const q of ts.queueList) {
        if (q.leader !== nodeId || q.deque.size === 0) continue
        const removed = q.deque.removeWhere((b) => (withHooks ? !b.hasSequence() : !b.isClosed))
        this.queuedBatches -= removed.length
        this.syncActive(q)
        for (const batch of removed) {
          batch.closeForAppends()
          taken.push(batch)
        }
      }
    }
    return taken
  }

  private batchFinished(batch: ProducerBatch): void {
    this.unfinishedBatches--
    const waiters = this.flushWaiters
    for (let i = 0; i < waiters.length; ) {
      const w = waiters[i]!
      if (batch.seq < w.limit && --w.remaining === 0) {
        waiters.splice(i, 1)
        this.flushesInProgress--
        w.resolve()
      } else i++
    }
  }

  // -------------------------------------------------------------------------
  // Flush, close, muting, introspection
  // -------------------------------------------------------------------------

  /** Makes every partition sendable until the matching `awaitFlushCompletion` settles. */
  beginFlush(): void {
    this.flushesInProgress++
  }

  flushInProgress(): boolean {
    return this.flushesInProgress > 0
  }

  /**
   * Resolves once every batch that existed (and was not yet completed) when
   * this is called has completed, successfully or not; then ends the flush
   * begun by `beginFlush()`. Records still waiting for memory are not batches
   * yet and are not waited for (as in Java).
   */
  awaitFlushCompletion(): Promise<void> {
    if (this.unfinishedBatches === 0) {
      this.flushesInProgress--
      return Promise.resolve()
    }
    return new Promise<void>((resolve) => {
      this.flushWaiters.push({ limit: this.nextSeq, remaining: this.unfinishedBatches, resolve })
    })
  }

  /** No more appends; everything queued becomes sendable; memory waiters fail. */
  close(): void {
    this.closed = true
    this.pool.close()
  }

  isClosed(): boolean {
    return this.closed
  }

  mutePartition(topic: string, partition: number): void {
    this.queueOf(topic, partition).muted = true
  }

  unmutePartition(topic: string, partition: number): void {
    const q = this.topics.get(topic)?.queues[partition]
    if (q !== undefined) q.muted = false
  }

  isMuted(topic: string, partition: number): boolean {
    return this.topics.get(topic)?.queues[partition]?.muted ?? false
  }

  /** Batches waiting in queues (not drained), or waiting to be failed after their codec failed. */
  hasUndrained(): boolean {
    return this.queuedBatches > 0 || this.compressionFailures.length > 0
  }

  /** Batches created and not yet deallocated (queued or in flight). */
  hasIncomplete(): boolean {
    return this.incomplete.size > 0
  }

  /** Number of `appendAsync` calls waiting for memory. */
  appendsInProgress(): number {
    return this.appendsInProgressCount
  }

  queuedBatchCount(): number {
    return this.queuedBatches
  }

  /**
   * For `producer.inspect()`: every partition with queued batches (or muted),
   * with its totals, the age of its oldest batch, and why it may not be
   * drained now; leaders are looked up in `cluster` (the current metadata),
   * not in the routing of the last `ready()`. Reads the queues only: O(queued
   * batches + partitions), nothing kept for it between calls. The ordering
   * hook's answer is the one `drain()` would get for the first batch now.
   * With `maxPartitions`, only that many are listed, those with the oldest
   * batches first (the totals still cover every partition).
   */
  inspect(cluster: Cluster, nowMs: number, maxPartitions = Infinity): AccumulatorInspection {
    const partitions: PartitionInspection[] = []
    let totalBatches = 0
    let totalBytes = 0
    let totalRecords = 0
    const hooks = this.producerState
    for (const ts of this.topicList) {
      const infos = cluster.partitionsForTopic(ts.topic)
      for (const q of ts.queueList) {
        const n = q.deque.size
        if (n === 0 && !q.muted) continue
        let bytes = 0
        let records = 0
        let oldest = Infinity
        for (let i = 0; i < n; i++) {
          const b = q.deque.at(i)!
          bytes += b.sizeInBytes
          records += b.recordCount
          if (b.createdMs < oldest) oldest = b.createdMs
        }
        const info = infos[q.partition] as (typeof infos)[number] | undefined
        let leader = info === undefined ? -1 : info.leader
        if (leader >= 0 && cluster.nodeById(leader) === undefined) leader = -1
        const first = q.deque.peekFront()
        let backoffMs = 0
        if (first !== undefined) {
          const waited = first.waitedTimeMs(nowMs)
          if (this.shouldBackoff(first, waited)) backoffMs = first.retryBackoffMs - waited
        }
        partitions.push({
          topic: ts.topic,
          partition: q.partition,
          leader,
          batches: n,
          bytes,
          records,
          oldestBatchAgeMs: n === 0 ? 0 : Math.max(0, nowMs - oldest),
          muted: q.muted || (first !== undefined && hooks !== null && hooks.shouldStopDrainBatchesForPartition(first)),
          backoffMs,
          waitingForLeader: n > 0 && leader < 0,
        })
        totalBatches += n
        totalBytes += bytes
        totalRecords += records
      }
    }
    let omitted = 0
    if (partitions.length > maxPartitions) {
      omitted = partitions.length - maxPartitions
      partitions.sort((a, b) => b.oldestBatchAgeMs - a.oldestBatchAgeMs)
      partitions.length = maxPartitions
    }
    return { batches: totalBatches, bytes: totalBytes, records: totalRecords, partitions, partitionsOmitted: omitted }
  }

  /** A copy of one partition's queue, oldest first; for tests and diagnostics, not hot paths. */
  batchesFor(topic: string, partition: number): ProducerBatch[] {
    return this.topics.get(topic)?.queues[partition]?.deque.toArray() ?? []
  }

  get bufferPool(): BufferPool {
    return this.pool
  }
}

/**
 * Java's insertInSequenceOrder: a retried batch goes in front of every
 * batch with a higher sequence (or none), behind those with a lower one.
 */
function insertInSequenceOrder(deque: Deque<ProducerBatch>, batch: ProducerBatch, hooks: ProducerStateHooks): void {
  if (!batch.hasSequence()) {
    throw new KafkaClientError('INTERNAL', `Re-enqueueing a batch for ${batch.topic}-${batch.partition} without a sequence although idempotence is on`)
  }
  const seqOf = (b: ProducerBatch): number => (hooks.sequenceOf !== undefined ? hooks.sequenceOf(b) : b.baseSequence)
  const seq = seqOf(batch)
  const front = deque.peekFront()
  if (front === undefined || !front.hasSequence() || seqOf(front) >= seq) {
    deque.pushFront(batch)
    return
  }
  const lower: ProducerBatch[] = []
  let f: ProducerBatch | undefined
  while ((f = deque.peekFront()) !== undefined && f.hasSequence() && seqOf(f) < seq) lower.push(deque.popFront()!)
  deque.pushFront(batch)
  for (let i = lower.length - 1; i >= 0; i--) deque.pushFront(lower[i]!)
}
