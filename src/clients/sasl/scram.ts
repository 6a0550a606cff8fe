import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto'
import { KafkaAuthenticationError } from '../../errors.js'
import { Secret } from '../../util/secret.js'
import type { SaslMechanism, SaslMechanismFactory } from './mechanism.js'

export type ScramMechanismName = 'SCRAM-SHA-256' | 'SCRAM-SHA-512'

/**
 * Hash, key length and iteration bounds. The minimum is Java's
 * `ScramMechanism.minIterations()` (4096, RFC 7677 §4), which Java's
 * `ScramSaslClient` enforces. Java's client checks no maximum: its
 * `maxIterations()` (16384) bounds only what AlterUserScramCredentials
 * accepts, and credentials stored through ZooKeeper before (and migrated to
 * KRaft) may carry more, so a Kafka broker can legitimately ask for more.
 * The cap here is only a sanity bound against a hostile server choosing the
 * count: 1,000,000 iterations of PBKDF2-SHA-512 take on the order of a second of one
 * libuv thread-pool thread (pbkdf2 runs there, not on the event loop), while
 * an unbounded count could occupy that pool for ever.
 */
const MECHANISMS: Record<ScramMechanismName, { hash: 'sha256' | 'sha512'; keyLength: number; minIterations: number; maxIterations: number }> = {
  'SCRAM-SHA-256': { hash: 'sha256', keyLength: 32, minIterations: 4096, maxIterations: 1_000_000 },
  'SCRAM-SHA-512': { hash: 'sha512', keyLength: 64, minIterations: 4096, maxIterations: 1_000_000 },
}

export function isScramMechanism(name: string): name is ScramMechanismName {
  return name === 'SCRAM-SHA-256' || name === 'SCRAM-SHA-512'
}

/** RFC 5802 §5.1 saslname: '=' → '=3D', ',' → '=2C' (Java `ScramFormatter.saslName`). */
export function saslName(username: string): string {
  return username.replace(/=/g, '=3D').replace(/,/g, '=2C')
}

// Java ScramMessages.ServerFirstMessage: optional reserved m= (mandatory
// extension, which no client can honour), nonce, base64 salt, iterations,
// then extensions we ignore.
const SERVER_FIRST = /^(m=[^,]*,)?r=([\x21-\x2b\x2d-\x7e]+),s=([A-Za-z0-9+/]+={0,2}),i=([0-9]+)(,.*)?$/s
// Java ScramMessages.ServerFinalMessage: e=<error> or v=<base64 signature>, then extensions.
const SERVER_FINAL = /^(?:e=([^,]*)|v=([A-Za-z0-9+/]+={0,2}))(,.*)?$/s

/** The client's keys for one (password, salt, iterations): RFC 5802 §3. */
export interface ScramKeys {
  saltedPassword: Buffer
  clientKey: Buffer
  storedKey: Buffer
  serverKey: Buffer
}

/**
 * SaltedPassword = PBKDF2-HMAC-H(password, salt, i) (RFC 5802 Hi()), run on
 * libuv's thread pool so thousands of HMAC rounds never block the event loop.
 */
export function scramKeys(mechanism: ScramMechanismName, password: Secret, salt: Buffer, iterations: number): Promise<ScramKeys> {
  const { hash, keyLength } = MECHANISMS[mechanism]
  return new Promise((resolve, reject) => {
    pbkdf2(Buffer.from(password.revealString(), 'utf8'), salt, iterations, keyLength, hash, (err, saltedPassword) => {
      if (err) return reject(new KafkaAuthenticationError(`${mechanism}: key derivation failed`, { cause: err }))
      const clientKey = createHmac(hash, saltedPassword).update('Client Key').digest()
      resolve({
        saltedPassword,
        clientKey,
        storedKey: createHash(hash).update(clientKey).digest(),
        serverKey: createHmac(hash, saltedPassword).update('Server Key').digest(),
      })
    })
  })
}

type State = 'initial' | 'awaiting-server-first' | 'awaiting-server-final' | 'complete' | 'failed'

/**
 * SCRAM-SHA-256 / SCRAM-SHA-512 client (RFC 5802, RFC 7677) as Java's
 * `ScramSaslClient`: client-first `n,,n=<saslname>,r=<nonce>`; server-first
 * must extend our nonce and ask for 4096 to 1,000,000 iterations (see
 * MECHANISMS); client-final `c=biws,r=<nonce>,p=<proof>`; server-final
 * `v=<ServerSignature>` is checked
 * in constant time, so a broker that does not know the password cannot pass
 * for one that does; `e=<error>` is surfaced as the failure.
 *
 * Invariants: the state only moves forward (initial → awaiting-server-first
 * → awaiting-server-final → complete, or → failed from anywhere, after which
 * every call rejects); the password is revealed only to PBKDF2.
 */
export class ScramMechanism implements SaslMechanism {
  private state: State = 'initial'
  private clientFirstBare = ''
  private serverSignature: Buffer | null = null

  constructor(
    readonly name: ScramMechanismName,
    private readonly username: string,
    private readonly password: Secret,
    /** Fixed client nonce, for tests with published vectors only. */
    private readonly clientNonce: string = randomBytes(24).toString('base64url'),
  ) {
    if (!/^[\x21-\x2b\x2d-\x7e]+$/.test(clientNonce)) throw new Error('SCRAM client nonce must be printable ASCII without commas')
  }

  get complete(): boolean {
    return this.state === 'complete'
  }

  async start(): Promise<Buffer> {
    if (this.state !== 'initial') throw this.fail('start() called twice')
    // gs2-header "n,," : no channel binding, no authzid (Java sends the same).
    this.clientFirstBare = `n=${saslName(this.username)},r=${this.clientNonce}`
    this.state = 'awaiting-server-first'
    return Buffer.from(`n,,${this.clientFirstBare}`, 'utf8')
  }

  async evaluate(challenge: Buffer): Promise<Buffer | null> {
    switch (this.state) {
      case 'awaiting-server-first':
        return this.clientFinal(challenge.toString('utf8'))
      case 'awaiting-server-final':
        this.verifyServerFinal(challenge.toString('utf8'))
        return null
      case 'initial':
        throw this.fail('evaluate() called before start()')
      case 'complete':
        throw this.fail('unexpected server message after the exchange completed')
      case 'failed':
        throw new KafkaAuthenticationError(`${this.name}: the exchange already failed`)
    }
  }

  private async clientFinal(serverFirst: string): Promise<Buffer> {
    const m = SERVER_FIRST.exec(serverFirst)
    if (m === null) {
      const err = /^e=([^,]*)/.exec(serverFirst)
      throw this.fail(err ? `server error: ${err[1]}` : 'invalid server-first message')
    }
    const [, mandatoryExtension, nonce, saltText, iterationsText] = m as unknown as [string, string | undefined, string, string, string]
    if (mandatoryExtension !== undefined) throw this.fail('the server requires an unsupported SCRAM extension (m=)')
    // RFC 5802 §5.1: the server nonce starts with the client's, and must add to it.
    if (!nonce.startsWith(this.clientNonce) || nonce.length === this.clientNonce.length) {
      throw this.fail('invalid server nonce: it does not extend the client nonce')
    }
    const iterations = Number(iterationsText)
    const { minIterations, maxIterations } = MECHANISMS[this.name]
    if (!Number.isSafeInteger(iterations) || iterations < minIterations) {
      throw this.fail(`requested iterations ${iterationsText} is less than the minimum ${minIterations} for ${this.name}`)
    }
    if (iterations > maxIterations) {
      throw this.fail(`requested iterations ${iterationsText} is more than the maximum ${maxIterations} for ${this.name} this client accepts from a server`)
    }
    const salt = Buffer.from(saltText, 'base64')
    if (salt.length === 0) throw this.fail('empty salt')

    let keys: ScramKeys
    try {
      keys = await scramKeys(this.name, this.password, salt, iterations)
    } catch (e) {
      this.state = 'failed'
      throw e
    }
    // c=biws is base64("n,,"): the gs2 header again (RFC 5802 §7, channel-binding).
    const withoutProof = `c=biws,r=${nonce}`
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`
    const { hash } = MECHANISMS[this.name]
    const clientSignature = createHmac(hash, keys.storedKey).update(authMessage).digest()
    const proof = Buffer.alloc(clientSignature.length)
    for (let i = 0; i < proof.length; i++) proof[i] = keys.clientKey[i]! ^ clientSignature[i]!
    this.serverSignature = createHmac(hash, keys.serverKey).update(authMessage).digest()
    this.state = 'awaiting-server-final'
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`, 'utf8')
  }

  private verifyServerFinal(serverFinal: string): void {
    const m = SERVER_FINAL.exec(serverFinal)
    if (m === null) throw this.fail('invalid server-final message')
    if (m[1] !== undefined) throw this.fail(`server error: ${m[1]}`)
    const received = Buffer.from(m[2]!, 'base64')
    const expected = this.serverSignature!
    if (received.length !== expected.length || !timingSafeEqual(received, expected)) {
      throw this.fail('invalid server signature in server-final message: the server does not know the credentials')
    }
    this.serverSignature = null
    this.state = 'complete'
  }

  private fail(reason: string): KafkaAuthenticationError {
    this.state = 'failed'
    this.serverSignature = null
    return new KafkaAuthenticationError(`${this.name} authentication failed: ${reason}`)
  }
}

export function scramFactory(mechanism: ScramMechanismName, username: string, password: string | Secret): SaslMechanismFactory {
  const secret = Secret.of(password)
  return Object.freeze({
    mechanism,
    create: () => new ScramMechanism(mechanism, username, secret),
    toString: () => `${mechanism}(${username})`,
  })
}
