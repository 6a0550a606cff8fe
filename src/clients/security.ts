import { isIP } from 'node:net'
import tls from 'node:tls'
import type { Secret } from '../util/secret.js'
import type { SaslMechanismFactory } from './sasl/mechanism.js'

/** `security.protocol`: whether connections use TLS, SASL, both or neither (Java's `SecurityProtocol`). */
export type SecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL'

/**
 * TLS settings after validation (files read, PEM checked, the key decrypted
 * once to prove the passphrase). Secrets stay wrapped until
 * {@link ResolvedTls.connectOptions} builds the options of one `tls.connect`.
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
  /** Options for `tls.connect` to one broker; reveals the secrets into the returned object only. */
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

export function makeResolvedTls(settings: Omit<ResolvedTls, 'connectOptions'>): ResolvedTls {
  const s = { ...settings }
  return Object.freeze({
    ...s,
    connectOptions(host: string, port: number): tls.ConnectionOptions {
      const servername = s.servername ?? (isIP(host) === 0 ? host : undefined)
      return {
        host,
        port,
        ...(servername !== undefined ? { servername } : {}),
        ...(s.ca !== undefined ? { ca: [...s.ca] } : {}),
        ...(s.cert !== undefined ? { cert: s.cert } : {}),
        ...(s.key !== undefined ? { key: s.key.reveal() } : {}),
        ...(s.passphrase !== undefined ? { passphrase: s.passphrase.revealString() } : {}),
        rejectUnauthorized: s.rejectUnauthorized,
        // Java's ssl.endpoint.identification.algorithm='' turns hostname checks off but keeps chain checks.
        checkServerIdentity: s.verifyHostname ? tls.checkServerIdentity : () => undefined,
      }
    },
  })
}

export const PLAINTEXT_SECURITY: ResolvedSecurity = Object.freeze({ protocol: 'PLAINTEXT', tls: null, sasl: null })
