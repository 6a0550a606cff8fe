export { KafkaProducer } from './producer/kafka-producer.js'
export type { CloseOptions } from './producer/kafka-producer.js'
export type { ProducerRecord, RecordMetadata, SendCallback, RecordHeaders, Bytes } from './producer/record.js'
export type { ProducerMetricsSnapshot } from './producer/metrics.js'
export { CONFIG_DEFINITIONS, resolveProducerConfig } from './config.js'
export type { ProducerConfig, ResolvedProducerConfig, ConfigDefinition, CustomPartitioner, Acks } from './config.js'
export {
  KafkaClientError,
  KafkaConfigError,
  KafkaInvalidRecordError,
  KafkaTimeoutError,
  KafkaProtocolError,
  KafkaNetworkError,
  KafkaProducerClosedError,
  KafkaBrokerError,
  KafkaFatalProducerError,
  KafkaTransactionStateError,
  KafkaTransactionAbortableError,
  KafkaTransactionAbortedError,
  UnsupportedVersionError,
} from './errors.js'
export { ERROR_CODES, errorName, isRetriable } from './protocol/error-codes.js'
export { murmur2, partitionForKey } from './producer/partitioner.js'
export type { Cluster, Node, PartitionInfo } from './clients/cluster.js'
export { SOFTWARE_VERSION as VERSION } from './version.js'
