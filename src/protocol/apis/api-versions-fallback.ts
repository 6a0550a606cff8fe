/**
 * Hand-written companion of the generated api-versions.ts: how a client reads
 * the answers brokers give to an ApiVersions version they do not support, and
 * which version to retry with. This is client policy (Java's NetworkClient
 * handleApiVersionsResponse), not schema, so it is not generated.
 */
import { decodeResponse } from '../api.js'
import { ErrorCode } from '../error-codes.js'
import { KafkaProtocolError } from '../../errors.js'
import { ApiVersionsApi, type ApiVersionsResponse } from './api-versions.js'

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
 * which every broker accepts (Java's NetworkClient.handleApiVersionsResponse
 * likewise retries with the broker's advertised maximum). The network client's
 * handshake calls this; it is the one statement of the rule.
 */
export function apiVersionsRetryVersion(res: ApiVersionsResponse, requestedVersion: number): number | null {
  if (res.errorCode !== ErrorCode.UNSUPPORTED_VERSION || requestedVersion <= 0) return null
  const own = res.apiKeys.find((k) => k.apiKey === ApiVersionsApi.apiKey)
  if (own !== undefined && own.maxVersion < requestedVersion && own.maxVersion >= ApiVersionsApi.minVersion) {
    return Math.min(own.maxVersion, ApiVersionsApi.maxVersion)
  }
  return 0
}
