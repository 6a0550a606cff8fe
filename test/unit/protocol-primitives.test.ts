/**
 * The primitives every API module is built from: ProtocolWriter (SizeCounter +
 * BufferWriter) and Reader, in both the classic and the flexible (KIP-482)
 * encodings. Expected bytes are Kafka's (ByteUtils / the protocol guide), so
 * these tests pin the format, not just the round trip.
 */
import Long from 'long'
import { describe, expect, it, vi } from 'vitest'
import { KafkaProtocolError } from '../../src/errors.js'
import { Reader } from '../../src/protocol/reader.js'
import { sizeOfUvarint, sizeOfVarint, sizeOfVarlong, sizeOfVarlongLong, writeVarlongLong } from '../../src/protocol/varint.js'
import { BufferWriter, type ProtocolWriter, SizeCounter } from '../../src/protocol/writer.js'

/** Runs `write` through SizeCounter then BufferWriter, as encodeRequest does; returns the bytes. */
function encode(flexible: boolean, write: (w: ProtocolWriter) => void): Buffer {
  const size = new SizeCounter(flexible)
  write(size)
  const w = new BufferWriter(Buffer.alloc(size.ownBytes), 0, flexible)
  write(w)
  const bytes = Buffer.concat(w.finish()) // finish() throws unless the count was exact
  expect(bytes.length).toBe(size.ownBytes + size.splicedBytes)
  return bytes
}

const hex = (flexible: boolean, write: (w: ProtocolWriter) => void): string => encode(flexible, write).toString('hex')
const reader = (h: string, flexible = false): Reader => new Reader(Buffer.from(h, 'hex'), 0, flexible)

/** Reads with `read` and requires the whole input consumed. */
function readAll<T>(h: string, flexible: boolean, read: (r: Reader) => T): T {
  const r = reader(h, flexible)
  const v = read(r)
  expect(r.remaining).toBe(0)
  return v
}

describe('fixed-width integers', () => {
  it.each([
    ['int8', -128, '80'],
    ['int8', 127, '7f'],
    ['int16', -1, 'ffff'],
    ['int16', 32767, '7fff'],
    ['int16', -32768, '8000'],
    ['int32', 2147483647, '7fffffff'],
    ['int32', -2147483648, '80000000'],
    ['uint32', 4294967295, 'ffffffff'],
  ] as const)('%s %d', (kind, v, bytes) => {
    expect(hex(false, (w) => w[kind](v))).toBe(bytes)
    expect(readAll(bytes, false, (r) => r[kind]())).toBe(v)
  })

  it.each([
    [0, '0000000000000000'],
    [-1, 'ffffffffffffffff'],
    [-4294967296, 'ffffffff00000000'],
    [4294967296, '0000000100000000'],
    [Number.MAX_SAFE_INTEGER, '001fffffffffffff'],
    [Number.MIN_SAFE_INTEGER, 'ffe0000000000001'],
    [1700000000123, '0000018bcfe5687b'],
  ])('int64 from a number %d, without BigInt', (v, bytes) => {
    expect(hex(false, (w) => w.int64(v))).toBe(bytes)
    expect(readAll(bytes, false, (r) => r.int64Number())).toBe(v)
    expect(readAll(bytes, false, (r) => r.int64())).toBe(BigInt(v))
  })

  it.each([
    [-(2n ** 63n), '8000000000000000'],
    [2n ** 63n - 1n, '7fffffffffffffff'],
    [2n ** 53n + 1n, '0020000000000001'],
  ])('int64 from a bigint %s', (v, bytes) => {
    expect(hex(false, (w) => w.int64(v))).toBe(bytes)
    expect(readAll(bytes, false, (r) => r.int64())).toBe(v)
  })

  it('boolean and float64', () => {
    expect(hex(false, (w) => (w.boolean(true), w.boolean(false)))).toBe('0100')
    const r = reader('0100ff')
    expect([r.boolean(), r.boolean(), r.boolean()]).toEqual([true, false, true]) // any non-zero byte is true, as in Kafka
    expect(readAll(hex(false, (w) => w.float64(-1.5e300)), false, (r) => r.float64())).toBe(-1.5e300)
    expect(hex(false, (w) => w.float64(1))).toBe('3ff0000000000000')
  })
})

describe('varints', () => {
  it.each([
    [0, '00'],
    [127, '7f'],
    [128, '8001'],
    [16383, 'ff7f'],
    [16384, '808001'],
    [2 ** 21 - 1, 'ffff7f'],
    [2 ** 28, '8080808001'],
    [2 ** 31, '8080808008'],
    [2 ** 32 - 1, 'ffffffff0f'],
  ])('unsigned varint %d', (v, bytes) => {
    expect(hex(false, (w) => w.uvarint(v))).toBe(bytes)
    expect(sizeOfUvarint(v)).toBe(bytes.length / 2)
    expect(readAll(bytes, false, (r) => r.uvarint())).toBe(v)
  })

  it.each([
    [0, '00'],
    [-1, '01'],
    [1, '02'],
    [63, '7e'],
    [-64, '7f'],
    [64, '8001'],
    [-65, '8101'],
    [2 ** 31 - 1, 'feffffff0f'],
    [-(2 ** 31), 'ffffffff0f'],
  ])('zigzag varint %d', (v, bytes) => {
    expect(hex(false, (w) => w.varint(v))).toBe(bytes)
    expect(sizeOfVarint(v)).toBe(bytes.length / 2)
    expect(readAll(bytes, false, (r) => r.varint())).toBe(v)
  })

  it.each([
    [0, '00'],
    [63, '7e'],
    [64, '8001'],
    [-1, '01'],
    [2 ** 31 - 1, 'feffffff0f'],
    [-(2 ** 31), 'ffffffff0f'],
    [2 ** 31, '8080808010'],
    [2 ** 52, '8080808080808010'],
    [-(2 ** 52), 'ffffffffffffff0f'],
    [1700000000123, 'f6a1abfef962'],
  ])('zigzag varlong %d', (v, bytes) => {
    expect(hex(false, (w) => w.varlong(v))).toBe(bytes)
    expect(sizeOfVarlong(v)).toBe(bytes.length / 2)
    expect(readAll(bytes, false, (r) => r.varlong())).toBe(v)
    expect(readAll(bytes, false, (r) => r.varlongLong()).toString()).toBe(String(v))
  })

  it.each([
    [Long.MAX_VALUE, 'feffffffffffffffff01'],
    [Long.MIN_VALUE, 'ffffffffffffffffff01'],
    [Long.fromString('-9007199254740993'), '8180808080808020'],
    [Long.fromNumber(-1), '01'],
  ])('full-range varlong %s via Long', (v, bytes) => {
    const buf = Buffer.alloc(10)
    const end = writeVarlongLong(buf, 0, v)
    expect(buf.subarray(0, end).toString('hex')).toBe(bytes)
    expect(sizeOfVarlongLong(v)).toBe(end)
    expect(readAll(bytes, false, (r) => r.varlongLong()).equals(v)).toBe(true)
  })

  it('varlong refuses values a number cannot hold exactly', () => {
    expect(() => reader('feffffffffffffffff01').varlong()).toThrow(KafkaProtocolError)
  })

  it('malformed varints are protocol errors, not hangs or RangeErrors', () => {
    expect(() => reader('ffffffffff01').uvarint()).toThrow(/Malformed varint/) // sixth byte needed
    expect(() => reader('ffffffff1f').uvarint()).toThrow(/Malformed varint/) // above 2^32 - 1
    expect(() => reader('ffffffffffffffffffff01').varlongLong()).toThrow(/Malformed varlong/)
    expect(() => reader('8080').uvarint()).toThrow(KafkaProtocolError) // truncated
    expect(() => reader('80').varlongLong()).toThrow(KafkaProtocolError)
  })
})

describe('strings, bytes and arrays: classic vs compact', () => {
  it.each([
    // value, classic, compact
    ['abc', '0003616263', '04616263'],
    ['', '0000', '01'],
    ['é', '0002c3a9', '03c3a9'],
  ])('string %j', (v, classic, compact) => {
    expect(hex(false, (w) => w.string(v))).toBe(classic)
    expect(hex(true, (w) => w.string(v))).toBe(compact)
    expect(readAll(classic, false, (r) => r.string())).toBe(v)
    expect(readAll(compact, true, (r) => r.string())).toBe(v)
    expect(readAll(classic, false, (r) => r.nullableString())).toBe(v)
    expect(readAll(compact, true, (r) => r.nullableString())).toBe(v)
  })

  it('a 200-byte compact string takes a two-byte length', () => {
    const s = 'x'.repeat(200)
    const bytes = encode(true, (w) => w.string(s))
    expect(bytes.subarray(0, 2).toString('hex')).toBe('c901') // 201
    expect(readAll(bytes.toString('hex'), true, (r) => r.string())).toBe(s)
  })

  it('null strings', () => {
    expect(hex(false, (w) => w.nullableString(null))).toBe('ffff')
    expect(hex(true, (w) => w.nullableString(null))).toBe('00')
    expect(readAll('ffff', false, (r) => r.nullableString())).toBeNull()
    expect(readAll('00', true, (r) => r.nullableString())).toBeNull()
    expect(() => reader('ffff').string()).toThrow(KafkaProtocolError)
    expect(() => reader('00', true).string()).toThrow(KafkaProtocolError)
  })

  it('the header client id stays a classic nullable string when flexible', () => {
    for (const flexible of [false, true]) {
      expect(hex(flexible, (w) => w.int16NullableString('ab'))).toBe('00026162')
      expect(hex(flexible, (w) => w.int16NullableString(null))).toBe('ffff')
      expect(readAll('00026162', flexible, (r) => r.int16NullableString())).toBe('ab')
      expect(readAll('ffff', flexible, (r) => r.int16NullableString())).toBeNull()
    }
  })

  it('bytes and nullable bytes', () => {
    const b = Buffer.from('0102', 'hex')
    expect(hex(false, (w) => w.bytes(b))).toBe('000000020102')
    expect(hex(true, (w) => w.bytes(b))).toBe('030102')
    expect(hex(false, (w) => w.nullableBytes(null))).toBe('ffffffff')
    expect(hex(true, (w) => w.nullableBytes(null))).toBe('00')
    expect(hex(false, (w) => w.bytes(Buffer.alloc(0)))).toBe('00000000')
    expect(hex(true, (w) => w.bytes(Buffer.alloc(0)))).toBe('01')
    expect(readAll('000000020102', false, (r) => r.bytes()).toString('hex')).toBe('0102')
    expect(readAll('030102', true, (r) => r.bytes()).toString('hex')).toBe('0102')
    expect(readAll('ffffffff', false, (r) => r.nullableBytes())).toBeNull()
    expect(readAll('00', true, (r) => r.nullableBytes())).toBeNull()
    expect(() => reader('ffffffff').bytes()).toThrow(KafkaProtocolError)
  })

  it('bytes are views of the frame, not copies', () => {
    const frame = Buffer.from('030102', 'hex')
    const b = new Reader(frame, 0, true).bytes()
    expect(b.buffer).toBe(frame.buffer)
  })

  it('array lengths and nullable arrays', () => {
    expect(hex(false, (w) => w.arrayLength(3))).toBe('00000003')
    expect(hex(true, (w) => w.arrayLength(3))).toBe('04')
    expect(hex(true, (w) => w.arrayLength(0))).toBe('01')
    expect(hex(true, (w) => w.arrayLength(127))).toBe('8001')
    expect(hex(false, (w) => w.nullableArrayLength(null))).toBe('ffffffff')
    expect(hex(true, (w) => w.nullableArrayLength(null))).toBe('00')

    const int32s = (r: Reader) => r.int32()
    expect(readAll('000000020000000100000002', false, (r) => r.array(int32s))).toEqual([1, 2])
    expect(readAll('030000000100000002', true, (r) => r.array(int32s))).toEqual([1, 2])
    expect(readAll('01', true, (r) => r.array(int32s))).toEqual([])
    expect(readAll('ffffffff', false, (r) => r.nullableArray(int32s))).toBeNull()
    expect(readAll('00', true, (r) => r.nullableArray(int32s))).toBeNull()
    expect(() => reader('ffffffff').array(int32s)).toThrow(KafkaProtocolError)
    expect(() => reader('00', true).array(int32s)).toThrow(KafkaProtocolError)
  })

  it('an array length beyond the remaining bytes fails before anything is allocated or read', () => {
    const each = vi.fn((r: Reader) => r.int8())
    const spy = vi.spyOn(globalThis, 'Array')
    try {
      expect(() => reader('7fffffff00').array(each)).toThrow(/Array length 2147483647 exceeds/)
      expect(() => reader('ffffffff0f', true).array(each)).toThrow(/exceeds/)
      expect(spy).not.toHaveBeenCalled()
      // The spy does see the allocation of a well-formed array.
      expect(reader('0000000105').array(each)).toEqual([5])
      expect(spy).toHaveBeenCalledTimes(1)
    } finally {
      spy.mockRestore()
    }
    expect(each).toHaveBeenCalledTimes(1) // only for the well-formed array
  })

  it('string and bytes lengths beyond the input are protocol errors', () => {
    expect(() => reader('7fff61').string()).toThrow(KafkaProtocolError)
    expect(() => reader('7fffffff01').bytes()).toThrow(KafkaProtocolError)
    expect(() => reader('ffffffff0f', true).bytes()).toThrow(KafkaProtocolError)
  })
})

describe('records (zero-copy splice)', () => {
  it('splices the batch as its own segment, with its length in the own buffer', () => {
    const batch = Buffer.from('deadbeef', 'hex')
    for (const flexible of [false, true]) {
      const size = new SizeCounter(flexible)
      const write = (w: ProtocolWriter) => {
        w.int16(7)
        w.records(batch)
        w.int8(1)
      }
      write(size)
      expect(size.splices).toBe(1)
      expect(size.splicedBytes).toBe(4)
      const w = new BufferWriter(Buffer.alloc(size.ownBytes), 0, flexible)
      write(w)
      const segments = w.finish()
      expect(segments).toHaveLength(3)
      expect(segments[1]).toBe(batch)
      expect(Buffer.concat(segments).toString('hex')).toBe(flexible ? '000705deadbeef01' : '000700000004deadbeef01')
    }
  })

  it('null records are a null length, with no splice', () => {
    expect(hex(false, (w) => w.records(null))).toBe('ffffffff')
    expect(hex(true, (w) => w.records(null))).toBe('00')
  })

  it('a batch at the very end leaves no empty trailing segment', () => {
    const batch = Buffer.from('ab', 'hex')
    const size = new SizeCounter(true)
    size.records(batch)
    const w = new BufferWriter(Buffer.alloc(size.ownBytes), 0, true)
    w.records(batch)
    expect(w.finish().map((s) => s.toString('hex'))).toEqual(['02', 'ab'])
  })

  it('finish() refuses a buffer the encoder did not fill exactly', () => {
    const w = new BufferWriter(Buffer.alloc(3), 0, false)
    w.int16(1)
    expect(() => w.finish()).toThrow(/size mismatch/)
  })
})

describe('tagged fields', () => {
  it('writes an empty section only when flexible', () => {
    expect(hex(true, (w) => w.taggedFields())).toBe('00')
    expect(hex(false, (w) => w.taggedFields())).toBe('')
  })

  it('skips unknown tags and hands each one to onTag as a view', () => {
    // 2 fields: tag 0 (3 bytes), tag 200 (1 byte); then an int8 after the section
    const frame = Buffer.from('02' + '00' + '03' + 'aabbcc' + 'c801' + '01' + 'dd' + '7f', 'hex')
    const seen: [number, string][] = []
    const r = new Reader(frame, 0, true)
    r.taggedFields((tag, data) => {
      seen.push([tag, data.toString('hex')])
      expect(data.buffer).toBe(frame.buffer)
    })
    expect(seen).toEqual([
      [0, 'aabbcc'],
      [200, 'dd'],
    ])
    expect(r.int8()).toBe(0x7f)

    const skipping = new Reader(frame, 0, true)
    skipping.taggedFields()
    expect(skipping.int8()).toBe(0x7f)
  })

  it('reads nothing when not flexible', () => {
    const r = reader('02')
    r.taggedFields(() => {
      throw new Error('no tags in classic encodings')
    })
    expect(r.offset).toBe(0)
  })

  it('truncated or oversized tag sections are protocol errors', () => {
    expect(() => reader('010005aabb', true).taggedFields()).toThrow(KafkaProtocolError) // field says 5 bytes, 2 left
    expect(() => reader('ffffffff0f', true).taggedFields()).toThrow(/Tagged field count/)
    expect(() => reader('0100', true).taggedFields()).toThrow(KafkaProtocolError) // size missing
  })
})

describe('uuid', () => {
  const id = '0123456789abcdef0123456789abcdef'
  it('writes a hex string, a dashed string or 16 bytes; reads 32 hex digits', () => {
    const dashed = '01234567-89ab-cdef-0123-456789abcdef'
    for (const v of [id, dashed, Buffer.from(id, 'hex'), id.toUpperCase()]) {
      expect(hex(false, (w) => w.uuid(v))).toBe(id)
    }
    expect(readAll(id, false, (r) => r.uuid())).toBe(id)
    expect(hex(true, (w) => w.uuid('0'.repeat(32)))).toBe('0'.repeat(32)) // the same in flexible versions
  })

  it('refuses malformed uuids when counting, before any buffer exists', () => {
    expect(() => new SizeCounter(false).uuid('xyz')).toThrow(RangeError)
    expect(() => new SizeCounter(false).uuid(Buffer.alloc(15))).toThrow(RangeError)
    expect(() => reader(id.slice(0, 30)).uuid()).toThrow(KafkaProtocolError)
  })
})

describe('truncated input', () => {
  const reads: [string, (r: Reader) => unknown, string][] = [
    ['int8', (r) => r.int8(), ''],
    ['uint8', (r) => r.uint8(), ''],
    ['int16', (r) => r.int16(), '00'],
    ['int32', (r) => r.int32(), '000000'],
    ['uint32', (r) => r.uint32(), '000000'],
    ['int64', (r) => r.int64(), '00000000000000'],
    ['int64Number', (r) => r.int64Number(), '00000000000000'],
    ['boolean', (r) => r.boolean(), ''],
    ['float64', (r) => r.float64(), '00000000000000'],
    ['uvarint', (r) => r.uvarint(), '80'],
    ['varint', (r) => r.varint(), 'ff'],
    ['varlong', (r) => r.varlong(), '8080'],
    ['uuid', (r) => r.uuid(), '00'.repeat(15)],
    ['classic string', (r) => r.string(), '000361'],
    ['classic string length', (r) => r.string(), '00'],
    ['classic bytes', (r) => r.bytes(), '00000002aa'],
    ['int16NullableString', (r) => r.int16NullableString(), '0002'],
    ['classic array length', (r) => r.array((x) => x.int8()), '000000'],
    ['array elements', (r) => r.array((x) => x.int32()), '00000001000000'],
    ['skip', (r) => r.skip(2), '00'],
  ]
  it.each(reads)('%s throws KafkaProtocolError', (_name, read, h) => {
    expect(() => read(reader(h))).toThrow(KafkaProtocolError)
  })

  it.each([
    ['compact string', (r: Reader) => r.string(), '0461'],
    ['compact bytes', (r: Reader) => r.bytes(), '03aa'],
    ['compact array', (r: Reader) => r.array((x) => x.int16()), '0300'],
  ])('%s throws KafkaProtocolError', (_name, read, h) => {
    expect(() => read(reader(h, true))).toThrow(KafkaProtocolError)
  })
})

describe('SizeCounter agrees with BufferWriter', () => {
  it('for a mix of every primitive in both encodings', () => {
    for (const flexible of [false, true]) {
      const bytes = encode(flexible, (w) => {
        w.int8(-1)
        w.int16(2)
        w.int32(3)
        w.uint32(4)
        w.int64(5)
        w.int64(-6n)
        w.boolean(true)
        w.float64(0.5)
        w.uvarint(300)
        w.varint(-300)
        w.varlong(2 ** 40)
        w.uuid('f'.repeat(32))
        w.string('ünï')
        w.nullableString(null)
        w.nullableString('x')
        w.int16NullableString('cid')
        w.bytes(Buffer.from('00ff', 'hex'))
        w.nullableBytes(null)
        w.records(Buffer.alloc(200, 1))
        w.records(null)
        w.arrayLength(500)
        w.nullableArrayLength(null)
        w.taggedFields()
      })
      const r = new Reader(bytes, 0, flexible)
      expect([r.int8(), r.int16(), r.int32(), r.uint32(), r.int64Number(), r.int64(), r.boolean(), r.float64()]).toEqual([
        -1, 2, 3, 4, 5, -6n, true, 0.5,
      ])
      expect([r.uvarint(), r.varint(), r.varlong(), r.uuid()]).toEqual([300, -300, 2 ** 40, 'f'.repeat(32)])
      expect([r.string(), r.nullableString(), r.nullableString(), r.int16NullableString()]).toEqual(['ünï', null, 'x', 'cid'])
      expect(r.bytes().toString('hex')).toBe('00ff')
      expect(r.nullableBytes()).toBeNull()
      expect(r.bytes().equals(Buffer.alloc(200, 1))).toBe(true)
      expect(r.nullableBytes()).toBeNull()
      // The array headers, read raw since no elements follow.
      if (flexible) expect([r.uvarint(), r.uvarint()]).toEqual([501, 0])
      else expect([r.int32(), r.int32()]).toEqual([500, -1])
      r.taggedFields()
      expect(r.remaining).toBe(0)
    }
  })
})
