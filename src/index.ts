/**
 * A Kafka producer for Node.js, modelled on the Java client: start at
 * {@link KafkaProducer}. Options: {@link ProducerConfig} (every option, its
 * Kafka name, default and range); errors: {@link KafkaClientError} and its
 * subclasses; metrics: {@link ProducerMetricsSnapshot}.
 *
 * @example
 * ```ts
 * import { KafkaProducer } from 'kafka-producer-ts'
 *
 * const producer = new KafkaProducer({ bootstrapServers: ['127.0.0.1:9092'] })
 * const md = await producer.send({ topic: 'events', key: 'user-42', value: 'hello' })
 * await producer.close()
 * ```
 *
 * @packageDocumentation
 * @module kafka-producer-ts
 */
export { KafkaProducer } from './producer/kafka-producer.js'
export type { CloseOptions, FlushOptions, KafkaProducerOptions, ProducerTypedOptions } from './producer/kafka-producer.js'
export type { ConsumerGroupMetadata, TransactionOffset } from './producer/transaction-manager.js'
export type { ProducerRecord, RecordMetadata, SendCallback, SendOptions, RecordHeaders, Bytes } from './producer/record.js'
export { serializers } from './producer/serializers.js'
export type { Serializer } from './producer/serializers.js'
export type { ProducerInterceptor } from './producer/interceptors.js'
export { ProducerWriteStream } from './producer/producer-stream.js'
export type { WriteStreamOptions, SendAllOptions, StreamRecord } from './producer/producer-stream.js'
export type { NodeMetricsSnapshot, ProducerMetricsSnapshot, RequestMetricsSnapshot, TopicMetricsSnapshot } from './producer/metrics.js'
export type {
  AccumulatorInspection,
  BufferPoolInspection,
  ConnectionInspection,
  ConnectionStateName,
  InFlightRequestInspection,
  InspectOptions,
  PartitionInspection,
  ProducerInspection,
  ProducerStatistics,
  WaitingGroupInspection,
  WaitingSendsInspection,
  WaitingTopicInspection,
} from './producer/inspection.js'
export { CONFIG_DEFINITIONS, resolveProducerConfig } from './config.js'
export type {
  ProducerConfig,
  ProducerConfigOptions,
  ResolveProducerConfigOptions,
  ResolvedProducerConfig,
  BrokerAddress,
  ConfigValueType,
  ConfigDefinition,
  CustomPartitioner,
  Acks,
  SslOptions,
  SaslOptions,
  SaslPasswordOptions,
  SaslOAuthBearerOptions,
  SaslOidcOptions,
  SaslMechanism,
  SaslMechanismFactory,
  SaslContext,
  OAuthBearerToken,
  OAuthBearerTokenProvider,
  ResolvedSecurity,
  ResolvedTls,
  SecurityProtocol,
} from './config.js'
export { Secret } from './util/secret.js'
export type { CompressionCodec } from './protocol/compression/index.js'
export {
  KafkaClientError,
  KafkaConfigError,
  KafkaAuthenticationError,
  KafkaTlsError,
  KafkaInvalidRecordError,
  KafkaTimeoutError,
  KafkaProtocolError,
  KafkaNetworkError,
  KafkaProducerClosedError,
  KafkaBrokerError,
  KafkaFatalProducerError,
  KafkaSerializationError,
  KafkaTransactionStateError,
  KafkaTransactionAbortableError,
  KafkaTransactionAbortedError,
  UnsupportedVersionError,
  KafkaConnectionError,
  KafkaForeignProtocolError,
  KafkaCompressionError,
} from './errors.js'
export type { ConnectionFailureKind, ConnectionFailureCause } from './errors.js'
export { ERROR_CODES, errorName, isRetriable } from './protocol/error-codes.js'
export type { ErrorCodeInfo } from './protocol/error-codes.js'
export { murmur2, partitionForKey } from './producer/partitioner.js'
export type { Cluster, Node, PartitionInfo } from './clients/cluster.js'
export { SOFTWARE_VERSION as VERSION } from './version.js'
export { CHANNEL_NAMES } from './util/diagnostics.js'
export type { SendTraceContext } from './producer/kafka-producer.js'
export type { ProduceTraceContext } from './producer/sender.js'
export type { Logger, LogFields, LogMethod, EventFields } from './util/logger.js'
