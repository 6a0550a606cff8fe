import { describe, expect, it } from 'vitest'
import { KafkaProtocolError } from '../../src/errors.js'
import { NetworkReceive, NetworkSend } from '../../src/network/framing.js'
import { mulberry32 as prng } from '../harness/prng.js'


/** A chunk with its own ArrayBuffer (Buffer.alloc never uses the shared pool). */
function chunkOf(src: Buffer, start: number, end: number): Buffer {
  const c = Buffer.alloc(end - start)
  src.copy(c, 0, start, end)
  return c
}

function sizePrefix(n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeInt32BE(n | 0, 0)
  return b
}

// Sizes cover: empty, shorter than a size prefix, exactly one prefix, small, and one
// between Buffer's pool thresholds on Node 20/22 (4 KiB) and 24.18+ (32 KiB), which
// allocUnsafe would put in its own ArrayBuffer on one and in the shared pool on the other.
const SIZES = [0, 1, 3, 4, 5, 17, 0, 300, 5000, 2]
const rnd = prng(42)
const BODIES = SIZES.map((n) => {
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256)
  return b
})
const STREAM = Buffer.concat(BODIES.flatMap((b) => [sizePrefix(b.length), b]))
/** Where each frame (prefix included) starts and ends in STREAM. */
const SPANS: { start: number; end: number }[] = []
{
  let pos = 0
  for (const b of BODIES) {
    SPANS.push({ start: pos, end: pos + 4 + b.length })
    pos += 4 + b.length
  }
}

interface Fed {
  frames: Buffer[]
  chunks: Buffer[]
  /** For each frame, the chunk index in which it completed. */
  completedIn: number[]
  /** Chunk boundaries as stream offsets: chunk i covers [bounds[i], bounds[i+1]). */
  bounds: number[]
}

function feed(cuts: number[], max = 1 << 20): Fed {
  const rx = new NetworkReceive(max)
  const bounds = [0, ...cuts, STREAM.length]
  const chunks: Buffer[] = []
  const frames: Buffer[] = []
  const completedIn: number[] = []
  for (let i = 0; i + 1 < bounds.length; i++) {
    const c = chunkOf(STREAM, bounds[i]!, bounds[i + 1]!)
    chunks.push(c)
    rx.push(c, (f) => {
      frames.push(f)
      completedIn.push(i)
    })
  }
  if (rx.inProgress) throw new Error(`inProgress after the whole stream (cuts ${cuts.join(',')})`)
  return { frames, chunks, completedIn, bounds }
}

/**
 * Checks content, and view-vs-copy for every frame given where the chunk boundaries
 * fell; returns what is wrong (plain comparisons: this runs for thousands of chunkings).
 */
function problems(fed: Fed): string[] {
  const out: string[] = []
  if (fed.frames.length !== BODIES.length) return [`${fed.frames.length} frames, expected ${BODIES.length}`]
  const chunkBuffers = new Set<ArrayBufferLike>(fed.chunks.map((c) => c.buffer))
  for (let i = 0; i < BODIES.length; i++) {
    const f = fed.frames[i]!
    const body = BODIES[i]!
    if (f.length !== body.length || Buffer.compare(f, body) !== 0) out.push(`frame ${i}: wrong bytes`)
    if (body.length === 0) continue // an empty frame has no bytes to share or copy
    const { start, end } = SPANS[i]!
    const ci = fed.completedIn[i]!
    const chunk = fed.chunks[ci]!
    const chunkStart = fed.bounds[ci]!
    const whole = start >= chunkStart && end <= fed.bounds[ci + 1]!
    if (whole) {
      // A view of the chunk that held it, at exactly the body's offset.
      if (f.buffer !== chunk.buffer) out.push(`frame ${i}: not a view of its chunk`)
      else if (f.byteOffset !== chunk.byteOffset + (start - chunkStart) + 4) out.push(`frame ${i}: view at the wrong offset`)
    } else {
      // Copied, into no chunk's memory.
      if (chunkBuffers.has(f.buffer)) out.push(`frame ${i}: straddles chunks but shares a chunk's memory`)
      // Every copy owns exactly its bytes: no growing buffer, and no slice of Buffer's shared
      // pool, whose size depends on the Node version (8 KiB, 64 KiB from 24.18) and which a
      // retained frame would keep alive whole.
      if (f.buffer.byteLength !== body.length) out.push(`frame ${i}: copy is ${f.buffer.byteLength} bytes`)
    }
  }
  return out
}

function check(fed: Fed): void {
  expect(problems(fed)).toEqual([])
}

describe('NetworkReceive', () => {
  it('returns every frame of a stream pushed as one chunk, each as a view of that chunk', () => {
    const fed = feed([])
    check(fed)
    for (const f of fed.frames) if (f.length > 0) expect(f.buffer).toBe(fed.chunks[0]!.buffer)
  })

  it('returns identical frames, all copied, when the stream arrives one byte at a time', () => {
    const cuts = Array.from({ length: STREAM.length - 1 }, (_, i) => i + 1)
    const fed = feed(cuts)
    check(fed)
    const chunkBuffers = new Set<ArrayBufferLike>(fed.chunks.map((c) => c.buffer))
    expect(fed.frames.filter((f) => f.length > 0 && chunkBuffers.has(f.buffer))).toEqual([])
  })

  it('returns identical frames for a split at every possible byte boundary', () => {
    const bad: string[] = []
    for (let k = 1; k < STREAM.length; k++) for (const p of problems(feed([k]))) bad.push(`split at ${k}: ${p}`)
    expect(bad).toEqual([])
  })

  it('returns identical frames for 300 random chunkings (seeded)', () => {
    const r = prng(7)
    const bad: string[] = []
    for (let n = 0; n < 300; n++) {
      const cuts = new Set<number>()
      const count = 1 + Math.floor(r() * 12)
      while (cuts.size < count) cuts.add(1 + Math.floor(r() * (STREAM.length - 1)))
      const sorted = [...cuts].sort((a, b) => a - b)
      for (const p of problems(feed(sorted))) bad.push(`cuts ${sorted.join(',')}: ${p}`)
    }
    expect(bad).toEqual([])
  })

  it('delivers a zero-length frame, alone or between others', () => {
    const rx = new NetworkReceive(100)
    const got: Buffer[] = []
    rx.push(Buffer.from([0, 0, 0, 0]), (f) => got.push(f))
    expect(got.map((f) => f.length)).toEqual([0])
    expect(rx.inProgress).toBe(false)
    // Prefix split across chunks, then an empty frame and a 1-byte frame in one chunk.
    rx.push(Buffer.from([0, 0]), (f) => got.push(f))
    expect(rx.inProgress).toBe(true)
    rx.push(Buffer.from([0, 0, 0, 0, 0, 1, 0xab]), (f) => got.push(f))
    expect(got.map((f) => [...f])).toEqual([[], [], [0xab]])
    expect(rx.inProgress).toBe(false)
  })

  it('accepts a size equal to maxReceiveSize and rejects one byte more, before reading the body', () => {
    const ok = new NetworkReceive(10)
    const got: Buffer[] = []
    ok.push(Buffer.concat([sizePrefix(10), Buffer.alloc(10, 7)]), (f) => got.push(f))
    expect(got).toHaveLength(1)
    const bad = new NetworkReceive(10)
    let err: unknown
    try {
      bad.push(sizePrefix(11), () => expect.fail('no frame expected'))
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(KafkaProtocolError)
    expect((err as Error).message).toBe(
      'Invalid receive size 11: larger than receive.message.max.bytes (10) or negative; closing the connection',
    )
  })

  it.each([
    ['-1', [0xff, 0xff, 0xff, 0xff], -1],
    ['INT32_MIN', [0x80, 0, 0, 0], -2147483648],
  ])('rejects a negative size prefix (%s)', (_name, bytes, size) => {
    const rx = new NetworkReceive(1 << 20)
    expect(() => rx.push(Buffer.from(bytes), () => {})).toThrow(KafkaProtocolError)
    const rx2 = new NetworkReceive(1 << 20)
    rx2.push(Buffer.from(bytes.slice(0, 1)), () => {})
    expect(() => rx2.push(Buffer.from(bytes.slice(1)), () => {})).toThrow(`Invalid receive size ${size}:`)
  })

  it('rejects a 2 GiB size prefix without allocating it (whole or split prefix)', () => {
    const before = process.memoryUsage().arrayBuffers
    for (let i = 0; i < 5; i++) {
      const whole = new NetworkReceive(100 * 1024 * 1024)
      expect(() => whole.push(Buffer.from([0x7f, 0xff, 0xff, 0xff, 1, 2, 3]), () => {})).toThrow(/Invalid receive size 2147483647/)
      const split = new NetworkReceive(100 * 1024 * 1024)
      split.push(Buffer.from([0x7f, 0xff]), () => {})
      expect(() => split.push(Buffer.from([0xff, 0xff]), () => {})).toThrow(KafkaProtocolError)
    }
    const after = process.memoryUsage().arrayBuffers
    expect(after - before).toBeLessThan(1024 * 1024)
  })

  it('stays failed after a bad size: later chunks throw the same error and yield no frames', () => {
    const rx = new NetworkReceive(16)
    const got: Buffer[] = []
    let first: unknown
    try {
      rx.push(Buffer.concat([sizePrefix(1), Buffer.from([9]), sizePrefix(17)]), (f) => got.push(f))
    } catch (e) {
      first = e
    }
    expect(got.map((f) => [...f])).toEqual([[9]]) // the frame before the bad prefix was delivered
    expect(first).toBeInstanceOf(KafkaProtocolError)
    // Bytes after the bad prefix would parse as a valid empty frame if the reader resynchronised.
    expect(() => rx.push(Buffer.from([0, 0, 0, 0]), (f) => got.push(f))).toThrow(first as Error)
    expect(got).toHaveLength(1)
  })

  it('reports inProgress exactly while a frame is partly read', () => {
    const rx = new NetworkReceive(100)
    const seen: number[] = []
    const on = (f: Buffer): void => {
      seen.push(f.length)
    }
    expect(rx.inProgress).toBe(false)
    rx.push(Buffer.from([0]), on)
    expect(rx.inProgress).toBe(true) // 1 of 4 prefix bytes
    rx.push(Buffer.from([0, 0]), on)
    expect(rx.inProgress).toBe(true) // 3 of 4
    rx.push(Buffer.from([3]), on)
    expect(rx.inProgress).toBe(true) // prefix done, body not started
    rx.push(Buffer.from([1, 2]), on)
    expect(rx.inProgress).toBe(true) // 2 of 3 body bytes
    rx.push(Buffer.from([3]), on)
    expect(rx.inProgress).toBe(false)
    expect(seen).toEqual([3])
    // A complete frame followed by the start of the next one in the same chunk.
    rx.push(Buffer.from([0, 0, 0, 1, 5, 0, 0]), on)
    expect(seen).toEqual([3, 1])
    expect(rx.inProgress).toBe(true)
    rx.push(Buffer.from([0, 0]), on)
    expect(seen).toEqual([3, 1, 0])
    expect(rx.inProgress).toBe(false)
    // An empty chunk changes nothing.
    rx.push(Buffer.alloc(0), on)
    expect(rx.inProgress).toBe(false)
    expect(seen).toEqual([3, 1, 0])
  })
})

describe('NetworkSend', () => {
  it('sums its segments and keeps them as given', () => {
    const a = Buffer.alloc(3)
    const b = Buffer.alloc(0)
    const c = Buffer.alloc(10)
    const send = new NetworkSend(5, [a, b, c])
    expect(send.size).toBe(13)
    expect(send.destination).toBe(5)
    expect(send.segments[0]).toBe(a)
    expect(send.segments[2]).toBe(c)
    expect(new NetworkSend(1, [Buffer.alloc(4)]).size).toBe(4)
    expect(new NetworkSend(1, []).size).toBe(0)
  })
})
