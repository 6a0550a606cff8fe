/** A broker as Metadata describes it. */
export interface Node {
  readonly id: number
  readonly host: string
  readonly port: number
  readonly rack: string | null
}

/** One partition's leadership as of a metadata response. `leader` is -1 when there is none. */
export interface PartitionInfo {
  readonly topic: string
  readonly partition: number
  readonly leader: number
  readonly leaderEpoch: number
  readonly replicas: readonly number[]
  readonly isr: readonly number[]
}

/**
 * An immutable snapshot of cluster metadata. A new snapshot replaces the old one
 * on every metadata update, so the accumulator and sender may hold one for the
 * duration of a `runOnce` without it changing underneath them.
 *
 * Lookups that run per batch (leader of a partition) are array-indexed per
 * topic rather than keyed by a composite string.
 */
export class Cluster {
  private readonly nodesById: Map<number, Node>
  private readonly partitionsByTopic: Map<string, PartitionInfo[]>
  private readonly availableByTopic: Map<string, PartitionInfo[]>

  constructor(
    readonly nodes: readonly Node[],
    partitions: readonly PartitionInfo[],
    /** Topics whose metadata answered with an error, by error code. */
    readonly topicErrors: ReadonlyMap<string, number> = new Map(),
    readonly clusterId: string | null = null,
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

  static empty(): Cluster {
    return new Cluster([], [])
  }

  /** Bootstrap-only view: nodes with negative ids and no partitions. */
  static bootstrap(addresses: readonly { host: string; port: number }[]): Cluster {
    return new Cluster(
      addresses.map((a, i) => ({ id: -1 - i, host: a.host, port: a.port, rack: null })),
      [],
    )
  }

  nodeById(id: number): Node | undefined {
    return this.nodesById.get(id)
  }

  /** Leader node id, or -1 when the partition is unknown or leaderless. */
  leaderFor(topic: string, partition: number): number {
    const p = this.partitionsByTopic.get(topic)?.[partition]
    return p === undefined ? -1 : p.leader
  }

  partition(topic: string, partition: number): PartitionInfo | undefined {
    return this.partitionsByTopic.get(topic)?.[partition]
  }

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

  topics(): IterableIterator<string> {
    return this.partitionsByTopic.keys()
  }
}
