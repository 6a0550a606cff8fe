/**
 * The adaptive half of a topic's partitioner (Java's
 * `BuiltInPartitioner.updatePartitionLoadStats`); `BuiltInPartitioner` in
 * partitioner.ts has it. Optional: a partitioner without it gets no stats.
 */
export interface PartitionLoadStatsSink {
  /**
   * `queueSizes[i]` batches are queued for partition `partitionIds[i]`. Both
   * have one entry per partition with a known leader; entries at `length` and
   * beyond are partitions excluded by partitioner.availability.timeout.ms.
   * `queueSizes` is null when adaptive stats are off for the topic (disabled,
   * or not every partition has a queue yet). The sink may keep and modify
   * the arrays until its next call: the feeder alternates two pairs per
   * topic, so it never writes the pair the sink holds.
   */
  updatePartitionLoadStats?(queueSizes: Int32Array | null, partitionIds: Int32Array, length: number): void
}

/** What the stats read of one partition's queue (the accumulator's PartitionQueue). */
export interface PartitionQueueLoad {
  readonly partition: number
  /** Leader node id in the current routing; -1 when unknown. */
  readonly leader: number
  readonly deque: { readonly size: number }
}

/** Java's RecordAccumulator.NodeLatencyStats. */
class NodeLatency {
  constructor(
    /** The last time the node had something to send. */
    public readyTimeMs: number,
    /** The last time its connection could take it. */
    public drainTimeMs: number,
  ) {}
}

const NO_IDS = new Int32Array(0)

/**
 * One topic's arrays for {@link PartitionLoadStats.feed}: two pairs used in
 * turn, so a pass fills the pair the partitioner let go of at the previous
 * pass instead of allocating; reallocated only when the number of
 * partitions with a leader changes.
 */
export class LoadStatsArrays {
  private readonly sizes: [Int32Array, Int32Array] = [NO_IDS, NO_IDS]
  private readonly ids: [Int32Array, Int32Array] = [NO_IDS, NO_IDS]
  private turn = 0

  /** The next pair to fill, of length `n`. */
  next(n: number): [sizes: Int32Array, ids: Int32Array] {
    const t = (this.turn ^= 1)
    if (this.sizes[t]!.length !== n) {
      this.sizes[t] = new Int32Array(n)
      this.ids[t] = new Int32Array(n)
    }
    return [this.sizes[t]!, this.ids[t]!]
  }
}

/**
 * The inputs of KIP-794's adaptive partitioning, which the Java client's
 * RecordAccumulator collects on each `ready()` for every topic's
 * BuiltInPartitioner: how many batches each partition has queued, and which
 * leaders have not been drainable for longer than
 * partitioner.availability.timeout.ms (from the sender's feedback,
 * `updateNodeLatencyStats`).
 *
 * Invariants:
 * - Per topic, `feed` passes `null` sizes (uniform choice) until every
 *   partition of the topic has a queue, as Java does: a partition without a
 *   queue has no entry and could never be chosen.
 * - Partitions without a known leader get no entry. A partition with batches
 *   queued whose leader is slow is moved to the end, past `length`; so
 *   `[0, length)` are the partitions the partitioner may choose.
 * - Node latency is only recorded while the availability timeout is on (> 0).
 * - Nothing here reads a clock or runs per record: `feed` runs at most once
 *   per topic per `ready()`, into that topic's {@link LoadStatsArrays}.
 */
export class PartitionLoadStats {
  private readonly nodes = new Map<number, NodeLatency>()

  /**
   * @param adaptive partitioner.adaptive.partitioning.enable
   * @param availabilityTimeoutMs partitioner.availability.timeout.ms (0: off)
   */
  constructor(
    private readonly adaptive: boolean,
    private readonly availabilityTimeoutMs: number,
  ) {}

  /**
   * Sender feedback for partitioner.availability.timeout.ms: `canDrain` false
   * for a ready node whose connection is not ready, true when it could be
   * drained. No-op when the feature is off.
   */
  updateNodeLatencyStats(nodeId: number, nowMs: number, canDrain: boolean): void {
    if (this.availabilityTimeoutMs <= 0) return
    let s = this.nodes.get(nodeId)
    if (s === undefined) this.nodes.set(nodeId, (s = new NodeLatency(nowMs, nowMs)))
    if (canDrain) s.drainTimeMs = nowMs
    s.readyTimeMs = nowMs
  }

  /** True when the node had something to send but could not be drained for longer than the availability timeout. */
  isNodeSlow(nodeId: number): boolean {
    if (this.availabilityTimeoutMs <= 0) return false
    const s = this.nodes.get(nodeId)
    return s !== undefined && s.readyTimeMs - s.drainTimeMs > this.availabilityTimeoutMs
  }

  /**
   * Gives one topic's partitioner the queue sizes of its partitions (nothing
   * when it takes none).
   *
   * @param queues the topic's queues, with their leaders as routed now
   * @param partitionCount partitions of the topic in the routed metadata
   * @param leaderCount how many of `queues` have a known leader (`leader >= 0`)
   * @param arrays the topic's arrays (fresh ones when omitted)
   */
  feed(
    sink: PartitionLoadStatsSink,
    queues: readonly PartitionQueueLoad[],
    partitionCount: number,
    leaderCount: number,
    arrays: LoadStatsArrays = new LoadStatsArrays(),
  ): void {
    if (sink.updatePartitionLoadStats === undefined) return
    if (!this.adaptive || queues.length < partitionCount) {
      sink.updatePartitionLoadStats(null, NO_IDS, 0)
      return
    }
    const [sizes, ids] = arrays.next(leaderCount)
    let front = 0
    let back = leaderCount
    for (let i = 0; i < queues.length; i++) {
      const q = queues[i]!
      if (q.leader < 0) continue
      const size = q.deque.size
      if (size > 0 && this.isNodeSlow(q.leader)) {
        --back
        sizes[back] = size
        ids[back] = q.partition
      } else {
        sizes[front] = size
        ids[front] = q.partition
        front++
      }
    }
    sink.updatePartitionLoadStats(sizes, ids, front)
  }
}
