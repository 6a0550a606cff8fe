import { KafkaAuthenticationError } from '../../errors.js'
import { SASL_FACTORY_LIFECYCLE, type SaslFactoryLifecycle, type SaslMechanism, type SaslMechanismFactory } from './mechanism.js'

/**
 * An OAuth 2 bearer token for SASL/OAUTHBEARER, as Java's `OAuthBearerToken`.
 */
export interface OAuthBearerToken {
  /** The compact token (usually a JWT), sent as `auth=Bearer <token>`. */
  readonly token: string
  /**
   * When the token expires, in ms since the epoch (Java's
   * `OAuthBearerToken.lifetimeMs()`). The client re-authenticates before then.
   */
  readonly lifetimeMs: number
  /** The principal the token names (informational; the broker decides). */
  readonly principal?: string
  /** SASL extensions to send with this token (RFC 7628 §3.1, KIP-342). */
  readonly extensions?: Readonly<Record<string, string>>
}

/**
 * Supplies a valid token each time a connection (re-)authenticates; called
 * once per authentication, so it should cache (the built-in OIDC provider
 * does). Rejecting fails the authentication.
 */
export type OAuthBearerTokenProvider = () => Promise<OAuthBearerToken>

const SEPARATOR = '\x01'
// Java OAuthBearerClientInitialResponse: EXTENSION_KEY_PATTERN / EXTENSION_VALUE_PATTERN (RFC 7628 §3.1 key / value).
const EXTENSION_KEY = /^[A-Za-z]+$/
const EXTENSION_VALUE = /^[\x21-\x7E \t\r\n]+$/
// RFC 6750 §2.1 b64token, which a JWT satisfies.
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/
// Java OAuthBearerClientInitialResponse.AUTH_KEY: reserved for the token itself.
const AUTH_KEY = 'auth'

/** Throws naming the offending extension when it cannot be sent (Java `validateExtensions`). */
export function validateSaslExtensions(extensions: Readonly<Record<string, string>>): void {
  for (const [key, value] of Object.entries(extensions)) {
    if (key === AUTH_KEY) throw new KafkaAuthenticationError(`OAUTHBEARER: the SASL extension name '${AUTH_KEY}' is reserved`)
    if (!EXTENSION_KEY.test(key)) throw new KafkaAuthenticationError(`OAUTHBEARER: invalid SASL extension name ${JSON.stringify(key)}: letters only`)
    if (typeof value !== 'string' || !EXTENSION_VALUE.test(value)) {
      throw new KafkaAuthenticationError(`OAUTHBEARER: invalid value for SASL extension '${key}': printable ASCII, space, tab, CR or LF, at least one character`)
    }
  }
}

/**
 * The client initial response of RFC 7628 §3.1, byte for byte as Java's
 * `OAuthBearerClientInitialResponse.toBytes()`:
 * `n,[a=authzid],\x01auth=Bearer <token>[\x01key=value]*\x01\x01`.
 */
export function oauthBearerInitialResponse(token: string, extensions: Readonly<Record<string, string>> = {}, authorizationId = ''): Buffer {
  if (!B64TOKEN.test(token)) throw new KafkaAuthenticationError('OAUTHBEARER: the token is empty or not a bearer token (RFC 6750 b64token characters only)')
  validateSaslExtensions(extensions)
  if (authorizationId.includes(',') || authorizationId.includes('=')) {
    throw new KafkaAuthenticationError('OAUTHBEARER: the authorization id must not contain "," or "="')
  }
  const authzid = authorizationId === '' ? '' : `a=${authorizationId}`
  const ext = Object.entries(extensions)
    .map(([k, v]) => `${SEPARATOR}${k}=${v}`)
    .join('')
  return Buffer.from(`n,${authzid},${SEPARATOR}auth=Bearer ${token}${ext}${SEPARATOR}${SEPARATOR}`, 'utf8')
}

type State = 'initial' | 'sent' | 'server-error' | 'complete' | 'failed'

/**
 * OAUTHBEARER client (RFC 7628) as Java's `OAuthBearerSaslClient`: the
 * initial response carries the token; an empty server reply is success; a
 * non-empty one is the RFC 7628 §3.2.2 error JSON, which the client must
 * acknowledge with a single \x01 before the broker fails the exchange
 * (SaslAuthenticate error 58), and whose status this mechanism keeps for the
 * error message.
 *
 * Invariant: the provider is called once, in start(); the token is never
 * part of an error message.
 */
export class OAuthBearerMechanism implements SaslMechanism {
  readonly name = 'OAUTHBEARER'
  private state: State = 'initial'
  private expiresAt: number | undefined
  /** The error JSON the server sent, if it refused the token. */
  serverError: string | undefined

  constructor(
    private readonly provider: OAuthBearerTokenProvider,
    private readonly extraExtensions: Readonly<Record<string, string>> = {},
  ) {}

  get complete(): boolean {
    return this.state === 'complete'
  }

  get credentialExpiresAtMs(): number | undefined {
    return this.expiresAt
  }

  async start(): Promise<Buffer> {
    if (this.state !== 'initial') throw this.fail('start() called twice')
    let token: OAuthBearerToken
    try {
      token = await this.provider()
    } catch (e) {
      this.state = 'failed'
      if (e instanceof KafkaAuthenticationError) throw e
      throw new KafkaAuthenticationError(`OAUTHBEARER: the token provider failed: ${(e as Error)?.message ?? String(e)}`, { cause: e })
    }
    if (token === null || typeof token !== 'object' || typeof token.token !== 'string' || !Number.isFinite(token.lifetimeMs)) {
      throw this.fail('the token provider must resolve with { token: string, lifetimeMs: number }')
    }
    this.expiresAt = token.lifetimeMs
    try {
      const message = oauthBearerInitialResponse(token.token, { ...this.extraExtensions, ...(token.extensions ?? {}) })
      this.state = 'sent'
      return message
    } catch (e) {
      this.state = 'failed'
      throw e
    }
  }

  async evaluate(challenge: Buffer): Promise<Buffer | null> {
    switch (this.state) {
      case 'sent':
        if (challenge.length === 0) {
          this.state = 'complete'
          return null
        }
        // RFC 7628 §3.2.3: answer the error with a lone %x01; the server then fails the exchange.
        this.serverError = challenge.toString('utf8').slice(0, 1024)
        this.state = 'server-error'
        return Buffer.from(SEPARATOR, 'utf8')
      case 'server-error':
        throw this.fail(`the broker rejected the token: ${this.serverError}`)
      case 'initial':
        throw this.fail('evaluate() called before start()')
      default:
        throw this.fail('unexpected server message')
    }
  }

  private fail(reason: string): KafkaAuthenticationError {
    this.state = 'failed'
    return new KafkaAuthenticationError(`OAUTHBEARER authentication failed: ${reason}`)
  }
}

/** `lifecycle`: for a provider this library built (OIDC), how the producer ends it on close. */
export function oauthBearerFactory(
  provider: OAuthBearerTokenProvider,
  extensions: Readonly<Record<string, string>> = {},
  lifecycle?: SaslFactoryLifecycle,
): SaslMechanismFactory {
  validateSaslExtensions(extensions)
  return Object.freeze({
    mechanism: 'OAUTHBEARER',
    create: () => new OAuthBearerMechanism(provider, extensions),
    toString: () => 'OAUTHBEARER',
    ...(lifecycle !== undefined ? { [SASL_FACTORY_LIFECYCLE]: lifecycle } : {}),
  })
}
