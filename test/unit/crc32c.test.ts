import CRC32C from 'crc-32/crc32c.js'
import { describe, expect, it } from 'vitest'
import { crc32c, crc32cCombine } from '../../src/protocol/crc32c.js'
import { crc32cBitwise } from '../harness/crc32c-reference.js'


describe('crc32c (word-at-a-time slicing-by-16)', () => {
  it('matches the check value 0xE3069283 for "123456789"', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283)
  })

  it('is 0 for an empty range', () => {
    expect(crc32c(Buffer.alloc(0))).toBe(0)
    expect(crc32c(Buffer.alloc(8), 3, 3)).toBe(0)
  })

  it('agrees with the bitwise definition for every length 0..300 at every memory alignment', () => {
    const backing = Buffer.allocUnsafeSlow(400)
    for (let i = 0; i < backing.length; i++) backing[i] = (i * 131 + 17) ^ (i >> 3)
    for (let align = 0; align < 4; align++) {
      for (let len = 0; len <= 300; len++) {
        const view = backing.subarray(align, align + len)
        expect(crc32c(view), `align ${align} len ${len}`).toBe(crc32cBitwise(view))
      }
    }
  })

  it('honours start and end inside a view (the batch CRC covers [21, end))', () => {
    const buf = Buffer.allocUnsafeSlow(1000)
    for (let i = 0; i < buf.length; i++) buf[i] = (i * 7) & 0xff
    const view = buf.subarray(5, 905)
    for (const [s, e] of [[21, 900], [0, 1], [1, 4], [17, 18], [3, 899]] as const) {
      expect(crc32c(view, s, e)).toBe(crc32cBitwise(view.subarray(s, e)))
    }
  })

  it('agrees with the crc-32 package on random 16 KiB and 64 KiB batches', () => {
    let seed = 12345
    const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24
    for (const size of [16384, 65536, 65536 + 13]) {
      const buf = Buffer.allocUnsafeSlow(size)
      for (let i = 0; i < size; i++) buf[i] = rand()
      expect(crc32c(buf, 21, size)).toBe(CRC32C.buf(buf.subarray(21)) >>> 0)
    }
  })
})

describe('crc32cCombine', () => {
  it('gives the CRC of the concatenation, for every split point of random data', () => {
    let seed = 99
    const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24
    const buf = Buffer.allocUnsafeSlow(600)
    for (let i = 0; i < buf.length; i++) buf[i] = rand()
    for (let cut = 0; cut <= buf.length; cut += 7) {
      const a = buf.subarray(0, cut)
      const b = buf.subarray(cut)
      expect(crc32cCombine(crc32c(a), crc32c(b), b.length), `cut ${cut}`).toBe(crc32c(buf))
    }
  })

  it('handles an empty second part and lengths up to megabytes (the batch header + records split)', () => {
    expect(crc32cCombine(0x12345678, crc32c(Buffer.alloc(0)), 0)).toBe(0x12345678)
    const big = Buffer.allocUnsafeSlow(3 * 1024 * 1024 + 5)
    for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24
    const head = 21
    const recordsAt = 61
    const whole = crc32c(big, head, big.length)
    expect(crc32cCombine(crc32c(big, head, recordsAt), crc32c(big, recordsAt, big.length), big.length - recordsAt)).toBe(whole)
  })
})
