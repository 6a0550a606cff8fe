import type { Buffer } from 'node:buffer'
import zlib from 'node:zlib'
import { KafkaProtocolError } from '../../errors.js'
import type { Codec, CodecLevels } from './codec.js'
import { loadOptionalPackage } from './native.js'

/**
 * zstd as Kafka's `ZstdCompression`: standard Zstandard frames (RFC 8878).
 * Java writes one streaming frame through zstd-jni's
 * `ZstdOutputStreamNoFinalizer` (no content size in the header, no checksum);
 * its reader, `ZstdInputStreamNoFinalizer`, takes any standard frame, with or
 * without content size, and concatenated frames. So the frame needs no
 * framing of ours: it is whatever the zstd library writes for the input.
 *
 * Implementation, chosen once per process:
 * - node:zlib's zstd (`zlib.zstdCompress`, Node >= 22.15 / 23.8), built in,
 *   async on the libuv thread pool;
 * - otherwise the optional package `@toondepauw/node-zstd` (napi-rs, Rust
 *   `zstd` crate over libzstd), whose async encode/decode run on the pool.
 * Both take the whole libzstd level range, negative levels included.
 */

/**
 * `CompressionType.ZSTD` levels (KIP-390): zstd-jni's Zstd.minCompressionLevel()
 * (-131072, i.e. -ZSTD_TARGETLENGTH_MAX) to Zstd.maxCompressionLevel() (22),
 * default Zstd.defaultCompressionLevel() (3).
 */
export const ZSTD_LEVELS: CodecLevels = Object.freeze({ min: -131072, max: 22, default: 3 })

export const ZSTD_PACKAGE = '@toondepauw/node-zstd'

type Callback = (err: Error | null, out: Buffer) => void
/** node:zlib's zstd functions, absent from older Node versions and from @types/node 20. */
interface ZlibZstd {
  zstdCompress?: (input: Buffer, options: { params: Record<number, number> }, cb: Callback) => void
  zstdDecompress?: (input: Buffer, cb: Callback) => void
  constants: { ZSTD_c_compressionLevel?: number }
}

/** The subset of `@toondepauw/node-zstd` used here. */
interface NodeZstdPackage {
  Encoder: new (level: number) => { encode(data: Buffer): Promise<Buffer> }
  Decoder: new () => { decode(data: Buffer): Promise<Buffer> }
}

const builtIn = zlib as unknown as ZlibZstd

/** True when this Node has zstd in node:zlib, so no package is needed. */
export function zstdBuiltIn(): boolean {
  return typeof builtIn.zstdCompress === 'function' && typeof builtIn.zstdDecompress === 'function'
}

function decodeError(input: Buffer, err: unknown): KafkaProtocolError {
  return new KafkaProtocolError(`zstd: cannot decompress a ${input.length}-byte frame: ${(err as Error)?.message ?? String(err)}`, { cause: err })
}

/**
 * The zstd codec: node:zlib's where available, else the optional package
 * (loaded now; KafkaConfigError on `configKey` when missing). `forcePackage`
 * is for tests.
 */
export function loadZstdCodec(forcePackage = false, configKey?: string): Codec {
  if (zstdBuiltIn() && !forcePackage) {
    const compress = builtIn.zstdCompress!
    const decompress = builtIn.zstdDecompress!
    const levelParam = builtIn.constants.ZSTD_c_compressionLevel!
    return Object.freeze({
      name: 'zstd',
      id: 4,
      compress: (input: Buffer, level: number) =>
        new Promise<Buffer>((resolve, reject) => {
          compress(input, { params: { [levelParam]: level } }, (err, out) => (err === null ? resolve(out) : reject(err)))
        }),
      decompress: (input: Buffer) =>
        new Promise<Buffer>((resolve, reject) => {
          decompress(input, (err, out) => (err === null ? resolve(out) : reject(decodeError(input, err))))
        }),
    } satisfies Codec)
  }
  const pkg = loadOptionalPackage<NodeZstdPackage>(ZSTD_PACKAGE, 'zstd', configKey)
  // Encoders hold only their level (no native context), so one per level is
  // shared by concurrent calls.
  const encoders = new Map<number, InstanceType<NodeZstdPackage['Encoder']>>()
  const decoder = new pkg.Decoder()
  return Object.freeze({
    name: 'zstd',
    id: 4,
    compress(input: Buffer, level: number): Promise<Buffer> {
      let encoder = encoders.get(level)
      if (encoder === undefined) encoders.set(level, (encoder = new pkg.Encoder(level)))
      return encoder.encode(input)
    },
    decompress: (input: Buffer) =>
      decoder.decode(input).catch((err: unknown) => {
        throw decodeError(input, err)
      }),
  } satisfies Codec)
}
