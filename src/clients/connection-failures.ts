import {
  KafkaTlsError,
  type ConnectionFailureCause,
  type ConnectionFailureKind,
  KafkaClientError,
  KafkaConnectionError,
  KafkaForeignProtocolError,
  KafkaTimeoutError,
  UnsupportedVersionError,
} from '../errors.js'

/** How far a connection got before it failed. */
export const enum ConnectionPhase {
  /** TCP (later TLS) connect not finished. */
  Connecting = 0,
  /** Connected; the ApiVersions handshake (later SASL) not finished. */
  Handshake = 1,
  /** Ready: it carried Kafka requests. */
  Ready = 2,
}

/** A failure to record: its kind, its errno when any, a short label for summaries, and the error itself. */
export interface FailureCause {
  readonly kind: ConnectionFailureKind
  readonly errno?: string | undefined
  /** Defaults to the errno, else a few words for the kind. */
  readonly label?: string
  readonly error: Error
}

/** What the failures explain, for a timeout's message and `cause`. */
export interface ConnectionFailureReport {
  /** One line: `127.0.0.1:9092 ECONNREFUSED (12 attempts); h2:9092 ENOTFOUND (3 attempts)`. */
  readonly summary: string
  /** One {@link KafkaConnectionError} per broker; its message is `summary`. */
  readonly error: AggregateError
  /** True when some connection is usable now: the failures are then not the whole story. */
  readonly anyReady: boolean
}

interface CauseEntry {
  kind: ConnectionFailureKind
  errno: string | undefined
  label: string
  attempts: number
  lastFailureMs: number
  lastError: Error
}

interface BrokerFailures {
  readonly host: string
  readonly port: number
  nodeId: number
  /** Distinct causes, oldest first (key: kind and label). */
  readonly causes: CauseEntry[]
}

/** Brokers kept at most (oldest failure forgotten first) and causes per broker: memory stays bounded. */
const MAX_BROKERS = 64
const MAX_CAUSES_PER_BROKER = 8
/** Brokers named in one summary line; the rest are counted. */
const MAX_BROKERS_IN_SUMMARY = 5
/** Consecutive handshake closes, at an address that never completed one, before the SSL hint is warned. */
const HANDSHAKE_CLOSES_BEFORE_WARNING = 3

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA', 'EAI_ADDRFAMILY'])
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED'])

/**
 * Why connections to brokers fail, per broker address, so that a timeout can
 * say what went wrong instead of only that time ran out (the Java client
 * only logs these, one line per attempt, and its TimeoutException says
 * nothing of them; see KAFKA-8131 and KIP-601's discussion of "bootstrap
 * unreachable").
 *
 * Used by NetworkClient on the failure path only: `record` from
 * `processDisconnection` (and a connect that throws), `succeeded` when a
 * handshake completes. The send path never touches it.
 *
 * Invariants:
 * - A broker is listed only while its last connection outcome was a
 *   failure: `succeeded` forgets it, so a timeout never blames a broker that
 *   works now.
 * - One entry per broker address and per distinct cause (kind + label), with
 *   a count: a broker refusing 1000 times costs one entry, never a list.
 *   Bounded: at most MAX_BROKERS addresses and MAX_CAUSES_PER_BROKER causes.
 * - A configuration mistake is warned about once per address and kind, for
 *   the producer's life: an unresolvable name or a peer that is not a Kafka
 *   broker at its first occurrence; a peer that closes the handshake without
 *   a byte of answer (a TLS port, on a plaintext connection) at its third in
 *   a row, and only if that address never completed a handshake (a broker
 *   shutting down does the same). Transient failures (refused, reset,
 *   timeouts) are never warned about here: they surface in the timeout that
 *   they cause.
 * - Times come from the caller (`nowMs`); nothing here reads a clock.
 */
export class ConnectionFailures {
  private readonly brokers = new Map<string, BrokerFailures>()
  private readonly warned = new Set<string>()
  /** Addresses that completed a handshake at least once: their handshake closes are not a misconfiguration. */
  private readonly everSucceeded = new Set<string>()
  /** Bootstrap addresses whose name did not resolve. */
  private readonly unresolvedBootstrap = new Set<string>()
  /** Bumped on every change; the last report is reused while it holds. */
  private version = 0
  private cached: { version: number; key: string; report: ConnectionFailureReport | null } | null = null

  constructor(
    /** The bootstrap addresses (host:port), to tell when none of them can resolve. */
    private readonly bootstrap: readonly string[],
    /** Where warnings go: the producer's logger; `key` is the cause (address and kind), logged once. */
    private readonly warn: (message: string, fields: { nodeId: number; broker: string; cause: string; key: string }) => void,
  ) {}

  /** Records one failed connection to `host:port` (node `nodeId`; bootstrap nodes are negative). */
  record(nodeId: number, host: string, port: number, cause: FailureCause, nowMs: number): void {
    const address = formatAddress(host, port)
    let b = this.brokers.get(address)
    if (b === undefined) {
      if (this.brokers.size >= MAX_BROKERS) this.brokers.delete(this.brokers.keys().next().value!)
      b = { host, port, nodeId, causes: [] }
      this.brokers.set(address, b)
    }
    b.nodeId = nodeId
    const label = cause.label ?? cause.errno ?? defaultLabel(cause.kind)
    let entry = b.causes.find((c) => c.kind === cause.kind && c.label === label)
    if (entry === undefined) {
      if (b.causes.length >= MAX_CAUSES_PER_BROKER) b.causes.shift()
      entry = { kind: cause.kind, errno: cause.errno, label, attempts: 0, lastFailureMs: nowMs, lastError: cause.error }
      b.causes.push(entry)
    }
    entry.attempts++
    entry.lastFailureMs = nowMs
    entry.lastError = cause.error
    this.version++
    this.maybeWarn(nodeId, address, entry)
  }

  /** The connection to `host:port` completed its handshake: it is no longer failing. */
  succeeded(host: string, port: number): void {
    const address = formatAddress(host, port)
    // Bounded like `brokers`: a cluster whose addresses churn (pods) must not grow this for ever.
    if (!this.everSucceeded.has(address)) {
      if (this.everSucceeded.size >= MAX_BROKERS) this.everSucceeded.delete(this.everSucceeded.values().next().value!)
      this.everSucceeded.add(address)
    }
    if (this.brokers.size === 0) return
    if (this.brokers.delete(address)) this.version++
    this.unresolvedBootstrap.delete(address)
  }

  /** Whether any broker is failing now. */
  get isEmpty(): boolean {
    return this.brokers.size === 0
  }

  /**
   * The failing brokers, all of them or those with `nodeId` only, as one
   * summary line and an AggregateError of one KafkaConnectionError each;
   * null when none is failing. The report is reused until something changes,
   * so many batches expiring together share one.
   */
  report(anyReady: boolean, nodeId?: number): ConnectionFailureReport | null {
    const key = `${anyReady ? 1 : 0}:${nodeId ?? ''}`
    const c = this.cached
    if (c !== null && c.version === this.version && c.key === key) return c.report
    const report = this.buildReport(anyReady, nodeId)
    this.cached = { version: this.version, key, report }
    return report
  }

  private buildReport(anyReady: boolean, nodeId: number | undefined): ConnectionFailureReport | null {
    const errors: KafkaConnectionError[] = []
    const lines: string[] = []
    for (const [address, b] of this.brokers) {
      if (nodeId !== undefined && b.nodeId !== nodeId) continue
      const line = `${address} ${b.causes.map((e) => `${e.label} (${plural(e.attempts, 'attempt')})`).join(', ')}`
      const causes: ConnectionFailureCause[] = b.causes.map((e) => ({
        kind: e.kind,
        errno: e.errno,
        label: e.label,
        attempts: e.attempts,
        lastFailureMs: e.lastFailureMs,
      }))
      const last = b.causes.reduce((a, e) => (e.lastFailureMs >= a.lastFailureMs ? e : a))
      errors.push(new KafkaConnectionError(line, { nodeId: b.nodeId, host: b.host, port: b.port, causes }, { cause: last.lastError }))
      lines.push(line)
    }
    if (errors.length === 0) return null
    const shown = lines.slice(0, MAX_BROKERS_IN_SUMMARY)
    if (lines.length > shown.length) shown.push(`and ${lines.length - shown.length} more`)
    const summary = shown.join('; ')
    return { summary, error: new AggregateError(errors, summary), anyReady }
  }

  private maybeWarn(nodeId: number, address: string, entry: CauseEntry): void {
    const kind = entry.kind
    const silentHandshakeClose = kind === 'RESET' && (entry.label === HANDSHAKE_CLOSE_LABEL || entry.label === TLS_HANDSHAKE_CLOSE_LABEL)
    if (kind !== 'DNS' && kind !== 'NOT_KAFKA' && !silentHandshakeClose) return
    // A broker shutting down or at max.connections.per.ip closes handshakes too: only an address that
    // never completed one, and did so HANDSHAKE_CLOSES_BEFORE_WARNING times in a row, looks like a TLS port.
    if (silentHandshakeClose && (this.everSucceeded.has(address) || entry.attempts < HANDSHAKE_CLOSES_BEFORE_WARNING)) return
    if (kind === 'DNS' && nodeId < 0) this.unresolvedBootstrap.add(address)
    const key = `${address}|${kind}`
    if (this.warned.has(key)) return
    this.warned.add(key)
    const who = nodeId < 0 ? `bootstrap server ${address}` : `broker ${nodeId} at ${address}`
    let message: string
    if (kind === 'DNS') {
      message = `kafka-producer-ts: ${who} cannot be resolved (${entry.label}: ${entry.lastError.message})`
      if (nodeId >= 0) message += '; check the broker\'s advertised.listeners'
      else if (this.bootstrap.every((a) => this.unresolvedBootstrap.has(a))) {
        message += `; no bootstrap server can be resolved (${this.bootstrap.join(', ')}): sends will fail after max.block.ms`
      }
    } else if (kind === 'NOT_KAFKA') {
      message = `kafka-producer-ts: ${who} is ${entry.lastError.message}`
    } else if (entry.label === TLS_HANDSHAKE_CLOSE_LABEL) {
      message =
        `kafka-producer-ts: ${who} closed the connection during the TLS handshake, without a TLS alert: ` +
        'is this a PLAINTEXT or SASL_PLAINTEXT listener? (this client speaks TLS; a broker at its connection limit, ' +
        'max.connections.per.ip, or shutting down does the same)'
    } else {
      message =
        `kafka-producer-ts: ${who} closed the connection without answering the ApiVersions request: ` +
        'is this an SSL or SASL_SSL listener? (this client speaks PLAINTEXT; a broker at its connection limit, ' +
        'max.connections.per.ip, or shutting down does the same)'
    }
    this.warn(message, { nodeId, broker: address, cause: entry.label, key })
  }
}

/**
 * The end of a timeout's message: `; no broker reachable: <summary>` when no
 * connection is usable, `; leader unreachable: <summary>` for the failures of
 * a batch's leader, `; connection failures: <summary>` otherwise; '' for no
 * report.
 */
export function timeoutSuffix(report: ConnectionFailureReport | null, leader = false): string {
  if (report === null) return ''
  const what = leader ? 'leader unreachable' : report.anyReady ? 'connection failures' : 'no broker reachable'
  return `; ${what}: ${report.summary}`
}

/** The label of a peer that closed the connection during the handshake without a byte of answer. */
export const HANDSHAKE_CLOSE_LABEL = 'closed during the ApiVersions handshake'

/** The label of a peer that closed the connection during the TLS handshake without a TLS alert. */
export const TLS_HANDSHAKE_CLOSE_LABEL = 'closed during the TLS handshake'

/**
 * Classifies why a connection ended, from the error the selector or the
 * client reported and how far the connection got. TLS and SASL failures get
 * their kinds from their error codes here once those layers exist; a layer
 * that knows better passes its own {@link FailureCause} to `record`.
 */
export function classifyFailure(error: Error, phase: ConnectionPhase): FailureCause {
  const errno = errnoOf(error)
  if (error instanceof KafkaForeignProtocolError) return { kind: 'NOT_KAFKA', label: notKafkaLabel(error.looksLike), error }
  // The TLS transport names what failed (certificate, hostname, handshake closed) in `reason`.
  if (error instanceof KafkaTlsError) {
    if (error.reason === 'PLAINTEXT_ON_TLS_LISTENER') return { kind: 'NOT_KAFKA', label: notKafkaLabel('TLS'), error }
    return { kind: 'TLS', errno: error.reason, error }
  }
  if (errno !== undefined) {
    if (DNS_CODES.has(errno)) return { kind: 'DNS', errno, error }
    if (errno === 'ECONNREFUSED') return { kind: 'REFUSED', errno, error }
    if (RESET_CODES.has(errno)) return { kind: 'RESET', errno, error }
    if (errno === 'ETIMEDOUT' && phase === ConnectionPhase.Connecting) return { kind: 'SETUP_TIMEOUT', errno, error }
    if (errno.startsWith('ERR_SSL_') || errno.startsWith('ERR_TLS_') || errno.includes('CERT')) return { kind: 'TLS', errno, error }
  }
  if (error instanceof KafkaClientError && (error.code === 'AUTHENTICATION' || error.code === 'SASL_AUTHENTICATION_FAILED')) {
    return { kind: 'AUTHENTICATION', error }
  }
  if (error instanceof UnsupportedVersionError) return { kind: 'UNSUPPORTED_VERSION', error }
  if (error instanceof KafkaTimeoutError) {
    if (phase === ConnectionPhase.Connecting) return { kind: 'SETUP_TIMEOUT', error }
    return { kind: 'OTHER', label: phase === ConnectionPhase.Handshake ? 'no answer to ApiVersions' : 'request timed out', error }
  }
  if (errno !== undefined) return { kind: 'OTHER', errno, error }
  if (error instanceof KafkaClientError && error.code === 'NETWORK' && error.cause === undefined) {
    // The selector's plain close by the peer, with no socket error.
    return { kind: 'RESET', label: phase === ConnectionPhase.Handshake ? HANDSHAKE_CLOSE_LABEL : 'closed by the broker', error }
  }
  return { kind: 'OTHER', label: error.name, error }
}

function notKafkaLabel(looksLike: 'HTTP' | 'TLS' | null): string {
  return looksLike === null ? 'not a Kafka broker' : `not a Kafka broker (looks like ${looksLike})`
}

/** The errno of a Node system error, of its cause, or undefined. */
function errnoOf(error: Error): string | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 3; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code
    if (typeof code === 'string' && (code.startsWith('E') || code.includes('CERT'))) {
      // Our own stable codes ('NETWORK', 'TIMEOUT'...) are not errnos.
      if (!(e instanceof KafkaClientError)) return code
    }
  }
  return undefined
}

function defaultLabel(kind: ConnectionFailureKind): string {
  switch (kind) {
    case 'SETUP_TIMEOUT':
      return 'connection setup timed out'
    case 'NOT_KAFKA':
      return 'not a Kafka broker'
    case 'TLS':
      return 'TLS handshake failed'
    case 'AUTHENTICATION':
      return 'authentication failed'
    case 'UNSUPPORTED_VERSION':
      return 'no common ApiVersions version'
    case 'DNS':
      return 'name not resolved'
    case 'REFUSED':
      return 'connection refused'
    case 'RESET':
      return 'connection reset'
    default:
      return 'failed'
  }
}

/** host:port, with an IPv6 host in brackets. */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}
