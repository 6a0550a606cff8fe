/**
 * ApiVersions (key 18), versions 0..5, as in kafka-clients 4.4.0's
 * ApiVersionsRequest.json / ApiVersionsResponse.json.
 *
 * Invariants:
 * - The response header is always v0 (no tagged fields), even for the flexible
 *   versions 3+: a client must be able to read the header before it knows which
 *   versions the broker speaks (KIP-511).
 * - A broker that does not support the requested version answers
 *   UNSUPPORTED_VERSION with a v0 body (Java brokers list at least their
 *   ApiVersions range in it). {@link decodeApiVersionsResponse} is the only
 *   decoder the network client should use: it falls back to v0 when the body
 *   does not decode at the requested version.
 * - `clientSoftwareName`/`clientSoftwareVersion` (v3+) are sent as given; brokers
 *   answer INVALID_REQUEST unless both match `[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?`,
 *   so callers pass sanitised values.
 * - v5 (KIP-1242) adds ClusterId/NodeId: with the defaults (null, -1) the broker
 *   skips the identity check and v5 behaves like v4.
 */
import { decodeResponse, type ApiSpec } from '../api.js'
import { ErrorCode } from '../error-codes.js'
import { KafkaProtocolError } from '../../errors.js'
import { Reader } from '../reader.js'
import type { ProtocolWriter } from '../writer.js'

/** The first version carrying each field. */
const V = { throttleTime: 1, flexible: 3, clientSoftware: 3, clusterIdentity: 5 } as const

/** Tags of the response's top-level tagged fields (v3+). */
const TAG = { supportedFeatures: 0, finalizedFeaturesEpoch: 1, finalizedFeatures: 2 } as const

export interface ApiVersionsRequest {
  /** v3+ */
  clientSoftwareName: string
  /** v3+ */
  clientSoftwareVersion: string
  /** v5+: the cluster the client means to reach; null (the default) skips the broker's check. */
  clusterId?: string | null
  /** v5+: the node the client means to reach; -1 (the default) skips the broker's check. */
  nodeId?: number
}

export interface ApiVersionRange {
  apiKey: number
  minVersion: number
  maxVersion: number
}

export interface SupportedFeature {
  name: string
  minVersion: number
  maxVersion: number
}

export interface FinalizedFeature {
  name: string
  maxVersionLevel: number
  minVersionLevel: number
}

export interface ApiVersionsResponse {
  errorCode: number
  apiKeys: ApiVersionRange[]
  /** 0 before v1. */
  throttleTimeMs: number
  /** Tag 0, v3+; empty when absent. */
  supportedFeatures: SupportedFeature[]
  /** Tag 1, v3+; -1n when absent or unknown. */
  finalizedFeaturesEpoch: bigint
  /** Tag 2, v3+; empty when absent. Valid only when finalizedFeaturesEpoch >= 0. */
  finalizedFeatures: FinalizedFeature[]
}

function readApiVersionRange(r: Reader): ApiVersionRange {
  const v: ApiVersionRange = { apiKey: r.int16(), minVersion: r.int16(), maxVersion: r.int16() }
  r.taggedFields()
  return v
}

function readSupportedFeature(r: Reader): SupportedFeature {
  const f: SupportedFeature = { name: r.string(), minVersion: r.int16(), maxVersion: r.int16() }
  r.taggedFields()
  return f
}

function readFinalizedFeature(r: Reader): FinalizedFeature {
  const f: FinalizedFeature = { name: r.string(), maxVersionLevel: r.int16(), minVersionLevel: r.int16() }
  r.taggedFields()
  return f
}

/** A tagged field's value must fill its declared size exactly; anything else means we mis-parsed it. */
function readTag<T>(data: Buffer, tag: number, read: (r: Reader) => T): T {
  const r = new Reader(data, 0, true)
  const v = read(r)
  if (r.remaining !== 0) throw new KafkaProtocolError(`ApiVersions tagged field ${tag} has ${r.remaining} trailing bytes`)
  return v
}

export const ApiVersionsApi: ApiSpec<ApiVersionsRequest, ApiVersionsResponse> = {
  name: 'ApiVersions',
  apiKey: 18,
  minVersion: 0,
  maxVersion: 5,
  flexibleFrom: V.flexible,
  responseHeaderVersion: () => 0,

  writeRequest(w: ProtocolWriter, req: ApiVersionsRequest, version: number): void {
    if (version >= V.clientSoftware) {
      w.string(req.clientSoftwareName)
      w.string(req.clientSoftwareVersion)
    }
    if (version >= V.clusterIdentity) {
      w.nullableString(req.clusterId ?? null)
      w.int32(req.nodeId ?? -1)
    }
    w.taggedFields()
  },

  readResponse(r: Reader, version: number): ApiVersionsResponse {
    const res: ApiVersionsResponse = {
      errorCode: r.int16(),
      apiKeys: r.array(readApiVersionRange),
      throttleTimeMs: version >= V.throttleTime ? r.int32() : 0,
      supportedFeatures: [],
      finalizedFeaturesEpoch: -1n,
      finalizedFeatures: [],
    }
    r.taggedFields((tag, data) => {
      if (tag === TAG.supportedFeatures) res.supportedFeatures = readTag(data, tag, (t) => t.array(readSupportedFeature))
      else if (tag === TAG.finalizedFeaturesEpoch) res.finalizedFeaturesEpoch = readTag(data, tag, (t) => t.int64())
      else if (tag === TAG.finalizedFeatures) res.finalizedFeatures = readTag(data, tag, (t) => t.array(readFinalizedFeature))
    })
    return res
  },
}

/**
 * Decodes an ApiVersions response frame (without the size prefix) for a
 * request sent at `requestedVersion`, tolerating the answers a broker gives to
 * a version it does not support:
 *
 * 1. the body at `requestedVersion` (the normal case, and some brokers'
 *    UNSUPPORTED_VERSION answers, which keep the requested format);
 * 2. failing that, the body at v0: what Java brokers send with
 *    UNSUPPORTED_VERSION whatever was requested. A v0 body never decodes as a
 *    flexible one (its int32 array count starts with a zero byte, which a
 *    compact count reads as null), so step 1 cannot accept it by mistake;
 * 3. failing that, if the frame starts with error UNSUPPORTED_VERSION, a
 *    response with that error and no ranges (librdkafka 2.0.x's mock writes a
 *    body that is neither flexible nor v0), so the caller retries at v0.
 *
 * Anything else rethrows the error of step 1. {@link apiVersionsRetryVersion}
 * says which version to retry with.
 */
export function decodeApiVersionsResponse(frame: Buffer, requestedVersion: number): ApiVersionsResponse {
  try {
    return decodeResponse(ApiVersionsApi, requestedVersion, frame)
  } catch (first) {
    if (!(first instanceof KafkaProtocolError) || requestedVersion === 0) throw first
    try {
      return decodeResponse(ApiVersionsApi, 0, frame)
    } catch {
      // The header is 4 bytes (correlation id); the error code comes first in every version.
      if (frame.length >= 6 && frame.readInt16BE(4) === ErrorCode.UNSUPPORTED_VERSION) {
        return {
          errorCode: ErrorCode.UNSUPPORTED_VERSION,
          apiKeys: [],
          throttleTimeMs: 0,
          supportedFeatures: [],
          finalizedFeaturesEpoch: -1n,
          finalizedFeatures: [],
        }
      }
      throw first
    }
  }
}

/**
 * After an UNSUPPORTED_VERSION answer to a request at `requestedVersion`, the
 * ApiVersions version to retry with, or null when retrying cannot help (no
 * such error, or v0 was already refused). Uses the broker's advertised
 * ApiVersions range when it sent one below the requested version, else v0,
 * which every broker accepts.
 */
export function apiVersionsRetryVersion(res: ApiVersionsResponse, requestedVersion: number): number | null {
  if (res.errorCode !== ErrorCode.UNSUPPORTED_VERSION || requestedVersion <= 0) return null
  const own = res.apiKeys.find((k) => k.apiKey === ApiVersionsApi.apiKey)
  if (own !== undefined && own.maxVersion < requestedVersion && own.maxVersion >= ApiVersionsApi.minVersion) {
    return Math.min(own.maxVersion, ApiVersionsApi.maxVersion)
  }
  return 0
}
