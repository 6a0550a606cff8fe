/** A broker as Metadata describes it. */
export interface Node {
  /** The broker id (negative for a bootstrap address not yet identified). */
  readonly id: number
  /** Host name or IP address. */
  readonly host: string
  /** TCP port. */
  readonly port: number
  /** The broker's rack (`broker.rack`), or null. */
  readonly rack: string | null
}

/** One partition's leadership as of a metadata response. `leader` is -1 when there is none. */
export interface PartitionInfo {
  /** The topic. */
  readonly topic: string
  /** The partition number. */
  readonly partition: number
  /** The leader's broker id, or -1 when the partition has no leader. */
  readonly leader: number
  /** The leader epoch (KIP-320), or -1 when unknown. */
  readonly leaderEpoch: number
  /** Broker ids of the replicas. */
  readonly replicas: readonly number[]
  /** Broker ids of the in-sync replicas. */
  readonly isr: readonly number[]
}

/**
 * An immutable snapshot of cluster metadata, as Java's `Cluster`: what a
 * {@link CustomPartitioner} is given. It never changes; a metadata update
 * makes a new one.
 *
 * @example
 * ```ts
 * // A partitioner that keeps records off partitions without a leader.
 * const partitioner: CustomPartitioner = (topic, key, _value, cluster) => {
 *   const available = cluster.availablePartitionsForTopic(topic)
 *   const all = cluster.partitionsForTopic(topic)
 *   const pool = available.length > 0 ? available : all
 *   return pool[key === null ? 0 : (murmur2(key) & 0x7fffffff) % pool.length]!.partition
 * }
 * ```
 *
 * @privateRemarks
 * A new snapshot replaces the old one on every metadata update, so the
 * accumulator and sender may hold one for the duration of a `runOnce`
 * without it changing underneath them.
 *
 * Lookups that run per batch (leader of a partition) are array-indexed per
 * topic rather than keyed by a composite string.
 */
export class Cluster {
  private readonly nodesById: Map<number, Node>
  private readonly partitionsByTopic: Map<string, PartitionInfo[]>
  private readonly availableByTopic: Map<string, PartitionInfo[]>

  /** @internal Built from Metadata responses. */
  constructor(
    /** The brokers. */
    readonly nodes: readonly Node[],
    partitions: readonly PartitionInfo[],
    /** Topics whose metadata answered with an error, by error code. */
    readonly topicErrors: ReadonlyMap<string, number> = new Map(),
    /** The cluster id, when the brokers sent one. */
    readonly clusterId: string | null = null,
    /** The controller's broker id as Metadata reports it; -1 when unknown. */
    readonly controllerId = -1,
  ) {
    this.nodesById = new Map(nodes.map((n) => [n.id, n]))
    this.partitionsByTopic = new Map()
    for (const p of partitions) {
      let list = this.partitionsByTopic.get(p.topic)
      if (list === undefined) this.partitionsByTopic.set(p.topic, (list = []))
      list[p.partition] = p
    }
    this.availableByTopic = new Map()
    for (const [topic, list] of this.partitionsByTopic) {
      this.availableByTopic.set(
        topic,
        list.filter((p) => p !== undefined && p.leader >= 0 && this.nodesById.has(p.leader)),
      )
    }
  }

  /** @internal An empty snapshot. */
  static empty(): Cluster {
    return new Cluster([], [])
  }

  /** @internal Bootstrap-only view: nodes with negative ids and no partitions. */
  static bootstrap(addresses: readonly { host: string; port: number }[]): Cluster {
    return new Cluster(
      addresses.map((a, i) => ({ id: -1 - i, host: a.host, port: a.port, rack: null })),
      [],
    )
  }

  /** The broker with this id, if the snapshot has it. */
  nodeById(id: number): Node | undefined {
    return this.nodesById.get(id)
  }

  /** Leader node id, or -1 when the partition is unknown or leaderless. */
  leaderFor(topic: string, partition: number): number {
    const p = this.partitionsByTopic.get(topic)?.[partition]
    return p === undefined ? -1 : p.leader
  }

  /** One partition's metadata, if the snapshot has it. */
  partition(topic: string, partition: number): PartitionInfo | undefined {
    return this.partitionsByTopic.get(topic)?.[partition]
  }

  /** Every partition of `topic`, indexed by partition number; empty for a topic not in the snapshot. */
  partitionsForTopic(topic: string): readonly PartitionInfo[] {
    return this.partitionsByTopic.get(topic) ?? []
  }

  /** Partitions whose leader is a known node. */
  availablePartitionsForTopic(topic: string): readonly PartitionInfo[] {
    return this.availableByTopic.get(topic) ?? []
  }

  /** Number of partitions, or undefined when the topic is not in this snapshot. */
  partitionCountForTopic(topic: string): number | undefined {
    return this.partitionsByTopic.get(topic)?.length
  }

  /** The topics in this snapshot. */
  topics(): IterableIterator<string> {
    return this.partitionsByTopic.keys()
  }
}
