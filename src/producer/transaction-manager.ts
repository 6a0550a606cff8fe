import { KafkaClientError } from '../errors.js'
import { NO_PRODUCER_EPOCH, NO_PRODUCER_ID, NO_SEQUENCE } from '../protocol/record-batch.js'
import type { ProducerBatch } from './producer-batch.js'
import type { ProducerStateHooks } from './record-accumulator.js'

/** The producer can no longer send: fenced, not authorised, or the broker cannot do idempotence. */
export class KafkaFatalProducerError extends KafkaClientError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, `${message}. This error is fatal: the producer cannot send any more records and must be closed`, options)
  }
}

export interface ProducerIdAndEpoch {
  readonly producerId: bigint
  readonly epoch: number
}

const NO_PRODUCER: ProducerIdAndEpoch = { producerId: NO_PRODUCER_ID, epoch: NO_PRODUCER_EPOCH }
const MAX_EPOCH = 32767
const INT32_MAX = 2147483647

/** Kafka's sequence arithmetic: sequences wrap from 2^31-1 to 0. */
export function incrementSequence(sequence: number, increment: number): number {
  if (sequence > INT32_MAX - increment) return increment - (INT32_MAX - sequence) - 1
  return sequence + increment
}

function lastSequenceOf(batch: ProducerBatch): number {
  return incrementSequence(batch.baseSequence, batch.recordCount - 1)
}

/** Per-partition idempotence bookkeeping (Java's TxnPartitionEntry). */
class PartitionEntry {
  producer: ProducerIdAndEpoch
  readonly topic: string
  readonly partition: number
  nextSequence = 0
  lastAckedSequence = -1
  lastAckedOffset = -1n
  /** Batches that have a sequence and are not finished, ordered by base sequence. */
  readonly inFlight: ProducerBatch[] = []

  constructor(topic: string, partition: number, producer: ProducerIdAndEpoch) {
    this.topic = topic
    this.partition = partition
    this.producer = producer
  }

  addInFlight(batch: ProducerBatch): void {
    const list = this.inFlight
    let i = list.length
    while (i > 0 && list[i - 1]!.baseSequence > batch.baseSequence) i--
    list.splice(i, 0, batch)
  }

  removeInFlight(batch: ProducerBatch): void {
    const i = this.inFlight.indexOf(batch)
    if (i >= 0) this.inFlight.splice(i, 1)
  }
}

/**
 * Idempotent-producer state, as the idempotent half of Java's
 * `TransactionManager`: the producer id and epoch from InitProducerId, and per
 * partition the next sequence to assign, the last acknowledged one, and the
 * batches in flight ordered by sequence.
 *
 * Invariants:
 * - A batch gets its producer id, epoch and base sequence once, when first
 *   drained, and keeps them on every retry; only an epoch bump (KIP-360)
 *   rewrites the sequences of a partition's in-flight batches from 0.
 * - While a partition retries, only its lowest in-flight sequence is sent
 *   (effectively one request in flight), so the broker sees sequences in order.
 * - No new batch of a partition is drained while an earlier batch's fate is
 *   unknown (expired while possibly written), nor while batches of an older
 *   epoch are still in flight.
 * - A fatal error (fencing, authorization, no broker support) fails every
 *   later send with the same error.
 */
export class TransactionManager implements ProducerStateHooks {
  private producer: ProducerIdAndEpoch = NO_PRODUCER
  private readonly partitions = new Map<string, PartitionEntry[]>()
  /** Partitions whose last in-flight batch expired without us knowing whether it was written. */
  private readonly unresolved = new Map<ProducerBatch['topic'], Map<number, number>>()
  private readonly partitionsToRewrite = new Set<PartitionEntry>()
  private readonly resetBatches = new WeakSet<ProducerBatch>()
  private epochBumpRequired = false
  private initInFlight = false
  private fatal: KafkaFatalProducerError | null = null

  get producerIdAndEpoch(): ProducerIdAndEpoch {
    return this.producer
  }

  hasProducerId(): boolean {
    return this.producer.producerId >= 0n
  }

  /** True when an InitProducerId request should be sent now. */
  needsInitProducerId(): boolean {
    return this.fatal === null && !this.hasProducerId() && !this.initInFlight
  }

  initProducerIdSent(): void {
    this.initInFlight = true
  }

  initProducerIdFailed(): void {
    this.initInFlight = false
  }

  setProducerIdAndEpoch(p: ProducerIdAndEpoch): void {
    this.initInFlight = false
    this.producer = p
    // Partitions waiting for a bump when the epoch ran out restart under the new producer id.
    if (this.partitionsToRewrite.size > 0) this.rewriteSequences()
  }

  get fatalError(): KafkaFatalProducerError | null {
    return this.fatal
  }

  transitionToFatalError(err: KafkaFatalProducerError): void {
    if (this.fatal === null) this.fatal = err
  }

  private entry(batch: { topic: string; partition: number }): PartitionEntry {
    let list = this.partitions.get(batch.topic)
    if (list === undefined) this.partitions.set(batch.topic, (list = []))
    let e = list[batch.partition]
    if (e === undefined) list[batch.partition] = e = new PartitionEntry(batch.topic, batch.partition, this.producer)
    return e
  }

  // ---- drain (ProducerStateHooks) ----

  shouldStopDrainBatchesForPartition(first: ProducerBatch): boolean {
    if (this.fatal !== null || !this.hasProducerId()) return true
    const e = this.entry(first)
    if (!first.hasSequence()) {
      // A new batch with the new epoch and sequence 0 must not overtake batches of the old epoch.
      if (e.inFlight.length > 0 && !sameProducer(e.producer, this.producer)) return true
      // Until we know whether an expired batch was written, the next sequence is unknown.
      if (this.hasUnresolvedSequence(first)) return true
    }
    // A retried batch goes only when it is the lowest sequence in flight: one at a time until order is restored.
    const firstInFlight = e.inFlight.length > 0 ? e.inFlight[0]!.baseSequence : NO_SEQUENCE
    return firstInFlight !== NO_SEQUENCE && first.hasSequence() && first.baseSequence !== firstInFlight
  }

  onDrain(batch: ProducerBatch): void {
    if (batch.hasSequence()) return // a retry keeps its sequence: changing it could duplicate a batch that was written
    const e = this.entry(batch)
    if (!sameProducer(e.producer, this.producer)) {
      // All old-epoch batches are done (shouldStopDrain saw to it): start the partition afresh.
      e.producer = this.producer
      e.nextSequence = 0
      e.lastAckedSequence = -1
    }
    batch.setProducerState(this.producer.producerId, this.producer.epoch, e.nextSequence, false)
    e.nextSequence = incrementSequence(e.nextSequence, batch.recordCount)
    e.addInFlight(batch)
  }

  isTransactionCompleting(): boolean {
    return false
  }

  /**
   * The split batches take over the original's sequence range, in order, so
   * nothing after them in the partition needs to move (as Java's split does).
   */
  onSplit(original: ProducerBatch, split: readonly ProducerBatch[]): void {
    const e = this.entry(original)
    e.removeInFlight(original)
    if (!original.hasSequence()) return
    let sequence = original.baseSequence
    for (const b of split) {
      b.setProducerState(original.producerId, original.producerEpoch, sequence, false)
      sequence = incrementSequence(sequence, b.recordCount)
      e.addInFlight(b)
    }
  }

  // ---- responses ----

  handleCompletedBatch(batch: ProducerBatch, baseOffset: bigint): void {
    const e = this.entry(batch)
    if (sameProducerOf(batch, e.producer)) {
      const last = lastSequenceOf(batch)
      if (last > e.lastAckedSequence) e.lastAckedSequence = last
      const lastOffset = baseOffset + BigInt(batch.recordCount - 1)
      if (baseOffset >= 0n && lastOffset > e.lastAckedOffset) e.lastAckedOffset = lastOffset
    }
    e.removeInFlight(batch)
  }

  /**
   * A batch failed for good. `adjustSequences`: its sequence range was never
   * written, so later batches of the partition move down to close the gap.
   */
  handleFailedBatch(batch: ProducerBatch, adjustSequences: boolean): void {
    const e = this.entry(batch)
    e.removeInFlight(batch)
    if (this.fatal !== null || !batch.hasSequence()) return
    if (adjustSequences) this.adjustSequencesDueToFailedBatch(e, batch)
  }

  private adjustSequencesDueToFailedBatch(e: PartitionEntry, failed: ProducerBatch): void {
    if (!sameProducerOf(failed, e.producer)) return
    for (const b of e.inFlight) {
      if (b.baseSequence < failed.baseSequence) continue
      const newSeq = b.baseSequence - failed.recordCount
      if (newSeq < 0) {
        throw new KafkaClientError('INTERNAL', `Sequence of ${b.topic}-${b.partition} would go negative (${newSeq}) adjusting for a failed batch`)
      }
      b.setProducerState(b.producerId, b.producerEpoch, newSeq, false)
    }
    e.nextSequence = incrementSequence(e.nextSequence, -failed.recordCount)
  }

  /**
   * Java's TransactionManager.canRetry for idempotent producers: decides
   * whether a batch that failed with `errorCode` may be sent again, requesting
   * an epoch bump when the sequences of its partition cannot be trusted.
   */
  canRetry(batch: ProducerBatch, errorCode: number, retriable: boolean, logStartOffset: bigint): boolean {
    const e = this.entry(batch)
    if (errorCode === 59 /* UNKNOWN_PRODUCER_ID */) {
      // Without the log start offset we cannot tell what the broker lost: retry until it tells us.
      if (logStartOffset === -1n) return true
      if (this.resetBatches.has(batch)) return true
      if (e.lastAckedOffset < logStartOffset) {
        // The log head (and our producer state with it) was removed by retention: start a new epoch.
        this.requestEpochBump(e)
        return true
      }
      if (batch.producerId === this.producer.producerId && batch.producerEpoch === this.producer.epoch) this.requestEpochBump(e)
      return true
    }
    if (errorCode === 45 /* OUT_OF_ORDER_SEQUENCE_NUMBER */) {
      const unresolved = this.hasUnresolvedSequence(batch)
      if (!unresolved && (this.resetBatches.has(batch) || !this.isNextSequence(e, batch.baseSequence))) {
        // Not the next batch: an earlier one failed, and this one will follow it in order.
        return true
      }
      // The next batch and still out of order: there is a real gap, which only a new epoch can close.
      if (!unresolved || this.isNextSequenceForUnresolved(batch)) this.requestEpochBump(e)
      return true
    }
    return retriable
  }

  private isNextSequence(e: PartitionEntry, sequence: number): boolean {
    return sequence - e.lastAckedSequence === 1
  }

  // ---- unresolved sequences (expired batches) ----

  /** An expired batch may or may not have been written: hold the partition until that is known. */
  markSequenceUnresolved(batch: ProducerBatch): void {
    let m = this.unresolved.get(batch.topic)
    if (m === undefined) this.unresolved.set(batch.topic, (m = new Map()))
    const next = incrementSequence(lastSequenceOf(batch), 1)
    const cur = m.get(batch.partition)
    if (cur === undefined || next > cur) m.set(batch.partition, next)
  }

  private hasUnresolvedSequence(b: { topic: string; partition: number }): boolean {
    return this.unresolved.get(b.topic)?.has(b.partition) ?? false
  }

  private isNextSequenceForUnresolved(batch: ProducerBatch): boolean {
    return this.unresolved.get(batch.topic)?.get(batch.partition) === batch.baseSequence
  }

  /**
   * Once a partition with unresolved sequences has nothing in flight, either
   * the acknowledgements caught up (resolved) or they did not, and only a new
   * epoch makes its sequences safe again.
   */
  maybeResolveSequences(): void {
    for (const [topic, m] of this.unresolved) {
      for (const partition of [...m.keys()]) {
        const e = this.entry({ topic, partition })
        if (e.inFlight.length > 0) continue
        if (!this.isNextSequence(e, e.nextSequence)) this.requestEpochBump(e)
        m.delete(partition)
      }
      if (m.size === 0) this.unresolved.delete(topic)
    }
  }

  // ---- epoch bumps (KIP-360) ----

  private requestEpochBump(e: PartitionEntry): void {
    this.epochBumpRequired = true
    this.partitionsToRewrite.add(e)
  }

  /**
   * Applies a requested epoch bump: locally for an idempotent producer (the
   * broker accepts epoch + 1 starting at sequence 0), or by asking for a new
   * producer id when the epoch is exhausted.
   */
  bumpIdempotentEpochAndResetIdIfNeeded(): void {
    if (!this.epochBumpRequired) return
    this.epochBumpRequired = false
    if (this.producer.epoch >= MAX_EPOCH) {
      // Epochs are exhausted: a new producer id is needed; the rewrite waits for it.
      this.producer = NO_PRODUCER
      return
    }
    this.producer = { producerId: this.producer.producerId, epoch: this.producer.epoch + 1 }
    this.rewriteSequences()
  }

  /** Restarts the sequences of the partitions that asked for a bump at 0, in their in-flight order. */
  private rewriteSequences(): void {
    for (const e of this.partitionsToRewrite) {
      let sequence = 0
      for (const b of e.inFlight) {
        b.setProducerState(this.producer.producerId, this.producer.epoch, sequence, false)
        this.resetBatches.add(b)
        sequence = incrementSequence(sequence, b.recordCount)
      }
      e.producer = this.producer
      e.nextSequence = sequence
      e.lastAckedSequence = -1
      const m = this.unresolved.get(e.topic)
      if (m !== undefined) {
        m.delete(e.partition)
        if (m.size === 0) this.unresolved.delete(e.topic)
      }
    }
    this.partitionsToRewrite.clear()
  }
}

function sameProducer(a: ProducerIdAndEpoch, b: ProducerIdAndEpoch): boolean {
  return a.producerId === b.producerId && a.epoch === b.epoch
}

function sameProducerOf(batch: ProducerBatch, p: ProducerIdAndEpoch): boolean {
  return batch.producerId === p.producerId && batch.producerEpoch === p.epoch
}
