// Imported, not the global: Node's global `Buffer` is a lazy getter that runs on every use (bench/micro/FINDINGS.md).
import { Buffer } from 'node:buffer'
import { KafkaClientError } from '../errors.js'
import type { BatchCompression } from '../protocol/compression/index.js'
import { crc32c } from '../protocol/crc32c.js'
import {
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  NO_SEQUENCE,
  RECORD_BATCH_OVERHEAD,
  RecordTimestampCursor,
  type RecordData,
  type HeaderPairs,
  type RecordView,
  TRANSACTIONAL_FLAG,
  byteLengthOf,
  incrementSequence,
  readRecordView,
  rewriteProducerState,
  sizeOfRecordBody,
  sizeOfRecordBodyWithHeaderBytes,
  writeRecordBatchHeader,
  writeMeasuredRecord,
  writeMeasuredRecordWithHeaderBytes,
} from '../protocol/record-batch.js'
import { sizeOfVarint } from '../protocol/varint.js'
import { rethrowOnNextTick } from '../util/rethrow.js'
import { COMPRESSION_RATE_ESTIMATION_FACTOR } from './compression-ratio-estimator.js'
import type { RecordMetadata, SendCallback } from './record.js'

/** Where a growing batch gets its larger buffer and returns the smaller one (BufferPool). */
export interface BatchMemory {
  /** A buffer of `size` bytes holding `old`'s first `used` bytes, replacing `old` in the count, now or null (never waits). */
  tryGrow(old: Buffer, used: number, size: number): Buffer | null
  /** The smallest buffer size the memory hands out for `size` bytes. */
  sizeClassFor(size: number): number
}

export type { RecordMetadata }

/** Node-style completion: exactly one of `err` and `metadata` is non-null (the public SendCallback). */
export type RecordCallback = SendCallback
/** The `resolve` of a `send()` promise. */
export type RecordResolve = (metadata: RecordMetadata) => void
/** The `reject` of a `send()` promise. */
export type RecordReject = (err: Error) => void

/**
 * How the batch completes a record. A record has two slots, filled once by the
 * producer without any wrapper allocation:
 * - callback style: `complete` = the user's `(err, metadata)` callback, `fail` = null;
 * - promise style:  `complete` = the promise's `resolve`, `fail` = its `reject`.
 */
export type RecordCompletion = RecordCallback | RecordResolve

/** The transactional producer's manager, as a send that failed before its append sees it (TransactionManager). */
export interface SendTransaction {
  /** The open transaction (a new number with each beginTransaction()). */
  readonly transactionGeneration: number
  /** A send of transaction `generation` never reached a batch: its transaction must not commit without it. */
  recordNotAppended(generation: number, error: Error): void
}

/**
 * Fails a record that never reached a batch (rejected at send(), or failed
 * while it waited in the producer), through the same slots a batch would use,
 * and counts it in record-error-total. In a transaction (`txn`, the send's
 * transaction `generation`) the transaction is told first, as Java's doSend
 * hands the error to TransactionManager.maybeTransitionToErrorState: it
 * becomes abortable before the application's callback can run and call
 * commitTransaction(). Never calls back before send() has returned:
 * completions are always asynchronous.
 */
export function failNotAppended(
  complete: RecordCompletion,
  fail: RecordReject | null,
  err: Error,
  stats: { recordErrors(count: number): void },
  txn: SendTransaction | null,
  generation: number,
): void {
  stats.recordErrors(1)
  if (txn !== null) txn.recordNotAppended(generation, err)
  process.nextTick(() => {
    if (fail !== null) fail(err)
    else (complete as RecordCallback)(err, null)
  })
}

/**
 * Java's FinalState, plus the in-progress state it models as null, plus SPLIT:
 * the batch was split and its records (their completion slots) moved to the
 * new batches, which complete them; the batch itself completes nothing more.
 */
const FinalState = { InProgress: 0, Aborted: 1, Failed: 2, Succeeded: 3, Split: 4 } as const
type FinalState = (typeof FinalState)[keyof typeof FinalState]

const FINAL_STATE_NAMES = ['IN_PROGRESS', 'ABORTED', 'FAILED', 'SUCCEEDED', 'SPLIT'] as const
export type BatchState = (typeof FINAL_STATE_NAMES)[number]

const EMPTY = Buffer.alloc(0)

/** Shared by batches with no record yet; replaced (never written) on the first append. */
const EMPTY_SLOTS: readonly unknown[] = Object.freeze([])

/**
 * Upper bound on the slots reserved up front: a batch of many tiny records
 * grows its arrays past this the ordinary way instead of reserving for a
 * huge buffer that may never fill.
 */
const MAX_RESERVED_SLOTS = 2048
/** Runs reserved when nothing is known about the partition's batches (its first batch). */
const DEFAULT_RESERVED_SLOTS = 16

/** Shared by all batches of one accumulator; one reference per batch, no closure per batch. */
export interface ProducerBatchHooks {
  /** Called once, after every record of the batch has been completed. */
  onBatchFinal(batch: ProducerBatch): void
  /** A user callback threw; every other record still completes. */
  onCallbackError(err: unknown, batch: ProducerBatch): void
  /**
   * A compressed batch's compression finished (`batch.isCompressed`), on a
   * later tick than `startCompression`. Also called when the batch reached a
   * final state meanwhile (then nothing will send it). Optional: uncompressed
   * producers never call it.
   */
  onCompressed?(batch: ProducerBatch, uncompressedRecordsBytes: number, compressedRecordsBytes: number): void
  /** The codec rejected (a bug or a native failure): the batch cannot be sent. */
  onCompressionFailed?(batch: ProducerBatch, err: unknown): void
}

/** Where a compressed batch is in its close step; uncompressed batches stay at None. */
const Compress = { None: 0, InFlight: 1, Done: 2, Failed: 3 } as const
type Compress = (typeof Compress)[keyof typeof Compress]

/**
 * Records for one partition, encoded at append time straight into one pooled
 * buffer; Java's ProducerBatch plus the MemoryRecordsBuilder it wraps.
 *
 * Invariants:
 * - `buffer[0, RECORD_BATCH_OVERHEAD)` is reserved for the header and is only
 *   written by `close()` (and rewritten by `setProducerState` after close).
 *   Records occupy `[RECORD_BATCH_OVERHEAD, estimatedSizeInBytes)`, each written
 *   whole or not at all: `tryAppend` sizes first and rejects before writing.
 * - `estimatedSizeInBytes` is the exact byte count so far (no compression), so
 *   "does it fit" and the drain size check are O(1).
 * - The write limit is `maxCapacity`: `max(batchSize, header + first
 *   record)`, so the first record always fits and an oversized record gets a
 *   batch of its own. The buffer may start smaller (a pool size class that
 *   holds the first record) and grow, while the batch is open, to a larger
 *   class from `memory` (doubling, or enough for the record, capped at
 *   `maxCapacity`): the bytes written so far are copied once into the new
 *   buffer and the old one goes back to the pool, so appends stay amortized
 *   O(1). Growth never waits: when the pool cannot hand the buffer out at
 *   once, the record is refused as if the batch were full. Once closed for
 *   appends the buffer never changes, so `close()`'s view and the zero-copy
 *   send are as without growth. Split and compressed batches never grow.
 * - Record i has offsetDelta i. Its timestamp is not stored: it is read back
 *   from the encoded record when the batch completes. Its completion slots
 *   are stored per run: consecutive records with the same `complete` and
 *   `fail` (callback sends sharing one callback) form one run, so such a
 *   batch holds no per-record JS state at all. Per-record state was what
 *   made the heap grow with the records in flight (bench/micro/FINDINGS.md:
 *   -20 MB peak RSS); sends that each bring their own callback, or promise,
 *   still cost one run apiece. The run arrays are sized once, at the first record, for as
 *   many runs as the previous batch of the partition had (`expectedRuns`),
 *   capped by how many records of the first one's size the buffer holds, so
 *   they rarely regrow. `runFails` stays null while every run is
 *   callback-style (its entries would all be null).
 * - Every record is completed exactly once: the first transition out of
 *   `InProgress` fires all slots; later `done()` calls are ignored or, after
 *   success, rejected (as Java's FinalState).
 * - After `close()`, `records()` is a view of `buffer`, not a copy: it is only
 *   valid until the accumulator deallocates the batch.
 * - `split()` moves every record, slots and timestamp included, to new
 *   batches and leaves this one in the final state SPLIT without completing
 *   anything: each record is still completed exactly once, by its new batch.
 *
 * With compression (`compression` non-null; Java's MemoryRecordsBuilder with
 * a codec), the batch is a record-batch builder whose close step compresses:
 * - Records are still written uncompressed into `buffer` (the staging
 *   buffer), up to `writeLimit` bytes: the accumulator sets it so that the
 *   *estimated* compressed size, `61 + records * ratio * 1.05`, stays within
 *   batch.size (Java's `estimatedBytesWritten`, `CompressionRatioEstimator`).
 *   `estimatedSizeInBytes` is that estimate until compressed, the exact wire
 *   size after.
 * - Lifecycle: open → closed for appends → `startCompression()` (the records
 *   region [61, end) goes to the codec on libuv's thread pool; the batch is
 *   "closing") → compressed (`isCompressed`: a buffer of its own holding a
 *   reserved header and the compressed records, whose CRC is taken once) →
 *   `close()` writes the header into that buffer (codec id in attributes bits
 *   0-2) → sent. Only a compressed batch may be closed, hence drained.
 * - The staging buffer is kept until the accumulator deallocates the batch:
 *   completion reads the record timestamps from it and `split()` re-reads the
 *   records from it, so neither needs a decompression. It must not be
 *   modified nor recycled while the codec reads it (`isCompressing`).
 * - A retry resends the same compressed bytes: `setProducerState` after
 *   close only rewrites header fields and the CRC over [21, end).
 * Uncompressed batches (`compression` null) never touch any of this: their
 * `writeLimit` is `buffer.length` and their close step is the CRC above.
 */
export class ProducerBatch {
  readonly topic: string
  readonly partition: number
  readonly createdMs: number
  /** The buffer's length at creation: the capacity the pool handed out, for a normal batch. */
  readonly initialCapacity: number
  /** The batch's codec; null when records go uncompressed. */
  readonly compression: BatchCompression | null

  recordCount = 0
  /** The largest record appended, in bytes as encoded (Java's maxRecordSize, for record-size-avg/max). */
  maxRecordSize = 0
  /** Number of times this batch was re-enqueued for retry. */
  attempts = 0
  lastAttemptMs: number
  lastAppendTimeMs: number
  drainedMs = 0
  /** Jittered backoff chosen when the batch was last re-enqueued; 0 before any retry. */
  retryBackoffMs = 0
  /** Monotonic creation number, used by flush to tell "before" from "after". */
  readonly seq: number
  /**
   * Made by `split()`: its buffer was allocated outside the pool (exactly
   * sized, never recycled), and it holds `accountedBytes` of buffer.memory
   * that the accumulator handed over from the batch it was split from.
   */
  readonly isSplitBatch: boolean

  /** The pooled buffer; replaced by a larger one while the batch grows (see the class notes), fixed once closed for appends. */
  private buf: Buffer
  /** Where a growing batch's larger buffers come from; null when it cannot grow. */
  private readonly memory: BatchMemory | null
  /** What the buffer may grow to: the write limit of a growing batch; `buffer.length` otherwise. */
  private readonly maxCapacity: number
  private writeOffset = RECORD_BATCH_OVERHEAD
  /** Appends stop at this many bytes: `buffer.length` without compression; see the class notes with it. */
  private writeLimit: number
  /** The compression ratio estimate x 1.05 this batch was sized with; 0 without compression. */
  private readonly ratioFactor: number
  private compressState: Compress = Compress.None
  /** Header room + compressed records, once compressed; becomes the view at close(). */
  private compressed: Buffer | null = null
  /** Bytes of buffer.memory the compressed copy holds (see RecordAccumulator's memory invariant). */
  private compressedPoolBytes = 0
  private baseTimestamp = 0
  private maxTimestamp = -1
  private appendsClosed = false
  /** crc32c of the records region, taken by closeForAppends(); -1 when not taken. */
  private recordsCrc = -1
  private view: Buffer | null = null
  /** Producer state changed after close: rewrite header and CRC before the next send. */
  private headerStale = false
  private finalState: FinalState = FinalState.InProgress
  private bufferDeallocated = false
  private retry = false
  private currentLeaderEpoch = -1
  private attemptsWhenLeaderLastChanged = 0

  private poolBytes: number

  private producerIdValue: bigint = NO_PRODUCER_ID
  private producerEpochValue = NO_PRODUCER_EPOCH
  private baseSequenceValue = NO_SEQUENCE
  private transactional = false

  /** Completion runs: run r covers records [runStarts[r], runStarts[r + 1]) (the last one up to recordCount). */
  private runCount = 0
  private runStarts: number[] = EMPTY_SLOTS as number[]
  private runCompletes: RecordCompletion[] = EMPTY_SLOTS as RecordCompletion[]
  /** null until a run with a non-null `fail` (a promise send) is appended. */
  private runFails: (RecordReject | null)[] | null = null
  private readonly hooks: ProducerBatchHooks | null
  private readonly expectedRuns: number

  constructor(
    topic: string,
    partition: number,
    buffer: Buffer,
    createdMs: number,
    options?: {
      hooks?: ProducerBatchHooks | null
      seq?: number
      isSplitBatch?: boolean
      /** How many completion runs the previous batch of this partition had: the run arrays are sized for it. */
      expectedRuns?: number
      /** The codec; null or absent for uncompressed batches. */
      compression?: BatchCompression | null
      /** Compressed batches: where appends stop (<= buffer.length); see the class notes. */
      writeLimit?: number
      /** Compressed batches: the compression ratio estimate the batch was sized with (for estimatedSizeInBytes). */
      estimatedRatio?: number
      /** Uncompressed batches: where larger buffers come from, so the batch can grow up to `maxCapacity`. */
      memory?: BatchMemory | null
      /** With `memory`: the capacity the batch may grow to (max(batch.size, its first record alone)). */
      maxCapacity?: number
    },
  ) {
    if (buffer.length < RECORD_BATCH_OVERHEAD) throw new RangeError(`A batch buffer needs at least ${RECORD_BATCH_OVERHEAD} bytes, got ${buffer.length}`)
    this.topic = topic
    this.partition = partition
    this.buf = buffer
    this.initialCapacity = buffer.length
    this.createdMs = createdMs
    this.lastAttemptMs = createdMs
    this.lastAppendTimeMs = createdMs
    this.hooks = options?.hooks ?? null
    this.seq = options?.seq ?? 0
    this.isSplitBatch = options?.isSplitBatch ?? false
    this.expectedRuns = options?.expectedRuns ?? DEFAULT_RESERVED_SLOTS
    this.poolBytes = this.isSplitBatch ? 0 : buffer.length
    const compression = options?.compression ?? null
    this.compression = compression !== null && compression.id !== 0 ? compression : null
    const maxCapacity = options?.maxCapacity ?? buffer.length
    if (this.compression === null && !this.isSplitBatch && options?.memory != null && maxCapacity > buffer.length) {
      this.memory = options.memory
      this.maxCapacity = maxCapacity
    } else {
      this.memory = null
      this.maxCapacity = buffer.length
    }
    if (this.compression === null) {
      this.writeLimit = buffer.length
      this.ratioFactor = 0
    } else {
      this.writeLimit = Math.min(buffer.length, Math.max(RECORD_BATCH_OVERHEAD, options?.writeLimit ?? buffer.length))
      this.ratioFactor = (options?.estimatedRatio ?? 1) * COMPRESSION_RATE_ESTIMATION_FACTOR
    }
  }

  /** The batch's buffer: records are encoded into it, and `close()` returns a view of it. */
  get buffer(): Buffer {
    return this.buf
  }

  /** The buffer's current length (grows while the batch is open; see the class notes). */
  get capacity(): number {
    return this.buf.length
  }

  /**
   * Bytes of buffer.memory this batch holds, returned to the pool when the
   * accumulator deallocates it: the pooled buffer's capacity for a normal
   * batch; for a split batch, its share of its original's reservation.
   */
  get accountedBytes(): number {
    return this.poolBytes
  }

  /** @internal The accumulator's memory hand-over when splitting. */
  setAccountedBytes(bytes: number): void {
    this.poolBytes = bytes
  }

  /**
   * Bytes of buffer.memory held by the compressed copy, on top of
   * `accountedBytes`: 0 until compressed, and always 0 without compression.
   */
  get compressedAccountedBytes(): number {
    return this.compressedPoolBytes
  }

  /** @internal The accumulator's reservation for the compressed copy (and its hand-over when splitting). */
  setCompressedAccountedBytes(bytes: number): void {
    this.compressedPoolBytes = bytes
  }

  /**
   * Bytes written so far, header included: exact for uncompressed batches.
   * For a compressed one, Java's estimate until the codec has run (header +
   * records x estimated ratio x 1.05), then the exact compressed size.
   */
  get estimatedSizeInBytes(): number {
    if (this.compression === null) return this.writeOffset
    if (this.compressed !== null) return this.compressed.length
    return RECORD_BATCH_OVERHEAD + Math.ceil((this.writeOffset - RECORD_BATCH_OVERHEAD) * this.ratioFactor)
  }

  /** Bytes of uncompressed records written, header included (what `split()` divides). */
  get uncompressedSizeInBytes(): number {
    return this.writeOffset
  }

  /** Size of the closed batch (what goes on the wire); the running size before close. */
  get sizeInBytes(): number {
    return this.view !== null ? this.view.length : this.estimatedSizeInBytes
  }

  /** True once no more records will be accepted, or the write limit (the capacity a growing batch may reach) is exactly reached. */
  get isFull(): boolean {
    return this.appendsClosed || (this.recordCount > 0 && this.writeOffset >= this.finalWriteLimit)
  }

  /** Uncompressed batches are always sendable; a compressed one once its codec has run. */
  get isCompressed(): boolean {
    return this.compression === null || this.compressState === Compress.Done
  }

  /** The codec is reading `buffer` on the thread pool: it must be neither modified nor recycled. */
  get isCompressing(): boolean {
    return this.compressState === Compress.InFlight
  }

  /** `startCompression()` was called (the batch is closing, compressed, or its codec failed). */
  get compressionStarted(): boolean {
    return this.compressState !== Compress.None
  }

  /** compressed records bytes / uncompressed records bytes, Java's `compressionRatio()`; 1 until compressed and without compression. */
  get compressionRatio(): number {
    if (this.compressed === null || this.writeOffset === RECORD_BATCH_OVERHEAD) return 1
    return (this.compressed.length - RECORD_BATCH_OVERHEAD) / (this.writeOffset - RECORD_BATCH_OVERHEAD)
  }

  get isClosed(): boolean {
    return this.view !== null
  }

  get isDone(): boolean {
    return this.finalState !== FinalState.InProgress
  }

  get state(): BatchState {
    return FINAL_STATE_NAMES[this.finalState]
  }

  get isBufferDeallocated(): boolean {
    return this.bufferDeallocated
  }

  get queueTimeMs(): number {
    return this.drainedMs - this.createdMs
  }

  get producerId(): bigint {
    return this.producerIdValue
  }

  get producerEpoch(): number {
    return this.producerEpochValue
  }

  get baseSequence(): number {
    return this.baseSequenceValue
  }

  get isTransactional(): boolean {
    return this.transactional
  }

  hasSequence(): boolean {
    return this.baseSequenceValue !== NO_SEQUENCE
  }

  /** Completion runs so far (see the class invariants); 1 when every record shares one callback. */
  get completionRuns(): number {
    return this.runCount
  }

  /**
   * The record's CreateTime as appended, read back from the encoded batch:
   * O(index), for diagnostics and tests. Valid while the buffer is.
   */
  timestampAt(index: number): number {
    if (index < 0 || index >= this.recordCount) throw new RangeError(`No record ${index} in a batch of ${this.recordCount}`)
    const cursor = new RecordTimestampCursor(this.buf)
    for (let i = 0; i < index; i++) cursor.next()
    return this.baseTimestamp + cursor.next()
  }

  /**
   * Encodes the record at the end of the batch if it fits, registering its
   * completion slots. Returns the record's index (its offsetDelta), or -1 with
   * nothing written when it does not fit or appends are closed. Allocation-
   * free apart from the first record's run arrays (and their rare growth).
   */
  tryAppend(
    timestampMs: number,
    key: RecordData,
    value: RecordData,
    headers: HeaderPairs,
    complete: RecordCompletion,
    fail: RecordReject | null,
    nowMs: number,
  ): number {
    if (this.appendsClosed) return -1
    const index = this.recordCount
    const timestampDelta = index === 0 ? 0 : timestampMs - this.baseTimestamp
    const keyLength = byteLengthOf(key)
    const valueLength = byteLengthOf(value)
    const bodySize = sizeOfRecordBody(index, timestampDelta, keyLength, valueLength, headers)
    const recordSize = sizeOfVarint(bodySize) + bodySize
    if (this.writeOffset + recordSize > this.writeLimit && !this.grow(this.writeOffset + recordSize)) return -1
    if (recordSize > this.maxRecordSize) this.maxRecordSize = recordSize
    this.writeOffset = writeMeasuredRecord(
      this.buf,
      this.writeOffset,
      bodySize,
      index,
      timestampDelta,
      key,
      keyLength,
      value,
      valueLength,
      headers,
    )
    if (index === 0) {
      this.baseTimestamp = timestampMs
      this.reserveSlots(recordSize)
    }
    if (timestampMs > this.maxTimestamp) this.maxTimestamp = timestampMs
    this.setSlots(index, complete, fail)
    this.recordCount = index + 1
    this.lastAppendTimeMs = nowMs
    return index
  }

  /** The write limit once fully grown: `maxCapacity` for a batch that can grow, else `writeLimit`. */
  private get finalWriteLimit(): number {
    return this.memory === null ? this.writeLimit : this.maxCapacity
  }

  /**
   * Moves the records into a larger buffer from `memory` so that `needed`
   * bytes fit: the next size class up from double the capacity (or from
   * `needed`, if larger), at most `maxCapacity`. False, changing nothing,
   * when the batch cannot grow that far or the pool has no memory for it
   * right now (growth never waits: the caller then treats the batch as full).
   */
  private grow(needed: number): boolean {
    const memory = this.memory
    if (memory === null || needed > this.maxCapacity || this.appendsClosed) return false
    const max = this.maxCapacity
    const size = Math.min(max, memory.sizeClassFor(Math.max(needed, 2 * this.buf.length)))
    let bigger: Buffer | null
    try {
      bigger = memory.tryGrow(this.buf, this.writeOffset, size)
    } catch {
      // Closed, or more than buffer.memory: refused like a full batch; the new batch's allocation reports why.
      return false
    }
    if (bigger === null) return false
    this.buf = bigger
    this.writeLimit = size
    this.poolBytes = size
    return true
  }

  /**
   * Sizes the run arrays for `expectedRuns`, but for no more runs than the
   * batch holds records of the first one's size (nor more than
   * MAX_RESERVED_SLOTS).
   */
  private reserveSlots(firstRecordSize: number): void {
    const fit = Math.floor((this.finalWriteLimit - RECORD_BATCH_OVERHEAD) / firstRecordSize)
    const n = Math.max(1, Math.min(MAX_RESERVED_SLOTS, fit, this.expectedRuns))
    this.runStarts = new Array<number>(n)
    this.runCompletes = new Array<RecordCompletion>(n)
  }

  /** Registers record `index`'s completion: it joins the last run when its slots are the same, else starts one. */
  private setSlots(index: number, complete: RecordCompletion, fail: RecordReject | null): void {
    const r = this.runCount
    const fails = this.runFails
    if (r > 0 && this.runCompletes[r - 1] === complete && (fails === null ? fail === null : fails[r - 1] === fail)) return
    // Index stores, not push: within the reserved length nothing is reallocated; past it the array grows.
    this.runStarts[r] = index
    this.runCompletes[r] = complete
    if (fail !== null) {
      if (fails === null) this.runFails = new Array<RecordReject | null>(r).fill(null)
      this.runFails![r] = fail
    } else if (fails !== null) {
      fails[r] = null
    }
    this.runCount = r + 1
  }

  /** Drops the references to user code and promises: the batch may outlive them (metrics, retries of a split). */
  private releaseSlots(): void {
    this.runStarts = EMPTY_SLOTS as number[]
    this.runCompletes = EMPTY_SLOTS as RecordCompletion[]
    this.runFails = null
  }

  /**
   * No more appends: the batch rejected a record, expired, or is aborting.
   * The records are final now, and were just written if the batch filled up:
   * they are checksummed here, while in the CPU caches, rather than at
   * close() when the sender drains the batch (about 2x faster: FINDINGS.md).
   */
  closeForAppends(): void {
    if (this.appendsClosed) return
    this.appendsClosed = true
    // Compressed batches checksum their compressed bytes instead (startCompression).
    if (this.recordCount > 0 && this.view === null && this.compression === null) {
      this.recordsCrc = crc32c(this.buf, RECORD_BATCH_OVERHEAD, this.writeOffset)
    }
  }

  /**
   * The close step of a compressed batch (Java compresses as records are
   * appended, on the producer thread; we compress the whole records region
   * once, on libuv's thread pool): closes the batch for appends and hands
   * [61, end) to the codec. When it is done, the compressed records are
   * copied behind a reserved header into a buffer of their own, checksummed,
   * and `hooks.onCompressed` runs; a codec failure runs
   * `hooks.onCompressionFailed`. No-op when already started, without
   * compression, or once the batch is final.
   */
  startCompression(): void {
    const compression = this.compression
    if (compression === null || this.compressState !== Compress.None || this.finalState !== FinalState.InProgress) return
    this.appendsClosed = true
    this.compressState = Compress.InFlight
    const input = this.buf.subarray(RECORD_BATCH_OVERHEAD, this.writeOffset)
    let pending: Promise<Buffer>
    try {
      pending = compression.compress(input)
    } catch (err) {
      // A codec that throws instead of rejecting fails the same way, on a later tick, not in the caller's append or ready().
      pending = Promise.reject(err)
    }
    pending.then(
      (out) => this.compressionDone(out),
      (err: unknown) => this.compressionFailed(err),
    )
  }

  private compressionDone(out: Buffer): void {
    const wire = Buffer.allocUnsafeSlow(RECORD_BATCH_OVERHEAD + out.length)
    out.copy(wire, RECORD_BATCH_OVERHEAD)
    this.compressed = wire
    // Taken once: every close() and retry combines it with the 40 header bytes' CRC.
    this.recordsCrc = crc32c(wire, RECORD_BATCH_OVERHEAD, wire.length)
    this.compressState = Compress.Done
    this.hooks?.onCompressed?.(this, this.writeOffset - RECORD_BATCH_OVERHEAD, out.length)
  }

  private compressionFailed(err: unknown): void {
    this.compressState = Compress.Failed
    this.hooks?.onCompressionFailed?.(this, err)
  }

  /**
   * Backpatches the header (length, counts, timestamps, producer state, CRC)
   * and returns the batch as a view of its buffer, to be spliced into a
   * Produce request as-is. Idempotent: a retried batch returns the same view.
   */
  close(): Buffer {
    if (this.view !== null) return this.records()
    this.appendsClosed = true
    if (this.recordCount === 0) {
      this.view = this.buf.subarray(0, 0)
      return this.view
    }
    let view: Buffer
    let attributes = this.transactional ? TRANSACTIONAL_FLAG : 0
    if (this.compression === null) {
      view = this.buf.subarray(0, this.writeOffset)
    } else {
      if (this.compressed === null) {
        throw new KafkaClientError('INTERNAL', `The batch for ${this.topic}-${this.partition} is closed before its compression finished`)
      }
      view = this.compressed
      attributes |= this.compression.id
    }
    writeRecordBatchHeader(
      view,
      attributes,
      this.recordCount - 1,
      this.baseTimestamp,
      this.maxTimestamp,
      this.producerIdValue,
      this.producerEpochValue,
      this.baseSequenceValue,
      this.recordCount,
      this.recordsCrc,
    )
    this.view = view
    return view
  }

  /** The closed batch bytes; throws before `close()`. */
  records(): Buffer {
    if (this.view === null) throw new Error(`Batch for ${this.topic}-${this.partition} is not closed`)
    if (this.headerStale) {
      this.headerStale = false
      rewriteProducerState(this.view, this.producerIdValue, this.producerEpochValue, this.baseSequenceValue, this.transactional)
    }
    return this.view
  }

  /**
   * Sets the idempotence fields. Before close they are written by `close()`;
   * after close (a retry under a new producer id/epoch or sequence) the header
   * and CRC are rewritten in place, so the view stays the same object.
   */
  setProducerState(producerId: bigint, producerEpoch: number, baseSequence: number, isTransactional: boolean): void {
    this.producerIdValue = producerId
    this.producerEpochValue = producerEpoch
    this.baseSequenceValue = baseSequence
    this.transactional = isTransactional
    // Closed already (a retry under a new epoch or sequence): the bytes may still be on their way to a
    // socket from the last attempt, so the header is rewritten when the next attempt asks for them.
    if (this.view !== null && this.view.length > 0) this.headerStale = true
  }

  /**
   * Completes every record: success when `error` is null, else failure, with
   * `recordError(i)` (when given) overriding the error of individual records
   * (Produce v8+ record_errors). Returns true if this call completed the batch.
   * A repeated completion is ignored unless the batch had already succeeded,
   * which is a bug and throws. Ignored too (returns false) on a SPLIT batch.
   */
  done(
    baseOffset: bigint,
    logAppendTime: number,
    error: Error | null,
    recordError?: (index: number) => Error | null | undefined,
  ): boolean {
    const target = error === null ? FinalState.Succeeded : FinalState.Failed
    if (this.finalState === FinalState.InProgress) {
      this.finalState = target
      this.complete(baseOffset, logAppendTime, error, recordError)
      return true
    }
    if (this.finalState === FinalState.Succeeded) {
      throw new Error(`A SUCCEEDED batch must not attempt another state change to ${FINAL_STATE_NAMES[target]}`)
    }
    return false
  }

  /**
   * Fails every record with `error` without it ever reaching a broker response.
   * A no-op on a SPLIT batch (its records belong to the new batches).
   */
  abort(error: Error): void {
    if (this.finalState === FinalState.Split) return
    if (this.finalState !== FinalState.InProgress) {
      throw new Error(`Batch has already been completed in final state ${FINAL_STATE_NAMES[this.finalState]}`)
    }
    this.appendsClosed = true
    this.finalState = FinalState.Aborted
    this.complete(-1n, -1, error, undefined)
  }

  hasReachedDeliveryTimeout(deliveryTimeoutMs: number, nowMs: number): boolean {
    return deliveryTimeoutMs <= nowMs - this.createdMs
  }

  inRetry(): boolean {
    return this.retry
  }

  /** Called when the batch goes back to its queue for another attempt. */
  reenqueued(nowMs: number): void {
    this.attempts++
    this.lastAttemptMs = Math.max(this.lastAppendTimeMs, nowMs)
    this.lastAppendTimeMs = this.lastAttemptMs
    this.retry = true
  }

  drained(nowMs: number): void {
    this.drainedMs = Math.max(this.drainedMs, nowMs)
  }

  waitedTimeMs(nowMs: number): number {
    return Math.max(0, nowMs - this.lastAttemptMs)
  }

  /** KIP-951: remember when the leader epoch advanced, so a retry to a new leader skips backoff. */
  maybeUpdateLeaderEpoch(leaderEpoch: number): void {
    if (leaderEpoch >= 0 && (this.currentLeaderEpoch < 0 || this.currentLeaderEpoch < leaderEpoch)) {
      this.attemptsWhenLeaderLastChanged = this.attempts
      this.currentLeaderEpoch = leaderEpoch
    }
  }

  hasLeaderChangedForTheOngoingRetry(): boolean {
    return this.attempts >= 1 && this.attempts === this.attemptsWhenLeaderLastChanged
  }

  /**
   * Java's ProducerBatch.split. Re-reads this batch's records from its buffer
   * (in place: keys, values and header sections are views, copied only into
   * the new buffers) and appends them, in order, to new batches, each holding
   * as many records as fit in `max(splitBatchSize, header + its first record)`
   * bytes; so a record larger than `splitBatchSize` gets a batch of its own.
   *
   * The new batches: `isSplitBatch`; an exactly sized buffer from outside the
   * pool (`accountedBytes` 0 until the accumulator hands memory over); this
   * batch's topic, partition, createdMs (the delivery timeout still runs from
   * the original append), hooks and `seq`; attempts 0 and no backoff ("as if
   * not even tried", as Java); closed for appends but not yet `close()`d.
   * With compression, the records are read from the uncompressed staging
   * buffer (kept for this), the parts are bounded by their uncompressed size
   * (KAFKA-8350) and carry the same codec, and are not compressed yet: the
   * accumulator starts their compression once they are queued.
   * Each record keeps its timestamp and its completion slots, so its callback
   * or promise is completed once, by the new batch. If this batch has a
   * sequence, the new ones get consecutive ranges from it under the same
   * producer id/epoch and transactional flag (Java's assignProducerStateToBatches).
   *
   * This batch ends in the final state SPLIT with its slots released and
   * nothing completed; memory, queues and flush bookkeeping are the
   * accumulator's (`RecordAccumulator.splitAndReenqueue`). Throws, changing
   * nothing, if the batch is empty, already final, or its buffer was deallocated.
   */
  split(splitBatchSize: number): ProducerBatch[] {
    if (this.finalState !== FinalState.InProgress) {
      throw new KafkaClientError('INTERNAL', `Cannot split a batch for ${this.topic}-${this.partition} in final state ${FINAL_STATE_NAMES[this.finalState]}`)
    }
    if (this.bufferDeallocated) throw new KafkaClientError('INTERNAL', `Cannot split a batch for ${this.topic}-${this.partition} whose buffer was deallocated`)
    const n = this.recordCount
    if (n === 0) throw new KafkaClientError('INTERNAL', `Cannot split an empty batch for ${this.topic}-${this.partition}`)

    // Pass 1: read every record in place and plan the new batches; nothing is changed yet.
    const region = this.buf.subarray(0, this.writeOffset)
    const views = new Array<RecordView>(n)
    const sizes: number[] = []
    const counts: number[] = []
    let pos = RECORD_BATCH_OVERHEAD
    let size = 0
    let limit = 0
    let count = 0
    let base = 0
    for (let i = 0; i < n; i++) {
      const v: RecordView = { timestampDelta: 0, offsetDelta: 0, key: null, value: null, headers: EMPTY }
      pos = readRecordView(region, pos, v)
      if (v.offsetDelta !== i) {
        throw new KafkaClientError('INTERNAL', `Record ${i} of the batch for ${this.topic}-${this.partition} does not match what was appended`)
      }
      const ts = this.baseTimestamp + v.timestampDelta
      views[i] = v
      if (count > 0) {
        const s = sizeOfViewRecord(count, ts - base, v)
        if (size + s <= limit) {
          size += s
          count++
          continue
        }
        sizes.push(size)
        counts.push(count)
      }
      base = ts
      size = RECORD_BATCH_OVERHEAD + sizeOfViewRecord(0, 0, v)
      limit = Math.max(splitBatchSize, size)
      count = 1
    }
    sizes.push(size)
    counts.push(count)
    if (pos !== this.writeOffset) {
      throw new KafkaClientError('INTERNAL', `The batch for ${this.topic}-${this.partition} has ${this.writeOffset - pos} bytes after its ${n} records`)
    }

    // Pass 2: write the new batches, moving each record's slots and timestamp.
    const out = new Array<ProducerBatch>(sizes.length)
    let sequence = this.baseSequenceValue
    let i = 0
    let run = -1
    let runEnd = 0
    for (let k = 0; k < sizes.length; k++) {
      const b = new ProducerBatch(this.topic, this.partition, Buffer.allocUnsafeSlow(sizes[k]!), this.createdMs, {
        hooks: this.hooks,
        seq: this.seq,
        isSplitBatch: true,
        // Compressed parts are bounded by uncompressed size, as Java's after KAFKA-8350 (estimate max(1, ratio)).
        compression: this.compression,
        estimatedRatio: Math.max(1, this.compressionRatio),
      })
      for (let end = i + counts[k]!; i < end; i++) {
        if (i === runEnd) runEnd = ++run + 1 < this.runCount ? this.runStarts[run + 1]! : n
        const v = views[i]!
        const fail = this.runFails === null ? null : this.runFails[run]!
        b.appendForSplit(this.baseTimestamp + v.timestampDelta, v.key, v.value, v.headers, this.runCompletes[run]!, fail)
      }
      if (b.writeOffset !== b.buffer.length) {
        throw new KafkaClientError('INTERNAL', `Split batch ${k} for ${this.topic}-${this.partition} is ${b.writeOffset} bytes, planned ${b.buffer.length}`)
      }
      b.appendsClosed = true
      if (sequence !== NO_SEQUENCE) {
        b.setProducerState(this.producerIdValue, this.producerEpochValue, sequence, this.transactional)
        sequence = incrementSequence(sequence, b.recordCount)
      }
      out[k] = b
    }

    this.appendsClosed = true
    this.finalState = FinalState.Split
    this.releaseSlots()
    return out
  }

  /** Appends a record read back by `split()`; the buffer was sized for it, so it always fits. */
  private appendForSplit(
    timestampMs: number,
    key: Buffer | null,
    value: Buffer | null,
    headers: Buffer,
    complete: RecordCompletion,
    fail: RecordReject | null,
  ): void {
    const index = this.recordCount
    const timestampDelta = index === 0 ? 0 : timestampMs - this.baseTimestamp
    const bodySize = sizeOfRecordBodyWithHeaderBytes(index, timestampDelta, key === null ? -1 : key.length, value === null ? -1 : value.length, headers.length)
    const recordSize = sizeOfVarint(bodySize) + bodySize
    if (recordSize > this.maxRecordSize) this.maxRecordSize = recordSize
    this.writeOffset = writeMeasuredRecordWithHeaderBytes(this.buf, this.writeOffset, bodySize, index, timestampDelta, key, value, headers)
    if (index === 0) {
      this.baseTimestamp = timestampMs
      this.reserveSlots(this.writeOffset - RECORD_BATCH_OVERHEAD)
    }
    if (timestampMs > this.maxTimestamp) this.maxTimestamp = timestampMs
    this.setSlots(index, complete, fail)
    this.recordCount = index + 1
  }

  /** @internal The accumulator's guard against returning the buffer twice. */
  markBufferDeallocated(): void {
    this.bufferDeallocated = true
  }

  private complete(
    baseOffset: bigint,
    logAppendTime: number,
    error: Error | null,
    recordError: ((index: number) => Error | null | undefined) | undefined,
  ): void {
    const n = this.recordCount
    const starts = this.runStarts
    const completes = this.runCompletes
    const fails = this.runFails
    const runs = this.runCount
    // The current run: records [.., runEnd) go to `complete` / `fail`.
    let run = -1
    let runEnd = 0
    let complete: RecordCompletion | undefined
    let fail: RecordReject | null = null
    const ok = error === null
    // Timestamps are read back from the records unless the broker stamped them (LogAppendTime).
    const cursor = ok && logAppendTime === -1 ? new RecordTimestampCursor(this.buf) : null
    const known = baseOffset >= 0n
    // One BigInt per record (the running offset), not BigInt(i) plus a sum.
    let offset = known ? baseOffset : -1n
    for (let i = 0; i < n; i++) {
      if (i === runEnd) {
        run++
        runEnd = run + 1 < runs ? starts[run + 1]! : n
        complete = completes[run]
        fail = fails === null ? null : fails[run]!
      }
      try {
        if (ok) {
          // A fresh object per record: the user may keep or change it.
          const md: RecordMetadata = {
            topic: this.topic,
            partition: this.partition,
            offset,
            timestamp: cursor === null ? logAppendTime : this.baseTimestamp + cursor.next(),
          }
          if (known) offset += 1n
          if (fail === null) (complete as RecordCallback)(null, md)
          else (complete as RecordResolve)(md)
        } else {
          const err = (recordError !== undefined ? recordError(i) : null) ?? error
          if (fail === null) (complete as RecordCallback)(err, null)
          else fail(err)
        }
      } catch (e) {
        this.callbackThrew(e)
      }
    }
    this.releaseSlots()
    this.hooks?.onBatchFinal(this)
  }

  private callbackThrew(e: unknown): void {
    if (this.hooks !== null) this.hooks.onCallbackError(e, this)
    else rethrowOnNextTick(e)
  }
}

/** Encoded size of a read-back record at a new offset/timestamp delta, length varint included. */
function sizeOfViewRecord(offsetDelta: number, timestampDelta: number, v: RecordView): number {
  const body = sizeOfRecordBodyWithHeaderBytes(
    offsetDelta,
    timestampDelta,
    v.key === null ? -1 : v.key.length,
    v.value === null ? -1 : v.value.length,
    v.headers.length,
  )
  return sizeOfVarint(body) + body
}
