import { isIP } from 'node:net'
import tls from 'node:tls'
import type { Secret } from '../util/secret.js'
import type { SaslMechanismFactory } from './sasl/mechanism.js'

/** `security.protocol`: whether connections use TLS, SASL, both or neither (Java's `SecurityProtocol`). */
export type SecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL'

/**
 * TLS settings after validation (files read, PEM checked, the key decrypted
 * once to prove the passphrase). Secrets stay wrapped until
 * {@link ResolvedTls.createSecureContext} builds the producer's one context.
 */
export interface ResolvedTls {
  /** Trusted CA certificates (PEM); undefined: Node's default (Mozilla) CA store. */
  readonly ca: readonly (string | Buffer)[] | undefined
  /** Client certificate chain (PEM), for mTLS. */
  readonly cert: string | Buffer | undefined
  /** Client private key (PEM). */
  readonly key: Secret | undefined
  /** Passphrase of an encrypted `key`. */
  readonly passphrase: Secret | undefined
  /** SNI and hostname to verify; default: the broker host when it is a name. */
  readonly servername: string | undefined
  /** Verify the broker's certificate chain (false only when asked for explicitly). */
  readonly rejectUnauthorized: boolean
  /**
   * Verify that the certificate names the broker host
   * (ssl.endpoint.identification.algorithm=https, Java's and librdkafka's
   * default); false when it was set to '' / 'none'. Phase-2 logs a warning once.
   */
  readonly verifyHostname: boolean
  /**
   * The one `tls.SecureContext` of a producer (Java builds one SSLContext
   * per channel builder, `SslFactory`): CA, client certificate and key are
   * parsed once, the key and passphrase revealed only into it.
   */
  createSecureContext(): tls.SecureContext
  /**
   * Options for `tls.connect` to one broker over a context from
   * {@link createSecureContext}: SNI, verification and the context, no key
   * material (what every connection of a producer uses).
   */
  socketOptions(host: string, port: number, secureContext: tls.SecureContext): tls.ConnectionOptions
  /** Options for a one-off `tls.connect` to one broker (tools, tests); reveals the secrets into the returned object only. */
  connectOptions(host: string, port: number): tls.ConnectionOptions
}

/** What the connection layer needs to secure and authenticate a broker connection. */
export interface ResolvedSecurity {
  /** `security.protocol`. */
  readonly protocol: SecurityProtocol
  /** Non-null exactly for SSL and SASL_SSL. */
  readonly tls: ResolvedTls | null
  /** Non-null exactly for SASL_PLAINTEXT and SASL_SSL. */
  readonly sasl: SaslMechanismFactory | null
}

export function makeResolvedTls(settings: Omit<ResolvedTls, 'connectOptions' | 'socketOptions' | 'createSecureContext'>): ResolvedTls {
  const s = { ...settings }
  const contextOptions = (): tls.SecureContextOptions => ({
    ...(s.ca !== undefined ? { ca: [...s.ca] } : {}),
    ...(s.cert !== undefined ? { cert: s.cert } : {}),
    ...(s.key !== undefined ? { key: s.key.reveal() } : {}),
    ...(s.passphrase !== undefined ? { passphrase: s.passphrase.revealString() } : {}),
  })
  const verification = (host: string, port: number): tls.ConnectionOptions => {
    const servername = s.servername ?? (isIP(host) === 0 ? host : undefined)
    return {
      host,
      port,
      ...(servername !== undefined ? { servername } : {}),
      rejectUnauthorized: s.rejectUnauthorized,
      // Java's ssl.endpoint.identification.algorithm='' turns hostname checks off but keeps chain checks.
      checkServerIdentity: s.verifyHostname ? tls.checkServerIdentity : () => undefined,
    }
  }
  return Object.freeze({
    ...s,
    // Without `ca`, a context trusts Node's default CA store, as tls.connect without one does.
    createSecureContext: (): tls.SecureContext => tls.createSecureContext(contextOptions()),
    socketOptions: (host: string, port: number, secureContext: tls.SecureContext): tls.ConnectionOptions => ({ ...verification(host, port), secureContext }),
    connectOptions: (host: string, port: number): tls.ConnectionOptions => ({ ...verification(host, port), ...contextOptions() }),
  })
}

export const PLAINTEXT_SECURITY: ResolvedSecurity = Object.freeze({ protocol: 'PLAINTEXT', tls: null, sasl: null })
