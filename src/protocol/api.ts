// Imported, not the global: Node's global `Buffer` is a lazy getter that runs on every use (bench/micro/FINDINGS.md).
import { Buffer } from 'node:buffer'
import { KafkaProtocolError } from '../errors.js'
import { Reader } from './reader.js'
import { BufferWriter, type ProtocolWriter, SizeCounter } from './writer.js'

/**
 * One Kafka API: its key, the versions this client implements, and a single
 * encoder/decoder pair whose fields are gated by version. There is one module
 * per API (src/protocol/apis/*), never one file per version.
 */
export interface ApiSpec<Req, Res> {
  readonly name: string
  readonly apiKey: number
  readonly minVersion: number
  readonly maxVersion: number
  /** The first version that uses flexible (KIP-482) encodings. */
  readonly flexibleFrom: number
  /**
   * The first version whose response's `throttleTimeMs` the client must honour
   * itself (KIP-219; Java's `XxxResponse.shouldClientThrottle`); Infinity when
   * the client never throttles on this API.
   */
  readonly clientThrottleFrom: number
  writeRequest(w: ProtocolWriter, req: Req, version: number): void
  readResponse(r: Reader, version: number): Res
  /** Response header version override; ApiVersions always answers with header v0. */
  readonly responseHeaderVersion?: (version: number) => number
}

export type AnyApi = ApiSpec<any, any>

/**
 * A request field set to a non-default value at a version that cannot carry it.
 * Java's generated XxxRequestData.write throws UnsupportedVersionException here;
 * silently dropping the value would send a different request than the caller asked for.
 */
export function refuseField(api: string, field: string, value: unknown, version: number, versions: string): never {
  const shown = Array.isArray(value) ? `[${value.length} element${value.length === 1 ? '' : 's'}]` : String(value)
  throw new RangeError(`${api} v${version} cannot carry ${field} ${shown} (${versions} only)`)
}

/** A null in a field that is nullable only from a later version (Java: NullPointerException on write). */
export function refuseNullField(api: string, field: string, version: number, nullableVersions: string): never {
  throw new RangeError(`${api} v${version} cannot carry a null ${field} (nullable ${nullableVersions} only)`)
}

export function isFlexible(api: AnyApi, version: number): boolean {
  return version >= api.flexibleFrom
}

function writeRequestHeader(w: ProtocolWriter, api: AnyApi, version: number, correlationId: number, clientId: string | null): void {
  w.int16(api.apiKey)
  w.int16(version)
  w.int32(correlationId)
  w.int16NullableString(clientId) // header v1 and v2 both keep the non-compact client_id
  w.taggedFields() // header v2 only; the writer is flexible exactly when the header is v2
}

/**
 * Encodes a whole request frame: the 4-byte size prefix, request header v1
 * or v2, and the body. Sizes are counted first and one buffer is allocated;
 * record batches are spliced in as their own segments, not copied.
 *
 * @returns the segments to write in order; their lengths add up to the frame.
 */
export function encodeRequest<Req>(
  api: ApiSpec<Req, unknown>,
  version: number,
  correlationId: number,
  clientId: string | null,
  req: Req,
): Buffer[] {
  if (version < api.minVersion || version > api.maxVersion) {
    throw new RangeError(`${api.name} v${version} is not implemented (v${api.minVersion}..v${api.maxVersion})`)
  }
  const flexible = isFlexible(api, version)
  const size = new SizeCounter(flexible)
  size.int32(0)
  writeRequestHeader(size, api, version, correlationId, clientId)
  api.writeRequest(size, req, version)

  const buf = Buffer.allocUnsafe(size.ownBytes)
  const w = new BufferWriter(buf, 0, flexible)
  w.int32(size.ownBytes - 4 + size.splicedBytes)
  writeRequestHeader(w, api, version, correlationId, clientId)
  api.writeRequest(w, req, version)
  return w.finish()
}

/** Reads the correlation id at the start of a response frame (without the size prefix). */
export function peekCorrelationId(frame: Buffer): number {
  if (frame.length < 4) throw new KafkaProtocolError(`Response of ${frame.length} bytes has no correlation id`)
  return frame.readInt32BE(0)
}

/**
 * Decodes a response body after its header. The whole frame must be
 * consumed: trailing bytes mean the version or framing is wrong.
 */
export function decodeResponse<Res>(api: ApiSpec<unknown, Res>, version: number, frame: Buffer): Res {
  const flexible = isFlexible(api, version)
  const headerVersion = api.responseHeaderVersion ? api.responseHeaderVersion(version) : flexible ? 1 : 0
  const r = new Reader(frame, 4, headerVersion >= 1)
  r.taggedFields()
  r.flexible = flexible
  let res: Res
  try {
    res = api.readResponse(r, version)
  } catch (e) {
    // A decoder's own error is rethrown with the API named, not wrapped: an
    // error costs microseconds (stack capture), and garbage input makes many.
    if (e instanceof KafkaProtocolError) {
      e.message = `Cannot decode ${api.name} v${version} response: ${e.message}`
      throw e
    }
    // Anything else is a decoder bug; still a KafkaProtocolError to the caller, with the bug as its cause.
    throw new KafkaProtocolError(`Cannot decode ${api.name} v${version} response: ${(e as Error).message}`, { cause: e })
  }
  if (r.remaining !== 0) {
    throw new KafkaProtocolError(`${api.name} v${version} response has ${r.remaining} unexpected trailing bytes`)
  }
  return res
}
