/**
 * Every response decoder against bytes a broker (or a broken network, or an
 * attacker) could send: more than a million inputs through
 * `decodeResponse(api, version, frame)` for every implemented version of every
 * API, and through `decodeApiVersionsResponse` (with its fallbacks) for every
 * ApiVersions version.
 *
 * Inputs:
 * - systematic: every golden response frame with every position overwritten
 *   by each huge, negative or malformed length (int32, int16, uvarint), and
 *   every truncation fed to every version of its API;
 * - random bytes of random lengths (some biased to 0x00/0xff/0x7f/0x80);
 * - mutations of the golden frames, 1 to 3 stacked: bit flips, byte changes,
 *   truncations, extensions, length fields set to huge/negative values,
 *   duplicated and deleted regions, splices of two frames, small counts; fed
 *   mostly to the frame's own decoder, sometimes to another version or API.
 *
 * For each input the decoder must either return or throw KafkaProtocolError
 * whose cause chain holds no other error (decodeResponse turns a decoder bug
 * such as a TypeError into a KafkaProtocolError with the bug as its cause; that
 * fails here). A returned value must be justified by the input: its array
 * elements plus string characters never exceed the frame's bytes (each takes at
 * least one byte on the wire). Memory (heapUsed + arrayBuffers) is sampled
 * through the run and must stay within a small bound.
 *
 * Reproducible: the PRNG is seeded (FUZZ_SEED=<n> to explore other inputs; the
 * seed is printed), and a failure names the decoder, the input's hex and how it
 * was made.
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { type AnyApi, decodeResponse, isFlexible } from '../../src/protocol/api.js'
import { ApiVersionsApi, decodeApiVersionsResponse, MetadataApi, ProduceApi, SUPPORTED_APIS } from '../../src/protocol/apis/index.js'
import { KafkaProtocolError } from '../../src/errors.js'
import { FALLBACK_CASES, RESPONSE_CASES } from '../golden/cases.js'

const GOLDEN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'golden')
const golden = (file: string): Buffer => Buffer.from(fs.readFileSync(path.join(GOLDEN, file), 'utf8').replace(/\s+/g, ''), 'hex')

const DEFAULT_SEED = 0x6b61666b
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) >>> 0 : DEFAULT_SEED
/**
 * 1,000,000 on the main run; FUZZ_INPUTS lowers it where the same pure-JS
 * decoders run again (the Node matrix repeats the unit suite on 22 and 24).
 */
const MIN_INPUTS = process.env.FUZZ_INPUTS ? Math.max(1000, Number(process.env.FUZZ_INPUTS)) : 1_000_000
/** Bounds on memory growth over the run: far below what one unjustified 2^31-element array or 200 MiB buffer would take. */
const MAX_HEAP_GROWTH = 64 * 1024 * 1024
const MAX_ARRAY_BUFFER_GROWTH = 8 * 1024 * 1024

// ---------------------------------------------------------------- PRNG

/** xorshift32 over uint32: cheap, and the whole run follows from the seed. */
class Rng {
  private s: number
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9
  }
  u32(): number {
    let s = this.s
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    this.s = s >>> 0
    return this.s
  }
  /** 0 <= n < max (max >= 1). */
  below(max: number): number {
    return this.u32() % max
  }
  chance(percent: number): boolean {
    return this.u32() % 100 < percent
  }
}

const INTERESTING_BYTES = [0x00, 0x00, 0x01, 0x02, 0x7f, 0x80, 0x81, 0xfe, 0xff, 0xff]

// ---------------------------------------------------------------- targets

interface Target {
  name: string
  api: AnyApi
  version: number
  decode: (frame: Buffer) => unknown
}

const TARGETS: Target[] = []
for (const api of SUPPORTED_APIS) {
  for (let v = api.minVersion; v <= api.maxVersion; v++) {
    TARGETS.push({ name: `decodeResponse(${api.name}, ${v})`, api, version: v, decode: (f) => decodeResponse(api, v, f) })
  }
}
for (let v = ApiVersionsApi.minVersion; v <= ApiVersionsApi.maxVersion; v++) {
  TARGETS.push({ name: `decodeApiVersionsResponse(v${v})`, api: ApiVersionsApi, version: v, decode: (f) => decodeApiVersionsResponse(f, v) })
}

interface Seed {
  file: string
  frame: Buffer
  /** Decoders this frame was written for (its own version; all ApiVersions decoders for the fallback files). */
  own: Target[]
  /** Other versions of the same API: the "wrong version" confusion. */
  sameApi: Target[]
}

const SEEDS: Seed[] = [
  ...RESPONSE_CASES.map((c) => ({
    file: c.file,
    frame: golden(c.file),
    own: TARGETS.filter((t) => t.api === c.api && t.version === c.version),
    sameApi: TARGETS.filter((t) => t.api === c.api),
  })),
  ...FALLBACK_CASES.map((c) => ({
    file: c.file,
    frame: golden(c.file),
    own: TARGETS.filter((t) => t.api === ApiVersionsApi && t.name.startsWith('decodeApiVersionsResponse')),
    sameApi: TARGETS.filter((t) => t.api === ApiVersionsApi),
  })),
]

// ---------------------------------------------------------------- checks

/**
 * Array elements plus string characters in a decoded value: each needs at least
 * one byte of input. A uuid is the exception: 32 hex digits from 16 bytes, or
 * the zero uuid a version without the field defaults to (TxnOffsetCommit's
 * TopicId below v6), so it counts as one unit.
 */
const UUID_HEX = /^[0-9a-f]{32}$/

function claimedUnits(v: unknown): number {
  if (typeof v === 'string') return v.length === 32 && UUID_HEX.test(v) ? 1 : v.length
  if (v === null || typeof v !== 'object') return 0
  let n = 0
  if (Array.isArray(v)) {
    n += v.length
    for (let i = 0; i < v.length; i++) n += claimedUnits(v[i])
    return n
  }
  for (const k in v) n += claimedUnits((v as Record<string, unknown>)[k])
  return n
}

/** Why `e` is not an acceptable decoder failure, or null if it is. */
function badError(e: unknown): string | null {
  let cur: unknown = e
  for (let depth = 0; cur !== undefined; depth++) {
    if (!(cur instanceof KafkaProtocolError)) {
      const what = cur instanceof Error ? `${cur.name}: ${cur.message}\n${cur.stack}` : String(cur)
      return depth === 0 ? `threw ${what}` : `threw a KafkaProtocolError caused by ${what}`
    }
    cur = cur.cause
  }
  return null
}

// ---------------------------------------------------------------- mutations

const SCRATCH_SIZE = 16384
/** Room for the biggest golden frame after several insertions. */
const MAX_LEN = 8192

/** int32 length values: huge, negative, and off by one or so. */
const INT32_VALUES = [0x7fffffff, -0x80000000, -1, -2, 0x40000000, 0x10000, 0x1000]
const INT16_VALUES = [0x7fff, -0x8000, -1, -2, 0x4000]
/** Unsigned varints: 2^32-1, 2^31 + 1 (a compact count of 2^31), 2^28, 2^32 (malformed), no end. */
const UVARINTS = [
  [0xff, 0xff, 0xff, 0xff, 0x0f],
  [0x81, 0x80, 0x80, 0x80, 0x08],
  [0x80, 0x80, 0x80, 0x80, 0x01],
  [0x80, 0x80, 0x80, 0x80, 0x10],
  [0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
  [0xff, 0xff, 0x03],
  [0x00],
]

class Mutator {
  readonly buf = Buffer.alloc(SCRATCH_SIZE)
  len = 0
  ops: string[] = []

  constructor(private readonly rng: Rng) {}

  load(frame: Buffer): void {
    frame.copy(this.buf, 0)
    this.len = frame.length
    this.ops.length = 0
  }

  /** A position in the frame, preferring the body (after the 4-byte correlation id). */
  private pos(): number {
    if (this.len <= 4 || this.rng.chance(5)) return this.rng.below(this.len + 1)
    return 4 + this.rng.below(this.len - 4)
  }

  private insertGap(at: number, n: number): number {
    n = Math.min(n, MAX_LEN - this.len)
    if (n <= 0) return 0
    this.buf.copyWithin(at + n, at, this.len)
    this.len += n
    return n
  }

  private writeInt(at: number, bytes: number, value: number): void {
    if (at + bytes > this.len) return
    if (bytes === 4) this.buf.writeInt32BE(value, at)
    else this.buf.writeInt16BE(value, at)
  }

  mutate(others: readonly Seed[]): void {
    const rng = this.rng
    const count = 1 + rng.below(3)
    for (let k = 0; k < count; k++) {
      if (this.len === 0) return
      const op = rng.below(10)
      switch (op) {
        case 0: {
          const bits = 1 + rng.below(4)
          for (let i = 0; i < bits; i++) {
            const at = this.pos()
            if (at < this.len) this.buf[at]! ^= 1 << rng.below(8)
          }
          this.ops.push(`flip ${bits} bits`)
          break
        }
        case 1: {
          const at = this.pos()
          const n = 1 + rng.below(4)
          for (let i = at; i < at + n && i < this.len; i++) {
            this.buf[i] = rng.chance(50) ? rng.below(256) : INTERESTING_BYTES[rng.below(INTERESTING_BYTES.length)]!
          }
          this.ops.push(`set ${n} bytes at ${at}`)
          break
        }
        case 2: {
          this.len = rng.below(this.len)
          this.ops.push(`truncate to ${this.len}`)
          break
        }
        case 3: {
          const n = this.insertGap(this.len, 1 + rng.below(64))
          const zero = rng.chance(30)
          for (let i = this.len - n; i < this.len; i++) this.buf[i] = zero ? 0 : rng.below(256)
          this.ops.push(`extend by ${n}${zero ? ' zeros' : ''}`)
          break
        }
        case 4:
        case 5: {
          // Huge or negative length: overwrite an int32, an int16 or a uvarint.
          const at = this.pos()
          const kind = rng.below(3)
          if (kind === 0) this.writeInt(at, 4, INT32_VALUES[rng.below(INT32_VALUES.length)]!)
          else if (kind === 1) this.writeInt(at, 2, INT16_VALUES[rng.below(INT16_VALUES.length)]!)
          else {
            const u = UVARINTS[rng.below(UVARINTS.length)]!
            // Insert (a length field grows) or overwrite.
            if (rng.chance(50)) this.insertGap(Math.min(at, this.len), u.length - 1)
            for (let i = 0; i < u.length && at + i < this.len; i++) this.buf[at + i] = u[i]!
          }
          this.ops.push(`${['int32', 'int16', 'uvarint'][kind]} length at ${at}`)
          break
        }
        case 6: {
          // Duplicate a region somewhere.
          const from = rng.below(this.len)
          const n = 1 + rng.below(Math.min(64, this.len - from))
          const to = rng.below(this.len + 1)
          const copy = Buffer.from(this.buf.subarray(from, from + n))
          const got = this.insertGap(to, n)
          copy.copy(this.buf, to, 0, got)
          this.ops.push(`duplicate ${n} bytes from ${from} at ${to}`)
          break
        }
        case 7: {
          const from = rng.below(this.len)
          const n = 1 + rng.below(Math.min(32, this.len - from))
          this.buf.copyWithin(from, from + n, this.len)
          this.len -= n
          this.ops.push(`delete ${n} bytes at ${from}`)
          break
        }
        case 8: {
          // Splice: this frame's prefix, another frame's suffix.
          const other = others[rng.below(others.length)]!
          const cut = rng.below(this.len + 1)
          const from = rng.below(other.frame.length + 1)
          const n = Math.min(other.frame.length - from, MAX_LEN - cut)
          other.frame.copy(this.buf, cut, from, from + n)
          this.len = cut + n
          this.ops.push(`splice ${other.file}[${from}..] at ${cut}`)
          break
        }
        default: {
          // A small, plausible count or length: lets decoding go deeper than a huge one.
          const at = this.pos()
          const small = rng.below(6)
          if (rng.chance(50)) this.writeInt(at, 4, small)
          else if (at < this.len) this.buf[at] = small
          this.ops.push(`small ${small} at ${at}`)
        }
      }
    }
  }

  randomBytes(): void {
    const rng = this.rng
    const r = rng.below(10)
    this.len = r < 4 ? rng.below(17) : r < 8 ? rng.below(129) : rng.below(2049)
    const biased = rng.chance(50)
    for (let i = 0; i < this.len; i++) {
      this.buf[i] = biased && rng.chance(50) ? INTERESTING_BYTES[rng.below(INTERESTING_BYTES.length)]! : rng.below(256)
    }
    this.ops.length = 0
    this.ops.push(`random ${this.len} bytes${biased ? ' (biased)' : ''}`)
  }
}

// ---------------------------------------------------------------- the run

interface Stats {
  inputs: number
  returned: number
  threw: number
  maxHeapGrowth: number
  maxArrayBufferGrowth: number
}

class Fuzzer {
  readonly stats: Stats = { inputs: 0, returned: 0, threw: 0, maxHeapGrowth: 0, maxArrayBufferGrowth: 0 }
  private readonly baseHeap: number
  private readonly baseArrayBuffers: number

  constructor(private readonly seed: number) {
    const m = process.memoryUsage()
    this.baseHeap = m.heapUsed
    this.baseArrayBuffers = m.arrayBuffers
  }

  /** Decodes `frame` with `t`; throws a reproducible report on any violation. */
  run(t: Target, frame: Buffer, how: () => string): void {
    this.stats.inputs++
    let result: unknown
    try {
      result = t.decode(frame)
    } catch (e) {
      this.stats.threw++
      const bad = badError(e)
      if (bad !== null) this.fail(t, frame, how(), bad)
      if ((this.stats.inputs & 8191) === 0) this.sample(t, frame, how)
      return
    }
    this.stats.returned++
    const units = claimedUnits(result)
    if (units > frame.length) {
      this.fail(t, frame, how(), `returned ${units} array elements and string characters from ${frame.length} bytes`)
    }
    if ((this.stats.inputs & 8191) === 0) this.sample(t, frame, how)
  }

  private sample(t: Target, frame: Buffer, how: () => string): void {
    const m = process.memoryUsage()
    const heap = m.heapUsed + m.arrayBuffers - this.baseHeap - this.baseArrayBuffers
    const ab = m.arrayBuffers - this.baseArrayBuffers
    if (heap > this.stats.maxHeapGrowth) this.stats.maxHeapGrowth = heap
    if (ab > this.stats.maxArrayBufferGrowth) this.stats.maxArrayBufferGrowth = ab
    if (heap > MAX_HEAP_GROWTH || ab > MAX_ARRAY_BUFFER_GROWTH) {
      this.fail(t, frame, how(), `memory grew by ${mib(heap)} (heapUsed + arrayBuffers; arrayBuffers alone ${mib(ab)})`)
    }
  }

  private fail(t: Target, frame: Buffer, how: string, problem: string): never {
    throw new Error(
      `fuzz seed ${this.seed} (FUZZ_SEED=${this.seed}), input #${this.stats.inputs}: ${t.name} ${problem}\n` +
        `input (${how}), ${frame.length} bytes: ${frame.toString('hex')}`,
    )
  }
}

const mib = (n: number): string => `${(n / 1048576).toFixed(1)} MiB`

// ---------------------------------------------------------------- tests

describe('response decoders under fuzzing', () => {
  it('claims of 2^31 elements or bytes in a 64-byte frame fail at the count, before anything is built', () => {
    const before = process.memoryUsage()
    /** A 64-byte frame: correlation id, header tag section if any, `prefix`, then `claim`, zero padding. */
    const frame = (api: AnyApi, v: number, prefix: number[], claim: number[]): Buffer => {
      const headerTags = api === ApiVersionsApi || !isFlexible(api, v) ? [] : [0]
      const b = Buffer.alloc(64)
      Buffer.from([0, 0, 0, 1, ...headerTags, ...prefix, ...claim]).copy(b)
      return b
    }
    const count = (api: AnyApi, v: number): number[] =>
      isFlexible(api, v) ? [0x81, 0x80, 0x80, 0x80, 0x08] /* compact 2^31 + 1: 2^31 elements */ : [0x7f, 0xff, 0xff, 0xff]
    let checked = 0
    for (let v = ProduceApi.minVersion; v <= ProduceApi.maxVersion; v++) {
      // topics: the first field
      expect(() => decodeResponse(ProduceApi, v, frame(ProduceApi, v, [], count(ProduceApi, v)))).toThrow(
        /^Cannot decode Produce v\d+ response: Array length 214748364[78] exceeds the \d+ bytes left/,
      )
      // one topic named "t", then 2^31 partitions
      const name = isFlexible(ProduceApi, v) ? [2, 0x74] : [0, 1, 0x74]
      const one = isFlexible(ProduceApi, v) ? [2] : [0, 0, 0, 1]
      expect(() => decodeResponse(ProduceApi, v, frame(ProduceApi, v, [...one, ...name], count(ProduceApi, v)))).toThrow(/Array length 214748364[78] exceeds/)
      checked += 2
    }
    for (let v = MetadataApi.minVersion; v <= MetadataApi.maxVersion; v++) {
      const throttle = v >= 3 ? [0, 0, 0, 0] : []
      expect(() => decodeResponse(MetadataApi, v, frame(MetadataApi, v, throttle, count(MetadataApi, v)))).toThrow(/Array length 214748364[78] exceeds/)
      // one broker (id 1) whose host claims 2^31 bytes (flexible) or 32767 (int16)
      const one = isFlexible(MetadataApi, v) ? [2] : [0, 0, 0, 1]
      const host = isFlexible(MetadataApi, v) ? [0x81, 0x80, 0x80, 0x80, 0x08] : [0x7f, 0xff]
      expect(() => decodeResponse(MetadataApi, v, frame(MetadataApi, v, [...throttle, ...one, 0, 0, 0, 1], host))).toThrow(
        /Truncated response: need (2147483648|32767) bytes for string/,
      )
      checked += 2
    }
    for (let v = ApiVersionsApi.minVersion; v <= ApiVersionsApi.maxVersion; v++) {
      expect(() => decodeResponse(ApiVersionsApi, v, frame(ApiVersionsApi, v, [0, 0], count(ApiVersionsApi, v)))).toThrow(/Array length 214748364[78] exceeds/)
      expect(() => decodeApiVersionsResponse(frame(ApiVersionsApi, v, [0, 0], count(ApiVersionsApi, v)), v)).toThrow(KafkaProtocolError)
      checked += 2
      if (v >= 3) {
        // an empty key list, throttle time, then 2^32-1 tagged fields; or one tagged field of 2^32-1 bytes
        const body = [0, 0, 1, 0, 0, 0, 0]
        expect(() => decodeResponse(ApiVersionsApi, v, frame(ApiVersionsApi, v, body, [0xff, 0xff, 0xff, 0xff, 0x0f]))).toThrow(/Tagged field count 4294967295 exceeds/)
        expect(() => decodeResponse(ApiVersionsApi, v, frame(ApiVersionsApi, v, [...body, 1, 0], [0xff, 0xff, 0xff, 0xff, 0x0f]))).toThrow(
          /need 4294967295 bytes for tagged field/,
        )
        checked += 2
      }
    }
    const after = process.memoryUsage()
    expect(checked).toBe(2 * 10 + 2 * 13 + 2 * 6 + 2 * 3)
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(1024 * 1024)
    expect(after.heapUsed - before.heapUsed).toBeLessThan(32 * 1024 * 1024)
  })

  it(`${MIN_INPUTS.toLocaleString('en')}+ random and mutated frames: each returns a justified value or throws KafkaProtocolError`, async () => {
    const started = performance.now()
    // Minutes of synchronous decoding would starve vitest's worker RPC (onTaskUpdate times out on a
    // loaded machine): give the event loop a turn every so often.
    const breathe = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
    const rng = new Rng(SEED)
    const m = new Mutator(rng)
    // Warm up before taking the memory baseline, so JIT code and the scratch buffer are not counted.
    for (const s of SEEDS) {
      for (const t of s.own) {
        try {
          t.decode(s.frame)
        } catch {
          // the librdkafka fallback answer is no v0 body; the fuzz run judges errors
        }
      }
    }
    const fuzz = new Fuzzer(SEED)
    const view = (): Buffer => m.buf.subarray(0, m.len)
    const ops = (): string => m.ops.join(', ')

    // 1. Systematic: every position of every golden frame overwritten by each huge/negative/malformed length.
    const patterns: number[][] = [
      ...INT32_VALUES.map((v) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]),
      ...INT16_VALUES.map((v) => [(v >>> 8) & 0xff, v & 0xff]),
      ...UVARINTS,
    ]
    for (const s of SEEDS) {
      for (let at = 0; at < s.frame.length; at++) {
        if ((at & 63) === 63) await breathe()
        for (let p = 0; p < patterns.length; p++) {
          m.load(s.frame)
          const pat = patterns[p]!
          for (let i = 0; i < pat.length && at + i < m.len; i++) m.buf[at + i] = pat[i]!
          for (const t of s.own) fuzz.run(t, view(), () => `${s.file} with [${pat.join(',')}] at ${at}`)
        }
      }
    }
    // 2. Systematic: every truncation of every golden frame, through every decoder of its API.
    for (const s of SEEDS) {
      for (let n = 0; n < s.frame.length; n++) {
        const f = s.frame.subarray(0, n)
        for (const t of s.sameApi) fuzz.run(t, f, () => `${s.file} truncated to ${n}`)
      }
    }
    const systematic = fuzz.stats.inputs

    // 3. Random bytes of random lengths, to random decoders.
    const RANDOM = 200_000
    for (let i = 0; i < RANDOM; i++) {
      if ((i & 0x3fff) === 0) await breathe()
      m.randomBytes()
      fuzz.run(TARGETS[rng.below(TARGETS.length)]!, view(), ops)
    }

    // 4. Mutated golden frames until the total passes the minimum.
    while (fuzz.stats.inputs < MIN_INPUTS) {
      if ((fuzz.stats.inputs & 0x3fff) === 0) await breathe()
      const s = SEEDS[rng.below(SEEDS.length)]!
      m.load(s.frame)
      m.mutate(SEEDS)
      const r = rng.below(100)
      const t = r < 85 ? s.own[rng.below(s.own.length)]! : r < 95 ? s.sameApi[rng.below(s.sameApi.length)]! : TARGETS[rng.below(TARGETS.length)]!
      fuzz.run(t, view(), () => `${s.file}: ${ops()}`)
    }

    const st = fuzz.stats
    const seconds = (performance.now() - started) / 1000
    console.log(
      `[fuzz] seed ${SEED}: ${st.inputs} inputs (${systematic} systematic, ${RANDOM} random, ${st.inputs - systematic - RANDOM} mutated) ` +
        `over ${TARGETS.length} decoders in ${seconds.toFixed(1)} s; ${st.returned} returned, ${st.threw} threw KafkaProtocolError; ` +
        `max growth ${mib(st.maxHeapGrowth)} heap+arrayBuffers, ${mib(st.maxArrayBufferGrowth)} arrayBuffers`,
    )
    expect(st.inputs).toBeGreaterThanOrEqual(MIN_INPUTS)
    // Both outcomes happen a lot: the mutations neither all break nor all miss the decoders.
    expect(st.returned).toBeGreaterThan(st.inputs / 20)
    expect(st.threw).toBeGreaterThan(st.inputs / 5)
  }, 300_000)

  it('the checks themselves fail: a decoder that throws TypeError or returns more than the input holds is caught', () => {
    const fuzz = new Fuzzer(SEED)
    const frame = Buffer.from('0000000100', 'hex')
    const bug: Target = { name: 'buggy', api: ProduceApi, version: 3, decode: () => (null as unknown as { x: number }).x }
    expect(() => fuzz.run(bug, frame, () => 'test')).toThrow(/buggy threw TypeError[\s\S]*input \(test\), 5 bytes: 0000000100/)
    // decodeResponse turns a decoder bug into a KafkaProtocolError; its cause gives it away.
    const wrapped: Target = {
      name: 'wrapped',
      api: ProduceApi,
      version: 3,
      decode: () => {
        throw new KafkaProtocolError('Cannot decode', { cause: new RangeError('offset out of range') })
      },
    }
    expect(() => fuzz.run(wrapped, frame, () => 'test')).toThrow(/KafkaProtocolError caused by RangeError/)
    const greedy: Target = { name: 'greedy', api: ProduceApi, version: 3, decode: () => ({ a: new Array(6).fill(0) }) }
    expect(() => fuzz.run(greedy, frame, () => 'test')).toThrow(/returned 6 array elements and string characters from 5 bytes/)
  })
})
