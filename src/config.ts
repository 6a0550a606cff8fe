import type { Cluster } from './clients/cluster.js'
import { KafkaConfigError } from './errors.js'

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
  readonly host: string
  readonly port: number
}

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

/** One producer option. */
export interface ConfigDefinition {
  /** The camelCase option name. */
  readonly name: keyof ResolvedProducerConfig
  /** The Java/Kafka property name, or null when the option has none (functions). */
  readonly kafkaName: string | null
  readonly type: ConfigValueType
  /** Default value as a user would write it; `undefined` means required. */
  readonly default: string | number | boolean | null | undefined
  /** Shown after the default in docs, e.g. '16 KiB'. */
  readonly defaultNote?: string
  /** Inclusive bounds for 'int' / 'long'; the type's bounds when absent (min 0). */
  readonly min?: number
  readonly max?: number
  /** Accepted values, for enumerated types (docs and error messages). */
  readonly allowed?: readonly string[]
  /** One-line meaning. */
  readonly doc: string
  /** What this client does differently from the Java default/semantics, if anything. */
  readonly javaNote?: string
}

const INT_MAX = 2147483647
const LONG_MAX = Number.MAX_SAFE_INTEGER

const COMPRESSION_CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const

function frozenTable(definitions: ConfigDefinition[]): readonly ConfigDefinition[] {
  for (const d of definitions) {
    if (d.allowed !== undefined) Object.freeze(d.allowed)
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
      allowed: ['none'],
      doc: 'Batch compression codec; only none is supported for now.',
      javaNote: 'Java also accepts gzip, snappy, lz4 and zstd.',
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
   * Batch compression codec; only none is supported for now.
   *
   * Kafka name: `compression.type`. Default: `none`. Values: none.
   * Java also accepts gzip, snappy, lz4 and zstd.
   */
  compressionType?: 'none'
  /** Kafka name of {@link ProducerConfigOptions.compressionType}. */
  'compression.type'?: 'none'
  /**
   * (topic, key, value, cluster) => partition for records sent without a partition; replaces key hashing and sticky choice.
   *
   * Default: `null` (the built-in partitioner).
   * Replaces Java's partitioner.class.
   */
  partitioner?: CustomPartitioner | null
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
  /** Place keyed records like keyless ones (sticky partitioning) instead of by key hash. (`partitioner.ignore.keys`) */
  readonly partitionerIgnoreKeys: boolean
  /** Send less keyless data to partitions whose brokers have longer queues (KIP-794); off with a custom partitioner. (`partitioner.adaptive.partitioning.enable`) */
  readonly partitionerAdaptivePartitioningEnable: boolean
  /** Skip partitions of a broker that has not taken produce requests for this long (0: never); adaptive partitioning only. (`partitioner.availability.timeout.ms`) */
  readonly partitionerAvailabilityTimeoutMs: number
  /** Batch compression codec; only none is supported for now. (`compression.type`) */
  readonly compressionType: 'none'
  /** (topic, key, value, cluster) => partition for records sent without a partition; replaces key hashing and sticky choice. */
  readonly partitioner: CustomPartitioner | null
}
// </config-interfaces:generated>

/**
 * The input of {@link resolveProducerConfig}: every option is optional except
 * the bootstrap servers, which may be given under either name.
 */
export type ProducerConfig = ProducerConfigOptions &
  ({ bootstrapServers: string | readonly string[] } | { 'bootstrap.servers': string | readonly string[] })

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
  CONFIG_DEFINITIONS.filter((d) => d.kafkaName !== null).map((d) => [d.kafkaName as string, d]),
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
  'compression.gzip.level',
  'compression.lz4.level',
  'compression.zstd.level',
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
  'security.protocol',
  'security.providers',
  'send.buffer.bytes',
  'transaction.two.phase.commit.enable',
  'value.serializer',
])

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
  return `[${min}, ${max}]`
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
    case 'function':
      if (value === null || typeof value === 'function') return value
      throw new KafkaConfigError(key, `expected a function (topic, key, value, cluster) => partition, or null for the built-in partitioner, got ${describeValue(value)}`)
  }
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
  if (!Number.isInteger(n) || n < min || n > max) {
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

function parseCompression(key: string, value: unknown, fromKafkaName: boolean): 'none' {
  const text = typeof value === 'string' ? (fromKafkaName ? value.trim() : value) : undefined
  if (text === 'none') return 'none'
  if (text !== undefined && (COMPRESSION_CODECS as readonly string[]).includes(text)) {
    throw new KafkaConfigError(key, `compression is not supported yet: got ${describeValue(value)}, only 'none' is accepted for now`)
  }
  throw new KafkaConfigError(
    key,
    `expected one of ${COMPRESSION_CODECS.join(', ')} (and only 'none' is supported for now), got ${describeValue(value)}`,
  )
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
    return new KafkaConfigError(key, 'this Java producer setting is not supported by this client')
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

  return Object.freeze(r)
}
