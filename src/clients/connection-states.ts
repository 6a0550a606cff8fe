import { ExponentialBackoff } from '../util/backoff.js'
import type { ConnectionStateName } from './inspection.js'

/**
 * Where one connection is in its setup, and after (Java's `ConnectionState`,
 * with the steps Java keeps inside its `SslTransportLayer` and
 * `SaslClientAuthenticator` made visible here):
 *
 *   Disconnected ─connect─▶ Connecting ─TCP up (TLS only)─▶ TlsHandshake
 *     ─transport ready─▶ CheckingApiVersions ─ApiVersions ok─▶ Ready            (PLAINTEXT, SSL)
 *                                            └─(SASL)─▶ SaslHandshake ─▶ SaslAuthenticate ⟲ ─▶ Ready
 *   Ready ─session_lifetime_ms at 85–95 %─▶ Reauthenticating ─done─▶ Ready      (KIP-368)
 *   SaslHandshake / SaslAuthenticate / Reauthenticating / TlsHandshake
 *     ─credentials or certificate rejected─▶ AuthenticationFailed (a Disconnected state with the error)
 *   any ─socket closed, timeout─▶ Disconnected
 *
 * Connecting and TlsHandshake count against socket.connection.setup.timeout.ms;
 * the request steps (ApiVersions, SASL) against request.timeout.ms, as any request.
 */
export const enum ConnectionState {
  Disconnected = 0,
  Connecting = 1,
  TlsHandshake = 2,
  CheckingApiVersions = 3,
  SaslHandshake = 4,
  SaslAuthenticate = 5,
  Ready = 6,
  Reauthenticating = 7,
  AuthenticationFailed = 8,
}

/** The state names inspect() shows, per ConnectionState (a disconnected node in backoff shows as 'backing-off'). */
const INSPECTION_STATE_NAMES: readonly ConnectionStateName[] = [
  'disconnected',
  'connecting',
  'tls-handshake',
  'checking-api-versions',
  'authenticating',
  'authenticating',
  'ready',
  'reauthenticating',
  'disconnected',
]

/** Not connected (Java's `isDisconnected`: DISCONNECTED or AUTHENTICATION_FAILED). */
function isDisconnectedState(state: ConnectionState): boolean {
  return state === ConnectionState.Disconnected || state === ConnectionState.AuthenticationFailed
}

interface NodeConnectionState {
  state: ConnectionState
  lastConnectAttemptMs: number
  failedAttempts: number
  reconnectBackoffMs: number
  failedConnectAttempts: number
  connectionSetupTimeoutMs: number
  host: string
  port: number
  /** Why the last attempt failed authentication (TLS or SASL); null otherwise. */
  authenticationError: Error | null
  /** No request may go to the node before this time: the broker's quota throttle (KIP-219); 0 when none. */
  throttleUntilMs: number
}

/**
 * Per-node connection lifecycle with reconnect backoff and connection-setup
 * timeouts, as Java's `ClusterConnectionStates`.
 *
 * Throttling (KIP-219, Java's `throttle` / `isThrottled` / `pollDelayMs`):
 * a broker that answered with a throttle time is given nothing new until
 * `throttleUntilMs`; the deadline only moves forward, and survives a
 * reconnect (the broker's quota does too) until the node is removed.
 *
 * Invariants: a node in backoff is not reconnected before
 * `lastConnectAttemptMs + reconnectBackoffMs`; both the backoff and the setup
 * timeout grow exponentially with consecutive failures and reset on success.
 * Every connection's setup step lives here and only here (`state`, named for
 * inspect() by INSPECTION_STATE_NAMES); `connecting` holds exactly the nodes in
 * Connecting or TlsHandshake.
 */
export class ClusterConnectionStates {
  private readonly nodes = new Map<number, NodeConnectionState>()
  private readonly reconnectBackoff: ExponentialBackoff
  private readonly setupTimeout: ExponentialBackoff
  /** Nodes currently connecting, for setup-timeout checks without a full scan. */
  readonly connecting = new Set<number>()

  constructor(
    reconnectBackoffMs: number,
    reconnectBackoffMaxMs: number,
    setupTimeoutMs: number,
    setupTimeoutMaxMs: number,
    /** Jitter source (test seam); [0, 1) like Math.random. */
    random: () => number = Math.random,
  ) {
    this.reconnectBackoff = new ExponentialBackoff(reconnectBackoffMs, 2, reconnectBackoffMaxMs, 0.2, random)
    this.setupTimeout = new ExponentialBackoff(setupTimeoutMs, 2, setupTimeoutMaxMs, 0.2, random)
  }

  canConnect(id: number, nowMs: number): boolean {
    const s = this.nodes.get(id)
    if (s === undefined) return true
    return isDisconnectedState(s.state) && nowMs - s.lastConnectAttemptMs >= s.reconnectBackoffMs
  }

  isBlackedOut(id: number, nowMs: number): boolean {
    const s = this.nodes.get(id)
    return s !== undefined && isDisconnectedState(s.state) && nowMs - s.lastConnectAttemptMs < s.reconnectBackoffMs
  }

  /** Milliseconds before a connection may be attempted (0 now); Infinity while one is being set up. */
  connectionDelay(id: number, nowMs: number): number {
    const s = this.nodes.get(id)
    if (s === undefined) return 0
    if (isDisconnectedState(s.state)) return Math.max(s.lastConnectAttemptMs + s.reconnectBackoffMs - nowMs, 0)
    return Infinity
  }

  startConnecting(id: number, nowMs: number, host: string, port: number): void {
    let s = this.nodes.get(id)
    // As Java: a node that moved to another address starts afresh, without the old address's backoff.
    if (s === undefined || s.host !== host || s.port !== port) {
      s = {
        state: ConnectionState.Connecting,
        lastConnectAttemptMs: nowMs,
        failedAttempts: 0,
        reconnectBackoffMs: this.reconnectBackoff.backoff(0),
        failedConnectAttempts: 0,
        connectionSetupTimeoutMs: this.setupTimeout.backoff(0),
        host,
        port,
        authenticationError: null,
        throttleUntilMs: 0,
      }
      this.nodes.set(id, s)
    } else {
      s.state = ConnectionState.Connecting
      s.lastConnectAttemptMs = nowMs
      s.host = host
      s.port = port
    }
    this.connecting.add(id)
  }

  /** TCP is up and the TLS handshake runs; still within the setup timeout. */
  tlsHandshake(id: number): void {
    const s = this.nodes.get(id)
    if (s !== undefined && s.state === ConnectionState.Connecting) s.state = ConnectionState.TlsHandshake
  }

  checkingApiVersions(id: number): void {
    const s = this.nodes.get(id)
    if (s !== undefined) s.state = ConnectionState.CheckingApiVersions
    this.connecting.delete(id)
  }

  /** A SASL step (handshake, authenticate rounds, or a re-authentication) is under way. */
  authenticating(id: number, state: ConnectionState.SaslHandshake | ConnectionState.SaslAuthenticate | ConnectionState.Reauthenticating): void {
    const s = this.nodes.get(id)
    if (s !== undefined) s.state = state
  }

  ready(id: number): void {
    const s = this.nodes.get(id)
    if (s === undefined) return
    s.state = ConnectionState.Ready
    s.authenticationError = null
    s.failedAttempts = 0
    s.failedConnectAttempts = 0
    s.reconnectBackoffMs = this.reconnectBackoff.backoff(0)
    s.connectionSetupTimeoutMs = this.setupTimeout.backoff(0)
    this.connecting.delete(id)
  }

  disconnected(id: number, nowMs: number): void {
    const s = this.nodes.get(id)
    if (s === undefined) return
    const wasConnecting = s.state === ConnectionState.Connecting || s.state === ConnectionState.TlsHandshake
    s.state = ConnectionState.Disconnected
    s.lastConnectAttemptMs = nowMs
    s.failedAttempts++
    s.reconnectBackoffMs = this.reconnectBackoff.backoff(s.failedAttempts - 1)
    if (wasConnecting) {
      s.failedConnectAttempts++
      s.connectionSetupTimeoutMs = this.setupTimeout.backoff(s.failedConnectAttempts)
    } else {
      // As Java: the TCP connect worked, so the next attempt gets the initial setup timeout again.
      s.failedConnectAttempts = 0
      s.connectionSetupTimeoutMs = this.setupTimeout.backoff(0)
    }
    this.connecting.delete(id)
  }

  /** The address of the node's last connection attempt, if it has one. */
  address(id: number): { readonly host: string; readonly port: number } | undefined {
    return this.nodes.get(id)
  }

  /**
   * The TLS or SASL rejection ended the last attempt (Java's
   * `authenticationFailed`): the node is disconnected, in reconnect backoff,
   * and keeps the error until a later attempt gets further.
   */
  authenticationFailed(id: number, nowMs: number, error: Error): void {
    const s = this.nodes.get(id)
    if (s === undefined) return
    this.disconnected(id, nowMs)
    s.state = ConnectionState.AuthenticationFailed
    s.authenticationError = error
  }

  /** The error of the last failed authentication with `id`, if that is how its last attempt ended. */
  authenticationError(id: number): Error | null {
    const s = this.nodes.get(id)
    return s !== undefined && s.state === ConnectionState.AuthenticationFailed ? s.authenticationError : null
  }

  /**
   * Every known node with its address and state as inspect() names it
   * (see {@link ConnectionStateName}); built on demand, nothing kept for it.
   */
  inspect(nowMs: number): {
    nodeId: number
    host: string
    port: number
    state: ConnectionStateName
    reconnectInMs: number
    throttledForMs: number
    authenticationError: Error | null
  }[] {
    const out = []
    for (const [id, s] of this.nodes) {
      // Infinity: connecting or connected, so not backing off.
      const delay = this.connectionDelay(id, nowMs)
      const backingOff = delay > 0 && delay !== Infinity
      out.push({
        nodeId: id,
        host: s.host,
        port: s.port,
        state: backingOff ? ('backing-off' as const) : INSPECTION_STATE_NAMES[s.state]!,
        reconnectInMs: backingOff ? delay : 0,
        throttledForMs: this.throttleDelayMs(id, nowMs),
        authenticationError: this.authenticationError(id),
      })
    }
    return out
  }

  state(id: number): ConnectionState {
    return this.nodes.get(id)?.state ?? ConnectionState.Disconnected
  }

  isReady(id: number): boolean {
    return this.nodes.get(id)?.state === ConnectionState.Ready
  }

  isDisconnected(id: number): boolean {
    const s = this.nodes.get(id)
    return s === undefined || isDisconnectedState(s.state)
  }

  /**
   * Whether a connecting node has used up its setup timeout. True from the
   * moment `timeUntilNextSetupTimeout` reaches 0, so a caller that waits that
   * long then finds the node timed out rather than polling again with no wait.
   */
  isConnectionSetupTimeout(id: number, nowMs: number): boolean {
    const s = this.nodes.get(id)
    return (
      s !== undefined &&
      (s.state === ConnectionState.Connecting || s.state === ConnectionState.TlsHandshake) &&
      nowMs - s.lastConnectAttemptMs >= s.connectionSetupTimeoutMs
    )
  }

  /** Milliseconds until the earliest connecting node hits its setup timeout (Infinity when none is connecting). */
  timeUntilNextSetupTimeout(nowMs: number): number {
    let min = Infinity
    for (const id of this.connecting) {
      const s = this.nodes.get(id)!
      min = Math.min(min, s.lastConnectAttemptMs + s.connectionSetupTimeoutMs - nowMs)
    }
    return Math.max(min, 0)
  }

  /** The broker asked us to hold off until `untilMs` (Java's `throttle`; the deadline never moves back). */
  throttle(id: number, untilMs: number): void {
    const s = this.nodes.get(id)
    if (s !== undefined && s.throttleUntilMs < untilMs) s.throttleUntilMs = untilMs
  }

  /** Milliseconds of throttling left for `id`; 0 when it is not throttled. */
  throttleDelayMs(id: number, nowMs: number): number {
    const s = this.nodes.get(id)
    return s !== undefined && s.throttleUntilMs > nowMs ? s.throttleUntilMs - nowMs : 0
  }

  isThrottled(id: number, nowMs: number): boolean {
    const s = this.nodes.get(id)
    return s !== undefined && s.throttleUntilMs > nowMs
  }

  /**
   * How long a caller with data for `id` may wait before it looks again
   * (Java's `pollDelayMs`): the throttle time left for a connected node that
   * is throttled, otherwise the connection delay.
   */
  pollDelayMs(id: number, nowMs: number): number {
    const s = this.nodes.get(id)
    if (s !== undefined && s.throttleUntilMs > nowMs && !isDisconnectedState(s.state) && !this.connecting.has(id)) {
      return s.throttleUntilMs - nowMs
    }
    return this.connectionDelay(id, nowMs)
  }

  remove(id: number): void {
    this.nodes.delete(id)
    this.connecting.delete(id)
  }
}
