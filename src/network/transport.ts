import net from 'node:net'
import tls from 'node:tls'
import type { AnyApi } from '../protocol/api.js'

/**
 * How bytes reach a broker: a bare TCP socket or a TLS socket over it. Both
 * are a `net.Socket` (tls.connect returns a subclass), so the channel and the
 * selector handle them alike; only the event that makes the transport ready
 * differs (Java's `PlaintextTransportLayer` / `SslTransportLayer`).
 */
export interface TransportLayer {
  readonly socket: net.Socket
  /** Emitted once the transport can carry Kafka frames (TCP connected, TLS handshaken). */
  readonly connectEvent: 'connect' | 'secureConnect'
}

/** Where a new connection goes, for the authenticator (GSSAPI and AWS_MSK_IAM need the host). */
export interface ConnectionContext {
  readonly host: string
  readonly port: number
  /** Broker id, or a negative id for a bootstrap address. */
  readonly nodeId: number
}

/**
 * Builds what each connection is made of: its transport and its
 * authenticator, as Java's `ChannelBuilder` (`ChannelBuilders.clientChannelBuilder`
 * picks Plaintext, Ssl or SaslChannelBuilder from security.protocol). The
 * selector calls both once per connection, so every channel has its own
 * authenticator.
 */
export interface TransportFactory {
  readonly securityProtocol: string
  connect(host: string, port: number): TransportLayer
  /** The authenticator of a new connection; omitted or {@link NO_AUTHENTICATION}: nothing to authenticate. */
  authenticator?(context: ConnectionContext): Authenticator
}

function tuneSocket(socket: net.Socket): void {
  // Nagle would hold small requests back for up to 40 ms; the producer already batches.
  // Keep-alive, as Java's Selector sets it, lets the OS notice a broker that vanished.
  socket.setNoDelay(true)
  socket.setKeepAlive(true)
}

/** Plaintext TCP (PLAINTEXT, or SASL_PLAINTEXT with an authenticator factory). */
export class PlaintextTransportFactory implements TransportFactory {
  constructor(
    private readonly authenticators: ((context: ConnectionContext) => Authenticator) | null = null,
    readonly securityProtocol: string = authenticators === null ? 'PLAINTEXT' : 'SASL_PLAINTEXT',
  ) {}

  connect(host: string, port: number): TransportLayer {
    const socket = net.connect({ host, port, noDelay: true, keepAlive: true })
    return { socket, connectEvent: 'connect' }
  }

  authenticator(context: ConnectionContext): Authenticator {
    return this.authenticators === null ? NO_AUTHENTICATION : this.authenticators(context)
  }
}

/**
 * TLS over TCP with `node:tls` (SSL, or SASL_SSL with an authenticator
 * factory), as Java's `SslTransportLayer`. `options(host, port)` gives the
 * `tls.connect` options of one connection (SNI, hostname check, and the
 * producer's one `secureContext` holding CA, client certificate and key, so
 * key material is parsed once, not per connection); the factory adds nothing
 * but the socket tuning, so which certificates are trusted is decided in one
 * place (clients/security.ts).
 *
 * Invariant: the transport is ready only after `secureConnect`, i.e. after
 * the broker's certificate chain (and, unless disabled, its name) verified;
 * no Kafka byte is written before that.
 */
export class TlsTransportFactory implements TransportFactory {
  constructor(
    private readonly options: (host: string, port: number) => tls.ConnectionOptions,
    private readonly authenticators: ((context: ConnectionContext) => Authenticator) | null = null,
    readonly securityProtocol: string = authenticators === null ? 'SSL' : 'SASL_SSL',
  ) {}

  connect(host: string, port: number): TransportLayer {
    const socket = tls.connect(this.options(host, port))
    tuneSocket(socket)
    return { socket, connectEvent: 'secureConnect' }
  }

  authenticator(context: ConnectionContext): Authenticator {
    return this.authenticators === null ? NO_AUTHENTICATION : this.authenticators(context)
  }
}

/** One request an authenticator wants sent, through the connection's ordinary in-flight machinery. */
export interface AuthenticationRequest {
  readonly api: AnyApi
  readonly body: unknown
  /** The lowest version acceptable for this step (SaslHandshake needs v1: KIP-152). */
  readonly minVersion?: number
}

/**
 * Authenticates a connection once its transport is up and ApiVersions has
 * answered (Java's `Authenticator`, driven from the clients layer as a
 * sequence of requests rather than by reading the socket itself, as
 * franz-go does): the network client sends each {@link AuthenticationRequest}
 * like any other request, and hands the decoded response back.
 *
 * Invariants every implementation keeps:
 * - `complete` is true exactly between a successful (re-)authentication and
 *   the start of the next re-authentication; requests other than its own go
 *   out on the connection only then.
 * - Steps alternate: `authenticate` / `reauthenticate`, then one
 *   `handleResponse` per request returned, until a step resolves null (done).
 * - A failure is a thrown or rejected KafkaAuthenticationError, never with a
 *   credential in its message. `handleResponse` throws synchronously for a
 *   broker-reported error, so the error wins over the disconnect the broker
 *   follows it with.
 */
export interface Authenticator {
  readonly complete: boolean
  /** The first request of the first authentication; null: nothing to do (then `complete` is true). */
  authenticate(nowMs: number): Promise<AuthenticationRequest | null>
  /** The next request, or null once authenticated. */
  handleResponse(body: unknown, nowMs: number): Promise<AuthenticationRequest | null>
  /** Begins re-authentication (KIP-368) on the authenticated connection: the first request. */
  reauthenticate(nowMs: number): Promise<AuthenticationRequest | null>
  /** When to begin re-authenticating, ms since the epoch, once `complete`; Infinity: never. */
  readonly reauthenticationTimeMs: number
  /** Successful authentications on this connection so far (the first and every re-authentication). */
  readonly successfulAuthentications: number
  /** The SASL mechanism's name, for diagnostics (never a credential); absent without SASL. */
  readonly mechanismName?: string
}

/** PLAINTEXT and SSL: nothing to authenticate beyond TLS. */
export const NO_AUTHENTICATION: Authenticator = Object.freeze({
  complete: true,
  authenticate: () => Promise.resolve(null),
  handleResponse: () => Promise.resolve(null),
  reauthenticate: () => Promise.resolve(null),
  reauthenticationTimeMs: Infinity,
  successfulAuthentications: 0,
})
