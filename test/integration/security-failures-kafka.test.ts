// Every way a secured connection fails, against a real Kafka 4.4 node: each
// returns its typed error within the stated time (authentication: seconds,
// not delivery.timeout.ms; TLS: within socket.connection.setup.timeout.ms),
// reconnects only at the reconnect backoff (connection attempts counted: no
// unbounded loop), and never shows the secret in any output.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  KafkaAuthenticationError,
  KafkaFatalProducerError,
  KafkaInvalidRecordError,
  KafkaBrokerError,
  KafkaProducer,
  KafkaTimeoutError,
  KafkaTlsError,
  resolveProducerConfig,
  type ProducerConfig,
} from '../../src/index.js'
import { transportFactoryFor } from '../../src/producer/producer-wiring.js'
import type { TransportFactory } from '../../src/network/transport.js'
import { startSecureKafka, type SecureKafka } from '../harness/secure-kafka.js'
import { describeError, OutputCapture } from '../harness/secure-produce.js'

let k: SecureKafka
const capture = new OutputCapture()
const WRONG_PASSWORD = 'wrong-password-4f1c9a'

function secrets(): string[] {
  return [k.alice.password, k.bob.password, k.oauthClient.clientSecret, k.certs.client.keyPassword ?? '', WRONG_PASSWORD]
}

beforeAll(async () => {
  k = await startSecureKafka()
  capture.start()
  await Promise.all(['fail-t', 'acl-none', 'acl-describe'].map((t) => k.cluster.createTopic(t, 1, 1)))
}, 180_000)

afterAll(async () => {
  const out = capture.stop()
  await k?.stop()
  for (const s of secrets()) expect(out.includes(s)).toBe(false)
}, 60_000)

interface Outcome {
  error: Error
  elapsedMs: number
  /** Connection attempts from the first send until 3 s after the error. */
  attempts: number
  laterError: Error
  laterElapsedMs: number
}

/**
 * Sends one record with `config` and waits for its failure; then sends
 * another (a later send fails promptly too), keeps the producer alive 3 s
 * more to count reconnect attempts, and scans every error for secrets.
 */
async function failure(config: Record<string, unknown>): Promise<Outcome> {
  const full = { maxBlockMs: 60_000, deliveryTimeoutMs: 120_000, ...config } as ProducerConfig
  const inner = transportFactoryFor(resolveProducerConfig(full, { onWarning: () => {} }))
  let attempts = 0
  const transportFactory: TransportFactory = {
    securityProtocol: inner.securityProtocol,
    connect: (host, port) => {
      attempts++
      return inner.connect(host, port)
    },
    authenticator: (ctx) => inner.authenticator!(ctx),
  }
  const producer = new KafkaProducer(full, { transportFactory })
  try {
    const t0 = Date.now()
    const error = await producer.send({ topic: 'fail-t', key: 'k', value: 'v' }).then(
      () => new Error('the send succeeded'),
      (e: Error) => e,
    )
    const elapsedMs = Date.now() - t0
    const t1 = Date.now()
    const laterError = await producer.send({ topic: 'fail-t', key: 'k', value: 'later' }).then(
      () => new Error('the later send succeeded'),
      (e: Error) => e,
    )
    const laterElapsedMs = Date.now() - t1
    await new Promise((r) => setTimeout(r, 3000))
    const outcome = { error, elapsedMs, attempts, laterError, laterElapsedMs }
    capture.add(describeError(error))
    capture.add(describeError(laterError))
    console.log(`[failure] ${error.constructor.name} (${(error as { code?: string }).code}, ${(error as KafkaTlsError).reason ?? '-'}) after ${elapsedMs} ms, later send ${laterElapsedMs} ms, ${attempts} connection attempts: ${error.message}`)
    return outcome
  } finally {
    await producer.close({ timeoutMs: 0 })
  }
}

/** Authentication failures: typed, prompt (seconds), bounded attempts (reconnect backoff ≤ 1 s: ~10 in 5 s). */
function expectAuthFailure(o: Outcome): void {
  expect(o.error).toBeInstanceOf(KafkaAuthenticationError)
  expect(o.laterError).toBeInstanceOf(KafkaAuthenticationError)
  expect(o.elapsedMs).toBeLessThan(5000)
  expect(o.laterElapsedMs).toBeLessThan(2000)
  expect(o.attempts).toBeLessThanOrEqual(15)
  for (const s of secrets()) expect(describeError(o.error).includes(s)).toBe(false)
}

const sslCa = () => ({ ssl: { ca: k.certs.caPem } })

describe('failures of secured connections are typed, prompt, bounded and secret-free (Kafka 4.4)', () => {
  it('wrong password (SCRAM-SHA-512): KafkaAuthenticationError with the broker message', async () => {
    const o = await failure({ bootstrapServers: k.listeners.SASL_SSL, ...sslCa(), sasl: { mechanism: 'SCRAM-SHA-512', username: k.alice.username, password: WRONG_PASSWORD } })
    expectAuthFailure(o)
    expect((o.error as KafkaAuthenticationError).brokerMessage).toMatch(/invalid credentials/i)
  }, 30_000)

  it('unknown user (PLAIN): KafkaAuthenticationError with the broker message', async () => {
    const o = await failure({ bootstrapServers: k.listeners.SASL_SSL, ...sslCa(), sasl: { mechanism: 'PLAIN', username: 'nobody', password: WRONG_PASSWORD } })
    expectAuthFailure(o)
    expect((o.error as KafkaAuthenticationError).brokerMessage).toMatch(/Invalid username or password/i)
  }, 30_000)

  it('a mechanism the listener does not enable: KafkaAuthenticationError listing the enabled ones', async () => {
    const o = await failure({
      bootstrapServers: k.listeners.SASL_PLAINTEXT,
      sasl: { mechanism: 'OAUTHBEARER', tokenProvider: async () => ({ token: k.oidc.issue(k.oauthClient.clientId), lifetimeMs: Date.now() + 60_000 }) },
    })
    expectAuthFailure(o)
    expect(o.error.message).toMatch(/does not enable SASL mechanism OAUTHBEARER; it enables: .*SCRAM-SHA-512/)
  }, 30_000)

  it('a token the broker rejects (wrong audience): KafkaAuthenticationError', async () => {
    const bad = k.oidc.issue(k.oauthClient.clientId, { claims: { aud: 'another-cluster' } })
    const o = await failure({
      bootstrapServers: k.listeners.SASL_SSL,
      ...sslCa(),
      sasl: { mechanism: 'OAUTHBEARER', tokenProvider: async () => ({ token: bad, lifetimeMs: Date.now() + 60_000 }) },
    })
    expectAuthFailure(o)
  }, 30_000)

  /** TLS failures: KafkaTlsError naming the cause, within socket.connection.setup.timeout.ms (10 s default). */
  function expectTlsFailure(o: Outcome, reason: RegExp): void {
    expect(o.error).toBeInstanceOf(KafkaTlsError)
    expect((o.error as KafkaTlsError).reason).toMatch(reason)
    expect(o.elapsedMs).toBeLessThan(10_000)
    expect(o.laterElapsedMs).toBeLessThan(2000)
    expect(o.attempts).toBeLessThanOrEqual(15)
  }

  it('unknown CA (the system roots do not trust the test CA)', async () => {
    expectTlsFailure(await failure({ bootstrapServers: k.listeners.SSL, ssl: true }), /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT/)
  }, 30_000)

  it('hostname mismatch (a CA-signed certificate for wrong-host.invalid)', async () => {
    expectTlsFailure(await failure({ bootstrapServers: k.listeners.SSL_WRONG_HOST, ...sslCa() }), /ERR_TLS_CERT_ALTNAME_INVALID/)
  }, 30_000)

  it('expired broker certificate', async () => {
    expectTlsFailure(await failure({ bootstrapServers: k.listeners.SSL_EXPIRED, ...sslCa() }), /CERT_HAS_EXPIRED/)
  }, 30_000)

  it('a plaintext client on a TLS listener', async () => {
    expectTlsFailure(await failure({ bootstrapServers: k.listeners.SSL }), /PLAINTEXT_ON_TLS_LISTENER/)
  }, 30_000)

  it('a TLS client on a plaintext listener: the broker hangs up without a TLS alert, which is retried (as Java) and named in the timeout', async () => {
    // Java's SslTransportLayer: EOF during the handshake is an IOException, a plain disconnect retried
    // after the reconnect backoff; a restarting broker looks the same, so it is not a final TLS error.
    const o = await failure({ bootstrapServers: k.listeners.PLAINTEXT, ...sslCa(), maxBlockMs: 3000 })
    expect(o.error).toBeInstanceOf(KafkaTimeoutError)
    expect(o.error.message).toMatch(/no broker reachable: .* closed during the TLS handshake \(\d+ attempts\)/)
    expect(o.elapsedMs).toBeGreaterThanOrEqual(2900)
    expect(o.laterError).toBeInstanceOf(KafkaTimeoutError)
    // Reconnects at the reconnect backoff (50 ms doubling to 1 s) over ~9 s: bounded, no storm.
    expect(o.attempts).toBeGreaterThan(2)
    expect(o.attempts).toBeLessThanOrEqual(20)
  }, 30_000)

  it('TOPIC_AUTHORIZATION_FAILED and CLUSTER_AUTHORIZATION_FAILED with ACLs: typed, as on a plaintext listener', async () => {
    const bob = { bootstrapServers: k.listeners.SASL_SSL, ...sslCa(), sasl: { mechanism: 'SCRAM-SHA-256', username: k.bob.username, password: k.bob.password } }
    // No ACL at all: the topic's metadata answers TOPIC_AUTHORIZATION_FAILED.
    const p1 = new KafkaProducer(bob as ProducerConfig)
    try {
      const e = await p1.send({ topic: 'acl-none', value: 'x' }).catch((err: Error) => err)
      capture.add(describeError(e))
      expect(e).toBeInstanceOf(KafkaInvalidRecordError)
      expect((e as Error).message).toMatch(/TOPIC_AUTHORIZATION_FAILED/)
    } finally {
      await p1.close({ timeoutMs: 0 })
    }
    // Describe only: metadata works; an idempotent producer's InitProducerId needs IdempotentWrite
    // (or Write on some topic), so it fails CLUSTER_AUTHORIZATION_FAILED, fatal; without idempotence,
    // Produce fails TOPIC_AUTHORIZATION_FAILED.
    await k.addAcl({ principal: 'User:bob', operation: 'Describe', topic: 'acl-describe' })
    const p2 = new KafkaProducer(bob as ProducerConfig)
    try {
      const e = await p2.send({ topic: 'acl-describe', value: 'x' }).catch((err: Error) => err)
      capture.add(describeError(e))
      expect(e).toBeInstanceOf(KafkaFatalProducerError)
      expect((e as Error).message).toMatch(/CLUSTER_AUTHORIZATION_FAILED/)
    } finally {
      await p2.close({ timeoutMs: 0 })
    }
    const p3 = new KafkaProducer({ ...bob, enableIdempotence: false, acks: 1 } as ProducerConfig)
    try {
      const e = await p3.send({ topic: 'acl-describe', value: 'x' }).catch((err: Error) => err)
      capture.add(describeError(e))
      expect(e).toBeInstanceOf(KafkaBrokerError)
      expect((e as KafkaBrokerError).errorName).toBe('TOPIC_AUTHORIZATION_FAILED')
    } finally {
      await p3.close({ timeoutMs: 0 })
    }
  }, 60_000)
})
