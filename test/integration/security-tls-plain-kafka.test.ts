// The producer over TLS and SASL/PLAIN against a real secured Kafka 4.4 node,
// through the public API only: 20,000 keyed records per setup, read back
// byte-identical with kcat (librdkafka) over the same security settings; the
// connection states on the way; the Java and librdkafka ways of writing the
// config; the hostname-verification warning. No secret in any output.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KafkaProducer, type ProducerConfig } from '../../src/index.js'
import { createNetworkClient, type ClientParts } from '../../src/producer/producer-wiring.js'
import type { NetworkClient } from '../../src/clients/network-client.js'
import { consumeWithKcat } from '../harness/consume.js'
import { startSecureKafka, type SecureKafka } from '../harness/secure-kafka.js'
import { compareReadBack, describeError, OutputCapture, produceKeyed } from '../harness/secure-produce.js'

const N = 20_000
let k: SecureKafka
const capture = new OutputCapture()

function secrets(): string[] {
  return [k.alice.password, k.bob.password, k.oauthClient.clientSecret, k.certs.client.keyPassword ?? '']
}

beforeAll(async () => {
  k = await startSecureKafka()
  capture.start()
  await Promise.all(['tls-mtls', 'tls-plain', 'tls-java', 'tls-rdkafka'].map((t) => k.cluster.createTopic(t, 3, 1)))
}, 180_000)

afterAll(async () => {
  const out = capture.stop()
  await k?.stop()
  // Checked after the run, over everything the process printed meanwhile.
  for (const s of secrets()) if (s.length > 0) expect(out.includes(s)).toBe(false)
}, 60_000)

/** A producer whose network client the test can inspect (the internal seam). */
function producerWithClient(config: ProducerConfig): { producer: KafkaProducer; client: () => NetworkClient } {
  let client: NetworkClient | undefined
  const producer = new KafkaProducer(config, { createClient: (p: ClientParts) => (client = createNetworkClient(p)) })
  return { producer, client: () => client! }
}

async function roundTrip(topic: string, config: ProducerConfig, kcat: Record<string, string>): Promise<NetworkClient> {
  const { producer, client } = producerWithClient({ lingerMs: 5, ...config } as ProducerConfig)
  try {
    const sent = await produceKeyed(producer, topic, N, topic)
    const read = await consumeWithKcat(k.listeners.PLAINTEXT, topic, { partitions: 3 })
    expect(compareReadBack(sent, read)).toEqual({ missing: 0, extra: 0, different: 0 })
    // Read back over the secured listener too, with the same settings as librdkafka writes them.
    const readSecure = await consumeWithKcat(k.listeners[kcat.__listener as 'SSL'], topic, { partitions: 3, config: withoutMarker(kcat) })
    expect(compareReadBack(sent, readSecure)).toEqual({ missing: 0, extra: 0, different: 0 })
    const connections = client().inspectConnections(Date.now())
    capture.add(JSON.stringify(connections.map((c) => ({ nodeId: c.nodeId, state: c.state }))))
    expect(connections.map((c) => c.state)).toContain('ready')
    return client()
  } catch (err) {
    capture.add(describeError(err))
    throw err
  } finally {
    await producer.close()
  }
}

const withoutMarker = (c: Record<string, string>) => Object.fromEntries(Object.entries(c).filter(([key]) => key !== '__listener'))

describe('TLS and SASL/PLAIN through the public API (Kafka 4.4)', () => {
  it('SSL with a client certificate (mTLS, encrypted key): 20,000 keyed records read back byte-identical by kcat', async () => {
    await roundTrip(
      'tls-mtls',
      {
        bootstrapServers: k.listeners.SSL,
        ssl: { ca: k.certs.caPem, cert: k.certs.client.certPem, key: k.certs.client.keyPem, passphrase: k.certs.client.keyPassword },
      } as ProducerConfig,
      { ...k.kcatConfig('SSL'), __listener: 'SSL' },
    )
  }, 90_000)

  it('SASL_SSL / PLAIN (typed config): 20,000 keyed records read back byte-identical by kcat', async () => {
    const client = await roundTrip(
      'tls-plain',
      { bootstrapServers: k.listeners.SASL_SSL, ssl: { ca: k.certs.caPem }, sasl: { mechanism: 'PLAIN', username: k.alice.username, password: k.alice.password } } as ProducerConfig,
      { ...k.kcatConfig('SASL_SSL', 'PLAIN'), __listener: 'SASL_SSL' },
    )
    // One SaslAuthenticate per PLAIN authentication, on every connection that authenticated.
    expect([...client.saslAuthenticateRequests.values()].every((n) => n >= 1)).toBe(true)
  }, 90_000)

  it('a config written the Java way (security.protocol, sasl.mechanism, sasl.jaas.config) connects', async () => {
    const jaas = `org.apache.kafka.common.security.plain.PlainLoginModule required username="${k.alice.username}" password="${k.alice.password}";`
    const producer = new KafkaProducer({
      'bootstrap.servers': k.listeners.SASL_SSL,
      'security.protocol': 'SASL_SSL',
      'sasl.mechanism': 'PLAIN',
      'sasl.jaas.config': jaas,
      'ssl.ca.location': k.certs.caFile,
    } as ProducerConfig)
    try {
      const md = await producer.send({ topic: 'tls-java', key: 'k', value: 'java-way' })
      expect(md.offset).toBeGreaterThanOrEqual(0n)
    } finally {
      await producer.close()
    }
  }, 60_000)

  it('a config written the librdkafka way (kcat properties as they are) connects, for SSL and SASL_SSL/PLAIN', async () => {
    for (const [listener, mech] of [['SSL', undefined], ['SASL_SSL', 'PLAIN']] as const) {
      const producer = new KafkaProducer({ 'bootstrap.servers': k.listeners[listener], ...k.kcatConfig(listener, mech) } as ProducerConfig)
      try {
        const md = await producer.send({ topic: 'tls-rdkafka', key: 'k', value: `rdkafka-${listener}` })
        expect(md.offset).toBeGreaterThanOrEqual(0n)
      } finally {
        await producer.close()
      }
    }
  }, 60_000)

  it('hostname verification off: connects to a certificate for another host, and warns once', async () => {
    const warnings: string[] = []
    const logger = { warn: (_f: unknown, m: string) => void warnings.push(m), error: (_f: unknown, m: string) => void warnings.push(m) }
    const producer = new KafkaProducer({
      bootstrapServers: k.listeners.SSL_WRONG_HOST,
      ssl: { ca: k.certs.caPem },
      'ssl.endpoint.identification.algorithm': '',
      logger,
    } as ProducerConfig)
    try {
      const md = await producer.send({ topic: 'tls-rdkafka', value: 'no-hostname-check' })
      expect(md.offset).toBeGreaterThanOrEqual(0n)
    } finally {
      await producer.close()
    }
    expect(warnings.filter((w) => /hostname verification is off/.test(w))).toHaveLength(1)
  }, 60_000)
})
