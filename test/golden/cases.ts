/**
 * The golden cases shared by scripts/gen-golden.mjs (which writes
 * test/golden/*.hex), test/unit/protocol-golden.test.ts (which checks our
 * codecs against those files) and test/integration/protocol-java-crosscheck.test.ts
 * (which checks them against Kafka's own generated classes).
 *
 * One case per implemented version of every request and response.
 *
 * - Request cases carry the request we encode and `javaJson(…)`: what Kafka's
 *   RequestHeaderDataJsonConverter / XxxRequestDataJsonConverter must print
 *   after parsing our bytes. The version gates in `javaJson` are our reading
 *   of the schema, which the Java parse then confirms or refutes.
 * - Response cases carry `javaBody`: the full, ungated data handed to
 *   XxxResponseDataJsonConverter.read, so Java alone decides which fields each
 *   version puts on the wire (ignorable ones are dropped silently). Gates appear
 *   there only where Java refuses a non-default value at that version.
 *   `expected` is what our decoder must return, with our own version gates.
 */
import type { AnyApi } from '../../src/protocol/api.js'
import {
  AddOffsetsToTxnApi,
  type AddOffsetsToTxnRequest,
  AddPartitionsToTxnApi,
  type AddPartitionsToTxnRequest,
  type AddPartitionsToTxnResponse,
  ApiVersionsApi,
  type ApiVersionsRequest,
  type ApiVersionsResponse,
  EndTxnApi,
  type EndTxnRequest,
  type EndTxnResponse,
  FindCoordinatorApi,
  type FindCoordinatorRequest,
  type FindCoordinatorResponse,
  GetTelemetrySubscriptionsApi,
  type GetTelemetrySubscriptionsResponse,
  InitProducerIdApi,
  type InitProducerIdRequest,
  type InitProducerIdResponse,
  MetadataApi,
  type MetadataRequest,
  type MetadataResponse,
  ProduceApi,
  type ProduceRequest,
  type ProduceResponse,
  PushTelemetryApi,
  type PushTelemetryRequest,
  SaslAuthenticateApi,
  type SaslAuthenticateResponse,
  SaslHandshakeApi,
  TxnOffsetCommitApi,
  type TxnOffsetCommitRequest,
  type TxnOffsetCommitResponse,
} from '../../src/protocol/apis/index.js'

export type Json = null | boolean | number | bigint | string | Json[] | { [k: string]: Json }

export interface RequestCase {
  /** File name under test/golden/. */
  file: string
  api: AnyApi
  version: number
  correlationId: number
  clientId: string | null
  request: unknown
  /** What the Java helper must print for our bytes: header and body. */
  javaJson: { header: Json; body: Json }
}

export interface ResponseCase {
  file: string
  api: AnyApi
  version: number
  correlationId: number
  /** Input to XxxResponseDataJsonConverter.read; bigints become JSON integers. */
  javaBody: Json
  expected: unknown
}

export const fileStem = (api: AnyApi): string => api.name.toLowerCase()

function range(api: AnyApi): number[] {
  const out: number[] = []
  for (let v = api.minVersion; v <= api.maxVersion; v++) out.push(v)
  return out
}

/** A Kafka Uuid as its JSON form (base64url, no padding) from 32 hex digits. */
export const uuidJson = (hex: string): string => Buffer.from(hex, 'hex').toString('base64url')

/** JSON text with bigints as plain integers (JSON.stringify refuses them). */
export function toJsonText(v: Json): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `__bigint__${x}` : x)).replace(
    /"__bigint__(-?\d+)"/g,
    '$1',
  )
}

// ---------------------------------------------------------------- requests

const TOPIC_A_ID_REQ = '0123456789abcdef0123456789abcdef'

/** Opaque record payloads: Kafka's ProduceRequestData keeps RECORDS as bytes, never parsing them. */
export const RECORDS_A = Buffer.from('golden-records-A: any bytes stand for a RecordBatch here', 'utf8')
/** 300 bytes, so compact lengths need a two-byte uvarint. */
export const RECORDS_B = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37 + 11) & 0xff))
export const RECORDS_C = Buffer.from([0])

const CLIENT_ID = 'kafka-producer-ts'

export function header(api: AnyApi, version: number, correlationId: number, clientId: string | null): Json {
  return { requestApiKey: api.apiKey, requestApiVersion: version, correlationId, clientId }
}

function produceRequest(version: number): ProduceRequest {
  return {
    transactionalId: version % 2 === 1 ? 'tx-é-1' : null,
    acks: version === 3 ? 1 : -1,
    timeoutMs: 30000,
    topics: [
      {
        name: 'topic-a',
        partitions: [
          { index: 0, records: RECORDS_A },
          { index: 3, records: RECORDS_B },
        ],
      },
      { name: 'b', partitions: [{ index: 1, records: RECORDS_C }] },
    ],
  }
}

export function produceJavaJson(req: ProduceRequest): Json {
  return {
    transactionalId: req.transactionalId,
    acks: req.acks,
    timeoutMs: req.timeoutMs,
    topicData: req.topics.map((t) => ({
      name: t.name,
      partitionData: t.partitions.map((p) => ({ index: p.index, records: p.records.toString('hex') })),
    })),
  }
}

function metadataRequest(version: number): MetadataRequest {
  const topics = version === 1 ? null : version === 2 ? [] : version % 2 === 0 ? ['topic-a', 'tópico-ü'] : null
  return { topics, allowAutoTopicCreation: version % 3 !== 0 }
}

export function metadataJavaJson(req: MetadataRequest, version: number): Json {
  const body: { [k: string]: Json } = {
    topics:
      req.topics === null
        ? null
        : req.topics.map((name): Json => (version >= 10 ? { topicId: uuidJson('00'.repeat(16)), name } : { name })),
  }
  if (version >= 4) body.allowAutoTopicCreation = req.allowAutoTopicCreation ?? true
  if (version >= 8 && version <= 10) body.includeClusterAuthorizedOperations = false
  if (version >= 8) body.includeTopicAuthorizedOperations = false
  return body
}

function apiVersionsRequest(version: number): ApiVersionsRequest {
  const req: ApiVersionsRequest = { clientSoftwareName: 'kafka-producer-ts', clientSoftwareVersion: '0.1.0-golden' }
  if (version >= 5) {
    req.clusterId = 'Jx3kq9ZtQ2eR8c1vL0aBcd'
    req.nodeId = 2
  }
  return req
}

export function apiVersionsJavaJson(req: ApiVersionsRequest, version: number): Json {
  const body: { [k: string]: Json } = {}
  if (version >= 3) {
    body.clientSoftwareName = req.clientSoftwareName ?? ''
    body.clientSoftwareVersion = req.clientSoftwareVersion ?? ''
  }
  if (version >= 5) {
    body.clusterId = req.clusterId ?? null
    body.nodeId = req.nodeId ?? -1
  }
  return body
}

/**
 * An int64 as Kafka's JSON converter shows it once test/harness/protocol-codec.ts
 * has parsed it: a number when JSON.parse keeps it exact, else a bigint.
 */
export const int64Json = (v: bigint): Json => (v >= -BigInt(Number.MAX_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v)

function initProducerIdRequest(version: number): InitProducerIdRequest {
  // v0/v2/v4: a new producer id, transactional or not; v3/v5: an epoch bump (KIP-360),
  // v5 with an id past 2^53 and a transactional id long enough for a two-byte compact length;
  // v6: two-phase commit flags.
  switch (version) {
    case 0:
      return { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1n, producerEpoch: -1 }
    case 1:
      return { transactionalId: 'tx-é-1', transactionTimeoutMs: 900000, producerId: -1n, producerEpoch: -1 }
    case 2:
      return { transactionalId: 'tx-é-2', transactionTimeoutMs: 1, producerId: -1n, producerEpoch: -1, enable2Pc: false }
    case 3:
      return { transactionalId: null, transactionTimeoutMs: 60000, producerId: 123456789012n, producerEpoch: 7 }
    case 4:
      return { transactionalId: 'tx-4', transactionTimeoutMs: 60000, producerId: -1n, producerEpoch: -1 }
    case 5:
      return { transactionalId: 'ü'.repeat(100), transactionTimeoutMs: 2 ** 31 - 1, producerId: 9007199254740993n, producerEpoch: 32767 }
    default:
      return { transactionalId: 'tx-2pc', transactionTimeoutMs: 60000, producerId: 4242n, producerEpoch: 3, enable2Pc: true, keepPreparedTxn: true }
  }
}

export function initProducerIdJavaJson(req: InitProducerIdRequest, version: number): Json {
  const body: { [k: string]: Json } = { transactionalId: req.transactionalId, transactionTimeoutMs: req.transactionTimeoutMs }
  if (version >= 3) {
    body.producerId = int64Json(req.producerId ?? -1n)
    body.producerEpoch = req.producerEpoch ?? -1
  }
  if (version >= 6) {
    body.enable2Pc = req.enable2Pc ?? false
    body.keepPreparedTxn = req.keepPreparedTxn ?? false
  }
  return body
}

/** BYTES as Kafka's JSON converter shows them: standard base64. */
export const bytesJson = (b: Buffer): string => b.toString('base64')

// The APIs a transactional or authenticating producer needs next. Each case per
// version sets only fields that version carries (the others are refused), and
// mixes nulls, non-ASCII and lengths past a one-byte compact uvarint.

export function findCoordinatorRequest(version: number): FindCoordinatorRequest {
  // v0: a group (key type 0 is the only one v0 has); v1..3: a transactional id; v4+: batched keys.
  if (version === 0) return { key: 'group-ü' }
  if (version <= 3) return { key: `tx-${version}-${'é'.repeat(version * 50)}`, keyType: 1 }
  return { keyType: version === 6 ? 2 : 1, coordinatorKeys: version === 4 ? [] : ['tx-a', 'tx-ü', 'x'.repeat(200)] }
}

export function findCoordinatorJavaJson(req: FindCoordinatorRequest, version: number): Json {
  const body: { [k: string]: Json } = {}
  if (version <= 3) body.key = req.key ?? ''
  if (version >= 1) body.keyType = req.keyType ?? 0
  if (version >= 4) body.coordinatorKeys = req.coordinatorKeys ?? []
  return body
}

export function addPartitionsToTxnRequest(version: number): AddPartitionsToTxnRequest {
  const topics = [
    { name: 'topic-a', partitions: [0, 3, 2147483647] },
    { name: 'tópico', partitions: [] },
  ]
  if (version <= 3) {
    return { v3AndBelowTransactionalId: `tx-${version}`, v3AndBelowProducerId: 9007199254740993n + BigInt(version), v3AndBelowProducerEpoch: version, v3AndBelowTopics: topics }
  }
  return {
    transactions: [
      { transactionalId: 'tx-a', producerId: 4242n, producerEpoch: 7, verifyOnly: version === 5, topics },
      { transactionalId: 'tx-b', producerId: -1n, producerEpoch: -1, verifyOnly: false, topics: [] },
    ],
  }
}

export function addPartitionsToTxnJavaJson(req: AddPartitionsToTxnRequest, version: number): Json {
  if (version <= 3) {
    return {
      v3AndBelowTransactionalId: req.v3AndBelowTransactionalId ?? '',
      v3AndBelowProducerId: int64Json(req.v3AndBelowProducerId ?? 0n),
      v3AndBelowProducerEpoch: req.v3AndBelowProducerEpoch ?? 0,
      v3AndBelowTopics: (req.v3AndBelowTopics ?? []).map((t) => ({ name: t.name, partitions: t.partitions })),
    }
  }
  return {
    transactions: (req.transactions ?? []).map((t) => ({
      transactionalId: t.transactionalId,
      producerId: int64Json(t.producerId),
      producerEpoch: t.producerEpoch,
      verifyOnly: t.verifyOnly,
      topics: t.topics.map((x) => ({ name: x.name, partitions: x.partitions })),
    })),
  }
}

export function addOffsetsToTxnRequest(version: number): AddOffsetsToTxnRequest {
  return { transactionalId: `tx-ü-${version}`, producerId: version === 2 ? 2n ** 63n - 1n : 1000n + BigInt(version), producerEpoch: version * 100, groupId: version === 4 ? 'g'.repeat(130) : 'group-1' }
}

export function addOffsetsToTxnJavaJson(req: AddOffsetsToTxnRequest): Json {
  return { transactionalId: req.transactionalId, producerId: int64Json(req.producerId), producerEpoch: req.producerEpoch, groupId: req.groupId }
}

export function endTxnRequest(version: number): EndTxnRequest {
  return { transactionalId: `tx-${version}`, producerId: 77n + BigInt(version), producerEpoch: 32767 - version, committed: version % 2 === 0 }
}

export function endTxnJavaJson(req: EndTxnRequest): Json {
  return { transactionalId: req.transactionalId, producerId: int64Json(req.producerId), producerEpoch: req.producerEpoch, committed: req.committed }
}

const TOPIC_ID_B = '1b2c3d4e5f60718293a4b5c6d7e8f901'

export function txnOffsetCommitRequest(version: number): TxnOffsetCommitRequest {
  const req: TxnOffsetCommitRequest = {
    transactionalId: 'tx-offsets',
    groupId: 'gröup',
    producerId: 123456789012345n,
    producerEpoch: 4,
    topics: [
      {
        ...(version <= 5 ? { name: 'topic-a' } : { topicId: TOPIC_A_ID_REQ }),
        partitions: [
          { partitionIndex: 0, committedOffset: 42n, committedMetadata: null, ...(version >= 2 ? { committedLeaderEpoch: 9 } : {}) },
          { partitionIndex: 5, committedOffset: 9007199254740993n, committedMetadata: 'meta-ü'.repeat(version === 3 ? 30 : 1) },
        ],
      },
      { ...(version <= 5 ? { name: 'b' } : { topicId: TOPIC_ID_B }), partitions: [] },
    ],
  }
  if (version >= 3) {
    req.generationIdOrMemberEpoch = version === 3 ? -1 : 12
    req.memberId = version === 3 ? '' : 'member-1'
    req.groupInstanceId = version === 4 ? 'instance-é' : null
  }
  return req
}

export function txnOffsetCommitJavaJson(req: TxnOffsetCommitRequest, version: number): Json {
  const body: { [k: string]: Json } = {
    transactionalId: req.transactionalId,
    groupId: req.groupId,
    producerId: int64Json(req.producerId),
    producerEpoch: req.producerEpoch,
  }
  if (version >= 3) {
    body.generationIdOrMemberEpoch = req.generationIdOrMemberEpoch ?? -1
    body.memberId = req.memberId ?? ''
    body.groupInstanceId = req.groupInstanceId ?? null
  }
  body.topics = req.topics.map((t) => ({
    ...(version <= 5 ? { name: t.name ?? '' } : { topicId: uuidJson(t.topicId ?? '00'.repeat(16)) }),
    partitions: t.partitions.map((p) => ({
      partitionIndex: p.partitionIndex,
      committedOffset: int64Json(p.committedOffset),
      ...(version >= 2 ? { committedLeaderEpoch: p.committedLeaderEpoch ?? -1 } : {}),
      committedMetadata: p.committedMetadata,
    })),
  }))
  return body
}

const CLIENT_INSTANCE_ID = '0f1e2d3c4b5a69788796a5b4c3d2e1f0'
export const TELEMETRY_METRICS = Buffer.from(Array.from({ length: 200 }, (_, i) => (i * 13 + 5) & 0xff))

function requestCase(api: AnyApi, version: number, request: unknown, body: Json, clientId: string | null = CLIENT_ID): RequestCase {
  const correlationId = api.apiKey * 1000 + version
  return {
    file: `${fileStem(api)}-v${version}-request.hex`,
    api,
    version,
    correlationId,
    clientId,
    request,
    javaJson: { header: header(api, version, correlationId, clientId), body },
  }
}

export const REQUEST_CASES: RequestCase[] = [
  ...range(ProduceApi).map((v) => {
    const req = produceRequest(v)
    return requestCase(ProduceApi, v, req, produceJavaJson(req))
  }),
  ...range(MetadataApi).map((v) => {
    const req = metadataRequest(v)
    return requestCase(MetadataApi, v, req, metadataJavaJson(req, v))
  }),
  ...range(ApiVersionsApi).map((v) => {
    const req = apiVersionsRequest(v)
    // v0 also covers a null client id in the header.
    return requestCase(ApiVersionsApi, v, req, apiVersionsJavaJson(req, v), v === 0 ? null : CLIENT_ID)
  }),
  ...range(InitProducerIdApi).map((v) => {
    const req = initProducerIdRequest(v)
    return requestCase(InitProducerIdApi, v, req, initProducerIdJavaJson(req, v))
  }),
  ...range(SaslHandshakeApi).map((v) => requestCase(SaslHandshakeApi, v, { mechanism: v === 0 ? 'PLAIN' : 'SCRAM-SHA-512' }, { mechanism: v === 0 ? 'PLAIN' : 'SCRAM-SHA-512' })),
  ...range(SaslAuthenticateApi).map((v) => {
    // v1 carries 300 bytes: a two-byte length once compact (v2).
    const authBytes = v === 1 ? RECORDS_B : Buffer.from(`\u0000user\u0000pässword-${v}`, 'utf8')
    return requestCase(SaslAuthenticateApi, v, { authBytes }, { authBytes: bytesJson(authBytes) })
  }),
  ...range(FindCoordinatorApi).map((v) => {
    const req = findCoordinatorRequest(v)
    return requestCase(FindCoordinatorApi, v, req, findCoordinatorJavaJson(req, v))
  }),
  ...range(AddPartitionsToTxnApi).map((v) => {
    const req = addPartitionsToTxnRequest(v)
    return requestCase(AddPartitionsToTxnApi, v, req, addPartitionsToTxnJavaJson(req, v))
  }),
  ...range(AddOffsetsToTxnApi).map((v) => {
    const req = addOffsetsToTxnRequest(v)
    return requestCase(AddOffsetsToTxnApi, v, req, addOffsetsToTxnJavaJson(req))
  }),
  ...range(EndTxnApi).map((v) => {
    const req = endTxnRequest(v)
    return requestCase(EndTxnApi, v, req, endTxnJavaJson(req))
  }),
  ...range(TxnOffsetCommitApi).map((v) => {
    const req = txnOffsetCommitRequest(v)
    return requestCase(TxnOffsetCommitApi, v, req, txnOffsetCommitJavaJson(req, v))
  }),
  ...range(GetTelemetrySubscriptionsApi).map((v) =>
    requestCase(GetTelemetrySubscriptionsApi, v, { clientInstanceId: CLIENT_INSTANCE_ID }, { clientInstanceId: uuidJson(CLIENT_INSTANCE_ID) }),
  ),
  ...range(PushTelemetryApi).map((v) => {
    const req: PushTelemetryRequest = { clientInstanceId: CLIENT_INSTANCE_ID, subscriptionId: -123, terminating: true, compressionType: 4, metrics: TELEMETRY_METRICS }
    const body = { clientInstanceId: uuidJson(CLIENT_INSTANCE_ID), subscriptionId: -123, terminating: true, compressionType: 4, metrics: bytesJson(TELEMETRY_METRICS) }
    return requestCase(PushTelemetryApi, v, req, body)
  }),
]

// ---------------------------------------------------------------- responses

const TOPIC_A_ID = TOPIC_A_ID_REQ
const OFFSETS_ID = 'fedcba9876543210fedcba9876543210'
const BY_ID_ONLY = 'abababababababababababababababab'

function produceJavaBody(version: number): Json {
  return {
    responses: [
      {
        name: 'topic-a',
        partitionResponses: [
          {
            index: 0,
            errorCode: 0,
            baseOffset: 1234567890123n,
            logAppendTimeMs: 1700000000123n,
            logStartOffset: 42n,
            recordErrors: [],
            errorMessage: null,
          },
          {
            index: 3,
            errorCode: 6,
            baseOffset: -1n,
            logAppendTimeMs: -1n,
            logStartOffset: -1n,
            // Java's JSON reader refuses the struct array before v8 (it has no version there).
            recordErrors:
              version >= 8
                ? [
                    { batchIndex: 2, batchIndexErrorMessage: 'bad record' },
                    { batchIndex: 5, batchIndexErrorMessage: null },
                  ]
                : [],
            errorMessage: 'not the leader',
            // Tagged, not ignorable: Java refuses it before v10.
            ...(version >= 10 ? { currentLeader: { leaderId: 2, leaderEpoch: 17 } } : {}),
          },
        ],
      },
      {
        name: 'b',
        partitionResponses: [
          {
            index: 1,
            errorCode: 0,
            baseOffset: 9007199254740993n, // 2^53 + 1: must survive as a bigint
            logAppendTimeMs: -1n,
            logStartOffset: 9007199254740000n,
            recordErrors: [],
            errorMessage: null,
          },
        ],
      },
    ],
    throttleTimeMs: 25,
    ...(version >= 10
      ? {
          nodeEndpoints: [
            { nodeId: 2, host: 'broker-2.example', port: 9093, rack: 'rack-b' },
            { nodeId: 5, host: 'h5', port: 9092, rack: null },
          ],
        }
      : {}),
  }
}

function produceExpected(version: number): ProduceResponse {
  const v5 = version >= 5
  const v8 = version >= 8
  const v10 = version >= 10
  return {
    throttleTimeMs: 25,
    topics: [
      {
        name: 'topic-a',
        partitions: [
          {
            index: 0,
            errorCode: 0,
            baseOffset: 1234567890123n,
            logAppendTimeMs: 1700000000123,
            logStartOffset: v5 ? 42n : -1n,
            recordErrors: [],
            errorMessage: null,
            currentLeader: undefined,
          },
          {
            index: 3,
            errorCode: 6,
            baseOffset: -1n,
            logAppendTimeMs: -1,
            logStartOffset: -1n,
            recordErrors: v8
              ? [
                  { batchIndex: 2, batchIndexErrorMessage: 'bad record' },
                  { batchIndex: 5, batchIndexErrorMessage: null },
                ]
              : [],
            errorMessage: v8 ? 'not the leader' : null,
            currentLeader: v10 ? { leaderId: 2, leaderEpoch: 17 } : undefined,
          },
        ],
      },
      {
        name: 'b',
        partitions: [
          {
            index: 1,
            errorCode: 0,
            baseOffset: 9007199254740993n,
            logAppendTimeMs: -1,
            logStartOffset: v5 ? 9007199254740000n : -1n,
            recordErrors: [],
            errorMessage: null,
            currentLeader: undefined,
          },
        ],
      },
    ],
    nodeEndpoints: v10
      ? [
          { nodeId: 2, host: 'broker-2.example', port: 9093, rack: 'rack-b' },
          { nodeId: 5, host: 'h5', port: 9092, rack: null },
        ]
      : [],
  }
}

function metadataJavaBody(version: number): Json {
  const topics: Json[] = [
    {
      errorCode: 0,
      name: 'topic-a',
      topicId: uuidJson(TOPIC_A_ID),
      isInternal: false,
      partitions: [
        { errorCode: 0, partitionIndex: 0, leaderId: 1, leaderEpoch: 5, replicaNodes: [1, 2], isrNodes: [1, 2], offlineReplicas: [] },
        { errorCode: 9, partitionIndex: 1, leaderId: 2, leaderEpoch: 3, replicaNodes: [2, 1], isrNodes: [2], offlineReplicas: [1] },
      ],
      // Not ignorable: Java refuses a non-default value before v8.
      topicAuthorizedOperations: version >= 8 ? 0x0ff8 : -2147483648,
    },
    {
      errorCode: 3,
      name: 'missing',
      topicId: uuidJson('00'.repeat(16)),
      isInternal: false,
      partitions: [],
      topicAuthorizedOperations: -2147483648,
    },
    {
      errorCode: 0,
      name: '__consumer_offsets',
      topicId: uuidJson(OFFSETS_ID),
      isInternal: true,
      partitions: [
        { errorCode: 5, partitionIndex: 0, leaderId: -1, leaderEpoch: -1, replicaNodes: [3], isrNodes: [], offlineReplicas: [3] },
      ],
      topicAuthorizedOperations: -2147483648,
    },
  ]
  // A topic known only by id (name null) exists on the wire from v12.
  if (version >= 12) {
    topics.push({ errorCode: 100, name: null, topicId: uuidJson(BY_ID_ONLY), isInternal: false, partitions: [], topicAuthorizedOperations: -2147483648 })
  }
  return {
    throttleTimeMs: 7,
    brokers: [
      { nodeId: 1, host: 'broker-1', port: 9092, rack: 'r1' },
      { nodeId: 2, host: 'bröker-2', port: 9093, rack: null },
    ],
    clusterId: 'cluster-xyz',
    controllerId: 1,
    topics,
    // Not ignorable: Java refuses a non-default value outside v8..v10.
    clusterAuthorizedOperations: version >= 8 && version <= 10 ? 0x1234 : -2147483648,
    errorCode: 7,
  }
}

function metadataExpected(version: number): MetadataResponse {
  const id = (hex: string) => (version >= 10 ? hex : null)
  const epoch = (e: number) => (version >= 7 ? e : -1)
  const offline = (o: number[]) => (version >= 5 ? o : [])
  const topics: MetadataResponse['topics'] = [
    {
      errorCode: 0,
      name: 'topic-a',
      topicId: id(TOPIC_A_ID),
      isInternal: false,
      partitions: [
        { errorCode: 0, partitionIndex: 0, leaderId: 1, leaderEpoch: epoch(5), replicaNodes: [1, 2], isrNodes: [1, 2], offlineReplicas: [] },
        { errorCode: 9, partitionIndex: 1, leaderId: 2, leaderEpoch: epoch(3), replicaNodes: [2, 1], isrNodes: [2], offlineReplicas: offline([1]) },
      ],
    },
    { errorCode: 3, name: 'missing', topicId: null, isInternal: false, partitions: [] },
    {
      errorCode: 0,
      name: '__consumer_offsets',
      topicId: id(OFFSETS_ID),
      isInternal: version >= 1,
      partitions: [
        { errorCode: 5, partitionIndex: 0, leaderId: -1, leaderEpoch: -1, replicaNodes: [3], isrNodes: [], offlineReplicas: offline([3]) },
      ],
    },
  ]
  if (version >= 12) topics.push({ errorCode: 100, name: null, topicId: BY_ID_ONLY, isInternal: false, partitions: [] })
  return {
    throttleTimeMs: version >= 3 ? 7 : 0,
    brokers: [
      { nodeId: 1, host: 'broker-1', port: 9092, rack: version >= 1 ? 'r1' : null },
      { nodeId: 2, host: 'bröker-2', port: 9093, rack: null },
    ],
    clusterId: version >= 2 ? 'cluster-xyz' : null,
    controllerId: version >= 1 ? 1 : -1,
    topics,
    errorCode: version >= 13 ? 7 : 0,
  }
}

const API_KEYS = [
  { apiKey: 0, minVersion: 3, maxVersion: 12 },
  { apiKey: 3, minVersion: 1, maxVersion: 13 },
  { apiKey: 18, minVersion: 0, maxVersion: 5 },
]

function apiVersionsJavaBody(version: number): Json {
  // Java's JSON reader refuses the feature struct arrays before v3 (they have no version there).
  const v3 = version >= 3
  return {
    errorCode: 0,
    apiKeys: API_KEYS,
    throttleTimeMs: 11,
    supportedFeatures: v3
      ? [
          { name: 'metadata.version', minVersion: 7, maxVersion: 27 },
          { name: 'transaction.version', minVersion: 1, maxVersion: 2 },
        ]
      : [],
    finalizedFeaturesEpoch: 42n,
    finalizedFeatures: v3
      ? [
          { name: 'metadata.version', maxVersionLevel: 27, minVersionLevel: 27 },
          { name: 'transaction.version', maxVersionLevel: 2, minVersionLevel: 2 },
        ]
      : [],
    // Tag 3, which we skip: proves unknown tags are stepped over.
    zkMigrationReady: true,
  }
}

function apiVersionsExpected(version: number): ApiVersionsResponse {
  const v3 = version >= 3
  return {
    errorCode: 0,
    apiKeys: API_KEYS,
    throttleTimeMs: version >= 1 ? 11 : 0,
    supportedFeatures: v3
      ? [
          { name: 'metadata.version', minVersion: 7, maxVersion: 27 },
          { name: 'transaction.version', minVersion: 1, maxVersion: 2 },
        ]
      : [],
    finalizedFeaturesEpoch: v3 ? 42n : -1n,
    finalizedFeatures: v3
      ? [
          { name: 'metadata.version', maxVersionLevel: 27, minVersionLevel: 27 },
          { name: 'transaction.version', maxVersionLevel: 2, minVersionLevel: 2 },
        ]
      : [],
  }
}

/** Per version: a fresh id, an id past 2^53, errors with the -1 defaults, and 2PC's ongoing transaction at v6. */
function initProducerIdValues(version: number): InitProducerIdResponse {
  const ongoing = version >= 6
  return {
    throttleTimeMs: version * 10,
    // PRODUCER_FENCED is v4+, TRANSACTION_ABORTABLE v5+ (older clients get other codes); the codec does not care.
    errorCode: version === 4 ? 90 : version === 5 ? 120 : 0,
    producerId: version === 4 || version === 5 ? -1n : version === 2 ? 9007199254740993n : 1000n + BigInt(version),
    producerEpoch: version === 4 || version === 5 ? -1 : version === 3 ? 32767 : version,
    ongoingTxnProducerId: ongoing ? 999n : -1n,
    ongoingTxnProducerEpoch: ongoing ? 12 : -1,
  }
}

function initProducerIdJavaBody(version: number): Json {
  const v = initProducerIdValues(version)
  return {
    throttleTimeMs: v.throttleTimeMs,
    errorCode: v.errorCode,
    producerId: v.producerId,
    producerEpoch: v.producerEpoch,
    // Not ignorable: Java refuses a non-default value before v6.
    ...(version >= 6 ? { ongoingTxnProducerId: v.ongoingTxnProducerId, ongoingTxnProducerEpoch: v.ongoingTxnProducerEpoch } : {}),
  }
}

function saslAuthenticateValues(version: number): SaslAuthenticateResponse {
  return {
    errorCode: version === 0 ? 58 : 0, // SASL_AUTHENTICATION_FAILED
    errorMessage: version === 0 ? 'Authentication failed: bad password ü' : null,
    authBytes: version === 2 ? RECORDS_B : Buffer.from('server-final-message', 'utf8'),
    sessionLifetimeMs: version >= 1 ? 3600000 : 0,
  }
}

function findCoordinatorJavaBody(version: number): Json {
  // Not ignorable: the single-coordinator fields must be defaults from v4, the batch empty below it.
  const single = version <= 3
  return {
    throttleTimeMs: 15,
    errorCode: single ? 15 : 0, // COORDINATOR_NOT_AVAILABLE
    errorMessage: 'not yet',
    nodeId: single ? 3 : 0,
    host: single ? 'coord-3.example' : '',
    port: single ? 9094 : 0,
    coordinators: single
      ? []
      : [
          { key: 'tx-a', nodeId: 1, host: 'broker-1', port: 9092, errorCode: 0, errorMessage: null },
          { key: 'tx-ü', nodeId: -1, host: '', port: -1, errorCode: 15, errorMessage: 'The coordinator is not available.' },
        ],
  }
}

function findCoordinatorExpected(version: number): FindCoordinatorResponse {
  const single = version <= 3
  return {
    throttleTimeMs: version >= 1 ? 15 : 0,
    errorCode: single ? 15 : 0,
    // No "default" in the schema: Java's default for a string, nullable or not, is "".
    errorMessage: version >= 1 && single ? 'not yet' : '',
    nodeId: single ? 3 : 0,
    host: single ? 'coord-3.example' : '',
    port: single ? 9094 : 0,
    coordinators: single
      ? []
      : [
          { key: 'tx-a', nodeId: 1, host: 'broker-1', port: 9092, errorCode: 0, errorMessage: null },
          { key: 'tx-ü', nodeId: -1, host: '', port: -1, errorCode: 15, errorMessage: 'The coordinator is not available.' },
        ],
  }
}

const TXN_TOPIC_RESULTS = [
  { name: 'topic-a', resultsByPartition: [{ partitionIndex: 0, partitionErrorCode: 0 }, { partitionIndex: 3, partitionErrorCode: 48 }] },
  { name: 'tópico', resultsByPartition: [] },
]

function addPartitionsToTxnJavaBody(version: number): Json {
  return {
    throttleTimeMs: 3,
    errorCode: 0,
    resultsByTransaction: version >= 4 ? [{ transactionalId: 'tx-a', topicResults: TXN_TOPIC_RESULTS }, { transactionalId: 'tx-b', topicResults: [] }] : [],
    resultsByTopicV3AndBelow: version <= 3 ? TXN_TOPIC_RESULTS : [],
  }
}

function addPartitionsToTxnExpected(version: number): AddPartitionsToTxnResponse {
  return {
    throttleTimeMs: 3,
    errorCode: 0,
    resultsByTransaction: version >= 4 ? [{ transactionalId: 'tx-a', topicResults: TXN_TOPIC_RESULTS }, { transactionalId: 'tx-b', topicResults: [] }] : [],
    resultsByTopicV3AndBelow: version <= 3 ? TXN_TOPIC_RESULTS : [],
  }
}

function endTxnValues(version: number): EndTxnResponse {
  return {
    throttleTimeMs: version,
    errorCode: version === 2 ? 90 : 0, // PRODUCER_FENCED from v2
    producerId: version >= 5 ? 9007199254740993n : -1n,
    producerEpoch: version >= 5 ? 8 : -1,
  }
}

function txnOffsetCommitJavaBody(): Json {
  return {
    throttleTimeMs: 0,
    topics: [
      { name: 'topic-a', topicId: uuidJson(TOPIC_A_ID), partitions: [{ partitionIndex: 0, errorCode: 0 }, { partitionIndex: 5, errorCode: 27 }] },
      { name: 'b', topicId: uuidJson(TOPIC_ID_B), partitions: [] },
    ],
  }
}

function txnOffsetCommitExpected(version: number): TxnOffsetCommitResponse {
  // Name (0..5) and TopicId (6+) are both ignorable: each version keeps one and reads the other as its default.
  const named = version <= 5
  return {
    throttleTimeMs: 0,
    topics: [
      { name: named ? 'topic-a' : '', topicId: named ? '00'.repeat(16) : TOPIC_A_ID, partitions: [{ partitionIndex: 0, errorCode: 0 }, { partitionIndex: 5, errorCode: 27 }] },
      { name: named ? 'b' : '', topicId: named ? '00'.repeat(16) : TOPIC_ID_B, partitions: [] },
    ],
  }
}

const TELEMETRY_SUBSCRIPTION: GetTelemetrySubscriptionsResponse = {
  throttleTimeMs: 1,
  errorCode: 0,
  clientInstanceId: CLIENT_INSTANCE_ID,
  subscriptionId: 77,
  acceptedCompressionTypes: [0, 1, 4, 3],
  pushIntervalMs: 30000,
  telemetryMaxBytes: 1048576,
  deltaTemporality: true,
  requestedMetrics: ['org.apache.kafka.producer.', 'ü'],
}

function responseCase(api: AnyApi, version: number, javaBody: Json, expected: unknown): ResponseCase {
  return { file: `${fileStem(api)}-v${version}-response.hex`, api, version, correlationId: 0x7fff0000 + api.apiKey * 100 + version, javaBody, expected }
}

export const RESPONSE_CASES: ResponseCase[] = [
  ...range(ProduceApi).map((v) => responseCase(ProduceApi, v, produceJavaBody(v), produceExpected(v))),
  ...range(MetadataApi).map((v) => responseCase(MetadataApi, v, metadataJavaBody(v), metadataExpected(v))),
  ...range(ApiVersionsApi).map((v) => responseCase(ApiVersionsApi, v, apiVersionsJavaBody(v), apiVersionsExpected(v))),
  ...range(InitProducerIdApi).map((v) => responseCase(InitProducerIdApi, v, initProducerIdJavaBody(v), initProducerIdValues(v))),
  ...range(SaslHandshakeApi).map((v) => {
    const body = { errorCode: v === 0 ? 33 : 0, mechanisms: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] } // 33: UNSUPPORTED_SASL_MECHANISM
    return responseCase(SaslHandshakeApi, v, body, body)
  }),
  ...range(SaslAuthenticateApi).map((v) => {
    const x = saslAuthenticateValues(v)
    return responseCase(SaslAuthenticateApi, v, { ...x, authBytes: bytesJson(x.authBytes), sessionLifetimeMs: 3600000 }, x)
  }),
  ...range(FindCoordinatorApi).map((v) => responseCase(FindCoordinatorApi, v, findCoordinatorJavaBody(v), findCoordinatorExpected(v))),
  ...range(AddPartitionsToTxnApi).map((v) => responseCase(AddPartitionsToTxnApi, v, addPartitionsToTxnJavaBody(v), addPartitionsToTxnExpected(v))),
  ...range(AddOffsetsToTxnApi).map((v) => {
    const body = { throttleTimeMs: 100 + v, errorCode: v === 0 ? 0 : 51 } // 51: CONCURRENT_TRANSACTIONS
    return responseCase(AddOffsetsToTxnApi, v, body, body)
  }),
  ...range(EndTxnApi).map((v) => {
    const x = endTxnValues(v)
    // ProducerId/ProducerEpoch are ignorable: given at every version, Java drops them below v5.
    return responseCase(EndTxnApi, v, { ...x, producerId: 9007199254740993n, producerEpoch: 8 }, x)
  }),
  ...range(TxnOffsetCommitApi).map((v) => responseCase(TxnOffsetCommitApi, v, txnOffsetCommitJavaBody(), txnOffsetCommitExpected(v))),
  ...range(GetTelemetrySubscriptionsApi).map((v) =>
    responseCase(GetTelemetrySubscriptionsApi, v, { ...TELEMETRY_SUBSCRIPTION, clientInstanceId: uuidJson(CLIENT_INSTANCE_ID) }, TELEMETRY_SUBSCRIPTION),
  ),
  ...range(PushTelemetryApi).map((v) => {
    const body = { throttleTimeMs: 0, errorCode: 117 } // 117: TELEMETRY_TOO_LARGE
    return responseCase(PushTelemetryApi, v, body, body)
  }),
]

// ---------------------------------------------------------------- ApiVersions fallback

export interface FallbackCase {
  file: string
  /** The version of the request the frame answers. */
  requestedVersions: number[]
  expected: ApiVersionsResponse
  /** What apiVersionsRetryVersion must answer for each requested version. */
  retryVersion: (requested: number) => number | null
}

/**
 * What a Java broker that speaks ApiVersions up to v3 answers a newer request
 * with: UNSUPPORTED_VERSION in a v0 body (header v0), listing its own range.
 * Generated by the Java helper at v0.
 */
export const UNSUPPORTED_JAVA_V0 = {
  file: 'apiversions-unsupported-java-response.hex',
  correlationId: 4242,
  javaBody: { errorCode: 35, apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 3 }] } as Json,
}

/**
 * librdkafka 2.0.2's mock cluster (Debian's librdkafka1 2.0.2-1) answering an
 * ApiVersions v3 request (correlation id 7): error 35, a one-byte array count
 * of 1, one entry without tagged fields, throttle time, no tag section.
 * Neither a flexible nor a v0 body. Captured from the mock over TCP; no Java
 * involved, so gen-golden.mjs writes it from this constant.
 */
export const UNSUPPORTED_LIBRDKAFKA_MOCK = {
  file: 'apiversions-unsupported-librdkafka-mock-response.hex',
  hex: '0000000700230100120000000200000000',
}

const NO_FEATURES = { supportedFeatures: [], finalizedFeaturesEpoch: -1n, finalizedFeatures: [] }

export const FALLBACK_CASES: FallbackCase[] = [
  {
    file: UNSUPPORTED_JAVA_V0.file,
    requestedVersions: [0, 1, 2, 3, 4, 5],
    expected: { errorCode: 35, apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 3 }], throttleTimeMs: 0, ...NO_FEATURES },
    retryVersion: (requested) => (requested > 3 ? 3 : requested === 0 ? null : 0),
  },
  {
    file: UNSUPPORTED_LIBRDKAFKA_MOCK.file,
    requestedVersions: [3, 4, 5],
    expected: { errorCode: 35, apiKeys: [], throttleTimeMs: 0, ...NO_FEATURES },
    retryVersion: () => 0,
  },
]
