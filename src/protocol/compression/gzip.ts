import type { Buffer } from 'node:buffer'
import zlib from 'node:zlib'
import { KafkaProtocolError } from '../../errors.js'
import type { Codec, CodecLevels } from './codec.js'

/**
 * gzip as Kafka's `GzipCompression`: an RFC 1952 stream from zlib, which is
 * what java.util.zip's GZIPOutputStream writes too (the bytes differ only in
 * the header's OS field). Built into Node; the async API deflates on the
 * libuv thread pool.
 *
 * Levels as `CompressionType.GZIP` (KIP-390): 1-9, or -1, the default, which
 * is zlib's Z_DEFAULT_COMPRESSION (6). Node's zlib takes -1 with the same
 * meaning, so the level is passed through unchanged.
 */
export const GZIP_LEVELS: CodecLevels = Object.freeze({ min: 1, max: 9, default: -1, alsoAllowed: Object.freeze([-1]) })

export const gzipCodec: Codec = Object.freeze({
  name: 'gzip',
  id: 1,
  compress(input: Buffer, level: number): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      zlib.gzip(input, { level }, (err, out) => (err === null ? resolve(out) : reject(err)))
    })
  },
  decompress(input: Buffer): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      zlib.gunzip(input, (err, out) =>
        err === null ? resolve(out) : reject(new KafkaProtocolError(`gzip: cannot decompress: ${err.message}`, { cause: err })),
      )
    })
  },
} satisfies Codec)
