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
  ApiVersionsApi,
  type ApiVersionsRequest,
  type ApiVersionsResponse,
  InitProducerIdApi,
  type InitProducerIdRequest,
  type InitProducerIdResponse,
  MetadataApi,
  type MetadataRequest,
  type MetadataResponse,
  ProduceApi,
  type ProduceRequest,
  type ProduceResponse,
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
]

// ---------------------------------------------------------------- responses

const TOPIC_A_ID = '0123456789abcdef0123456789abcdef'
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

function responseCase(api: AnyApi, version: number, javaBody: Json, expected: unknown): ResponseCase {
  return { file: `${fileStem(api)}-v${version}-response.hex`, api, version, correlationId: 0x7fff0000 + api.apiKey * 100 + version, javaBody, expected }
}

export const RESPONSE_CASES: ResponseCase[] = [
  ...range(ProduceApi).map((v) => responseCase(ProduceApi, v, produceJavaBody(v), produceExpected(v))),
  ...range(MetadataApi).map((v) => responseCase(MetadataApi, v, metadataJavaBody(v), metadataExpected(v))),
  ...range(ApiVersionsApi).map((v) => responseCase(ApiVersionsApi, v, apiVersionsJavaBody(v), apiVersionsExpected(v))),
  ...range(InitProducerIdApi).map((v) => responseCase(InitProducerIdApi, v, initProducerIdJavaBody(v), initProducerIdValues(v))),
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
