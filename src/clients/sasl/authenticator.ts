import { KafkaAuthenticationError } from '../../errors.js'
import type { SaslAuthenticateResponse } from '../../protocol/apis/sasl-authenticate.js'
import { SaslAuthenticateApi } from '../../protocol/apis/sasl-authenticate.js'
import type { SaslHandshakeResponse } from '../../protocol/apis/sasl-handshake.js'
import { SaslHandshakeApi } from '../../protocol/apis/sasl-handshake.js'
import { ErrorCode, errorName } from '../../protocol/error-codes.js'
import type { AuthenticationRequest, Authenticator, ConnectionContext } from '../../network/transport.js'
import type { SaslMechanism, SaslMechanismFactory } from './mechanism.js'

/** Where this authenticator is in one (re-)authentication (Java's `SaslClientAuthenticator.SaslState`, cut to what a request-driven client needs). */
export const enum SaslState {
  /** Nothing sent yet on this connection. */
  Initial = 0,
  /** SaslHandshake v1 sent; waiting for the broker's enabled mechanisms. */
  ReceiveHandshake = 1,
  /** A SaslAuthenticate round is in flight (the mechanism's next message sent). */
  ReceiveAuthenticate = 2,
  /** The exchange succeeded; `complete` until the next re-authentication begins. */
  Complete = 3,
  Failed = 4,
}

/**
 * Java's KIP-368 window (`SaslClientAuthenticator.ReauthInfo`): re-authenticate
 * at a random point between 85 % and 95 % of the session lifetime, so network
 * latency and clock drift leave room before the broker's deadline, and many
 * connections do not all re-authenticate at once.
 */
const REAUTH_WINDOW_START = 0.85
const REAUTH_WINDOW_JITTER = 0.1

/**
 * The SASL client of one connection (Java's `SaslClientAuthenticator`), as a
 * sequence of requests the network client sends through its ordinary
 * in-flight machinery: SaslHandshake v1 naming the mechanism (KIP-152), then
 * SaslAuthenticate rounds carrying the mechanism's messages until the
 * mechanism has nothing more to say; the last response's session_lifetime_ms
 * schedules re-authentication (KIP-368), which runs the same two steps with a
 * fresh mechanism and no ApiVersions.
 *
 * Invariants:
 * - One mechanism instance per (re-)authentication, from the factory.
 * - A broker error (UNSUPPORTED_SASL_MECHANISM, ILLEGAL_SASL_STATE,
 *   SASL_AUTHENTICATION_FAILED…) throws synchronously from
 *   `handleResponse`: the broker closes the connection right after such an
 *   answer, and the error, not that close, must reach the application.
 * - No credential in any message: errors carry the broker's message and the
 *   mechanism's own (credential-free) errors only.
 * - `reauthenticationTimeMs` is finite only when the broker reported a
 *   positive session lifetime (Java re-authenticates only then); a
 *   credential expiry (an OAuth token) brings it earlier, never later.
 */
export class SaslClientAuthenticator implements Authenticator {
  state = SaslState.Initial
  complete = false
  successfulAuthentications = 0
  reauthenticationTimeMs = Infinity
  /** The broker's session_lifetime_ms from the last successful exchange (0: none). */
  sessionLifetimeMs = 0
  private mechanism: SaslMechanism | null = null

  constructor(
    private readonly factory: SaslMechanismFactory,
    private readonly context: ConnectionContext,
    /** Uniform [0, 1) source for the re-authentication jitter (test seam). */
    private readonly random: () => number = Math.random,
  ) {}

  get mechanismName(): string {
    return this.factory.mechanism
  }

  authenticate(_nowMs: number): Promise<AuthenticationRequest | null> {
    if (this.state !== SaslState.Initial) return Promise.reject(new Error('SaslClientAuthenticator: authenticate() called twice'))
    return Promise.resolve(this.beginExchange())
  }

  reauthenticate(_nowMs: number): Promise<AuthenticationRequest | null> {
    if (this.state !== SaslState.Complete) return Promise.reject(new Error('SaslClientAuthenticator: re-authentication of a connection that is not authenticated'))
    // Java's rule: from here until the exchange ends the connection carries nothing else new.
    this.complete = false
    this.reauthenticationTimeMs = Infinity
    return Promise.resolve(this.beginExchange())
  }

  private beginExchange(): AuthenticationRequest {
    let mechanism: SaslMechanism
    try {
      mechanism = this.factory.create(this.context)
    } catch (err) {
      this.fail(err, `the ${this.factory.mechanism} mechanism factory threw`)
    }
    if (mechanism === null || typeof mechanism !== 'object' || typeof mechanism.name !== 'string' || typeof mechanism.start !== 'function' || typeof mechanism.evaluate !== 'function') {
      this.state = SaslState.Failed
      throw new KafkaAuthenticationError(`SASL ${this.factory.mechanism}: the mechanism factory's create() must return a SaslMechanism ({ name, start(), evaluate(), complete })`)
    }
    this.mechanism = mechanism
    this.state = SaslState.ReceiveHandshake
    return { api: SaslHandshakeApi, body: { mechanism: mechanism.name }, minVersion: 1 }
  }

  /**
   * Calls one method of a (possibly custom) mechanism. A synchronous throw
   * or a rejection becomes a non-retriable KafkaAuthenticationError, as
   * Java's `SaslClientAuthenticator` turns the SaslClient's SaslException
   * into a SaslAuthenticationException; a method that returns a value
   * rather than a Promise is accepted.
   */
  private call<T>(what: string, f: () => Promise<T> | T): Promise<T> {
    try {
      return Promise.resolve(f()).catch((err: unknown) => this.fail(err, `${what} failed`))
    } catch (err) {
      return Promise.reject(this.failure(err, `${what} threw`))
    }
  }

  /**
   * The request carrying a mechanism's message. Anything but bytes would
   * leave the exchange with nothing to send (and the connection waiting for
   * request.timeout.ms): a Uint8Array is wrapped without a copy; anything
   * else fails now, naming what came back.
   */
  private authenticateRequest(mechanism: SaslMechanism, what: string, out: unknown): AuthenticationRequest {
    let bytes: Buffer
    if (Buffer.isBuffer(out)) bytes = out
    else if (out instanceof Uint8Array) bytes = Buffer.from(out.buffer, out.byteOffset, out.byteLength)
    else {
      this.state = SaslState.Failed
      const got = out === null ? 'null' : typeof out === 'object' ? (out.constructor?.name ?? 'an object') : typeof out
      throw new KafkaAuthenticationError(
        `SASL ${mechanism.name}: ${what} must resolve with a Buffer${what.endsWith('evaluate()') ? ' (or null when done)' : ''}, got ${got}`,
      )
    }
    return { api: SaslAuthenticateApi, body: { authBytes: bytes } }
  }

  handleResponse(body: unknown, nowMs: number): Promise<AuthenticationRequest | null> {
    const mechanism = this.mechanism
    if (mechanism === null) throw new Error('SaslClientAuthenticator: a response with no exchange under way')
    switch (this.state) {
      case SaslState.ReceiveHandshake: {
        const r = body as SaslHandshakeResponse
        if (r.errorCode === ErrorCode.UNSUPPORTED_SASL_MECHANISM) {
          this.state = SaslState.Failed
          throw new KafkaAuthenticationError(
            `Broker ${this.where()} does not enable SASL mechanism ${mechanism.name}; it enables: ${r.mechanisms.length > 0 ? r.mechanisms.join(', ') : '(none)'}`,
          )
        }
        if (r.errorCode !== ErrorCode.NONE) {
          this.state = SaslState.Failed
          throw new KafkaAuthenticationError(`SaslHandshake with broker ${this.where()} failed: ${errorName(r.errorCode)}`)
        }
        this.state = SaslState.ReceiveAuthenticate
        return this.call(`${mechanism.name} start()`, () => mechanism.start()).then((out) =>
          this.authenticateRequest(mechanism, 'start()', out),
        )
      }
      case SaslState.ReceiveAuthenticate: {
        const r = body as SaslAuthenticateResponse
        if (r.errorCode !== ErrorCode.NONE) {
          this.state = SaslState.Failed
          const brokerMessage = r.errorMessage ?? undefined
          throw new KafkaAuthenticationError(
            `SASL ${mechanism.name} authentication with broker ${this.where()} failed (${errorName(r.errorCode)})` +
              (brokerMessage !== undefined ? `: ${brokerMessage}` : ''),
            brokerMessage !== undefined ? { brokerMessage } : undefined,
          )
        }
        this.sessionLifetimeMs = r.sessionLifetimeMs
        // authBytes is a view of the response frame; mechanisms read it before this returns or copy it.
        return this.call(`${mechanism.name} evaluate()`, () => mechanism.evaluate(r.authBytes)).then((out) => {
          if (out !== null) return this.authenticateRequest(mechanism, 'evaluate()', out)
          if (!mechanism.complete) {
            this.state = SaslState.Failed
            throw new KafkaAuthenticationError(`SASL ${mechanism.name} with broker ${this.where()} ended before the client verified it`)
          }
          this.succeeded(mechanism, nowMs)
          return null
        })
      }
      default:
        throw new Error(`SaslClientAuthenticator: unexpected response in state ${this.state}`)
    }
  }

  private succeeded(mechanism: SaslMechanism, nowMs: number): void {
    this.state = SaslState.Complete
    this.complete = true
    this.successfulAuthentications++
    this.mechanism = null
    this.reauthenticationTimeMs = Infinity
    const lifetime = this.sessionLifetimeMs
    if (lifetime > 0) {
      // ReauthInfo.setAuthenticationEndAndSessionReauthenticationTimes: measured from the end of this exchange.
      const pct = REAUTH_WINDOW_START + this.random() * REAUTH_WINDOW_JITTER
      let at = nowMs + Math.floor(lifetime * pct)
      const expires = mechanism.credentialExpiresAtMs
      // The broker bounds the session by the token's expiry already; a provider's own expiry may be earlier.
      if (expires !== undefined && Number.isFinite(expires)) at = Math.min(at, nowMs + Math.max(0, Math.floor((expires - nowMs) * pct)))
      this.reauthenticationTimeMs = at
    }
  }

  private fail(err: unknown, what = 'the mechanism failed'): never {
    throw this.failure(err, what)
  }

  /** The mechanism's own error, as is when it is typed, else wrapped with its message and the cause. */
  private failure(err: unknown, what: string): KafkaAuthenticationError {
    this.state = SaslState.Failed
    if (err instanceof KafkaAuthenticationError) return err
    const message = err instanceof Error ? err.message : String(err)
    return new KafkaAuthenticationError(`SASL authentication with broker ${this.where()} failed: ${what}: ${message}`, { cause: err })
  }

  private where(): string {
    return `${this.context.host}:${this.context.port} (node ${this.context.nodeId})`
  }
}

/** The per-connection authenticator factory of a SASL security protocol. */
export function saslAuthenticators(factory: SaslMechanismFactory, random: () => number = Math.random): (context: ConnectionContext) => Authenticator {
  return (context) => new SaslClientAuthenticator(factory, context, random)
}
