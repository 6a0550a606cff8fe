// Per-API policy for scripts/gen-protocol.mjs: what the schema cannot say.
//
// The JSON schemas in kafka-clients say which fields each version carries; this
// file says which versions this client implements and why, and where the
// generated TypeScript deliberately differs from a literal rendering of the
// schema (names that the rest of src/ already uses, fields a producer never
// sets, the ApiVersions response header). Everything else comes from the jar.
//
// Keys of the per-field maps are `<SchemaStructName>.<SchemaFieldName>`, where
// the top-level struct is the schema's message name (e.g. `ProduceRequest`).
//
// - versions: [min, max] implemented (inclusive).
// - why: the reason for that range, and anything a reader of the module must know.
// - invariants: API-specific invariants, listed after the generic ones.
// - typeNames: schema struct name -> exported interface name.
// - fieldNames: field -> property name (default: the schema name with a lower-case first letter, as Java's).
// - omit: fields left out of the TypeScript types. A request writes their
//   default; a response reads them (so the framing holds) and drops them.
// - flatten: `<Struct>.<ArrayField>` -> the one field of the element struct that
//   stands for the element (the others must be omitted, so written as defaults).
// - nonNull: fields whose type leaves out null although the schema allows it.
// - lenient: non-ignorable request fields that are dropped, not refused, at a
//   version that cannot carry them (the broker's own default then applies).
// - zeroUuidIsNull: response uuid fields where the zero id reads as null.
// - responseHeaderVersion: a fixed response header version (ApiVersions: 0).
// - clientThrottleFrom: the first version whose response the client throttles
//   itself on (KIP-219: the broker answers at once with throttle_time_ms and
//   expects the client to hold off), as Java's `XxxResponse.shouldClientThrottle`;
//   absent: never (`AbstractResponse`'s default, e.g. the SASL and telemetry APIs).
// - includeUnstable: implement a request version the schema marks
//   `latestVersionUnstable` (otherwise the generator refuses to).

export const KAFKA_VERSION = '4.4.0';

export const APIS = [
  {
    name: 'Produce',
    clientThrottleFrom: 6,
    versions: [3, 12],
    why: [
      'Why 3..12: v3 is the first version that carries RecordBatch v2 (message',
      'format v2) and the transactional id, and Kafka 4.x rejects 0..2 (it still',
      'lists them in ApiVersions, KAFKA-18659). v13 replaces topic names with topic',
      'ids (KIP-516), which this client does not track, so 12 is the newest version',
      'it can send. librdkafka 2.0.2\'s mock cluster accepts 0..7 and Kafka 3.9 0..11,',
      'both covered.',
    ],
    invariants: [
      '`records` is an already-encoded RecordBatch v2 and is spliced into the',
      'request with `w.records()`: never copied. The encoder is plain indexed loops',
      'with no allocation of its own; it runs twice per request (size, then fill).',
      'With acks = 0 the broker sends no response; the network client must not',
      'wait for one.',
      '`currentLeader` is undefined unless the broker sent the tag (v10+, with',
      'NOT_LEADER_OR_FOLLOWER and the like); `nodeEndpoints` is then the leaders\' endpoints.',
    ],
    typeNames: {
      TopicProduceData: 'ProduceTopicData',
      PartitionProduceData: 'ProducePartitionData',
      TopicProduceResponse: 'ProduceTopicResponse',
      PartitionProduceResponse: 'ProducePartitionResponse',
      BatchIndexAndErrorMessage: 'RecordError',
    },
    fieldNames: {
      'ProduceRequest.TopicData': 'topics',
      'TopicProduceData.PartitionData': 'partitions',
      'ProduceResponse.Responses': 'topics',
      'TopicProduceResponse.PartitionResponses': 'partitions',
    },
    // The sender always has a batch; null records would be a bug, not a request.
    nonNull: ['PartitionProduceData.Records'],
  },
  {
    name: 'Metadata',
    clientThrottleFrom: 6,
    versions: [1, 13],
    why: [
      'Why 1..13: v0 encodes "all topics" as an empty array, so it cannot ask for',
      'no topics; the Java client refuses to build it and every broker that accepts',
      'Produce v3 (Kafka 0.11+) accepts Metadata v1..v4. Kafka 4.x still accepts',
      '0..13 (3.9: 0..12), and librdkafka 2.0.2\'s mock cluster only 0..2, so the',
      'range must reach down to v2. 13 is the newest in 4.4.0.',
    ],
    invariants: [
      '`topics: null` asks for all topics (a null array, v1+); `[]` asks for none.',
      'Topics are always asked by name: v10+ writes the zero topic id beside the',
      'name, as the schema requires when asking by name.',
      '`allowAutoTopicCreation` exists from v4; below it the flag is not sent and',
      'the broker applies its own `auto.create.topics.enable` (Java\'s',
      'MetadataRequest.Builder refuses instead; the network client asks with false',
      'on brokers as old as librdkafka\'s mock, so this client drops it).',
      'Authorized operations are never requested (a producer has no use for them);',
      'the bit fields the broker still sends are read and dropped.',
      'A zero topic id in the response (old broker, or a topic asked by name that',
      'does not exist) is returned as null.',
    ],
    typeNames: {
      MetadataResponseBroker: 'MetadataBroker',
      MetadataResponseTopic: 'MetadataTopic',
      MetadataResponsePartition: 'MetadataPartition',
    },
    omit: [
      'MetadataRequestTopic.TopicId',
      'MetadataRequest.IncludeClusterAuthorizedOperations',
      'MetadataRequest.IncludeTopicAuthorizedOperations',
      'MetadataResponseTopic.TopicAuthorizedOperations',
      'MetadataResponse.ClusterAuthorizedOperations',
    ],
    flatten: { 'MetadataRequest.Topics': 'Name' },
    nonNull: ['MetadataRequestTopic.Name'],
    lenient: ['MetadataRequest.AllowAutoTopicCreation'],
    zeroUuidIsNull: ['MetadataResponseTopic.TopicId'],
  },
  {
    name: 'ApiVersions',
    clientThrottleFrom: 2,
    versions: [0, 5],
    why: [
      'All of 0..5. The response header is always v0 (no tagged fields), even for',
      'the flexible versions 3+: a client must be able to read the header before',
      'it knows which versions the broker speaks (KIP-511).',
      'A broker that does not support the requested version answers',
      'UNSUPPORTED_VERSION with a v0 body; decodeApiVersionsResponse and',
      'apiVersionsRetryVersion (api-versions-fallback.ts, hand-written) handle that.',
    ],
    invariants: [
      '`clientSoftwareName`/`clientSoftwareVersion` (v3+) are sent as given; brokers',
      'answer INVALID_REQUEST unless both match `[a-zA-Z0-9](?:[a-zA-Z0-9\\-.]*[a-zA-Z0-9])?`,',
      'so callers pass sanitised values.',
      'v5 (KIP-1242) adds ClusterId/NodeId: with the defaults (null, -1) the broker',
      'skips the identity check and v5 behaves like v4.',
      'ZkMigrationReady (tag 3) is a ZooKeeper-era flag a client has no use for: skipped.',
    ],
    typeNames: {
      ApiVersion: 'ApiVersionRange',
      SupportedFeatureKey: 'SupportedFeature',
      FinalizedFeatureKey: 'FinalizedFeature',
    },
    omit: ['ApiVersionsResponse.ZkMigrationReady'],
    responseHeaderVersion: 0,
  },
  {
    name: 'InitProducerId',
    clientThrottleFrom: 1,
    versions: [0, 6],
    includeUnstable: true,
    why: [
      'All of 0..6. 4.4.0 marks request v6 `latestVersionUnstable`, so brokers',
      'advertise 0..5 unless `unstable.api.versions.enable` is set; negotiation',
      'never picks v6 by accident, and implementing it keeps two-phase commit',
      '(KIP-939) testable. librdkafka 2.0.2\'s mock cluster accepts 0..4.',
    ],
    invariants: [
      'An epoch bump (KIP-360, v3+) below v3 throws rather than being dropped:',
      'dropping it would get the caller a brand-new producer id instead.',
    ],
  },
  {
    name: 'SaslHandshake',
    versions: [0, 1],
    why: [
      'All of 0..1. v0 sends the SASL tokens as raw frames after the handshake;',
      'v1 (KIP-152) wraps them in SaslAuthenticate requests, which is what this',
      'client uses.',
    ],
    invariants: [],
  },
  {
    name: 'SaslAuthenticate',
    versions: [0, 2],
    why: ['All of 0..2.'],
    invariants: [
      '`authBytes` in the response is a view of the received frame; copy it to',
      'keep it past the response\'s handling.',
    ],
  },
  {
    name: 'FindCoordinator',
    clientThrottleFrom: 2,
    versions: [0, 6],
    why: [
      'All of 0..6. Below v4 a request names one key (`key`) and the response one',
      'coordinator at its top level; from v4 (KIP-699) keys and coordinators are',
      'batched (`coordinatorKeys`, `coordinators`). Callers fill the fields of the',
      'version they negotiated; the other form is refused.',
    ],
    invariants: [],
  },
  {
    name: 'AddPartitionsToTxn',
    clientThrottleFrom: 1,
    versions: [0, 5],
    why: [
      'All of 0..5. Clients use 0..3 (the `v3AndBelow*` fields); 4+ batch several',
      'transactions and are sent by brokers to verify (KIP-890). The fields of the',
      'other form are refused.',
    ],
    invariants: [],
  },
  {
    name: 'AddOffsetsToTxn',
    clientThrottleFrom: 1,
    versions: [0, 4],
    why: ['All of 0..4.'],
    invariants: [],
  },
  {
    name: 'EndTxn',
    clientThrottleFrom: 1,
    versions: [0, 5],
    why: [
      'All of 0..5. v5 (KIP-890 part 2) bumps the epoch on every transaction: the',
      'response carries the producer id and epoch to use next.',
    ],
    invariants: [],
  },
  {
    name: 'TxnOffsetCommit',
    clientThrottleFrom: 1,
    versions: [0, 6],
    why: [
      'All of 0..6. v6 (KIP-1319) names topics by id only: `name` is dropped there',
      'and `topicId` must be set; below v6 the reverse (both are ignorable in the',
      'schema, so Java drops the other one silently too).',
    ],
    invariants: [],
  },
  {
    name: 'GetTelemetrySubscriptions',
    versions: [0, 0],
    why: ['v0, the only version (KIP-714 client metrics).'],
    invariants: [],
  },
  {
    name: 'PushTelemetry',
    versions: [0, 0],
    why: ['v0, the only version (KIP-714 client metrics).'],
    invariants: [],
  },
];
