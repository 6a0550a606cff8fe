import type { Buffer } from 'node:buffer'
import { KafkaConfigError, KafkaProtocolError } from '../../errors.js'
import type { Codec, CodecLevels, CompressionCodec, CompressionCodecId } from './codec.js'
import { GZIP_LEVELS, gzipCodec } from './gzip.js'
import { LZ4_LEVELS, loadLz4Codec } from './lz4.js'
import { loadSnappyCodec } from './snappy.js'
import { ZSTD_LEVELS, ZSTD_PACKAGE, loadZstdCodec, zstdBuiltIn } from './zstd.js'

/**
 * Record batch compression, codec by codec as Kafka's Java client frames it
 * (org.apache.kafka.common.compress.*): gzip, snappy (xerial framing), lz4
 * (Kafka's LZ4 frame) and zstd. Each codec's module documents its frame.
 *
 * Invariants:
 * - The compressed unit is a v2 batch's records section (bytes [61, end)),
 *   whole; the caller sets the codec id in the attributes and the CRC after.
 * - Byte work runs on libuv's thread pool; see {@link Codec}.
 * - gzip is built in (node:zlib), zstd too on Node >= 22.15. snappy, lz4 and
 *   zstd on older Node need optional native packages (optionalDependencies),
 *   loaded synchronously on first use of their codec and never otherwise, so
 *   the core loads no native code. {@link ensureCodecAvailable} is the check
 *   to run at producer construction.
 * - Levels are validated against Java's ranges (KIP-390, `CompressionType`):
 *   config.ts builds its option definitions from {@link COMPRESSION_LEVELS}.
 */

export type { Codec, CodecLevels, CompressionCodec, CompressionCodecId }
export { LZ4_BLOCK_SIZE, LZ4_FRAME_HEADER } from './lz4.js'
export { SNAPPY_BLOCK_SIZE } from './snappy.js'

/** `compression.type` values, in Kafka's `CompressionType` id order. */
export const COMPRESSION_CODECS: readonly CompressionCodec[] = Object.freeze(['none', 'gzip', 'snappy', 'lz4', 'zstd'])

/** Kafka's `CompressionType.id`, the attributes' bits 0-2. */
export function compressionCodecId(codec: CompressionCodec): CompressionCodecId {
  return COMPRESSION_CODECS.indexOf(codec) as CompressionCodecId
}

/** The codec of a batch's attributes bits 0-2; KafkaProtocolError for 5-7. */
export function compressionCodecForId(id: number): CompressionCodec {
  const codec = COMPRESSION_CODECS[id]
  if (codec === undefined) throw new KafkaProtocolError(`unknown compression codec id ${id}`)
  return codec
}

/** Level ranges and defaults of the codecs with levels, as Java's `CompressionType`. */
export const COMPRESSION_LEVELS: Readonly<Record<'gzip' | 'lz4' | 'zstd', CodecLevels>> = Object.freeze({
  gzip: GZIP_LEVELS,
  lz4: LZ4_LEVELS,
  zstd: ZSTD_LEVELS,
})

/** The Kafka property holding a codec's level. */
function levelKey(codec: 'gzip' | 'lz4' | 'zstd'): string {
  return `compression.${codec}.level`
}

/** Whether `level` is one Java accepts for `codec`. */
export function isValidCompressionLevel(codec: 'gzip' | 'lz4' | 'zstd', level: number): boolean {
  const r = COMPRESSION_LEVELS[codec]
  return Number.isInteger(level) && ((level >= r.min && level <= r.max) || (r.alsoAllowed?.includes(level) ?? false))
}

/**
 * The optional package `codec` needs on this Node, or null when it needs none
 * (none, gzip; zstd where node:zlib has it).
 */
export function optionalPackageFor(codec: CompressionCodec): string | null {
  switch (codec) {
    case 'snappy':
      return 'snappy'
    case 'lz4':
      return 'lz4-napi'
    case 'zstd':
      return zstdBuiltIn() ? null : ZSTD_PACKAGE
    default:
      return null
  }
}

const codecs = new Map<CompressionCodec, Codec>()

/**
 * The codec implementation, loading its package on first use (KafkaConfigError
 * on `configKey` when it cannot).
 */
function codecFor(codec: CompressionCodec, configKey = 'compression.type'): Codec | null {
  const hit = codecs.get(codec)
  if (hit !== undefined) return hit
  let loaded: Codec
  switch (codec) {
    case 'none':
      return null
    case 'gzip':
      loaded = gzipCodec
      break
    case 'snappy':
      loaded = loadSnappyCodec(configKey)
      break
    case 'lz4':
      loaded = loadLz4Codec(configKey)
      break
    case 'zstd':
      loaded = loadZstdCodec(false, configKey)
      break
    default:
      throw new KafkaConfigError(configKey, `expected one of ${COMPRESSION_CODECS.join(', ')}, got ${JSON.stringify(codec)}`)
  }
  codecs.set(codec, loaded)
  return loaded
}

/**
 * Synchronously makes sure `codec` can run here: loads its optional package
 * when it needs one. Throws a KafkaConfigError on `compression.type` naming
 * the package to install (`npm install lz4-napi`) when it is missing or has no
 * binary for this platform. For producer construction; `configKey` is the
 * name the user gave the option, for the error.
 */
export function ensureCodecAvailable(codec: CompressionCodec, configKey = 'compression.type'): void {
  codecFor(codec, configKey)
}

/** `level` checked for `codec`, the codec's default when undefined; snappy and none have no level (0). */
function checkedLevel(codec: CompressionCodec, level: number | undefined): number {
  if (codec !== 'gzip' && codec !== 'lz4' && codec !== 'zstd') return 0
  if (level === undefined) return COMPRESSION_LEVELS[codec].default
  if (!isValidCompressionLevel(codec, level)) {
    const r = COMPRESSION_LEVELS[codec]
    const also = r.alsoAllowed?.length ? ` or ${r.alsoAllowed.join(', ')}` : ''
    throw new KafkaConfigError(levelKey(codec), `expected an integer in [${r.min}, ${r.max}]${also}, got ${level}`)
  }
  return level
}

/**
 * Compresses `input` (a batch's records section) into `codec`'s frame, as
 * the Java client writes it. `level` applies to gzip, lz4 and zstd (undefined:
 * Java's default); snappy and none ignore it. `none` resolves to `input`
 * itself. Rejects with KafkaConfigError for a bad level or a missing package.
 */
export async function compress(codec: CompressionCodec, level: number | undefined, input: Buffer): Promise<Buffer> {
  const impl = codecFor(codec)
  const checked = checkedLevel(codec, level)
  return impl === null ? input : impl.compress(input, checked)
}

/**
 * Decodes a `codec` frame (ours or another client's) back to the records
 * section. `none` resolves to `input` itself. Rejects with KafkaProtocolError
 * for a corrupt frame.
 */
export async function decompress(codec: CompressionCodec, input: Buffer): Promise<Buffer> {
  const impl = codecFor(codec)
  return impl === null ? input : impl.decompress(input)
}

/** The compression options of a resolved producer config (structurally; config.ts is a higher layer). */
export interface CompressionSettings {
  readonly compressionType: CompressionCodec
  readonly compressionGzipLevel: number
  readonly compressionLz4Level: number
  readonly compressionZstdLevel: number
}

/** A producer's compression, resolved once: codec, id and level bound, package loaded. */
export interface BatchCompression {
  readonly codec: CompressionCodec
  /** For the batch attributes' bits 0-2; 0 means the records go uncompressed. */
  readonly id: CompressionCodecId
  /** The level in use: the configured one for gzip / lz4 / zstd, 0 for none and snappy. */
  readonly level: number
  /** See {@link compress}; for `none`, the input itself. */
  compress(input: Buffer): Promise<Buffer>
  /** See {@link decompress}; for `none`, the input itself. */
  decompress(input: Buffer): Promise<Buffer>
}

/**
 * The compression a producer with these settings uses: the codec of
 * `compressionType` with its level (`compression.<codec>.level`). Loads the
 * codec's optional package now, synchronously, so a missing one fails
 * construction with a KafkaConfigError naming it.
 */
export function resolveCompression(settings: CompressionSettings): BatchCompression {
  const codec = settings.compressionType
  const impl = codecFor(codec)
  const level =
    codec === 'gzip'
      ? checkedLevel(codec, settings.compressionGzipLevel)
      : codec === 'lz4'
        ? checkedLevel(codec, settings.compressionLz4Level)
        : codec === 'zstd'
          ? checkedLevel(codec, settings.compressionZstdLevel)
          : 0
  if (impl === null) {
    return Object.freeze({ codec, id: 0, level, compress: (b: Buffer) => Promise.resolve(b), decompress: (b: Buffer) => Promise.resolve(b) })
  }
  return Object.freeze({
    codec,
    id: impl.id,
    level,
    compress: (input: Buffer) => impl.compress(input, level),
    decompress: (input: Buffer) => impl.decompress(input),
  })
}
