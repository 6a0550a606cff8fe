import { epochBumpChannel, transactionStateChannel } from '../util/diagnostics.js'
import type { Node } from '../clients/cluster.js'
import { type FinalizedFeatures, NO_FINALIZED_FEATURES } from '../clients/kafka-client.js'
import {
  KafkaClientError,
  KafkaFatalProducerError,
  KafkaProducerClosedError,
  KafkaTransactionAbortableError,
  KafkaTransactionAbortedError,
  KafkaTransactionStateError,
} from '../errors.js'
import type { AnyApi } from '../protocol/api.js'
import {
  AddOffsetsToTxnApi,
  type AddOffsetsToTxnResponse,
  AddPartitionsToTxnApi,
  type AddPartitionsToTxnResponse,
  EndTxnApi,
  type EndTxnResponse,
  FindCoordinatorApi,
  type FindCoordinatorRequest,
  type FindCoordinatorResponse,
  InitProducerIdApi,
  type InitProducerIdResponse,
  TxnOffsetCommitApi,
  type TxnOffsetCommitRequest,
  type TxnOffsetCommitResponse,
} from '../protocol/apis/index.js'
import { ErrorCode, errorName, isRetriable } from '../protocol/error-codes.js'
import { NO_PRODUCER_EPOCH, NO_PRODUCER_ID, SEQUENCE_MODULUS } from '../protocol/record-batch.js'
import type { ProducerBatch } from './producer-batch.js'
import type { ProducerStateHooks } from './record-accumulator.js'
import { TransactionalResult } from './transactions/transactional-result.js'

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

/**
 * A transactional producer's state (Java's TransactionManager.State).
 * PREPARED_TRANSACTION (KIP-939 two-phase commit) is not supported.
 */
export type TransactionState =
  | 'UNINITIALIZED'
  | 'INITIALIZING'
  | 'READY'
  | 'IN_TRANSACTION'
  | 'COMMITTING_TRANSACTION'
  | 'ABORTING_TRANSACTION'
  | 'ABORTABLE_ERROR'
  | 'FATAL_ERROR'

/** Java's State.isTransitionValid, as of Kafka 4.x. FATAL_ERROR is reachable from anywhere. */
function isTransitionValid(source: TransactionState, target: TransactionState): boolean {
  switch (target) {
    case 'UNINITIALIZED':
      return source === 'READY' || source === 'ABORTABLE_ERROR'
    case 'INITIALIZING':
      return source === 'UNINITIALIZED' || source === 'COMMITTING_TRANSACTION' || source === 'ABORTING_TRANSACTION'
    case 'READY':
      return source === 'INITIALIZING' || source === 'COMMITTING_TRANSACTION' || source === 'ABORTING_TRANSACTION'
    case 'IN_TRANSACTION':
      return source === 'READY'
    case 'COMMITTING_TRANSACTION':
      return source === 'IN_TRANSACTION'
    case 'ABORTING_TRANSACTION':
      return source === 'IN_TRANSACTION' || source === 'ABORTABLE_ERROR'
    case 'ABORTABLE_ERROR':
      return source === 'IN_TRANSACTION' || source === 'COMMITTING_TRANSACTION' || source === 'ABORTABLE_ERROR' || source === 'INITIALIZING'
    case 'FATAL_ERROR':
      return true
  }
}

export type CoordinatorType = 'GROUP' | 'TRANSACTION'
/** FindCoordinator key_type values. */
const KEY_TYPE: Record<CoordinatorType, number> = { GROUP: 0, TRANSACTION: 1 }

/**
 * The order in which queued transactional requests go out (Java's Priority):
 * a coordinator lookup first, then the producer id, partitions and offsets,
 * EndTxn last unless an epoch bump follows it.
 */
export const enum TxnPriority {
  FindCoordinator = 0,
  InitProducerId = 1,
  AddPartitionsOrOffsets = 2,
  EndTxn = 3,
  EpochBump = 4,
}

/** Java's ADD_PARTITIONS_RETRY_BACKOFF_MS: the previous transaction is still completing, try again soon. */
const ADD_PARTITIONS_RETRY_BACKOFF_MS = 20

/** One offset to commit with the transaction: the next offset the group should consume from `topic`-`partition`. */
export interface TransactionOffset {
  /** The consumed topic. */
  readonly topic: string
  /** The consumed partition. */
  readonly partition: number
  /** The next offset to consume: the last processed record's offset + 1. */
  readonly offset: bigint | number
  /** Stored with the offset (OffsetAndMetadata.metadata); default ''. */
  readonly metadata?: string | null
  /** The leader epoch of the last consumed record, when known (-1: unknown). */
  readonly leaderEpoch?: number
}

/** The consumer group the offsets belong to (Java's ConsumerGroupMetadata; KIP-447 fencing with a generation). */
export interface ConsumerGroupMetadata {
  /** The consumer group id. */
  readonly groupId: string
  /** -1 (the default) for a group that does not use group management. */
  readonly generationId?: number
  /** The consumer's member id in the group; default ''. */
  readonly memberId?: string
  /** The consumer's static membership id (`group.instance.id`), if any. */
  readonly groupInstanceId?: string | null
}

interface PendingOffset {
  readonly topic: string
  readonly partition: number
  readonly offset: bigint
  readonly metadata: string | null
  readonly leaderEpoch: number
}

/**
 * One queued transactional request (Java's TxnRequestHandler): which API,
 * where it goes (a coordinator, or any broker), how to build its body for the
 * version negotiated with that broker, and what its answer does to the state.
 */
export interface TxnRequest {
  readonly name: string
  readonly priority: TxnPriority
  readonly result: TransactionalResult
  /** The API, its version range capped as Java's request builders cap it. */
  readonly api: AnyApi
  /** Null: any broker (the least loaded one). */
  readonly coordinatorType: CoordinatorType | null
  readonly coordinatorKey: string | null
  readonly isEndTxn: boolean
  /** Sent before and answered with a retriable error or a disconnect: wait `retryBackoffMs` before resending. */
  isRetry: boolean
  retryBackoffMs: number
  /** Not before this time (retry backoff). */
  notBeforeMs: number
  /** When the sender first found the target node not ready, to look the coordinator up again after request.timeout.ms (Java's awaitNodeReady). */
  waitingForNodeSinceMs: number
  /** The body for `version`, the version the client will send (negotiated with the target node). */
  build(version: number): unknown
  handleResponse(body: any, version: number, nowMs: number): void
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

/** What a transactional producer's manager is built with (null transactional id: idempotent only). */
export interface TransactionalOptions {
  readonly transactionalId: string
  readonly transactionTimeoutMs: number
  readonly retryBackoffMs: number
  /** The cluster's finalized features (transaction.version), as the network client last saw them. */
  readonly finalizedFeatures?: () => FinalizedFeatures
}

/**
 * Idempotent and transactional producer state, as Java's `TransactionManager`:
 * the producer id and epoch from InitProducerId, and per partition the next
 * sequence to assign, the last acknowledged one, and the batches in flight
 * ordered by sequence. With a transactional id it also runs the transaction
 * state machine (`TransactionState`, Java's transitions) and owns a priority
 * queue of transactional requests (FindCoordinator, InitProducerId,
 * AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit, EndTxn) that the
 * Sender pulls one at a time (`nextRequest`); without one, none of that runs
 * and the idempotent path is as before.
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
 *
 * Transactional invariants (Java's, KIP-98/KIP-360/KIP-890):
 * - Application calls that find the state wrong throw
 *   KafkaTransactionStateError and change nothing; a wrong transition from a
 *   response handler poisons the manager (FATAL_ERROR), as Java's sender
 *   thread does (KAFKA-14831).
 * - At most one transactional request is in flight; the queue is ordered by
 *   TxnPriority, FIFO within a priority. EndTxn is not sent while any batch
 *   of the transaction is incomplete.
 * - A batch is drained only for a partition already in the transaction
 *   (added by AddPartitionsToTxn, or implicitly with transaction.version 2),
 *   and carries the transactional flag.
 * - Whether transactions v2 is used is decided at initTransactions() and at
 *   the end of each transaction, never inside one.
 * - In ABORTABLE_ERROR only abortTransaction() gets the producer going again;
 *   in FATAL_ERROR nothing does, and every pending operation has failed.
 *   An abort cannot end in ABORTABLE_ERROR: an abortable answer to
 *   EndTxn(abort) is fatal (TRANSACTION_ABORTABLE as in Java since
 *   KAFKA-19250; UNKNOWN_PRODUCER_ID, with which Java would stay in
 *   ABORTING_TRANSACTION where no call is valid, too).
 * - The result of init/commit/abort stays `pendingTransition` until the
 *   application acknowledged its outcome (Java's isAcked), completed or not:
 *   the same call then returns it, a different one throws (the fatal error
 *   first, if any).
 * - A record joins only the transaction open at its send(): a send that
 *   waited is checked against `transactionGeneration` before its append
 *   (ensureAppendAllowed); one whose transaction was aborted fails with
 *   KafkaTransactionAbortedError. A commit begins only once the sends made
 *   before it have left the waiting queue, so a waiting send's transaction,
 *   if it ended, was aborted: one scalar (`lastAbortedGeneration`) tells.
 * - A record sent in the open transaction that never reaches a batch makes
 *   the transaction abortable (recordNotAppended): a commit never leaves out
 *   a record the application sent.
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

  // ---- transactional state (unused without a transactional id) ----
  readonly transactionalId: string | null
  private readonly transactionTimeoutMs: number
  private readonly txnRetryBackoffMs: number
  private readonly finalizedFeatures: () => FinalizedFeatures
  private stateValue: TransactionState = 'UNINITIALIZED'
  private lastErrorValue: KafkaClientError | null = null
  private readonly pendingRequests: TxnRequest[] = []
  private inFlightRequest: TxnRequest | null = null
  private transactionCoordinator: Node | null = null
  /** Per group id (Java keeps one group coordinator; a producer may send offsets for several groups over time). */
  private readonly groupCoordinators = new Map<string, Node>()
  private coordinatorSupportsBumpingEpoch = false
  /** Partitions sent to in this transaction and not yet in an AddPartitionsToTxn request (transactions v1). */
  private readonly newPartitionsInTransaction = new Map<string, { topic: string; partition: number }>()
  /** In an AddPartitionsToTxn request not yet answered. */
  private readonly pendingPartitionsInTransaction = new Map<string, { topic: string; partition: number }>()
  /** Partitions the coordinator knows are in the transaction: only these may be drained. */
  private readonly partitionsInTransaction = new Set<string>()
  private readonly pendingTxnOffsetCommits = new Map<string, PendingOffset>()
  /** Something was added to the transaction (a partition, offsets): EndTxn must be sent. */
  private transactionStarted = false
  /** An epoch bump (InitProducerId with the current id and epoch) must follow the current transaction's end. */
  private clientSideEpochBumpRequired = false
  private latestFeaturesEpoch = -1n
  private transactionV2 = false
  /**
   * The result of the last init/commit/abort the application has not seen
   * the end of (Java's pendingTransition): kept, completed or not, until the
   * application's call returned its outcome (`acknowledge`), so a call
   * repeated after a max.block.ms timeout waits on the same operation.
   */
  private pendingTransition: { result: TransactionalResult; state: TransactionState; operation: string } | null = null
  /**
   * commitTransaction() was called and has not begun the commit yet: it
   * waits for the sends made before it that still wait in the producer.
   * Java's beginCommit is synchronous; here the call is marked at once, so
   * that a send, sendOffsetsToTransaction() or abortTransaction() made
   * meanwhile is refused rather than joining (or ending) the transaction
   * being committed. Cleared by beginCommit (and at close).
   */
  private commitRequested = false
  /** Counts beginTransaction() calls: a send records the transaction it was made in (see ensureAppendAllowed). */
  private transactionGenerationValue = 0
  /**
   * The generation of the last transaction an abort was begun for (-1: none).
   * Enough for ensureAppendAllowed: commitTransaction() begins the commit
   * only once every send made before it has left the waiting queue, and
   * refuses later ones, so no waiting send belongs to a committed
   * transaction. A waiting send of an earlier generation therefore belongs
   * to an aborted one, and a send of the current generation does if it is
   * this one.
   */
  private lastAbortedGeneration = -1

  constructor(
    options: TransactionalOptions | null = null,
    /** client.id, for the diagnostics channels. */
    readonly clientId = '',
  ) {
    this.transactionalId = options?.transactionalId ?? null
    this.transactionTimeoutMs = options?.transactionTimeoutMs ?? 60000
    this.txnRetryBackoffMs = options?.retryBackoffMs ?? 100
    this.finalizedFeatures = options?.finalizedFeatures ?? (() => NO_FINALIZED_FEATURES)
  }

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
    if (this.transactionalId === null) return
    if (transactionStateChannel.hasSubscribers && this.stateValue !== 'FATAL_ERROR') this.publishState(this.stateValue, 'FATAL_ERROR', this.fatal)
    this.stateValue = 'FATAL_ERROR'
    this.lastErrorValue = this.fatal
    // Nothing queued can succeed any more: fail it now rather than when the sender would have pulled it.
    for (const r of this.pendingRequests.splice(0)) r.result.fail(this.fatal)
    this.pendingTransition?.result.fail(this.fatal)
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
    batch.setProducerState(producer.producerId, producer.epoch, sequence % SEQUENCE_MODULUS, this.transactionalId !== null)
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
    // Java's isSendToPartitionAllowed: the coordinator must know the partition is in the transaction first.
    if (this.transactionalId !== null && !this.partitionsInTransaction.has(partitionKey(first.topic, first.partition))) return true
    // Looked up, not created: a partition without an entry has nothing in flight and nothing unresolved,
    // and this stays free of side effects for producer.inspect(), which asks it too.
    const e = this.partitions.get(first.topic)?.[first.partition]
    if (e === undefined) return false
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

  /** Commit or abort under way: the accumulator sends every batch at once, ignoring linger (Java's transactionCompleting). */
  isTransactionCompleting(): boolean {
    return this.stateValue === 'COMMITTING_TRANSACTION' || this.stateValue === 'ABORTING_TRANSACTION'
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
  handleFailedBatch(batch: ProducerBatch, outcome: FailedBatchOutcome, error: Error | null = null, errorCode = -1): void {
    const e = this.entry(batch)
    this.removeInFlight(e, batch)
    if (this.transactionalId !== null) {
      this.handleFailedTransactionalBatch(batch, e, error, errorCode)
      return
    }
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
    if (this.transactionalId !== null) return this.canRetryTransactional(batch, e, errorCode, retriable, logStartOffset)
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
      if (!this.isNextSequence(e, e.nextSequence)) {
        if (this.transactionalId === null) this.requestEpochBump(e)
        else {
          // Java: a transactional producer cannot bump the epoch mid-transaction on its own; the transaction must go.
          const why = `The client has not received an acknowledgement for some records sent to ${e.topic}-${e.partition} and can no longer retry them`
          this.transitionToAbortableErrorOrFatal(
            new KafkaTransactionAbortableError('UNRESOLVED_SEQUENCES', `${why}; it is safe to abort the transaction and continue`),
            new KafkaFatalProducerError('UNRESOLVED_SEQUENCES', `${why}, and the coordinator cannot bump the epoch to recover`),
          )
        }
      }
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
    if (this.transactionalId !== null || !this.epochBumpRequired || !this.hasProducerId()) return
    this.epochBumpRequired = false
    if (this.producer.epoch >= MAX_EPOCH) {
      // Epochs are exhausted: a new producer id is needed; the rewrite waits for it.
      this.producer = NO_PRODUCER
      return
    }
    const previous = this.producer
    this.producer = { producerId: this.producer.producerId, epoch: this.producer.epoch + 1 }
    if (epochBumpChannel.hasSubscribers) this.publishEpochBump(previous, 'idempotent')
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

  // =====================================================================
  // Transactions (Java's TransactionManager, transactional half)
  // =====================================================================

  get isTransactional(): boolean {
    return this.transactionalId !== null
  }

  get state(): TransactionState {
    return this.stateValue
  }

  /** The error behind ABORTABLE_ERROR or FATAL_ERROR; null otherwise. */
  get lastError(): KafkaClientError | null {
    return this.lastErrorValue
  }

  /** Transactions v2 (KIP-890 part 2) is in use for the current transaction. */
  get isTransactionV2Enabled(): boolean {
    return this.transactionV2
  }

  hasError(): boolean {
    return this.stateValue === 'ABORTABLE_ERROR' || this.stateValue === 'FATAL_ERROR'
  }

  hasAbortableError(): boolean {
    return this.stateValue === 'ABORTABLE_ERROR'
  }

  isAborting(): boolean {
    return this.stateValue === 'ABORTING_TRANSACTION'
  }

  /** Java's hasOngoingTransaction: from begin until the end completes, or a fatal error. */
  hasOngoingTransaction(): boolean {
    return this.stateValue === 'IN_TRANSACTION' || this.isTransactionCompleting() || this.stateValue === 'ABORTABLE_ERROR'
  }

  hasPendingRequests(): boolean {
    return this.pendingRequests.length > 0
  }

  hasInFlightRequest(): boolean {
    return this.inFlightRequest !== null
  }

  // ---- application side ----

  /**
   * Java's initializeTransactions: InitProducerId with the transactional id;
   * with `bumpFrom`, the current producer id and epoch, to bump the epoch
   * after an abortable error (KIP-360) instead of fencing ourselves.
   */
  initializeTransactions(bumpFrom: ProducerIdAndEpoch | null = null): TransactionalResult {
    this.maybeFailWithError()
    const isEpochBump = bumpFrom !== null
    return this.cachedResult('INITIALIZING', 'initTransactions', () => {
      // An epoch bump is part of ending a transaction: the state moves when EndTxn completes.
      if (!isEpochBump) this.transitionTo('INITIALIZING')
      const h = this.initProducerIdRequest(bumpFrom ?? NO_PRODUCER, isEpochBump)
      this.enqueue(h)
      return h.result
    })
  }

  beginTransaction(): void {
    this.ensureTransactional('beginTransaction')
    this.throwIfPendingState('beginTransaction')
    this.maybeFailWithError()
    this.transitionTo('IN_TRANSACTION')
    this.transactionGenerationValue++
  }

  /** The transaction a send made now belongs to (a new number with each beginTransaction()). */
  get transactionGeneration(): number {
    return this.transactionGenerationValue
  }

  /**
   * The synchronous part of commitTransaction(), before it waits for the
   * sends made before it (see `commitRequested`); beginCommit() follows.
   * Outside a transaction it changes nothing: beginCommit() then reports why
   * there is nothing to commit, or returns the commit a timed-out call left.
   */
  requestCommit(): void {
    this.ensureTransactional('commitTransaction')
    if (this.stateValue === 'IN_TRANSACTION' && this.fatal === null) this.commitRequested = true
  }

  /** commitTransaction() was called in this transaction and still waits for earlier sends before beginCommit(). */
  get isCommitRequested(): boolean {
    return this.commitRequested
  }

  beginCommit(): TransactionalResult {
    this.commitRequested = false
    return this.cachedResult('COMMITTING_TRANSACTION', 'commitTransaction', () => {
      this.maybeFailWithError()
      this.transitionTo('COMMITTING_TRANSACTION')
      return this.beginCompletingTransaction(true)
    })
  }

  beginAbort(): TransactionalResult {
    return this.cachedResult('ABORTING_TRANSACTION', 'abortTransaction', () => {
      if (this.stateValue !== 'ABORTABLE_ERROR') this.maybeFailWithError()
      // Java's beginCommit has moved to COMMITTING_TRANSACTION by now, where an abort is not a valid transition.
      this.throwIfCommitRequested('abortTransaction()')
      this.transitionTo('ABORTING_TRANSACTION')
      this.lastAbortedGeneration = this.transactionGenerationValue
      // Nothing more will be sent in this transaction: no partition needs adding.
      this.newPartitionsInTransaction.clear()
      return this.beginCompletingTransaction(false)
    })
  }

  private beginCompletingTransaction(committed: boolean): TransactionalResult {
    if (this.newPartitionsInTransaction.size > 0) this.enqueue(this.addPartitionsRequest())
    // The version is fixed now, so the transaction ends as it ran; an upgrade to v2 applies from the next one.
    const h = this.endTxnRequest(committed, this.transactionV2)
    this.maybeUpdateTransactionV2Enabled(false)
    this.enqueue(h)
    // After an abortable error (or an upgrade to v2) the epoch is bumped once EndTxn completes (KIP-360).
    if (this.clientSideEpochBumpRequired) return this.initializeTransactions(this.producer)
    return h.result
  }

  /** Java's sendOffsetsToTransaction: AddOffsetsToTxn then TxnOffsetCommit, or TxnOffsetCommit alone with v2. */
  sendOffsetsToTransaction(offsets: readonly TransactionOffset[], group: ConsumerGroupMetadata): TransactionalResult {
    this.ensureTransactional('sendOffsetsToTransaction')
    this.throwIfPendingState('sendOffsetsToTransaction')
    this.maybeFailWithError()
    this.throwIfCommitRequested('send offsets')
    if (this.stateValue !== 'IN_TRANSACTION') {
      throw new KafkaTransactionStateError(this.stateValue, 'Cannot send offsets when no transaction is in progress; call beginTransaction() first')
    }
    let h: TxnRequest
    if (this.transactionV2) {
      // KIP-890: TxnOffsetCommit v5 adds the group's offsets partition to the transaction itself.
      h = this.txnOffsetCommitRequest(null, offsets, group)
      this.transactionStarted = true
    } else {
      h = this.addOffsetsRequest(offsets, group)
    }
    this.enqueue(h)
    return h.result
  }

  /**
   * Java's maybeFailWithError + throwIfPendingState + the state check of
   * maybeAddPartition, before a record is accepted: throws the fatal error,
   * the abortable error, or KafkaTransactionStateError outside a transaction.
   */
  ensureSendAllowed(): void {
    this.checkSendState()
    this.throwIfCommitRequested('send')
  }

  /** ensureSendAllowed without the commit check: a send that waited was made before commitTransaction() was called. */
  private checkSendState(): void {
    this.maybeFailWithError()
    this.throwIfPendingState('send')
    if (!this.hasProducerId()) {
      throw new KafkaTransactionStateError(this.stateValue, 'Cannot send with a transactional producer before initTransactions() has completed')
    }
    if (this.stateValue !== 'IN_TRANSACTION') {
      throw new KafkaTransactionStateError(this.stateValue, 'Cannot send with a transactional producer outside a transaction; call beginTransaction() first')
    }
  }

  /**
   * The check for a send that waited in the producer (for metadata or
   * buffer.memory) and is about to be appended: as ensureSendAllowed, and
   * the transaction must still be the one the send was made in
   * (`generation`, read at send()). Java appends synchronously inside
   * send(), so a record always joins the transaction that was open then;
   * here the transaction may have been aborted (and another begun) while the
   * record waited, and appending it now would put it in a transaction it was
   * not sent in. Such a record fails with KafkaTransactionAbortedError, as it
   * would have in Java (its batch failed by the abort, abortUndrainedBatches),
   * whether or not another transaction was begun since: "its transaction was
   * aborted" is checked before the state, which is READY after an abort.
   */
  ensureAppendAllowed(generation: number): void {
    if (this.fatal !== null) throw this.fatal
    // A transaction ended while one of its sends waited was aborted (see `lastAbortedGeneration`).
    if (generation !== this.transactionGenerationValue || generation === this.lastAbortedGeneration) {
      throw new KafkaTransactionAbortedError('The record was not sent: its transaction was aborted while the record waited for metadata or buffer memory')
    }
    // Sent before any commitTransaction() call (later sends are refused): it belongs to the transaction being committed.
    this.checkSendState()
  }

  /**
   * A record sent in transaction `generation` failed before it reached a
   * batch (it timed out waiting for metadata or buffer.memory, was too
   * large, named a partition the topic lacks, could not be serialized, or
   * its AbortSignal cancelled it while it waited). Java's KafkaProducer.doSend
   * catches such an ApiException and calls
   * TransactionManager.maybeTransitionToErrorState: the transaction becomes
   * abortable, so commitTransaction() cannot commit it without the record.
   * Errors that are about the transaction itself (a wrong state, an abort
   * already under way) change nothing, nor does a record of a transaction
   * that is no longer the open one.
   */
  recordNotAppended(generation: number, error: Error): void {
    if (this.transactionalId === null || this.fatal !== null) return
    if (generation !== this.transactionGenerationValue || this.stateValue !== 'IN_TRANSACTION') return
    if (error instanceof KafkaTransactionStateError || error instanceof KafkaTransactionAbortedError) return
    if (this.needToTriggerEpochBumpFromClient()) this.clientSideEpochBumpRequired = true
    const code = error instanceof KafkaClientError ? error.code : error.name === 'AbortError' ? 'SEND_CANCELLED' : 'SEND_FAILED'
    this.transitionToAbortableError(
      new KafkaTransactionAbortableError(code, `A record sent in this transaction was not appended to a batch: ${error.message}`, { cause: error }),
    )
  }

  /**
   * Java's maybeAddPartition, after the record was appended (precondition:
   * ensureSendAllowed passed in the same synchronous run). With v2 the first
   * Produce adds the partition on the broker; with v1 it waits for an
   * AddPartitionsToTxn.
   */
  maybeAddPartition(topic: string, partition: number): void {
    if (this.stateValue !== 'IN_TRANSACTION') return
    const key = partitionKey(topic, partition)
    if (this.partitionsInTransaction.has(key)) return
    if (this.transactionV2) {
      this.partitionsInTransaction.add(key)
      this.transactionStarted = true
      return
    }
    if (this.pendingPartitionsInTransaction.has(key) || this.newPartitionsInTransaction.has(key)) return
    this.newPartitionsInTransaction.set(key, { topic, partition })
  }

  /**
   * The application's call returned the outcome of `result`, success or
   * failure (Java's TransactionalRequestResult.await marks it acked; a
   * timeout does not). Only then may a different init/commit/abort begin.
   */
  acknowledge(result: TransactionalResult): void {
    result.acked = true
  }

  /** The application's call stopped waiting for `result` after max.block.ms; the operation goes on. */
  markTimedOut(result: TransactionalResult): void {
    result.timedOut = true
  }

  /**
   * The abort Java's Sender begins at close (a transaction still open). The
   * application can no longer repeat a call, so a completed result it never
   * saw (its call timed out) does not stand in the way.
   */
  beginAbortOnClose(): TransactionalResult {
    if (this.pendingTransition?.result.isCompleted === true) this.pendingTransition = null
    // A commitTransaction() that had not begun the commit finds the producer closed (KafkaProducer checks).
    this.commitRequested = false
    return this.beginAbort()
  }

  /**
   * Java's maybeUpdateTransactionV2Enabled: reads transaction.version from the
   * newest finalized features. Switching to v2 between transactions needs an
   * epoch bump, so no partition of an earlier transaction counts as added.
   */
  maybeUpdateTransactionV2Enabled(onInitialization: boolean): void {
    if (this.transactionalId === null) return
    const f = this.finalizedFeatures()
    if (this.latestFeaturesEpoch >= f.epoch) return
    this.latestFeaturesEpoch = f.epoch
    const was = this.transactionV2
    this.transactionV2 = (f.levels.get('transaction.version') ?? 0) >= 2
    if (!onInitialization && !was && this.transactionV2) this.clientSideEpochBumpRequired = true
  }

  // ---- sender side ----

  /**
   * Java's nextRequest: the request to send now, a wait in ms (the head is in
   * retry backoff), or null (nothing to send; EndTxn waits while batches of
   * the transaction are incomplete).
   */
  nextRequest(hasIncompleteBatches: boolean, nowMs: number): TxnRequest | number | null {
    if (this.newPartitionsInTransaction.size > 0) this.enqueue(this.addPartitionsRequest())
    let h: TxnRequest | undefined = this.pendingRequests[0]
    if (h === undefined) return null
    if (h.isEndTxn && hasIncompleteBatches) return null
    if (h.notBeforeMs > nowMs) return h.notBeforeMs - nowMs
    this.pendingRequests.shift()
    if (this.maybeTerminateRequestWithError(h)) return null
    if (h.isEndTxn && !this.transactionStarted) {
      // Nothing was added to the transaction: the coordinator has nothing to end.
      h.result.done()
      if (this.stateValue !== 'FATAL_ERROR') this.completeTransaction()
      h = this.pendingRequests.shift()
      if (h === undefined) return null
    }
    return h
  }

  /** The sender sent `h` (Java's setInFlightCorrelationId). */
  requestSent(h: TxnRequest): void {
    this.inFlightRequest = h
  }

  /** Puts `h` back without backoff (target not ready yet). */
  requeue(h: TxnRequest): void {
    this.enqueue(h)
  }

  /** Java's retry: back in the queue, sent again after its retry backoff. */
  retry(h: TxnRequest, nowMs: number): void {
    h.isRetry = true
    h.notBeforeMs = nowMs + h.retryBackoffMs
    this.enqueue(h)
  }

  coordinator(type: CoordinatorType, key: string | null): Node | null {
    return type === 'TRANSACTION' ? this.transactionCoordinator : this.groupCoordinators.get(key ?? '') ?? null
  }

  /** Forgets the coordinator and queues a FindCoordinator for it (at most one per type and key). */
  lookupCoordinator(type: CoordinatorType, key: string): void {
    if (type === 'TRANSACTION') this.transactionCoordinator = null
    else this.groupCoordinators.delete(key)
    if (this.pendingRequests.some((r) => r.name === 'FindCoordinator' && r.coordinatorKey === null && (r as FindCoordinatorRequestHandle).lookup === `${type}:${key}`)) return
    this.enqueue(this.findCoordinatorRequest(type, key))
  }

  /** The transaction coordinator is connected: can it bump epochs (InitProducerId v3+, KIP-360)? */
  handleCoordinatorReady(initProducerIdVersion: number | undefined): void {
    this.coordinatorSupportsBumpingEpoch = initProducerIdVersion !== undefined && initProducerIdVersion >= 3
  }

  /**
   * The answer to the request in flight (Java's TxnRequestHandler.onComplete):
   * a body goes to its handler; a disconnect looks the coordinator up again
   * and retries; anything else (no version in common) is fatal.
   */
  handleTxnResponse(h: TxnRequest, body: unknown, version: number, error: Error | null, disconnected: boolean, nowMs: number): void {
    if (this.inFlightRequest !== h) return // failed already (forced close)
    this.inFlightRequest = null
    if (body !== null) {
      h.handleResponse(body, version, nowMs)
      return
    }
    if (disconnected) {
      if (h.coordinatorType !== null) this.lookupCoordinator(h.coordinatorType, h.coordinatorKey!)
      this.retry(h, nowMs)
      return
    }
    const code = (error as KafkaClientError | null)?.code ?? 'UNKNOWN'
    this.fatalRequestError(
      h,
      new KafkaFatalProducerError(code, `The ${h.name} request failed: ${error?.message ?? 'no response'}`, error !== null ? { cause: error } : undefined),
    )
  }

  /** Java's TransactionManager.close: a forced close fails everything still pending. */
  close(): void {
    const error = new KafkaProducerClosedError('The producer was closed forcefully before the transactional operation completed')
    for (const r of this.pendingRequests.splice(0)) r.result.fail(error)
    this.inFlightRequest?.result.fail(error)
    this.pendingTransition?.result.fail(error)
  }

  // ---- failed batches in a transaction ----

  /** Java's maybeTransitionToErrorState + the transactional branch of handleFailedBatch. */
  private handleFailedTransactionalBatch(batch: ProducerBatch, e: PartitionEntry, error: Error | null, errorCode: number): void {
    if (this.fatal !== null) return
    const name = errorCode >= 0 ? errorName(errorCode) : ((error as KafkaClientError | null)?.code ?? 'UNKNOWN')
    const where = `${batch.recordCount} record(s) for ${batch.topic}-${batch.partition}`
    if (FATAL_TRANSACTIONAL_ERRORS.has(errorCode)) {
      this.transitionToFatalError(new KafkaFatalProducerError(name, `Sending ${where} failed with ${name}`, error !== null ? { cause: error } : undefined))
      return
    }
    if (this.needToTriggerEpochBumpFromClient() && !this.isTransactionCompleting()) this.clientSideEpochBumpRequired = true
    this.transitionToAbortableError(
      new KafkaTransactionAbortableError(name, `Sending ${where} failed: ${error?.message ?? name}`, error !== null ? { cause: error } : undefined),
    )
    // The broker lost our state for this partition: it accepts sequence 0 again (Java: resetSequenceForPartition).
    if (errorCode === ErrorCode.UNKNOWN_PRODUCER_ID) this.restartPartition(e)
  }

  /** Java's canRetry, transactional branches: no local epoch bumps; a real gap fails the batch (and the transaction). */
  private canRetryTransactional(batch: ProducerBatch, e: PartitionEntry, errorCode: number, retriable: boolean, logStartOffset: bigint): boolean {
    if (errorCode === ErrorCode.UNKNOWN_PRODUCER_ID) {
      if (logStartOffset === -1n) return true
      if (this.resetBatches.has(batch)) return true
      if (e.lastAckedOffset < logStartOffset) {
        // Retention removed the head of the log and our state with it: restart the partition's sequences and retry.
        this.partitionsToRewrite.add(e)
        this.rewriteSequences()
        return true
      }
      return false
    }
    if (errorCode === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER) {
      return !this.unresolved.has(e) && (this.resetBatches.has(batch) || !this.isNextSequence(e, this.sequenceOf(batch)))
    }
    return retriable
  }

  private restartPartition(e: PartitionEntry): void {
    const list = this.partitions.get(e.topic)
    if (list !== undefined && list[e.partition] === e && e.inFlight.length === 0) list[e.partition] = undefined as unknown as PartitionEntry
    this.unresolved.delete(e)
  }

  /** Java's resetSequenceNumbers: a new epoch (bump, or v2's EndTxn) starts every partition at 0. */
  private resetSequenceNumbers(): void {
    this.partitions.clear()
    this.unresolved.clear()
    this.partitionsToRewrite.clear()
  }

  // ---- state ----

  private ensureTransactional(operation: string): void {
    if (this.transactionalId === null) {
      throw new KafkaTransactionStateError('NOT_TRANSACTIONAL', `${operation}() needs a transactional producer: set transactionalId`)
    }
  }

  /** Java's maybeFailWithError: nothing transactional may proceed in an error state. */
  private maybeFailWithError(): void {
    this.ensureTransactional('this operation')
    if (this.fatal !== null) throw this.fatal
    if (this.stateValue === 'ABORTABLE_ERROR') {
      const last = this.lastErrorValue!
      throw new KafkaTransactionAbortableError(
        last.code,
        `Cannot continue the transaction after an earlier error (${last.message})`,
        { cause: last },
      )
    }
  }

  /**
   * Java's throwIfPendingState: a previous init/commit/abort timed out
   * (max.block.ms) and its outcome has not reached the application yet:
   * only that call may be repeated, even if the operation has completed
   * meanwhile (the repeated call then returns its outcome at once). A fatal
   * error is reported as itself: nothing can be repeated after it.
   */
  private throwIfPendingState(operation: string): void {
    const p = this.pendingTransition
    if (p === null) return
    if (p.result.acked) {
      this.pendingTransition = null
      return
    }
    if (this.fatal !== null) throw this.fatal
    throw new KafkaTransactionStateError(this.stateValue, this.pendingMessage(operation, p.operation, p.result))
  }

  private throwIfCommitRequested(operation: string): void {
    if (!this.commitRequested) return
    throw new KafkaTransactionStateError(
      this.stateValue,
      `Cannot ${operation} because commitTransaction() is in progress (it waits for the records sent before it); ` +
        'await its outcome first (if it timed out, call commitTransaction() again)',
    )
  }

  private pendingMessage(operation: string, pending: string, result: TransactionalResult): string {
    // Still awaited by the call that started it: nothing timed out, the application only has to wait for it.
    if (!result.timedOut) return `Cannot ${operation} because ${pending}() is in progress; await its outcome first`
    const status = result.isCompleted ? 'has completed since' : 'is still in progress'
    return `Cannot ${operation} because the previous call to ${pending}() timed out and ${status}; call ${pending}() again to get its outcome`
  }

  /**
   * Java's handleCachedTransactionRequestResult: a repeated call after a
   * timeout continues the same operation, and returns its result even when
   * it completed in between (cleared only once acknowledged, never because
   * it completed: clearing then would make the repeated commit find no
   * transaction, or start a second EndTxn).
   */
  private cachedResult(state: TransactionState, operation: string, start: () => TransactionalResult): TransactionalResult {
    this.ensureTransactional(operation)
    const p = this.pendingTransition
    if (p !== null) {
      if (p.result.acked) this.pendingTransition = null
      else if (p.state === state) return p.result
      else {
        if (this.fatal !== null) throw this.fatal
        throw new KafkaTransactionStateError(this.stateValue, this.pendingMessage(`${operation}()`, p.operation, p.result))
      }
    }
    const result = start()
    this.pendingTransition = { result, state, operation }
    return result
  }

  /**
   * Java's transitionTo. From the application an invalid transition throws
   * and changes nothing; from a response handler (`fromSender`) it poisons
   * the manager instead, since the sender cannot be told "no".
   */
  private transitionTo(target: TransactionState, error: KafkaClientError | null = null, fromSender = false): void {
    if (!isTransitionValid(this.stateValue, target)) {
      const message = `Invalid transition attempted from state ${this.stateValue} to state ${target}`
      if (fromSender) {
        this.transitionToFatalError(new KafkaFatalProducerError('INVALID_TRANSITION', `Transactional id '${this.transactionalId}': ${message}`))
        return
      }
      throw new KafkaTransactionStateError(this.stateValue, this.invalidTransitionHint(target) ?? message)
    }
    this.lastErrorValue = target === 'ABORTABLE_ERROR' || target === 'FATAL_ERROR' ? error : null
    if (transactionStateChannel.hasSubscribers && this.stateValue !== target) this.publishState(this.stateValue, target, this.lastErrorValue)
    this.stateValue = target
  }

  private publishState(from: TransactionState, to: TransactionState, error: Error | null): void {
    transactionStateChannel.publish({ clientId: this.clientId, transactionalId: this.transactionalId, from, to, error })
  }

  /** The epoch-bump diagnostics channel: the producer id and epoch changed from `previous` (a bump, not the first id). */
  private publishEpochBump(previous: ProducerIdAndEpoch, reason: 'idempotent' | 'init-producer-id' | 'end-txn'): void {
    epochBumpChannel.publish({
      clientId: this.clientId,
      transactionalId: this.transactionalId,
      producerId: this.producer.producerId,
      epoch: this.producer.epoch,
      previousProducerId: previous.producerId,
      previousEpoch: previous.epoch,
      reason,
    })
  }

  private invalidTransitionHint(target: TransactionState): string | null {
    const s = this.stateValue
    switch (target) {
      case 'INITIALIZING':
        return 'initTransactions() was already called on this producer'
      case 'IN_TRANSACTION':
        if (s === 'UNINITIALIZED' || s === 'INITIALIZING') return 'Cannot begin a transaction before initTransactions() has completed'
        if (s === 'IN_TRANSACTION') return 'A transaction is already in progress; commit or abort it before beginning another'
        return 'Cannot begin a transaction while the previous one is completing'
      case 'COMMITTING_TRANSACTION':
        return s === 'ABORTING_TRANSACTION' ? 'Cannot commit a transaction that is being aborted' : 'Cannot commit: no transaction is in progress (call beginTransaction() first)'
      case 'ABORTING_TRANSACTION':
        return s === 'COMMITTING_TRANSACTION' ? 'Cannot abort a transaction that is being committed' : 'Cannot abort: no transaction is in progress'
      default:
        return null
    }
  }

  private transitionToAbortableError(error: KafkaClientError): void {
    // Already aborting: the error changes nothing (Java logs and skips).
    if (this.stateValue === 'ABORTING_TRANSACTION') return
    this.transitionTo('ABORTABLE_ERROR', error, true)
  }

  /** Recovering from an abortable error needs a new epoch: from the client (InitProducerId v3+) or from v2's EndTxn. */
  private canHandleAbortableError(): boolean {
    return this.coordinatorSupportsBumpingEpoch || this.transactionV2
  }

  private needToTriggerEpochBumpFromClient(): boolean {
    return this.coordinatorSupportsBumpingEpoch && !this.transactionV2
  }

  private transitionToAbortableErrorOrFatal(abortable: KafkaTransactionAbortableError, fatal: KafkaFatalProducerError): void {
    if (this.canHandleAbortableError()) {
      if (this.needToTriggerEpochBumpFromClient()) this.clientSideEpochBumpRequired = true
      this.transitionToAbortableError(abortable)
    } else {
      this.transitionToFatalError(fatal)
    }
  }

  /** Java's completeTransaction: READY for the next one, or INITIALIZING while an epoch bump follows. */
  private completeTransaction(): void {
    this.transitionTo(this.clientSideEpochBumpRequired ? 'INITIALIZING' : 'READY', null, true)
    this.lastErrorValue = null
    this.clientSideEpochBumpRequired = false
    this.commitRequested = false
    this.transactionStarted = false
    this.newPartitionsInTransaction.clear()
    this.pendingPartitionsInTransaction.clear()
    this.partitionsInTransaction.clear()
  }

  private maybeTerminateRequestWithError(h: TxnRequest): boolean {
    if (!this.hasError()) return false
    // About to abort anyway: finding the coordinator does no harm.
    if (this.stateValue === 'ABORTABLE_ERROR' && h.name === 'FindCoordinator') return false
    h.result.fail(this.lastErrorValue!)
    return true
  }

  /** Inserts by priority, after the requests of the same priority (FIFO within one). */
  private enqueue(h: TxnRequest): void {
    const q = this.pendingRequests
    let i = q.length
    while (i > 0 && q[i - 1]!.priority > h.priority) i--
    q.splice(i, 0, h)
  }

  // ---- handler outcomes (Java's TxnRequestHandler.fatalError / abortableError / abortableErrorIfPossible) ----

  private fatalRequestError(h: TxnRequest, error: KafkaFatalProducerError): void {
    h.result.fail(error)
    this.transitionToFatalError(error)
  }

  private fatalCode(h: TxnRequest, code: number, detail = ''): void {
    // Older coordinators answer INVALID_PRODUCER_EPOCH where newer ones say PRODUCER_FENCED: both mean fenced (Java).
    const fenced = code === ErrorCode.PRODUCER_FENCED || code === ErrorCode.INVALID_PRODUCER_EPOCH
    const name = fenced ? 'PRODUCER_FENCED' : errorName(code)
    const why = fenced
      ? `another producer with transactional id '${this.transactionalId}' has been initialized since (or the coordinator fenced this epoch)`
      : `${errorName(code)}${detail}`
    this.fatalRequestError(h, new KafkaFatalProducerError(name, `${h.name} for transactional id '${this.transactionalId}' failed: ${why}`))
  }

  private abortableRequestError(h: TxnRequest, error: KafkaTransactionAbortableError): void {
    h.result.fail(error)
    this.transitionToAbortableError(error)
  }

  private abortableCode(h: TxnRequest, code: number, detail = ''): void {
    this.abortableRequestError(h, new KafkaTransactionAbortableError(errorName(code), `${h.name} for transactional id '${this.transactionalId}' failed with ${errorName(code)}${detail}`))
  }

  private abortableIfPossible(h: TxnRequest, code: number): void {
    if (this.canHandleAbortableError()) {
      if (this.needToTriggerEpochBumpFromClient()) this.clientSideEpochBumpRequired = true
      this.abortableCode(h, code)
    } else {
      this.fatalCode(h, code)
    }
  }

  /** Coordinator moved or unavailable: find it again, then retry (every transactional handler does this). */
  private retryWithNewCoordinator(h: TxnRequest, nowMs: number): void {
    this.lookupCoordinator(h.coordinatorType ?? 'TRANSACTION', h.coordinatorKey ?? this.transactionalId!)
    this.retry(h, nowMs)
  }

  // ---- the requests ----

  private newRequest(
    name: string,
    api: AnyApi,
    priority: TxnPriority,
    coordinatorType: CoordinatorType | null,
    coordinatorKey: string | null,
    build: (version: number) => unknown,
    handleResponse: (h: TxnRequest, body: any, version: number, nowMs: number) => void,
    result: TransactionalResult = new TransactionalResult(name),
  ): TxnRequest {
    const h: TxnRequest = {
      name,
      api,
      priority,
      result,
      coordinatorType,
      coordinatorKey,
      isEndTxn: name === 'EndTxn',
      isRetry: false,
      retryBackoffMs: this.txnRetryBackoffMs,
      notBeforeMs: 0,
      waitingForNodeSinceMs: -1,
      build,
      handleResponse: (body, version, nowMs) => handleResponse(h, body, version, nowMs),
    }
    return h
  }

  private findCoordinatorRequest(type: CoordinatorType, key: string): TxnRequest {
    const h = this.newRequest(
      'FindCoordinator',
      FindCoordinatorApi,
      TxnPriority.FindCoordinator,
      null,
      null,
      // KIP-699: v4+ batches keys; this producer looks up one at a time, as Java's does.
      (version): FindCoordinatorRequest => (version >= 4 ? { keyType: KEY_TYPE[type], coordinatorKeys: [key] } : { key, keyType: KEY_TYPE[type] }),
      (h, body: FindCoordinatorResponse, version, nowMs) => {
        const c =
          version >= 4
            ? body.coordinators[0]
            : { key, nodeId: body.nodeId, host: body.host, port: body.port, errorCode: body.errorCode, errorMessage: body.errorMessage }
        if (c === undefined || (version >= 4 && body.coordinators.length !== 1)) {
          this.fatalRequestError(h, new KafkaFatalProducerError('PROTOCOL', `FindCoordinator for ${type.toLowerCase()} '${key}' answered ${body.coordinators.length} coordinators, not 1`))
          return
        }
        const code = c.errorCode
        if (code === ErrorCode.NONE) {
          const node: Node = { id: c.nodeId, host: c.host, port: c.port, rack: null }
          if (type === 'TRANSACTION') this.transactionCoordinator = node
          else this.groupCoordinators.set(key, node)
          h.result.done()
        } else if (isRetriable(code)) {
          this.retry(h, nowMs)
        } else if (code === ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED) {
          this.fatalCode(h, code)
        } else if (code === ErrorCode.GROUP_AUTHORIZATION_FAILED || code === ErrorCode.TRANSACTION_ABORTABLE) {
          this.abortableCode(h, code, ` for group '${key}'`)
        } else {
          this.fatalCode(h, code, ` while finding the ${type.toLowerCase()} coordinator for '${key}'${c.errorMessage ? `: ${c.errorMessage}` : ''}`)
        }
      },
    ) as FindCoordinatorRequestHandle
    h.lookup = `${type}:${key}`
    return h
  }

  private initProducerIdRequest(current: ProducerIdAndEpoch, isEpochBump: boolean): TxnRequest {
    return this.newRequest(
      'InitProducerId',
      InitProducerIdApi,
      isEpochBump ? TxnPriority.EpochBump : TxnPriority.InitProducerId,
      'TRANSACTION',
      this.transactionalId,
      (version) => ({
        transactionalId: this.transactionalId,
        transactionTimeoutMs: this.transactionTimeoutMs,
        // v3+ (KIP-360): the current id and epoch let the coordinator bump it instead of fencing us.
        ...(version >= 3 ? { producerId: current.producerId, producerEpoch: current.epoch } : {}),
      }),
      (h, body: InitProducerIdResponse, _version, nowMs) => {
        const code = body.errorCode
        if (code === ErrorCode.NONE) {
          const previous = this.producer
          this.producer = { producerId: body.producerId, epoch: body.producerEpoch }
          if (isEpochBump && epochBumpChannel.hasSubscribers) this.publishEpochBump(previous, 'init-producer-id')
          this.transitionTo('READY', null, true)
          this.lastErrorValue = null
          if (isEpochBump) this.resetSequenceNumbers()
          h.result.done()
        } else if (code === ErrorCode.NOT_COORDINATOR || code === ErrorCode.COORDINATOR_NOT_AVAILABLE) {
          this.retryWithNewCoordinator(h, nowMs)
        } else if (isRetriable(code) || code === ErrorCode.CONCURRENT_TRANSACTIONS) {
          this.retry(h, nowMs)
        } else if (code === ErrorCode.TRANSACTION_ABORTABLE) {
          this.abortableCode(h, code)
        } else {
          // PRODUCER_FENCED / INVALID_PRODUCER_EPOCH (fenced), TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
          // CLUSTER_AUTHORIZATION_FAILED, INVALID_TRANSACTION_TIMEOUT, ...: this producer cannot go on.
          this.fatalCode(h, code, code === ErrorCode.INVALID_TRANSACTION_TIMEOUT ? ` (transaction.timeout.ms=${this.transactionTimeoutMs} exceeds the broker's transaction.max.timeout.ms)` : '')
        }
      },
    )
  }

  /** Java's addPartitionsToTransactionHandler: the new partitions move to pending, and one request carries all pending ones. */
  private addPartitionsRequest(): TxnRequest {
    for (const [k, tp] of this.newPartitionsInTransaction) this.pendingPartitionsInTransaction.set(k, tp)
    this.newPartitionsInTransaction.clear()
    const partitions = [...this.pendingPartitionsInTransaction.values()]
    const byTopic = new Map<string, number[]>()
    for (const tp of partitions) {
      let l = byTopic.get(tp.topic)
      if (l === undefined) byTopic.set(tp.topic, (l = []))
      l.push(tp.partition)
    }
    const producer = this.producer
    return this.newRequest(
      'AddPartitionsToTxn',
      ADD_PARTITIONS_FOR_CLIENTS,
      TxnPriority.AddPartitionsOrOffsets,
      'TRANSACTION',
      this.transactionalId,
      () => ({
        v3AndBelowTransactionalId: this.transactionalId!,
        v3AndBelowProducerId: producer.producerId,
        v3AndBelowProducerEpoch: producer.epoch,
        v3AndBelowTopics: [...byTopic].map(([name, ps]) => ({ name, partitions: ps })),
      }),
      (h, body: AddPartitionsToTxnResponse, _version, nowMs) => {
        h.retryBackoffMs = this.txnRetryBackoffMs
        let hasPartitionErrors = false
        const unauthorized = new Set<string>()
        const answered: string[] = []
        const failures: string[] = []
        for (const t of body.resultsByTopicV3AndBelow) {
          for (const p of t.resultsByPartition) {
            answered.push(partitionKey(t.name, p.partitionIndex))
            const code = p.partitionErrorCode
            if (code === ErrorCode.NONE) continue
            if (code === ErrorCode.COORDINATOR_NOT_AVAILABLE || code === ErrorCode.NOT_COORDINATOR) {
              this.retryWithNewCoordinator(h, nowMs)
              return
            }
            if (code === ErrorCode.CONCURRENT_TRANSACTIONS) {
              // The previous transaction is still completing: for the first partitions of a transaction, try again soon.
              if (this.partitionsInTransaction.size === 0) h.retryBackoffMs = Math.min(this.txnRetryBackoffMs, ADD_PARTITIONS_RETRY_BACKOFF_MS)
              this.retry(h, nowMs)
              return
            }
            if (isRetriable(code)) {
              this.retry(h, nowMs)
              return
            }
            if (
              code === ErrorCode.INVALID_PRODUCER_EPOCH ||
              code === ErrorCode.PRODUCER_FENCED ||
              code === ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED ||
              code === ErrorCode.INVALID_TXN_STATE ||
              code === ErrorCode.INVALID_PRODUCER_ID_MAPPING
            ) {
              this.fatalCode(h, code)
              return
            }
            if (code === ErrorCode.UNKNOWN_PRODUCER_ID) {
              this.abortableIfPossible(h, code)
              return
            }
            if (code === ErrorCode.TRANSACTION_ABORTABLE) {
              this.abortableCode(h, code)
              return
            }
            if (code === ErrorCode.TOPIC_AUTHORIZATION_FAILED) unauthorized.add(t.name)
            else if (code !== ErrorCode.OPERATION_NOT_ATTEMPTED) failures.push(`${t.name}-${p.partitionIndex}: ${errorName(code)}`)
            hasPartitionErrors = true
          }
        }
        // Whatever the outcome, these are no longer pending: batches of partitions that were added may be retried.
        for (const k of answered) this.pendingPartitionsInTransaction.delete(k)
        if (unauthorized.size > 0) {
          this.abortableRequestError(
            h,
            new KafkaTransactionAbortableError('TOPIC_AUTHORIZATION_FAILED', `Not authorized to write to topic(s) ${[...unauthorized].join(', ')} in a transaction`),
          )
        } else if (hasPartitionErrors) {
          this.abortableRequestError(h, new KafkaTransactionAbortableError('ADD_PARTITIONS_FAILED', `Could not add partitions to the transaction: ${failures.join(', ')}`))
        } else {
          for (const k of answered) this.partitionsInTransaction.add(k)
          this.transactionStarted = true
          h.result.done()
        }
      },
    )
  }

  private addOffsetsRequest(offsets: readonly TransactionOffset[], group: ConsumerGroupMetadata): TxnRequest {
    const producer = this.producer
    return this.newRequest(
      'AddOffsetsToTxn',
      AddOffsetsToTxnApi,
      TxnPriority.AddPartitionsOrOffsets,
      'TRANSACTION',
      this.transactionalId,
      () => ({ transactionalId: this.transactionalId!, producerId: producer.producerId, producerEpoch: producer.epoch, groupId: group.groupId }),
      (h, body: AddOffsetsToTxnResponse, _version, nowMs) => {
        const code = body.errorCode
        if (code === ErrorCode.NONE) {
          // The result completes only when TxnOffsetCommit does.
          this.enqueue(this.txnOffsetCommitRequest(h.result, offsets, group))
          this.transactionStarted = true
        } else if (code === ErrorCode.COORDINATOR_NOT_AVAILABLE || code === ErrorCode.NOT_COORDINATOR) {
          this.retryWithNewCoordinator(h, nowMs)
        } else if (isRetriable(code) || code === ErrorCode.CONCURRENT_TRANSACTIONS) {
          this.retry(h, nowMs)
        } else if (code === ErrorCode.UNKNOWN_PRODUCER_ID) {
          this.abortableIfPossible(h, code)
        } else if (code === ErrorCode.GROUP_AUTHORIZATION_FAILED || code === ErrorCode.TRANSACTION_ABORTABLE) {
          this.abortableCode(h, code, ` (group '${group.groupId}')`)
        } else {
          this.fatalCode(h, code)
        }
      },
    )
  }

  private txnOffsetCommitRequest(result: TransactionalResult | null, offsets: readonly TransactionOffset[], group: ConsumerGroupMetadata): TxnRequest {
    for (const o of offsets) {
      this.pendingTxnOffsetCommits.set(partitionKey(o.topic, o.partition), {
        topic: o.topic,
        partition: o.partition,
        offset: BigInt(o.offset),
        metadata: o.metadata === undefined ? '' : o.metadata,
        leaderEpoch: o.leaderEpoch ?? -1,
      })
    }
    const producer = this.producer
    // v6 names topics by id (KIP-1319), which this client does not track; v5+ inside a v1 transaction is refused by Java's builder.
    const api = this.transactionV2 ? TXN_OFFSET_COMMIT_V5 : TXN_OFFSET_COMMIT_V4
    return this.newRequest(
      'TxnOffsetCommit',
      api,
      TxnPriority.AddPartitionsOrOffsets,
      'GROUP',
      group.groupId,
      (version): TxnOffsetCommitRequest => {
        const byTopic = new Map<string, TxnOffsetCommitRequest['topics'][number]>()
        for (const o of this.pendingTxnOffsetCommits.values()) {
          let t = byTopic.get(o.topic)
          if (t === undefined) byTopic.set(o.topic, (t = { name: o.topic, partitions: [] }))
          t.partitions.push({
            partitionIndex: o.partition,
            committedOffset: o.offset,
            ...(version >= 2 ? { committedLeaderEpoch: o.leaderEpoch } : {}),
            committedMetadata: o.metadata,
          })
        }
        return {
          transactionalId: this.transactionalId!,
          groupId: group.groupId,
          producerId: producer.producerId,
          producerEpoch: producer.epoch,
          // v3+ (KIP-447): the consumer's generation fences zombie consumers' offsets.
          ...(version >= 3
            ? { generationIdOrMemberEpoch: group.generationId ?? -1, memberId: group.memberId ?? '', groupInstanceId: group.groupInstanceId ?? null }
            : {}),
          topics: [...byTopic.values()],
        }
      },
      (h, body: TxnOffsetCommitResponse, _version, nowMs) => {
        let coordinatorReloaded = false
        outer: for (const t of body.topics) {
          for (const p of t.partitions) {
            const code = p.errorCode
            if (code === ErrorCode.NONE) {
              this.pendingTxnOffsetCommits.delete(partitionKey(t.name, p.partitionIndex))
            } else if (code === ErrorCode.COORDINATOR_NOT_AVAILABLE || code === ErrorCode.NOT_COORDINATOR || code === ErrorCode.REQUEST_TIMED_OUT) {
              if (!coordinatorReloaded) {
                coordinatorReloaded = true
                this.lookupCoordinator('GROUP', group.groupId)
              }
            } else if (isRetriable(code)) {
              continue
            } else if (code === ErrorCode.GROUP_AUTHORIZATION_FAILED || code === ErrorCode.FENCED_INSTANCE_ID || code === ErrorCode.TRANSACTION_ABORTABLE) {
              this.abortableCode(h, code, ` (group '${group.groupId}')`)
              break outer
            } else if (
              code === ErrorCode.UNKNOWN_MEMBER_ID ||
              code === ErrorCode.ILLEGAL_GENERATION ||
              // KIP-848 (consumer groups): STALE_MEMBER_EPOCH is ILLEGAL_GENERATION for a member epoch, and
              // GROUP_ID_NOT_FOUND answers a generation or member id for a group that is gone. Both say the
              // consumer's group metadata is out of date: abortable, as Java's TxnOffsetCommitHandler treats
              // them since KAFKA-20444 (KIP-1319), with ILLEGAL_GENERATION and UNKNOWN_MEMBER_ID, as a
              // CommitFailedException (before it, Java had no case for them and ended the producer).
              code === ErrorCode.STALE_MEMBER_EPOCH ||
              code === ErrorCode.GROUP_ID_NOT_FOUND
            ) {
              this.abortableRequestError(
                h,
                new KafkaTransactionAbortableError(errorName(code), `The offset commit failed because the consumer group metadata does not match the group's: ${errorName(code)} (group '${group.groupId}')`),
              )
              break outer
            } else {
              // PRODUCER_FENCED / INVALID_PRODUCER_EPOCH, TRANSACTIONAL_ID_AUTHORIZATION_FAILED, UNSUPPORTED_FOR_MESSAGE_FORMAT, unexpected.
              this.fatalCode(h, code)
              break outer
            }
          }
        }
        if (h.result.isCompleted) this.pendingTxnOffsetCommits.clear()
        else if (this.pendingTxnOffsetCommits.size === 0) h.result.done()
        else this.retry(h, nowMs) // the rest failed with retriable errors
      },
      result ?? undefined,
    )
  }

  private endTxnRequest(committed: boolean, v2: boolean): TxnRequest {
    const producer = this.producer
    return this.newRequest(
      'EndTxn',
      v2 ? EndTxnApi : END_TXN_V4,
      TxnPriority.EndTxn,
      'TRANSACTION',
      this.transactionalId,
      () => ({ transactionalId: this.transactionalId!, producerId: producer.producerId, producerEpoch: producer.epoch, committed }),
      (h, body: EndTxnResponse, _version, nowMs) => {
        const code = body.errorCode
        if (code === ErrorCode.NONE) {
          // v5 (KIP-890 part 2): every commit and abort bumps the epoch (or, at its end, hands out a new producer id).
          if (body.producerId !== -1n) {
            const previous = this.producer
            this.producer = { producerId: body.producerId, epoch: body.producerEpoch }
            if (epochBumpChannel.hasSubscribers) this.publishEpochBump(previous, 'end-txn')
            this.resetSequenceNumbers()
          }
          this.completeTransaction()
          h.result.done()
        } else if (code === ErrorCode.COORDINATOR_NOT_AVAILABLE || code === ErrorCode.NOT_COORDINATOR) {
          this.retryWithNewCoordinator(h, nowMs)
        } else if (isRetriable(code) || code === ErrorCode.CONCURRENT_TRANSACTIONS) {
          this.retry(h, nowMs)
        } else if (!committed && (code === ErrorCode.UNKNOWN_PRODUCER_ID || code === ErrorCode.TRANSACTION_ABORTABLE)) {
          // An abortable answer to an abort: abortable means "abort it", which is what failed. Java's
          // EndTxnHandler makes TRANSACTION_ABORTABLE on abort fatal since KAFKA-19250 (an abortable
          // error there had the application retry the abort in a loop). For UNKNOWN_PRODUCER_ID Java
          // still uses abortableErrorIfPossible, which, already ABORTING, skips the transition and leaves
          // the producer where no call is valid; here it is fatal too, a deliberate difference
          // (docs/transactions.md), so the application is told once to close the producer. An epoch bump
          // is no way out: the coordinator still holds the transaction open at this epoch, and
          // InitProducerId with it fences the producer (Java's beginCompletingTransaction: "the producer
          // will be fenced if we directly call InitProducerId"); Apache's coordinator does not send this
          // answer to EndTxn at all.
          this.fatalRequestError(
            h,
            new KafkaFatalProducerError(
              errorName(code),
              `EndTxn(abort) for transactional id '${this.transactionalId}' failed with ${errorName(code)}: the transaction cannot be aborted by this producer ` +
                `(the coordinator aborts it after transaction.timeout.ms, or when a new producer with this transactional id calls initTransactions())`,
            ),
          )
        } else if (code === ErrorCode.UNKNOWN_PRODUCER_ID) {
          this.abortableIfPossible(h, code)
        } else if (code === ErrorCode.TRANSACTION_ABORTABLE) {
          this.abortableCode(h, code)
        } else {
          // PRODUCER_FENCED / INVALID_PRODUCER_EPOCH, TRANSACTIONAL_ID_AUTHORIZATION_FAILED, INVALID_TXN_STATE,
          // INVALID_PRODUCER_ID_MAPPING, unexpected: fatal, as Java's EndTxnHandler.
          this.fatalCode(h, code)
        }
      },
    )
  }
}

function sameProducer(a: ProducerIdAndEpoch, b: ProducerIdAndEpoch): boolean {
  return a.producerId === b.producerId && a.epoch === b.epoch
}

function sameProducerOf(batch: ProducerBatch, p: ProducerIdAndEpoch): boolean {
  return batch.producerId === p.producerId && batch.producerEpoch === p.epoch
}

function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`
}

interface FindCoordinatorRequestHandle extends TxnRequest {
  /** `type:key`, so a lookup already queued is not queued twice. */
  lookup: string
}

/** Java's AddPartitionsToTxnRequest.Builder.forClient: clients use v0..v3; v4+ batches transactions and is for brokers (KIP-890). */
const ADD_PARTITIONS_FOR_CLIENTS: AnyApi = { ...AddPartitionsToTxnApi, maxVersion: 3 }
/** Java's EndTxnRequest.Builder without transactions v2: v5 would make the coordinator bump the epoch. */
const END_TXN_V4: AnyApi = { ...EndTxnApi, maxVersion: 4 }
/** TxnOffsetCommit inside a v1 transaction (v5 adds the offsets partition implicitly, KIP-890). */
const TXN_OFFSET_COMMIT_V4: AnyApi = { ...TxnOffsetCommitApi, maxVersion: 4 }
/** v6 names topics by id only (KIP-1319): this client does not track topic ids. */
const TXN_OFFSET_COMMIT_V5: AnyApi = { ...TxnOffsetCommitApi, maxVersion: 5 }

/**
 * Errors that end a transactional producer when a batch fails with them
 * (Java's maybeTransitionToErrorState); every other failure of a batch in a
 * transaction is abortable.
 */
const FATAL_TRANSACTIONAL_ERRORS = new Set<number>([
  ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
  ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
  ErrorCode.PRODUCER_FENCED,
  ErrorCode.UNSUPPORTED_VERSION,
  ErrorCode.INVALID_PRODUCER_ID_MAPPING,
])
