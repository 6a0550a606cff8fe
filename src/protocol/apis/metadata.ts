/**
 * Metadata (key 3), versions 1..13, as in kafka-clients 4.4.0's
 * MetadataRequest.json / MetadataResponse.json.
 *
 * Why 1..13: v0 encodes "all topics" as an empty array, so it cannot ask for
 * no topics; the Java client refuses to build it and every broker that accepts
 * Produce v3 (Kafka 0.11+) accepts Metadata v1..v4. Kafka 4.x still accepts
 * 0..13 (3.9: 0..12), and librdkafka 2.0.2's mock cluster only 0..2, so the
 * range must reach down to v2. 13 is the newest in 4.4.0.
 *
 * Invariants:
 * - `topics: null` asks for all topics (a null array, v1+); `[]` asks for none.
 * - Topics are always named: v10+ writes the zero topic id beside the name,
 *   as the schema requires when asking by name.
 * - `allowAutoTopicCreation` exists from v4; below it the broker applies its
 *   own `auto.create.topics.enable` and the flag is not sent.
 * - Authorized operations are never requested (a producer has no use for them);
 *   the bit fields the broker still sends are read and dropped.
 * - A zero topic id in the response (old broker, or a topic asked by name that
 *   does not exist) is returned as null.
 */
import type { ApiSpec } from '../api.js'
import type { Reader } from '../reader.js'
import type { ProtocolWriter } from '../writer.js'

/** The first (or, for `*Last`, last) version carrying each field. */
const V = {
  controllerId: 1,
  rack: 1,
  isInternal: 1,
  clusterId: 2,
  throttleTime: 3,
  allowAutoTopicCreation: 4,
  offlineReplicas: 5,
  leaderEpoch: 7,
  authorizedOperations: 8,
  clusterAuthorizedOperationsLast: 10,
  flexible: 9,
  topicId: 10,
  nullableTopicName: 12,
  topLevelErrorCode: 13,
} as const

/** How Reader.uuid() spells the zero id. */
const ZERO_UUID = '00000000000000000000000000000000'
/** Written as is by the writer: no per-topic parse or allocation. */
const ZERO_UUID_BYTES = Buffer.alloc(16)

export interface MetadataRequest {
  /** null = all topics. */
  topics: string[] | null
  /** v4+; ignored below (the broker's own setting applies). */
  allowAutoTopicCreation: boolean
}

export interface MetadataBroker {
  nodeId: number
  host: string
  port: number
  /** null before v1 or when unassigned. */
  rack: string | null
}

export interface MetadataPartition {
  errorCode: number
  partitionIndex: number
  leaderId: number
  /** -1 before v7. */
  leaderEpoch: number
  replicaNodes: number[]
  isrNodes: number[]
  /** Empty before v5. */
  offlineReplicas: number[]
}

export interface MetadataTopic {
  errorCode: number
  /** Only null (v12+) for a topic asked by id, which this client never does. */
  name: string | null
  /** 32 hex digits; null before v10 or when zero. */
  topicId: string | null
  /** false before v1. */
  isInternal: boolean
  partitions: MetadataPartition[]
}

export interface MetadataResponse {
  /** 0 before v3. */
  throttleTimeMs: number
  brokers: MetadataBroker[]
  /** null before v2. */
  clusterId: string | null
  /** -1 before v1. */
  controllerId: number
  topics: MetadataTopic[]
  /** Top-level error, v13+; 0 before. */
  errorCode: number
}

function readInt32(r: Reader): number {
  return r.int32()
}

export const MetadataApi: ApiSpec<MetadataRequest, MetadataResponse> = {
  name: 'Metadata',
  apiKey: 3,
  minVersion: 1,
  maxVersion: 13,
  flexibleFrom: V.flexible,

  writeRequest(w: ProtocolWriter, req: MetadataRequest, version: number): void {
    const topics = req.topics
    w.nullableArrayLength(topics === null ? null : topics.length)
    if (topics !== null) {
      for (let i = 0; i < topics.length; i++) {
        if (version >= V.topicId) w.uuid(ZERO_UUID_BYTES)
        w.string(topics[i]!)
        w.taggedFields()
      }
    }
    if (version >= V.allowAutoTopicCreation) w.boolean(req.allowAutoTopicCreation)
    if (version >= V.authorizedOperations) {
      if (version <= V.clusterAuthorizedOperationsLast) w.boolean(false)
      w.boolean(false)
    }
    w.taggedFields()
  },

  readResponse(r: Reader, version: number): MetadataResponse {
    const throttleTimeMs = version >= V.throttleTime ? r.int32() : 0

    const brokers = r.array((r): MetadataBroker => {
      const b: MetadataBroker = {
        nodeId: r.int32(),
        host: r.string(),
        port: r.int32(),
        rack: version >= V.rack ? r.nullableString() : null,
      }
      r.taggedFields()
      return b
    })

    const clusterId = version >= V.clusterId ? r.nullableString() : null
    const controllerId = version >= V.controllerId ? r.int32() : -1

    const readPartition = (r: Reader): MetadataPartition => {
      const p: MetadataPartition = {
        errorCode: r.int16(),
        partitionIndex: r.int32(),
        leaderId: r.int32(),
        leaderEpoch: version >= V.leaderEpoch ? r.int32() : -1,
        replicaNodes: r.array(readInt32),
        isrNodes: r.array(readInt32),
        offlineReplicas: version >= V.offlineReplicas ? r.array(readInt32) : [],
      }
      r.taggedFields()
      return p
    }

    const topics = r.array((r): MetadataTopic => {
      const errorCode = r.int16()
      const name = version >= V.nullableTopicName ? r.nullableString() : r.string()
      let topicId: string | null = null
      if (version >= V.topicId) {
        const id = r.uuid()
        if (id !== ZERO_UUID) topicId = id
      }
      const t: MetadataTopic = {
        errorCode,
        name,
        topicId,
        isInternal: version >= V.isInternal ? r.boolean() : false,
        partitions: r.array(readPartition),
      }
      if (version >= V.authorizedOperations) r.int32() // topic authorized operations: never requested
      r.taggedFields()
      return t
    })

    if (version >= V.authorizedOperations && version <= V.clusterAuthorizedOperationsLast) r.int32() // cluster authorized operations
    const errorCode = version >= V.topLevelErrorCode ? r.int16() : 0
    r.taggedFields()
    return { throttleTimeMs, brokers, clusterId, controllerId, topics, errorCode }
  },
}
