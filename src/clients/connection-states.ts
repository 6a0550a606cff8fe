import { ExponentialBackoff } from '../util/backoff.js'

export const enum ConnectionState {
  Disconnected = 0,
  Connecting = 1,
  CheckingApiVersions = 2,
  Ready = 3,
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
}

/**
 * Per-node connection lifecycle with reconnect backoff and connection-setup
 * timeouts, as Java's `ClusterConnectionStates`.
 *
 * Invariants: a node in backoff is not reconnected before
 * `lastConnectAttemptMs + reconnectBackoffMs`; both the backoff and the setup
 * timeout grow exponentially with consecutive failures and reset on success.
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
    return s.state === ConnectionState.Disconnected && nowMs - s.lastConnectAttemptMs >= s.reconnectBackoffMs
  }

  isBlackedOut(id: number, nowMs: number): boolean {
    const s = this.nodes.get(id)
    return s !== undefined && s.state === ConnectionState.Disconnected && nowMs - s.lastConnectAttemptMs < s.reconnectBackoffMs
  }

  /** Milliseconds before a connection may be attempted (0 now); Infinity while one is being set up. */
  connectionDelay(id: number, nowMs: number): number {
    const s = this.nodes.get(id)
    if (s === undefined) return 0
    if (s.state === ConnectionState.Disconnected) return Math.max(s.lastConnectAttemptMs + s.reconnectBackoffMs - nowMs, 0)
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

  checkingApiVersions(id: number): void {
    const s = this.nodes.get(id)
    if (s !== undefined) s.state = ConnectionState.CheckingApiVersions
    this.connecting.delete(id)
  }

  ready(id: number): void {
    const s = this.nodes.get(id)
    if (s === undefined) return
    s.state = ConnectionState.Ready
    s.failedAttempts = 0
    s.failedConnectAttempts = 0
    s.reconnectBackoffMs = this.reconnectBackoff.backoff(0)
    s.connectionSetupTimeoutMs = this.setupTimeout.backoff(0)
    this.connecting.delete(id)
  }

  disconnected(id: number, nowMs: number): void {
    const s = this.nodes.get(id)
    if (s === undefined) return
    const wasConnecting = s.state === ConnectionState.Connecting
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

  state(id: number): ConnectionState {
    return this.nodes.get(id)?.state ?? ConnectionState.Disconnected
  }

  isReady(id: number): boolean {
    return this.nodes.get(id)?.state === ConnectionState.Ready
  }

  isDisconnected(id: number): boolean {
    const s = this.nodes.get(id)
    return s === undefined || s.state === ConnectionState.Disconnected
  }

  /**
   * Whether a connecting node has used up its setup timeout. True from the
   * moment `timeUntilNextSetupTimeout` reaches 0, so a caller that waits that
   * long then finds the node timed out rather than polling again with no wait.
   */
  isConnectionSetupTimeout(id: number, nowMs: number): boolean {
    const s = this.nodes.get(id)
    return s !== undefined && s.state === ConnectionState.Connecting && nowMs - s.lastConnectAttemptMs >= s.connectionSetupTimeoutMs
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

  remove(id: number): void {
    this.nodes.delete(id)
    this.connecting.delete(id)
  }
}
