/**
 * Idempotent-producer bookkeeping (Java's TransactionManager, idempotent part):
 * sequence assignment, in-order retries, epoch bumps (KIP-360), unresolved
 * sequences and failed-batch gap closing. Real ProducerBatch objects, no broker.
 */
import { describe, expect, it } from 'vitest'
import { ProducerBatch } from '../../src/producer/producer-batch.js'
import { FailedBatchOutcome, TransactionManager } from '../../src/producer/transaction-manager.js'
import { incrementSequence } from '../../src/protocol/record-batch.js'
import { decodeRecordBatches } from '../harness/record-batch-decoder.js'

const noop = (): void => {}

function batch(records: number, topic = 't', partition = 0): ProducerBatch {
  const b = new ProducerBatch(topic, partition, Buffer.alloc(4096), 0)
  for (let i = 0; i < records; i++) b.tryAppend(1000 + i, null, `v${i}`, null, noop, null, 0)
  return b
}

function manager(): TransactionManager {
  const tm = new TransactionManager()
  tm.setProducerIdAndEpoch({ producerId: 42n, epoch: 0 })
  return tm
}

/** Drains like the accumulator: ask, then assign. */
function drain(tm: TransactionManager, b: ProducerBatch): boolean {
  if (tm.shouldStopDrainBatchesForPartition(b)) return false
  tm.onDrain(b)
  b.close()
  return true
}

describe('sequence numbers', () => {
  it('wrap from 2^31-1 to 0 as Kafka does', () => {
    expect(incrementSequence(5, 3)).toBe(8)
    expect(incrementSequence(2147483647, 1)).toBe(0)
    expect(incrementSequence(2147483646, 3)).toBe(1)
  })

  it('are assigned at drain, consecutively per partition, and written into the batch header', () => {
    const tm = manager()
    const a = batch(3)
    const b = batch(2)
    const other = batch(4, 't', 1)
    expect(drain(tm, a)).toBe(true)
    expect(drain(tm, b)).toBe(true)
    expect(drain(tm, other)).toBe(true)
    expect([a.baseSequence, b.baseSequence, other.baseSequence]).toEqual([0, 3, 0])
    const [decoded] = decodeRecordBatches(b.records())
    expect(decoded!.producerId).toBe(42n)
    expect(decoded!.producerEpoch).toBe(0)
    expect(decoded!.baseSequence).toBe(3)
  })

  it('nothing is drained before there is a producer id', () => {
    const tm = new TransactionManager()
    expect(tm.needsInitProducerId()).toBe(true)
    expect(tm.shouldStopDrainBatchesForPartition(batch(1))).toBe(true)
  })
})

describe('retries keep order', () => {
  it('a retried batch is sent only when it is the lowest sequence in flight', () => {
    const tm = manager()
    const [a, b, c] = [batch(1), batch(1), batch(1)]
    for (const x of [a, b, c]) drain(tm, x)
    // a failed with a retriable error and c came back OUT_OF_ORDER: both are re-enqueued.
    expect(tm.shouldStopDrainBatchesForPartition(c)).toBe(true)
    expect(tm.shouldStopDrainBatchesForPartition(a)).toBe(false)
    tm.handleCompletedBatch(a, 100n)
    expect(tm.shouldStopDrainBatchesForPartition(c)).toBe(true) // b is still lower
    tm.handleCompletedBatch(b, 101n)
    expect(tm.shouldStopDrainBatchesForPartition(c)).toBe(false)
  })

  it('OUT_OF_ORDER_SEQUENCE_NUMBER on a batch that is not next is retried without a bump', () => {
    const tm = manager()
    const [a, b] = [batch(2), batch(2)]
    drain(tm, a)
    drain(tm, b)
    expect(tm.canRetry(b, 45, false, 0n)).toBe(true)
    tm.bumpIdempotentEpochAndResetIdIfNeeded()
    expect(tm.producerIdAndEpoch.epoch).toBe(0)
  })

  it('OUT_OF_ORDER_SEQUENCE_NUMBER on the next batch bumps the epoch and restarts sequences at 0', () => {
    const tm = manager()
    const [a, b, c] = [batch(2), batch(3), batch(1)]
    for (const x of [a, b, c]) drain(tm, x)
    tm.handleCompletedBatch(a, 0n) // last acked sequence 1, so b (base 2) is next
    expect(tm.canRetry(b, 45, false, 0n)).toBe(true)
    tm.bumpIdempotentEpochAndResetIdIfNeeded()
    expect(tm.producerIdAndEpoch).toEqual({ producerId: 42n, epoch: 1 })
    expect([b.baseSequence, b.producerEpoch, c.baseSequence, c.producerEpoch]).toEqual([0, 1, 3, 1])
    const [decoded] = decodeRecordBatches(c.records())
    expect([decoded!.producerEpoch, decoded!.baseSequence]).toEqual([1, 3]) // header and CRC rewritten
    const d = batch(1)
    drain(tm, d)
    expect([d.baseSequence, d.producerEpoch]).toEqual([4, 1])
  })

  it('UNKNOWN_PRODUCER_ID: retries without a log start offset; bumps when the broker lost our state', () => {
    const tm = manager()
    const a = batch(1)
    drain(tm, a)
    expect(tm.canRetry(a, 59, true, -1n)).toBe(true)
    tm.bumpIdempotentEpochAndResetIdIfNeeded()
    expect(tm.producerIdAndEpoch.epoch).toBe(0)
    expect(tm.canRetry(a, 59, true, 10n)).toBe(true) // last acked offset -1 < log start 10
    tm.bumpIdempotentEpochAndResetIdIfNeeded()
    expect(tm.producerIdAndEpoch.epoch).toBe(1)
    expect(a.producerEpoch).toBe(1)
  })

  it('other errors are retried exactly when they are retriable', () => {
    const tm = manager()
    const a = batch(1)
    drain(tm, a)
    expect(tm.canRetry(a, 6, true, 0n)).toBe(true)
    expect(tm.canRetry(a, 87, false, 0n)).toBe(false)
  })
})

describe('failures and expiry', () => {
  it('a batch the broker refused bumps the epoch; later sequences are never shifted down', () => {
    const tm = manager()
    const [a, b, c] = [batch(2), batch(3), batch(1)]
    for (const x of [a, b, c]) drain(tm, x)
    tm.handleFailedBatch(a, FailedBatchOutcome.Rejected)
    // Shifting b down to 0 could make the broker take it for a retry of a (Java shifts only for transactions).
    expect([b.baseSequence, c.baseSequence]).toEqual([2, 5])
    tm.bumpIdempotentEpochAndResetIdIfNeeded()
    expect(tm.producerIdAndEpoch.epoch).toBe(1)
    expect([b.baseSequence, b.producerEpoch, c.baseSequence]).toEqual([0, 1, 3])
    const d = batch(1)
    drain(tm, d)
    expect([d.baseSequence, d.producerEpoch]).toEqual([4, 1])
  })

  it('a batch whose fate is unknown never hands its sequence range to the next batch', () => {
    const tm = manager()
    const [a, b] = [batch(1), batch(1)]
    drain(tm, a)
    tm.handleFailedBatch(a, FailedBatchOutcome.Unknown) // e.g. timed out at the delivery deadline
    expect(tm.shouldStopDrainBatchesForPartition(b)).toBe(true)
    tm.maybeResolveSequences() // nothing acknowledged a: a new epoch, so b cannot be mistaken for a
    tm.bumpIdempotentEpochAndResetIdIfNeeded()
    expect(tm.shouldStopDrainBatchesForPartition(b)).toBe(false)
    tm.onDrain(b)
    expect([b.baseSequence, b.producerEpoch]).toEqual([0, 1])
  })

  it('with finite retries, a batch that finally fails OUT_OF_ORDER recovers the partition by a bump', () => {
    const tm = manager()
    const [a, b] = [batch(1), batch(1)]
    drain(tm, a)
    drain(tm, b)
    tm.handleFailedBatch(a, FailedBatchOutcome.Rejected) // a: not written
    expect(tm.canRetry(b, 45, false, 0n)).toBe(true)
    tm.bumpIdempotentEpochAndResetIdIfNeeded()
    expect([b.baseSequence, b.producerEpoch]).toEqual([0, 1])
  })

  it('a batch re-drained after a bump is no longer excused by its reset', () => {
    const tm = manager()
    const [a, b] = [batch(1), batch(1)]
    drain(tm, a)
    drain(tm, b)
    tm.handleCompletedBatch(a, 0n)
    expect(tm.canRetry(b, 45, false, 0n)).toBe(true) // b is next: real gap, bump
    tm.bumpIdempotentEpochAndResetIdIfNeeded()
    expect(tm.producerIdAndEpoch.epoch).toBe(1)
    drain(tm, b) // sent again as (epoch 1, seq 0)
    expect(tm.canRetry(b, 45, false, 0n)).toBe(true) // still out of order as the next batch: bump again
    tm.bumpIdempotentEpochAndResetIdIfNeeded()
    expect(tm.producerIdAndEpoch.epoch).toBe(2)
  })

  it('a bump requested while there is no producer id waits for one, and never stamps id -1', () => {
    const tm = manager()
    const a = batch(1)
    drain(tm, a)
    ;(tm as unknown as { producer: unknown }).producer = { producerId: -1n, epoch: -1 } // epochs exhausted
    expect(tm.canRetry(a, 59, true, 10n)).toBe(true)
    tm.bumpIdempotentEpochAndResetIdIfNeeded()
    expect(a.producerId).toBe(42n)
    tm.setProducerIdAndEpoch({ producerId: 77n, epoch: 0 })
    expect([a.producerId, a.producerEpoch, a.baseSequence]).toEqual([77n, 0, 0])
  })

  it('keeps order across the 2^31 sequence wrap', () => {
    const tm = manager()
    const a = batch(2)
    drain(tm, a)
    // Jump the partition close to the wrap.
    const entry = (tm as unknown as { partitions: Map<string, { nextSequence: number }[]> }).partitions.get('t')![0]!
    entry.nextSequence = 2147483647
    const [b, c] = [batch(2), batch(2)]
    drain(tm, b)
    drain(tm, c)
    expect([b.baseSequence, c.baseSequence]).toEqual([2147483647, 1])
    tm.handleCompletedBatch(a, 0n)
    // b (wire 2147483647) is before c (wire 1): only b may be resent first.
    expect(tm.shouldStopDrainBatchesForPartition(b)).toBe(false)
    expect(tm.shouldStopDrainBatchesForPartition(c)).toBe(true)
    expect(tm.sequenceOf(c)).toBeGreaterThan(tm.sequenceOf(b))
  })

  it('an expired batch holds new batches until resolved; acknowledged later, nothing is bumped', () => {
    const tm = manager()
    const [a, b] = [batch(1), batch(1)]
    drain(tm, a)
    tm.handleFailedBatch(a, FailedBatchOutcome.Unknown)
    expect(tm.shouldStopDrainBatchesForPartition(b)).toBe(true) // held until the sender's next maybeResolveSequences
    // With a still in flight the partition waits.
    const tm2 = manager()
    const [x, y] = [batch(1), batch(1)]
    drain(tm2, x)
    tm2.markSequenceUnresolved(x)
    expect(tm2.shouldStopDrainBatchesForPartition(y)).toBe(true)
    tm2.handleCompletedBatch(x, 7n) // it was written after all
    tm2.maybeResolveSequences()
    expect(tm2.shouldStopDrainBatchesForPartition(y)).toBe(false)
    tm2.bumpIdempotentEpochAndResetIdIfNeeded()
    expect(tm2.producerIdAndEpoch.epoch).toBe(0)
  })

  it('an expired batch that was never written leads to an epoch bump once nothing is in flight', () => {
    const tm = manager()
    const [a, b] = [batch(1), batch(1)]
    drain(tm, a)
    tm.handleFailedBatch(a, FailedBatchOutcome.Unknown)
    tm.maybeResolveSequences()
    tm.bumpIdempotentEpochAndResetIdIfNeeded()
    expect(tm.producerIdAndEpoch.epoch).toBe(1)
    drain(tm, b)
    expect([b.baseSequence, b.producerEpoch]).toEqual([0, 1])
  })

  it('a new-epoch batch waits for old-epoch batches of its partition to finish', () => {
    const tm = manager()
    const [a, b] = [batch(1), batch(1, 't', 1)]
    drain(tm, a)
    drain(tm, b)
    tm.canRetry(b, 45, false, 0n) // partition 1 needs a bump (b is next: nothing acked)
    tm.bumpIdempotentEpochAndResetIdIfNeeded()
    const c = batch(1) // partition 0 still has a (epoch 0) in flight
    expect(tm.shouldStopDrainBatchesForPartition(c)).toBe(true)
    tm.handleCompletedBatch(a, 0n)
    expect(tm.shouldStopDrainBatchesForPartition(c)).toBe(false)
    tm.onDrain(c)
    expect([c.baseSequence, c.producerEpoch]).toEqual([0, 1])
  })

  it('split batches take over the original sequence range in order', () => {
    const tm = manager()
    const [a, b] = [batch(4), batch(1)]
    drain(tm, a)
    drain(tm, b)
    const parts = [batch(2), batch(2)]
    tm.onSplit(a, parts)
    expect(parts.map((p) => p.baseSequence)).toEqual([0, 2])
    expect(tm.shouldStopDrainBatchesForPartition(parts[0]!)).toBe(false)
    expect(tm.shouldStopDrainBatchesForPartition(parts[1]!)).toBe(true)
  })

  it('a fatal error stops everything', async () => {
    const tm = manager()
    const { KafkaFatalProducerError } = await import('../../src/errors.js')
    tm.transitionToFatalError(new KafkaFatalProducerError('PRODUCER_FENCED', 'fenced'))
    expect(tm.shouldStopDrainBatchesForPartition(batch(1))).toBe(true)
    expect(tm.fatalError!.message).toMatch(/fatal: the producer cannot send any more records/)
  })
})
