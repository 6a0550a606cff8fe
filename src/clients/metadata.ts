import { ErrorCode, isInvalidMetadata } from '../protocol/error-codes.js'
import { ExponentialBackoff } from '../util/backoff.js'
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

/** One tracked topic; `removed` once it was dropped as idle, so a cached reference is not trusted. */
class TopicUse {
  removed = false

  constructor(
    readonly topic: string,
    public lastUsedMs: number,
  ) {}
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
 * - A refresh is due after `requestUpdate()`, and otherwise
 *   `metadata.max.age.ms` after the last success; either way, as in Java, no
 *   sooner than the refresh backoff after the previous refresh:
 *   `retry.backoff.ms` (jittered) after a success, growing exponentially up
 *   to `retry.backoff.max.ms` with consecutive failures. The backoff is drawn
 *   once per outcome, so repeated `timeToNextUpdate` calls agree.
 * - A new topic asks for an update immediately, bypassing that backoff; one
 *   added while a request was in flight (so not part of it) is asked for
 *   again as soon as that request is answered.
 * - A topic error that means stale metadata (UNKNOWN_TOPIC_OR_PARTITION,
 *   LEADER_NOT_AVAILABLE...), or a partition without a known leader, asks
 *   for another update after the backoff.
 */
export class ProducerMetadata {
  cluster: Cluster
  version = 0
  private needUpdate = true
  /** When the last request was sent or answered; -Infinity: nothing to wait for. */
  private lastRefreshMs = -Infinity
  private lastSuccessfulRefreshMs = 0
  /** When the last successful update arrived (Java's lastSuccessfulUpdate, for metadata-age); NaN before the first. */
  lastSuccessfulUpdateMs = NaN
  private failedAttempts = 0
  /** The wait after `lastRefreshMs`, drawn when the last outcome was recorded. */
  private refreshBackoffMs = 0
  /** Bumped by every new topic; compared with the value the in-flight request carried. */
  private topicsVersion = 0
  private requestedTopicsVersion = 0
  private readonly backoff: ExponentialBackoff
  /** Topic → last time a send used it. */
  private readonly topics = new Map<string, TopicUse>()
  /** The entry `add` touched last: a run of sends to one topic updates it without a Map operation. */
  private lastAdded: TopicUse | null = null
  /** Topic → error code from the last response (absent when fine). */
  topicErrors: ReadonlyMap<string, number> = new Map()
  /**
   * The TLS or SASL error of the last failed connection attempt, until a
   * connection authenticates or metadata arrives (Java's `Metadata.fatalError`,
   * kept rather than thrown once, so every send waiting for metadata fails
   * with it promptly instead of at max.block.ms).
   */
  authenticationError: Error | null = null
  private waiters: Waiter[] = []

  constructor(
    bootstrap: readonly { host: string; port: number }[],
    private readonly metadataMaxAgeMs: number,
    private readonly metadataMaxIdleMs: number,
    retryBackoffMs: number,
    retryBackoffMaxMs: number,
    /** Jitter source (test seam); [0, 1) like Math.random. */
    random: () => number = Math.random,
  ) {
    this.cluster = Cluster.bootstrap(bootstrap)
    this.backoff = new ExponentialBackoff(retryBackoffMs, 2, retryBackoffMaxMs, 0.2, random)
  }

  /** Records a send to `topic`; returns true when the topic was not tracked yet. Per send: O(1), no Map operation for a repeated topic. */
  add(topic: string, nowMs: number): boolean {
    const last = this.lastAdded
    if (last !== null && last.topic === topic && !last.removed) {
      last.lastUsedMs = nowMs
      return false
    }
    let use = this.topics.get(topic)
    const isNew = use === undefined
    if (use === undefined) this.topics.set(topic, (use = new TopicUse(topic, nowMs)))
    else use.lastUsedMs = nowMs
    this.lastAdded = use
    if (isNew) {
      // Java's requestUpdateForNewTopics: someone is waiting for this topic, so do not back off.
      this.needUpdate = true
      this.lastRefreshMs = -Infinity
      this.topicsVersion++
    }
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
    const timeToAllow = Math.max(this.lastRefreshMs + this.refreshBackoffMs - nowMs, 0)
    return Math.max(timeToExpire, timeToAllow)
  }

  /** The topics to ask about, dropping those idle past `metadata.max.idle.ms`. */
  topicsForRequest(nowMs: number): string[] {
    this.requestedTopicsVersion = this.topicsVersion
    const out: string[] = []
    for (const [topic, use] of this.topics) {
      if (nowMs - use.lastUsedMs > this.metadataMaxIdleMs) {
        this.topics.delete(topic)
        use.removed = true
      } else out.push(topic)
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
    this.refreshBackoffMs = this.backoff.backoff(this.failedAttempts - 1)
  }

  update(res: MetadataResponseView, nowMs: number): void {
    const nodes: Node[] = res.brokers.map((b) => ({ id: b.nodeId, host: b.host, port: b.port, rack: b.rack }))
    const partitions: PartitionInfo[] = []
    const errors = new Map<string, number>()
    const brokerIds = new Set(nodes.map((n) => n.id))
    let staleTopicMetadata = false
    for (const t of res.topics) {
      if (t.name === null) continue
      if (t.errorCode !== ErrorCode.NONE) {
        errors.set(t.name, t.errorCode)
        // Not for errors that another look will not fix (authorization, invalid topic name...).
        if (isInvalidMetadata(t.errorCode)) staleTopicMetadata = true
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
        // No leader, a leader missing from the broker list, or a stale-metadata error: look again soon.
        if (p.leaderId < 0 || !brokerIds.has(p.leaderId) || (p.errorCode !== ErrorCode.NONE && isInvalidMetadata(p.errorCode))) {
          staleTopicMetadata = true
        }
      }
    }
    this.cluster = new Cluster(nodes, partitions, errors, res.clusterId, res.controllerId)
    this.topicErrors = errors
    this.version++
    this.authenticationError = null
    this.lastRefreshMs = nowMs
    this.lastSuccessfulRefreshMs = nowMs
    this.lastSuccessfulUpdateMs = nowMs
    this.failedAttempts = 0
    this.refreshBackoffMs = this.backoff.backoff(0)
    const topicsAddedMeanwhile = this.requestedTopicsVersion < this.topicsVersion
    this.needUpdate = staleTopicMetadata || topicsAddedMeanwhile
    // Topics added while this request was in flight were not in it: ask for them now.
    if (topicsAddedMeanwhile) this.lastRefreshMs = -Infinity
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

  /** Records an authentication failure and wakes the waiters, so waiting sends can fail with it. */
  authenticationFailed(error: Error): void {
    this.authenticationError = error
    this.wakeAll()
  }

  /** Releases every waiter (close). */
  wakeAll(): void {
    const ws = this.waiters
    this.waiters = []
    for (const w of ws) w.resolve()
  }
}
