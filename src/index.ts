export { KafkaProducer } from './producer/kafka-producer.js'
export type { CloseOptions } from './producer/kafka-producer.js'
export type { ProducerRecord, RecordMetadata, SendCallback, RecordHeaders, Bytes } from './producer/record.js'
export type { ProducerMetricsSnapshot } from './producer/metrics.js'
export { CONFIG_DEFINITIONS, resolveProducerConfig } from './config.js'
export type {
  ProducerConfig,
  ResolvedProducerConfig,
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
  UnsupportedVersionError,
} from './errors.js'
export { ERROR_CODES, errorName, isRetriable } from './protocol/error-codes.js'
export { murmur2, partitionForKey } from './producer/partitioner.js'
export type { Cluster, Node, PartitionInfo } from './clients/cluster.js'
export { SOFTWARE_VERSION as VERSION } from './version.js'
