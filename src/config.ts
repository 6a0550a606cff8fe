import { createPrivateKey } from 'node:crypto'
import fs from 'node:fs'
import type { Cluster } from './clients/cluster.js'
import { isSaslMechanismFactory, type SaslMechanismFactory } from './clients/sasl/mechanism.js'
import { JaasParseError, OAUTHBEARER_LOGIN_MODULE, PLAIN_LOGIN_MODULE, SCRAM_LOGIN_MODULE, parseJaasConfig } from './clients/sasl/jaas.js'
import { oauthBearerFactory, validateSaslExtensions, type OAuthBearerTokenProvider } from './clients/sasl/oauthbearer.js'
import { OidcClientCredentialsProvider } from './clients/sasl/oidc.js'
import { plainFactory } from './clients/sasl/plain.js'
import { scramFactory } from './clients/sasl/scram.js'
import { PLAINTEXT_SECURITY, makeResolvedTls, type ResolvedSecurity, type ResolvedTls, type SecurityProtocol } from './clients/security.js'
import { KafkaAuthenticationError, KafkaConfigError } from './errors.js'
import { COMPRESSION_CODECS, COMPRESSION_LEVELS, type CompressionCodec, ensureCodecAvailable } from './protocol/compression/index.js'
import { isLogger, type Logger } from './util/logger.js'
import { Secret } from './util/secret.js'

export type { ResolvedSecurity, ResolvedTls, SecurityProtocol } from './clients/security.js'
export type { SaslMechanism, SaslMechanismFactory, SaslContext } from './clients/sasl/mechanism.js'
export type { OAuthBearerToken, OAuthBearerTokenProvider } from './clients/sasl/oauthbearer.js'

// ---------------------------------------------------------------------------
// Producer configuration: one definition table (CONFIG_DEFINITIONS) drives
// validation, defaults, the JSDoc of the input/resolved interfaces below (a
// generated region) and the table in docs/configuration.md. Regenerate both with
//   npx tsx scripts/gen-config-table.mjs --write-source
//   npx tsx scripts/gen-config-table.mjs --write docs/configuration.md
// Semantics follow the Java producer 4.x (ProducerConfig, KafkaProducer's
// delivery-timeout rule, CommonClientConfigs' backoff post-processing).
// ---------------------------------------------------------------------------

/**
 * A custom partitioner: called for every record sent without an explicit
 * partition, keyed or not, instead of the built-in key hash / sticky logic.
 * Must return a partition number in [0, partition count of `topic`).
 */
export type CustomPartitioner = (topic: string, key: Buffer | null, value: Buffer | null, cluster: Cluster) => number

/** `acks` as accepted on input; 'all' and -1 are the same setting. */
export type Acks = 'all' | -1 | 0 | 1 | '-1' | '0' | '1'

/** One parsed bootstrap address. IPv6 hosts are kept without brackets. */
export interface BrokerAddress {
  /** Host name or IP address. */
  readonly host: string
  /** TCP port. */
  readonly port: number
}

/**
 * TLS settings in typed form (the `ssl` option), as Node's `tls.connect`
 * takes them: PEM text or Buffers. `key` and `passphrase` may be given as a
 * {@link Secret}; plain values are wrapped in one during resolution.
 */
export interface SslOptions {
  /** Trusted CA certificate(s), PEM; default: Node's bundled CA store. */
  readonly ca?: string | Buffer | readonly (string | Buffer)[]
  /** Client certificate chain (PEM), for brokers that require client authentication. */
  readonly cert?: string | Buffer
  /** Client private key (PEM), possibly encrypted. */
  readonly key?: string | Buffer | Secret
  /** Passphrase of an encrypted `key`. */
  readonly passphrase?: string | Secret
  /** TLS server name (SNI) and the name the certificate must carry; default: the broker host. */
  readonly servername?: string
  /** Verify the broker's certificate chain (default true). */
  readonly rejectUnauthorized?: boolean
}

/**
 * SASL/PLAIN or SCRAM with a user name and password.
 *
 * @example
 * ```ts
 * const producer = new KafkaProducer({
 *   bootstrapServers: 'broker:9093',
 *   securityProtocol: 'SASL_SSL',
 *   sasl: { mechanism: 'SCRAM-SHA-512', username: 'app', password: process.env.KAFKA_PASSWORD! },
 * })
 * ```
 */
export interface SaslPasswordOptions {
  /** The SASL mechanism. */
  readonly mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'
  /** The user name. */
  readonly username: string
  /** The password; kept in a {@link Secret}, so it is never printed. */
  readonly password: string | Secret
}

/** OAuth 2 client-credentials grant against an OIDC token endpoint (librdkafka's sasl.oauthbearer.method=oidc). */
export interface SaslOidcOptions {
  /** The token endpoint (librdkafka's sasl.oauthbearer.token.endpoint.url). */
  readonly tokenEndpointUrl: string
  /** The OAuth client id. */
  readonly clientId: string
  /** The OAuth client secret; kept in a {@link Secret}, so it is never printed. */
  readonly clientSecret: string | Secret
  /** The scope to ask for, if the endpoint needs one. */
  readonly scope?: string
  /** SASL extensions sent with the token (RFC 7628 §3.1). */
  readonly extensions?: Readonly<Record<string, string>>
}

/**
 * SASL/OAUTHBEARER with either a token provider of the application's or the built-in OIDC client.
 *
 * @example
 * ```ts
 * const sasl: SaslOAuthBearerOptions = {
 *   mechanism: 'OAUTHBEARER',
 *   oidc: { tokenEndpointUrl: 'https://idp.example.com/oauth2/token', clientId: 'producer', clientSecret: process.env.CLIENT_SECRET! },
 * }
 * ```
 */
export type SaslOAuthBearerOptions =
  | {
      /** The SASL mechanism. */
      readonly mechanism: 'OAUTHBEARER'
      /** Called for a token at each (re-)authentication; it should cache. */
      readonly tokenProvider: OAuthBearerTokenProvider
      /** SASL extensions sent with the token (RFC 7628 §3.1). */
      readonly extensions?: Readonly<Record<string, string>>
    }
  | {
      /** The SASL mechanism. */
      readonly mechanism: 'OAUTHBEARER'
      /** The built-in OIDC client-credentials client, which caches tokens and refreshes them at 80 % of their lifetime. */
      readonly oidc: SaslOidcOptions
    }

/** The `sasl` option: a built-in mechanism, or a custom one as a {@link SaslMechanismFactory}. */
export type SaslOptions = SaslPasswordOptions | SaslOAuthBearerOptions | SaslMechanismFactory

/** The value kinds the definition table knows how to parse. */
export type ConfigValueType =
  | 'int' // Java INT: integer in [min ?? 0, max ?? 2^31-1]
  | 'long' // Java LONG: integer in [min ?? 0, max ?? Number.MAX_SAFE_INTEGER]
  | 'boolean'
  | 'string'
  | 'nullableString' // a non-empty string, or null (unset)
  | 'acks'
  | 'bootstrap' // list of host:port
  | 'compression'
  | 'function' // camelCase-only, no .properties form
  | 'optional-string' // string, null when unset
  | 'password' // string or Secret, kept as a Secret (never printed), null when unset
  | 'enum' // one of `allowed`
  | 'ssl' // camelCase-only: boolean | SslOptions
  | 'sasl' // camelCase-only: SaslOptions
  | 'logger' // camelCase-only: Logger (pino, console, ...)

/** One producer option. */
export interface ConfigDefinition {
  /** The camelCase option name. */
  readonly name: keyof ResolvedProducerConfig
  /** The Java/Kafka property name, or null when the option has none (functions). */
  readonly kafkaName: string | null
  /** Other accepted property names (librdkafka's spelling), with the Kafka name's string forms. */
  readonly aliases?: readonly string[]
  /** How values are parsed and checked. */
  readonly type: ConfigValueType
  /** Default value as a user would write it; `undefined` means required. */
  readonly default: string | number | boolean | null | undefined
  /** Shown after the default in docs, e.g. '16 KiB'. */
  readonly defaultNote?: string
  /** Inclusive lower bound for 'int' / 'long'; 0 when absent. */
  readonly min?: number
  /** Inclusive upper bound for 'int' / 'long'; the type's bound when absent. */
  readonly max?: number
  /** Integers accepted besides [min, max] (compression.gzip.level's -1). */
  readonly alsoAllowed?: readonly number[]
  /** Accepted values, for enumerated types (docs and error messages). */
  readonly allowed?: readonly string[]
  /** One-line meaning. */
  readonly doc: string
  /** What this client does differently from the Java default/semantics, if anything. */
  readonly javaNote?: string
}

const INT_MAX = 2147483647
const LONG_MAX = Number.MAX_SAFE_INTEGER

function frozenTable(definitions: ConfigDefinition[]): readonly ConfigDefinition[] {
  for (const d of definitions) {
    if (d.allowed !== undefined) Object.freeze(d.allowed)
    if (d.alsoAllowed !== undefined) Object.freeze(d.alsoAllowed)
    if (d.aliases !== undefined) Object.freeze(d.aliases)
    Object.freeze(d)
  }
  return Object.freeze(definitions)
}

/** The definition table, in documentation order. */
export const CONFIG_DEFINITIONS: readonly ConfigDefinition[] = frozenTable(
  [
    {
      name: 'bootstrapServers',
      kafkaName: 'bootstrap.servers',
      type: 'bootstrap',
      default: undefined,
      doc: 'Brokers to fetch the initial metadata from: host:port entries (IPv6 as [addr]:port), as a list or one comma-separated string.',
    },
    {
      name: 'clientId',
      kafkaName: 'client.id',
      type: 'string',
      default: 'kafka-producer-ts',
      doc: 'Name sent with every request, for broker logs, metrics and quotas.',
      javaNote: "Java's default is 'producer-<n>'.",
    },
    {
      name: 'acks',
      kafkaName: 'acks',
      type: 'acks',
      default: 'all',
      allowed: ['all', '-1', '0', '1'],
      doc: 'Acknowledgements a produce request waits for: 0 none, 1 the leader, all (= -1) every in-sync replica.',
    },
    {
      name: 'lingerMs',
      kafkaName: 'linger.ms',
      type: 'long',
      default: 5,
      doc: 'How long a batch may wait for more records before it is sent although not full (values above 2^31-1 act as 2^31-1).',
    },
    {
      name: 'batchSize',
      kafkaName: 'batch.size',
      type: 'int',
      default: 16384,
      defaultNote: '16 KiB',
      doc: 'Maximum bytes per partition batch, and how much keyless data goes to one partition before switching; 0 acts as 1.',
    },
    {
      name: 'bufferMemory',
      kafkaName: 'buffer.memory',
      type: 'long',
      default: 33554432,
      defaultNote: '32 MiB',
      doc: 'Total bytes the producer may hold in unsent batches; a send waits up to max.block.ms for room when full.',
    },
    {
      name: 'maxInFlightRequestsPerConnection',
      kafkaName: 'max.in.flight.requests.per.connection',
      type: 'int',
      default: 5,
      min: 1,
      doc: 'Maximum unacknowledged requests per broker connection.',
    },
    {
      name: 'enableIdempotence',
      kafkaName: 'enable.idempotence',
      type: 'boolean',
      default: true,
      doc: 'Write each record exactly once per partition, in order, across retries (producer id + sequence numbers); needs acks=all, retries > 0 and at most 5 in flight, and is turned off when those are set otherwise without enabling it explicitly.',
    },
    {
      name: 'transactionalId',
      kafkaName: 'transactional.id',
      type: 'nullableString',
      default: null,
      defaultNote: 'not transactional',
      doc: 'Identity of a transactional producer, stable across restarts: enables initTransactions()/beginTransaction()/commitTransaction() and fences older instances with the same id; requires idempotence.',
    },
    {
      name: 'transactionTimeoutMs',
      kafkaName: 'transaction.timeout.ms',
      type: 'int',
      default: 60000,
      doc: 'How long the transaction coordinator lets a transaction stay open before aborting it; must not exceed the broker\'s transaction.max.timeout.ms.',
    },
    {
      name: 'requestTimeoutMs',
      kafkaName: 'request.timeout.ms',
      type: 'int',
      default: 30000,
      doc: 'How long to wait for the response to a request before failing or retrying it.',
    },
    {
      name: 'deliveryTimeoutMs',
      kafkaName: 'delivery.timeout.ms',
      type: 'int',
      default: 120000,
      doc: 'Upper bound on the time to report success or failure of a send, retries included; must be >= linger.ms + request.timeout.ms.',
    },
    {
      name: 'maxBlockMs',
      kafkaName: 'max.block.ms',
      type: 'long',
      default: 60000,
      doc: 'How long a send may wait for topic metadata or buffer space before failing.',
    },
    {
      name: 'maxRequestSize',
      kafkaName: 'max.request.size',
      type: 'int',
      default: 1048576,
      defaultNote: '1 MiB',
      doc: 'Maximum bytes of one produce request, which also caps the size of a single record batch.',
    },
    {
      name: 'metadataMaxAgeMs',
      kafkaName: 'metadata.max.age.ms',
      type: 'long',
      default: 300000,
      doc: 'Refresh metadata at least this often, even when no error asked for it.',
    },
    {
      name: 'metadataMaxIdleMs',
      kafkaName: 'metadata.max.idle.ms',
      type: 'long',
      default: 300000,
      min: 5000,
      doc: 'Stop tracking the metadata of a topic nothing was sent to for this long.',
    },
    {
      name: 'retries',
      kafkaName: 'retries',
      type: 'int',
      default: INT_MAX,
      doc: 'How many times a batch failing with a retriable error is resent; delivery.timeout.ms bounds retries in time.',
    },
    {
      name: 'retryBackoffMs',
      kafkaName: 'retry.backoff.ms',
      type: 'long',
      default: 100,
      doc: 'Initial wait before retrying a failed request; doubles per attempt (with jitter) up to retry.backoff.max.ms.',
    },
    {
      name: 'retryBackoffMaxMs',
      kafkaName: 'retry.backoff.max.ms',
      type: 'long',
      default: 1000,
      doc: 'Upper bound of the exponential retry backoff.',
    },
    {
      name: 'reconnectBackoffMs',
      kafkaName: 'reconnect.backoff.ms',
      type: 'long',
      default: 50,
      doc: 'Initial wait before reconnecting to a broker, growing up to reconnect.backoff.max.ms; set alone, it is used as a constant backoff.',
    },
    {
      name: 'reconnectBackoffMaxMs',
      kafkaName: 'reconnect.backoff.max.ms',
      type: 'long',
      default: 1000,
      doc: 'Upper bound of the exponential reconnect backoff.',
    },
    {
      name: 'connectionsMaxIdleMs',
      kafkaName: 'connections.max.idle.ms',
      type: 'long',
      default: 540000,
      min: -1,
      doc: 'Close connections that have been idle this long; -1 keeps them open.',
      javaNote: 'Java accepts any negative value as "never"; only -1 is accepted here.',
    },
    {
      name: 'socketConnectionSetupTimeoutMs',
      kafkaName: 'socket.connection.setup.timeout.ms',
      type: 'long',
      default: 10000,
      doc: 'How long a connection attempt may take before it is abandoned; grows per consecutive failure up to the max.',
    },
    {
      name: 'socketConnectionSetupTimeoutMaxMs',
      kafkaName: 'socket.connection.setup.timeout.max.ms',
      type: 'long',
      default: 30000,
      doc: 'Upper bound of the exponentially growing connection setup timeout.',
    },
    {
      name: 'receiveMessageMaxBytes',
      kafkaName: 'receive.message.max.bytes',
      type: 'int',
      default: 104857600,
      defaultNote: '100 MiB',
      min: 1000,
      doc: 'Largest response frame accepted; a bigger size prefix closes the connection without allocating (librdkafka name).',
      javaNote: "Not a Java setting (librdkafka's); the range is librdkafka's too.",
    },
    {
      name: 'statisticsIntervalMs',
      kafkaName: 'statistics.interval.ms',
      type: 'int',
      default: 0,
      max: 86400000,
      doc: 'How often onStatistics receives { ts, metrics, inspection } (producer.metrics() and producer.inspect() together); 0 turns it off.',
      javaNote: "Not a Java setting (librdkafka's statistics, with its range); the callback is the onStatistics option, librdkafka's stats_cb.",
    },
    {
      name: 'partitionerIgnoreKeys',
      kafkaName: 'partitioner.ignore.keys',
      type: 'boolean',
      default: false,
      doc: 'Place keyed records like keyless ones (sticky partitioning) instead of by key hash.',
    },
    {
      name: 'partitionerAdaptivePartitioningEnable',
      kafkaName: 'partitioner.adaptive.partitioning.enable',
      type: 'boolean',
      default: true,
      doc: 'Send less keyless data to partitions whose brokers have longer queues (KIP-794); off with a custom partitioner.',
    },
    {
      name: 'partitionerAvailabilityTimeoutMs',
      kafkaName: 'partitioner.availability.timeout.ms',
      type: 'long',
      default: 0,
      doc: 'Skip partitions of a broker that has not taken produce requests for this long (0: never); adaptive partitioning only.',
    },
    {
      name: 'compressionType',
      kafkaName: 'compression.type',
      type: 'compression',
      default: 'none',
      allowed: [...COMPRESSION_CODECS],
      doc: "Codec for record batches, compressed off the event loop as each batch closes. snappy needs the optional package 'snappy', lz4 'lz4-napi', zstd on Node < 22.15 '@toondepauw/node-zstd'.",
    },
    {
      name: 'compressionGzipLevel',
      kafkaName: 'compression.gzip.level',
      type: 'int',
      default: COMPRESSION_LEVELS.gzip.default,
      defaultNote: "zlib's default, 6",
      min: COMPRESSION_LEVELS.gzip.min,
      max: COMPRESSION_LEVELS.gzip.max,
      alsoAllowed: COMPRESSION_LEVELS.gzip.alsoAllowed,
      doc: 'gzip compression level (KIP-390): 1 fastest to 9 smallest.',
    },
    {
      name: 'compressionLz4Level',
      kafkaName: 'compression.lz4.level',
      type: 'int',
      default: COMPRESSION_LEVELS.lz4.default,
      min: COMPRESSION_LEVELS.lz4.min,
      max: COMPRESSION_LEVELS.lz4.max,
      doc: "lz4 compression level (KIP-390), validated against Java's range but not applied: lz4-napi has no level and only LZ4's fast compressor, what Java uses at 9, so every level compresses the same (Java uses lz4-java's high-compression mode for the others).",
    },
    {
      name: 'compressionZstdLevel',
      kafkaName: 'compression.zstd.level',
      type: 'int',
      default: COMPRESSION_LEVELS.zstd.default,
      min: COMPRESSION_LEVELS.zstd.min,
      max: COMPRESSION_LEVELS.zstd.max,
      doc: "zstd compression level (KIP-390): negative levels are faster, 22 smallest; libzstd's range.",
    },
    {
      name: 'securityProtocol',
      kafkaName: 'security.protocol',
      type: 'enum',
      default: 'PLAINTEXT',
      defaultNote: 'SSL, SASL_PLAINTEXT or SASL_SSL when only ssl / sasl options are given',
      allowed: ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'],
      doc: 'How to talk to brokers: TLS (SSL), SASL authentication, both, or neither; must agree with the ssl / sasl settings given.',
      javaNote: 'librdkafka also accepts lower case; so does this client.',
    },
    {
      name: 'ssl',
      kafkaName: null,
      type: 'ssl',
      default: null,
      defaultNote: 'no TLS',
      doc: 'TLS: true for Node\'s CA store, or { ca, cert, key, passphrase, servername, rejectUnauthorized } with PEM strings or Buffers; not combinable with the ssl.*.location / .pem properties.',
    },
    {
      name: 'sslCaLocation',
      kafkaName: 'ssl.ca.location',
      type: 'optional-string',
      default: null,
      doc: 'File of trusted CA certificates (PEM) instead of Node\'s CA store.',
      javaNote: "librdkafka's name; Java uses trust stores (ssl.truststore.*).",
    },
    {
      name: 'sslCaPem',
      kafkaName: 'ssl.ca.pem',
      type: 'optional-string',
      default: null,
      doc: 'Trusted CA certificates as PEM text.',
      javaNote: "librdkafka's name; Java's equivalent is ssl.truststore.certificates.",
    },
    {
      name: 'sslCertificateLocation',
      kafkaName: 'ssl.certificate.location',
      type: 'optional-string',
      default: null,
      doc: 'File with the client certificate chain (PEM), for brokers that require client authentication.',
      javaNote: "librdkafka's name; Java uses key stores (ssl.keystore.*).",
    },
    {
      name: 'sslCertificatePem',
      kafkaName: 'ssl.certificate.pem',
      type: 'optional-string',
      default: null,
      doc: 'The client certificate chain as PEM text.',
      javaNote: "librdkafka's name; Java's equivalent is ssl.keystore.certificate.chain.",
    },
    {
      name: 'sslKeyLocation',
      kafkaName: 'ssl.key.location',
      type: 'optional-string',
      default: null,
      doc: 'File with the client private key (PEM, possibly encrypted).',
      javaNote: "librdkafka's name.",
    },
    {
      name: 'sslKeyPem',
      kafkaName: 'ssl.key.pem',
      type: 'password',
      default: null,
      doc: 'The client private key as PEM text (kept hidden).',
      javaNote: "librdkafka's name; Java's equivalent is ssl.keystore.key.",
    },
    {
      name: 'sslKeyPassword',
      kafkaName: 'ssl.key.password',
      type: 'password',
      default: null,
      doc: 'Passphrase of an encrypted client private key (kept hidden).',
    },
    {
      name: 'sslEndpointIdentificationAlgorithm',
      kafkaName: 'ssl.endpoint.identification.algorithm',
      type: 'enum',
      default: 'https',
      allowed: ['https', '', 'none'],
      doc: "Check that the broker certificate names the host connected to (https); '' or none turns only that check off.",
      javaNote: "'none' is librdkafka's spelling of Java's ''.",
    },
    {
      name: 'sasl',
      kafkaName: null,
      type: 'sasl',
      default: null,
      defaultNote: 'no SASL',
      doc: "SASL: { mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512', username, password }, { mechanism: 'OAUTHBEARER', tokenProvider } or { mechanism: 'OAUTHBEARER', oidc: { tokenEndpointUrl, clientId, clientSecret, scope, extensions } }, or a custom mechanism { mechanism, create(context) }; not combinable with the sasl.* properties.",
    },
    {
      name: 'saslMechanism',
      kafkaName: 'sasl.mechanism',
      aliases: ['sasl.mechanisms'],
      type: 'enum',
      default: null,
      allowed: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'],
      doc: 'SASL mechanism, with credentials from sasl.username / sasl.password, sasl.jaas.config or the sasl.oauthbearer.* properties.',
      javaNote: "Java's default is GSSAPI, which is not built in (give a custom mechanism as sasl); librdkafka's name sasl.mechanisms is accepted.",
    },
    {
      name: 'saslUsername',
      kafkaName: 'sasl.username',
      type: 'optional-string',
      default: null,
      doc: 'User name for PLAIN and SCRAM.',
      javaNote: "librdkafka's name; Java puts it in sasl.jaas.config.",
    },
    {
      name: 'saslPassword',
      kafkaName: 'sasl.password',
      type: 'password',
      default: null,
      doc: 'Password for PLAIN and SCRAM (kept hidden).',
      javaNote: "librdkafka's name; Java puts it in sasl.jaas.config.",
    },
    {
      name: 'saslJaasConfig',
      kafkaName: 'sasl.jaas.config',
      type: 'password',
      default: null,
      doc: 'Java JAAS line with the credentials: PlainLoginModule / ScramLoginModule with username and password, or OAuthBearerLoginModule with clientId, clientSecret and scope (kept hidden).',
      javaNote: 'Only these three login modules are understood.',
    },
    {
      name: 'saslOauthbearerMethod',
      kafkaName: 'sasl.oauthbearer.method',
      type: 'enum',
      default: 'default',
      allowed: ['default', 'oidc'],
      doc: "oidc: fetch OAUTHBEARER tokens from sasl.oauthbearer.token.endpoint.url with the client credentials grant; 'default' needs a tokenProvider (sasl option) or the endpoint URL.",
      javaNote: "librdkafka's name; Java selects OIDC by setting the token endpoint URL.",
    },
    {
      name: 'saslOauthbearerClientId',
      kafkaName: 'sasl.oauthbearer.client.id',
      type: 'optional-string',
      default: null,
      doc: 'OAuth client id for the client credentials grant.',
      javaNote: "librdkafka's name; Java 4.x has the same property (or clientId in sasl.jaas.config).",
    },
    {
      name: 'saslOauthbearerClientSecret',
      kafkaName: 'sasl.oauthbearer.client.secret',
      type: 'password',
      default: null,
      doc: 'OAuth client secret for the client credentials grant (kept hidden).',
      javaNote: "librdkafka's name; Java 4.x has the same property (or clientSecret in sasl.jaas.config).",
    },
    {
      name: 'saslOauthbearerTokenEndpointUrl',
      kafkaName: 'sasl.oauthbearer.token.endpoint.url',
      type: 'optional-string',
      default: null,
      doc: 'OAuth/OIDC token endpoint (http or https URL).',
    },
    {
      name: 'saslOauthbearerScope',
      kafkaName: 'sasl.oauthbearer.scope',
      type: 'optional-string',
      default: null,
      doc: 'Scope to request with the token (sent when given).',
    },
    {
      name: 'saslOauthbearerExtensions',
      kafkaName: 'sasl.oauthbearer.extensions',
      type: 'optional-string',
      default: null,
      doc: 'SASL extensions sent with the token, as comma-separated key=value pairs.',
      javaNote: "librdkafka's name; Java takes extension_<key>=\"value\" options in sasl.jaas.config.",
    },
    {
      name: 'saslLoginRetryBackoffMs',
      kafkaName: 'sasl.login.retry.backoff.ms',
      type: 'long',
      default: 100,
      doc: 'Initial wait before retrying a failed token request; doubles per attempt.',
    },
    {
      name: 'saslLoginRetryBackoffMaxMs',
      kafkaName: 'sasl.login.retry.backoff.max.ms',
      type: 'long',
      default: 10000,
      doc: 'Total time spent retrying one token request before authentication fails.',
    },
    {
      name: 'partitioner',
      kafkaName: null,
      type: 'function',
      default: null,
      defaultNote: 'the built-in partitioner',
      doc: '(topic, key, value, cluster) => partition for records sent without a partition; replaces key hashing and sticky choice.',
      javaNote: "Replaces Java's partitioner.class.",
    },
    {
      name: 'logger',
      kafkaName: null,
      type: 'logger',
      default: null,
      defaultNote: 'warnings and errors to stderr, once per cause',
      doc: 'Where runtime faults are logged: an object with warn and error (debug, info optional), called as logger.warn(fields, message): pino, bunyan or console.',
      javaNote: "Java logs through SLF4J; see docs/observability.md.",
    },
  ],
)

// ---------------------------------------------------------------------------
// Typed interfaces. The region between the markers is generated from
// CONFIG_DEFINITIONS by scripts/gen-config-table.mjs --write-source; edit the
// table, not the region. The unit tests fail when it is out of date.
// ---------------------------------------------------------------------------

// <config-interfaces:generated>
/**
 * Producer options, each under its camelCase name (strictly typed) or its
 * Kafka property name (also accepting the string forms of .properties files).
 * `undefined` counts as unset. Generated from CONFIG_DEFINITIONS.
 */
export interface ProducerConfigOptions {
  /**
   * Brokers to fetch the initial metadata from: host:port entries (IPv6 as [addr]:port), as a list or one comma-separated string.
   *
   * Kafka name: `bootstrap.servers`. Required.
   */
  bootstrapServers?: string | readonly string[]
  /** Kafka name of {@link ProducerConfigOptions.bootstrapServers}. */
  'bootstrap.servers'?: string | readonly string[]
  /**
   * Name sent with every request, for broker logs, metrics and quotas.
   *
   * Kafka name: `client.id`. Default: `kafka-producer-ts`.
   * Java's default is 'producer-<n>'.
   */
  clientId?: string
  /** Kafka name of {@link ProducerConfigOptions.clientId}. */
  'client.id'?: string
  /**
   * Acknowledgements a produce request waits for: 0 none, 1 the leader, all (= -1) every in-sync replica.
   *
   * Kafka name: `acks`. Default: `all`. Values: all, -1, 0, 1.
   */
  acks?: Acks
  /**
   * How long a batch may wait for more records before it is sent although not full (values above 2^31-1 act as 2^31-1).
   *
   * Kafka name: `linger.ms`. Default: `5`. Range: [0, 2^53-1].
   */
  lingerMs?: number
  /** Kafka name of {@link ProducerConfigOptions.lingerMs}. */
  'linger.ms'?: number | string
  /**
   * Maximum bytes per partition batch, and how much keyless data goes to one partition before switching; 0 acts as 1.
   *
   * Kafka name: `batch.size`. Default: `16384` (16 KiB). Range: [0, 2^31-1].
   */
  batchSize?: number
  /** Kafka name of {@link ProducerConfigOptions.batchSize}. */
  'batch.size'?: number | string
  /**
   * Total bytes the producer may hold in unsent batches; a send waits up to max.block.ms for room when full.
   *
   * Kafka name: `buffer.memory`. Default: `33554432` (32 MiB). Range: [0, 2^53-1].
   */
  bufferMemory?: number
  /** Kafka name of {@link ProducerConfigOptions.bufferMemory}. */
  'buffer.memory'?: number | string
  /**
   * Maximum unacknowledged requests per broker connection.
   *
   * Kafka name: `max.in.flight.requests.per.connection`. Default: `5`. Range: [1, 2^31-1].
   */
  maxInFlightRequestsPerConnection?: number
  /** Kafka name of {@link ProducerConfigOptions.maxInFlightRequestsPerConnection}. */
  'max.in.flight.requests.per.connection'?: number | string
  /**
   * Write each record exactly once per partition, in order, across retries (producer id + sequence numbers); needs acks=all, retries > 0 and at most 5 in flight, and is turned off when those are set otherwise without enabling it explicitly.
   *
   * Kafka name: `enable.idempotence`. Default: `true`.
   */
  enableIdempotence?: boolean
  /** Kafka name of {@link ProducerConfigOptions.enableIdempotence}. */
  'enable.idempotence'?: boolean | string
  /**
   * Identity of a transactional producer, stable across restarts: enables initTransactions()/beginTransaction()/commitTransaction() and fences older instances with the same id; requires idempotence.
   *
   * Kafka name: `transactional.id`. Default: `null` (not transactional).
   */
  transactionalId?: string | null
  /** Kafka name of {@link ProducerConfigOptions.transactionalId}. */
  'transactional.id'?: string | null
  /**
   * How long the transaction coordinator lets a transaction stay open before aborting it; must not exceed the broker's transaction.max.timeout.ms.
   *
   * Kafka name: `transaction.timeout.ms`. Default: `60000`. Range: [0, 2^31-1].
   */
  transactionTimeoutMs?: number
  /** Kafka name of {@link ProducerConfigOptions.transactionTimeoutMs}. */
  'transaction.timeout.ms'?: number | string
  /**
   * How long to wait for the response to a request before failing or retrying it.
   *
   * Kafka name: `request.timeout.ms`. Default: `30000`. Range: [0, 2^31-1].
   */
  requestTimeoutMs?: number
  /** Kafka name of {@link ProducerConfigOptions.requestTimeoutMs}. */
  'request.timeout.ms'?: number | string
  /**
   * Upper bound on the time to report success or failure of a send, retries included; must be >= linger.ms + request.timeout.ms.
   *
   * Kafka name: `delivery.timeout.ms`. Default: `120000`. Range: [0, 2^31-1].
   */
  deliveryTimeoutMs?: number
  /** Kafka name of {@link ProducerConfigOptions.deliveryTimeoutMs}. */
  'delivery.timeout.ms'?: number | string
  /**
   * How long a send may wait for topic metadata or buffer space before failing.
   *
   * Kafka name: `max.block.ms`. Default: `60000`. Range: [0, 2^53-1].
   */
  maxBlockMs?: number
  /** Kafka name of {@link ProducerConfigOptions.maxBlockMs}. */
  'max.block.ms'?: number | string
  /**
   * Maximum bytes of one produce request, which also caps the size of a single record batch.
   *
   * Kafka name: `max.request.size`. Default: `1048576` (1 MiB). Range: [0, 2^31-1].
   */
  maxRequestSize?: number
  /** Kafka name of {@link ProducerConfigOptions.maxRequestSize}. */
  'max.request.size'?: number | string
  /**
   * Refresh metadata at least this often, even when no error asked for it.
   *
   * Kafka name: `metadata.max.age.ms`. Default: `300000`. Range: [0, 2^53-1].
   */
  metadataMaxAgeMs?: number
  /** Kafka name of {@link ProducerConfigOptions.metadataMaxAgeMs}. */
  'metadata.max.age.ms'?: number | string
  /**
   * Stop tracking the metadata of a topic nothing was sent to for this long.
   *
   * Kafka name: `metadata.max.idle.ms`. Default: `300000`. Range: [5000, 2^53-1].
   */
  metadataMaxIdleMs?: number
  /** Kafka name of {@link ProducerConfigOptions.metadataMaxIdleMs}. */
  'metadata.max.idle.ms'?: number | string
  /**
   * How many times a batch failing with a retriable error is resent; delivery.timeout.ms bounds retries in time.
   *
   * Kafka name: `retries`. Default: `2147483647`. Range: [0, 2^31-1].
   */
  retries?: number | string
  /**
   * Initial wait before retrying a failed request; doubles per attempt (with jitter) up to retry.backoff.max.ms.
   *
   * Kafka name: `retry.backoff.ms`. Default: `100`. Range: [0, 2^53-1].
   */
  retryBackoffMs?: number
  /** Kafka name of {@link ProducerConfigOptions.retryBackoffMs}. */
  'retry.backoff.ms'?: number | string
  /**
   * Upper bound of the exponential retry backoff.
   *
   * Kafka name: `retry.backoff.max.ms`. Default: `1000`. Range: [0, 2^53-1].
   */
  retryBackoffMaxMs?: number
  /** Kafka name of {@link ProducerConfigOptions.retryBackoffMaxMs}. */
  'retry.backoff.max.ms'?: number | string
  /**
   * Initial wait before reconnecting to a broker, growing up to reconnect.backoff.max.ms; set alone, it is used as a constant backoff.
   *
   * Kafka name: `reconnect.backoff.ms`. Default: `50`. Range: [0, 2^53-1].
   */
  reconnectBackoffMs?: number
  /** Kafka name of {@link ProducerConfigOptions.reconnectBackoffMs}. */
  'reconnect.backoff.ms'?: number | string
  /**
   * Upper bound of the exponential reconnect backoff.
   *
   * Kafka name: `reconnect.backoff.max.ms`. Default: `1000`. Range: [0, 2^53-1].
   */
  reconnectBackoffMaxMs?: number
  /** Kafka name of {@link ProducerConfigOptions.reconnectBackoffMaxMs}. */
  'reconnect.backoff.max.ms'?: number | string
  /**
   * Close connections that have been idle this long; -1 keeps them open.
   *
   * Kafka name: `connections.max.idle.ms`. Default: `540000`. Range: [-1, 2^53-1].
   * Java accepts any negative value as "never"; only -1 is accepted here.
   */
  connectionsMaxIdleMs?: number
  /** Kafka name of {@link ProducerConfigOptions.connectionsMaxIdleMs}. */
  'connections.max.idle.ms'?: number | string
  /**
   * How long a connection attempt may take before it is abandoned; grows per consecutive failure up to the max.
   *
   * Kafka name: `socket.connection.setup.timeout.ms`. Default: `10000`. Range: [0, 2^53-1].
   */
  socketConnectionSetupTimeoutMs?: number
  /** Kafka name of {@link ProducerConfigOptions.socketConnectionSetupTimeoutMs}. */
  'socket.connection.setup.timeout.ms'?: number | string
  /**
   * Upper bound of the exponentially growing connection setup timeout.
   *
   * Kafka name: `socket.connection.setup.timeout.max.ms`. Default: `30000`. Range: [0, 2^53-1].
   */
  socketConnectionSetupTimeoutMaxMs?: number
  /** Kafka name of {@link ProducerConfigOptions.socketConnectionSetupTimeoutMaxMs}. */
  'socket.connection.setup.timeout.max.ms'?: number | string
  /**
   * Largest response frame accepted; a bigger size prefix closes the connection without allocating (librdkafka name).
   *
   * Kafka name: `receive.message.max.bytes`. Default: `104857600` (100 MiB). Range: [1000, 2^31-1].
   * Not a Java setting (librdkafka's); the range is librdkafka's too.
   */
  receiveMessageMaxBytes?: number
  /** Kafka name of {@link ProducerConfigOptions.receiveMessageMaxBytes}. */
  'receive.message.max.bytes'?: number | string
  /**
   * How often onStatistics receives { ts, metrics, inspection } (producer.metrics() and producer.inspect() together); 0 turns it off.
   *
   * Kafka name: `statistics.interval.ms`. Default: `0`. Range: [0, 86400000].
   * Not a Java setting (librdkafka's statistics, with its range); the callback is the onStatistics option, librdkafka's stats_cb.
   */
  statisticsIntervalMs?: number
  /** Kafka name of {@link ProducerConfigOptions.statisticsIntervalMs}. */
  'statistics.interval.ms'?: number | string
  /**
   * Place keyed records like keyless ones (sticky partitioning) instead of by key hash.
   *
   * Kafka name: `partitioner.ignore.keys`. Default: `false`.
   */
  partitionerIgnoreKeys?: boolean
  /** Kafka name of {@link ProducerConfigOptions.partitionerIgnoreKeys}. */
  'partitioner.ignore.keys'?: boolean | string
  /**
   * Send less keyless data to partitions whose brokers have longer queues (KIP-794); off with a custom partitioner.
   *
   * Kafka name: `partitioner.adaptive.partitioning.enable`. Default: `true`.
   */
  partitionerAdaptivePartitioningEnable?: boolean
  /** Kafka name of {@link ProducerConfigOptions.partitionerAdaptivePartitioningEnable}. */
  'partitioner.adaptive.partitioning.enable'?: boolean | string
  /**
   * Skip partitions of a broker that has not taken produce requests for this long (0: never); adaptive partitioning only.
   *
   * Kafka name: `partitioner.availability.timeout.ms`. Default: `0`. Range: [0, 2^53-1].
   */
  partitionerAvailabilityTimeoutMs?: number
  /** Kafka name of {@link ProducerConfigOptions.partitionerAvailabilityTimeoutMs}. */
  'partitioner.availability.timeout.ms'?: number | string
  /**
   * Codec for record batches, compressed off the event loop as each batch closes. snappy needs the optional package 'snappy', lz4 'lz4-napi', zstd on Node < 22.15 '@toondepauw/node-zstd'.
   *
   * Kafka name: `compression.type`. Default: `none`. Values: none, gzip, snappy, lz4, zstd.
   */
  compressionType?: CompressionCodec
  /** Kafka name of {@link ProducerConfigOptions.compressionType}. */
  'compression.type'?: CompressionCodec
  /**
   * gzip compression level (KIP-390): 1 fastest to 9 smallest.
   *
   * Kafka name: `compression.gzip.level`. Default: `-1` (zlib's default, 6). Range: [1, 9] or -1.
   */
  compressionGzipLevel?: number
  /** Kafka name of {@link ProducerConfigOptions.compressionGzipLevel}. */
  'compression.gzip.level'?: number | string
  /**
   * lz4 compression level (KIP-390), validated against Java's range but not applied: lz4-napi has no level and only LZ4's fast compressor, what Java uses at 9, so every level compresses the same (Java uses lz4-java's high-compression mode for the others).
   *
   * Kafka name: `compression.lz4.level`. Default: `9`. Range: [1, 17].
   */
  compressionLz4Level?: number
  /** Kafka name of {@link ProducerConfigOptions.compressionLz4Level}. */
  'compression.lz4.level'?: number | string
  /**
   * zstd compression level (KIP-390): negative levels are faster, 22 smallest; libzstd's range.
   *
   * Kafka name: `compression.zstd.level`. Default: `3`. Range: [-131072, 22].
   */
  compressionZstdLevel?: number
  /** Kafka name of {@link ProducerConfigOptions.compressionZstdLevel}. */
  'compression.zstd.level'?: number | string
  /**
   * How to talk to brokers: TLS (SSL), SASL authentication, both, or neither; must agree with the ssl / sasl settings given.
   *
   * Kafka name: `security.protocol`. Default: `PLAINTEXT` (SSL, SASL_PLAINTEXT or SASL_SSL when only ssl / sasl options are given). Values: PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL.
   * librdkafka also accepts lower case; so does this client.
   */
  securityProtocol?: 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL'
  /** Kafka name of {@link ProducerConfigOptions.securityProtocol}. */
  'security.protocol'?: string
  /**
   * TLS: true for Node's CA store, or { ca, cert, key, passphrase, servername, rejectUnauthorized } with PEM strings or Buffers; not combinable with the ssl.*.location / .pem properties.
   *
   * Default: `null` (no TLS).
   */
  ssl?: boolean | SslOptions | null
  /**
   * File of trusted CA certificates (PEM) instead of Node's CA store.
   *
   * Kafka name: `ssl.ca.location`. Default: `null`.
   * librdkafka's name; Java uses trust stores (ssl.truststore.*).
   */
  sslCaLocation?: string | null
  /** Kafka name of {@link ProducerConfigOptions.sslCaLocation}. */
  'ssl.ca.location'?: string | null
  /**
   * Trusted CA certificates as PEM text.
   *
   * Kafka name: `ssl.ca.pem`. Default: `null`.
   * librdkafka's name; Java's equivalent is ssl.truststore.certificates.
   */
  sslCaPem?: string | null
  /** Kafka name of {@link ProducerConfigOptions.sslCaPem}. */
  'ssl.ca.pem'?: string | null
  /**
   * File with the client certificate chain (PEM), for brokers that require client authentication.
   *
   * Kafka name: `ssl.certificate.location`. Default: `null`.
   * librdkafka's name; Java uses key stores (ssl.keystore.*).
   */
  sslCertificateLocation?: string | null
  /** Kafka name of {@link ProducerConfigOptions.sslCertificateLocation}. */
  'ssl.certificate.location'?: string | null
  /**
   * The client certificate chain as PEM text.
   *
   * Kafka name: `ssl.certificate.pem`. Default: `null`.
   * librdkafka's name; Java's equivalent is ssl.keystore.certificate.chain.
   */
  sslCertificatePem?: string | null
  /** Kafka name of {@link ProducerConfigOptions.sslCertificatePem}. */
  'ssl.certificate.pem'?: string | null
  /**
   * File with the client private key (PEM, possibly encrypted).
   *
   * Kafka name: `ssl.key.location`. Default: `null`.
   * librdkafka's name.
   */
  sslKeyLocation?: string | null
  /** Kafka name of {@link ProducerConfigOptions.sslKeyLocation}. */
  'ssl.key.location'?: string | null
  /**
   * The client private key as PEM text (kept hidden).
   *
   * Kafka name: `ssl.key.pem`. Default: `null`.
   * librdkafka's name; Java's equivalent is ssl.keystore.key.
   */
  sslKeyPem?: string | Secret | null
  /** Kafka name of {@link ProducerConfigOptions.sslKeyPem}. */
  'ssl.key.pem'?: string | Secret | null
  /**
   * Passphrase of an encrypted client private key (kept hidden).
   *
   * Kafka name: `ssl.key.password`. Default: `null`.
   */
  sslKeyPassword?: string | Secret | null
  /** Kafka name of {@link ProducerConfigOptions.sslKeyPassword}. */
  'ssl.key.password'?: string | Secret | null
  /**
   * Check that the broker certificate names the host connected to (https); '' or none turns only that check off.
   *
   * Kafka name: `ssl.endpoint.identification.algorithm`. Default: `https`. Values: https, '', none.
   * 'none' is librdkafka's spelling of Java's ''.
   */
  sslEndpointIdentificationAlgorithm?: 'https' | '' | 'none'
  /** Kafka name of {@link ProducerConfigOptions.sslEndpointIdentificationAlgorithm}. */
  'ssl.endpoint.identification.algorithm'?: string
  /**
   * SASL: { mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512', username, password }, { mechanism: 'OAUTHBEARER', tokenProvider } or { mechanism: 'OAUTHBEARER', oidc: { tokenEndpointUrl, clientId, clientSecret, scope, extensions } }, or a custom mechanism { mechanism, create(context) }; not combinable with the sasl.* properties.
   *
   * Default: `null` (no SASL).
   */
  sasl?: SaslOptions | null
  /**
   * SASL mechanism, with credentials from sasl.username / sasl.password, sasl.jaas.config or the sasl.oauthbearer.* properties.
   *
   * Kafka name: `sasl.mechanism` (also `sasl.mechanisms`). Default: `null`. Values: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER.
   * Java's default is GSSAPI, which is not built in (give a custom mechanism as sasl); librdkafka's name sasl.mechanisms is accepted.
   */
  saslMechanism?: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512' | 'OAUTHBEARER' | null
  /** Kafka name of {@link ProducerConfigOptions.saslMechanism}. */
  'sasl.mechanism'?: string
  /** Alternative name of {@link ProducerConfigOptions.saslMechanism}. */
  'sasl.mechanisms'?: string
  /**
   * User name for PLAIN and SCRAM.
   *
   * Kafka name: `sasl.username`. Default: `null`.
   * librdkafka's name; Java puts it in sasl.jaas.config.
   */
  saslUsername?: string | null
  /** Kafka name of {@link ProducerConfigOptions.saslUsername}. */
  'sasl.username'?: string | null
  /**
   * Password for PLAIN and SCRAM (kept hidden).
   *
   * Kafka name: `sasl.password`. Default: `null`.
   * librdkafka's name; Java puts it in sasl.jaas.config.
   */
  saslPassword?: string | Secret | null
  /** Kafka name of {@link ProducerConfigOptions.saslPassword}. */
  'sasl.password'?: string | Secret | null
  /**
   * Java JAAS line with the credentials: PlainLoginModule / ScramLoginModule with username and password, or OAuthBearerLoginModule with clientId, clientSecret and scope (kept hidden).
   *
   * Kafka name: `sasl.jaas.config`. Default: `null`.
   * Only these three login modules are understood.
   */
  saslJaasConfig?: string | Secret | null
  /** Kafka name of {@link ProducerConfigOptions.saslJaasConfig}. */
  'sasl.jaas.config'?: string | Secret | null
  /**
   * oidc: fetch OAUTHBEARER tokens from sasl.oauthbearer.token.endpoint.url with the client credentials grant; 'default' needs a tokenProvider (sasl option) or the endpoint URL.
   *
   * Kafka name: `sasl.oauthbearer.method`. Default: `default`. Values: default, oidc.
   * librdkafka's name; Java selects OIDC by setting the token endpoint URL.
   */
  saslOauthbearerMethod?: 'default' | 'oidc'
  /** Kafka name of {@link ProducerConfigOptions.saslOauthbearerMethod}. */
  'sasl.oauthbearer.method'?: string
  /**
   * OAuth client id for the client credentials grant.
   *
   * Kafka name: `sasl.oauthbearer.client.id`. Default: `null`.
   * librdkafka's name; Java 4.x has the same property (or clientId in sasl.jaas.config).
   */
  saslOauthbearerClientId?: string | null
  /** Kafka name of {@link ProducerConfigOptions.saslOauthbearerClientId}. */
  'sasl.oauthbearer.client.id'?: string | null
  /**
   * OAuth client secret for the client credentials grant (kept hidden).
   *
   * Kafka name: `sasl.oauthbearer.client.secret`. Default: `null`.
   * librdkafka's name; Java 4.x has the same property (or clientSecret in sasl.jaas.config).
   */
  saslOauthbearerClientSecret?: string | Secret | null
  /** Kafka name of {@link ProducerConfigOptions.saslOauthbearerClientSecret}. */
  'sasl.oauthbearer.client.secret'?: string | Secret | null
  /**
   * OAuth/OIDC token endpoint (http or https URL).
   *
   * Kafka name: `sasl.oauthbearer.token.endpoint.url`. Default: `null`.
   */
  saslOauthbearerTokenEndpointUrl?: string | null
  /** Kafka name of {@link ProducerConfigOptions.saslOauthbearerTokenEndpointUrl}. */
  'sasl.oauthbearer.token.endpoint.url'?: string | null
  /**
   * Scope to request with the token (sent when given).
   *
   * Kafka name: `sasl.oauthbearer.scope`. Default: `null`.
   */
  saslOauthbearerScope?: string | null
  /** Kafka name of {@link ProducerConfigOptions.saslOauthbearerScope}. */
  'sasl.oauthbearer.scope'?: string | null
  /**
   * SASL extensions sent with the token, as comma-separated key=value pairs.
   *
   * Kafka name: `sasl.oauthbearer.extensions`. Default: `null`.
   * librdkafka's name; Java takes extension_<key>="value" options in sasl.jaas.config.
   */
  saslOauthbearerExtensions?: string | null
  /** Kafka name of {@link ProducerConfigOptions.saslOauthbearerExtensions}. */
  'sasl.oauthbearer.extensions'?: string | null
  /**
   * Initial wait before retrying a failed token request; doubles per attempt.
   *
   * Kafka name: `sasl.login.retry.backoff.ms`. Default: `100`. Range: [0, 2^53-1].
   */
  saslLoginRetryBackoffMs?: number
  /** Kafka name of {@link ProducerConfigOptions.saslLoginRetryBackoffMs}. */
  'sasl.login.retry.backoff.ms'?: number | string
  /**
   * Total time spent retrying one token request before authentication fails.
   *
   * Kafka name: `sasl.login.retry.backoff.max.ms`. Default: `10000`. Range: [0, 2^53-1].
   */
  saslLoginRetryBackoffMaxMs?: number
  /** Kafka name of {@link ProducerConfigOptions.saslLoginRetryBackoffMaxMs}. */
  'sasl.login.retry.backoff.max.ms'?: number | string
  /**
   * (topic, key, value, cluster) => partition for records sent without a partition; replaces key hashing and sticky choice.
   *
   * Default: `null` (the built-in partitioner).
   * Replaces Java's partitioner.class.
   */
  partitioner?: CustomPartitioner | null
  /**
   * Where runtime faults are logged: an object with warn and error (debug, info optional), called as logger.warn(fields, message): pino, bunyan or console.
   *
   * Default: `null` (warnings and errors to stderr, once per cause).
   * Java logs through SLF4J; see docs/observability.md.
   */
  logger?: Logger | null
}

/** The validated, normalized configuration. Generated from CONFIG_DEFINITIONS. */
export interface ResolvedProducerConfig {
  /** Brokers to fetch the initial metadata from: host:port entries (IPv6 as [addr]:port), as a list or one comma-separated string. (`bootstrap.servers`) */
  readonly bootstrapServers: readonly BrokerAddress[]
  /** Name sent with every request, for broker logs, metrics and quotas. (`client.id`) */
  readonly clientId: string
  /** Acknowledgements a produce request waits for: 0 none, 1 the leader, all (= -1) every in-sync replica. (`acks`) */
  readonly acks: -1 | 0 | 1
  /** How long a batch may wait for more records before it is sent although not full (values above 2^31-1 act as 2^31-1). (`linger.ms`) */
  readonly lingerMs: number
  /** Maximum bytes per partition batch, and how much keyless data goes to one partition before switching; 0 acts as 1. (`batch.size`) */
  readonly batchSize: number
  /** Total bytes the producer may hold in unsent batches; a send waits up to max.block.ms for room when full. (`buffer.memory`) */
  readonly bufferMemory: number
  /** Maximum unacknowledged requests per broker connection. (`max.in.flight.requests.per.connection`) */
  readonly maxInFlightRequestsPerConnection: number
  /** Write each record exactly once per partition, in order, across retries (producer id + sequence numbers); needs acks=all, retries > 0 and at most 5 in flight, and is turned off when those are set otherwise without enabling it explicitly. (`enable.idempotence`) */
  readonly enableIdempotence: boolean
  /** Identity of a transactional producer, stable across restarts: enables initTransactions()/beginTransaction()/commitTransaction() and fences older instances with the same id; requires idempotence. (`transactional.id`) */
  readonly transactionalId: string | null
  /** How long the transaction coordinator lets a transaction stay open before aborting it; must not exceed the broker's transaction.max.timeout.ms. (`transaction.timeout.ms`) */
  readonly transactionTimeoutMs: number
  /** How long to wait for the response to a request before failing or retrying it. (`request.timeout.ms`) */
  readonly requestTimeoutMs: number
  /** Upper bound on the time to report success or failure of a send, retries included; must be >= linger.ms + request.timeout.ms. (`delivery.timeout.ms`) */
  readonly deliveryTimeoutMs: number
  /** How long a send may wait for topic metadata or buffer space before failing. (`max.block.ms`) */
  readonly maxBlockMs: number
  /** Maximum bytes of one produce request, which also caps the size of a single record batch. (`max.request.size`) */
  readonly maxRequestSize: number
  /** Refresh metadata at least this often, even when no error asked for it. (`metadata.max.age.ms`) */
  readonly metadataMaxAgeMs: number
  /** Stop tracking the metadata of a topic nothing was sent to for this long. (`metadata.max.idle.ms`) */
  readonly metadataMaxIdleMs: number
  /** How many times a batch failing with a retriable error is resent; delivery.timeout.ms bounds retries in time. (`retries`) */
  readonly retries: number
  /** Initial wait before retrying a failed request; doubles per attempt (with jitter) up to retry.backoff.max.ms. (`retry.backoff.ms`) */
  readonly retryBackoffMs: number
  /** Upper bound of the exponential retry backoff. (`retry.backoff.max.ms`) */
  readonly retryBackoffMaxMs: number
  /** Initial wait before reconnecting to a broker, growing up to reconnect.backoff.max.ms; set alone, it is used as a constant backoff. (`reconnect.backoff.ms`) */
  readonly reconnectBackoffMs: number
  /** Upper bound of the exponential reconnect backoff. (`reconnect.backoff.max.ms`) */
  readonly reconnectBackoffMaxMs: number
  /** Close connections that have been idle this long; -1 keeps them open. (`connections.max.idle.ms`) */
  readonly connectionsMaxIdleMs: number
  /** How long a connection attempt may take before it is abandoned; grows per consecutive failure up to the max. (`socket.connection.setup.timeout.ms`) */
  readonly socketConnectionSetupTimeoutMs: number
  /** Upper bound of the exponentially growing connection setup timeout. (`socket.connection.setup.timeout.max.ms`) */
  readonly socketConnectionSetupTimeoutMaxMs: number
  /** Largest response frame accepted; a bigger size prefix closes the connection without allocating (librdkafka name). (`receive.message.max.bytes`) */
  readonly receiveMessageMaxBytes: number
  /** How often onStatistics receives { ts, metrics, inspection } (producer.metrics() and producer.inspect() together); 0 turns it off. (`statistics.interval.ms`) */
  readonly statisticsIntervalMs: number
  /** Place keyed records like keyless ones (sticky partitioning) instead of by key hash. (`partitioner.ignore.keys`) */
  readonly partitionerIgnoreKeys: boolean
  /** Send less keyless data to partitions whose brokers have longer queues (KIP-794); off with a custom partitioner. (`partitioner.adaptive.partitioning.enable`) */
  readonly partitionerAdaptivePartitioningEnable: boolean
  /** Skip partitions of a broker that has not taken produce requests for this long (0: never); adaptive partitioning only. (`partitioner.availability.timeout.ms`) */
  readonly partitionerAvailabilityTimeoutMs: number
  /** Codec for record batches, compressed off the event loop as each batch closes. snappy needs the optional package 'snappy', lz4 'lz4-napi', zstd on Node < 22.15 '@toondepauw/node-zstd'. (`compression.type`) */
  readonly compressionType: CompressionCodec
  /** gzip compression level (KIP-390): 1 fastest to 9 smallest. (`compression.gzip.level`) */
  readonly compressionGzipLevel: number
  /** lz4 compression level (KIP-390), validated against Java's range but not applied: lz4-napi has no level and only LZ4's fast compressor, what Java uses at 9, so every level compresses the same (Java uses lz4-java's high-compression mode for the others). (`compression.lz4.level`) */
  readonly compressionLz4Level: number
  /** zstd compression level (KIP-390): negative levels are faster, 22 smallest; libzstd's range. (`compression.zstd.level`) */
  readonly compressionZstdLevel: number
  /** How to talk to brokers: TLS (SSL), SASL authentication, both, or neither; must agree with the ssl / sasl settings given. (`security.protocol`) */
  readonly securityProtocol: 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL'
  /** TLS: true for Node's CA store, or { ca, cert, key, passphrase, servername, rejectUnauthorized } with PEM strings or Buffers; not combinable with the ssl.*.location / .pem properties. */
  readonly ssl: true | SslOptions | null
  /** File of trusted CA certificates (PEM) instead of Node's CA store. (`ssl.ca.location`) */
  readonly sslCaLocation: string | null
  /** Trusted CA certificates as PEM text. (`ssl.ca.pem`) */
  readonly sslCaPem: string | null
  /** File with the client certificate chain (PEM), for brokers that require client authentication. (`ssl.certificate.location`) */
  readonly sslCertificateLocation: string | null
  /** The client certificate chain as PEM text. (`ssl.certificate.pem`) */
  readonly sslCertificatePem: string | null
  /** File with the client private key (PEM, possibly encrypted). (`ssl.key.location`) */
  readonly sslKeyLocation: string | null
  /** The client private key as PEM text (kept hidden). (`ssl.key.pem`) */
  readonly sslKeyPem: Secret | null
  /** Passphrase of an encrypted client private key (kept hidden). (`ssl.key.password`) */
  readonly sslKeyPassword: Secret | null
  /** Check that the broker certificate names the host connected to (https); '' or none turns only that check off. (`ssl.endpoint.identification.algorithm`) */
  readonly sslEndpointIdentificationAlgorithm: 'https' | '' | 'none'
  /** SASL: { mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512', username, password }, { mechanism: 'OAUTHBEARER', tokenProvider } or { mechanism: 'OAUTHBEARER', oidc: { tokenEndpointUrl, clientId, clientSecret, scope, extensions } }, or a custom mechanism { mechanism, create(context) }; not combinable with the sasl.* properties. */
  readonly sasl: SaslOptions | null
  /** SASL mechanism, with credentials from sasl.username / sasl.password, sasl.jaas.config or the sasl.oauthbearer.* properties. (`sasl.mechanism`) */
  readonly saslMechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512' | 'OAUTHBEARER' | null
  /** User name for PLAIN and SCRAM. (`sasl.username`) */
  readonly saslUsername: string | null
  /** Password for PLAIN and SCRAM (kept hidden). (`sasl.password`) */
  readonly saslPassword: Secret | null
  /** Java JAAS line with the credentials: PlainLoginModule / ScramLoginModule with username and password, or OAuthBearerLoginModule with clientId, clientSecret and scope (kept hidden). (`sasl.jaas.config`) */
  readonly saslJaasConfig: Secret | null
  /** oidc: fetch OAUTHBEARER tokens from sasl.oauthbearer.token.endpoint.url with the client credentials grant; 'default' needs a tokenProvider (sasl option) or the endpoint URL. (`sasl.oauthbearer.method`) */
  readonly saslOauthbearerMethod: 'default' | 'oidc'
  /** OAuth client id for the client credentials grant. (`sasl.oauthbearer.client.id`) */
  readonly saslOauthbearerClientId: string | null
  /** OAuth client secret for the client credentials grant (kept hidden). (`sasl.oauthbearer.client.secret`) */
  readonly saslOauthbearerClientSecret: Secret | null
  /** OAuth/OIDC token endpoint (http or https URL). (`sasl.oauthbearer.token.endpoint.url`) */
  readonly saslOauthbearerTokenEndpointUrl: string | null
  /** Scope to request with the token (sent when given). (`sasl.oauthbearer.scope`) */
  readonly saslOauthbearerScope: string | null
  /** SASL extensions sent with the token, as comma-separated key=value pairs. (`sasl.oauthbearer.extensions`) */
  readonly saslOauthbearerExtensions: string | null
  /** Initial wait before retrying a failed token request; doubles per attempt. (`sasl.login.retry.backoff.ms`) */
  readonly saslLoginRetryBackoffMs: number
  /** Total time spent retrying one token request before authentication fails. (`sasl.login.retry.backoff.max.ms`) */
  readonly saslLoginRetryBackoffMaxMs: number
  /** (topic, key, value, cluster) => partition for records sent without a partition; replaces key hashing and sticky choice. */
  readonly partitioner: CustomPartitioner | null
  /** Where runtime faults are logged: an object with warn and error (debug, info optional), called as logger.warn(fields, message): pino, bunyan or console. */
  readonly logger: Logger | null
  /** TLS and SASL as the connection layer uses them, resolved from the options above (not an option itself). */
  readonly security: ResolvedSecurity
}
// </config-interfaces:generated>

/**
 * The input of {@link resolveProducerConfig}: every option is optional except
 * the bootstrap servers, which may be given under either name.
 */
export type ProducerConfig = ProducerConfigOptions &
  (
    | {
        /** Brokers to fetch the initial metadata from (required under this name or `bootstrap.servers`). */
        bootstrapServers: string | readonly string[]
      }
    | {
        /** Brokers to fetch the initial metadata from (required under this name or `bootstrapServers`). */
        'bootstrap.servers': string | readonly string[]
      }
  )

/** Options of {@link resolveProducerConfig}. */
export interface ResolveProducerConfigOptions {
  /**
   * Receives what the Java producer logs as a warning while resolving (a value
   * adjusted to satisfy another one). Default: `process.emitWarning` with type
   * 'KafkaConfigWarning'.
   */
  readonly onWarning?: (message: string) => void
}

// ---------------------------------------------------------------------------
// Resolution
// ---------------------------------------------------------------------------

const BY_NAME = new Map<string, ConfigDefinition>(CONFIG_DEFINITIONS.map((d) => [d.name, d]))
const BY_KAFKA_NAME = new Map<string, ConfigDefinition>(
  CONFIG_DEFINITIONS.flatMap((d) => (d.kafkaName === null ? [] : [d.kafkaName, ...(d.aliases ?? [])].map((k) => [k, d] as const))),
)

function def(name: keyof ResolvedProducerConfig): ConfigDefinition {
  return BY_NAME.get(name)!
}

/** Java producer settings this client does not implement, for a clearer unknown-key error. */
const JAVA_ONLY_SETTINGS = new Set([
  'bootstrap.resolve.timeout.ms',
  'buffer.memory.allocation.strategy',
  'client.dns.lookup',
  'client.rack',
  'config.providers',
  'enable.metrics.push',
  'interceptor.classes',
  'key.serializer',
  'metadata.cluster.check.enable',
  'metadata.recovery.rebootstrap.trigger.ms',
  'metadata.recovery.strategy',
  'metric.reporters',
  'metrics.num.samples',
  'metrics.recording.level',
  'metrics.sample.window.ms',
  'partitioner.rack.aware',
  'receive.buffer.bytes',
  'security.providers',
  'send.buffer.bytes',
  'transaction.two.phase.commit.enable',
  'value.serializer',
])

/** A received value's type alone, for settings whose value may be a secret. */
function describeType(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`
}

/** Describes a received value for an error message. */
function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return `${JSON.stringify(value)} (string)`
    case 'number':
    case 'boolean':
      return `${String(value)} (${typeof value})`
    case 'bigint':
      return `${String(value)}n (bigint)`
    case 'function':
      return 'a function'
    case 'symbol':
      return 'a symbol'
    case 'undefined':
      return 'undefined'
    default:
      if (value === null) return 'null'
      if (Array.isArray(value)) {
        const json = safeJson(value)
        return json !== undefined && json.length <= 80 ? `${json} (array)` : `an array of ${value.length}`
      }
      return 'an object'
  }
}

function safeJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value)
  } catch {
    return undefined
  }
}

function rangeText(d: ConfigDefinition): string {
  const [min, max] = bounds(d)
  const also = d.alsoAllowed !== undefined && d.alsoAllowed.length > 0 ? ` or ${d.alsoAllowed.join(', ')}` : ''
  return `[${min}, ${max}]${also}`
}

function bounds(d: ConfigDefinition): [number, number] {
  return [d.min ?? 0, d.max ?? (d.type === 'int' ? INT_MAX : LONG_MAX)]
}

const DECIMAL_INTEGER = /^\s*[+-]?\d+\s*$/
const BOOLEAN_TEXT = /^\s*(true|false)\s*$/i

/**
 * Parses one value. `fromKafkaName`: the value came under the Kafka property
 * name, so the string forms of .properties files are accepted too.
 */
function parseValue(d: ConfigDefinition, key: string, value: unknown, fromKafkaName: boolean): unknown {
  switch (d.type) {
    case 'int':
    case 'long':
      return parseInteger(d, key, value, fromKafkaName)
    case 'boolean':
      if (typeof value === 'boolean') return value
      if (fromKafkaName && typeof value === 'string' && BOOLEAN_TEXT.test(value)) return value.trim().toLowerCase() === 'true'
      throw new KafkaConfigError(
        key,
        `expected a boolean${fromKafkaName ? " or the string 'true' / 'false'" : ''}, got ${describeValue(value)}${stringFormHint(d, value, fromKafkaName)}`,
      )
    case 'string':
      if (typeof value === 'string') return fromKafkaName ? value.trim() : value
      throw new KafkaConfigError(key, `expected a string, got ${describeValue(value)}`)
    case 'nullableString': {
      if (value === null) return null
      if (typeof value !== 'string') throw new KafkaConfigError(key, `expected a non-empty string or null, got ${describeValue(value)}`)
      const text = fromKafkaName ? value.trim() : value
      // Java's ConfigDef.NonEmptyString: an empty id is a mistake, not "unset".
      if (text === '') throw new KafkaConfigError(key, 'must not be empty; leave it unset (or null) for a producer without transactions')
      return text
    }
    case 'acks':
      return parseAcks(key, value, fromKafkaName)
    case 'compression':
      return parseCompression(key, value, fromKafkaName)
    case 'bootstrap':
      return parseBootstrapServers(key, value)
    case 'logger':
      if (value === null || isLogger(value)) return value
      throw new KafkaConfigError(key, `expected a logger: an object with warn and error functions (pino, bunyan, console), or null for the default, got ${describeValue(value)}`)
    case 'function':
      if (value === null || typeof value === 'function') return value
      throw new KafkaConfigError(key, `expected a function (topic, key, value, cluster) => partition, or null for the built-in partitioner, got ${describeValue(value)}`)
    case 'optional-string':
      if (value === null) return null
      if (typeof value === 'string') return fromKafkaName ? value.trim() : value
      throw new KafkaConfigError(key, `expected a string, got ${describeValue(value)}`)
    case 'password':
      if (value === null) return null
      if (typeof value === 'string' || value instanceof Secret) return Secret.of(value)
      // Never describe the value: it may be the secret, mistyped.
      throw new KafkaConfigError(key, `expected a string or a Secret, got ${value === null ? 'null' : typeof value}`)
    case 'enum': {
      if (value === null && d.default === null) return null
      const text = typeof value === 'string' ? (fromKafkaName ? value.trim() : value) : undefined
      // security.protocol and sasl.mechanism are matched case-insensitively (librdkafka does).
      const match = text === undefined ? undefined : d.allowed!.find((a) => a === text || a.toLowerCase() === text.toLowerCase())
      if (match !== undefined) return match
      const hint = d.name === 'saslMechanism' && text !== undefined ? "; other mechanisms (GSSAPI, AWS_MSK_IAM, …) can be given as a custom mechanism in the 'sasl' option" : ''
      throw new KafkaConfigError(key, `expected one of ${d.allowed!.map((a) => (a === '' ? "''" : a)).join(', ')}, got ${describeValue(value)}${hint}`)
    }
    case 'ssl':
      return parseSslOption(key, value)
    case 'sasl':
      return parseSaslOption(key, value)
  }
}

const SSL_KEYS = new Set(['ca', 'cert', 'key', 'passphrase', 'servername', 'rejectUnauthorized'])

function isPemValue(v: unknown): v is string | Buffer {
  return typeof v === 'string' || Buffer.isBuffer(v)
}

/** `ssl`: false/null → null, true → true, an object → a frozen copy with key and passphrase in Secrets. */
function parseSslOption(key: string, value: unknown): SslOptions | true | null {
  if (value === null || value === false) return null
  if (value === true) return true
  if (typeof value !== 'object' || Array.isArray(value)) {
    // Only the type: a mistyped value here may hold a private key or its passphrase.
    throw new KafkaConfigError(key, `expected true, false or { ca, cert, key, passphrase, servername, rejectUnauthorized }, got ${describeType(value)}`)
  }
  const o = value as Record<string, unknown>
  for (const k of Object.keys(o)) {
    if (!SSL_KEYS.has(k)) throw new KafkaConfigError(`${key}.${k}`, `unknown TLS option; expected one of ${[...SSL_KEYS].join(', ')}`)
  }
  const out: { -readonly [K in keyof SslOptions]: SslOptions[K] } = {}
  if (o.ca !== undefined) {
    const list = Array.isArray(o.ca) ? o.ca : [o.ca]
    if (list.length === 0 || !list.every(isPemValue)) throw new KafkaConfigError(`${key}.ca`, 'expected PEM text or a Buffer, or a non-empty list of them')
    out.ca = Object.freeze([...list])
  }
  if (o.cert !== undefined) {
    if (!isPemValue(o.cert)) throw new KafkaConfigError(`${key}.cert`, `expected PEM text or a Buffer, got ${describeValue(o.cert)}`)
    out.cert = o.cert
  }
  if (o.key !== undefined) {
    if (!isPemValue(o.key) && !(o.key instanceof Secret)) throw new KafkaConfigError(`${key}.key`, `expected PEM text, a Buffer or a Secret, got ${typeof o.key}`)
    out.key = Secret.of(o.key)
  }
  if (o.passphrase !== undefined) {
    if (typeof o.passphrase !== 'string' && !(o.passphrase instanceof Secret)) throw new KafkaConfigError(`${key}.passphrase`, `expected a string or a Secret, got ${typeof o.passphrase}`)
    out.passphrase = Secret.of(o.passphrase)
  }
  if (o.servername !== undefined) {
    if (typeof o.servername !== 'string' || o.servername === '') throw new KafkaConfigError(`${key}.servername`, `expected a non-empty host name, got ${describeValue(o.servername)}`)
    out.servername = o.servername
  }
  if (o.rejectUnauthorized !== undefined) {
    if (typeof o.rejectUnauthorized !== 'boolean') throw new KafkaConfigError(`${key}.rejectUnauthorized`, `expected a boolean, got ${describeValue(o.rejectUnauthorized)}`)
    out.rejectUnauthorized = o.rejectUnauthorized
  }
  return Object.freeze(out)
}

/** `sasl`: a frozen copy with passwords and client secrets in Secrets; a custom factory as is. */
function parseSaslOption(key: string, value: unknown): SaslOptions | null {
  if (value === null) return null
  if (typeof value !== 'object' || Array.isArray(value)) {
    // Only the type: a mistyped value here may hold a password or client secret.
    throw new KafkaConfigError(key, `expected { mechanism, ... } or a custom mechanism { mechanism, create }, got ${describeType(value)}`)
  }
  if (isSaslMechanismFactory(value)) return value
  const o = value as Record<string, unknown>
  const mechanism = o.mechanism
  const only = (allowed: string[]) => {
    for (const k of Object.keys(o)) {
      if (!allowed.includes(k)) throw new KafkaConfigError(`${key}.${k}`, `unknown option for ${String(mechanism)}; expected ${allowed.join(', ')}`)
    }
  }
  switch (mechanism) {
    case 'PLAIN':
    case 'SCRAM-SHA-256':
    case 'SCRAM-SHA-512': {
      only(['mechanism', 'username', 'password'])
      if (typeof o.username !== 'string' || o.username === '') throw new KafkaConfigError(`${key}.username`, `is required for ${mechanism}: a non-empty string`)
      if (typeof o.password !== 'string' && !(o.password instanceof Secret)) throw new KafkaConfigError(`${key}.password`, `is required for ${mechanism}: a string or a Secret`)
      return Object.freeze({ mechanism, username: o.username, password: Secret.of(o.password) })
    }
    case 'OAUTHBEARER': {
      if (o.tokenProvider !== undefined) {
        only(['mechanism', 'tokenProvider', 'extensions'])
        if (typeof o.tokenProvider !== 'function') throw new KafkaConfigError(`${key}.tokenProvider`, 'expected a function () => Promise<{ token, lifetimeMs }>')
        const extensions = parseExtensions(`${key}.extensions`, o.extensions)
        return Object.freeze({ mechanism, tokenProvider: o.tokenProvider as OAuthBearerTokenProvider, ...(extensions ? { extensions } : {}) })
      }
      if (o.oidc !== undefined) {
        only(['mechanism', 'oidc'])
        const oidc = o.oidc as Record<string, unknown>
        if (oidc === null || typeof oidc !== 'object') throw new KafkaConfigError(`${key}.oidc`, 'expected { tokenEndpointUrl, clientId, clientSecret, scope?, extensions? }')
        for (const k of Object.keys(oidc)) {
          if (!['tokenEndpointUrl', 'clientId', 'clientSecret', 'scope', 'extensions'].includes(k)) throw new KafkaConfigError(`${key}.oidc.${k}`, 'unknown option; expected tokenEndpointUrl, clientId, clientSecret, scope, extensions')
        }
        checkUrl(`${key}.oidc.tokenEndpointUrl`, oidc.tokenEndpointUrl)
        if (typeof oidc.clientId !== 'string' || oidc.clientId === '') throw new KafkaConfigError(`${key}.oidc.clientId`, 'is required: a non-empty string')
        if (typeof oidc.clientSecret !== 'string' && !(oidc.clientSecret instanceof Secret)) throw new KafkaConfigError(`${key}.oidc.clientSecret`, 'is required: a string or a Secret')
        if (oidc.scope !== undefined && typeof oidc.scope !== 'string') throw new KafkaConfigError(`${key}.oidc.scope`, `expected a string, got ${describeValue(oidc.scope)}`)
        const extensions = parseExtensions(`${key}.oidc.extensions`, oidc.extensions)
        return Object.freeze({
          mechanism,
          oidc: Object.freeze({
            tokenEndpointUrl: oidc.tokenEndpointUrl as string,
            clientId: oidc.clientId,
            clientSecret: Secret.of(oidc.clientSecret),
            ...(oidc.scope !== undefined ? { scope: oidc.scope } : {}),
            ...(extensions ? { extensions } : {}),
          }),
        })
      }
      throw new KafkaConfigError(key, "OAUTHBEARER needs a tokenProvider function or oidc: { tokenEndpointUrl, clientId, clientSecret }")
    }
    default:
      throw new KafkaConfigError(
        `${key}.mechanism`,
        `expected 'PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512' or 'OAUTHBEARER', or a custom mechanism object with mechanism and create(), got ${describeValue(mechanism)}`,
      )
  }
}

function checkUrl(key: string, value: unknown): void {
  let url: URL | undefined
  try {
    url = typeof value === 'string' ? new URL(value) : undefined
  } catch {
    url = undefined
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new KafkaConfigError(key, 'expected an http or https URL')
  }
}

function parseExtensions(key: string, value: unknown): Readonly<Record<string, string>> | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'object' || Array.isArray(value)) throw new KafkaConfigError(key, `expected an object of name: value strings, got ${describeValue(value)}`)
  const out = { ...(value as Record<string, string>) }
  try {
    validateSaslExtensions(out)
  } catch (e) {
    throw new KafkaConfigError(key, (e as Error).message.replace(/^OAUTHBEARER: /, ''))
  }
  return Object.freeze(out)
}

function stringFormHint(d: ConfigDefinition, value: unknown, fromKafkaName: boolean): string {
  if (fromKafkaName || typeof value !== 'string' || d.kafkaName === null) return ''
  return ` (camelCase options are strictly typed; the string form is accepted under '${d.kafkaName}')`
}

function parseInteger(d: ConfigDefinition, key: string, value: unknown, fromKafkaName: boolean): number {
  let n: number
  if (typeof value === 'number') n = value
  else if (fromKafkaName && typeof value === 'string' && DECIMAL_INTEGER.test(value)) n = Number(value.trim())
  else {
    const expected = fromKafkaName ? 'an integer or a decimal integer string' : 'an integer (number)'
    throw new KafkaConfigError(key, `expected ${expected} in ${rangeText(d)}, got ${describeValue(value)}${stringFormHint(d, value, fromKafkaName)}`)
  }
  const [min, max] = bounds(d)
  if (!Number.isInteger(n) || ((n < min || n > max) && !(d.alsoAllowed?.includes(n) ?? false))) {
    throw new KafkaConfigError(key, `expected an integer in ${rangeText(d)}, got ${describeValue(value)}`)
  }
  return n === 0 ? 0 : n // no -0
}

function parseAcks(key: string, value: unknown, fromKafkaName: boolean): -1 | 0 | 1 {
  const text = typeof value === 'string' ? (fromKafkaName ? value.trim() : value) : typeof value === 'number' ? String(value) : undefined
  switch (text) {
    case 'all':
    case '-1':
      return -1
    case '0':
      return 0
    case '1':
      return 1
    default:
      throw new KafkaConfigError(key, `expected one of 'all', -1, 0, 1 (or the strings '-1', '0', '1'), got ${describeValue(value)}`)
  }
}

// Case-sensitive, as Java's ValidString for compression.type.
function parseCompression(key: string, value: unknown, fromKafkaName: boolean): CompressionCodec {
  const text = typeof value === 'string' ? (fromKafkaName ? value.trim() : value) : undefined
  if (text !== undefined && (COMPRESSION_CODECS as readonly string[]).includes(text)) return text as CompressionCodec
  throw new KafkaConfigError(key, `expected one of ${COMPRESSION_CODECS.join(', ')}, got ${describeValue(value)}`)
}

// host:port, with an optional scheme-like prefix the Java client also ignores
// ("PLAINTEXT://host:9092"). IPv6 literals must be bracketed.
const ADDRESS = /^(?:[0-9A-Za-z\-%._]*:\/\/)?(?:\[([^\]]*)\]|([^:[\]]*)):([0-9]+)$/
const HOST_NAME = /^[0-9A-Za-z\-%._]+$/

function parseBootstrapServers(key: string, value: unknown): readonly BrokerAddress[] {
  let entries: readonly unknown[]
  if (typeof value === 'string') entries = value.trim() === '' ? [] : value.split(',')
  else if (Array.isArray(value)) entries = value
  else throw new KafkaConfigError(key, `expected a list of 'host:port' strings or one comma-separated string, got ${describeValue(value)}`)
  if (entries.length === 0) throw new KafkaConfigError(key, 'expected at least one broker address (host:port), got none')

  const addresses: BrokerAddress[] = []
  const seen = new Set<string>()
  for (const entry of entries) {
    if (typeof entry !== 'string') {
      throw new KafkaConfigError(key, `expected every entry to be a 'host:port' string, got ${describeValue(entry)}`)
    }
    const address = parseAddress(key, entry.trim())
    // Java de-duplicates the list; so do we, keeping the first occurrence.
    const id = `${address.host.toLowerCase()}|${address.port}`
    if (seen.has(id)) continue
    seen.add(id)
    addresses.push(address)
  }
  return Object.freeze(addresses)
}

function parseAddress(key: string, text: string): BrokerAddress {
  if (text === '') throw new KafkaConfigError(key, 'contains an empty entry (check for doubled or trailing commas)')
  const m = ADDRESS.exec(text)
  if (m === null) {
    const hint = /^[^[]*:.*:/.test(text) ? ' (write IPv6 addresses in brackets: [::1]:9092)' : ''
    throw new KafkaConfigError(key, `invalid broker address ${JSON.stringify(text)}: expected host:port${hint}`)
  }
  const [, bracketed, plain, portText] = m
  let host: string
  if (bracketed !== undefined) {
    // An IPv6 literal, optionally with a zone id (fe80::1%eth0).
    if (!/^[0-9A-Fa-f:.]+(%[0-9A-Za-z\-._]+)?$/.test(bracketed) || !bracketed.includes(':')) {
      throw new KafkaConfigError(key, `invalid broker address ${JSON.stringify(text)}: brackets must hold an IPv6 address`)
    }
    host = bracketed
  } else {
    host = plain!
    if (!HOST_NAME.test(host)) throw new KafkaConfigError(key, `invalid broker address ${JSON.stringify(text)}: bad or missing host name`)
  }
  const port = Number(portText)
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new KafkaConfigError(key, `invalid broker address ${JSON.stringify(text)}: port must be in [1, 65535]`)
  }
  return Object.freeze({ host, port })
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true
  if (a instanceof Secret && b instanceof Secret) return a.equals(b)
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x: BrokerAddress, i) => x.host === b[i].host && x.port === b[i].port)
  }
  return false
}

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    prev = cur
  }
  return prev[b.length]!
}

/** The known name closest to `key`, when the difference looks like a typo. */
function suggestName(key: string): string | undefined {
  const squash = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '')
  const wanted = squash(key)
  if (wanted === '') return undefined
  const kafkaStyle = /[._-]/.test(key) || key === key.toLowerCase()
  let best: ConfigDefinition | undefined
  let bestDistance = Infinity
  for (const d of CONFIG_DEFINITIONS) {
    const distance = levenshtein(wanted, squash(d.name))
    if (distance < bestDistance) {
      best = d
      bestDistance = distance
    }
  }
  const threshold = wanted.length <= 4 ? 1 : wanted.length <= 10 ? 2 : 3
  if (best === undefined || bestDistance > threshold) return undefined
  return kafkaStyle && best.kafkaName !== null ? best.kafkaName : best.name
}

function unknownKeyError(key: string): KafkaConfigError {
  if (key === 'partitioner.class') {
    return new KafkaConfigError(key, "unknown option; give a custom partitioner as the 'partitioner' option (a function)")
  }
  if (JAVA_ONLY_SETTINGS.has(key) || key.startsWith('ssl.') || key.startsWith('sasl.')) {
    // Java's JKS/PKCS12 stores have PEM equivalents here (librdkafka's names).
    const hint = key.startsWith('ssl.truststore.')
      ? '; give trusted CAs as ssl.ca.location or ssl.ca.pem (PEM)'
      : key.startsWith('ssl.keystore.')
        ? '; give the client certificate and key as ssl.certificate.location / ssl.key.location (or .pem, PEM)'
        : ''
    return new KafkaConfigError(key, `this Java producer setting is not supported by this client${hint}`)
  }
  const suggestion = suggestName(key)
  return new KafkaConfigError(key, `unknown option${suggestion !== undefined ? `; did you mean '${suggestion}'?` : ''}`)
}

interface GivenValue {
  readonly key: string
  readonly raw: unknown
  readonly value: unknown
}

function defaultWarning(message: string): void {
  process.emitWarning(message, { type: 'KafkaConfigWarning' })
}

/**
 * Validates `input` and returns the complete, normalized configuration
 * (frozen). Throws {@link KafkaConfigError} naming the offending key on an
 * unknown key, a value of the wrong type or out of range, the two names of
 * one option given different values, or a violated cross-field rule.
 *
 * Normalizations (what the Java producer effectively uses):
 * - acks → -1 / 0 / 1; bootstrap servers → de-duplicated {host, port} list;
 * - lingerMs capped at 2^31-1; batchSize 0 → 1;
 * - deliveryTimeoutMs raised to lingerMs + requestTimeoutMs when it was not
 *   given and is smaller (with a warning);
 * - retry / reconnect backoff and connection setup timeout: the initial value
 *   is lowered to the max when above it (the backoff is then constant), and a
 *   reconnect.backoff.ms given alone also becomes reconnect.backoff.max.ms;
 *   a given pair with min > max is an error;
 * - partitionerAdaptivePartitioningEnable is false with a custom partitioner.
 */
export function resolveProducerConfig(input: ProducerConfig, options: ResolveProducerConfigOptions = {}): ResolvedProducerConfig {
  const warn = options.onWarning ?? defaultWarning
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new KafkaConfigError('(config)', `expected an object of options, got ${describeValue(input)}`)
  }

  const given = new Map<ConfigDefinition, GivenValue>()
  for (const key of Object.keys(input)) {
    const raw = (input as unknown as Record<string, unknown>)[key]
    if (raw === undefined) continue
    const byKafkaName = BY_KAFKA_NAME.get(key)
    const d = byKafkaName ?? BY_NAME.get(key)
    if (d === undefined) throw unknownKeyError(key)
    // Kafka names ('acks' and 'retries' are also camelCase names) take the .properties string forms too.
    const value = parseValue(d, key, raw, byKafkaName !== undefined)
    const previous = given.get(d)
    if (previous !== undefined) {
      if (!sameValue(previous.value, value)) {
        if (d.type === 'password') {
          throw new KafkaConfigError(key, `differs from '${previous.key}': both name the same option; give only one of them`)
        }
        throw new KafkaConfigError(
          key,
          `is ${describeValue(raw)} but '${previous.key}' is ${describeValue(previous.raw)}: both name the same option; give only one of them`,
        )
      }
      continue
    }
    given.set(d, { key, raw, value })
  }

  const values: Record<string, unknown> = {}
  for (const d of CONFIG_DEFINITIONS) {
    const g = given.get(d)
    if (g !== undefined) values[d.name] = g.value
    else if (d.default === undefined) {
      throw new KafkaConfigError(d.kafkaName ?? d.name, `is required: give '${d.name}' (or '${d.kafkaName}'), e.g. ['localhost:9092']`)
    } else values[d.name] = d.type === 'acks' ? parseAcks(d.name, d.default, false) : d.default
  }
  // Read after every other value is known: TLS/SASL depend on several of them.
  const security = resolveSecurity(values as unknown as ResolvedProducerConfig, (name) => given.get(def(name))?.key)
  values.securityProtocol = security.protocol
  values.security = security
  const r = values as { -readonly [K in keyof ResolvedProducerConfig]: ResolvedProducerConfig[K] }

  /** How to call an option in a message: as the user wrote it, else its Kafka name. */
  const label = (name: keyof ResolvedProducerConfig) => {
    const d = def(name)
    return given.get(d)?.key ?? d.kafkaName ?? d.name
  }
  const isGiven = (name: keyof ResolvedProducerConfig) => given.has(def(name))

  // KafkaProducer works with an int linger; Node timers cap at 2^31-1 ms too.
  r.lingerMs = Math.min(r.lingerMs, INT_MAX)
  // KafkaProducer: Math.max(1, batch.size).
  r.batchSize = Math.max(1, r.batchSize)

  // KafkaProducer.configureDeliveryTimeout.
  const minDeliveryTimeout = Math.min(r.lingerMs + r.requestTimeoutMs, INT_MAX)
  if (r.deliveryTimeoutMs < minDeliveryTimeout) {
    if (isGiven('deliveryTimeoutMs')) {
      throw new KafkaConfigError(
        label('deliveryTimeoutMs'),
        `must be >= ${label('lingerMs')} + ${label('requestTimeoutMs')} (${r.lingerMs} + ${r.requestTimeoutMs} = ${minDeliveryTimeout}), got ${r.deliveryTimeoutMs}`,
      )
    }
    warn(
      `${label('deliveryTimeoutMs')} should be equal to or larger than ${label('lingerMs')} + ${label('requestTimeoutMs')}; setting it to ${minDeliveryTimeout}`,
    )
    r.deliveryTimeoutMs = minDeliveryTimeout
  }

  // CommonClientConfigs.postProcessReconnectBackoffConfigs: reconnect.backoff.ms
  // given without reconnect.backoff.max.ms disables the exponential growth.
  if (isGiven('reconnectBackoffMs') && !isGiven('reconnectBackoffMaxMs')) {
    if (r.reconnectBackoffMaxMs !== r.reconnectBackoffMs) {
      warn(
        `Disabling exponential reconnect backoff because ${label('reconnectBackoffMs')} is set, but ${label('reconnectBackoffMaxMs')} is not; using a constant ${r.reconnectBackoffMs} ms`,
      )
    }
    r.reconnectBackoffMaxMs = r.reconnectBackoffMs
  }

  // Java's ExponentialBackoff uses min(initial, max) as a constant backoff when
  // initial > max (warning for retry and connection setup, silently for
  // reconnect). Both given that way is an error here.
  const pairs: [keyof ResolvedProducerConfig, keyof ResolvedProducerConfig, boolean][] = [
    ['retryBackoffMs', 'retryBackoffMaxMs', true],
    ['reconnectBackoffMs', 'reconnectBackoffMaxMs', false],
    ['socketConnectionSetupTimeoutMs', 'socketConnectionSetupTimeoutMaxMs', true],
  ]
  for (const [initial, max, javaWarns] of pairs) {
    const initialValue = r[initial] as number
    const maxValue = r[max] as number
    if (initialValue <= maxValue) continue
    if (isGiven(initial) && isGiven(max)) {
      throw new KafkaConfigError(label(max), `must be >= ${label(initial)} (${initialValue}), got ${maxValue}`)
    }
    if (javaWarns) {
      warn(`${label(initial)} (${initialValue}) is greater than ${label(max)} (${maxValue}); a constant ${maxValue} ms will be applied`)
    }
    ;(r as Record<string, unknown>)[initial] = maxValue
  }

  // ProducerConfig.postProcessAndValidateIdempotenceConfigs: conflicting settings turn an implicit
  // idempotence off, and are an error when idempotence was asked for explicitly.
  if (r.enableIdempotence) {
    if (r.maxInFlightRequestsPerConnection > 5) {
      throw new KafkaConfigError(
        label('maxInFlightRequestsPerConnection'),
        `must be at most 5 with idempotence (${label('enableIdempotence')}, on by default), got ${r.maxInFlightRequestsPerConnection}; set ${label('enableIdempotence')}: false to allow more`,
      )
    }
    const conflicts: string[] = []
    if (r.acks !== -1) conflicts.push(`${label('acks')} is ${r.acks}, not 'all'`)
    if (r.retries === 0) conflicts.push(`${label('retries')} is 0`)
    if (conflicts.length > 0) {
      if (isGiven('enableIdempotence')) {
        throw new KafkaConfigError(
          label('enableIdempotence'),
          `the idempotent producer needs acks=all and retries > 0, but ${conflicts.join(' and ')}; otherwise idempotence cannot be guaranteed`,
        )
      }
      warn(`Idempotence will be disabled because ${conflicts.join(' and ')}`)
      r.enableIdempotence = false
    }
  }
  // Checked after the idempotence rules, which may have turned an implicit idempotence off (as Java does).
  if (r.transactionalId !== null && !r.enableIdempotence) {
    throw new KafkaConfigError(
      label('transactionalId'),
      isGiven('enableIdempotence')
        ? `cannot be set with ${label('enableIdempotence')}: false; transactions need the idempotent producer`
        : `cannot be set without idempotence, which is off because ${label('acks')} is not 'all' or ${label('retries')} is 0`,
    )
  }

  // KafkaProducer: adaptive partitioning only applies to the built-in partitioner.
  if (r.partitioner !== null) r.partitionerAdaptivePartitioningEnable = false

  // Levels are validated whatever the codec, as Java's ConfigDef does.
  if (r.compressionType !== 'none') {
    // Loads the codec's optional native package now, so a missing one fails construction naming it.
    ensureCodecAvailable(r.compressionType, label('compressionType'))
  }

  return Object.freeze(r)
}

// ---------------------------------------------------------------------------
// Security: the ssl / sasl options or their Kafka properties, resolved into the
// one ResolvedSecurity the connection layer uses. Files are read here, once,
// so a missing certificate fails the producer's construction, as a bad key
// store fails Java's (SslFactory.configure). No message quotes a secret.
// ---------------------------------------------------------------------------

const SSL_PROPERTIES = ['sslCaLocation', 'sslCaPem', 'sslCertificateLocation', 'sslCertificatePem', 'sslKeyLocation', 'sslKeyPem', 'sslKeyPassword'] as const
const SASL_PROPERTIES = [
  'saslMechanism',
  'saslUsername',
  'saslPassword',
  'saslJaasConfig',
  'saslOauthbearerClientId',
  'saslOauthbearerClientSecret',
  'saslOauthbearerTokenEndpointUrl',
  'saslOauthbearerScope',
  'saslOauthbearerExtensions',
] as const

type GivenKey = (name: keyof ResolvedProducerConfig) => string | undefined

function resolveSecurity(v: ResolvedProducerConfig, givenKey: GivenKey): ResolvedSecurity {
  const label = (name: keyof ResolvedProducerConfig) => givenKey(name) ?? def(name).kafkaName ?? name
  const isSet = (name: keyof ResolvedProducerConfig) => givenKey(name) !== undefined && v[name] !== null
  const sslProps = SSL_PROPERTIES.filter(isSet)
  const saslProps = [...SASL_PROPERTIES.filter(isSet), ...(isSet('saslOauthbearerMethod') && v.saslOauthbearerMethod !== 'default' ? (['saslOauthbearerMethod'] as const) : [])]
  const sslObject = v.ssl
  const saslObject = v.sasl

  if (sslObject !== null && sslObject !== true && sslProps.length > 0) {
    throw new KafkaConfigError(label(sslProps[0]!), `cannot be combined with the '${label('ssl')}' object; put the certificate, key and CA there, or give ssl: true`)
  }
  if (saslObject !== null && saslProps.length > 0) {
    throw new KafkaConfigError(label(saslProps[0]!), `cannot be combined with the '${label('sasl')}' option; give the credentials in one of the two forms`)
  }
  const tlsKey = sslObject !== null ? label('ssl') : sslProps.length > 0 ? label(sslProps[0]!) : undefined
  const saslKey = saslObject !== null ? label('sasl') : saslProps.length > 0 ? label(saslProps[0]!) : undefined

  let protocol: SecurityProtocol
  if (givenKey('securityProtocol') !== undefined) {
    protocol = v.securityProtocol as SecurityProtocol
    const proto = label('securityProtocol')
    if (tlsKey !== undefined && protocol !== 'SSL' && protocol !== 'SASL_SSL') {
      throw new KafkaConfigError(tlsKey, `TLS settings need ${proto} SSL or SASL_SSL, but it is ${protocol}`)
    }
    if (saslKey !== undefined && protocol !== 'SASL_PLAINTEXT' && protocol !== 'SASL_SSL') {
      throw new KafkaConfigError(saslKey, `SASL settings need ${proto} SASL_PLAINTEXT or SASL_SSL, but it is ${protocol}`)
    }
  } else {
    // Properties alone do not switch TLS / SASL on (as in Java and librdkafka, where they
    // would be ignored); silently ignoring a CA or a password is worse than an error.
    if (sslObject === null && tlsKey !== undefined) {
      throw new KafkaConfigError(tlsKey, `is set but TLS is off: set security.protocol to SSL or SASL_SSL, or ssl: true`)
    }
    if (saslObject === null && saslKey !== undefined) {
      throw new KafkaConfigError(saslKey, `is set but SASL is off: set security.protocol to SASL_PLAINTEXT or SASL_SSL`)
    }
    const tlsOn = sslObject !== null
    const saslOn = saslObject !== null
    protocol = tlsOn ? (saslOn ? 'SASL_SSL' : 'SSL') : saslOn ? 'SASL_PLAINTEXT' : 'PLAINTEXT'
  }
  if (protocol === 'PLAINTEXT') return PLAINTEXT_SECURITY
  const tls = protocol === 'SSL' || protocol === 'SASL_SSL' ? resolveTls(v, label, isSet) : null
  const sasl = protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL' ? resolveSasl(v, label, isSet) : null
  return Object.freeze({ protocol, tls, sasl })
}

function readPemFile(key: string, file: string): Buffer {
  try {
    return fs.readFileSync(file)
  } catch (e) {
    throw new KafkaConfigError(key, `cannot read ${JSON.stringify(file)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
  }
}

const hasPem = (v: string | Buffer, marker: RegExp) => marker.test(typeof v === 'string' ? v : v.toString('latin1'))
const CERT_MARKER = /-----BEGIN CERTIFICATE-----/

function resolveTls(v: ResolvedProducerConfig, label: (n: keyof ResolvedProducerConfig) => string, isSet: (n: keyof ResolvedProducerConfig) => boolean): ResolvedTls {
  let ca: readonly (string | Buffer)[] | undefined
  let cert: string | Buffer | undefined
  let key: Secret | undefined
  let passphrase: Secret | undefined
  let servername: string | undefined
  let rejectUnauthorized = true
  let caKey: string, certKey: string, keyKey: string, passKey: string
  const o = v.ssl
  if (o !== null && o !== true) {
    caKey = `${label('ssl')}.ca`
    certKey = `${label('ssl')}.cert`
    keyKey = `${label('ssl')}.key`
    passKey = `${label('ssl')}.passphrase`
    ca = o.ca === undefined ? undefined : ((Array.isArray(o.ca) ? o.ca : [o.ca]) as (string | Buffer)[])
    cert = o.cert
    key = o.key === undefined ? undefined : Secret.of(o.key)
    passphrase = o.passphrase === undefined ? undefined : Secret.of(o.passphrase)
    servername = o.servername
    rejectUnauthorized = o.rejectUnauthorized ?? true
  } else {
    const both = (a: keyof ResolvedProducerConfig, b: keyof ResolvedProducerConfig) => {
      if (isSet(a) && isSet(b)) throw new KafkaConfigError(label(b), `give either ${label(a)} or ${label(b)}, not both`)
    }
    both('sslCaLocation', 'sslCaPem')
    both('sslCertificateLocation', 'sslCertificatePem')
    both('sslKeyLocation', 'sslKeyPem')
    caKey = label(isSet('sslCaLocation') ? 'sslCaLocation' : 'sslCaPem')
    certKey = label(isSet('sslCertificateLocation') ? 'sslCertificateLocation' : 'sslCertificatePem')
    keyKey = label(isSet('sslKeyLocation') ? 'sslKeyLocation' : 'sslKeyPem')
    passKey = label('sslKeyPassword')
    if (v.sslCaPem !== null) ca = [v.sslCaPem]
    else if (v.sslCaLocation !== null) ca = [readPemFile(caKey, v.sslCaLocation)]
    if (v.sslCertificatePem !== null) cert = v.sslCertificatePem
    else if (v.sslCertificateLocation !== null) cert = readPemFile(certKey, v.sslCertificateLocation)
    if (v.sslKeyPem !== null) key = v.sslKeyPem
    else if (v.sslKeyLocation !== null) key = new Secret(readPemFile(keyKey, v.sslKeyLocation))
    passphrase = v.sslKeyPassword ?? undefined
  }
  if (ca !== undefined && !ca.every((c) => hasPem(c, CERT_MARKER))) throw new KafkaConfigError(caKey, 'expected PEM certificates (-----BEGIN CERTIFICATE-----)')
  if (cert !== undefined && !hasPem(cert, CERT_MARKER)) throw new KafkaConfigError(certKey, 'expected a PEM certificate chain (-----BEGIN CERTIFICATE-----)')
  if (cert !== undefined && key === undefined) throw new KafkaConfigError(certKey, `a client certificate needs its private key (${keyKey})`)
  if (key !== undefined && cert === undefined) throw new KafkaConfigError(keyKey, `a private key needs its client certificate (${certKey})`)
  if (passphrase !== undefined && key === undefined) throw new KafkaConfigError(passKey, `is set but there is no private key (${keyKey})`)
  if (key !== undefined) {
    // Decrypt once now, as Java loads the key store at start: a wrong passphrase fails here, not at every connect.
    try {
      createPrivateKey({ key: key.reveal(), format: 'pem', ...(passphrase !== undefined ? { passphrase: passphrase.revealString() } : {}) })
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      // OpenSSL 3 reports a missing passphrase as an interrupted prompt; the PEM header says it plainly.
      const encrypted = hasPem(key.reveal(), /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/)
      const why =
        code === 'ERR_MISSING_PASSPHRASE' || (encrypted && passphrase === undefined)
          ? `is encrypted: give its passphrase (${passKey})`
          : passphrase !== undefined
            ? `could not be decrypted with ${passKey} (wrong passphrase?) or is not a PEM private key`
            : 'is not a PEM private key'
      throw new KafkaConfigError(keyKey, why)
    }
  }
  return makeResolvedTls({
    ca: ca === undefined ? undefined : Object.freeze([...ca]),
    cert,
    key,
    passphrase,
    servername,
    rejectUnauthorized,
    verifyHostname: v.sslEndpointIdentificationAlgorithm === 'https',
  })
}

/** librdkafka's sasl.oauthbearer.extensions: "k1=v1,k2=v2". */
function parseExtensionList(key: string, text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const part of text.split(',')) {
    if (part.trim() === '') continue
    const eq = part.indexOf('=')
    if (eq <= 0) throw new KafkaConfigError(key, `expected comma-separated key=value pairs, got an entry without '='`)
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim()
  }
  return out
}

function resolveSasl(v: ResolvedProducerConfig, label: (n: keyof ResolvedProducerConfig) => string, isSet: (n: keyof ResolvedProducerConfig) => boolean): SaslMechanismFactory {
  const retry = { retryBackoffMs: v.saslLoginRetryBackoffMs, retryBackoffMaxMs: v.saslLoginRetryBackoffMaxMs }
  const oidcFactory = (key: string, o: SaslOidcOptions): SaslMechanismFactory => {
    let provider: OidcClientCredentialsProvider
    try {
      provider = new OidcClientCredentialsProvider({ ...o, ...retry })
    } catch (e) {
      if (e instanceof KafkaAuthenticationError) throw new KafkaConfigError(key, e.message.replace(/^OIDC: /, ''))
      throw e
    }
    const p = provider
    return oauthBearerFactory(p.getToken, {}, { setLogger: (warn) => p.setRefreshFailureListener(warn), close: () => p.close() })
  }

  const o = v.sasl
  if (o !== null) {
    if (isSaslMechanismFactory(o)) return o
    switch (o.mechanism) {
      case 'PLAIN':
        return plainFactory(o.username, o.password)
      case 'SCRAM-SHA-256':
      case 'SCRAM-SHA-512':
        return scramFactory(o.mechanism, o.username, o.password)
      case 'OAUTHBEARER':
        if ('tokenProvider' in o) return oauthBearerFactory(o.tokenProvider, o.extensions ?? {})
        return oidcFactory(`${label('sasl')}.oidc`, o.oidc)
    }
  }

  const mechanism = v.saslMechanism
  if (mechanism === null) {
    throw new KafkaConfigError(
      label('saslMechanism'),
      `is required with ${label('securityProtocol')} ${v.securityProtocol}: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER (or give the 'sasl' option)`,
    )
  }
  let jaas: ReturnType<typeof parseJaasConfig> | null = null
  if (v.saslJaasConfig !== null) {
    try {
      jaas = parseJaasConfig(v.saslJaasConfig.revealString())
    } catch (e) {
      if (e instanceof JaasParseError) throw new KafkaConfigError(label('saslJaasConfig'), `cannot be parsed: ${e.message}`)
      throw e
    }
    const expected = mechanism === 'PLAIN' ? PLAIN_LOGIN_MODULE : mechanism === 'OAUTHBEARER' ? OAUTHBEARER_LOGIN_MODULE : SCRAM_LOGIN_MODULE
    if (jaas.loginModule !== expected) {
      throw new KafkaConfigError(label('saslJaasConfig'), `names login module ${jaas.loginModule}, but ${label('saslMechanism')} ${mechanism} needs ${expected}`)
    }
  }

  if (mechanism === 'PLAIN' || mechanism === 'SCRAM-SHA-256' || mechanism === 'SCRAM-SHA-512') {
    let username: string
    let password: Secret
    if (jaas !== null) {
      if (isSet('saslUsername') || isSet('saslPassword')) {
        throw new KafkaConfigError(label(isSet('saslUsername') ? 'saslUsername' : 'saslPassword'), `give the credentials either in ${label('saslJaasConfig')} or as sasl.username / sasl.password, not both`)
      }
      if (!jaas.options.username) throw new KafkaConfigError(label('saslJaasConfig'), 'has no username option')
      if (jaas.options.password === undefined) throw new KafkaConfigError(label('saslJaasConfig'), 'has no password option')
      username = jaas.options.username
      password = new Secret(jaas.options.password)
    } else {
      if (v.saslUsername === null || v.saslUsername === '') throw new KafkaConfigError(label('saslUsername'), `is required for ${mechanism} (or give ${label('saslJaasConfig')})`)
      if (v.saslPassword === null) throw new KafkaConfigError(label('saslPassword'), `is required for ${mechanism} (or give ${label('saslJaasConfig')})`)
      username = v.saslUsername
      password = v.saslPassword
    }
    for (const n of ['saslOauthbearerClientId', 'saslOauthbearerClientSecret', 'saslOauthbearerTokenEndpointUrl', 'saslOauthbearerScope', 'saslOauthbearerExtensions'] as const) {
      if (isSet(n)) throw new KafkaConfigError(label(n), `applies to OAUTHBEARER only, but ${label('saslMechanism')} is ${mechanism}`)
    }
    return mechanism === 'PLAIN' ? plainFactory(username, password) : scramFactory(mechanism, username, password)
  }

  // OAUTHBEARER through properties: the OIDC client-credentials grant.
  for (const n of ['saslUsername', 'saslPassword'] as const) {
    if (isSet(n)) throw new KafkaConfigError(label(n), `does not apply to OAUTHBEARER; give sasl.oauthbearer.client.id / client.secret`)
  }
  const url = v.saslOauthbearerTokenEndpointUrl
  if (url === null) {
    if (v.saslOauthbearerMethod === 'oidc') throw new KafkaConfigError(label('saslOauthbearerTokenEndpointUrl'), `is required with ${label('saslOauthbearerMethod')}=oidc`)
    throw new KafkaConfigError(
      label('saslMechanism'),
      "OAUTHBEARER needs a token source: sasl.oauthbearer.method=oidc with sasl.oauthbearer.token.endpoint.url, client.id and client.secret, or the 'sasl' option with a tokenProvider",
    )
  }
  checkUrl(label('saslOauthbearerTokenEndpointUrl'), url)
  const opt = jaas?.options ?? {}
  const clientId = v.saslOauthbearerClientId ?? opt.clientId ?? null
  const clientSecret = v.saslOauthbearerClientSecret ?? (opt.clientSecret !== undefined ? new Secret(opt.clientSecret) : null)
  const scope = v.saslOauthbearerScope ?? opt.scope
  if (clientId === null || clientId === '') throw new KafkaConfigError(label('saslOauthbearerClientId'), 'is required for the OIDC client credentials grant')
  if (clientSecret === null) throw new KafkaConfigError(label('saslOauthbearerClientSecret'), 'is required for the OIDC client credentials grant')
  // Java's OAuthBearerLoginModule takes extensions as extension_<name> JAAS options.
  const extensions: Record<string, string> = {}
  for (const [k, val] of Object.entries(opt)) if (k.startsWith('extension_')) extensions[k.slice('extension_'.length)] = val
  if (v.saslOauthbearerExtensions !== null) Object.assign(extensions, parseExtensionList(label('saslOauthbearerExtensions'), v.saslOauthbearerExtensions))
  const extKey = isSet('saslOauthbearerExtensions') ? label('saslOauthbearerExtensions') : label('saslJaasConfig')
  const checked = Object.keys(extensions).length > 0 ? parseExtensions(extKey, extensions) : undefined
  return oidcFactory(label('saslOauthbearerTokenEndpointUrl'), {
    tokenEndpointUrl: url,
    clientId,
    clientSecret,
    ...(scope ? { scope } : {}),
    ...(checked ? { extensions: checked } : {}),
  })
}
