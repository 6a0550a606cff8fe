import { MetadataApi } from '../protocol/apis/index.js'
import { metadataRefreshChannel } from '../util/diagnostics.js'
import type { Node } from './cluster.js'
import type { ClientRequest, ClientResponse } from './in-flight-requests.js'
import type { MetadataResponseView, ProducerMetadata } from './metadata.js'

/**
 * How a network client keeps cluster metadata fresh: Java's
 * `NetworkClient.MetadataUpdater`. The client asks it which nodes exist,
 * whether data requests must wait for a refresh, gives it a chance to send
 * one on every poll, and tells it about lost connections. Nothing else in
 * the client touches metadata.
 */
export interface MetadataUpdater {
  /** The nodes the client may pick from: the bootstrap addresses (negative ids) until the first answer. */
  fetchNodes(): readonly Node[]

  /**
   * A refresh is due and none is in flight: data requests wait, so the
   * refresh is not starved by them (Java's `isUpdateDue`).
   */
  isUpdateDue(nowMs: number): boolean

  /**
   * Sends a refresh when one is due and a node can take it, or starts a
   * connection for it. Returns how long the client may wait before calling
   * again (Infinity when something the client's poll reports will need it).
   */
  maybeUpdate(nowMs: number): number

  /**
   * A connection dropped or could not be made: leadership may have moved, so
   * refresh. With `authenticationError` the broker (or TLS) rejected this
   * client (Java's `handleServerDisconnect(now, id, Optional<AuthenticationException>)`
   * → `Metadata.fatalError`): sends waiting for metadata fail with it.
   */
  handleServerDisconnect(nowMs: number, nodeId: number, authenticationError?: Error): void

  /** A connection authenticated: an earlier authentication failure no longer stands. */
  handleSuccessfulAuthentication?(nowMs: number, nodeId: number): void
}

/**
 * What {@link DefaultMetadataUpdater} needs of its network client. Java's
 * DefaultMetadataUpdater is an inner class of NetworkClient and reaches these
 * directly; here the client hands them over as closures, so they stay
 * private to it.
 */
export interface MetadataRequestChannel {
  leastLoadedNode(nowMs: number): Node | null
  /**
   * A request may go to `nodeId` now (connection and handshake done, below
   * the in-flight cap, not throttled). Not `ready()`, which says no while an update is due.
   * A connection whose re-authentication is due begins it here and says no
   * until it is done (KIP-368 re-authentication is driven by sends).
   */
  canSendRequest(nodeId: number, nowMs: number): boolean
  send(request: ClientRequest<any, any>, nowMs: number): void
  /**
   * For a node that cannot take a request now: starts connecting if allowed.
   * Returns Infinity while a connection is being set up (its outcome wakes
   * the poll), else the reconnect backoff left (at least 1 ms).
   */
  connectForRequest(node: Node, nowMs: number): number
  connectionDelay(nodeId: number, nowMs: number): number
}

/**
 * The producer's updater (Java's `DefaultMetadataUpdater` over
 * `ProducerMetadata`): one Metadata request at a time, to the least loaded
 * node, for the topics the producer uses.
 *
 * Invariants:
 * - At most one Metadata request is in flight; its answer (or failure) is
 *   recorded in `ProducerMetadata` exactly once, through its completion.
 * - An answer with no brokers (a broker still starting) counts as a failed
 *   attempt, so the refresh backoff applies, not a success with an empty cluster.
 */
export class DefaultMetadataUpdater implements MetadataUpdater {
  private inFlight = false

  constructor(
    private readonly metadata: ProducerMetadata,
    private readonly channel: MetadataRequestChannel,
    private readonly requestTimeoutMs: number,
    private readonly reconnectBackoffMs: number,
    /** client.id, for the metadata:refresh diagnostics channel. */
    private readonly clientId = '',
  ) {}

  fetchNodes(): readonly Node[] {
    return this.metadata.cluster.nodes
  }

  isUpdateDue(nowMs: number): boolean {
    return !this.inFlight && this.metadata.timeToNextUpdate(nowMs) === 0
  }

  maybeUpdate(nowMs: number): number {
    const timeToNext = this.metadata.timeToNextUpdate(nowMs)
    const waitForInFlight = this.inFlight ? this.requestTimeoutMs : 0
    const delay = Math.max(timeToNext, waitForInFlight)
    if (delay > 0) return delay
    const node = this.channel.leastLoadedNode(nowMs)
    if (node === null) {
      // Every node is in reconnect backoff: look again when the first may be retried.
      let wait = Infinity
      for (const n of this.metadata.cluster.nodes) wait = Math.min(wait, this.channel.connectionDelay(n.id, nowMs))
      return Number.isFinite(wait) ? Math.max(wait, 1) : this.reconnectBackoffMs
    }
    if (!this.channel.canSendRequest(node.id, nowMs)) return this.channel.connectForRequest(node, nowMs)
    this.inFlight = true
    this.metadata.attempted(nowMs)
    const topics = this.metadata.topicsForRequest(nowMs)
    this.channel.send(
      {
        destination: node.id,
        api: MetadataApi,
        body: { topics, allowAutoTopicCreation: false },
        expectResponse: true,
        createdMs: nowMs,
        requestTimeoutMs: this.requestTimeoutMs,
        onComplete: this.onResponse,
      },
      nowMs,
    )
    return this.requestTimeoutMs
  }

  handleServerDisconnect(_nowMs: number, _nodeId: number, authenticationError?: Error): void {
    this.metadata.requestUpdate()
    if (authenticationError !== undefined) this.metadata.authenticationFailed(authenticationError)
  }

  handleSuccessfulAuthentication(_nowMs: number, _nodeId: number): void {
    this.metadata.authenticationError = null
  }

  /** Every outcome of the request: an answer, or a disconnect/timeout/version failure from the client. */
  private readonly onResponse = (response: ClientResponse<MetadataResponseView>): void => {
    this.inFlight = false
    const body = response.body
    if (metadataRefreshChannel.hasSubscribers) {
      const asked = (response.request.body as { topics: readonly string[] | null }).topics
      metadataRefreshChannel.publish({
        clientId: this.clientId,
        nodeId: response.request.destination,
        topics: asked === null ? null : asked.slice(),
        nodes: body?.brokers.length ?? 0,
        durationMs: response.receivedMs - response.request.createdMs,
        error: body === null ? response.error : body.brokers.length === 0 ? new Error('The metadata answer listed no brokers') : null,
      })
    }
    if (body === null || body.brokers.length === 0) {
      this.metadata.failedUpdate(response.receivedMs)
      return
    }
    this.metadata.update(body, response.receivedMs)
  }
}
