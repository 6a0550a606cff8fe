import net from 'node:net'

/**
 * How bytes reach a broker. Plaintext is a bare TCP socket; TLS would wrap
 * the same socket contract (tls.connect returns a net.Socket subclass), so the
 * channel and selector do not change when it is added.
 */
export interface TransportLayer {
  readonly socket: net.Socket
  /** Resolved once the transport can carry Kafka frames (TCP connected, TLS handshaken). */
  readonly connectEvent: 'connect' | 'secureConnect'
}

export interface TransportFactory {
  readonly securityProtocol: string
  connect(host: string, port: number): TransportLayer
}

export class PlaintextTransportFactory implements TransportFactory {
  readonly securityProtocol = 'PLAINTEXT'

  connect(host: string, port: number): TransportLayer {
    // Nagle would hold small requests back for up to 40 ms; the producer already batches.
    // Keep-alive, as Java's Selector sets it, lets the OS notice a broker that vanished.
    const socket = net.connect({ host, port, noDelay: true, keepAlive: true })
    return { socket, connectEvent: 'connect' }
  }
}

/**
 * Authenticates a connection after the transport is up (SASL would send
 * SaslHandshake/SaslAuthenticate here). Plaintext needs nothing.
 */
export interface Authenticator {
  /** True once Kafka requests may flow on this channel. */
  readonly complete: boolean
}

export const NO_AUTHENTICATION: Authenticator = { complete: true }
