import { Buffer } from 'node:buffer'
import { KafkaProtocolError } from '../../errors.js'
import { allBlocks } from './blocks.js'
import type { Codec } from './codec.js'
import { loadOptionalPackage } from './native.js'

/**
 * snappy as Kafka's `SnappyCompression`, which writes through xerial
 * snappy-java's `SnappyOutputStream` with its default 32 KiB block size:
 *
 *   header  8 bytes magic 82 'S' 'N' 'A' 'P' 'P' 'Y' 00,
 *           int32 BE version 1, int32 BE compatible version 1
 *   blocks  per 32 KiB of input (the last one shorter):
 *           int32 BE compressed length, raw snappy block
 *
 * Empty input is the header alone. There is no checksum and no end mark.
 * The raw blocks come from the `snappy` package (napi-rs, Rust `snap`), which
 * compresses each block byte-for-byte as snappy-java's C++ snappy does, so the
 * whole frame is identical to the Java client's (checked by the Java tests).
 *
 * Reading follows `SnappyInputStream`: a stream without the magic is one raw
 * snappy block (what librdkafka and kafkajs send), and a header met again at
 * a block boundary starts a concatenated stream. Trailing bytes too short for
 * a length (0-3) are ignored, as there.
 */

/** SnappyOutputStream.DEFAULT_BLOCK_SIZE. */
export const SNAPPY_BLOCK_SIZE = 32 * 1024
const MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00])
/** SnappyCodec's header: magic, version 1, compatible version 1. */
const HEADER = Buffer.concat([MAGIC, Buffer.from([0, 0, 0, 1, 0, 0, 0, 1])])
const HEADER_SIZE = 16

/** The subset of the `snappy` package used here. */
export interface SnappyPackage {
  compress(input: Uint8Array): Promise<Buffer>
  uncompress(input: Uint8Array, options: { asBuffer: true }): Promise<Buffer>
}

/** Loads the `snappy` package (KafkaConfigError when missing) and returns the codec. */
export function loadSnappyCodec(configKey?: string): Codec {
  return snappyCodecOver(loadOptionalPackage<SnappyPackage>('snappy', 'snappy', configKey))
}

/** The snappy codec over a loaded `snappy` package (or, in tests, a stand-in with its API). */
export function snappyCodecOver(snappy: SnappyPackage): Codec {
  return Object.freeze({
    name: 'snappy',
    id: 2,
    compress: (input: Buffer) => compressXerial(snappy, input),
    decompress: (input: Buffer) => decompressXerial(snappy, input),
  } satisfies Codec)
}

async function compressXerial(snappy: SnappyPackage, input: Buffer): Promise<Buffer> {
  // All blocks at once: they are independent, so the pool threads share them.
  const count = Math.ceil(input.length / SNAPPY_BLOCK_SIZE)
  const pending = new Array<Promise<Buffer>>(count)
  for (let i = 0; i < count; i++) {
    pending[i] = snappy.compress(input.subarray(i * SNAPPY_BLOCK_SIZE, (i + 1) * SNAPPY_BLOCK_SIZE))
  }
  const blocks = await allBlocks(pending)
  // The package returns each block in its own buffer; the frame is sized from
  // them and filled in one allocation (no per-block length buffers).
  let size = HEADER_SIZE
  for (const b of blocks) size += 4 + b.length
  const frame = Buffer.allocUnsafe(size)
  HEADER.copy(frame, 0)
  let pos = HEADER_SIZE
  for (const b of blocks) {
    frame.writeInt32BE(b.length, pos)
    b.copy(frame, pos + 4)
    pos += 4 + b.length
  }
  return frame
}

function startsWithMagic(input: Buffer, pos: number): boolean {
  return input.length - pos >= HEADER_SIZE && input.compare(MAGIC, 0, MAGIC.length, pos, pos + MAGIC.length) === 0
}

async function decompressXerial(snappy: SnappyPackage, input: Buffer): Promise<Buffer> {
  const fail = (why: string, cause?: unknown) =>
    new KafkaProtocolError(`snappy: cannot decompress a ${input.length}-byte frame: ${why}`, cause === undefined ? undefined : { cause })
  if (!startsWithMagic(input, 0)) return uncompressBlock(snappy, input, fail)
  // Find every block first, so a bad length fails before any work is queued.
  const bounds: number[] = []
  let pos = 0
  while (input.length - pos >= 4) {
    if (startsWithMagic(input, pos)) {
      pos += HEADER_SIZE
      continue
    }
    const length = input.readInt32BE(pos)
    pos += 4
    if (length < 0 || length > input.length - pos) throw fail(`block length ${length} at offset ${pos - 4} overruns the frame`)
    bounds.push(pos, pos + length)
    pos += length
  }
  const pending = new Array<Promise<Buffer>>(bounds.length / 2)
  for (let i = 0; i < pending.length; i++) pending[i] = uncompressBlock(snappy, input.subarray(bounds[2 * i], bounds[2 * i + 1]), fail)
  return Buffer.concat(await allBlocks(pending))
}

function uncompressBlock(snappy: SnappyPackage, block: Buffer, fail: (why: string, cause?: unknown) => Error): Promise<Buffer> {
  return snappy.uncompress(block, { asBuffer: true }).catch((err: unknown) => {
    throw fail((err as Error)?.message ?? String(err), err)
  })
}
