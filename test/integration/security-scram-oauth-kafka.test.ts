// The producer over SASL/SCRAM and SASL/OAUTHBEARER against a real secured
// Kafka 4.4 node, through the public API only: 20,000 keyed records per
// setup, read back byte-identical by the Java console consumer over the same
// security settings (kcat's librdkafka 2.0.2 cannot do SCRAM against Kafka
// 4.x and has no OIDC: test/harness/README.md). No secret in any output.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KafkaProducer, type ProducerConfig } from '../../src/index.js'
import { createNetworkClient, type ClientParts } from '../../src/producer/producer-wiring.js'
import type { NetworkClient } from '../../src/clients/network-client.js'
import { consumeWithJavaConsoleConsumer } from '../harness/consume.js'
import { startSecureKafka, type HarnessMechanism, type SecureKafka, type SecureListener } from '../harness/secure-kafka.js'
import { compareReadBack, describeError, OutputCapture, produceKeyed } from '../harness/secure-produce.js'

const N = 20_000
let k: SecureKafka
const capture = new OutputCapture()
const TOPICS = ['scram256-ssl', 'scram512-ssl', 'oauth-provider', 'oauth-oidc', 'scram512-plaintext']

beforeAll(async () => {
  k = await startSecureKafka()
  capture.start()
  await Promise.all(TOPICS.map((t) => k.cluster.createTopic(t, 3, 1)))
}, 180_000)

afterAll(async () => {
  const out = capture.stop()
  await k?.stop()
  for (const s of [k.alice.password, k.bob.password, k.oauthClient.clientSecret, k.certs.client.keyPassword ?? '']) {
    if (s.length > 0) expect(out.includes(s)).toBe(false)
  }
}, 60_000)

async function roundTrip(topic: string, config: ProducerConfig, listener: SecureListener, mechanism: HarnessMechanism): Promise<NetworkClient> {
  let client: NetworkClient | undefined
  const producer = new KafkaProducer({ lingerMs: 5, ...config } as ProducerConfig, { createClient: (p: ClientParts) => (client = createNetworkClient(p)) })
  try {
    const sent = await produceKeyed(producer, topic, N, topic)
    // Read back over the same listener, mechanism and credentials, by the Java client.
    const read = await consumeWithJavaConsoleConsumer(k.listeners[listener], topic, N, {
      config: k.javaClientConfig(listener, mechanism),
      jvmSystemProperties: mechanism === 'OAUTHBEARER' ? k.javaSystemProperties : {},
    })
    expect(compareReadBack(sent, read)).toEqual({ missing: 0, extra: 0, different: 0 })
    expect(client!.inspectConnections(Date.now()).map((c) => c.state)).toContain('ready')
    expect(client!.saslAuthenticateRequests.size).toBeGreaterThan(0)
    return client!
  } catch (err) {
    capture.add(describeError(err))
    throw err
  } finally {
    await producer.close()
  }
}

const tls = () => ({ ssl: { ca: k.certs.caPem } })

describe('SASL/SCRAM and SASL/OAUTHBEARER through the public API (Kafka 4.4), read back by the Java consumer', () => {
  it('SASL_SSL / SCRAM-SHA-256: 20,000 keyed records, byte-identical', async () => {
    const c = await roundTrip(
      'scram256-ssl',
      { bootstrapServers: k.listeners.SASL_SSL, ...tls(), sasl: { mechanism: 'SCRAM-SHA-256', username: k.alice.username, password: k.alice.password } } as ProducerConfig,
      'SASL_SSL',
      'SCRAM-SHA-256',
    )
    // SCRAM: client-first and client-final, two SaslAuthenticate requests per authentication.
    expect([...c.saslAuthenticateRequests.values()].every((n) => n % 2 === 0)).toBe(true)
  }, 90_000)

  it('SASL_SSL / SCRAM-SHA-512: 20,000 keyed records, byte-identical', async () => {
    await roundTrip(
      'scram512-ssl',
      { bootstrapServers: k.listeners.SASL_SSL, ...tls(), sasl: { mechanism: 'SCRAM-SHA-512', username: k.alice.username, password: k.alice.password } } as ProducerConfig,
      'SASL_SSL',
      'SCRAM-SHA-512',
    )
  }, 90_000)

  it('SASL_SSL / OAUTHBEARER with an application token provider: 20,000 keyed records, byte-identical', async () => {
    let calls = 0
    await roundTrip(
      'oauth-provider',
      {
        bootstrapServers: k.listeners.SASL_SSL,
        ...tls(),
        sasl: {
          mechanism: 'OAUTHBEARER',
          tokenProvider: async () => {
            calls++
            return { token: k.oidc.issue(k.oauthClient.clientId), lifetimeMs: Date.now() + 3_600_000 }
          },
        },
      } as ProducerConfig,
      'SASL_SSL',
      'OAUTHBEARER',
    )
    expect(calls).toBeGreaterThan(0)
  }, 90_000)

  it('SASL_SSL / OAUTHBEARER with the built-in OIDC client-credentials flow: 20,000 keyed records, byte-identical', async () => {
    await roundTrip(
      'oauth-oidc',
      {
        bootstrapServers: k.listeners.SASL_SSL,
        ...tls(),
        sasl: {
          mechanism: 'OAUTHBEARER',
          oidc: { tokenEndpointUrl: k.oidc.tokenUrl, clientId: k.oauthClient.clientId, clientSecret: k.oauthClient.clientSecret, scope: 'kafka' },
        },
      } as ProducerConfig,
      'SASL_SSL',
      'OAUTHBEARER',
    )
  }, 90_000)

  it('SASL_PLAINTEXT / SCRAM-SHA-512: 20,000 keyed records, byte-identical', async () => {
    await roundTrip(
      'scram512-plaintext',
      { bootstrapServers: k.listeners.SASL_PLAINTEXT, sasl: { mechanism: 'SCRAM-SHA-512', username: k.alice.username, password: k.alice.password } } as ProducerConfig,
      'SASL_PLAINTEXT',
      'SCRAM-SHA-512',
    )
  }, 90_000)
})
