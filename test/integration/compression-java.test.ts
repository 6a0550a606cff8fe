/**
 * Our compression frames against Kafka's own: one JVM running
 * test/harness/java/CompressionCodec.java on kafka-clients 4.4.0, that is the
 * Java producer's and the broker's org.apache.kafka.common.compress classes
 * with snappy-java, lz4-java and zstd-jni.
 *
 * - Java's wrapForInput decodes every frame we write, for every codec and a
 *   few levels, to exactly the input (empty, 1 byte, block boundaries, 1 MiB
 *   of JSON lines, incompressible bytes).
 * - Our decoder reads every frame Java writes.
 * - snappy: our frames are byte-identical to Java's.
 * - lz4: the header is Java's, 04 22 4D 18 60 40 82; incompressible blocks
 *   are stored raw with the high bit set, so such frames equal Java's.
 * - The level ranges and the config validation match Java's CompressionType
 *   and ProducerConfig.
 *
 * Never skipped: without the Kafka jars (.cache/kafka/4.4.0/libs from
 * scripts/ensure-deps.mjs, or $KAFKA_LIBS) or java, it fails saying so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CONFIG_DEFINITIONS, type ProducerConfig, resolveProducerConfig } from '../../src/config.js'
import { KafkaConfigError } from '../../src/errors.js'
import {
  COMPRESSION_LEVELS,
  type CompressionCodec,
  compress,
  decompress,
  LZ4_BLOCK_SIZE,
  SNAPPY_BLOCK_SIZE,
} from '../../src/protocol/compression/index.js'
import { loadZstdCodec, zstdBuiltIn } from '../../src/protocol/compression/zstd.js'
import { JavaCompression } from '../harness/compression-codec.js'
import { jsonLines, randomBytes } from '../harness/compression-inputs.js'

let java: JavaCompression

beforeAll(() => {
  java = JavaCompression.start()
})

afterAll(async () => {
  await java?.close()
})

const INPUTS: [string, Buffer][] = [
  ['empty', Buffer.alloc(0)],
  ['1 byte', Buffer.from('x')],
  ['short text', Buffer.from('hello kafka, hello kafka, hello kafka')],
  ['32 KiB', jsonLines(SNAPPY_BLOCK_SIZE)],
  ['32 KiB + 1', jsonLines(SNAPPY_BLOCK_SIZE + 1)],
  ['64 KiB', jsonLines(LZ4_BLOCK_SIZE)],
  ['64 KiB + 1', jsonLines(LZ4_BLOCK_SIZE + 1)],
  ['1 MiB JSON lines', jsonLines(1 << 20)],
  ['100 KB random', randomBytes(100_000)],
  ['random then JSON', Buffer.concat([randomBytes(70_000), jsonLines(70_000)])],
]

const LEVELS: Record<CompressionCodec, (number | undefined)[]> = {
  none: [undefined],
  gzip: [undefined, 1, 9],
  snappy: [undefined],
  lz4: [undefined, 1, 17],
  zstd: [undefined, -5, 1, 19],
}

/** Byte equality without vitest's slow deep equality on large buffers. */
function expectBytes(actual: Buffer, expected: Buffer, what: string): void {
  if (actual.equals(expected)) return
  let i = 0
  while (i < actual.length && i < expected.length && actual[i] === expected[i]) i++
  expect.fail(`${what}: ${actual.length} bytes differ from the expected ${expected.length} at offset ${i}`)
}

describe.each(['gzip', 'snappy', 'lz4', 'zstd'] as const)('%s against Kafka 4.4.0', (codec) => {
  it('Java decodes our frames to the exact input, at every level tried', async () => {
    for (const level of LEVELS[codec]) {
      for (const [name, input] of INPUTS) {
        const frame = await compress(codec, level, input)
        expectBytes(await java.decompress(codec, frame), input, `${codec} level ${level ?? 'default'}, ${name}`)
      }
    }
  })

  it('we decode the frames Java writes', async () => {
    for (const level of LEVELS[codec]) {
      for (const [name, input] of INPUTS) {
        const frame = await java.compress(codec, level ?? 'default', input)
        expectBytes(await decompress(codec, frame), input, `${codec} level ${level ?? 'default'}, ${name}`)
      }
    }
  })
})

describe('frames compared byte for byte', () => {
  it("snappy: identical to Java's SnappyOutputStream for every input", async () => {
    for (const [name, input] of INPUTS) {
      expectBytes(await compress('snappy', undefined, input), await java.compress('snappy', 'default', input), name)
    }
  })

  it("lz4: Java's header 04 22 4D 18 60 40 82 at every level, and its end mark", async () => {
    for (const level of LEVELS.lz4) {
      const theirs = await java.compress('lz4', level ?? 'default', jsonLines(1000))
      const ours = await compress('lz4', level, jsonLines(1000))
      expect(theirs.subarray(0, 7).toString('hex')).toBe('04224d18604082')
      expect(ours.subarray(0, 7).toString('hex')).toBe('04224d18604082')
      expect(ours.subarray(-4).toString('hex')).toBe('00000000')
    }
    expectBytes(await compress('lz4', undefined, Buffer.alloc(0)), await java.compress('lz4', 'default', Buffer.alloc(0)), 'empty')
  })

  it('lz4: an incompressible block is stored raw with the high bit set, exactly as Java stores it', async () => {
    const input = randomBytes(2 * LZ4_BLOCK_SIZE + 10)
    const ours = await compress('lz4', undefined, input)
    expect(ours.readUInt32LE(7) >>> 0).toBe((0x80000000 | LZ4_BLOCK_SIZE) >>> 0)
    expectBytes(ours, await java.compress('lz4', 'default', input), 'random')
  })

  it('zstd: both implementations are read by Java', async () => {
    const input = jsonLines(300_000)
    for (const impl of [loadZstdCodec(true), ...(zstdBuiltIn() ? [loadZstdCodec(false)] : [])]) {
      for (const level of [-131072, 3, 22]) {
        expectBytes(await java.decompress('zstd', await impl.compress(input, level)), input, `level ${level}`)
      }
    }
  })
})

describe('levels and config against Java', () => {
  it("level ranges and defaults are CompressionType's", async () => {
    const javaLevels = await java.levels()
    for (const codec of ['gzip', 'lz4', 'zstd'] as const) {
      const ours = COMPRESSION_LEVELS[codec]
      expect({ min: ours.min, max: ours.max, default: ours.default }, codec).toEqual(javaLevels[codec])
    }
  })

  it("compression.* values are accepted exactly when ProducerConfig's validators accept them, with Java's defaults", async () => {
    const values: Record<string, string[]> = {
      'compression.type': ['none', 'gzip', 'snappy', 'lz4', 'zstd', 'GZIP', 'brotli', 'producer', 'uncompressed'],
      'compression.gzip.level': ['-2', '-1', '0', '1', '6', '9', '10'],
      'compression.lz4.level': ['-1', '0', '1', '9', '17', '18'],
      'compression.zstd.level': ['-131073', '-131072', '-1', '0', '3', '22', '23'],
    }
    for (const [name, list] of Object.entries(values)) {
      const d = CONFIG_DEFINITIONS.find((x) => x.kafkaName === name)!
      for (const value of list) {
        const javaOk = await java.validate(name, value).then(
          (r) => {
            expect(String(d.default), `${name} default`).toBe(r.default)
            return true
          },
          () => false,
        )
        let oursOk = true
        try {
          resolveProducerConfig({ bootstrapServers: 'localhost:9092', [name]: value } as ProducerConfig)
        } catch (e) {
          expect(e).toBeInstanceOf(KafkaConfigError)
          oursOk = false
        }
        expect(oursOk, `${name}=${value}: Java ${javaOk ? 'accepts' : 'rejects'} it`).toBe(javaOk)
      }
    }
  })
})
