/**
 * Produce (key 0), versions 3..12, as in kafka-clients 4.4.0's
 * ProduceRequest.json / ProduceResponse.json.
 *
 * Why 3..12: v3 is the first version that carries RecordBatch v2 (message
 * format v2) and the transactional id, and Kafka 4.x rejects 0..2 (it still
 * lists them in ApiVersions, KAFKA-18659). v13 replaces topic names with topic
 * ids (KIP-516), which this client does not track, so 12 is the newest version
 * it can send. librdkafka 2.0.2's mock cluster accepts 0..7 and Kafka 3.9 0..11,
 * both covered.
 *
 * Invariants:
 * - `records` is an already-encoded RecordBatch v2 and is spliced into the
 *   request with `w.records()`: never copied. The request body has no
 *   version-gated field beyond flexibility, so the encoder is one loop with no
 *   allocation of its own; it runs twice per request (size, then fill).
 * - With acks = 0 the broker sends no response; the network client must not
 *   wait for one.
 * - Response fields a version lacks take the schema's defaults (-1 offsets and
 *   times, empty lists, null messages); `currentLeader` is undefined unless the
 *   broker sent the tag (v10+, with NOT_LEADER_OR_FOLLOWER and the like).
 */
import type { ApiSpec } from '../api.js'
import { KafkaProtocolError } from '../../errors.js'
import { Reader } from '../reader.js'
import type { ProtocolWriter } from '../writer.js'

/** The first version carrying each response field. */
const V = {
  throttleTime: 1,
  logAppendTime: 2,
  logStartOffset: 5,
  recordErrors: 8,
  flexible: 9,
  currentLeader: 10,
} as const

/** Tags: CurrentLeader in a partition response, NodeEndpoints at the top level (both v10+, KIP-951). */
const TAG = { currentLeader: 0, nodeEndpoints: 0 } as const

export interface ProducePartitionData {
  index: number
  /** An encoded RecordBatch v2 (or several, back to back). */
  records: Buffer
}

export interface ProduceTopicData {
  name: string
  partitions: ProducePartitionData[]
}

export interface ProduceRequest {
  transactionalId: string | null
  /** 0, 1 or -1. */
  acks: number
  timeoutMs: number
  topics: ProduceTopicData[]
}

export interface RecordError {
  batchIndex: number
  batchIndexErrorMessage: string | null
}

export interface LeaderIdAndEpoch {
  leaderId: number
  leaderEpoch: number
}

export interface ProducePartitionResponse {
  index: number
  errorCode: number
  baseOffset: bigint
  /** -1 unless the topic uses LogAppendTime. */
  logAppendTimeMs: number
  /** -1n before v5. */
  logStartOffset: bigint
  /** Empty before v8. */
  recordErrors: RecordError[]
  /** null before v8. */
  errorMessage: string | null
  /** v10+, tag 0: where the partition's leadership moved. */
  currentLeader?: LeaderIdAndEpoch
}

export interface ProduceTopicResponse {
  name: string
  partitions: ProducePartitionResponse[]
}

export interface NodeEndpoint {
  nodeId: number
  host: string
  port: number
  rack: string | null
}

export interface ProduceResponse {
  throttleTimeMs: number
  topics: ProduceTopicResponse[]
  /** v10+, tag 0: endpoints of the leaders named in `currentLeader`s. Empty when absent. */
  nodeEndpoints: NodeEndpoint[]
}

function readRecordError(r: Reader): RecordError {
  const e: RecordError = { batchIndex: r.int32(), batchIndexErrorMessage: r.nullableString() }
  r.taggedFields()
  return e
}

function readLeaderIdAndEpoch(r: Reader): LeaderIdAndEpoch {
  const l: LeaderIdAndEpoch = { leaderId: r.int32(), leaderEpoch: r.int32() }
  r.taggedFields()
  return l
}

function readNodeEndpoint(r: Reader): NodeEndpoint {
  const n: NodeEndpoint = { nodeId: r.int32(), host: r.string(), port: r.int32(), rack: r.nullableString() }
  r.taggedFields()
  return n
}

function readNodeEndpoints(r: Reader): NodeEndpoint[] {
  return r.array(readNodeEndpoint)
}

/** A tagged field's value must fill its declared size exactly; anything else means we mis-parsed it. */
function readTag<T>(data: Buffer, what: string, read: (r: Reader) => T): T {
  const r = new Reader(data, 0, true)
  const v = read(r)
  if (r.remaining !== 0) throw new KafkaProtocolError(`Produce tagged field ${what} has ${r.remaining} trailing bytes`)
  return v
}

export const ProduceApi: ApiSpec<ProduceRequest, ProduceResponse> = {
  name: 'Produce',
  apiKey: 0,
  minVersion: 3,
  maxVersion: 12,
  flexibleFrom: V.flexible,

  writeRequest(w: ProtocolWriter, req: ProduceRequest, _version: number): void {
    w.nullableString(req.transactionalId)
    w.int16(req.acks)
    w.int32(req.timeoutMs)
    const topics = req.topics
    w.arrayLength(topics.length)
    for (let i = 0; i < topics.length; i++) {
      const topic = topics[i]!
      w.string(topic.name)
      const partitions = topic.partitions
      w.arrayLength(partitions.length)
      for (let j = 0; j < partitions.length; j++) {
        const p = partitions[j]!
        w.int32(p.index)
        w.records(p.records)
        w.taggedFields()
      }
      w.taggedFields()
    }
    w.taggedFields()
  },

  readResponse(r: Reader, version: number): ProduceResponse {
    // One closure per response, not per element.
    const readPartition = (r: Reader): ProducePartitionResponse => {
      const p: ProducePartitionResponse = {
        index: r.int32(),
        errorCode: r.int16(),
        baseOffset: r.int64(),
        logAppendTimeMs: version >= V.logAppendTime ? r.int64Number() : -1,
        logStartOffset: version >= V.logStartOffset ? r.int64() : -1n,
        recordErrors: version >= V.recordErrors ? r.array(readRecordError) : [],
        errorMessage: version >= V.recordErrors ? r.nullableString() : null,
        currentLeader: undefined,
      }
      r.taggedFields((tag, data) => {
        if (tag === TAG.currentLeader && version >= V.currentLeader) {
          p.currentLeader = readTag(data, 'CurrentLeader', readLeaderIdAndEpoch)
        }
      })
      return p
    }
    const readTopic = (r: Reader): ProduceTopicResponse => {
      const t: ProduceTopicResponse = { name: r.string(), partitions: r.array(readPartition) }
      r.taggedFields()
      return t
    }

    const res: ProduceResponse = {
      topics: r.array(readTopic),
      throttleTimeMs: version >= V.throttleTime ? r.int32() : 0,
      nodeEndpoints: [],
    }
    r.taggedFields((tag, data) => {
      if (tag === TAG.nodeEndpoints && version >= V.currentLeader) {
        res.nodeEndpoints = readTag(data, 'NodeEndpoints', readNodeEndpoints)
      }
    })
    return res
  },
}
