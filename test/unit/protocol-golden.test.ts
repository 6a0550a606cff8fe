/**
 * Our codecs against the golden files in test/golden (written by
 * scripts/gen-golden.mjs, every byte confirmed by Kafka's own generated
 * classes). No JVM here: test/integration/protocol-java-crosscheck.test.ts
 * re-confirms the files against Java.
 *
 * Request files hold the frame without its 4-byte size prefix (what Kafka's
 * RequestHeader.parse reads); response files the frame as decodeResponse gets it.
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { decodeResponse, encodeRequest } from '../../src/protocol/api.js'
import {
  AddPartitionsToTxnApi,
  apiVersionsRetryVersion,
  decodeApiVersionsResponse,
  FindCoordinatorApi,
  InitProducerIdApi,
  MetadataApi,
  ProduceApi,
  SUPPORTED_APIS,
  TxnOffsetCommitApi,
} from '../../src/protocol/apis/index.js'
import { KafkaBrokerError, KafkaProtocolError } from '../../src/errors.js'
import { brokerError, ERROR_CODES, ErrorCode, errorName, isInvalidMetadata, isRetriable } from '../../src/protocol/error-codes.js'
import { FALLBACK_CASES, RECORDS_A, RECORDS_B, RECORDS_C, REQUEST_CASES, RESPONSE_CASES } from '../golden/cases.js'

const GOLDEN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'golden')
const golden = (file: string): Buffer => Buffer.from(fs.readFileSync(path.join(GOLDEN, file), 'utf8').replace(/\s+/g, ''), 'hex')

describe('golden coverage', () => {
  it('has a request and a response case for every implemented version of every API', () => {
    for (const api of SUPPORTED_APIS) {
      for (let v = api.minVersion; v <= api.maxVersion; v++) {
        expect(REQUEST_CASES.filter((c) => c.api === api && c.version === v), `${api.name} v${v} request`).toHaveLength(1)
        expect(RESPONSE_CASES.filter((c) => c.api === api && c.version === v), `${api.name} v${v} response`).toHaveLength(1)
      }
    }
  })
})

describe('golden requests', () => {
  for (const c of REQUEST_CASES) {
    it(`${c.api.name} v${c.version} encodes to ${c.file}`, () => {
      const segments = encodeRequest(c.api, c.version, c.correlationId, c.clientId, c.request)
      const frame = Buffer.concat(segments)
      expect(frame.readInt32BE(0)).toBe(frame.length - 4)
      expect(frame.subarray(4).toString('hex')).toBe(golden(c.file).toString('hex'))
    })
  }

  it('splices record batches as their own segments, without copying them', () => {
    const c = REQUEST_CASES.find((x) => x.api === ProduceApi && x.version === ProduceApi.maxVersion)!
    const segments = encodeRequest(c.api, c.version, c.correlationId, c.clientId, c.request)
    // header+body views interleaved with the three batches: own, A, own, B, own, C, own
    expect(segments).toHaveLength(7)
    expect(segments[1]).toBe(RECORDS_A)
    expect(segments[3]).toBe(RECORDS_B)
    expect(segments[5]).toBe(RECORDS_C)
    const own = [segments[0]!, segments[2]!, segments[4]!, segments[6]!]
    expect(new Set(own.map((s) => s.buffer)).size).toBe(1) // views of one allocation
  })

  it('refuses versions outside the implemented range', () => {
    for (const api of SUPPORTED_APIS) {
      const req = REQUEST_CASES.find((x) => x.api === api)!.request
      expect(() => encodeRequest(api, api.maxVersion + 1, 1, 'c', req)).toThrow(RangeError)
      expect(() => encodeRequest(api, api.minVersion - 1, 1, 'c', req)).toThrow(RangeError)
    }
  })
})

describe('InitProducerId request fields gated by version', () => {
  const base = { transactionalId: 't', transactionTimeoutMs: 1000, producerId: -1n, producerEpoch: -1 }

  it('refuses an epoch bump below v3 and 2PC flags below v6, rather than dropping them', () => {
    for (let v = 0; v < 3; v++) {
      expect(() => encodeRequest(InitProducerIdApi, v, 1, 'c', { ...base, producerId: 5n }), `v${v}`).toThrow(/v3\+ only/)
      expect(() => encodeRequest(InitProducerIdApi, v, 1, 'c', { ...base, producerEpoch: 0 }), `v${v}`).toThrow(/producerEpoch/)
    }
    for (let v = 0; v < 6; v++) {
      expect(() => encodeRequest(InitProducerIdApi, v, 1, 'c', { ...base, enable2Pc: true }), `v${v}`).toThrow(/enable2Pc true \(v6\+ only\)/)
      expect(() => encodeRequest(InitProducerIdApi, v, 1, 'c', { ...base, keepPreparedTxn: true }), `v${v}`).toThrow(/keepPreparedTxn/)
    }
  })

  it('accepts the defaults at every version', () => {
    for (let v = InitProducerIdApi.minVersion; v <= InitProducerIdApi.maxVersion; v++) {
      expect(() => encodeRequest(InitProducerIdApi, v, 1, 'c', { ...base, enable2Pc: false, keepPreparedTxn: false })).not.toThrow()
    }
  })
})

describe('generated request fields gated by version (Java: UnsupportedVersionException)', () => {
  it('FindCoordinator: one key below v4, batched keys from v4, a key type from v1', () => {
    expect(() => encodeRequest(FindCoordinatorApi, 4, 1, 'c', { key: 'g' })).toThrow(/FindCoordinator v4 cannot carry key g \(v0\.\.v3 only\)/)
    expect(() => encodeRequest(FindCoordinatorApi, 3, 1, 'c', { key: 'g', coordinatorKeys: ['a'] })).toThrow(/coordinatorKeys \[1 element\] \(v4\+ only\)/)
    expect(() => encodeRequest(FindCoordinatorApi, 0, 1, 'c', { key: 'g', keyType: 1 })).toThrow(/keyType 1 \(v1\+ only\)/)
    // Defaults are fine anywhere: keyType 0 at v0, an empty key list at v3, an empty key at v4.
    expect(() => encodeRequest(FindCoordinatorApi, 0, 1, 'c', { key: 'g', keyType: 0 })).not.toThrow()
    expect(() => encodeRequest(FindCoordinatorApi, 3, 1, 'c', { key: 'g', coordinatorKeys: [] })).not.toThrow()
    expect(() => encodeRequest(FindCoordinatorApi, 4, 1, 'c', { key: '', coordinatorKeys: ['a'] })).not.toThrow()
  })

  it('AddPartitionsToTxn: the v3-and-below fields and the v4+ batch refuse each other', () => {
    const old = { v3AndBelowTransactionalId: 't', v3AndBelowProducerId: 1n, v3AndBelowProducerEpoch: 0, v3AndBelowTopics: [] }
    expect(() => encodeRequest(AddPartitionsToTxnApi, 4, 1, 'c', old)).toThrow(/v3AndBelowTransactionalId t \(v0\.\.v3 only\)/)
    const batch = { transactions: [{ transactionalId: 't', producerId: 1n, producerEpoch: 0, verifyOnly: false, topics: [] }] }
    expect(() => encodeRequest(AddPartitionsToTxnApi, 3, 1, 'c', batch)).toThrow(/transactions \[1 element\] \(v4\+ only\)/)
  })

  it('TxnOffsetCommit: group membership from v3 refused below; the ignorable topic name and id are dropped', () => {
    const base = { transactionalId: 't', groupId: 'g', producerId: 1n, producerEpoch: 0, topics: [] }
    expect(() => encodeRequest(TxnOffsetCommitApi, 2, 1, 'c', { ...base, memberId: 'm' })).toThrow(/memberId m \(v3\+ only\)/)
    expect(() => encodeRequest(TxnOffsetCommitApi, 2, 1, 'c', { ...base, groupInstanceId: 'i' })).toThrow(/groupInstanceId/)
    expect(() => encodeRequest(TxnOffsetCommitApi, 2, 1, 'c', { ...base, memberId: '', groupInstanceId: null, generationIdOrMemberEpoch: -1 })).not.toThrow()
    const both = { ...base, topics: [{ name: 'a', topicId: '0123456789abcdef0123456789abcdef', partitions: [] }] }
    expect(() => encodeRequest(TxnOffsetCommitApi, 5, 1, 'c', both)).not.toThrow()
    expect(() => encodeRequest(TxnOffsetCommitApi, 6, 1, 'c', both)).not.toThrow()
  })

  it('Metadata: allowAutoTopicCreation is dropped below v4 (policy), never refused', () => {
    expect(() => encodeRequest(MetadataApi, 3, 1, 'c', { topics: null, allowAutoTopicCreation: false })).not.toThrow()
  })
})

describe('golden responses', () => {
  for (const c of RESPONSE_CASES) {
    it(`${c.api.name} v${c.version} decodes ${c.file}`, () => {
      const frame = golden(c.file)
      expect(frame.readInt32BE(0)).toBe(c.correlationId)
      expect(decodeResponse(c.api, c.version, frame)).toStrictEqual(c.expected)
    })
  }

  for (const c of RESPONSE_CASES) {
    it(`${c.api.name} v${c.version}: every truncation of ${c.file} is a KafkaProtocolError`, () => {
      const frame = golden(c.file)
      for (let n = 0; n < frame.length; n++) {
        expect(() => decodeResponse(c.api, c.version, frame.subarray(0, n)), `${n} of ${frame.length} bytes`).toThrow(KafkaProtocolError)
      }
      const longer = Buffer.concat([frame, Buffer.from([0])])
      expect(() => decodeResponse(c.api, c.version, longer)).toThrow(/trailing/)
    })
  }

  it('ApiVersions responses at the same version as plain decodeResponse through the fallback decoder', () => {
    for (const c of RESPONSE_CASES.filter((x) => x.api.apiKey === 18)) {
      expect(decodeApiVersionsResponse(golden(c.file), c.version)).toStrictEqual(c.expected)
    }
  })
})

describe('ApiVersions UNSUPPORTED_VERSION fallback', () => {
  for (const c of FALLBACK_CASES) {
    for (const requested of c.requestedVersions) {
      it(`${c.file} answering a v${requested} request`, () => {
        const res = decodeApiVersionsResponse(golden(c.file), requested)
        expect(res).toStrictEqual(c.expected)
        expect(apiVersionsRetryVersion(res, requested)).toBe(c.retryVersion(requested))
      })
    }
  }

  it('still throws for garbage that is not an UNSUPPORTED_VERSION answer', () => {
    const frame = Buffer.from('00000007000a0100', 'hex') // error 10, then nonsense
    expect(() => decodeApiVersionsResponse(frame, 3)).toThrow(KafkaProtocolError)
  })

  it('asks for no retry when the answer is not UNSUPPORTED_VERSION', () => {
    const ok = decodeApiVersionsResponse(golden('apiversions-v3-response.hex'), 3)
    expect(apiVersionsRetryVersion(ok, 3)).toBeNull()
  })
})

describe('error codes (generated from kafka-clients 4.4.0 Errors)', () => {
  it('has well-known codes with the Java client\'s names and retriability', () => {
    expect(ERROR_CODES.length).toBeGreaterThan(130)
    expect(new Set(ERROR_CODES.map((e) => e.code)).size).toBe(ERROR_CODES.length)
    expect([errorName(0), errorName(-1), errorName(6), errorName(35), errorName(120)]).toEqual([
      'NONE',
      'UNKNOWN_SERVER_ERROR',
      'NOT_LEADER_OR_FOLLOWER',
      'UNSUPPORTED_VERSION',
      'TRANSACTION_ABORTABLE',
    ])
    expect(isRetriable(ErrorCode.NOT_LEADER_OR_FOLLOWER)).toBe(true)
    expect(isInvalidMetadata(ErrorCode.NOT_LEADER_OR_FOLLOWER)).toBe(true)
    expect(isRetriable(ErrorCode.REQUEST_TIMED_OUT)).toBe(true)
    expect(isInvalidMetadata(ErrorCode.REQUEST_TIMED_OUT)).toBe(false)
    expect(isRetriable(ErrorCode.CORRUPT_MESSAGE)).toBe(true)
    expect(isRetriable(ErrorCode.MESSAGE_TOO_LARGE)).toBe(false)
    expect(isRetriable(ErrorCode.TOPIC_AUTHORIZATION_FAILED)).toBe(false)
    expect(isRetriable(ErrorCode.NONE)).toBe(false)
  })

  it('unknown codes read as UNKNOWN_SERVER_ERROR, not retriable, keeping the number', () => {
    expect(errorName(31999)).toBe('UNKNOWN_SERVER_ERROR')
    expect(isRetriable(31999)).toBe(false)
    const e = brokerError(31999)
    expect(e.errorCode).toBe(31999)
    expect(e.message).toMatch(/31999/)
  })

  it('brokerError prefers the broker\'s message and carries the context', () => {
    const e = brokerError(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'Produce to t-0', 'moved to broker 2')
    expect(e).toBeInstanceOf(KafkaBrokerError)
    expect([e.errorCode, e.errorName, e.code, e.retriable]).toEqual([6, 'NOT_LEADER_OR_FOLLOWER', 'NOT_LEADER_OR_FOLLOWER', true])
    expect(e.message).toBe('Produce to t-0: NOT_LEADER_OR_FOLLOWER (6): moved to broker 2')
    expect(brokerError(ErrorCode.MESSAGE_TOO_LARGE).message).toMatch(/^MESSAGE_TOO_LARGE \(10\): The request included a message larger/)
    expect(brokerError(ErrorCode.MESSAGE_TOO_LARGE, undefined, '').message).toMatch(/The request included/) // empty = none
  })
})
