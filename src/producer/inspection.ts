import type { ConnectionInspection } from '../clients/inspection.js'
import type { ProducerMetricsSnapshot } from './metrics.js'

export type { ConnectionInspection, ConnectionStateName, InFlightRequestInspection } from '../clients/inspection.js'

/**
 * The types of `producer.inspect()`: a picture of the pipeline at one
 * instant, built by each layer from the state it keeps anyway (nothing is
 * recorded for it on the send path). Plain objects, arrays, strings, numbers
 * and booleans only: `JSON.stringify(producer.inspect())` needs no replacer.
 * Times are milliseconds of the producer's clock.
 */

/** One partition with batches queued in the accumulator (or held back for ordering). */
export interface PartitionInspection {
  /** The partition's topic. */
  readonly topic: string
  /** The partition's index in its topic. */
  readonly partition: number
  /** The leader's broker id in the current metadata; -1 when unknown. */
  readonly leader: number
  /** Batches queued (not yet drained into a request). */
  readonly batches: number
  /** Their bytes: exact for uncompressed and compressed batches, Java's estimate while a batch is still compressing. */
  readonly bytes: number
  /** Records in those batches. */
  readonly records: number
  /** Age of the oldest queued batch, from its creation (its first record). */
  readonly oldestBatchAgeMs: number
  /**
   * Not drained now to keep order: max.in.flight.requests.per.connection = 1
   * with a batch of this partition in flight (Java's muted partitions), or
   * idempotence holding it back (no producer id yet, an earlier batch's
   * outcome unknown, a retry waiting for its turn in sequence order).
   */
  readonly muted: boolean
  /** Milliseconds left of the first batch's retry backoff; 0 when it is not backing off. */
  readonly backoffMs: number
  /** No leader is known for it: it waits for a metadata refresh. */
  readonly waitingForLeader: boolean
}

/** The record accumulator: totals, and the partitions with something queued. */
export interface AccumulatorInspection {
  /** Batches queued over every partition (not yet drained into a request). */
  readonly batches: number
  /** Their bytes, over every partition (Java's estimate for a batch still compressing). */
  readonly bytes: number
  /** Records in those batches, over every partition. */
  readonly records: number
  /**
   * Partitions with queued batches (or muted), in the order the accumulator
   * first saw them; with `inspect({ maxPartitions })`, at most that many,
   * those with the oldest batches first.
   */
  readonly partitions: readonly PartitionInspection[]
  /** Partitions left out of `partitions` by `maxPartitions`; 0 without it. */
  readonly partitionsOmitted: number
}

/** Options of `producer.inspect()`. */
export interface InspectOptions {
  /**
   * List at most this many partitions (those with the oldest batches), to
   * keep the picture short enough to print with many partitions; the
   * accumulator's totals still cover all. Default: every partition.
   */
  readonly maxPartitions?: number
}

/** Sends waiting in the producer, for one reason or one topic. */
export interface WaitingGroupInspection {
  /** How many sends wait. */
  readonly sends: number
  /** Milliseconds since the oldest of them was sent (max.block.ms bounds it). */
  readonly oldestAgeMs: number
}

/** Per topic: what its waiting sends wait for. */
export interface WaitingTopicInspection extends WaitingGroupInspection {
  /**
   * `metadata`: the topic is not in the metadata yet. `memory`: it is, so its
   * sends wait for buffer.memory, or in send() order behind one that waits.
   */
  readonly waitingFor: 'metadata' | 'memory'
}

/**
 * Sends that could not be appended at once (Java blocks the caller's thread
 * in `waitOnMetadata` or `BufferPool.allocate`); they keep send() order.
 */
export interface WaitingSendsInspection {
  /** How many sends wait, for any reason. */
  readonly sends: number
  /** Milliseconds since the oldest of them was sent (max.block.ms bounds it); 0 when none waits. */
  readonly oldestAgeMs: number
  /** What the first waiting send is waiting for; null when none waits. */
  readonly head: 'metadata' | 'memory' | null
  /** Sends whose topic is not in the metadata yet. */
  readonly metadata: WaitingGroupInspection
  /** Sends whose topic is known: they wait for buffer.memory, or in send() order behind one that waits. */
  readonly memory: WaitingGroupInspection
  /** Per topic with waiting sends: how many, the oldest's age, and what they wait for. */
  readonly topics: Readonly<Record<string, WaitingTopicInspection>>
}

/** The buffer pool behind buffer.memory. */
export interface BufferPoolInspection {
  /** buffer.memory. */
  readonly totalBytes: number
  /** Bytes that can be handed out now (unallocated plus pooled free buffers). */
  readonly freeBytes: number
  /** totalBytes - freeBytes: held by batches, or reserved by waiters. */
  readonly usedBytes: number
  /** Free buffers kept for reuse, of every size class (512 B, 1 KiB, … up to batch.size). */
  readonly pooledBuffers: number
  /** Appends waiting for memory, in arrival order. */
  readonly waiters: number
  /** Bytes those waiters asked for. */
  readonly waitingBytes: number
  /** Milliseconds the first of them has waited; 0 when none waits. */
  readonly oldestWaiterAgeMs: number
}

/** What `producer.inspect()` returns. */
export interface ProducerInspection {
  /** The producer clock's reading this picture was taken at (epoch ms with the default clock). */
  readonly ts: number
  /** Broker connections, with their requests in flight. */
  readonly brokers: readonly ConnectionInspection[]
  /** The batches not sent yet: totals, and per partition. */
  readonly accumulator: AccumulatorInspection
  /** Sends that could not be appended yet (waiting for metadata or memory). */
  readonly waitingSends: WaitingSendsInspection
  /** How full buffer.memory is, and who waits for it. */
  readonly bufferPool: BufferPoolInspection
}

/**
 * What `onStatistics` receives every statistics.interval.ms (librdkafka's
 * statistics, in this producer's terms): the metrics snapshot and the
 * inspector's picture, taken together. JSON-serialisable; metrics that have
 * no sample yet are NaN, which `JSON.stringify` writes as null.
 */
export interface ProducerStatistics {
  /** The producer clock's reading when it was taken. */
  readonly ts: number
  /** What `producer.metrics()` returned at that moment. */
  readonly metrics: ProducerMetricsSnapshot
  /** What `producer.inspect()` returned at that moment. */
  readonly inspection: ProducerInspection
}
