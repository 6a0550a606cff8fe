// Imported, not the global: Node's global `Buffer` is a lazy getter that runs on every use (bench/micro/FINDINGS.md).
import { Buffer } from 'node:buffer'
import type { Cluster } from '../clients/cluster.js'
import { KafkaClientError } from '../errors.js'

// ---------------------------------------------------------------------------
// Key hashing: byte-for-byte compatible with the Java client, so that a key
// lands on the same partition whichever client produced it.
// ---------------------------------------------------------------------------

const MURMUR2_SEED = 0x9747b28c
const MURMUR2_M = 0x5bd1e995

/**
 * The 32-bit murmur2 hash the Java client uses to place keyed records
 * (`org.apache.kafka.common.utils.Utils.murmur2`): seed 0x9747b28c, bytes read
 * little-endian four at a time, tail of 1..3 bytes mixed in last.
 *
 * Returns a signed 32-bit integer, exactly Java's `int` result. Hot path:
 * no allocation, integer multiplications via `Math.imul`.
 */
export function murmur2(data: Uint8Array): number {
  return murmur2Prefix(data, data.length)
}

/** {@link murmur2} of `data[0, length)`. */
function murmur2Prefix(data: Uint8Array, length: number): number {
  let h = MURMUR2_SEED ^ length
  const bodyEnd = length & ~3

  for (let i = 0; i < bodyEnd; i += 4) {
    let k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)
    k = Math.imul(k, MURMUR2_M)
    k ^= k >>> 24
    k = Math.imul(k, MURMUR2_M)
    h = Math.imul(h, MURMUR2_M)
    h ^= k
  }

  // Java's switch falls through 3 -> 2 -> 1; spelled out as nested tests here.
  const tail = length & 3
  if (tail !== 0) {
    if (tail === 3) h ^= data[bodyEnd + 2] << 16
    if (tail >= 2) h ^= data[bodyEnd + 1] << 8
    h ^= data[bodyEnd]
    h = Math.imul(h, MURMUR2_M)
  }

  h ^= h >>> 13
  h = Math.imul(h, MURMUR2_M)
  h ^= h >>> 15
  return h | 0
}

/**
 * Holds the UTF-8 bytes of a string key while it is hashed; grown on demand.
 * Never escapes: only {@link murmur2Utf8} reads it, synchronously.
 */
let keyScratch = Buffer.allocUnsafeSlow(256)

/**
 * {@link murmur2} of the UTF-8 encoding of `key`, i.e. of
 * `Buffer.from(key, 'utf8')` (lone surrogates become U+FFFD in both), without
 * allocating a Buffer per key: ASCII keys are copied char by char into a
 * reused scratch buffer, others are encoded into it with `buf.write`.
 */
export function murmur2Utf8(key: string): number {
  const n = key.length
  // A UTF-16 code unit takes at most 3 UTF-8 bytes (a surrogate pair, 2 units, takes 4).
  if (keyScratch.length < 3 * n) keyScratch = Buffer.allocUnsafeSlow(Math.max(3 * n, 2 * keyScratch.length))
  const buf = keyScratch
  for (let i = 0; i < n; i++) {
    const c = key.charCodeAt(i)
    if (c >= 0x80) return murmur2Prefix(buf, buf.write(key, 0, 'utf8'))
    buf[i] = c
  }
  return murmur2Prefix(buf, n)
}

/**
 * Java's `Utils.toPositive`: clears the sign bit (not `Math.abs`, which would
 * map -2^31 to itself and differ from Java for every negative input).
 */
export function toPositive(n: number): number {
  return n & 0x7fffffff
}

/**
 * The partition of a record with a non-null serialized key under the default
 * (built-in) partitioning: `toPositive(murmur2(key)) % numPartitions`.
 *
 * Precondition: `numPartitions >= 1` (the topic's metadata is known).
 */
export function partitionForKey(serializedKey: Uint8Array, numPartitions: number): number {
  return toPositive(murmur2(serializedKey)) % numPartitions
}

/** {@link partitionForKey} of a string key's UTF-8 bytes, without encoding it into a new Buffer. */
export function partitionForStringKey(key: string, numPartitions: number): number {
  return toPositive(murmur2Utf8(key)) % numPartitions
}

// ---------------------------------------------------------------------------
// Sticky, adaptive partitioning for records without a key (KIP-480, KIP-794).
// ---------------------------------------------------------------------------

/**
 * The partition a topic's keyless records currently stick to, and how many
 * bytes have been appended to it since it was chosen. A new object is created
 * on every switch, so identity tells whether a switch happened in between
 * (see {@link BuiltInPartitioner.isPartitionChanged}).
 */
export class StickyPartitionInfo {
  /** Bytes appended to `partition` since it became the sticky one; maintained by BuiltInPartitioner. */
  producedBytes = 0

  constructor(readonly partition: number) {}
}

/** An int array: a plain array or an Int32Array both work. */
export type IntArray = number[] | Int32Array

/** The cumulative frequency table that drives the weighted (adaptive) choice. */
interface PartitionLoadStats {
  /** Strictly increasing running sums of the inverted queue sizes; only [0, length) is meaningful. */
  readonly cumulativeFrequencyTable: IntArray
  /** partitionIds[i] is the partition whose weight ends at cumulativeFrequencyTable[i]. */
  readonly partitionIds: IntArray
  readonly length: number
}

export interface BuiltInPartitionerOptions {
  /**
   * Uniform random source in [0, 1), as `Math.random`. Injected so tests can
   * be deterministic. It is turned into a non-negative 31-bit integer the way
   * Java's `Utils.toPositive(ThreadLocalRandom.nextInt())` yields one.
   */
  readonly random?: () => number
}

/**
 * The built-in partitioner for one topic: the Java client's
 * `org.apache.kafka.clients.producer.internals.BuiltInPartitioner`.
 *
 * Keyless records stick to one partition until `stickyBatchSize` bytes have
 * been appended to it (KIP-480, refined by KIP-794), then a new partition is
 * chosen:
 * - uniformly among the partitions whose leader is known, or among all
 *   partitions when none has a known leader; or
 * - when load stats were fed in by {@link updatePartitionLoadStats}
 *   (adaptive partitioning), with probability inversely related to the
 *   length of each partition's batch queue, so slower brokers get less data.
 *
 * Protocol with the accumulator, for each keyless record:
 * 1. `info = peekCurrentPartitionInfo(cluster)`: which partition to append to;
 * 2. if anything asynchronous happened since step 1, `isPartitionChanged(info)`
 *    tells whether to start over with step 1;
 * 3. append the record to `info.partition`'s queue;
 * 4. `updatePartitionInfo(info, appendedBytes, cluster, enableSwitch)`.
 * Steps 2..4 must run without yielding to the event loop (Java holds the
 * partition queue's lock there).
 *
 * Precondition for every method taking a cluster: the snapshot holds
 * metadata for this topic with at least one partition.
 */
export class BuiltInPartitioner {
  private readonly random: () => number
  private sticky: StickyPartitionInfo | null = null
  /** The snapshot `sticky` was last found valid in; snapshots are immutable, so it need not be checked again there. */
  private stickyCheckedIn: Cluster | null = null
  private loadStats: PartitionLoadStats | null = null

  /**
   * @param topic the topic this partitioner serves (one instance per topic)
   * @param stickyBatchSize bytes to append to a partition before switching:
   *   `batch.size`, or 1 when `batch.size` is 0 (as the Java producer does)
   */
  constructor(
    readonly topic: string,
    readonly stickyBatchSize: number,
    options: BuiltInPartitionerOptions = {},
  ) {
    if (!Number.isInteger(stickyBatchSize) || stickyBatchSize < 1) {
      throw new KafkaClientError('INVALID_ARGUMENT', `stickyBatchSize must be an integer >= 1 but got ${stickyBatchSize}`)
    }
    this.random = options.random ?? Math.random
  }

  /**
   * The current sticky partition, choosing one first if there is none yet.
   *
   * Deviation from Java: if the sticky partition no longer exists in
   * `cluster` (the topic was deleted and re-created with fewer partitions), a
   * new one is chosen instead of appending to a partition that cannot become
   * sendable. Partition counts only grow otherwise, so this never triggers in
   * normal operation.
   */
  peekCurrentPartitionInfo(cluster: Cluster): StickyPartitionInfo {
    const current = this.sticky
    if (current !== null) {
      // Per keyless record: the Map lookup below runs once per snapshot, not per record.
      if (cluster === this.stickyCheckedIn) return current
      const count = cluster.partitionCountForTopic(this.topic)
      if (count === undefined || current.partition < count) {
        this.stickyCheckedIn = cluster
        return current
      }
    }
    return this.switchTo(cluster)
  }

  /** A new sticky partition chosen in `cluster` (hence valid there). */
  private switchTo(cluster: Cluster): StickyPartitionInfo {
    const next = new StickyPartitionInfo(this.nextPartition(cluster))
    this.sticky = next
    this.stickyCheckedIn = cluster
    return next
  }

  /**
   * True when the sticky partition switched since `info` was obtained from
   * {@link peekCurrentPartitionInfo}; `null` (a record that did not use the
   * built-in partitioner) never counts as changed.
   */
  isPartitionChanged(info: StickyPartitionInfo | null): boolean {
    return info !== null && this.sticky !== info
  }

  /**
   * Accounts `appendedBytes` to the sticky partition and switches to a new
   * one once `stickyBatchSize` bytes were produced to it — or, when the
   * caller passes `enableSwitch = false` because the partition's current batch
   * is not ready to send yet, only once `2 * stickyBatchSize` bytes were
   * produced (so that switching aligns with batch boundaries under a long
   * linger.ms without ever growing unbounded).
   *
   * @param info what {@link peekCurrentPartitionInfo} returned for this
   *   record; `null` when the record's partition came from elsewhere (key,
   *   explicit partition, custom partitioner) — then nothing happens.
   *   Precondition: `info` is still current ({@link isPartitionChanged} is
   *   false). A stale `info` is ignored rather than allowed to end the
   *   partition that replaced it.
   */
  updatePartitionInfo(info: StickyPartitionInfo | null, appendedBytes: number, cluster: Cluster, enableSwitch = true): void {
    if (info === null || info !== this.sticky) return
    const producedBytes = (info.producedBytes += appendedBytes)
    if ((producedBytes >= this.stickyBatchSize && enableSwitch) || producedBytes >= this.stickyBatchSize * 2) {
      this.switchTo(cluster)
    }
  }

  /**
   * Feeds the queue sizes (number of batches waiting) of this topic's
   * partitions, for adaptive partitioning; `null` turns adaptive choice off.
   *
   * Preconditions, as built by the accumulator on each readiness check:
   * - `queueSizes[i]` is the queue size of partition `partitionIds[i]`;
   *   partitions without a leader are left out altogether;
   * - both arrays have the same physical length, which is the number of
   *   partitions with a leader, and `length <= queueSizes.length`;
   * - entries at `length` and beyond are partitions excluded because their
   *   leader's latency exceeded partitioner.availability.timeout.ms — the
   *   caller moves them to the end and passes a shorter logical `length`.
   *
   * Ownership of both arrays passes to the partitioner: `queueSizes` is
   * rewritten in place into a cumulative frequency table (no allocation),
   * and both are kept until the next call. Pass fresh arrays each time.
   *
   * Adaptive choice is turned off when fewer than 2 partitions have a leader,
   * when every partition is excluded, or when all queues are equally long
   * and none is excluded (a uniform choice is then the same thing).
   */
  updatePartitionLoadStats(queueSizes: IntArray | null, partitionIds: IntArray, length: number): void {
    if (queueSizes === null) {
      this.loadStats = null
      return
    }
    if (queueSizes.length !== partitionIds.length || length > queueSizes.length) {
      throw new KafkaClientError(
        'INVALID_ARGUMENT',
        `updatePartitionLoadStats: queueSizes (${queueSizes.length}), partitionIds (${partitionIds.length}) and length (${length}) disagree`,
      )
    }
    if (length < 1 || queueSizes.length < 2) {
      this.loadStats = null
      return
    }

    // Example: queue sizes 0 3 1. Invert against (max + 1) = 4: 4 1 3; running
    // sum: 4 5 8. A uniform random r in [0, 8) then maps to the first entry
    // strictly greater than r: 0..3 -> index 0, 4 -> index 1, 5..7 -> index 2.
    let maxSizePlus1 = queueSizes[0]
    let allEqual = true
    for (let i = 1; i < length; i++) {
      const size = queueSizes[i]
      if (size !== maxSizePlus1) allEqual = false
      if (size > maxSizePlus1) maxSizePlus1 = size
    }
    maxSizePlus1++

    if (allEqual && length === queueSizes.length) {
      this.loadStats = null
      return
    }

    queueSizes[0] = maxSizePlus1 - queueSizes[0]
    for (let i = 1; i < length; i++) {
      queueSizes[i] = maxSizePlus1 - queueSizes[i] + queueSizes[i - 1]
    }
    this.loadStats = { cumulativeFrequencyTable: queueSizes, partitionIds, length }
  }

  /**
   * For tests: the exclusive upper bound of the weighted random draw (the
   * last cumulative frequency), or undefined when adaptive choice is off.
   */
  loadStatsRangeEnd(): number | undefined {
    const stats = this.loadStats
    return stats === null ? undefined : stats.cumulativeFrequencyTable[stats.length - 1]
  }

  /** A non-negative 31-bit integer, as Java's `toPositive(nextInt())`. */
  private randomPositiveInt(): number {
    return Math.floor(this.random() * 0x80000000) & 0x7fffffff
  }

  private nextPartition(cluster: Cluster): number {
    const random = this.randomPositiveInt()
    const stats = this.loadStats

    if (stats === null) {
      const available = cluster.availablePartitionsForTopic(this.topic)
      if (available.length > 0) return available[random % available.length].partition
      // No partition has a known leader: pick among all of them; the batch
      // waits in the accumulator until a leader shows up.
      const count = cluster.partitionCountForTopic(this.topic) ?? 0
      if (count === 0) {
        throw new KafkaClientError('ILLEGAL_STATE', `No partitions known for topic '${this.topic}': metadata must be fetched before partitioning`)
      }
      return random % count
    }

    // Weighted choice: the first index whose cumulative frequency is strictly
    // greater than the draw. The table is strictly increasing (every inverted
    // size is >= 1), so this upper-bound search is what Java's
    // Arrays.binarySearch + |result + 1| computes.
    const cft = stats.cumulativeFrequencyTable
    const weightedRandom = random % cft[stats.length - 1]
    let lo = 0
    let hi = stats.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (cft[mid] > weightedRandom) hi = mid
      else lo = mid + 1
    }
    return stats.partitionIds[lo]
  }
}
