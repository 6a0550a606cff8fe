import type { Buffer } from 'node:buffer'

/**
 * What every codec module provides. Codec ids are Kafka's `CompressionType`
 * ids, the value of bits 0-2 of a v2 record batch's attributes.
 *
 * Invariants of every implementation:
 * - `compress` and `decompress` do their byte work on libuv's thread pool
 *   (node:zlib's async API, or a napi-rs package's async task); the event loop
 *   only slices inputs and assembles frames.
 * - `compress` returns a frame Kafka's Java `Compression` of the same codec
 *   reads back to exactly `input` (test/integration/compression-java.test.ts).
 * - `decompress` reads the Java client's frames, and ours.
 * - Neither keeps a reference to `input` after its promise settles, nor
 *   modifies it. The native packages may read `input` from the pool threads,
 *   so the caller must not modify it before the promise settles.
 */
export interface Codec {
  readonly name: CompressionCodec
  readonly id: CompressionCodecId
  /** `level` has been validated against the codec's range (see LEVELS). */
  compress(input: Buffer, level: number): Promise<Buffer>
  decompress(input: Buffer): Promise<Buffer>
}

/** `compression.type` values, as Kafka's `CompressionType.name`. */
export type CompressionCodec = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'

/** Kafka's `CompressionType.id`s: none 0, gzip 1, snappy 2, lz4 3, zstd 4. */
export type CompressionCodecId = 0 | 1 | 2 | 3 | 4

/** Inclusive level range and default of a codec with levels (KIP-390). */
export interface CodecLevels {
  readonly min: number
  readonly max: number
  readonly default: number
  /** Accepted outside [min, max] (gzip's -1, "zlib's default"). */
  readonly alsoAllowed?: readonly number[]
}
