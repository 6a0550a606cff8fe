/**
 * The Kafka APIs this client speaks. `SUPPORTED_APIS` is what version
 * negotiation intersects with a broker's ApiVersions answer: every entry's
 * [minVersion, maxVersion] is fully implemented by its module.
 */
import type { AnyApi } from '../api.js'
import { ApiVersionsApi } from './api-versions.js'
import { InitProducerIdApi } from './init-producer-id.js'
import { MetadataApi } from './metadata.js'
import { ProduceApi } from './produce.js'

export {
  ApiVersionsApi,
  apiVersionsRetryVersion,
  decodeApiVersionsResponse,
  type ApiVersionRange,
  type ApiVersionsRequest,
  type ApiVersionsResponse,
  type FinalizedFeature,
  type SupportedFeature,
} from './api-versions.js'
export { InitProducerIdApi, type InitProducerIdRequest, type InitProducerIdResponse } from './init-producer-id.js'
export {
  MetadataApi,
  type MetadataBroker,
  type MetadataPartition,
  type MetadataRequest,
  type MetadataResponse,
  type MetadataTopic,
} from './metadata.js'
export {
  ProduceApi,
  type LeaderIdAndEpoch,
  type NodeEndpoint,
  type ProducePartitionData,
  type ProducePartitionResponse,
  type ProduceRequest,
  type ProduceResponse,
  type ProduceTopicData,
  type ProduceTopicResponse,
  type RecordError,
} from './produce.js'

export const SUPPORTED_APIS: readonly AnyApi[] = [ProduceApi, MetadataApi, ApiVersionsApi, InitProducerIdApi]
