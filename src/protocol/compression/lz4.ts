import { Buffer } from 'node:buffer'
import { KafkaProtocolError } from '../../errors.js'
import { allBlocks } from './blocks.js'
import type { Codec, CodecLevels } from './codec.js'
import { loadOptionalPackage } from './native.js'

/**
 * lz4 as Kafka's `Lz4BlockOutputStream` writes it for a v2 record batch: an
 * LZ4 frame (v1.5.1 format) with
 *
 *   header  magic 0x184D2204 (LE: 04 22 4D 18),
 *           FLG 0x60: version 1, independent blocks, no block checksums,
 *                     no content size, no content checksum,
 *           BD  0x40: 64 KiB maximum block size,
 *           HC  0x82: (xxHash32(FLG, BD) >> 8) & 0xFF — over the descriptor
 *                     only; the variant hashing the magic too is for the
 *                     v0 message format, never written here
 *   blocks  per 64 KiB of input (the last one shorter): uint32 LE length,
 *           then the raw LZ4 block; when compressing does not make the block
 *           smaller (compressed >= input, as Java tests it), the input bytes
 *           are stored instead and the length has its high bit
 *           (LZ4_FRAME_INCOMPRESSIBLE_MASK, 0x80000000) set
 *   end     uint32 0
 *
 * Empty input is header + end mark. The header never changes, so it is a
 * constant. Blocks come from `lz4-napi` (napi-rs, Rust lz4_flex), whose
 * `compress` prefixes each raw block with its uncompressed size (uint32 LE);
 * that prefix is dropped. lz4_flex has only the fast compressor, so the output
 * is what Java writes at its default level 9 (lz4-java's fast compressor) up
 * to encoder differences; the other levels, which Java hands to lz4-java's
 * high-compression compressor, are accepted and validated as Java does but
 * compress the same way (see LZ4_LEVELS).
 *
 * Reading is a standard LZ4 frame decode (lz4-napi's `decompressFrame`), which
 * takes what Kafka's `Lz4BlockInputStream` takes: independent blocks of any
 * maximum size, stored blocks, optional checksums and content size.
 */

/** Lz4BlockOutputStream.BLOCKSIZE_64KB: 1 << (2 * 4 + 8). */
export const LZ4_BLOCK_SIZE = 64 * 1024
/** Magic, FLG, BD, header checksum: Lz4BlockOutputStream.writeHeader for level-independent settings. */
export const LZ4_FRAME_HEADER: Buffer = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82])
/** Lz4BlockOutputStream.LZ4_FRAME_INCOMPRESSIBLE_MASK. */
const INCOMPRESSIBLE = 0x80000000
const END_MARK_SIZE = 4

/**
 * `CompressionType.LZ4` levels (KIP-390): 1-17, default 9. Validated as Java
 * does; the compressor is always the fast one (see above), so the level does
 * not change the output.
 */
export const LZ4_LEVELS: CodecLevels = Object.freeze({ min: 1, max: 17, default: 9 })

/** The subset of the `lz4-napi` package used here. */
export interface Lz4Package {
  /** A raw LZ4 block behind a uint32 LE uncompressed size. */
  compress(data: Uint8Array): Promise<Buffer>
  decompressFrame(data: Uint8Array): Promise<Buffer>
}

/** Loads the `lz4-napi` package (KafkaConfigError when missing) and returns the codec. */
export function loadLz4Codec(configKey?: string): Codec {
  return lz4CodecOver(loadOptionalPackage<Lz4Package>('lz4-napi', 'lz4', configKey))
}

/** The lz4 codec over a loaded `lz4-napi` (or, in tests, a stand-in with its API). */
export function lz4CodecOver(lz4: Lz4Package): Codec {
  return Object.freeze({
    name: 'lz4',
    id: 3,
    compress: (input: Buffer) => compressFrame(lz4, input),
    decompress: (input: Buffer) =>
      // A frame of no blocks (what Lz4BlockOutputStream writes for empty input) is answered here:
      // lz4-napi hands back a zero-length Buffer whose memory Bun reports as detached.
      input.length === LZ4_FRAME_HEADER.length + END_MARK_SIZE &&
      input.subarray(0, LZ4_FRAME_HEADER.length).equals(LZ4_FRAME_HEADER) &&
      input.readUInt32LE(LZ4_FRAME_HEADER.length) === 0
        ? Promise.resolve(Buffer.alloc(0))
        : lz4.decompressFrame(input).catch((err: unknown) => {
        throw new KafkaProtocolError(`lz4: cannot decompress a ${input.length}-byte frame: ${(err as Error)?.message ?? String(err)}`, {
          cause: err,
        })
      }),
  } satisfies Codec)
}

const SIZE_PREFIX = 4

async function compressFrame(lz4: Lz4Package, input: Buffer): Promise<Buffer> {
  const count = Math.ceil(input.length / LZ4_BLOCK_SIZE)
  const pending = new Array<Promise<Buffer>>(count)
  for (let i = 0; i < count; i++) pending[i] = lz4.compress(input.subarray(i * LZ4_BLOCK_SIZE, (i + 1) * LZ4_BLOCK_SIZE))
  const blocks = await allBlocks(pending)
  // Sized from the results, filled in one allocation: block lengths are
  // written in place, stored blocks copied from the input.
  let size = LZ4_FRAME_HEADER.length + END_MARK_SIZE
  for (let i = 0; i < count; i++) size += 4 + Math.min(blocks[i]!.length - SIZE_PREFIX, blockLength(input, i))
  const frame = Buffer.allocUnsafe(size)
  LZ4_FRAME_HEADER.copy(frame, 0)
  let pos = LZ4_FRAME_HEADER.length
  for (let i = 0; i < count; i++) {
    const compressed = blocks[i]!
    const compressedLength = compressed.length - SIZE_PREFIX
    const start = i * LZ4_BLOCK_SIZE
    const length = blockLength(input, i)
    if (compressedLength >= length) {
      frame.writeUInt32LE((length | INCOMPRESSIBLE) >>> 0, pos)
      input.copy(frame, pos + 4, start, start + length)
      pos += 4 + length
    } else {
      frame.writeUInt32LE(compressedLength, pos)
      compressed.copy(frame, pos + 4, SIZE_PREFIX)
      pos += 4 + compressedLength
    }
  }
  frame.writeUInt32LE(0, pos)
  return frame
}

function blockLength(input: Buffer, i: number): number {
  return Math.min(LZ4_BLOCK_SIZE, input.length - i * LZ4_BLOCK_SIZE)
}
