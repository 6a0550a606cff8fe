import { KafkaFatalProducerError } from '../errors.js'
import { ErrorCode } from '../protocol/error-codes.js'
import { NO_PRODUCER_EPOCH, NO_PRODUCER_ID, SEQUENCE_MODULUS } from '../protocol/record-batch.js'
import type { ProducerBatch } from './producer-batch.js'
import type { ProducerStateHooks } from './record-accumulator.js'

export interface ProducerIdAndEpoch {
  readonly producerId: bigint
  readonly epoch: number
}

/** How a batch that failed for good ended, as far as the broker's log is concerned. */
export const enum FailedBatchOutcome {
  /** The broker refused it: nothing of it was written. */
  Rejected = 0,
  /** It may or may not have been written (timeout, disconnect, retriable error at the deadline). */
  Unknown = 1,
}

const NO_PRODUCER: ProducerIdAndEpoch = { producerId: NO_PRODUCER_ID, epoch: NO_PRODUCER_EPOCH }
const MAX_EPOCH = 32767

/** Per-partition idempotence bookkeeping (Java's TxnPartitionEntry). */
class PartitionEntry {
  producer: ProducerIdAndEpoch
  /** Unwrapped: the wire sequence is this modulo 2^31, so comparisons survive the wrap. */
  nextSequence = 0
  lastAckedSequence = -1
  lastAckedOffset = -1n
  /** Batches that have a sequence and are not finished, ordered by (unwrapped) sequence. */
  readonly inFlight: ProducerBatch[] = []

  constructor(
    readonly topic: string,
    readonly partition: number,
    producer: ProducerIdAndEpoch,
  ) {
    this.producer = producer
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
 *   rewrites the sequences of a partition's in-flight batches from 0. A
 *   sequence range is never handed to another batch while the first may
 *   have been written.
 * - Sequences are tracked unwrapped (exact up to 2^53), and only written
 *   modulo 2^31, so order comparisons hold across the wrap.
 * - While a partition retries, only its lowest in-flight sequence is sent
 *   (effectively one request in flight), so the broker sees sequences in order.
 * - No new batch of a partition is drained while an earlier batch's fate is
 *   unknown, nor while batches of an older epoch are still in flight.
 * - A batch that failed for good leads to an epoch bump for its partition
 *   (refused by the broker) or to an unresolved partition (fate unknown); the
 *   sequences of later batches are never shifted down, since for an idempotent
 *   producer that could make the broker take a new batch for a retry of one
 *   it already has.
 * - A fatal error (fencing, authorization, no broker support) fails every
 *   later send with the same error.
 */
export class TransactionManager implements ProducerStateHooks {
  private producer: ProducerIdAndEpoch = NO_PRODUCER
  private readonly partitions = new Map<string, PartitionEntry[]>()
  /** Unwrapped base sequence of each batch that has one. */
  private readonly sequences = new WeakMap<ProducerBatch, number>()
  /** Partitions whose fate of some batch is unknown → the unwrapped sequence after it. */
  private readonly unresolved = new Map<PartitionEntry, number>()
  private readonly partitionsToRewrite = new Set<PartitionEntry>()
  /** Batches rewritten by an epoch bump and not drained since (Java's `reopened`). */
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
    // Partitions that asked for a bump while there was no producer id restart under the new one.
    if (this.partitionsToRewrite.size > 0) this.rewriteSequences()
    this.epochBumpRequired = false
  }

  get fatalError(): KafkaFatalProducerError | null {
    return this.fatal
  }

  transitionToFatalError(err: KafkaFatalProducerError): void {
    if (this.fatal === null) this.fatal = err
  }

  /** The batch's unwrapped base sequence (its wire sequence before the first wrap). */
  sequenceOf(batch: ProducerBatch): number {
    return this.sequences.get(batch) ?? batch.baseSequence
  }

  private entry(batch: { topic: string; partition: number }): PartitionEntry {
    let list = this.partitions.get(batch.topic)
    if (list === undefined) this.partitions.set(batch.topic, (list = []))
    let e = list[batch.partition]
    if (e === undefined) list[batch.partition] = e = new PartitionEntry(batch.topic, batch.partition, this.producer)
    return e
  }

  private assign(batch: ProducerBatch, producer: ProducerIdAndEpoch, sequence: number): void {
    this.sequences.set(batch, sequence)
    batch.setProducerState(producer.producerId, producer.epoch, sequence % SEQUENCE_MODULUS, false)
  }

  private addInFlight(e: PartitionEntry, batch: ProducerBatch): void {
    const list = e.inFlight
    const seq = this.sequenceOf(batch)
    let i = list.length
    while (i > 0 && this.sequenceOf(list[i - 1]!) > seq) i--
    list.splice(i, 0, batch)
  }

  private removeInFlight(e: PartitionEntry, batch: ProducerBatch): void {
    const i = e.inFlight.indexOf(batch)
    if (i >= 0) e.inFlight.splice(i, 1)
  }

  // ---- drain (ProducerStateHooks) ----

  shouldStopDrainBatchesForPartition(first: ProducerBatch): boolean {
    if (this.fatal !== null || !this.hasProducerId()) return true
    const e = this.entry(first)
    if (!first.hasSequence()) {
      // A new batch with the new epoch and sequence 0 must not overtake batches of the old epoch.
      if (e.inFlight.length > 0 && !sameProducer(e.producer, this.producer)) return true
      // Until we know whether an earlier batch was written, the next sequence is unknown.
      if (this.unresolved.has(e)) return true
      return false
    }
    // A retried batch goes only when it is the lowest sequence in flight: one at a time until order is restored.
    return e.inFlight.length > 0 && e.inFlight[0] !== first
  }

  onDrain(batch: ProducerBatch): void {
    if (batch.hasSequence()) {
      // A retry keeps its sequence (changing it could duplicate a batch that was written); once
      // drained again after a bump, its reset no longer excuses an out-of-order answer.
      this.resetBatches.delete(batch)
      return
    }
    const e = this.entry(batch)
    if (!sameProducer(e.producer, this.producer)) {
      // All old-epoch batches are done (shouldStopDrain saw to it): start the partition afresh.
      e.producer = this.producer
      e.nextSequence = 0
      e.lastAckedSequence = -1
    }
    this.assign(batch, this.producer, e.nextSequence)
    e.nextSequence += batch.recordCount
    this.addInFlight(e, batch)
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
    this.removeInFlight(e, original)
    if (!original.hasSequence()) return
    const producer = { producerId: original.producerId, epoch: original.producerEpoch }
    let sequence = this.sequenceOf(original)
    for (const b of split) {
      this.assign(b, producer, sequence)
      sequence += b.recordCount
      this.addInFlight(e, b)
    }
  }

  // ---- responses ----

  handleCompletedBatch(batch: ProducerBatch, baseOffset: bigint): void {
    const e = this.entry(batch)
    if (sameProducerOf(batch, e.producer)) {
      const last = this.sequenceOf(batch) + batch.recordCount - 1
      if (last > e.lastAckedSequence) e.lastAckedSequence = last
      const lastOffset = baseOffset + BigInt(batch.recordCount - 1)
      if (baseOffset >= 0n && lastOffset > e.lastAckedOffset) e.lastAckedOffset = lastOffset
    }
    this.removeInFlight(e, batch)
  }

  /**
   * A batch failed for good. Java's idempotent producer bumps the epoch of the
   * partition when the broker refused it; when its fate is unknown, the
   * partition waits until the batches around it tell (see maybeResolveSequences).
   */
  handleFailedBatch(batch: ProducerBatch, outcome: FailedBatchOutcome): void {
    const e = this.entry(batch)
    this.removeInFlight(e, batch)
    if (this.fatal !== null || !batch.hasSequence()) return
    if (outcome === FailedBatchOutcome.Unknown) this.markSequenceUnresolved(batch)
    else if (sameProducerOf(batch, e.producer)) this.requestEpochBump(e)
  }

  /**
   * Java's TransactionManager.canRetry for idempotent producers: decides
   * whether a batch that failed with `errorCode` may be sent again, requesting
   * an epoch bump when the sequences of its partition cannot be trusted.
   */
  canRetry(batch: ProducerBatch, errorCode: number, retriable: boolean, logStartOffset: bigint): boolean {
    const e = this.entry(batch)
    if (errorCode === ErrorCode.UNKNOWN_PRODUCER_ID) {
      // Without the log start offset we cannot tell what the broker lost: retry until it tells us.
      if (logStartOffset === -1n) return true
      if (this.resetBatches.has(batch)) return true
      // The broker lost our producer state (log head removed by retention, or otherwise): new epoch.
      this.requestEpochBump(e)
      return true
    }
    if (errorCode === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER) {
      const unresolved = this.unresolved.has(e)
      const sequence = this.sequenceOf(batch)
      if (!unresolved && (this.resetBatches.has(batch) || !this.isNextSequence(e, sequence))) {
        // Not the next batch: an earlier one failed, and this one will follow it in order.
        return true
      }
      // The next batch and still out of order: there is a real gap, which only a new epoch can close.
      if (!unresolved || this.unresolved.get(e) === sequence) this.requestEpochBump(e)
      return true
    }
    return retriable
  }

  private isNextSequence(e: PartitionEntry, sequence: number): boolean {
    return sequence - e.lastAckedSequence === 1
  }

  // ---- unresolved sequences (batches whose fate is unknown) ----

  /** A batch may or may not have been written: hold the partition until that is known. */
  markSequenceUnresolved(batch: ProducerBatch): void {
    const e = this.entry(batch)
    if (!sameProducerOf(batch, e.producer)) return // an older epoch: the partition restarted already
    const next = this.sequenceOf(batch) + batch.recordCount
    const cur = this.unresolved.get(e)
    if (cur === undefined || next > cur) this.unresolved.set(e, next)
  }

  /**
   * Once a partition with unresolved sequences has nothing in flight, either
   * the acknowledgements caught up (resolved) or they did not, and only a new
   * epoch makes its sequences safe again.
   */
  maybeResolveSequences(): void {
    for (const e of this.unresolved.keys()) {
      if (e.inFlight.length > 0) continue
      if (!this.isNextSequence(e, e.nextSequence)) this.requestEpochBump(e)
      this.unresolved.delete(e)
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
   * producer id when the epoch is exhausted. Without a producer id the bump
   * waits for one.
   */
  bumpIdempotentEpochAndResetIdIfNeeded(): void {
    if (!this.epochBumpRequired || !this.hasProducerId()) return
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
        this.assign(b, this.producer, sequence)
        this.resetBatches.add(b)
        sequence += b.recordCount
      }
      e.producer = this.producer
      e.nextSequence = sequence
      e.lastAckedSequence = -1
      this.unresolved.delete(e)
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
