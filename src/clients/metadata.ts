import { ExponentialBackoff } from './backoff.js'
import { Cluster, type Node, type PartitionInfo } from './cluster.js'

/** The fields of a Metadata response the producer uses (any implemented version). */
export interface MetadataResponseView {
  readonly brokers: readonly { nodeId: number; host: string; port: number; rack: string | null }[]
  readonly clusterId: string | null
  readonly controllerId: number
  readonly topics: readonly {
    errorCode: number
    name: string | null
    partitions: readonly {
      errorCode: number
      partitionIndex: number
      leaderId: number
      leaderEpoch: number
      replicaNodes: readonly number[]
      isrNodes: readonly number[]
    }[]
  }[]
}

interface Waiter {
  readonly version: number
  readonly resolve: () => void
}

/**
 * The producer's view of the cluster, as Java's `ProducerMetadata`: the topics
 * it sends to (each forgotten after `metadata.max.idle.ms` without a send), the
 * current {@link Cluster} snapshot, and when the next refresh is due.
 *
 * Invariants:
 * - `version` grows by one on every successful update; `awaitUpdate(v)`
 *   resolves once `version > v`.
 * - A refresh is due at once after `requestUpdate()` (subject to backoff
 *   after failures), and otherwise `metadata.max.age.ms` after the last
 *   success.
 * - A new topic asks for an update immediately, not at the next periodic one.
 */
export class ProducerMetadata {
  cluster: Cluster
  version = 0
  private needUpdate = true
  private lastRefreshMs = 0
  private lastSuccessfulRefreshMs = 0
  private failedAttempts = 0
  private readonly backoff: ExponentialBackoff
  /** Topic → last time a send used it. */
  private readonly topics = new Map<string, number>()
  /** Topic → error code from the last response (absent when fine). */
  topicErrors: ReadonlyMap<string, number> = new Map()
  private waiters: Waiter[] = []

  constructor(
    bootstrap: readonly { host: string; port: number }[],
    private readonly metadataMaxAgeMs: number,
    private readonly metadataMaxIdleMs: number,
    retryBackoffMs: number,
    retryBackoffMaxMs: number,
  ) {
    this.cluster = Cluster.bootstrap(bootstrap)
    this.backoff = new ExponentialBackoff(retryBackoffMs, 2, retryBackoffMaxMs, 0.2)
  }

  /** Records a send to `topic`; returns true when the topic was not tracked yet. */
  add(topic: string, nowMs: number): boolean {
    const isNew = !this.topics.has(topic)
    this.topics.set(topic, nowMs)
    if (isNew) this.requestUpdate()
    return isNew
  }

  containsTopic(topic: string): boolean {
    return this.topics.has(topic)
  }

  requestUpdate(): void {
    this.needUpdate = true
  }

  get updateRequested(): boolean {
    return this.needUpdate
  }

  /** Milliseconds until a refresh should be sent (0 = now). */
  timeToNextUpdate(nowMs: number): number {
    const timeToExpire = this.needUpdate ? 0 : Math.max(this.lastSuccessfulRefreshMs + this.metadataMaxAgeMs - nowMs, 0)
    const backoffMs = this.failedAttempts > 0 ? this.backoff.backoff(this.failedAttempts - 1) : 0
    const timeToAllow = Math.max(this.lastRefreshMs + backoffMs - nowMs, 0)
    return Math.max(timeToExpire, timeToAllow)
  }

  /** The topics to ask about, dropping those idle past `metadata.max.idle.ms`. */
  topicsForRequest(nowMs: number): string[] {
    const out: string[] = []
    for (const [topic, lastUsed] of this.topics) {
      if (nowMs - lastUsed > this.metadataMaxIdleMs) this.topics.delete(topic)
      else out.push(topic)
    }
    return out
  }

  /** Called when a metadata request was sent. */
  attempted(nowMs: number): void {
    this.lastRefreshMs = nowMs
  }

  failedUpdate(nowMs: number): void {
    this.lastRefreshMs = nowMs
    this.failedAttempts++
  }

  update(res: MetadataResponseView, nowMs: number): void {
    const nodes: Node[] = res.brokers.map((b) => ({ id: b.nodeId, host: b.host, port: b.port, rack: b.rack }))
    const partitions: PartitionInfo[] = []
    const errors = new Map<string, number>()
    let retriableTopicError = false
    for (const t of res.topics) {
      if (t.name === null) continue
      if (t.errorCode !== 0) {
        errors.set(t.name, t.errorCode)
        retriableTopicError = true
        continue
      }
      for (const p of t.partitions) {
        partitions.push({
          topic: t.name,
          partition: p.partitionIndex,
          leader: p.leaderId,
          leaderEpoch: p.leaderEpoch,
          replicas: p.replicaNodes,
          isr: p.isrNodes,
        })
        if (p.leaderId < 0) retriableTopicError = true
      }
    }
    this.cluster = new Cluster(nodes, partitions, errors, res.clusterId, res.controllerId)
    this.topicErrors = errors
    this.version++
    this.lastRefreshMs = nowMs
    this.lastSuccessfulRefreshMs = nowMs
    this.failedAttempts = 0
    // A topic that does not exist yet, or a partition with no leader, is worth asking about again soon.
    this.needUpdate = false
    if (retriableTopicError) {
      this.needUpdate = true
      this.failedAttempts = 1
    }
    const ready = this.waiters
    this.waiters = []
    for (const w of ready) {
      if (this.version > w.version) w.resolve()
      else this.waiters.push(w)
    }
  }

  /** Resolves at the next successful update after `version`. */
  awaitUpdate(version: number): Promise<void> {
    if (this.version > version) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push({ version, resolve }))
  }

  /** Releases every waiter (close). */
  wakeAll(): void {
    const ws = this.waiters
    this.waiters = []
    for (const w of ws) w.resolve()
  }
}
