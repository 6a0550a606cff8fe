/**
 * The codec frames at their edges, without Java (the Java cross-check is
 * test/integration/compression-java.test.ts): headers, block boundaries,
 * stored lz4 blocks, xerial reading leniencies, levels, errors.
 */
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { KafkaConfigError, KafkaProtocolError } from '../../src/errors.js'
import {
  COMPRESSION_CODECS,
  COMPRESSION_LEVELS,
  compress,
  compressionCodecForId,
  compressionCodecId,
  decompress,
  ensureCodecAvailable,
  isValidCompressionLevel,
  LZ4_BLOCK_SIZE,
  LZ4_FRAME_HEADER,
  optionalPackageFor,
  resolveCompression,
  SNAPPY_BLOCK_SIZE,
} from '../../src/protocol/compression/index.js'
import { type Lz4Package, lz4CodecOver } from '../../src/protocol/compression/lz4.js'
import { loadOptionalPackage } from '../../src/protocol/compression/native.js'
import { type SnappyPackage, snappyCodecOver } from '../../src/protocol/compression/snappy.js'
import { loadZstdCodec, zstdBuiltIn } from '../../src/protocol/compression/zstd.js'
import { jsonLines, randomBytes } from '../harness/compression-inputs.js'

const require = createRequire(import.meta.url)
const XERIAL_HEADER = Buffer.from('82534e41505059000000000100000001', 'hex')

/**
 * Byte equality without vitest's element-by-element deep equality (seconds
 * per 100 KB); on a mismatch the message gives the lengths and first difference.
 */
function expectBytes(actual: Buffer, expected: Buffer, what = ''): void {
  if (actual.equals(expected)) return
  let i = 0
  while (i < actual.length && i < expected.length && actual[i] === expected[i]) i++
  expect.fail(`${what}: ${actual.length} bytes differ from the expected ${expected.length} at offset ${i}`)
}

/** xxHash32 of a short input (< 16 bytes), seed 0: enough to derive the LZ4 header checksum independently. */
function xxh32Short(data: Buffer): number {
  const P1 = 2654435761
  const P2 = 2246822519
  const P3 = 3266489917
  const P4 = 668265263
  const P5 = 374761393
  const rotl = (x: number, r: number) => ((x << r) | (x >>> (32 - r))) >>> 0
  let h = (P5 + data.length) >>> 0
  let i = 0
  for (; i + 4 <= data.length; i += 4) h = Math.imul(rotl((h + Math.imul(data.readUInt32LE(i), P3)) >>> 0, 17), P4) >>> 0
  for (; i < data.length; i++) h = Math.imul(rotl((h + Math.imul(data[i]!, P5)) >>> 0, 11), P1) >>> 0
  h = Math.imul(h ^ (h >>> 15), P2) >>> 0
  h = Math.imul(h ^ (h >>> 13), P3) >>> 0
  return (h ^ (h >>> 16)) >>> 0
}

/** The xerial blocks of a frame: [compressed length, offset of the block]. */
function xerialBlocks(frame: Buffer): [number, number][] {
  const blocks: [number, number][] = []
  for (let pos = 16; pos < frame.length; ) {
    const n = frame.readInt32BE(pos)
    blocks.push([n, pos + 4])
    pos += 4 + n
  }
  return blocks
}

/** The lz4 frame's blocks: raw length words, up to and including the end mark. */
function lz4Blocks(frame: Buffer): { word: number; offset: number }[] {
  const blocks: { word: number; offset: number }[] = []
  for (let pos = 7; ; ) {
    const word = frame.readUInt32LE(pos)
    blocks.push({ word, offset: pos + 4 })
    if (word === 0) {
      expect(pos + 4).toBe(frame.length)
      return blocks
    }
    pos += 4 + (word & 0x7fffffff)
  }
}

describe('codec ids and names', () => {
  it("are Kafka's CompressionType ids", () => {
    expect(COMPRESSION_CODECS.map((c) => [c, compressionCodecId(c)])).toEqual([
      ['none', 0],
      ['gzip', 1],
      ['snappy', 2],
      ['lz4', 3],
      ['zstd', 4],
    ])
    for (let id = 0; id < 5; id++) expect(compressionCodecId(compressionCodecForId(id))).toBe(id)
    expect(() => compressionCodecForId(5)).toThrow(KafkaProtocolError)
  })
})

describe('snappy (xerial SnappyOutputStream framing)', () => {
  it('writes the 16-byte header alone for empty input', async () => {
    expect(await compress('snappy', undefined, Buffer.alloc(0))).toEqual(XERIAL_HEADER)
    expect(await decompress('snappy', XERIAL_HEADER)).toEqual(Buffer.alloc(0))
  })

  it('cuts blocks at exactly 32 KiB of input', async () => {
    for (const [size, blockInputs] of [
      [1, [1]],
      [SNAPPY_BLOCK_SIZE - 1, [SNAPPY_BLOCK_SIZE - 1]],
      [SNAPPY_BLOCK_SIZE, [SNAPPY_BLOCK_SIZE]],
      [SNAPPY_BLOCK_SIZE + 1, [SNAPPY_BLOCK_SIZE, 1]],
      [3 * SNAPPY_BLOCK_SIZE + 5, [SNAPPY_BLOCK_SIZE, SNAPPY_BLOCK_SIZE, SNAPPY_BLOCK_SIZE, 5]],
    ] as const) {
      const input = jsonLines(size)
      const frame = await compress('snappy', undefined, input)
      expect(frame.subarray(0, 16)).toEqual(XERIAL_HEADER)
      const snappy = require('snappy') as { uncompressSync(b: Buffer, o: { asBuffer: true }): Buffer }
      const blocks = xerialBlocks(frame)
      expect(blocks.map(([n, at]) => snappy.uncompressSync(frame.subarray(at, at + n), { asBuffer: true }).length), `${size}`).toEqual(blockInputs)
      expectBytes(await decompress('snappy', frame), input, `${size}`)
    }
  })

  it('reads raw snappy without the header, concatenated streams, and ignores 1-3 trailing bytes (SnappyInputStream)', async () => {
    const snappy = require('snappy') as { compressSync(b: Buffer): Buffer }
    const input = jsonLines(5000)
    expectBytes(await decompress('snappy', snappy.compressSync(input)), input, 'raw')
    const a = await compress('snappy', undefined, input.subarray(0, 3000))
    const b = await compress('snappy', undefined, input.subarray(3000))
    expectBytes(await decompress('snappy', Buffer.concat([a, b])), input, 'concatenated')
    expectBytes(await decompress('snappy', Buffer.concat([a, Buffer.from([0, 0, 1])])), input.subarray(0, 3000), 'trailing')
  })

  it('rejects a block length that overruns the frame, or a corrupt block, with KafkaProtocolError', async () => {
    const frame = await compress('snappy', undefined, jsonLines(1000))
    const overrun = Buffer.from(frame)
    overrun.writeInt32BE(frame.length, 16)
    await expect(decompress('snappy', overrun)).rejects.toThrow(/overruns the frame/)
    const corrupt = Buffer.from(frame)
    corrupt.fill(0xff, 20, 40)
    await expect(decompress('snappy', corrupt)).rejects.toBeInstanceOf(KafkaProtocolError)
  })
})

describe('lz4 (Lz4BlockOutputStream frame)', () => {
  it('has the fixed header 04 22 4D 18 60 40 82, whose last byte is xxHash32(FLG, BD) >> 8', () => {
    expect(LZ4_FRAME_HEADER.toString('hex')).toBe('04224d18604082')
    expect((xxh32Short(Buffer.from([0x60, 0x40])) >>> 8) & 0xff).toBe(0x82)
  })

  it('writes header + end mark for empty input', async () => {
    const frame = await compress('lz4', undefined, Buffer.alloc(0))
    expect(frame.toString('hex')).toBe('04224d1860408200000000')
    expect(await decompress('lz4', frame)).toEqual(Buffer.alloc(0))
  })

  it('cuts independent blocks at exactly 64 KiB of input', async () => {
    const lz4 = require('lz4-napi') as { uncompressSync(b: Buffer): Buffer }
    for (const [size, blockInputs] of [
      [1, [1]],
      [LZ4_BLOCK_SIZE, [LZ4_BLOCK_SIZE]],
      [LZ4_BLOCK_SIZE + 1, [LZ4_BLOCK_SIZE, 1]],
      [2 * LZ4_BLOCK_SIZE + 100, [LZ4_BLOCK_SIZE, LZ4_BLOCK_SIZE, 100]],
    ] as const) {
      const input = jsonLines(size)
      const frame = await compress('lz4', undefined, input)
      const blocks = lz4Blocks(frame)
      const sizes = blocks.slice(0, -1).map(({ word, offset }) => {
        const n = word & 0x7fffffff
        if (word & 0x80000000) return n
        // Each block decodes alone (independent blocks): lz4-napi wants its size prefix back.
        const prefixed = Buffer.alloc(4 + n)
        prefixed.writeUInt32LE(LZ4_BLOCK_SIZE)
        frame.copy(prefixed, 4, offset, offset + n)
        return lz4.uncompressSync(prefixed).length
      })
      expect(sizes, `${size}`).toEqual(blockInputs)
      expectBytes(await decompress('lz4', frame), input, `${size}`)
    }
  })

  it('stores an incompressible block raw, flagged with the high bit, and compresses the next one', async () => {
    const noise = randomBytes(LZ4_BLOCK_SIZE)
    const text = jsonLines(1000)
    const input = Buffer.concat([noise, text])
    const frame = await compress('lz4', undefined, input)
    const [stored, compressed, end] = lz4Blocks(frame)
    expect(stored!.word >>> 0).toBe((0x80000000 | LZ4_BLOCK_SIZE) >>> 0)
    expectBytes(frame.subarray(stored!.offset, stored!.offset + LZ4_BLOCK_SIZE), noise, 'stored block')
    expect(compressed!.word & 0x80000000).toBe(0)
    expect(compressed!.word).toBeLessThan(1000)
    expect(end!.word).toBe(0)
    expectBytes(await decompress('lz4', frame), input, 'mixed')
    // A 1-byte block cannot shrink: stored too.
    expect((await compress('lz4', undefined, Buffer.from('x'))).toString('hex')).toBe('04224d1860408201000080' + '78' + '00000000')
  })

  it('rejects a corrupt frame with KafkaProtocolError', async () => {
    const frame = await compress('lz4', undefined, jsonLines(1000))
    frame[6] = 0 // header checksum
    await expect(decompress('lz4', frame)).rejects.toBeInstanceOf(KafkaProtocolError)
  })
})

describe('a failed block (lz4 and snappy compress their blocks in parallel)', () => {
  /**
   * A stand-in for the native package: block 0 fails at once, the others
   * finish only when `release()` is called, as a slow pool thread still
   * reading its slice of the input would.
   */
  function blockingPackage() {
    const started: number[] = []
    let release!: () => void
    const released = new Promise<void>((r) => (release = r))
    let calls = 0
    const block = (): Promise<Buffer> => {
      const i = calls++
      started.push(i)
      return i === 0 ? Promise.reject(new Error('block 0 failed')) : released.then(() => Buffer.alloc(8))
    }
    return { started, release, block }
  }

  it.each([
    ['lz4', LZ4_BLOCK_SIZE, (b: () => Promise<Buffer>) => lz4CodecOver({ compress: b, decompressFrame: b } as Lz4Package)],
    ['snappy', SNAPPY_BLOCK_SIZE, (b: () => Promise<Buffer>) => snappyCodecOver({ compress: b, uncompress: b } as SnappyPackage)],
  ])('%s: the frame rejects only once every block has settled, so the input is never handed back under a running block', async (_name, blockSize, make) => {
    const p = blockingPackage()
    const codec = make(p.block)
    let settled = false
    const result = codec.compress(Buffer.alloc(3 * blockSize), 0).then(
      () => (settled = true),
      (err: Error) => {
        settled = true
        return err
      },
    )
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r))
    expect(p.started).toEqual([0, 1, 2])
    expect(settled).toBe(false) // blocks 1 and 2 are still running: the input is still theirs
    p.release()
    const err = await result
    expect(settled).toBe(true)
    expect((err as Error).message).toBe('block 0 failed')
  })
})

describe('gzip and zstd', () => {
  it('gzip writes RFC 1952 streams at every level and reads them back', async () => {
    const input = jsonLines(100_000)
    const sizes: number[] = []
    for (const level of [-1, 1, 6, 9]) {
      const frame = await compress('gzip', level, input)
      expect(frame.subarray(0, 3).toString('hex')).toBe('1f8b08')
      expectBytes(await decompress('gzip', frame), input, `gzip ${level}`)
      sizes.push(frame.length)
    }
    expect(sizes[0]).toBe(sizes[2]) // -1 is zlib's default, 6
    expect(sizes[3]).toBeLessThan(sizes[1]!)
  })

  it('zstd writes standard frames at negative, default and maximum levels, with either implementation', async () => {
    const input = jsonLines(200_000)
    const impls = [loadZstdCodec(true), ...(zstdBuiltIn() ? [loadZstdCodec(false)] : [])]
    for (const impl of impls) {
      const sizes = new Map<number, number>()
      for (const level of [-131072, -5, 1, 3, 22]) {
        const frame = await impl.compress(input, level)
        expect(frame.readUInt32LE(0)).toBe(0xfd2fb528)
        expectBytes(await decompress('zstd', frame), input, `zstd ${level}`)
        expectBytes(await impl.decompress(frame), input, `zstd ${level}`)
        sizes.set(level, frame.length)
      }
      expect(sizes.get(-131072)!).toBeGreaterThan(sizes.get(1)!)
      expect(sizes.get(22)!).toBeLessThan(sizes.get(3)!)
    }
    await expect(decompress('zstd', Buffer.from('28b52ffd00ffff', 'hex'))).rejects.toBeInstanceOf(KafkaProtocolError)
  })
})

describe('compress / decompress', () => {
  it('round-trips every codec over block-boundary sizes, many at once', async () => {
    const sizes = [0, 1, 100, SNAPPY_BLOCK_SIZE, SNAPPY_BLOCK_SIZE + 1, LZ4_BLOCK_SIZE, LZ4_BLOCK_SIZE + 1, 300_000]
    await Promise.all(
      COMPRESSION_CODECS.flatMap((codec) =>
        sizes.map(async (size) => {
          const input = jsonLines(size, size + 1)
          const copy = Buffer.from(input)
          const frame = await compress(codec, undefined, input)
          expectBytes(input, copy, 'input untouched')
          expectBytes(await decompress(codec, frame), input, `${codec} ${size}`)
        }),
      ),
    )
  })

  it('none hands the input back as is', async () => {
    const input = Buffer.from('abc')
    expect(await compress('none', undefined, input)).toBe(input)
    expect(await decompress('none', input)).toBe(input)
  })

  it('the frame does not share memory with the input', async () => {
    for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
      const input = randomBytes(70_000) // incompressible: lz4 stores it, still copied
      const frame = await compress(codec, undefined, input)
      const before = Buffer.from(frame)
      input.fill(0)
      expectBytes(frame, before, codec)
    }
  })

  it("rejects levels outside Java's ranges with KafkaConfigError on the level's key", async () => {
    for (const [codec, level, key] of [
      ['gzip', 0, 'compression.gzip.level'],
      ['gzip', 10, 'compression.gzip.level'],
      ['lz4', 18, 'compression.lz4.level'],
      ['zstd', 23, 'compression.zstd.level'],
      ['zstd', 1.5, 'compression.zstd.level'],
    ] as const) {
      const err = await compress(codec, level, Buffer.from('x')).catch((e: unknown) => e)
      expect(err, `${codec} ${level}`).toBeInstanceOf(KafkaConfigError)
      expect((err as KafkaConfigError).key).toBe(key)
    }
    expect(isValidCompressionLevel('gzip', -1)).toBe(true)
    expect(isValidCompressionLevel('zstd', COMPRESSION_LEVELS.zstd.min)).toBe(true)
    // snappy has no level: any is ignored, as Java's SnappyCompression has none.
    expect(await decompress('snappy', await compress('snappy', 12345, Buffer.from('x')))).toEqual(Buffer.from('x'))
  })
})

describe('resolveCompression', () => {
  const settings = { compressionType: 'none', compressionGzipLevel: -1, compressionLz4Level: 9, compressionZstdLevel: 3 } as const

  it('binds the codec, its id and its level', async () => {
    expect(resolveCompression(settings)).toMatchObject({ codec: 'none', id: 0, level: 0 })
    expect(resolveCompression({ ...settings, compressionType: 'gzip', compressionGzipLevel: 1 })).toMatchObject({ codec: 'gzip', id: 1, level: 1 })
    expect(resolveCompression({ ...settings, compressionType: 'snappy' })).toMatchObject({ codec: 'snappy', id: 2, level: 0 })
    expect(resolveCompression({ ...settings, compressionType: 'lz4' })).toMatchObject({ codec: 'lz4', id: 3, level: 9 })
    const zstd = resolveCompression({ ...settings, compressionType: 'zstd', compressionZstdLevel: -3 })
    expect(zstd).toMatchObject({ codec: 'zstd', id: 4, level: -3 })
    const input = jsonLines(10_000)
    expectBytes(await zstd.decompress(await zstd.compress(input)), input, 'zstd')
    expect(() => resolveCompression({ ...settings, compressionType: 'gzip', compressionGzipLevel: 0 })).toThrow(KafkaConfigError)
  })
})

describe('optional native packages', () => {
  it('names the package each codec needs on this Node', () => {
    expect(optionalPackageFor('none')).toBeNull()
    expect(optionalPackageFor('gzip')).toBeNull()
    expect(optionalPackageFor('snappy')).toBe('snappy')
    expect(optionalPackageFor('lz4')).toBe('lz4-napi')
    expect(optionalPackageFor('zstd')).toBe(zstdBuiltIn() ? null : '@toondepauw/node-zstd')
  })

  it('loads them synchronously when installed', () => {
    for (const codec of COMPRESSION_CODECS) expect(() => ensureCodecAvailable(codec)).not.toThrow()
  })

  it('a missing package is a KafkaConfigError saying what to install', () => {
    let err: unknown
    try {
      loadOptionalPackage('kafka-producer-ts-no-such-codec', 'lz4')
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(KafkaConfigError)
    expect((err as KafkaConfigError).key).toBe('compression.type')
    expect((err as Error).message).toContain("lz4 compression needs the optional package 'kafka-producer-ts-no-such-codec', but it is not installed")
    expect((err as Error).message).toContain("npm install kafka-producer-ts-no-such-codec'")
    expect(() => loadOptionalPackage('kafka-producer-ts-no-such-codec', 'zstd', 'compressionType')).toThrow(
      expect.objectContaining({ key: 'compressionType' }),
    )
  })
})
