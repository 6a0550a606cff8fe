// The SDK's SASL mechanisms and resolved TLS settings against a real secured
// Kafka 4.4 node, before the connection state machine uses them: the test
// speaks SaslHandshake v1 and SaslAuthenticate v2 itself (hand-encoded here,
// independently of src/protocol), driving each mechanism as the state machine
// will (start, then evaluate until null).
import net from 'node:net'
import tls from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveProducerConfig, type ProducerConfig } from '../../src/config.js'
import { KafkaAuthenticationError } from '../../src/errors.js'
import type { SaslMechanismFactory } from '../../src/clients/sasl/mechanism.js'
import { startSecureKafka, type SecureKafka, type SecureListener } from '../harness/secure-kafka.js'

/** A minimal request/response channel over one socket (one request at a time). */
class Wire {
  private buf = Buffer.alloc(0)
  private waiting: ((frame: Buffer) => void) | null = null
  private corr = 0
  constructor(private readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d])
      this.pump()
    })
  }
  private pump(): void {
    if (this.waiting === null || this.buf.length < 4) return
    const size = this.buf.readInt32BE(0)
    if (this.buf.length < 4 + size) return
    const frame = this.buf.subarray(4, 4 + size)
    this.buf = this.buf.subarray(4 + size)
    const w = this.waiting
    this.waiting = null
    w(frame)
  }
  request(apiKey: number, version: number, flexible: boolean, body: Buffer): Promise<Buffer> {
    const clientId = Buffer.from('sasl-probe')
    const header = Buffer.alloc(10)
    header.writeInt16BE(apiKey, 0)
    header.writeInt16BE(version, 2)
    header.writeInt32BE(++this.corr, 4)
    header.writeInt16BE(clientId.length, 8)
    const msg = Buffer.concat([header, clientId, flexible ? Buffer.from([0]) : Buffer.alloc(0), body])
    const size = Buffer.alloc(4)
    size.writeInt32BE(msg.length)
    return new Promise((resolve, reject) => {
      this.waiting = (frame) => resolve(frame.subarray(flexible ? 5 : 4)) // correlation id (+ empty tagged fields)
      this.socket.once('close', () => reject(new Error('connection closed by the broker')))
      this.socket.write(Buffer.concat([size, msg]))
      this.pump()
    })
  }
}

function uvarint(n: number): Buffer {
  const out: number[] = []
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80)
    n >>>= 7
  }
  out.push(n)
  return Buffer.from(out)
}
function readUvarint(b: Buffer, pos: number): [number, number] {
  let n = 0
  let shift = 0
  for (;;) {
    const byte = b[pos++]!
    n |= (byte & 0x7f) << shift
    if ((byte & 0x80) === 0) return [n, pos]
    shift += 7
  }
}

/** Handshake + authenticate rounds, as phase 2's state machine will run them. Returns session_lifetime_ms. */
async function authenticate(socket: net.Socket, factory: SaslMechanismFactory): Promise<bigint> {
  const wire = new Wire(socket)
  const mechanism = factory.create({ host: '127.0.0.1', port: 0, nodeId: -1 })
  const name = Buffer.from(mechanism.name)
  const hs = await wire.request(17, 1, false, Buffer.concat([Buffer.from([0, name.length]), name]))
  const hsError = hs.readInt16BE(0)
  if (hsError !== 0) throw new Error(`SaslHandshake error ${hsError}`)
  let out: Buffer | null = await mechanism.start()
  let lifetime = 0n
  while (out !== null) {
    const resp = await wire.request(36, 2, true, Buffer.concat([uvarint(out.length + 1), out, Buffer.from([0])]))
    const error = resp.readInt16BE(0)
    let [len, pos] = readUvarint(resp, 2)
    const message = len === 0 ? null : resp.toString('utf8', pos, pos + len - 1)
    pos += Math.max(len - 1, 0)
    ;[len, pos] = readUvarint(resp, pos)
    const authBytes = resp.subarray(pos, pos + len - 1)
    pos += len - 1
    lifetime = resp.readBigInt64BE(pos)
    if (error !== 0) throw new KafkaAuthenticationError(`SaslAuthenticate error ${error}: ${message}`, { brokerMessage: message ?? undefined })
    out = await mechanism.evaluate(authBytes)
  }
  expect(mechanism.complete).toBe(true)
  // Authenticated: an ApiVersions v0 request is answered.
  const av = await wire.request(18, 0, false, Buffer.alloc(0))
  expect(av.readInt16BE(0)).toBe(0)
  return lifetime
}

describe('SDK SASL mechanisms and TLS settings against secured Kafka 4.4', () => {
  let k: SecureKafka
  beforeAll(async () => {
    k = await startSecureKafka({ reauthMs: 4000 })
  }, 180_000)
  afterAll(async () => {
    await k?.stop()
  }, 60_000)

  const resolved = (listener: SecureListener, extra: Record<string, unknown>) =>
    resolveProducerConfig({ bootstrapServers: k.listeners[listener], ...extra } as ProducerConfig, { onWarning: () => {} }).security

  async function connect(listener: SecureListener, security: ReturnType<typeof resolved>): Promise<net.Socket> {
    const [host, port] = k.listeners[listener].split(':') as [string, string]
    const socket = security.tls !== null ? tls.connect(security.tls.connectOptions(host, Number(port))) : net.connect({ host, port: Number(port) })
    await new Promise<void>((resolve, reject) => {
      socket.once(security.tls !== null ? 'secureConnect' : 'connect', () => resolve())
      socket.once('error', reject)
    })
    return socket
  }

  async function run(listener: SecureListener, extra: Record<string, unknown>): Promise<bigint> {
    const security = resolved(listener, extra)
    const socket = await connect(listener, security)
    try {
      return await authenticate(socket, security.sasl!)
    } finally {
      socket.destroy()
    }
  }

  const tlsProps = () => ({ 'ssl.ca.location': k.certs.caFile })

  it.each(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const)('%s over SASL_SSL and SASL_PLAINTEXT (Kafka names)', async (mechanism) => {
    const creds = { 'sasl.mechanism': mechanism, 'sasl.username': k.alice.username, 'sasl.password': k.alice.password }
    expect(await run('SASL_SSL', { 'security.protocol': 'SASL_SSL', ...tlsProps(), ...creds })).toBe(0n)
    expect(await run('SASL_PLAINTEXT', { 'security.protocol': 'SASL_PLAINTEXT', ...creds })).toBe(0n)
  }, 60_000)

  it('SCRAM via sasl.jaas.config, and a wrong password is a KafkaAuthenticationError with the broker message', async () => {
    const jaas = `org.apache.kafka.common.security.scram.ScramLoginModule required username="${k.bob.username}" password="${k.bob.password}";`
    expect(await run('SASL_SSL', { 'security.protocol': 'SASL_SSL', ...tlsProps(), 'sasl.mechanism': 'SCRAM-SHA-512', 'sasl.jaas.config': jaas })).toBe(0n)
    const wrong = run('SASL_SSL', { ssl: { ca: k.certs.caPem }, sasl: { mechanism: 'SCRAM-SHA-256', username: 'alice', password: 'not-it' } })
    await expect(wrong).rejects.toThrow(KafkaAuthenticationError)
    await expect(wrong).rejects.toThrow(/invalid credentials/)
  }, 60_000)

  it('OAUTHBEARER with the built-in OIDC provider (typed and librdkafka names)', async () => {
    const oidc = { tokenEndpointUrl: k.oidc.tokenUrl, clientId: k.oauthClient.clientId, clientSecret: k.oauthClient.clientSecret, scope: 'kafka' }
    // Even without connections.max.reauth.ms the broker ends an OAUTHBEARER session when its
    // token expires (SaslServerAuthenticator): session_lifetime_ms is the token's remaining life.
    const lifetime = await run('SASL_SSL', { ssl: { ca: k.certs.caPem }, sasl: { mechanism: 'OAUTHBEARER', oidc } })
    expect(lifetime).toBeGreaterThan(3_500_000n)
    expect(lifetime).toBeLessThanOrEqual(3_600_000n)
    expect(
      await run('SASL_SSL', {
        'security.protocol': 'SASL_SSL',
        ...tlsProps(),
        'sasl.mechanism': 'OAUTHBEARER',
        'sasl.oauthbearer.method': 'oidc',
        'sasl.oauthbearer.client.id': k.oauthClient.clientId,
        'sasl.oauthbearer.client.secret': k.oauthClient.clientSecret,
        'sasl.oauthbearer.token.endpoint.url': k.oidc.tokenUrl,
      }),
    ).toBeGreaterThan(0n)
    // A token the broker cannot verify (wrong audience): the mechanism acks the error JSON, the broker fails the exchange.
    const bad = k.oidc.issue('kafka-client', { claims: { aud: 'another-cluster' } })
    const rejected = run('SASL_SSL', { ssl: { ca: k.certs.caPem }, sasl: { mechanism: 'OAUTHBEARER', tokenProvider: async () => ({ token: bad, lifetimeMs: Date.now() + 60_000 }) } })
    await expect(rejected).rejects.toThrow(KafkaAuthenticationError)
  }, 60_000)

  it('REAUTH listener reports session_lifetime_ms (KIP-368)', async () => {
    const lifetime = await run('REAUTH', { ssl: { ca: k.certs.caPem }, sasl: { mechanism: 'SCRAM-SHA-256', username: k.alice.username, password: k.alice.password } })
    expect(lifetime).toBeGreaterThan(0n)
    expect(lifetime).toBeLessThanOrEqual(4000n)
  }, 60_000)

  it('mTLS with the encrypted client key from ssl.key.location / ssl.key.password; expired and wrong-host certificates fail', async () => {
    const sec = resolved('SSL', {
      'security.protocol': 'SSL',
      ...tlsProps(),
      'ssl.certificate.location': k.certs.client.certFile,
      'ssl.key.location': k.certs.client.keyFile,
      'ssl.key.password': k.certs.client.keyPassword,
    })
    const socket = await connect('SSL', sec)
    try {
      const wire = new Wire(socket)
      expect((await wire.request(18, 0, false, Buffer.alloc(0))).readInt16BE(0)).toBe(0)
    } finally {
      socket.destroy()
    }
    await expect(connect('SSL_EXPIRED', resolved('SSL_EXPIRED', { ssl: { ca: k.certs.caPem } }))).rejects.toMatchObject({ code: 'CERT_HAS_EXPIRED' })
    await expect(connect('SSL_WRONG_HOST', resolved('SSL_WRONG_HOST', { ssl: { ca: k.certs.caPem } }))).rejects.toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' })
    // ssl.endpoint.identification.algorithm='' keeps the chain check but skips the name check.
    const s2 = await connect('SSL_WRONG_HOST', resolved('SSL_WRONG_HOST', { ssl: { ca: k.certs.caPem }, 'ssl.endpoint.identification.algorithm': '' }))
    s2.destroy()
  }, 60_000)
})
