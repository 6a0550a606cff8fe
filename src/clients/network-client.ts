import {
  KafkaAuthenticationError,
  KafkaClientError,
  KafkaNetworkError,
  KafkaProtocolError,
  KafkaTimeoutError,
  KafkaTlsError,
  UnsupportedVersionError,
} from '../errors.js'
import { type AnyApi, decodeResponse, encodeRequest, peekCorrelationId } from '../protocol/api.js'
import {
  ApiVersionsApi,
  apiVersionsRetryVersion,
  decodeApiVersionsResponse,
  SaslAuthenticateApi,
  SaslHandshakeApi,
  SUPPORTED_APIS,
} from '../protocol/apis/index.js'
import { NetworkSend } from '../network/framing.js'
import { ErrorCode } from '../protocol/error-codes.js'
import { clientThrottleTimeMs } from '../protocol/throttle.js'
import type { Selector } from '../network/selector.js'
import { SelectorMetrics } from '../network/selector-metrics.js'
import type { AuthenticationRequest, Authenticator } from '../network/transport.js'
import type { Node } from './cluster.js'
import { ClusterConnectionStates, ConnectionState } from './connection-states.js'
import {
  classifyFailure,
  ConnectionFailures,
  type ConnectionFailureReport,
  ConnectionPhase,
  type FailureCause,
  formatAddress,
  TLS_HANDSHAKE_CLOSE_LABEL,
} from './connection-failures.js'
import { type ClientRequest, type ClientResponse, type InFlightRequest, InFlightRequests } from './in-flight-requests.js'
import type { ConnectionInspection } from './inspection.js'
import { type FinalizedFeatures, type KafkaClient, NO_FINALIZED_FEATURES, type SentRequest } from './kafka-client.js'
import type { ProducerMetadata } from './metadata.js'
import { DefaultMetadataUpdater, type MetadataUpdater } from './metadata-updater.js'
import { authenticateChannel, connectChannel, disconnectChannel, readyChannel } from '../util/diagnostics.js'
import { errorKind, LogSink, stderrLogger } from '../util/logger.js'

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
  /**
   * Where connection faults are logged: failures (once per broker and cause
   * until it connects again) and configuration mistakes (an unresolvable
   * name, a peer that is not Kafka; once each). Default: stderr.
   */
  readonly log?: LogSink
  /** security.protocol, for the connection:connect diagnostics channel. */
  readonly securityProtocol?: string
}

/** The version range a broker accepts for one API. */
interface VersionRange {
  readonly min: number
  readonly max: number
}

/** The outcome of one asynchronous authenticator step, applied by the next poll. */
interface AuthenticationStep {
  readonly node: number
  readonly authenticator: Authenticator
  /** The next request to send; null with no error: authenticated. */
  readonly request: AuthenticationRequest | null
  readonly error: Error | null
}

/** Node's and OpenSSL's TLS failure codes: certificate checks, protocol mismatch, handshake alerts. */
const TLS_ERROR_CODE = /^(CERT_|ERR_TLS_|ERR_SSL_|ERR_OSSL_|UNABLE_TO_|SELF_SIGNED_CERT|DEPTH_ZERO_SELF_SIGNED|HOSTNAME_MISMATCH|INVALID_CA|INVALID_PURPOSE|CERT_UNTRUSTED)/

/** Socket errors that mean the peer hung up (Java: an EOF or reset, an IOException). */
const PEER_CLOSE_CODE = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED'])

/**
 * Node's messages, without a code, for a socket the peer closed before the
 * TLS handshake finished ("Client network socket disconnected before secure
 * TLS connection was established"), and an EOF.
 */
const PEER_CLOSE_MESSAGE = /socket disconnected before secure TLS connection was established|Client network socket disconnected|\bEOF\b/i

/**
 * Drives the selector for the producer, as Java's `NetworkClient`: connection
 * lifecycle, the ApiVersions handshake on every new connection, SASL
 * authentication and KIP-368 re-authentication, per-connection version
 * negotiation, in-flight bookkeeping, request timeouts, and metadata
 * refreshes through a {@link MetadataUpdater} (the only part of it that
 * touches metadata).
 *
 * Connection setup is a state machine kept in {@link ClusterConnectionStates}
 * (see `ConnectionState` for the diagram): connect → TLS handshake (the
 * selector reports it) → ApiVersions → SaslHandshake → SaslAuthenticate
 * rounds → Ready, and Ready → Reauthenticating → Ready. Every step that is a
 * request (ApiVersions, SaslHandshake, SaslAuthenticate) goes through the
 * ordinary in-flight machinery, so request timeouts, correlation checks and
 * disconnect handling apply to it unchanged (franz-go does the same; Java's
 * `SaslClientAuthenticator` reads the socket itself instead). The channel's
 * {@link Authenticator} decides the SASL requests; this class only sends them
 * and applies the outcome.
 *
 * `poll(timeoutMs, now)` waits on the selector, then handles what completed
 * in a fixed order: completed sends, completed receives, disconnects, new
 * connections, timed-out connection attempts, timed-out requests, idle
 * connections. Only then are the callbacks run, so a callback always sees
 * the client's state after the whole batch of events.
 *
 * Invariants:
 * - A request is sent only on a Ready connection whose handshake and
 *   authentication finished, with the highest version both sides support;
 *   only the authenticator's own requests go out in the SASL and
 *   Reauthenticating states (Java's rule: nothing new while re-authenticating;
 *   what was in flight completes, in order).
 * - A TLS or SASL rejection puts the node in AuthenticationFailed: its
 *   in-flight requests fail with that non-retriable error, the metadata
 *   updater learns it (waiting sends fail with it), and reconnecting waits
 *   for the reconnect backoff as after any failure.
 * - Every request handed to `send` gets exactly one `onComplete`: a body, a
 *   disconnect, a timeout, or (acks=0) a completed send.
 * - Broker throttling (KIP-219, Java's `maybeThrottle`): a response whose
 *   version has client-side throttling and whose `throttle_time_ms` is
 *   positive stops new requests to its node (`ready`, `leastLoadedNode`,
 *   the metadata updater) until that time has passed; `pollDelayMs` tells
 *   the caller how long, so it sleeps rather than polls.
 * - `selectorMetrics` counts every frame written and read, per node, and
 *   the connection and authentication events (Java's SelectorMetrics).
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
  /** Everything this client does with metadata goes through it (Java's MetadataUpdater). */
  private readonly metadataUpdater: MetadataUpdater
  private closed = false
  private readonly random: () => number
  private readonly log: LogSink
  /** Why connections fail, per broker: touched only when one fails or completes its handshake. */
  private readonly failures: ConnectionFailures
  /** Authenticator steps that finished (asynchronously) since the last poll. */
  private authSteps: AuthenticationStep[] = []
  /** Per node, an authenticator request waiting for the channel's send in progress to leave. */
  private readonly authSendsWaiting = new Map<number, { authenticator: Authenticator; request: AuthenticationRequest }>()
  /**
   * Per node, when its pending authenticator step (a mechanism computing its
   * next message, a token provider fetching a token) began: bounded by
   * request.timeout.ms like a request, so a provider that never answers
   * cannot hold a connection in SASL_AUTHENTICATE forever.
   */
  private readonly authStepsStartedMs = new Map<number, number>()
  /** Per authenticated node with a session lifetime, when to begin re-authenticating (KIP-368). */
  private readonly reauthTimes = new Map<number, number>()
  /**
   * Authenticated nodes that carried a request of the application's (not an
   * authentication step) since their last (re-)authentication: in use, so
   * renewed at their re-authentication time even before the next request.
   */
  private readonly usedSinceAuthentication = new Set<number>()
  /** SaslAuthenticate requests sent per node since start (re-authentication evidence, inspect()). */
  readonly saslAuthenticateRequests = new Map<number, number>()
  /** Successful re-authentications since start (Java's successful-reauthentication-total). */
  successfulReauthenticationTotal = 0
  /** The finalized features of the newest features epoch any broker reported (Java's ApiVersions). */
  private features: FinalizedFeatures = NO_FINALIZED_FEATURES
  /** Frames, bytes, connections and authentications (Java's Selector metrics). */
  readonly selectorMetrics = new SelectorMetrics()

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
        canSendRequest: (nodeId, nowMs) => this.canSendRequestNow(nodeId, nowMs),
        send: (request, nowMs) => this.send(request, nowMs),
        connectForRequest: (node, nowMs) => this.connectForRequest(node, nowMs),
        // With every node throttled or in backoff, the updater waits until the first may take a request again.
        connectionDelay: (nodeId, nowMs) => this.states.pollDelayMs(nodeId, nowMs),
      },
      opts.requestTimeoutMs,
      opts.reconnectBackoffMs,
      opts.clientId,
    )
    // Until the first metadata answer, the nodes are the bootstrap addresses.
    const bootstrap = this.metadataUpdater.fetchNodes().filter((n) => n.id < 0).map((n) => formatAddress(n.host, n.port))
    const log = (this.log = opts.log ?? new LogSink(stderrLogger(), opts.clientId))
    this.failures = new ConnectionFailures(bootstrap, (message, f) =>
      log.warn(`misconfigured:${f.key}`, message, { event: 'connection.misconfigured', nodeId: f.nodeId, broker: f.broker, cause: f.cause }),
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
    return !this.metadataUpdater.isUpdateDue(nowMs) && this.canSendRequestNow(nodeId, nowMs)
  }

  /**
   * Whether a request may go to `nodeId` now; when the connection's
   * re-authentication is due, begins it instead (false until it is done).
   * Re-authentication is driven by sends, as Java's
   * `KafkaChannel.maybeBeginClientReauthentication`, which its Selector
   * calls only for a channel with a send to write: an idle connection is not
   * re-authenticated, so connections.max.idle.ms still closes it. (A
   * connection in use is also renewed on time by `poll`, see
   * `maybeBeginDueReauthentications`.)
   */
  private canSendRequestNow(nodeId: number, nowMs: number): boolean {
    if (!this.canSendRequest(nodeId, nowMs)) return false
    const at = this.reauthTimes.get(nodeId)
    if (at === undefined || nowMs < at) return true
    this.beginReauthentication(nodeId, nowMs)
    return false
  }

  private canSendRequest(nodeId: number, nowMs: number): boolean {
    return (
      this.states.isReady(nodeId) &&
      this.selector.isChannelReady(nodeId) &&
      !this.selector.hasSendInProgress(nodeId) &&
      this.inFlight.canSendMore(nodeId) &&
      !this.states.isThrottled(nodeId, nowMs)
    )
  }

  connectionDelay(nodeId: number, nowMs: number): number {
    return this.states.connectionDelay(nodeId, nowMs)
  }

  /** The broker throttle time left for a connected node, else its connection delay (Java's `pollDelayMs`). */
  pollDelayMs(nodeId: number, nowMs: number): number {
    return this.states.pollDelayMs(nodeId, nowMs)
  }

  finalizedFeatures(): FinalizedFeatures {
    return this.features
  }

  /** Whether the last connection attempt failed and the node is in reconnect backoff. */
  connectionFailed(nodeId: number, nowMs: number): boolean {
    return this.states.isBlackedOut(nodeId, nowMs)
  }

  /**
   * For inspect(): every node the connection states know, with its state,
   * the versions negotiated on its connection and its requests in flight.
   * Reads only what the client keeps anyway; nothing is recorded for it.
   */
  inspectConnections(nowMs: number): ConnectionInspection[] {
    const versions = this.negotiatedApiVersions()
    const out: ConnectionInspection[] = []
    for (const s of this.states.inspect(nowMs)) {
      const c: { -readonly [K in keyof ConnectionInspection]: ConnectionInspection[K] } = {
        nodeId: s.nodeId,
        address: formatAddress(s.host, s.port),
        state: s.state,
        apiVersions: versions[String(s.nodeId)] ?? {},
        inFlight: this.inFlight.inspect(s.nodeId, nowMs),
      }
      if (s.state === 'backing-off') c.reconnectInMs = s.reconnectInMs
      if (s.throttledForMs > 0) c.throttledForMs = s.throttledForMs
      if (s.authenticationError !== null) c.authenticationError = s.authenticationError.message
      out.push(c)
    }
    // In-flight requests outlive their node's state only briefly (a close in progress); show them too.
    for (const [node] of this.inFlight.perNodeCounts()) {
      if (out.some((c) => c.nodeId === node)) continue
      out.push({ nodeId: node, address: '', state: 'disconnected', apiVersions: {}, inFlight: this.inFlight.inspect(node, nowMs) })
    }
    return out
  }

  /** The TLS or SASL error that ended the last connection attempt to `nodeId`, if that is how it ended. */
  authenticationError(nodeId: number): Error | null {
    return this.states.authenticationError(nodeId)
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
  negotiatedVersion(nodeId: number, api: AnyApi, maxAllowed = api.maxVersion): number {
    const range = this.apiVersions.get(nodeId)?.get(api.apiKey)
    if (range === undefined) {
      throw new UnsupportedVersionError(`Node ${nodeId} does not support ${api.name} (API key ${api.apiKey})`)
    }
    const v = commonVersion(api, range, maxAllowed)
    if (v < 0) {
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
      const versions = supportedVersions(ranges)
      const handshake = this.handshakeVersions.get(node)
      if (handshake !== undefined) versions[ApiVersionsApi.name] = handshake
      out[String(node)] = versions
    }
    return out
  }

  private initiateConnect(node: Node, nowMs: number): void {
    this.states.startConnecting(node.id, nowMs, node.host, node.port)
    if (connectChannel.hasSubscribers) {
      connectChannel.publish({
        clientId: this.opts.clientId,
        nodeId: node.id,
        host: node.host,
        port: node.port,
        securityProtocol: this.opts.securityProtocol ?? 'PLAINTEXT',
      })
    }
    try {
      this.selector.connect(node.id, node.host, node.port)
    } catch (err) {
      this.failures.record(node.id, node.host, node.port, classifyFailure(err as Error, ConnectionPhase.Connecting), nowMs)
      this.states.disconnected(node.id, nowMs)
      this.metadataUpdater.handleServerDisconnect(nowMs, node.id)
    }
  }

  /**
   * Sends a request on a node for which `ready()` returned true. The version is
   * negotiated here, per connection, so the same request body can go to brokers
   * of different ages.
   */
  send<Req, Res>(request: ClientRequest<Req, Res>, nowMs: number): SentRequest | null {
    if (this.closed) throw new KafkaNetworkError('The network client is closed')
    const node = request.destination
    if (!this.canSendRequest(node, nowMs)) {
      throw new Error(`Attempt to send a request to node ${node}, which is not ready`)
    }
    let version: number
    try {
      version = this.negotiatedVersion(node, request.api, request.maxVersion)
    } catch (err) {
      this.pending.push(this.failed(request, nowMs, -1, err as Error, false))
      return null
    }
    if (this.reauthTimes.size > 0) this.usedSinceAuthentication.add(node)
    return this.doSend(request, version, nowMs)
  }

  /** Encodes and hands `request` to the selector; its in-flight entry, or null when it failed (at the next poll). */
  private doSend(request: ClientRequest<any, any>, version: number, nowMs: number): InFlightRequest | null {
    const correlationId = this.nextCorrelationId()
    let segments: Buffer[]
    try {
      segments = encodeRequest(request.api, version, correlationId, this.opts.clientId, request.body)
    } catch (err) {
      // A body the negotiated version cannot carry (Java: the builder's
      // UnsupportedVersionException in NetworkClient.doSend) fails this request
      // only, at the next poll, never synchronously out of send().
      const e = new UnsupportedVersionError(`Cannot send ${request.api.name} v${version} to node ${request.destination}: ${(err as Error).message}`)
      this.pending.push(this.failed(request, nowMs, version, e, false))
      return null
    }
    const send = new NetworkSend(request.destination, segments)
    const entry: InFlightRequest = { request, correlationId, apiVersion: version, send, sendTimeMs: nowMs, sendCompleted: false }
    try {
      this.selector.send(send)
    } catch (err) {
      this.pending.push(this.failed(request, nowMs, version, new KafkaNetworkError(`Send to node ${request.destination} failed: ${(err as Error).message}`, request.destination, { cause: err }), true))
      return null
    }
    this.inFlight.add(entry)
    this.lastActivityMs.set(request.destination, nowMs)
    return entry
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
      this.timeUntilAuthenticationEvent(now),
      this.timeUntilIdleExpiry(now),
    )
    await this.selector.poll(Math.max(0, wait))
    now = nowFn()
    this.handleCompletedSends(now)
    this.handleCompletedReceives(now)
    this.handleDisconnections(now)
    this.handleConnections(now)
    this.handleAuthenticationSteps(now)
    this.maybeBeginDueReauthentications(now)
    this.handleTimedOutAuthenticationSteps(now)
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
          this.log.error(`handler:${r.request.api.name}:${errorKind(err)}`, `kafka-producer-ts: a ${r.request.api.name} response handler threw: ${(err as Error)?.message ?? err}`, {
            event: 'handler.threw',
            nodeId: r.request.destination,
            ...(err instanceof Error ? { err } : {}),
          })
        }
      }
    } finally {
      batch.length = 0
    }
  }

  private handleCompletedSends(nowMs: number): void {
    const io = this.selectorMetrics
    for (const send of this.selector.completedSends) {
      io.recordSent(send.destination, send.size, nowMs)
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
    const io = this.selectorMetrics
    for (const { source, frame } of this.selector.completedReceives) {
      io.recordReceived(source, frame.length + 4, nowMs) // with its size prefix, as Java's NetworkReceive.size
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
      if (req.request.api === SaslHandshakeApi || req.request.api === SaslAuthenticateApi) {
        this.handleAuthenticationResponse(req, frame, nowMs)
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
      this.maybeThrottle(source, req.request.api, req.apiVersion, body, nowMs)
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

  /** KIP-219: the broker answered at once and expects us to hold off (Java's `maybeThrottle`). */
  private maybeThrottle(node: number, api: AnyApi, version: number, body: unknown, nowMs: number): void {
    const throttleMs = clientThrottleTimeMs(api, version, body)
    if (throttleMs > 0) this.states.throttle(node, nowMs + throttleMs)
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
    // Java's handleCompletedReceives calls maybeThrottle on every response, the handshake's ApiVersions included.
    this.maybeThrottle(node, ApiVersionsApi, req.apiVersion, res, nowMs)
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
    const authenticator = this.selector.authenticator(node)
    if (authenticator === undefined || authenticator.complete) {
      this.states.ready(node) // PLAINTEXT, SSL: nothing more to do
      this.selectorMetrics.successfulAuthentication.record(1, nowMs) // Java counts these too
      this.handshakeSucceeded(node)
      if (readyChannel.hasSubscribers) this.publishReady(node, authenticator)
      return
    }
    this.states.authenticating(node, ConnectionState.SaslHandshake)
    this.runAuthenticationStep(node, authenticator, () => authenticator.authenticate(nowMs), nowMs)
  }

  // ---- Authentication (SASL) and re-authentication (KIP-368) ----

  /**
   * Runs one authenticator step; its outcome is applied by the next poll
   * (`handleAuthenticationSteps`), which this wakes. A step that throws at
   * once (a broker error the authenticator read) fails the connection now.
   */
  private runAuthenticationStep(node: number, authenticator: Authenticator, step: () => Promise<AuthenticationRequest | null>, nowMs: number): void {
    let p: Promise<AuthenticationRequest | null>
    try {
      p = step()
    } catch (err) {
      this.authenticationFailed(node, authenticationStepError(node, err), nowMs)
      return
    }
    this.authStepsStartedMs.set(node, nowMs)
    Promise.resolve(p)
      .then(
        (request) => this.authSteps.push({ node, authenticator, request, error: null }),
        (err: unknown) => this.authSteps.push({ node, authenticator, request: null, error: authenticationStepError(node, err) }),
      )
      .finally(() => this.selector.wakeup())
  }

  private handleAuthenticationResponse(req: InFlightRequest, frame: Buffer, nowMs: number): void {
    const node = req.request.destination
    const authenticator = this.selector.authenticator(node)
    let body: unknown
    try {
      body = decodeResponse(req.request.api, req.apiVersion, frame)
    } catch (err) {
      this.closeWithError(node, err as Error, nowMs)
      return
    }
    if (authenticator === undefined || authenticator.complete) {
      this.closeWithError(node, new KafkaProtocolError(`Node ${node} answered a ${req.request.api.name} request that no authentication is waiting for`), nowMs)
      return
    }
    // A broker's no throws at once, failing the connection now: the broker closes it next, and this
    // error (not that close) must be the cause.
    this.runAuthenticationStep(node, authenticator, () => authenticator.handleResponse(body, nowMs), nowMs)
  }

  private handleAuthenticationSteps(nowMs: number): void {
    if (this.authSteps.length > 0) {
      const steps = this.authSteps
      this.authSteps = []
      for (const step of steps) {
        const { node, authenticator } = step
        // A step of a connection that has since closed (or been replaced) is dropped.
        if (this.selector.authenticator(node) !== authenticator || this.states.isDisconnected(node)) continue
        this.authStepsStartedMs.delete(node)
        if (step.error !== null) {
          this.authenticationFailed(node, step.error, nowMs)
        } else if (step.request === null) {
          this.authenticated(node, authenticator, nowMs)
        } else {
          this.authSendsWaiting.set(node, { authenticator, request: step.request })
        }
      }
    }
    if (this.authSendsWaiting.size > 0) {
      for (const [node, { authenticator, request }] of [...this.authSendsWaiting]) {
        // One send at a time per channel: a Produce still being written goes first (its completion wakes the poll).
        if (this.selector.hasSendInProgress(node)) continue
        this.authSendsWaiting.delete(node)
        if (this.selector.authenticator(node) === authenticator) this.sendAuthenticationRequest(node, request, nowMs)
      }
    }
  }

  private sendAuthenticationRequest(node: number, request: AuthenticationRequest, nowMs: number): void {
    let version: number
    try {
      version = this.negotiatedVersion(node, request.api)
      if (version < (request.minVersion ?? 0)) {
        throw new UnsupportedVersionError(
          `Node ${node} supports ${request.api.name} up to v${version}; SASL needs v${request.minVersion} (KIP-152, Kafka 1.0 or later)`,
        )
      }
    } catch (err) {
      this.authenticationFailed(node, err as Error, nowMs)
      return
    }
    if (request.api === SaslAuthenticateApi) {
      this.saslAuthenticateRequests.set(node, (this.saslAuthenticateRequests.get(node) ?? 0) + 1)
      if (this.states.state(node) === ConnectionState.SaslHandshake) this.states.authenticating(node, ConnectionState.SaslAuthenticate)
    }
    this.doSend(
      {
        destination: node,
        api: request.api,
        body: request.body,
        expectResponse: true,
        createdMs: nowMs,
        requestTimeoutMs: this.opts.requestTimeoutMs,
        onComplete: () => {}, // answered through handleAuthenticationResponse; failures through the disconnect
      },
      version,
      nowMs,
    )
  }

  private authenticated(node: number, authenticator: Authenticator, nowMs: number): void {
    const reauthentication = this.states.state(node) === ConnectionState.Reauthenticating
    if (reauthentication) this.successfulReauthenticationTotal++
    else this.selectorMetrics.successfulAuthentication.record(1, nowMs)
    this.states.ready(node)
    if (authenticateChannel.hasSubscribers) {
      authenticateChannel.publish({ ...this.where(node), mechanism: authenticator.mechanismName ?? null, outcome: 'success', reauthentication })
    }
    if (!reauthentication && readyChannel.hasSubscribers) this.publishReady(node, authenticator)
    this.handshakeSucceeded(node)
    this.lastActivityMs.set(node, nowMs)
    if (Number.isFinite(authenticator.reauthenticationTimeMs)) this.reauthTimes.set(node, authenticator.reauthenticationTimeMs)
    else this.reauthTimes.delete(node)
    this.metadataUpdater.handleSuccessfulAuthentication?.(nowMs, node)
  }

  /**
   * Milliseconds until a pending authenticator step times out or a
   * connection in use is due for re-authentication. An idle connection's
   * due re-authentication is no reason to wake (it begins when a request
   * wants the connection), and one that is due but cannot begin yet (a send
   * half written, the in-flight cap reached) waits for that send's
   * completion or those responses, which wake the poll: never a 0 wait.
   */
  private timeUntilAuthenticationEvent(nowMs: number): number {
    if (this.authStepsStartedMs.size === 0 && this.usedSinceAuthentication.size === 0) return Infinity
    let min = Infinity
    for (const started of this.authStepsStartedMs.values()) min = Math.min(min, started + this.opts.requestTimeoutMs)
    for (const node of this.usedSinceAuthentication) {
      const at = this.reauthTimes.get(node)
      if (at !== undefined && at > nowMs && at < min) min = at
    }
    return Math.max(0, min - nowMs)
  }

  /**
   * Renews, at its re-authentication time, the session of every connection
   * that carried a request since its last authentication, so a busy
   * connection's next request never finds the session expired (the broker
   * closes a connection whose session ended, KIP-368) while waiting for a
   * later send to trigger it. Idle connections are left to the send-driven
   * path (`canSendRequestNow`), as Java leaves them: connections.max.idle.ms
   * then closes them, after at most one renewal.
   */
  private maybeBeginDueReauthentications(nowMs: number): void {
    if (this.usedSinceAuthentication.size === 0) return
    // No copy: beginReauthentication deletes only the node at hand (and a failure it causes only that
    // node's entries), which a Set's live iteration allows without skipping any other.
    for (const node of this.usedSinceAuthentication) {
      const at = this.reauthTimes.get(node)
      if (at === undefined || nowMs < at || !this.canSendRequest(node, nowMs)) continue
      this.beginReauthentication(node, nowMs)
    }
  }

  private handleTimedOutAuthenticationSteps(nowMs: number): void {
    if (this.authStepsStartedMs.size === 0) return
    for (const [node, started] of [...this.authStepsStartedMs]) {
      if (nowMs - started < this.opts.requestTimeoutMs) continue
      this.authStepsStartedMs.delete(node)
      this.selector.close(node)
      this.processDisconnection(
        node,
        new KafkaTimeoutError(`SASL authentication with node ${node} stalled: the mechanism (or its token provider) gave no answer within request.timeout.ms (${this.opts.requestTimeoutMs} ms)`),
        nowMs,
        true,
      )
    }
  }

  /**
   * KIP-368, as Java's `KafkaChannel.maybeBeginClientReauthentication`: a
   * request wants this Ready connection (no send half written) after its
   * re-authentication time: stop giving it new requests (Reauthenticating is
   * not Ready) and send SaslHandshake + SaslAuthenticate again with a fresh
   * mechanism. Requests already in flight stay: Kafka answers in order, so
   * their responses arrive before the handshake's and complete as usual.
   */
  private beginReauthentication(node: number, nowMs: number): void {
    const authenticator = this.selector.authenticator(node)
    this.reauthTimes.delete(node)
    this.usedSinceAuthentication.delete(node)
    if (authenticator === undefined) return
    this.states.authenticating(node, ConnectionState.Reauthenticating)
    this.runAuthenticationStep(node, authenticator, () => authenticator.reauthenticate(nowMs), nowMs)
  }

  /**
   * The connection's credentials, mechanism or certificate were rejected
   * (Java: ClusterConnectionStates.authenticationFailed +
   * NetworkClient.processDisconnection's AUTHENTICATION_FAILED branch).
   */
  private authenticationFailed(node: number, error: Error, nowMs: number): void {
    // Read before the close forgets the channel: the authenticate channel names the mechanism that failed.
    const mechanism = authenticateChannel.hasSubscribers ? (this.selector.authenticator(node)?.mechanismName ?? null) : null
    this.selector.close(node)
    this.processDisconnection(node, error, nowMs, false, false, mechanism)
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
    for (const d of this.selector.disconnected) this.processDisconnection(d.nodeId, d.error, nowMs, false, d.duringTlsHandshake)
  }

  private handleConnections(nowMs: number): void {
    for (const node of this.selector.tlsHandshaking) this.states.tlsHandshake(node)
    for (const node of this.selector.connected) {
      this.selectorMetrics.connectionCreation.record(1, nowMs)
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

  /**
   * Milliseconds until the first connection with nothing in flight passes
   * connections.max.idle.ms, so an idle producer still closes it on time
   * (a connection with requests in flight is woken by their answers or
   * timeouts instead).
   */
  private timeUntilIdleExpiry(nowMs: number): number {
    if (this.lastActivityMs.size === 0 || !(this.opts.connectionsMaxIdleMs >= 0)) return Infinity
    let min = Infinity
    for (const [node, last] of this.lastActivityMs) if (last < min && this.inFlight.isEmpty(node)) min = last
    return Math.max(0, min + this.opts.connectionsMaxIdleMs + 1 - nowMs)
  }

  private closeIdleConnections(nowMs: number): void {
    const nodes = this.metadataUpdater.fetchNodes()
    const knowsBrokers = nodes.length > 0 && nodes[0]!.id >= 0
    for (const [node, last] of this.lastActivityMs) {
      if (node < 0 && knowsBrokers && this.inFlight.isEmpty(node)) {
        // A bootstrap connection has served its purpose once real brokers are known and it is idle.
        this.closeUnused(node, nowMs)
        continue
      }
      if (nowMs - last > this.opts.connectionsMaxIdleMs && this.inFlight.isEmpty(node)) this.closeUnused(node, nowMs)
    }
  }

  /** The fields every connection channel message starts with (diagnostics; only built for a subscriber). */
  private where(node: number): { clientId: string; nodeId: number; host: string | undefined; port: number | undefined } {
    const address = this.states.address(node)
    return { clientId: this.opts.clientId, nodeId: node, host: address?.host, port: address?.port }
  }

  private publishReady(node: number, authenticator: Authenticator | undefined): void {
    const ranges = this.apiVersions.get(node)
    const apiVersions = ranges === undefined ? 0 : Object.keys(supportedVersions(ranges)).length
    readyChannel.publish({ ...this.where(node), apiVersions, mechanism: authenticator?.mechanismName ?? null })
  }

  /** Closes a connection nothing is waiting on and forgets its state (not a failure: no backoff). */
  private closeUnused(node: number, nowMs: number): void {
    if (disconnectChannel.hasSubscribers) disconnectChannel.publish({ ...this.where(node), reason: 'idle', cause: null })
    this.selectorMetrics.connectionClose.record(1, nowMs)
    this.selector.close(node)
    this.lastActivityMs.delete(node)
    this.states.remove(node)
    this.apiVersions.delete(node)
    this.apiVersionsToTry.delete(node)
    this.handshakeVersions.delete(node)
    this.reauthTimes.delete(node)
    this.usedSinceAuthentication.delete(node)
    this.authSendsWaiting.delete(node)
    this.authStepsStartedMs.delete(node)
  }

  private closeWithError(node: number, error: Error, nowMs: number): void {
    this.selector.close(node)
    this.processDisconnection(node, error, nowMs, false)
  }

  private processDisconnection(node: number, error: Error, nowMs: number, timedOut: boolean, duringTlsHandshake = false, mechanism: string | null = null): void {
    if (this.lastActivityMs.has(node)) this.selectorMetrics.connectionClose.record(1, nowMs) // it had connected
    const state = duringTlsHandshake ? ConnectionState.TlsHandshake : this.states.state(node)
    const { error: err, cause } = classifyDisconnect(node, state, error)
    this.recordFailure(node, state, cause, nowMs)
    if (authenticateChannel.hasSubscribers && err instanceof KafkaAuthenticationError) {
      authenticateChannel.publish({
        ...this.where(node),
        mechanism: mechanism ?? this.selector.authenticator(node)?.mechanismName ?? null,
        outcome: 'failure',
        reauthentication: state === ConnectionState.Reauthenticating,
        error: err,
      })
    }
    if (disconnectChannel.hasSubscribers) {
      const reason = err instanceof KafkaAuthenticationError ? 'authentication' : timedOut ? 'timeout' : 'error'
      disconnectChannel.publish({ ...this.where(node), reason, cause: err })
    }
    if (err instanceof KafkaAuthenticationError) {
      this.selectorMetrics.failedAuthentication.record(1, nowMs)
      this.states.authenticationFailed(node, nowMs, err)
    } else {
      this.states.disconnected(node, nowMs)
    }
    this.apiVersions.delete(node)
    this.lastActivityMs.delete(node)
    this.reauthTimes.delete(node)
    this.usedSinceAuthentication.delete(node)
    this.authSendsWaiting.delete(node)
    this.authStepsStartedMs.delete(node)
    // What was in flight (only during a re-authentication can that be more than the authenticator's
    // own requests) may have been written: as Java, it fails as a disconnect, retriable, and the
    // authentication error goes to the metadata updater instead (a batch failed with a
    // non-retriable error would count as refused by the broker, which is not known).
    const inFlightErr =
      err instanceof KafkaAuthenticationError
        ? new KafkaNetworkError(`Connection to node ${node} closed: ${err.message}`, node, { cause: err })
        : err
    for (const r of this.inFlight.clearAll(node)) {
      // A metadata request failed here reaches the updater's completion, which records the failed update.
      this.pending.push(this.failed(r.request, nowMs, r.apiVersion, inFlightErr, true, timedOut))
    }
    // A lost connection often means leadership moved: look again. An authentication
    // failure also reaches the producer's waiting sends through the updater.
    this.metadataUpdater.handleServerDisconnect(nowMs, node, err instanceof KafkaAuthenticationError ? err : undefined)
  }

  /** A broker that completed its handshake is no longer blamed in timeout messages. */
  private handshakeSucceeded(node: number): void {
    const address = this.states.address(node)
    if (address !== undefined) this.failures.succeeded(address.host, address.port)
    // Its failures have ended: a new one is logged again.
    this.log.forget(`connection:${node}:`)
  }

  /** Keeps why the connection to `node` ended, for the timeouts it may cause (ConnectionFailures), and warns once per cause. */
  private recordFailure(node: number, state: ConnectionState, cause: FailureCause, nowMs: number): void {
    const address = this.states.address(node)
    if (address === undefined) return
    this.failures.record(node, address.host, address.port, cause, nowMs)
    // Configuration mistakes (DNS, not Kafka, a TLS handshake closed without an alert) are logged by
    // ConnectionFailures, once per address.
    if (cause.kind !== 'DNS' && cause.kind !== 'NOT_KAFKA' && cause.label !== TLS_HANDSHAKE_CLOSE_LABEL) {
      const error = cause.error
      const label = cause.label ?? cause.errno ?? cause.kind
      const broker = formatAddress(address.host, address.port)
      const who = node < 0 ? `bootstrap server ${broker}` : `broker ${node} at ${broker}`
      this.log.warn(`connection:${node}:${label}`, `kafka-producer-ts: connection to ${who} ${state === ConnectionState.Ready ? 'lost' : 'failed'} (${label}): ${error.message}`, {
        event: 'connection.failed',
        nodeId: node,
        broker,
        cause: label,
        err: error,
      })
    }
  }

  connectionFailures(nodeId?: number): ConnectionFailureReport | null {
    if (this.failures.isEmpty) return null
    return this.failures.report(this.connectionCount() > 0, nodeId)
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
    if (!this.states.isDisconnected(node.id)) return Infinity
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
      if (this.canSendRequest(node.id, nowMs)) {
        if (count < bestReadyCount) {
          bestReady = node
          bestReadyCount = count
          if (count === 0) break
        }
      } else if (this.states.isThrottled(node.id, nowMs) && this.states.isReady(node.id)) {
        // Throttled by its broker (KIP-219): not a candidate until the throttle time has passed, as in Java.
        continue
      } else if (!this.states.isDisconnected(node.id)) {
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

/** The newest version of `api` both sides speak, at most `maxAllowed`; -1 when there is none. */
function commonVersion(api: AnyApi, range: VersionRange, maxAllowed = api.maxVersion): number {
  const v = Math.min(api.maxVersion, maxAllowed, range.max)
  return v >= Math.max(api.minVersion, range.min) ? v : -1
}

/** Per API this client implements and the broker (its `ranges`) speaks too, the version it goes out with. */
function supportedVersions(ranges: ReadonlyMap<number, VersionRange>): Record<string, number> {
  const versions: Record<string, number> = {}
  for (const api of SUPPORTED_APIS) {
    const range = ranges.get(api.apiKey)
    if (range === undefined) continue
    const v = commonVersion(api, range)
    if (v >= 0) versions[api.name] = v
  }
  return versions
}

/**
 * What a disconnect means, given the step it ended, decided once for both
 * its uses: the error requests and waiting sends fail with
 * ({@link disconnectError}), and the cause ConnectionFailures files it under.
 * The cause is classified from the typed TLS or SASL error, which says more
 * than the socket's, and otherwise from the socket's own error (its errno).
 */
function classifyDisconnect(node: number, state: ConnectionState, error: Error): { error: KafkaClientError; cause: FailureCause } {
  if (state === ConnectionState.TlsHandshake && isTlsHandshakeClose(error)) {
    const err = tlsHandshakeCloseError(node, error)
    // Its own label, so a timeout and the plaintext-listener warning can name it.
    return { error: err, cause: { kind: 'RESET', label: TLS_HANDSHAKE_CLOSE_LABEL, error: err } }
  }
  const err = otherDisconnectError(node, state, error)
  const phase =
    state === ConnectionState.Ready ? ConnectionPhase.Ready : state === ConnectionState.CheckingApiVersions ? ConnectionPhase.Handshake : ConnectionPhase.Connecting
  return { error: err, cause: classifyFailure(err instanceof KafkaAuthenticationError ? err : error, phase) }
}

/**
 * What a disconnect means, given the step it ended (Java's
 * `NetworkClient.processDisconnection` with `SslTransportLayer`'s split): a
 * TLS alert or certificate verdict is a {@link KafkaTlsError} (Java's
 * SslAuthenticationException), not retriable; a TLS handshake the peer
 * closed without an alert, and every other close, is a retriable
 * {@link KafkaNetworkError}; typed errors (timeouts, SASL rejections) stay
 * as they are.
 */
export function disconnectError(node: number, state: ConnectionState, error: Error): KafkaClientError {
  return classifyDisconnect(node, state, error).error
}

/**
 * A TLS handshake the peer closed: no alert, no certificate verdict, it just
 * hung up (EOF, reset). Java's SslTransportLayer throws an EOFException
 * here, an IOException the Selector treats as a plain disconnect, retried
 * after the reconnect backoff; only an SSLHandshakeException (alert,
 * certificate) is an SslAuthenticationException. A broker restarting or at
 * its connection limit does the same, so this is retriable; a plaintext
 * listener keeps doing it, and ConnectionFailures says so.
 */
function tlsHandshakeCloseError(node: number, error: Error): KafkaNetworkError {
  return new KafkaNetworkError(
    `Connection to node ${node} closed during the TLS handshake (${error.message}): the listener may not be a TLS one (check security.protocol), or the broker is restarting`,
    node,
    { cause: error },
  )
}

/** disconnectError for every disconnect but a TLS handshake the peer closed. */
function otherDisconnectError(node: number, state: ConnectionState, error: Error): KafkaClientError {
  if (error instanceof KafkaClientError) return error
  const code = (error as NodeJS.ErrnoException).code
  // EPROTO is OpenSSL's protocol failure as a socket error (a bad record, an unexpected message):
  // during the handshake that is the TLS negotiation failing, an SSLHandshakeException in Java.
  if (typeof code === 'string' && (TLS_ERROR_CODE.test(code) || (code === 'EPROTO' && state === ConnectionState.TlsHandshake))) {
    return new KafkaTlsError(code, `TLS handshake with node ${node} failed (${code}): ${error.message}`, { cause: error })
  }
  if (state === ConnectionState.SaslHandshake || state === ConnectionState.SaslAuthenticate || state === ConnectionState.Reauthenticating) {
    // Java's message for the same case (NetworkClient.processDisconnection).
    return new KafkaNetworkError(
      `Connection to node ${node} terminated during authentication (${error.message}). This may happen due to any of the following reasons: ` +
        `(1) Firewall blocking Kafka TLS traffic (eg it may only allow HTTPS traffic), (2) Transient network issue.`,
      node,
      { cause: error },
    )
  }
  return new KafkaNetworkError(`Connection to node ${node} failed: ${error.message}`, node, { cause: error })
}

/**
 * A TLS handshake that ended because the peer hung up (EOF, reset), not
 * because of a TLS alert or a certificate check, nor by our own setup
 * timeout: Java's `SslTransportLayer` EOFException case. Matched
 * positively: the selector's own "closed by the broker" (a close with no
 * error), a reset / broken pipe / abort, or Node's codeless "socket
 * disconnected" message. Anything else (EPROTO, an OpenSSL code, an error
 * code not known here) is not taken for a plain close.
 */
function isTlsHandshakeClose(error: Error): boolean {
  if (error instanceof KafkaTimeoutError || error instanceof KafkaAuthenticationError) return false
  if (error instanceof KafkaNetworkError) return true
  const code = (error as NodeJS.ErrnoException).code
  if (typeof code === 'string') return PEER_CLOSE_CODE.has(code)
  return PEER_CLOSE_MESSAGE.test(error.message)
}

/**
 * What an authenticator step's failure means: the authenticator's typed
 * error as it is; anything else (a custom authenticator or mechanism that
 * threw a plain Error) is an authentication failure too, not retriable, as
 * Java turns a SaslClient's SaslException into a SaslAuthenticationException,
 * with the original as the cause.
 */
function authenticationStepError(node: number, err: unknown): KafkaClientError {
  if (err instanceof KafkaClientError) return err
  const message = err instanceof Error ? err.message : String(err)
  return new KafkaAuthenticationError(`Authentication with node ${node} failed: ${message}`, { cause: err })
}

