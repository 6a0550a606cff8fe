import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { describe, expect, expectTypeOf, it, vi } from 'vitest'
import type { Cluster } from '../../src/clients/cluster.js'
import {
  CONFIG_DEFINITIONS,
  type CustomPartitioner,
  type ProducerConfig,
  type ResolvedProducerConfig,
  resolveProducerConfig,
} from '../../src/config.js'
import { KafkaClientError, KafkaConfigError } from '../../src/errors.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const BASE = { bootstrapServers: 'localhost:9092' } as const

/** Resolves, collecting warnings instead of emitting them. */
function resolve(input: Record<string, unknown>): { config: ResolvedProducerConfig; warnings: string[] } {
  const warnings: string[] = []
  const config = resolveProducerConfig(input as unknown as ProducerConfig, { onWarning: (m) => warnings.push(m) })
  return { config, warnings }
}

function resolveWith(extra: Record<string, unknown>): ResolvedProducerConfig {
  return resolve({ ...BASE, ...extra }).config
}

/** The KafkaConfigError thrown by resolving `input`. */
function configError(input: Record<string, unknown>): KafkaConfigError {
  try {
    resolve(input)
  } catch (err) {
    expect(err).toBeInstanceOf(KafkaConfigError)
    expect(err).toBeInstanceOf(KafkaClientError)
    expect((err as KafkaConfigError).code).toBe('CONFIG')
    return err as KafkaConfigError
  }
  throw new Error(`expected a KafkaConfigError for ${JSON.stringify(input)}`)
}

describe('defaults', () => {
  // Java producer 4.4.0 defaults, printed from ProducerConfig.configDef() of
  // kafka-clients 4.4.0 (see the partitioner tests for how the jar was fetched).
  const JAVA_DEFAULTS: Record<string, number | string | boolean> = {
    acks: 'all',
    'linger.ms': 5,
    'batch.size': 16384,
    'buffer.memory': 33554432,
    'max.in.flight.requests.per.connection': 5,
    'request.timeout.ms': 30000,
    'delivery.timeout.ms': 120000,
    'max.block.ms': 60000,
    'max.request.size': 1048576,
    'metadata.max.age.ms': 300000,
    'metadata.max.idle.ms': 300000,
    retries: 2147483647,
    'retry.backoff.ms': 100,
    'retry.backoff.max.ms': 1000,
    'reconnect.backoff.ms': 50,
    'reconnect.backoff.max.ms': 1000,
    'connections.max.idle.ms': 540000,
    'socket.connection.setup.timeout.ms': 10000,
    'socket.connection.setup.timeout.max.ms': 30000,
    'partitioner.ignore.keys': false,
    'partitioner.adaptive.partitioning.enable': true,
    'partitioner.availability.timeout.ms': 0,
    'compression.type': 'none',
    'compression.gzip.level': -1,
    'compression.lz4.level': 9,
    'compression.zstd.level': 3,
    'security.protocol': 'PLAINTEXT',
    'ssl.endpoint.identification.algorithm': 'https',
    'sasl.login.retry.backoff.ms': 100,
    'sasl.login.retry.backoff.max.ms': 10000,
  }

  it('the table holds the Java 4.x defaults', () => {
    for (const [kafkaName, javaDefault] of Object.entries(JAVA_DEFAULTS)) {
      const d = CONFIG_DEFINITIONS.find((x) => x.kafkaName === kafkaName)
      expect(d, kafkaName).toBeDefined()
      expect(d!.default, kafkaName).toBe(javaDefault)
    }
  })

  it('resolves to the defaults, normalized', () => {
    const { config, warnings } = resolve({ ...BASE })
    expect(warnings).toEqual([])
    expect(config).toEqual({
      bootstrapServers: [{ host: 'localhost', port: 9092 }],
      clientId: 'kafka-producer-ts',
      acks: -1,
      lingerMs: 5,
      batchSize: 16384,
      bufferMemory: 33554432,
      maxInFlightRequestsPerConnection: 5,
      requestTimeoutMs: 30000,
      deliveryTimeoutMs: 120000,
      maxBlockMs: 60000,
      maxRequestSize: 1048576,
      metadataMaxAgeMs: 300000,
      metadataMaxIdleMs: 300000,
      retries: 2147483647,
      retryBackoffMs: 100,
      retryBackoffMaxMs: 1000,
      reconnectBackoffMs: 50,
      reconnectBackoffMaxMs: 1000,
      connectionsMaxIdleMs: 540000,
      socketConnectionSetupTimeoutMs: 10000,
      socketConnectionSetupTimeoutMaxMs: 30000,
      receiveMessageMaxBytes: 104857600,
      statisticsIntervalMs: 0,
      partitionerIgnoreKeys: false,
      partitionerAdaptivePartitioningEnable: true,
      partitionerAvailabilityTimeoutMs: 0,
      compressionType: 'none',
      compressionGzipLevel: -1,
      compressionLz4Level: 9,
      compressionZstdLevel: 3,
      partitioner: null,
      logger: null,
      enableIdempotence: true,
      securityProtocol: 'PLAINTEXT',
      ssl: null,
      sslCaLocation: null,
      sslCaPem: null,
      sslCertificateLocation: null,
      sslCertificatePem: null,
      sslKeyLocation: null,
      sslKeyPem: null,
      sslKeyPassword: null,
      sslEndpointIdentificationAlgorithm: 'https',
      sasl: null,
      saslMechanism: null,
      saslUsername: null,
      saslPassword: null,
      saslJaasConfig: null,
      saslOauthbearerMethod: 'default',
      saslOauthbearerClientId: null,
      saslOauthbearerClientSecret: null,
      saslOauthbearerTokenEndpointUrl: null,
      saslOauthbearerScope: null,
      saslOauthbearerExtensions: null,
      saslLoginRetryBackoffMs: 100,
      saslLoginRetryBackoffMaxMs: 10000,
      security: { protocol: 'PLAINTEXT', tls: null, sasl: null },
      transactionalId: null,
      transactionTimeoutMs: 60000,
    } satisfies ResolvedProducerConfig)
  })

  it('has one resolved key per definition, and unique names', () => {
    const config = resolveWith({})
    expect(Object.keys(config).sort()).toEqual([...CONFIG_DEFINITIONS.map((d) => d.name), 'security'].sort())
    const kafkaNames = CONFIG_DEFINITIONS.flatMap((d) => (d.kafkaName === null ? [] : [d.kafkaName]))
    expect(new Set(kafkaNames).size).toBe(kafkaNames.length)
  })

  it('returns a frozen object', () => {
    const config = resolveWith({})
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(config.bootstrapServers)).toBe(true)
  })
})

describe('names and value forms', () => {
  it('accepts every integer option under both names', () => {
    for (const d of CONFIG_DEFINITIONS.filter((x) => x.type === 'int' || x.type === 'long')) {
      // A valid value distinct from the default that no cross-field rule adjusts.
      const value = Math.min((d.min ?? 0) + 123456, d.max ?? Infinity)
      const room = crossFieldRoom(d.name, value)
      const byCamel = resolveWith({ [d.name]: value, ...room })
      const byKafka = resolveWith({ [d.kafkaName!]: value, ...room })
      const byString = resolveWith({ [d.kafkaName!]: ` ${value} `, ...room })
      expect(byCamel[d.name], d.name).toBe(value)
      expect(byKafka[d.name], d.kafkaName!).toBe(value)
      expect(byString[d.name], d.kafkaName!).toBe(value)
    }
  })

  it('accepts the .properties string forms under Kafka names', () => {
    const config = resolveWith({
      'linger.ms': '+7',
      'batch.size': '0',
      'partitioner.ignore.keys': 'TRUE',
      'partitioner.adaptive.partitioning.enable': ' false ',
      acks: ' 1 ',
      retries: '3',
      'client.id': ' my-app ',
      'compression.type': 'none',
    })
    expect(config.lingerMs).toBe(7)
    expect(config.batchSize).toBe(1) // 0 acts as 1, as in KafkaProducer
    expect(config.partitionerIgnoreKeys).toBe(true)
    expect(config.partitionerAdaptivePartitioningEnable).toBe(false)
    expect(config.acks).toBe(1)
    expect(config.retries).toBe(3)
    expect(config.clientId).toBe('my-app')
  })

  it('keeps camelCase options strictly typed', () => {
    const e = configError({ ...BASE, lingerMs: '5' })
    expect(e.key).toBe('lingerMs')
    expect(e.message).toContain('"5" (string)')
    expect(e.message).toContain("'linger.ms'") // points at the name that takes strings

    expect(configError({ ...BASE, partitionerIgnoreKeys: 'true' }).key).toBe('partitionerIgnoreKeys')
    expect(configError({ ...BASE, batchSize: 16384n }).message).toContain('16384n (bigint)')
  })

  it('normalizes acks', () => {
    for (const [input, expected] of [
      ['all', -1],
      [-1, -1],
      ['-1', -1],
      [0, 0],
      ['0', 0],
      [1, 1],
      ['1', 1],
    ] as const) {
      expect(resolveWith({ acks: input }).acks).toBe(expected)
    }
    for (const bad of ['ALL', 'none', 2, '2', -2, true, null]) {
      const e = configError({ ...BASE, acks: bad })
      expect(e.key).toBe('acks')
      expect(e.message).toContain("'all', -1, 0, 1")
    }
  })

  it('counts undefined as unset', () => {
    const config = resolveWith({ lingerMs: undefined, 'linger.ms': undefined, clientId: undefined })
    expect(config.lingerMs).toBe(5)
    expect(config.clientId).toBe('kafka-producer-ts')
    expect(resolve({ bootstrapServers: undefined, 'bootstrap.servers': 'a:1' }).config.bootstrapServers).toEqual([{ host: 'a', port: 1 }])
  })

  it('allows both names of one option with the same value', () => {
    expect(resolveWith({ lingerMs: 7, 'linger.ms': '7' }).lingerMs).toBe(7)
    expect(resolve({ bootstrapServers: ['a:1'], 'bootstrap.servers': 'a:1' }).config.bootstrapServers).toEqual([{ host: 'a', port: 1 }])
  })

  it('rejects both names of one option with different values, naming both', () => {
    const e = configError({ ...BASE, lingerMs: 5, 'linger.ms': '6' })
    expect(e.message).toContain("'linger.ms'")
    expect(e.message).toContain("'lingerMs'")
    expect(e.message).toContain('"6"')
    expect(e.message).toContain('5 (number)')
    const e2 = configError({ bootstrapServers: 'a:1', 'bootstrap.servers': 'b:1' })
    expect(e2.message).toMatch(/bootstrap\.servers.*bootstrapServers|bootstrapServers.*bootstrap\.servers/)
  })
})

/** Extra settings so that setting `name` to `value` breaks no cross-field rule. */
function crossFieldRoom(name: string, value: number): Record<string, number | boolean> {
  switch (name) {
    case 'maxInFlightRequestsPerConnection':
      return { enableIdempotence: false }
    case 'lingerMs':
    case 'requestTimeoutMs':
      return { deliveryTimeoutMs: 2147483647 }
    case 'retryBackoffMs':
      return { retryBackoffMaxMs: value }
    case 'reconnectBackoffMs':
      return { reconnectBackoffMaxMs: value }
    case 'socketConnectionSetupTimeoutMs':
      return { socketConnectionSetupTimeoutMaxMs: value }
    default:
      return {}
  }
}

describe('errors', () => {
  it('names an unknown key and suggests the closest name', () => {
    const e = configError({ ...BASE, lingerMS: 5 })
    expect(e.key).toBe('lingerMS')
    expect(e.message).toContain("'lingerMS'")
    expect(e.message).toContain("did you mean 'lingerMs'?")

    expect(configError({ ...BASE, 'linger.m': 5 }).message).toContain("did you mean 'linger.ms'?")
    expect(configError({ ...BASE, bootstrap_servers: 'x' }).message).toContain("did you mean 'bootstrap.servers'?")
    expect(configError({ ...BASE, batchsize: 1 }).message).toContain("did you mean 'batch.size'?")
    expect(configError({ ...BASE, retires: 1 }).message).toContain("did you mean 'retries'?")

    const far = configError({ ...BASE, somethingElse: 1 })
    expect(far.key).toBe('somethingElse')
    expect(far.message).not.toContain('did you mean')
  })

  it('says when a key is a Java setting this client does not support', () => {
    expect(configError({ ...BASE, 'transaction.two.phase.commit.enable': true }).message).toContain('not supported by this client')
    expect(configError({ ...BASE, 'ssl.truststore.location': '/x' }).message).toContain('not supported by this client')
    expect(configError({ ...BASE, 'partitioner.class': 'x.Y' }).message).toContain("'partitioner' option")
  })

  it("applies Java's transactional rules: an id needs idempotence, is never empty, and the timeout defaults to 60 s", () => {
    const plain = resolveProducerConfig(BASE)
    expect(plain.transactionalId).toBeNull()
    expect(plain.transactionTimeoutMs).toBe(60000)
    const r = resolveProducerConfig({ ...BASE, 'transactional.id': ' tx-1 ', 'transaction.timeout.ms': '15000' })
    expect(r.transactionalId).toBe('tx-1')
    expect(r.transactionTimeoutMs).toBe(15000)
    expect(r.enableIdempotence).toBe(true)
    expect(resolveProducerConfig({ ...BASE, transactionalId: null }).transactionalId).toBeNull()
    const explicit = configError({ ...BASE, transactionalId: 'tx', enableIdempotence: false })
    expect(explicit.key).toBe('transactionalId')
    expect(explicit.message).toContain('enableIdempotence: false')
    // acks=1 turns an implicit idempotence off, which a transactional id then cannot live with (Java: ConfigException).
    const implicit = configError({ ...BASE, 'transactional.id': 'tx', acks: 1 })
    expect(implicit.key).toBe('transactional.id')
    expect(implicit.message).toContain('without idempotence')
    expect(configError({ ...BASE, transactionalId: '' }).message).toContain('must not be empty')
    expect(configError({ ...BASE, transactionalId: 5 }).message).toContain('non-empty string or null')
  })

  it('names the key, the expected range and the value for out-of-range integers', () => {
    const e = configError({ ...BASE, 'batch.size': '-1' })
    expect(e.key).toBe('batch.size')
    expect(e.message).toContain('[0, 2147483647]')
    expect(e.message).toContain('"-1"')

    const e2 = configError({ ...BASE, maxInFlightRequestsPerConnection: 0 })
    expect(e2.message).toContain('[1, 2147483647]')
    expect(e2.message).toContain('0 (number)')

    expect(configError({ ...BASE, metadataMaxIdleMs: 4999 }).message).toContain('[5000, 9007199254740991]')
    expect(configError({ ...BASE, requestTimeoutMs: 2147483648 }).message).toContain('2147483648')
    expect(configError({ ...BASE, bufferMemory: 2 ** 53 }).key).toBe('bufferMemory')
    expect(resolveWith({ bufferMemory: 2 ** 40 }).bufferMemory).toBe(2 ** 40)
  })

  it('names the key, the expected type and the value for wrong types', () => {
    for (const [key, value, shown] of [
      ['lingerMs', 1.5, '1.5 (number)'],
      ['lingerMs', Number.NaN, 'NaN (number)'],
      ['lingerMs', Infinity, 'Infinity (number)'],
      ['linger.ms', '1.5', '"1.5" (string)'],
      ['linger.ms', '0x10', '"0x10" (string)'],
      ['linger.ms', '', '"" (string)'],
      ['batchSize', null, 'null'],
      ['clientId', 42, '42 (number)'],
      ['partitioner.ignore.keys', 'yes', '"yes" (string)'],
      ['partitionerIgnoreKeys', 1, '1 (number)'],
      ['partitioner', 'murmur2', '"murmur2" (string)'],
      ['bootstrapServers', 9092, '9092 (number)'],
    ] as const) {
      const e = configError({ ...BASE, [key]: value })
      expect(e.key, key).toBe(key)
      expect(e.message, key).toContain(shown)
      expect(e.message, key).toMatch(/expected/)
    }
  })

  it('validates every codec name and accepts each one whose package is installed', () => {
    for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
      expect(resolveWith({ 'compression.type': ` ${codec} ` }).compressionType).toBe(codec)
      expect(resolveWith({ compressionType: codec }).compressionType).toBe(codec)
    }
    for (const bad of ['brotli', 'GZIP', '', 'lz4 ']) {
      const key = bad === 'lz4 ' ? 'compressionType' : 'compression.type' // camelCase values are not trimmed
      const e = configError({ ...BASE, [key]: bad })
      expect(e.message, bad).toContain('expected one of none, gzip, snappy, lz4, zstd')
    }
    expect(configError({ ...BASE, compressionType: 1 }).message).toContain('1 (number)')
  })

  it('takes the KIP-390 compression levels in Java\'s ranges, whatever the codec', () => {
    const config = resolveWith({ 'compression.gzip.level': '9', compressionLz4Level: 17, 'compression.zstd.level': ' -131072 ' })
    expect([config.compressionGzipLevel, config.compressionLz4Level, config.compressionZstdLevel]).toEqual([9, 17, -131072])
    expect(resolveWith({ compressionGzipLevel: -1, compressionZstdLevel: 22, compressionLz4Level: 1 }).compressionGzipLevel).toBe(-1)
    expect(resolveWith({ compressionGzipLevel: 1 }).compressionGzipLevel).toBe(1)
    for (const [key, value, range] of [
      ['compression.gzip.level', 0, '[1, 9] or -1'],
      ['compressionGzipLevel', 10, '[1, 9] or -1'],
      ['compressionGzipLevel', -2, '[1, 9] or -1'],
      ['compression.lz4.level', 0, '[1, 17]'],
      ['compressionLz4Level', 18, '[1, 17]'],
      ['compression.zstd.level', -131073, '[-131072, 22]'],
      ['compressionZstdLevel', 23, '[-131072, 22]'],
      ['compressionZstdLevel', 2.5, '[-131072, 22]'],
    ] as const) {
      const e = configError({ ...BASE, [key]: value })
      expect(e.key, `${key}=${value}`).toBe(key)
      expect(e.message, `${key}=${value}`).toContain(range)
    }
  })

  it('rejects a non-object input', () => {
    expect(() => resolveProducerConfig(null as unknown as ProducerConfig)).toThrow(KafkaConfigError)
    expect(() => resolveProducerConfig('a:1' as unknown as ProducerConfig)).toThrow(/expected an object/)
  })
})

describe('cross-field rules', () => {
  it('throws when an explicit delivery.timeout.ms is below linger.ms + request.timeout.ms, naming all three', () => {
    const e = configError({ ...BASE, deliveryTimeoutMs: 30004 })
    expect(e.key).toBe('deliveryTimeoutMs')
    expect(e.message).toContain('linger.ms')
    expect(e.message).toContain('request.timeout.ms')
    expect(e.message).toContain('5 + 30000 = 30005')
    expect(e.message).toContain('30004')

    const e2 = configError({ ...BASE, 'delivery.timeout.ms': '10000', lingerMs: 1000, 'request.timeout.ms': 20000 })
    expect(e2.key).toBe('delivery.timeout.ms')
    expect(e2.message).toContain('lingerMs')
    expect(e2.message).toContain('request.timeout.ms')

    expect(resolveWith({ deliveryTimeoutMs: 30005 }).deliveryTimeoutMs).toBe(30005)
  })

  it('raises an unset delivery.timeout.ms to linger.ms + request.timeout.ms, with a warning (as Java)', () => {
    const { config, warnings } = resolve({ ...BASE, requestTimeoutMs: 200000, lingerMs: 100 })
    expect(config.deliveryTimeoutMs).toBe(200100)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('200100')
  })

  it('computes the delivery rule with linger.ms capped at 2^31-1, as Java does', () => {
    const { config } = resolve({ ...BASE, lingerMs: 2 ** 40 })
    expect(config.lingerMs).toBe(2147483647)
    expect(config.deliveryTimeoutMs).toBe(2147483647)
  })

  it('throws when retry.backoff.ms > retry.backoff.max.ms are both given', () => {
    const e = configError({ ...BASE, retryBackoffMs: 2000, 'retry.backoff.max.ms': 1000 })
    expect(e.key).toBe('retry.backoff.max.ms')
    expect(e.message).toContain('retryBackoffMs (2000)')
    expect(resolveWith({ retryBackoffMs: 1000, retryBackoffMaxMs: 1000 }).retryBackoffMs).toBe(1000)
  })

  it('caps retry.backoff.ms at the default max with a warning when only it is given (Java: constant backoff)', () => {
    const { config, warnings } = resolve({ ...BASE, retryBackoffMs: 5000 })
    expect(config.retryBackoffMs).toBe(1000)
    expect(config.retryBackoffMaxMs).toBe(1000)
    expect(warnings[0]).toContain('constant 1000 ms')
    // Only the max given, below the default initial value: same.
    expect(resolve({ ...BASE, retryBackoffMaxMs: 50 }).config.retryBackoffMs).toBe(50)
  })

  it('reconnect.backoff.ms given alone becomes the max too (Java disables the exponential growth)', () => {
    const { config, warnings } = resolve({ ...BASE, 'reconnect.backoff.ms': '200' })
    expect(config.reconnectBackoffMs).toBe(200)
    expect(config.reconnectBackoffMaxMs).toBe(200)
    expect(warnings[0]).toContain('Disabling exponential reconnect backoff')
    expect(resolve({ ...BASE, reconnectBackoffMs: 10 }).config.reconnectBackoffMaxMs).toBe(10)
  })

  it('throws when reconnect.backoff.ms > reconnect.backoff.max.ms are both given', () => {
    const e = configError({ ...BASE, reconnectBackoffMs: 2000, reconnectBackoffMaxMs: 1000 })
    expect(e.key).toBe('reconnectBackoffMaxMs')
    expect(e.message).toContain('reconnectBackoffMs (2000)')
  })

  it('silently caps reconnect.backoff.ms when only a smaller max is given (Java ExponentialBackoff)', () => {
    const { config, warnings } = resolve({ ...BASE, reconnectBackoffMaxMs: 20 })
    expect(config.reconnectBackoffMs).toBe(20)
    expect(config.reconnectBackoffMaxMs).toBe(20)
    expect(warnings).toEqual([])
  })

  it('treats the connection setup timeouts like the retry backoffs', () => {
    expect(configError({ ...BASE, socketConnectionSetupTimeoutMs: 40000, socketConnectionSetupTimeoutMaxMs: 30000 }).key).toBe(
      'socketConnectionSetupTimeoutMaxMs',
    )
    const { config, warnings } = resolve({ ...BASE, socketConnectionSetupTimeoutMs: 40000 })
    expect(config.socketConnectionSetupTimeoutMs).toBe(30000)
    expect(warnings).toHaveLength(1)
  })

  it('turns adaptive partitioning off with a custom partitioner (as KafkaProducer does)', () => {
    const partitioner: CustomPartitioner = () => 0
    const config = resolveWith({ partitioner })
    expect(config.partitioner).toBe(partitioner)
    expect(config.partitionerAdaptivePartitioningEnable).toBe(false)
    expect(resolveWith({ partitioner: null }).partitioner).toBeNull()
  })

  it('accepts -1 for connections.max.idle.ms (never close), nothing lower', () => {
    expect(resolveWith({ 'connections.max.idle.ms': '-1' }).connectionsMaxIdleMs).toBe(-1)
    expect(configError({ ...BASE, connectionsMaxIdleMs: -2 }).message).toContain('[-1, ')
  })

  it('uses process.emitWarning when no callback is given', () => {
    const spy = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    try {
      resolveProducerConfig({ ...BASE, requestTimeoutMs: 200000 })
      expect(spy).toHaveBeenCalledTimes(1)
      expect(spy.mock.calls[0]![0]).toContain('delivery.timeout.ms')
      expect(spy.mock.calls[0]![1]).toEqual({ type: 'KafkaConfigWarning' })
    } finally {
      spy.mockRestore()
    }
  })
})

describe('bootstrap servers', () => {
  const parse = (value: unknown) => resolve({ bootstrapServers: value }).config.bootstrapServers

  it('parses lists and comma-separated strings', () => {
    expect(parse(['a:1', 'b.example.com:9092'])).toEqual([
      { host: 'a', port: 1 },
      { host: 'b.example.com', port: 9092 },
    ])
    expect(parse(' a:1 , b:2,c:3 ')).toEqual([
      { host: 'a', port: 1 },
      { host: 'b', port: 2 },
      { host: 'c', port: 3 },
    ])
    expect(resolve({ 'bootstrap.servers': '10.0.0.1:9092' }).config.bootstrapServers).toEqual([{ host: '10.0.0.1', port: 9092 }])
  })

  it('parses bracketed IPv6 addresses, with a zone id too', () => {
    expect(parse('[::1]:9092,[2001:db8::10]:9093')).toEqual([
      { host: '::1', port: 9092 },
      { host: '2001:db8::10', port: 9093 },
    ])
    expect(parse(['[fe80::1%eth0]:9092'])).toEqual([{ host: 'fe80::1%eth0', port: 9092 }])
    expect(parse(['[::ffff:192.0.2.1]:9092'])).toEqual([{ host: '::ffff:192.0.2.1', port: 9092 }])
  })

  it('ignores a scheme prefix, as the Java client does', () => {
    expect(parse('PLAINTEXT://broker:9092')).toEqual([{ host: 'broker', port: 9092 }])
    expect(parse('SASL_SSL://[::1]:9093')).toEqual([{ host: '::1', port: 9093 }])
  })

  it('drops duplicates, keeping the first, as the Java client does', () => {
    expect(parse('a:1,b:1,a:1,A:1')).toEqual([
      { host: 'a', port: 1 },
      { host: 'b', port: 1 },
    ])
  })

  it('is required', () => {
    const e = configError({})
    expect(e.key).toBe('bootstrap.servers')
    expect(e.message).toContain('required')
    expect(configError({ bootstrapServers: undefined, lingerMs: 1 }).message).toContain('required')
  })

  it.each([
    ['', 'at least one'],
    ['  ', 'at least one'],
    [[], 'at least one'],
    ['broker', 'expected host:port'],
    ['broker:', 'expected host:port'],
    [':9092', 'host name'],
    ['broker:http', 'expected host:port'],
    ['broker:0', 'port must be in [1, 65535]'],
    ['broker:65536', 'port must be in [1, 65535]'],
    ['::1:9092', '[::1]:9092'],
    ['[broker]:9092', 'IPv6'],
    ['[::1]', 'expected host:port'],
    ['a:1,,b:2', 'empty entry'],
    ['a:1,', 'empty entry'],
    ['bro ker:1', 'host name'],
    ['brøker:1', 'host name'],
    [['a:1', 7], '7 (number)'],
    [{ host: 'a', port: 1 }, 'an object'],
  ])('rejects %j with a clear message', (value, fragment) => {
    const e = configError({ bootstrapServers: value })
    expect(e.key).toBe('bootstrapServers')
    expect(e.message).toContain(fragment)
  })
})

describe('types', () => {
  it('requires bootstrap servers under one of the two names', () => {
    expectTypeOf<{ bootstrapServers: string }>().toMatchTypeOf<ProducerConfig>()
    expectTypeOf<{ 'bootstrap.servers': string[] }>().toMatchTypeOf<ProducerConfig>()
    expectTypeOf<{ lingerMs: number }>().not.toMatchTypeOf<ProducerConfig>()
    expectTypeOf<{ bootstrapServers: string; lingerMs: string }>().not.toMatchTypeOf<ProducerConfig>()
    expectTypeOf<{ bootstrapServers: string; 'linger.ms': string }>().toMatchTypeOf<ProducerConfig>()
    expectTypeOf<ResolvedProducerConfig['acks']>().toEqualTypeOf<-1 | 0 | 1>()
    expectTypeOf<ResolvedProducerConfig['partitioner']>().toEqualTypeOf<
      ((topic: string, key: Buffer | null, value: Buffer | null, cluster: Cluster) => number) | null
    >()
  })

  it('flags typos in object literals at compile time', () => {
    // @ts-expect-error lingerMS is not an option
    const typo: ProducerConfig = { bootstrapServers: 'a:1', lingerMS: 5 }
    expect(typo).toBeDefined()
  })
})

describe('generated documentation', () => {
  // The CLI is run through tsx; its rendering functions are plain ESM.
  const loadScript = async () => import(pathToFileURL(path.join(ROOT, 'scripts', 'gen-config-table.mjs')).href)

  it('src/config.ts interfaces region is up to date with CONFIG_DEFINITIONS', async () => {
    const gen = await loadScript()
    const source = fs.readFileSync(path.join(ROOT, 'src', 'config.ts'), 'utf8')
    const region = gen.extractBetween(source, gen.SOURCE_START, gen.SOURCE_END)
    expect(region, 'markers missing').toBeDefined()
    // On failure: npx tsx scripts/gen-config-table.mjs --write-source
    expect(gen.firstDifference(region, gen.renderSourceBlock(CONFIG_DEFINITIONS))).toBeUndefined()
  })

  it('renders one options-table row per option', async () => {
    const gen = await loadScript()
    const table: string = gen.renderMarkdownTable(CONFIG_DEFINITIONS)
    const lines = table.split('\n')
    expect(lines[0]).toBe('| Option | Kafka name | Default | Meaning |')
    expect(lines).toHaveLength(CONFIG_DEFINITIONS.length + 2)
    expect(table).toContain('| `lingerMs` | `linger.ms` | `5` |')
    expect(table).toContain('| `bootstrapServers` | `bootstrap.servers` | *required* |')
    expect(table).toContain('| `partitioner` | — |')
  })

  it('checks a docs block between the markers', async () => {
    const gen = await loadScript()
    const table: string = gen.renderMarkdownTable(CONFIG_DEFINITIONS)
    const readme = `# x\n\n${gen.TABLE_START}\n${table}\n${gen.TABLE_END}\n`
    expect(gen.firstDifference(gen.extractBetween(readme, gen.TABLE_START, gen.TABLE_END), table)).toBeUndefined()
    const stale = readme.replace('`5`', '`0`')
    expect(gen.firstDifference(gen.extractBetween(stale, gen.TABLE_START, gen.TABLE_END), table)).toMatch(/line \d+/)
    expect(gen.replaceBetween(stale, gen.TABLE_START, gen.TABLE_END, table)).toBe(readme)
  })
})

describe('idempotence (ProducerConfig.postProcessAndValidateIdempotenceConfigs)', () => {
  it('is on by default, with acks=all', () => {
    const c = resolveWith({})
    expect(c.enableIdempotence).toBe(true)
    expect(c.acks).toBe(-1)
  })

  it('turns off, with a warning, when acks or retries conflict and it was not asked for', () => {
    const warnings: string[] = []
    const c = resolveProducerConfig({ ...BASE, acks: 1 }, { onWarning: (w) => warnings.push(w) })
    expect(c.enableIdempotence).toBe(false)
    expect(warnings.join()).toMatch(/Idempotence will be disabled because acks is 1/)
    expect(resolveProducerConfig({ ...BASE, retries: 0 }, { onWarning: () => {} }).enableIdempotence).toBe(false)
  })

  it('is a configuration error with acks other than all when asked for explicitly', () => {
    const e = configError({ ...BASE, enableIdempotence: true, acks: 1 })
    expect(e.key).toBe('enableIdempotence')
    expect(e.message).toMatch(/needs acks=all/)
    expect(configError({ ...BASE, 'enable.idempotence': 'true', 'acks': '0' }).key).toBe('enable.idempotence')
    expect(configError({ ...BASE, enableIdempotence: true, retries: 0 }).message).toMatch(/retries is 0/)
  })

  it('allows at most 5 requests in flight', () => {
    expect(configError({ ...BASE, maxInFlightRequestsPerConnection: 6 }).key).toBe('maxInFlightRequestsPerConnection')
    expect(resolveWith({ maxInFlightRequestsPerConnection: 6, enableIdempotence: false }).maxInFlightRequestsPerConnection).toBe(6)
  })
})
