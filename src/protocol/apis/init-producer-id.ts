/**
 * InitProducerId (key 22), versions 0..6, as in kafka-clients 4.4.0's
 * InitProducerIdRequest.json / InitProducerIdResponse.json.
 *
 * Versions: 1 is 0 plus throttle-before-response; 2 is the first flexible
 * version; 3 adds ProducerId/ProducerEpoch to the request, so a producer can
 * ask for an epoch bump of the id it already has (KIP-360) instead of getting
 * a new one; 4 and 5 only allow new error codes (PRODUCER_FENCED,
 * TRANSACTION_ABORTABLE); 6 adds two-phase commit (KIP-939): Enable2Pc and
 * KeepPreparedTxn in the request, OngoingTxnProducerId/Epoch in the response.
 * 4.4.0 marks request v6 `latestVersionUnstable`, so brokers advertise 0..5
 * unless `unstable.api.versions.enable` is set; negotiation never picks v6 by
 * accident. librdkafka 2.0.2's mock cluster accepts 0..4.
 *
 * Invariants:
 * - A field the negotiated version cannot carry must hold its default:
 *   producerId -1n / producerEpoch -1 below v3, enable2Pc / keepPreparedTxn
 *   false below v6. Anything else throws a RangeError (as Java's generated
 *   writer throws UnsupportedVersionException): silently dropping a requested
 *   epoch bump would get the caller a brand-new producer id instead.
 * - Response fields a version lacks take the schema's defaults (-1n, -1).
 * - The response has no tagged fields of its own; unknown tags are skipped.
 */
import type { ApiSpec } from '../api.js'
import type { Reader } from '../reader.js'
import type { ProtocolWriter } from '../writer.js'

/** The first version carrying each field. */
const V = { flexible: 2, producerIdAndEpoch: 3, twoPhaseCommit: 6 } as const

export interface InitProducerIdRequest {
  /** null for an idempotent (non-transactional) producer. */
  transactionalId: string | null
  /** Only meaningful with a transactional id. */
  transactionTimeoutMs: number
  /** v3+: the current producer id to bump the epoch of, or -1n for a new one. Must be -1n below v3. */
  producerId: bigint
  /** v3+: the current epoch, or -1. Must be -1 below v3. */
  producerEpoch: number
  /** v6+ (KIP-939); false (the default) below. */
  enable2Pc?: boolean
  /** v6+ (KIP-939); false (the default) below. */
  keepPreparedTxn?: boolean
}

export interface InitProducerIdResponse {
  throttleTimeMs: number
  errorCode: number
  producerId: bigint
  producerEpoch: number
  /** v6+: the producer id of the prepared transaction kept by keepPreparedTxn; -1n before v6 or when none. */
  ongoingTxnProducerId: bigint
  /** v6+: its epoch; -1 before v6 or when none. */
  ongoingTxnProducerEpoch: number
}

function refuse(field: string, value: unknown, version: number, since: number): never {
  throw new RangeError(`InitProducerId v${version} cannot carry ${field} ${String(value)} (v${since}+ only)`)
}

export const InitProducerIdApi: ApiSpec<InitProducerIdRequest, InitProducerIdResponse> = {
  name: 'InitProducerId',
  apiKey: 22,
  minVersion: 0,
  maxVersion: 6,
  flexibleFrom: V.flexible,

  writeRequest(w: ProtocolWriter, req: InitProducerIdRequest, version: number): void {
    w.nullableString(req.transactionalId)
    w.int32(req.transactionTimeoutMs)
    if (version >= V.producerIdAndEpoch) {
      w.int64(req.producerId)
      w.int16(req.producerEpoch)
    } else {
      if (req.producerId !== -1n) refuse('producerId', req.producerId, version, V.producerIdAndEpoch)
      if (req.producerEpoch !== -1) refuse('producerEpoch', req.producerEpoch, version, V.producerIdAndEpoch)
    }
    const enable2Pc = req.enable2Pc ?? false
    const keepPreparedTxn = req.keepPreparedTxn ?? false
    if (version >= V.twoPhaseCommit) {
      w.boolean(enable2Pc)
      w.boolean(keepPreparedTxn)
    } else {
      if (enable2Pc) refuse('enable2Pc', enable2Pc, version, V.twoPhaseCommit)
      if (keepPreparedTxn) refuse('keepPreparedTxn', keepPreparedTxn, version, V.twoPhaseCommit)
    }
    w.taggedFields()
  },

  readResponse(r: Reader, version: number): InitProducerIdResponse {
    const res: InitProducerIdResponse = {
      throttleTimeMs: r.int32(),
      errorCode: r.int16(),
      producerId: r.int64(),
      producerEpoch: r.int16(),
      ongoingTxnProducerId: version >= V.twoPhaseCommit ? r.int64() : -1n,
      ongoingTxnProducerEpoch: version >= V.twoPhaseCommit ? r.int16() : -1,
    }
    r.taggedFields()
    return res
  },
}
