/**
 * Our wire format against Kafka's own: one JVM running
 * test/harness/java/ProtocolCodec.java on kafka-clients 4.4.0.
 *
 * - Requests: every golden case plus seeded random ones, for every implemented
 *   version, are parsed by Kafka's RequestHeader.parse and generated
 *   XxxRequestData; every byte must be consumed, the parsed fields must be the
 *   ones we meant, and Kafka's re-serialization must equal our bytes.
 * - Responses: Kafka re-encodes every golden response from its JSON and must
 *   produce the golden file byte for byte (so the files are still Kafka's
 *   bytes), and Kafka's own decoder must consume every golden file exactly.
 *
 * Never skipped: without the Kafka jars (.cache/kafka/4.4.0/libs from
 * scripts/ensure-deps.mjs, or $KAFKA_LIBS) or java, it fails saying so.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AnyApi } from '../../src/protocol/api.js'
import { encodeRequest } from '../../src/protocol/api.js'
import {
  AddOffsetsToTxnApi,
  AddPartitionsToTxnApi,
  type AddPartitionsToTxnRequest,
  ApiVersionsApi,
  type ApiVersionsRequest,
  EndTxnApi,
  FindCoordinatorApi,
  type FindCoordinatorRequest,
  GetTelemetrySubscriptionsApi,
  InitProducerIdApi,
  type InitProducerIdRequest,
  MetadataApi,
  type MetadataRequest,
  ProduceApi,
  type ProduceRequest,
  PushTelemetryApi,
  SaslAuthenticateApi,
  SaslHandshakeApi,
  TxnOffsetCommitApi,
  type TxnOffsetCommitRequest,
} from '../../src/protocol/apis/index.js'
import {
  addOffsetsToTxnJavaJson,
  addPartitionsToTxnJavaJson,
  apiVersionsJavaJson,
  bytesJson,
  endTxnJavaJson,
  findCoordinatorJavaJson,
  header,
  initProducerIdJavaJson,
  int64Json,
  type Json,
  metadataJavaJson,
  produceJavaJson,
  REQUEST_CASES,
  RESPONSE_CASES,
  toJsonText,
  txnOffsetCommitJavaJson,
  UNSUPPORTED_JAVA_V0,
  uuidJson,
} from '../golden/cases.js'
import { JavaCodec, kafkaLibs, ROOT } from '../harness/protocol-codec.js'
import { mulberry32 as rng } from '../harness/prng.js'

const GOLDEN = path.join(ROOT, 'test', 'golden')
const golden = (file: string): Buffer => Buffer.from(fs.readFileSync(path.join(GOLDEN, file), 'utf8').replace(/\s+/g, ''), 'hex')

let java: JavaCodec

beforeAll(() => {
  java = JavaCodec.start()
}, 60_000)

afterAll(async () => {
  await java?.close()
})

interface Probe {
  name: string
  api: AnyApi
  version: number
  correlationId: number
  clientId: string | null
  request: unknown
  body: Json
}

/** Encodes with our codec, parses with Kafka's, and checks fields and bytes. */
async function crossCheck(p: Probe): Promise<Buffer> {
  const frame = Buffer.concat(encodeRequest(p.api, p.version, p.correlationId, p.clientId, p.request)).subarray(4)
  const parsed = await java.parseRequest(p.api.apiKey, p.version, frame)
  expect(parsed.headerVersion, `${p.name}: header version`).toBe(p.version >= p.api.flexibleFrom ? 2 : 1)
  expect({ header: parsed.header, body: parsed.body }, `${p.name}: fields as Kafka parsed them`).toEqual({
    header: header(p.api, p.version, p.correlationId, p.clientId),
    body: p.body,
  })
  expect(parsed.reencoded, `${p.name}: Kafka's own encoding of the same request`).toBe(frame.toString('hex'))
  return frame
}

function versions(api: AnyApi): number[] {
  const out: number[] = []
  for (let v = api.minVersion; v <= api.maxVersion; v++) out.push(v)
  return out
}


const ALPHABET = ['a', 'Z', '0', '-', '_', '.', 'é', 'ß', '漢', '😀']

function randomString(next: () => number, max: number): string {
  const n = Math.floor(next() * (max + 1))
  let s = ''
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(next() * ALPHABET.length)]
  return s
}

function randomBytes(next: () => number, max: number): Buffer {
  const b = Buffer.alloc(Math.floor(next() * (max + 1)))
  for (let i = 0; i < b.length; i++) b[i] = Math.floor(next() * 256)
  return b
}

describe('requests: our bytes as Kafka 4.4.0 parses them', () => {
  it('every golden request case, every version', async () => {
    for (const c of REQUEST_CASES) {
      const frame = await crossCheck({ ...c, name: c.file, body: c.javaJson.body })
      expect(frame.toString('hex'), `${c.file} is our current encoding`).toBe(golden(c.file).toString('hex'))
    }
  })

  it('Produce: seeded random requests at every version', async () => {
    const next = rng(0x5eed0001)
    const checks: Promise<Buffer>[] = []
    for (const version of versions(ProduceApi)) {
      for (let round = 0; round < 6; round++) {
        const topics: ProduceRequest['topics'] = []
        // Round 5 has 130 partitions: an array count past the one-byte compact uvarint.
        const topicCount = round === 0 ? 0 : 1 + Math.floor(next() * 3)
        for (let t = 0; t < topicCount; t++) {
          const partitionCount = round === 5 ? 130 : 1 + Math.floor(next() * 4)
          const partitions: ProduceRequest['topics'][number]['partitions'] = []
          for (let p = 0; p < partitionCount; p++) partitions.push({ index: Math.floor(next() * 1000), records: randomBytes(next, round === 4 ? 20000 : 200) })
          topics.push({ name: `t${t}-${randomString(next, round === 3 ? 200 : 12)}`, partitions })
        }
        const req: ProduceRequest = {
          transactionalId: next() < 0.5 ? null : randomString(next, 40),
          acks: [0, 1, -1][Math.floor(next() * 3)]!,
          timeoutMs: Math.floor(next() * 2 ** 31),
          topics,
        }
        checks.push(
          crossCheck({
            name: `Produce v${version} random round ${round}`,
            api: ProduceApi,
            version,
            correlationId: Math.floor(next() * 2 ** 31),
            clientId: next() < 0.2 ? null : randomString(next, 30),
            request: req,
            body: produceJavaJson(req),
          }),
        )
      }
    }
    await Promise.all(checks)
  })

  it('Metadata: seeded random topic lists at every version, including none and all', async () => {
    const next = rng(0x5eed0003)
    const checks: Promise<Buffer>[] = []
    for (const version of versions(MetadataApi)) {
      for (const count of [null, 0, 1, 7, 130]) {
        const topics = count === null ? null : Array.from({ length: count }, (_, i) => `${i}-${randomString(next, 30)}`)
        const req: MetadataRequest = { topics, allowAutoTopicCreation: next() < 0.5 }
        checks.push(
          crossCheck({
            name: `Metadata v${version} with ${count ?? 'all'} topics`,
            api: MetadataApi,
            version,
            correlationId: count ?? -1,
            clientId: 'crosscheck',
            request: req,
            body: metadataJavaJson(req, version),
          }),
        )
      }
    }
    await Promise.all(checks)
  })

  it('ApiVersions: default v5 identity fields and long software names at every version', async () => {
    const checks: Promise<Buffer>[] = []
    for (const version of versions(ApiVersionsApi)) {
      for (const req of [
        { clientSoftwareName: 'kafka-producer-ts', clientSoftwareVersion: '1.2.3' },
        { clientSoftwareName: 'x'.repeat(300), clientSoftwareVersion: '', clusterId: 'c-1', nodeId: 7 },
      ] satisfies ApiVersionsRequest[]) {
        checks.push(
          crossCheck({
            name: `ApiVersions v${version}`,
            api: ApiVersionsApi,
            version,
            correlationId: 2 ** 31 - 1,
            clientId: 'ü'.repeat(100),
            request: req,
            body: apiVersionsJavaJson(req, version),
          }),
        )
      }
    }
    await Promise.all(checks)
  })

  it('InitProducerId: seeded random ids, epochs and flags at every version, int64 extremes included', async () => {
    const next = rng(0x5eed0022)
    const ids = [-1n, 0n, 1n, 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n)]
    const checks: Promise<Buffer>[] = []
    for (const version of versions(InitProducerIdApi)) {
      for (let round = 0; round < 8; round++) {
        const bump = version >= 3 && round > 0
        const req: InitProducerIdRequest = {
          transactionalId: round % 3 === 0 ? null : randomString(next, round === 7 ? 300 : 20),
          transactionTimeoutMs: Math.floor(next() * 2 ** 32) - 2 ** 31,
          producerId: bump ? (round < ids.length ? ids[round]! : BigInt(Math.floor(next() * 2 ** 53))) : -1n,
          producerEpoch: bump ? Math.floor(next() * 65536) - 32768 : -1,
          ...(version >= 6 ? { enable2Pc: next() < 0.5, keepPreparedTxn: next() < 0.5 } : {}),
        }
        checks.push(
          crossCheck({
            name: `InitProducerId v${version} random round ${round}`,
            api: InitProducerIdApi,
            version,
            correlationId: Math.floor(next() * 2 ** 31),
            clientId: 'crosscheck',
            request: req,
            body: initProducerIdJavaJson(req, version),
          }),
        )
      }
    }
    await Promise.all(checks)
  })
})

/** The APIs generated for the transactional and SASL work: every field name is the schema's, as Java's JSON shows it. */
const NEW_APIS: AnyApi[] = [
  SaslHandshakeApi,
  SaslAuthenticateApi,
  FindCoordinatorApi,
  AddPartitionsToTxnApi,
  AddOffsetsToTxnApi,
  EndTxnApi,
  TxnOffsetCommitApi,
  GetTelemetrySubscriptionsApi,
  PushTelemetryApi,
]

const randomInt = (next: () => number, bits: number): number => Math.floor(next() * 2 ** bits) - 2 ** (bits - 1)
const INT64_EXTREMES = [-1n, 0n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n + 1n]
const randomInt64 = (next: () => number): bigint =>
  next() < 0.5 ? INT64_EXTREMES[Math.floor(next() * INT64_EXTREMES.length)]! : BigInt(Math.floor(next() * 2 ** 53)) - 2n ** 52n
const randomUuid = (next: () => number): string => Array.from({ length: 32 }, () => '0123456789abcdef'[Math.floor(next() * 16)]).join('')
const some = <T>(next: () => number, max: number, make: () => T): T[] => Array.from({ length: Math.floor(next() * (max + 1)) }, make)

/** A random request that the version can carry, and what Java must parse from it. */
function randomNewApiProbe(api: AnyApi, version: number, next: () => number, round: number): { request: unknown; body: Json } {
  const str = (max: number) => randomString(next, round === 3 ? 150 : max)
  switch (api) {
    case SaslHandshakeApi: {
      const mechanism = str(20)
      return { request: { mechanism }, body: { mechanism } }
    }
    case SaslAuthenticateApi: {
      const authBytes = randomBytes(next, round === 3 ? 5000 : 100)
      return { request: { authBytes }, body: { authBytes: bytesJson(authBytes) } }
    }
    case FindCoordinatorApi: {
      const req: FindCoordinatorRequest = version <= 3 ? { key: str(40) } : { coordinatorKeys: some(next, round === 4 ? 200 : 5, () => str(30)) }
      if (version >= 1) req.keyType = Math.floor(next() * 3)
      return { request: req, body: findCoordinatorJavaJson(req, version) }
    }
    case AddPartitionsToTxnApi: {
      const topics = () => some(next, round === 4 ? 140 : 4, () => ({ name: str(30), partitions: some(next, 6, () => randomInt(next, 32)) }))
      const req: AddPartitionsToTxnRequest =
        version <= 3
          ? { v3AndBelowTransactionalId: str(30), v3AndBelowProducerId: randomInt64(next), v3AndBelowProducerEpoch: randomInt(next, 16), v3AndBelowTopics: topics() }
          : {
              transactions: some(next, 3, () => ({
                transactionalId: str(30),
                producerId: randomInt64(next),
                producerEpoch: randomInt(next, 16),
                verifyOnly: next() < 0.5,
                topics: topics(),
              })),
            }
      return { request: req, body: addPartitionsToTxnJavaJson(req, version) }
    }
    case AddOffsetsToTxnApi: {
      const req = { transactionalId: str(40), producerId: randomInt64(next), producerEpoch: randomInt(next, 16), groupId: str(40) }
      return { request: req, body: addOffsetsToTxnJavaJson(req) }
    }
    case EndTxnApi: {
      const req = { transactionalId: str(40), producerId: randomInt64(next), producerEpoch: randomInt(next, 16), committed: next() < 0.5 }
      return { request: req, body: endTxnJavaJson(req) }
    }
    case TxnOffsetCommitApi: {
      const req: TxnOffsetCommitRequest = {
        transactionalId: str(30),
        groupId: str(30),
        producerId: randomInt64(next),
        producerEpoch: randomInt(next, 16),
        topics: some(next, round === 4 ? 130 : 3, () => ({
          ...(version <= 5 ? { name: str(30) } : { topicId: randomUuid(next) }),
          partitions: some(next, 4, () => ({
            partitionIndex: randomInt(next, 32),
            committedOffset: randomInt64(next),
            committedMetadata: next() < 0.3 ? null : str(50),
            ...(version >= 2 ? { committedLeaderEpoch: randomInt(next, 32) } : {}),
          })),
        })),
      }
      if (version >= 3) {
        req.generationIdOrMemberEpoch = randomInt(next, 32)
        req.memberId = str(20)
        req.groupInstanceId = next() < 0.5 ? null : str(20)
      }
      return { request: req, body: txnOffsetCommitJavaJson(req, version) }
    }
    case GetTelemetrySubscriptionsApi: {
      const clientInstanceId = randomUuid(next)
      return { request: { clientInstanceId }, body: { clientInstanceId: uuidJson(clientInstanceId) } }
    }
    case PushTelemetryApi: {
      const req = { clientInstanceId: randomUuid(next), subscriptionId: randomInt(next, 32), terminating: next() < 0.5, compressionType: Math.floor(next() * 5), metrics: randomBytes(next, round === 3 ? 3000 : 100) }
      return { request: req, body: { ...req, clientInstanceId: uuidJson(req.clientInstanceId), metrics: bytesJson(req.metrics) } }
    }
  }
  throw new Error(`no random probe for ${api.name}`)
}

describe('requests of the generated transactional, SASL and telemetry APIs', () => {
  it('seeded random requests at every version', async () => {
    const next = rng(0x5eed0100)
    const checks: Promise<Buffer>[] = []
    for (const api of NEW_APIS) {
      for (const version of versions(api)) {
        for (let round = 0; round < 5; round++) {
          const { request, body } = randomNewApiProbe(api, version, next, round)
          checks.push(
            crossCheck({ name: `${api.name} v${version} random round ${round}`, api, version, correlationId: round, clientId: 'crosscheck', request, body }),
          )
        }
      }
    }
    await Promise.all(checks)
  })
})

/** Our decoded value in Java's JSON terms: int64 as JSON numbers, bytes as base64, uuids as Kafka's base64url. */
function asJavaJson(v: unknown): unknown {
  if (typeof v === 'bigint') return int64Json(v)
  if (Buffer.isBuffer(v)) return bytesJson(v)
  if (typeof v === 'string' && /^[0-9a-f]{32}$/.test(v)) return uuidJson(v)
  if (Array.isArray(v)) return v.map(asJavaJson)
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, asJavaJson(x)]))
  return v
}

/** `ours` restricted to the fields Java printed (Java prints only the fields the version carries). */
function restrictTo(java: unknown, ours: unknown): unknown {
  if (Array.isArray(java) && Array.isArray(ours)) return ours.map((x, i) => restrictTo(java[i], x))
  if (java !== null && typeof java === 'object' && ours !== null && typeof ours === 'object') {
    return Object.fromEntries(Object.keys(java).map((k) => [k, restrictTo((java as Record<string, unknown>)[k], (ours as Record<string, unknown>)[k])]))
  }
  return ours
}

describe('responses: the golden files are Kafka 4.4.0 bytes', () => {
  it('generated transactional, SASL and telemetry APIs: what Kafka decodes from each golden file is what we decode', async () => {
    for (const c of RESPONSE_CASES.filter((x) => NEW_APIS.includes(x.api))) {
      const decoded = await java.decodeResponse(c.api.apiKey, c.version, golden(c.file))
      expect(restrictTo(decoded.body, asJavaJson(c.expected)), c.file).toEqual(decoded.body)
    }
  })

  it('Kafka encodes every golden response case to its file, byte for byte', async () => {
    const results = await Promise.all(
      RESPONSE_CASES.map(async (c) => ({ c, bytes: await java.encodeResponse(c.api.apiKey, c.version, c.correlationId, toJsonText(c.javaBody)) })),
    )
    for (const { c, bytes } of results) expect(bytes.toString('hex'), c.file).toBe(golden(c.file).toString('hex'))
    const fallback = await java.encodeResponse(18, 0, UNSUPPORTED_JAVA_V0.correlationId, toJsonText(UNSUPPORTED_JAVA_V0.javaBody))
    expect(fallback.toString('hex')).toBe(golden(UNSUPPORTED_JAVA_V0.file).toString('hex'))
  })

  it("Kafka's decoder consumes every golden response file exactly", async () => {
    for (const c of RESPONSE_CASES) {
      const decoded = await java.decodeResponse(c.api.apiKey, c.version, golden(c.file))
      expect(decoded.header, c.file).toEqual({ correlationId: c.correlationId })
    }
  })

  it('InitProducerId: what Kafka decodes from each golden file is what we decode', async () => {
    for (const c of RESPONSE_CASES.filter((x) => x.api === InitProducerIdApi)) {
      const decoded = await java.decodeResponse(c.api.apiKey, c.version, golden(c.file))
      const ours = c.expected as Record<string, unknown>
      const fields = ['throttleTimeMs', 'errorCode', 'producerId', 'producerEpoch', ...(c.version >= 6 ? ['ongoingTxnProducerId', 'ongoingTxnProducerEpoch'] : [])]
      const exact = (v: unknown) => (typeof v === 'bigint' ? int64Json(v) : v)
      expect(decoded.body, c.file).toEqual(Object.fromEntries(fields.map((f) => [f, exact(ours[f])])))
    }
  })

  it('ApiVersions answers with header v0 at every version, and the unsupported answer is a v0 body', async () => {
    for (const c of RESPONSE_CASES.filter((x) => x.api === ApiVersionsApi)) {
      const frame = golden(c.file)
      // Header v0 is just the correlation id; the body starts with error code 0.
      expect(frame.readInt16BE(4), c.file).toBe(0)
    }
    const decoded = await java.decodeResponse(18, 0, golden(UNSUPPORTED_JAVA_V0.file))
    expect(decoded.body).toEqual({ errorCode: 35, apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 3 }] })
  })
})

describe('error codes', () => {
  it('src/protocol/error-codes.ts is what scripts/gen-error-codes.mjs derives from the jar', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'gen-error-codes.mjs'), '--check'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, KAFKA_LIBS: kafkaLibs() },
    })
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0)
  }, 60_000)
})
