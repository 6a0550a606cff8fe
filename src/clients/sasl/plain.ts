import { KafkaAuthenticationError } from '../../errors.js'
import { Secret } from '../../util/secret.js'
import type { SaslMechanism, SaslMechanismFactory } from './mechanism.js'

/**
 * SASL PLAIN (RFC 4616) client, as Java's `PlainSaslClient` (the JDK's) with
 * `PlainLoginModule`: one message, `authzid NUL authcid NUL passwd` in UTF-8,
 * with an empty authzid; the broker answers with empty auth bytes or fails
 * SaslAuthenticate with SASL_AUTHENTICATION_FAILED.
 *
 * Invariant: the password stays inside a {@link Secret} until the message
 * is built.
 */
export class PlainMechanism implements SaslMechanism {
  readonly name = 'PLAIN'
  private done = false
  private started = false

  constructor(
    private readonly username: string,
    private readonly password: Secret,
  ) {}

  get complete(): boolean {
    return this.done
  }

  async start(): Promise<Buffer> {
    this.started = true
    return plainMessage(this.username, this.password)
  }

  async evaluate(challenge: Buffer): Promise<Buffer | null> {
    if (!this.started) throw new KafkaAuthenticationError('PLAIN: evaluate() called before start()')
    // RFC 4616 has no server data; Kafka answers success with empty auth bytes.
    if (challenge.length > 0) throw new KafkaAuthenticationError('PLAIN: unexpected data from the server after the credentials were sent')
    this.done = true
    return null
  }
}

/** `\0username\0password` (RFC 4616 §2: message = [authzid] UTF8NUL authcid UTF8NUL passwd). */
export function plainMessage(username: string, password: Secret, authzid = ''): Buffer {
  const pw = password.revealString()
  // NUL separates the fields, so none may contain it (RFC 4616 §2: 1*SAFE).
  if (username.includes('\0') || pw.includes('\0') || authzid.includes('\0')) {
    throw new KafkaAuthenticationError('PLAIN: the user name, password and authorization id must not contain NUL characters')
  }
  return Buffer.from(`${authzid}\0${username}\0${pw}`, 'utf8')
}

export function plainFactory(username: string, password: string | Secret): SaslMechanismFactory {
  const secret = Secret.of(password)
  return Object.freeze({
    mechanism: 'PLAIN',
    create: () => new PlainMechanism(username, secret),
    toString: () => `PLAIN(${username})`,
  })
}
