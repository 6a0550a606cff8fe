/**
 * A SASL mechanism as the connection state machine drives it (KIP-43,
 * KIP-152): after ApiVersions, the client sends SaslHandshake v1 naming
 * {@link SaslMechanism.name}; then every client message travels in a
 * SaslAuthenticate request and every server message comes back in its
 * response, until the mechanism has nothing more to send:
 *
 *   mechanism = factory.create({ host, port, nodeId })
 *   SaslHandshake(mechanism.name)            → error 33 if the broker lacks it
 *   out = await mechanism.start()
 *   loop:
 *     response = SaslAuthenticate(out)        → error 58 (+ message): KafkaAuthenticationError
 *     out = await mechanism.evaluate(response.authBytes)
 *     if out === null: break                  (mechanism.complete must now be true)
 *   session_lifetime_ms of the last response → KIP-368 re-authentication
 *
 * This is the shape of Java's `SaslClient` (evaluateChallenge / isComplete)
 * driven by `SaslClientAuthenticator`. Implement it for a mechanism this
 * library does not ship (GSSAPI, AWS_MSK_IAM, …) and give the factory as the
 * `sasl` option.
 *
 * Invariants an implementation keeps: an instance serves one authentication
 * of one connection (re-authentication gets a fresh instance from the
 * factory); `start` is called once, before any `evaluate`; a rejection
 * (KafkaAuthenticationError) ends the exchange; no method puts a credential
 * into an error message.
 */
export interface SaslMechanism {
  /** The mechanism name sent in SaslHandshake, e.g. 'SCRAM-SHA-256'. */
  readonly name: string
  /** The client's initial response (first SaslAuthenticate request). May be empty. */
  start(): Promise<Buffer>
  /**
   * The next client message for the server's `challenge` (the auth_bytes of
   * a SaslAuthenticate response), or null when the exchange is over from the
   * client's side. Rejects with a KafkaAuthenticationError when the server's
   * message proves the exchange failed (bad SCRAM signature, server error).
   */
  evaluate(challenge: Buffer): Promise<Buffer | null>
  /** True once the client has verified a successful exchange. */
  readonly complete: boolean
  /**
   * When the credential this exchange used stops being valid, ms since the
   * epoch (an OAuth token's expiry), if it has one. With the broker's
   * session_lifetime_ms it bounds when to re-authenticate (KIP-368).
   */
  readonly credentialExpiresAtMs?: number | undefined
}

/** Where the connection being authenticated goes; GSSAPI and AWS_MSK_IAM need the host. */
export interface SaslContext {
  /** The broker's host. */
  readonly host: string
  /** The broker's port. */
  readonly port: number
  /** Broker id, or a negative id for a bootstrap address. */
  readonly nodeId: number
}

/** Makes one {@link SaslMechanism} per authentication (and per re-authentication). */
export interface SaslMechanismFactory {
  /** The mechanism name, e.g. 'PLAIN'; equals the `name` of what `create` returns. */
  readonly mechanism: string
  /** A fresh mechanism for one authentication of the connection `context` describes. */
  create(context: SaslContext): SaslMechanism
}

/** Type guard for a custom mechanism factory given as the `sasl` option. */
export function isSaslMechanismFactory(value: unknown): value is SaslMechanismFactory {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as SaslMechanismFactory).mechanism === 'string' &&
    typeof (value as SaslMechanismFactory).create === 'function'
  )
}

/**
 * What a built-in factory owns beyond its mechanisms (the OIDC provider's
 * refresh timer and HTTP requests), keyed by a symbol so that it stays off
 * the public {@link SaslMechanismFactory} shape: the producer that resolved
 * the factory from its configuration ends it on close, as Java's
 * `SaslChannelBuilder.close` releases its `LoginManager`. A factory the user
 * gave is the user's and is left alone.
 */
export const SASL_FACTORY_LIFECYCLE: unique symbol = Symbol('kafka-producer-ts.saslFactoryLifecycle')

export interface SaslFactoryLifecycle {
  /** Where background failures (a failed token refresh) are reported; called once the producer's logger exists. */
  setLogger(warn: (message: string, error: Error) => void): void
  /** Stops background work; called once, when the producer has closed. */
  close(): void
}

/** The lifecycle of a built-in factory, or null for any other. */
export function saslFactoryLifecycle(factory: SaslMechanismFactory | null | undefined): SaslFactoryLifecycle | null {
  const l = (factory as { [SASL_FACTORY_LIFECYCLE]?: SaslFactoryLifecycle } | null | undefined)?.[SASL_FACTORY_LIFECYCLE]
  return l ?? null
}
