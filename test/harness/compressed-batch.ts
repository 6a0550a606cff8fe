/**
 * Test helpers for compressed batches: `uncompressBatch(es)` turns a
 * compressed v2 batch back into the uncompressed batch with the same header
 * (codec bits cleared, CRC recomputed), after checking its own CRC, so
 * record-batch-decoder.ts (which refuses compression) can read its records;
 * `manualCompression` is a codec the test settles call by call.
 */
import { type BatchCompression, compressionCodecForId, decompress } from '../../src/protocol/compression/index.js'
import {
  ATTRIBUTES_OFFSET,
  COMPRESSION_CODEC_MASK,
  CRC_OFFSET,
  LENGTH_OFFSET,
  LOG_OVERHEAD,
  RECORD_BATCH_OVERHEAD,
  computeBatchCrc,
  writeBatchCrc,
} from '../../src/protocol/record-batch.js'

export interface Uncompressed {
  /** The codec id of the batch's attributes. */
  readonly codecId: number
  /** The batch as it would be uncompressed. */
  readonly plain: Buffer
}

/** Decompresses every batch of `buf` (whole batches only), in order. */
export async function uncompressBatches(buf: Buffer): Promise<Uncompressed[]> {
  const out: Uncompressed[] = []
  let pos = 0
  while (pos < buf.length) {
    const end = pos + LOG_OVERHEAD + buf.readInt32BE(pos + LENGTH_OFFSET)
    out.push(await uncompressBatch(buf.subarray(pos, end)))
    pos = end
  }
  return out
}

export async function uncompressBatch(batch: Buffer): Promise<Uncompressed> {
  const stored = batch.readUInt32BE(CRC_OFFSET)
  const actual = computeBatchCrc(batch)
  if (stored !== actual) throw new Error(`CRC mismatch: stored ${stored}, computed ${actual}`)
  const attributes = batch.readInt16BE(ATTRIBUTES_OFFSET)
  const codecId = attributes & COMPRESSION_CODEC_MASK
  const records = await decompress(compressionCodecForId(codecId), batch.subarray(RECORD_BATCH_OVERHEAD))
  const plain = Buffer.concat([batch.subarray(0, RECORD_BATCH_OVERHEAD), records])
  plain.writeInt32BE(plain.length - LOG_OVERHEAD, LENGTH_OFFSET)
  plain.writeInt16BE(attributes & ~COMPRESSION_CODEC_MASK, ATTRIBUTES_OFFSET)
  writeBatchCrc(plain)
  return { codecId, plain }
}

/** The codec id and default level each stand-in reports (the batch attributes' bits, `compression.<codec>.level`). */
const MANUAL_CODECS = { gzip: { id: 1, level: -1 }, lz4: { id: 3, level: 9 } } as const

/**
 * A codec under the test's control: each compress call waits until the test
 * settles it through `calls` (resolving "compresses" to the input itself, so
 * the batch header, which carries the producer state, stays readable), or
 * throws synchronously after `throwOnNextCall`. It reports `codec`'s id and
 * level, as a KafkaCompressionError names it.
 */
export function manualCompression(codec: keyof typeof MANUAL_CODECS): {
  compression: BatchCompression
  calls: { input: Buffer; resolve: () => void; reject: (e: Error) => void }[]
  throwOnNextCall: (e: Error) => void
} {
  const calls: { input: Buffer; resolve: () => void; reject: (e: Error) => void }[] = []
  let throwNext: Error | null = null
  const compression: BatchCompression = {
    codec,
    ...MANUAL_CODECS[codec],
    compress: (input) => {
      if (throwNext !== null) {
        const e = throwNext
        throwNext = null
        throw e
      }
      return new Promise<Buffer>((resolve, reject) => {
        const copy = Buffer.from(input)
        calls.push({ input: copy, resolve: () => resolve(copy), reject })
      })
    },
    decompress: (b) => Promise.resolve(b),
  }
  return { compression, calls, throwOnNextCall: (e: Error) => (throwNext = e) }
}
