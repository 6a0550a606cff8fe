import { describe, expect, it } from 'vitest'
import { ProducerBatch } from '../../src/producer/producer-batch.js'
import { utf8Length } from '../../src/protocol/record-batch.js'
import { decodeRecordBatches } from '../harness/record-batch-decoder.js'
import { mulberry32 } from '../harness/prng.js'

/** Strings mixing ASCII, 2- and 3-byte characters, surrogate pairs and lone surrogates. */
function randomString(rand: () => number, maxLen: number): string {
  const pool = [0x41, 0x7a, 0x7f, 0x80, 0xe9, 0x7ff, 0x800, 0x20ac, 0xfffd, 0xffff, 0xd83d, 0xde00, 0xdbff, 0xdc00]
  const n = Math.floor(rand() * (maxLen + 1))
  let s = ''
  for (let i = 0; i < n; i++) {
    const r = rand()
    if (r < 0.5) s += String.fromCharCode(0x20 + Math.floor(rand() * 95))
    else if (r < 0.6) s += '\u{1F600}' // a surrogate pair
    else s += String.fromCharCode(pool[Math.floor(rand() * pool.length)]!)
  }
  return s
}

describe('utf8Length and the short-string writer', () => {
  it('agrees with Buffer.byteLength on edge cases', () => {
    for (const s of ['', 'a', 'é', '€', '\u{1F600}', '\uD83D', '\uDE00', '\uDE00\uD83D', 'a\uD83D', '\uD83Da', 'x'.repeat(32), 'é'.repeat(32), 'x'.repeat(33)]) {
      expect(utf8Length(s), JSON.stringify(s)).toBe(Buffer.byteLength(s, 'utf8'))
    }
  })

  it('agrees with Buffer.byteLength on 20,000 random strings, short and long', () => {
    const rand = mulberry32(7)
    for (let i = 0; i < 20_000; i++) {
      const s = randomString(rand, i % 2 === 0 ? 40 : 8)
      expect(utf8Length(s), JSON.stringify(s)).toBe(Buffer.byteLength(s, 'utf8'))
    }
  })

  it('writes string keys, values and headers byte for byte as Buffer.from would', () => {
    const rand = mulberry32(11)
    const batch = new ProducerBatch('t', 0, Buffer.alloc(1 << 20), 0)
    const expected: [Buffer, Buffer, [string, Buffer][]][] = []
    for (let i = 0; i < 2000; i++) {
      const key = randomString(rand, 40)
      const value = randomString(rand, 8)
      const hk = randomString(rand, 10)
      const hv = randomString(rand, 36)
      expect(batch.tryAppend(i, key, value, [[hk, hv]], () => {}, null, 0)).toBe(i)
      expected.push([Buffer.from(key, 'utf8'), Buffer.from(value, 'utf8'), [[Buffer.from(hk, 'utf8').toString('utf8'), Buffer.from(hv, 'utf8')]]])
    }
    const [decoded] = decodeRecordBatches(batch.close())
    expect(decoded!.records).toHaveLength(2000)
    decoded!.records.forEach((r, i) => {
      const [k, v, h] = expected[i]!
      expect(r.key!.equals(k)).toBe(true)
      expect(r.value!.equals(v)).toBe(true)
      expect(r.headers[0]![0]).toBe(h[0]![0])
      expect(r.headers[0]![1]!.equals(h[0]![1])).toBe(true)
    })
  })
})
