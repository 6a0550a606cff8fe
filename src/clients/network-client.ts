import { KafkaClientError, KafkaNetworkError, KafkaProtocolError, KafkaTimeoutError, UnsupportedVersionError } from '../errors.js'
import { type AnyApi, decodeResponse, encodeRequest, peekCorrelationId } from '../protocol/api.js'
import { ApiVersionsApi, apiVersionsRetryVersion, decodeApiVersionsResponse, SUPPORTED_APIS } from '../protocol/apis/index.js'
import { NetworkSend } from '../network/framing.js'
import { ErrorCode } from '../protocol/error-codes.js'
import type { Selector } from '../network/selector.js'
import type { Node } from './cluster.js'
import { ClusterConnectionStates, ConnectionState } from './connection-states.js'
import { type ClientRequest, type ClientResponse, type InFlightRequest, InFlightRequests } from './in-flight-requests.js'
import { type FinalizedFeatures, type KafkaClient, NO_FINALIZED_FEATURES } from './kafka-client.js'
import type { ProducerMetadata } from './metadata.js'
import { DefaultMetadataUpdater, type MetadataUpdater } from './metadata-updater.js'

export interface NetworkClientOptions {
  readonly clientId: string
  readonly maxInFlightRequestsPerConnection: number
  readonly requestTimeoutMs: number
  readonly reconnectBackoffMs: number
  readonly reconnectBackoffMaxMs: number
  readonly socketConnectionSetupTimeoutMs: number
  readonly socketConnectionSetupTimeoutMaxMs: number
  readonly connectionsMaxIdleMs: number
  readonly softwareName: string
  readonly softwareVersion: string
  /**
   * Uniform [0, 1) source, as Math.random (the default): where the
   * least-loaded-node scan starts, and the reconnect and setup-timeout jitter.
   */
  readonly random?: () => number
}

/** The version range a broker accepts for one API. */
interface VersionRange {
  readonly min: number
  readonly max: number
}

/**
 * Drives the selector for the producer, as Java's `NetworkClient`: connection
 * lifecycle, the ApiVersions handshake on every new connection, per-connection
 * version negotiation, in-flight bookkeeping, request timeouts, and metadata
 * refreshes through a {@link MetadataUpdater} (the only part of it that
 * touches metadata).
 *
 * `poll(timeoutMs, now)` waits on the selector, then handles what completed
 * in a fixed order: completed sends, completed receives, disconnects, new
 * connections, timed-out connection attempts, timed-out requests, idle
 * connections. Only then are the callbacks run, so a callback always sees
 * the client's state after the whole batch of events.
 *
 * Invariants:
 * - A request is sent only on a Ready connection whose handshake finished,
 *   with the highest version both sides support.
 * - Every request handed to `send` gets exactly one `onComplete`: a body, a
 *   disconnect, a timeout, or (acks=0) a completed send.
 */
export class NetworkClient implements KafkaClient {
  private readonly inFlight: InFlightRequests
  private readonly states: ClusterConnectionStates
  private readonly apiVersions = new Map<number, Map<number, VersionRange>>()
  /** The ApiVersions version to try next per node, lowered when a broker says it is too new. */
  private readonly apiVersionsToTry = new Map<number, number>()
  /** The ApiVersions version each node's handshake succeeded with. */
  private readonly handshakeVersions = new Map<number, number>()
  private readonly lastActivityMs = new Map<number, number>()
  private pending: ClientResponse<any>[] = []
  private completing: ClientResponse<any>[] = []
  private correlation = 0
  /** Connections established / closed since start (Java's connection-creation-total, connection-close-total). */
  connectionCreationTotal = 0
  connectionCloseTotal = 0
  /** Everything this client does with metadata goes through it (Java's MetadataUpdater). */
  private readonly metadataUpdater: MetadataUpdater
  private closed = false
  private readonly random: () => number
  /** The finalized features of the newest features epoch any broker reported (Java's ApiVersions). */
  private features: FinalizedFeatures = NO_FINALIZED_FEATURES

  constructor(
    private readonly selector: Selector,
    metadata: ProducerMetadata,
    private readonly opts: NetworkClientOptions,
  ) {
    this.random = opts.random ?? Math.random
    this.inFlight = new InFlightRequests(opts.maxInFlightRequestsPerConnection)
    this.states = new ClusterConnectionStates(
      opts.reconnectBackoffMs,
      opts.reconnectBackoffMaxMs,
      opts.socketConnectionSetupTimeoutMs,
      opts.socketConnectionSetupTimeoutMaxMs,
      this.random,
    )
    this.metadataUpdater = new DefaultMetadataUpdater(
      metadata,
      {
        leastLoadedNode: (nowMs) => this.leastLoadedNode(nowMs),
        canSendRequest: (nodeId) => this.canSendRequest(nodeId),
        send: (request, nowMs) => this.send(request, nowMs),
        connectForRequest: (node, nowMs) => this.connectForRequest(node, nowMs),
        connectionDelay: (nodeId, nowMs) => this.states.connectionDelay(nodeId, nowMs),
      },
      opts.requestTimeoutMs,
      opts.reconnectBackoffMs,
    )
  }

  /** True when a request can go to `node` now; otherwise starts connecting if allowed. */
  ready(node: Node, nowMs: number): boolean {
    if (this.isReady(node.id, nowMs)) return true
    if (this.states.canConnect(node.id, nowMs)) this.initiateConnect(node, nowMs)
    return false
  }

  /**
   * Ready for a produce request. While a metadata refresh is due, data requests
   * wait so the refresh is not starved (as Java does).
   */
  isReady(nodeId: number, nowMs: number): boolean {
    return !this.metadataUpdater.isUpdateDue(nowMs) && this.canSendRequest(nodeId)
  }

  private canSendRequest(nodeId: number): boolean {
    return (
      this.states.isReady(nodeId) &&
      this.selector.isChannelReady(nodeId) &&
      !this.selector.hasSendInProgress(nodeId) &&
      this.inFlight.canSendMore(nodeId)
    )
  }

  connectionDelay(nodeId: number, nowMs: number): number {
    return this.states.connectionDelay(nodeId, nowMs)
  }

  finalizedFeatures(): FinalizedFeatures {
    return this.features
  }

  /** Whether the last connection attempt failed and the node is in reconnect backoff. */
  connectionFailed(nodeId: number, nowMs: number): boolean {
    return this.states.isBlackedOut(nodeId, nowMs)
  }

  /** Open, usable connections (handshake done). */
  connectionCount(): number {
    let n = 0
    for (const id of this.lastActivityMs.keys()) if (this.states.isReady(id)) n++
    return n
  }

  inFlightRequestCount(nodeId?: number): number {
    return this.inFlight.count(nodeId)
  }

  inFlightPerNode(): Map<number, number> {
    return this.inFlight.perNodeCounts()
  }

  hasInFlightRequests(): boolean {
    return this.inFlight.count() > 0
  }

  /** The negotiated version for `api` on `nodeId` (the node must be ready). */
  negotiatedVersion(nodeId: number, api: AnyApi): number {
    const range = this.apiVersions.get(nodeId)?.get(api.apiKey)
    if (range === undefined) {
      throw new UnsupportedVersionError(`Node ${nodeId} does not support ${api.name} (API key ${api.apiKey})`)
    }
    const v = Math.min(api.maxVersion, range.max)
    if (v < Math.max(api.minVersion, range.min)) {
      throw new UnsupportedVersionError(
        `Node ${nodeId} supports ${api.name} v${range.min}..v${range.max}; this client implements v${api.minVersion}..v${api.maxVersion}`,
      )
    }
    return v
  }

  /**
   * Per connected node, the version each API this client uses would go out
   * with, plus the ApiVersions version the handshake settled on.
   */
  negotiatedApiVersions(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {}
    for (const [node, ranges] of this.apiVersions) {
      const versions: Record<string, number> = {}
      for (const api of SUPPORTED_APIS) {
        const range = ranges.get(api.apiKey)
        if (range === undefined) continue
        const v = Math.min(api.maxVersion, range.max)
        if (v >= Math.max(api.minVersion, range.min)) versions[api.name] = v
      }
      const handshake = this.handshakeVersions.get(node)
      if (handshake !== undefined) versions[ApiVersionsApi.name] = handshake
      out[String(node)] = versions
    }
    return out
  }

  private initiateConnect(node: Node, nowMs: number): void {
    this.states.startConnecting(node.id, nowMs, node.host, node.port)
    try {
      this.selector.connect(node.id, node.host, node.port)
    } catch (err) {
      this.states.disconnected(node.id, nowMs)
      this.metadataUpdater.handleServerDisconnect(nowMs, node.id)
    }
  }

  /**
   * Sends a request on a node for which `ready()` returned true. The version is
   * negotiated here, per connection, so the same request body can go to brokers
   * of different ages.
   */
  send<Req, Res>(request: ClientRequest<Req, Res>, nowMs: number): void {
    if (this.closed) throw new KafkaNetworkError('The network client is closed')
    const node = request.destination
    if (!this.canSendRequest(node)) {
      throw new Error(`Attempt to send a request to node ${node}, which is not ready`)
    }
    let version: number
    try {
      version = this.negotiatedVersion(node, request.api)
    } catch (err) {
      this.pending.push(this.failed(request, nowMs, -1, err as Error, false))
      return
    }
    this.doSend(request, version, nowMs)
  }

  private doSend(request: ClientRequest<any, any>, version: number, nowMs: number): void {
    const correlationId = this.nextCorrelationId()
    const segments = encodeRequest(request.api, version, correlationId, this.opts.clientId, request.body)
    const send = new NetworkSend(request.destination, segments)
    const entry: InFlightRequest = { request, correlationId, apiVersion: version, send, sendTimeMs: nowMs, sendCompleted: false }
    try {
      this.selector.send(send)
    } catch (err) {
      this.pending.push(this.failed(request, nowMs, version, new KafkaNetworkError(`Send to node ${request.destination} failed: ${(err as Error).message}`, request.destination, { cause: err }), true))
      return
    }
    this.inFlight.add(entry)
    this.lastActivityMs.set(request.destination, nowMs)
  }

  private nextCorrelationId(): number {
    const id = this.correlation
    this.correlation = (this.correlation + 1) & 0x7fffffff
    return id
  }

  /**
   * Waits up to `timeoutMs` for network activity, then handles it. The
   * effective wait is shortened so that metadata refreshes, connection setup
   * timeouts and request timeouts are noticed on time.
   */
  async poll(timeoutMs: number, nowFn: () => number): Promise<void> {
    if (this.closed) return
    let now = nowFn()
    const metadataTimeout = this.metadataUpdater.maybeUpdate(now)
    const wait = Math.min(
      timeoutMs,
      metadataTimeout,
      this.inFlight.timeUntilNextTimeout(now),
      this.states.timeUntilNextSetupTimeout(now),
    )
    await this.selector.poll(Math.max(0, wait))
    now = nowFn()
    this.handleCompletedSends(now)
    this.handleCompletedReceives(now)
    this.handleDisconnections(now)
    this.handleConnections(now)
    this.handleTimedOutConnections(now)
    this.handleTimedOutRequests(now)
    this.closeIdleConnections(now)
    this.completeResponses()
  }

  wakeup(): void {
    this.selector.wakeup()
  }

  private completeResponses(): void {
    if (this.pending.length === 0) return
    // Callbacks may send more requests and so push more responses: complete a swapped-out batch.
    const batch = this.pending
    this.pending = this.completing
    this.completing = batch
    try {
      for (const r of batch) {
        try {
          r.request.onComplete(r)
        } catch (err) {
          // One failing handler must not skip the others, nor run them twice later (Java does the same).
          process.emitWarning(`kafka-producer-ts: a response handler threw: ${(err as Error).stack ?? err}`)
        }
      }
    } finally {
      batch.length = 0
    }
  }

  private handleCompletedSends(nowMs: number): void {
    for (const send of this.selector.completedSends) {
      const last = this.inFlight.lastSent(send.destination)
      // Only one send is in progress per channel, so a completed send is the newest request to its node;
      // anything else belongs to a connection that has since been replaced.
      if (last === undefined || last.send !== send) continue
      last.sendCompleted = true
      if (!last.request.expectResponse) {
        this.inFlight.completeLastSent(send.destination)
        this.pending.push({
          request: last.request,
          receivedMs: nowMs,
          apiVersion: last.apiVersion,
          disconnected: false,
          timedOut: false,
          body: null,
          error: null,
        })
      }
    }
  }

  private handleCompletedReceives(nowMs: number): void {
    for (const { source, frame } of this.selector.completedReceives) {
      // The selector publishes a peer's disconnect one poll after its last frames, so a channel
      // missing here was closed by us earlier in this batch (and its requests already failed).
      if (!this.selector.hasChannel(source)) continue
      this.lastActivityMs.set(source, nowMs)
      const oldest = this.inFlight.oldest(source)
      try {
        if (oldest === undefined) throw new KafkaProtocolError(`Received a response from node ${source} with no request in flight`)
        const correlationId = peekCorrelationId(frame)
        if (correlationId !== oldest.correlationId) {
          throw new KafkaProtocolError(
            `Correlation id for response (${correlationId}) does not match request (${oldest.correlationId}) from node ${source}`,
          )
        }
      } catch (err) {
        this.closeWithError(source, err as Error, nowMs)
        continue
      }
      const req = this.inFlight.completeNext(source)
      if (req.request.api === ApiVersionsApi && this.states.state(source) === ConnectionState.CheckingApiVersions) {
        this.handleApiVersionsResponse(req, frame, nowMs)
        continue
      }
      let body: unknown
      try {
        body = decodeResponse(req.request.api, req.apiVersion, frame)
      } catch (err) {
        // The stream may be fine but this response is not: fail it and drop the
        // connection, since we cannot trust what follows either.
        this.pending.push(this.failed(req.request, nowMs, req.apiVersion, err as Error, true))
        this.closeWithError(source, err as Error, nowMs)
        continue
      }
      this.pending.push({
        request: req.request,
        receivedMs: nowMs,
        apiVersion: req.apiVersion,
        disconnected: false,
        timedOut: false,
        body,
        error: null,
      })
    }
  }

  private handleApiVersionsResponse(req: InFlightRequest, frame: Buffer, nowMs: number): void {
    const node = req.request.destination
    let res: ReturnType<typeof decodeApiVersionsResponse>
    try {
      res = decodeApiVersionsResponse(frame, req.apiVersion)
    } catch (err) {
      this.closeWithError(node, err as Error, nowMs)
      return
    }
    // The broker is older than our newest ApiVersions: retry with what it says it speaks.
    const next = apiVersionsRetryVersion(res, req.apiVersion)
    if (next !== null) {
      this.apiVersionsToTry.set(node, next)
      this.sendApiVersionsRequest(node, nowMs)
      return
    }
    if (res.errorCode !== ErrorCode.NONE) {
      this.closeWithError(node, new KafkaProtocolError(`ApiVersions to node ${node} failed with error code ${res.errorCode}`), nowMs)
      return
    }
    const ranges = new Map<number, VersionRange>()
    for (const k of res.apiKeys) ranges.set(k.apiKey, { min: k.minVersion, max: k.maxVersion })
    // Brokers learn feature updates at different times: keep the newest epoch's view, as Java's ApiVersions.update does.
    if (res.finalizedFeaturesEpoch > this.features.epoch) {
      const levels = new Map<string, number>()
      for (const f of res.finalizedFeatures) levels.set(f.name, f.maxVersionLevel)
      this.features = { epoch: res.finalizedFeaturesEpoch, levels }
    }
    this.apiVersions.set(node, ranges)
    this.handshakeVersions.set(node, req.apiVersion)
    this.states.ready(node)
  }

  private sendApiVersionsRequest(node: number, nowMs: number): void {
    const version = this.apiVersionsToTry.get(node) ?? ApiVersionsApi.maxVersion
    const request: ClientRequest = {
      destination: node,
      api: ApiVersionsApi,
      body: { clientSoftwareName: this.opts.softwareName, clientSoftwareVersion: this.opts.softwareVersion },
      expectResponse: true,
      createdMs: nowMs,
      requestTimeoutMs: this.opts.requestTimeoutMs,
      onComplete: () => {},
    }
    this.doSend(request, version, nowMs)
  }

  private handleDisconnections(nowMs: number): void {
    for (const d of this.selector.disconnected) this.processDisconnection(d.nodeId, d.error, nowMs, false)
  }

  private handleConnections(nowMs: number): void {
    for (const node of this.selector.connected) {
      this.connectionCreationTotal++
      this.states.checkingApiVersions(node)
      this.lastActivityMs.set(node, nowMs)
      this.sendApiVersionsRequest(node, nowMs)
    }
  }

  private handleTimedOutConnections(nowMs: number): void {
    if (this.states.connecting.size === 0) return
    for (const node of [...this.states.connecting]) {
      if (this.states.isConnectionSetupTimeout(node, nowMs)) {
        this.selector.close(node)
        this.processDisconnection(
          node,
          new KafkaTimeoutError(`Connection to node ${node} could not be established within socket.connection.setup.timeout.ms`),
          nowMs,
          true,
        )
      }
    }
  }

  private handleTimedOutRequests(nowMs: number): void {
    if (this.inFlight.count() === 0) return
    for (const node of this.inFlight.nodesWithTimedOutRequests(nowMs)) {
      this.selector.close(node)
      this.processDisconnection(
        node,
        new KafkaTimeoutError(`Disconnected from node ${node} due to a request timeout (request.timeout.ms=${this.opts.requestTimeoutMs})`),
        nowMs,
        true,
      )
    }
  }

  private closeIdleConnections(nowMs: number): void {
    const nodes = this.metadataUpdater.fetchNodes()
    const knowsBrokers = nodes.length > 0 && nodes[0]!.id >= 0
    for (const [node, last] of this.lastActivityMs) {
      if (node < 0 && knowsBrokers && this.inFlight.isEmpty(node)) {
        // A bootstrap connection has served its purpose once real brokers are known and it is idle.
        this.closeUnused(node)
        continue
      }
      if (nowMs - last > this.opts.connectionsMaxIdleMs && this.inFlight.isEmpty(node)) this.closeUnused(node)
    }
  }

  /** Closes a connection nothing is waiting on and forgets its state (not a failure: no backoff). */
  private closeUnused(node: number): void {
    this.connectionCloseTotal++
    this.selector.close(node)
    this.lastActivityMs.delete(node)
    this.states.remove(node)
    this.apiVersions.delete(node)
    this.apiVersionsToTry.delete(node)
    this.handshakeVersions.delete(node)
  }

  private closeWithError(node: number, error: Error, nowMs: number): void {
    this.selector.close(node)
    this.processDisconnection(node, error, nowMs, false)
  }

  private processDisconnection(node: number, error: Error, nowMs: number, timedOut: boolean): void {
    if (this.lastActivityMs.has(node)) this.connectionCloseTotal++ // it had connected
    this.states.disconnected(node, nowMs)
    this.apiVersions.delete(node)
    this.lastActivityMs.delete(node)
    const err = error instanceof KafkaClientError ? error : new KafkaNetworkError(`Connection to node ${node} failed: ${error.message}`, node, { cause: error })
    for (const r of this.inFlight.clearAll(node)) {
      // A metadata request failed here reaches the updater's completion, which records the failed update.
      this.pending.push(this.failed(r.request, nowMs, r.apiVersion, err, true, timedOut))
    }
    // A lost connection often means leadership moved: look again.
    this.metadataUpdater.handleServerDisconnect(nowMs, node)
  }

  private failed(request: ClientRequest<any, any>, nowMs: number, version: number, error: Error, disconnected: boolean, timedOut = false): ClientResponse<any> {
    return { request, receivedMs: nowMs, apiVersion: version, disconnected, timedOut, body: null, error }
  }

  /**
   * For the metadata updater, when `node` cannot take a request now: starts
   * connecting if allowed. Infinity while connecting or handshaking (the
   * connect, the ApiVersions answer or the setup timeout wakes the poll);
   * otherwise the reconnect backoff left.
   */
  private connectForRequest(node: Node, nowMs: number): number {
    if (this.states.state(node.id) !== ConnectionState.Disconnected) return Infinity
    if (this.states.canConnect(node.id, nowMs)) {
      this.initiateConnect(node, nowMs)
      return Infinity
    }
    return Math.max(this.states.connectionDelay(node.id, nowMs), 1)
  }

  /**
   * The node with the fewest in-flight requests, preferring ready connections,
   * then ones already connecting, then any that may be connected now; null
   * when every node is in reconnect backoff.
   */
  leastLoadedNode(nowMs: number): Node | null {
    const nodes = this.metadataUpdater.fetchNodes()
    if (nodes.length === 0) return null
    let bestReady: Node | null = null
    let bestReadyCount = Infinity
    let connecting: Node | null = null
    let canConnect: Node | null = null
    // A random start spreads bootstrap and metadata load across brokers (Java: `random.nextInt`).
    const offset = Math.floor(this.random() * nodes.length)
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[(offset + i) % nodes.length]!
      const count = this.inFlight.count(node.id)
      if (this.canSendRequest(node.id)) {
        if (count < bestReadyCount) {
          bestReady = node
          bestReadyCount = count
          if (count === 0) break
        }
      } else if (this.states.state(node.id) !== ConnectionState.Disconnected) {
        if (connecting === null) connecting = node
      } else if (this.states.canConnect(node.id, nowMs) && canConnect === null) {
        canConnect = node
      }
    }
    return bestReady ?? connecting ?? canConnect
  }

  /** Closes every connection; in-flight requests get a disconnect response. */
  close(nowMs: number): void {
    if (this.closed) return
    this.closed = true
    const now = nowMs
    const err = new KafkaNetworkError('The network client was closed')
    for (const [node] of this.inFlight.perNodeCounts()) {
      for (const r of this.inFlight.clearAll(node)) this.pending.push(this.failed(r.request, now, r.apiVersion, err, true))
    }
    this.selector.closeAll()
    this.completeResponses()
  }
}
