import CRC32C from 'crc-32/crc32c.js'
import { describe, expect, it } from 'vitest'
import { KafkaProtocolError } from '../../src/errors.js'
import { ProducerBatch } from '../../src/producer/producer-batch.js'
import {
  CRC_OFFSET,
  RECORD_BATCH_OVERHEAD,
  type RecordData,
  type HeaderPairs,
  byteLengthOf,
  rewriteProducerState,
  sizeOfRecord,
  writeRecord,
} from '../../src/protocol/record-batch.js'
import { decodeRecordBatches } from '../harness/record-batch-decoder.js'
import { crc32cBitwise } from '../harness/crc32c-reference.js'


const noop = () => {}

function batchOf(records: [number, RecordData, RecordData, HeaderPairs][]): Buffer {
  let size = RECORD_BATCH_OVERHEAD
  const base = records[0]![0]
  records.forEach(([ts, k, v, h], i) => (size += sizeOfRecord(i, ts - base, k, v, h)))
  const b = new ProducerBatch('t', 0, Buffer.alloc(size), 0)
  for (const [ts, k, v, h] of records) expect(b.tryAppend(ts, k, v, h, noop, null, 0)).toBeGreaterThanOrEqual(0)
  expect(b.estimatedSizeInBytes).toBe(size)
  return b.close()
}

describe('CRC-32C', () => {
  it('matches the check value 0xE3069283 for "123456789"', () => {
    expect(CRC32C.buf(Buffer.from('123456789')) >>> 0).toBe(0xe3069283)
    expect(crc32cBitwise(Buffer.from('123456789'))).toBe(0xe3069283)
  })
})

describe('RecordBatch v2 encoding', () => {
  // Two records: [null key, value "v1", headers h=a, h=b (repeated key), n=null] at T,
  // then [key "k", value "ok" given as a string, no headers] at T+5.
  const T = 1700000000000 // 0x0000018BCFE56800
  const golden = Buffer.from(
    [
      '0000000000000000', // baseOffset 0
      '0000004f', // batchLength 79 = 91 - 12
      'ffffffff', // partitionLeaderEpoch -1
      '02', // magic 2
      '7c0195bc', // crc32c over [21, 91)
      '0000', // attributes: no compression, CreateTime, not transactional
      '00000001', // lastOffsetDelta 1
      '0000018bcfe56800', // baseTimestamp T
      '0000018bcfe56805', // maxTimestamp T+5
      'ffffffffffffffff', // producerId -1
      'ffff', // producerEpoch -1
      'ffffffff', // baseSequence -1
      '00000002', // records count 2
      // record 0
      '26', // length 19 (zigzag 38)
      '00', // attributes
      '00', // timestampDelta 0
      '00', // offsetDelta 0
      '01', // key length -1: null
      '04', '7631', // value length 2, "v1"
      '06', // 3 headers
      '02', '68', '02', '61', // "h" = "a"
      '02', '68', '02', '62', // "h" = "b"
      '02', '6e', '01', // "n" = null
      // record 1
      '12', // length 9 (zigzag 18)
      '00', // attributes
      '0a', // timestampDelta 5 (zigzag 10)
      '02', // offsetDelta 1 (zigzag 2)
      '02', '6b', // key "k"
      '04', '6f6b', // value "ok"
      '00', // 0 headers
    ].join(''),
    'hex',
  )

  it('encodes the golden batch byte for byte', () => {
    const bytes = batchOf([
      [T, null, Buffer.from('v1'), [['h', 'a'], ['h', Buffer.from('b')], ['n', null]]],
      [T + 5, 'k', 'ok', undefined],
    ])
    expect(bytes.toString('hex')).toBe(golden.toString('hex'))
  })

  it('stores a CRC-32C of [attributes, end) that an independent CRC agrees with', () => {
    expect(golden.readUInt32BE(CRC_OFFSET)).toBe(crc32cBitwise(golden.subarray(21)))
  })

  it('round-trips the golden batch through the decoder', () => {
    const [b, ...rest] = decodeRecordBatches(golden)
    expect(rest).toHaveLength(0)
    expect(b!.baseOffset).toBe(0n)
    expect(b!.batchLength).toBe(79)
    expect(b!.partitionLeaderEpoch).toBe(-1)
    expect(b!.magic).toBe(2)
    expect(b!.attributes).toBe(0)
    expect(b!.lastOffsetDelta).toBe(1)
    expect(b!.baseTimestamp).toBe(T)
    expect(b!.maxTimestamp).toBe(T + 5)
    expect(b!.producerId).toBe(-1n)
    expect(b!.producerEpoch).toBe(-1)
    expect(b!.baseSequence).toBe(-1)
    expect(b!.recordCount).toBe(2)
    const [r0, r1] = b!.records
    expect(r0!.key).toBeNull()
    expect(r0!.value!.toString()).toBe('v1')
    expect(r0!.headers.map(([k, v]) => [k, v === null ? null : v.toString()])).toEqual([
      ['h', 'a'],
      ['h', 'b'],
      ['n', null],
    ])
    expect(r0!.timestamp).toBe(T)
    expect(r1!.key!.toString()).toBe('k')
    expect(r1!.value!.toString()).toBe('ok')
    expect(r1!.headers).toEqual([])
    expect(r1!.offset).toBe(1n)
    expect(r1!.timestamp).toBe(T + 5)
  })

  it('detects a corrupted byte through the CRC', () => {
    const bad = Buffer.from(golden)
    bad[bad.length - 3]! ^= 1
    expect(() => decodeRecordBatches(bad)).toThrow(KafkaProtocolError)
  })

  it('decodes several concatenated batches', () => {
    const a = batchOf([[1, 'a', 'x', undefined]])
    const b = batchOf([[2, 'b', 'y', undefined], [3, 'c', 'z', undefined]])
    const all = decodeRecordBatches(Buffer.concat([a, b]))
    expect(all.map((x) => x.recordCount)).toEqual([1, 2])
  })

  it('encodes values of 0 B, 1 B and 900 KiB, and null values', () => {
    const big = Buffer.alloc(900 * 1024)
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff
    const bytes = batchOf([
      [10, 'empty', Buffer.alloc(0), undefined],
      [11, 'one', Buffer.from([0xab]), undefined],
      [12, 'big', big, undefined],
      [13, 'tombstone', null, undefined],
      [14, '', '', [['', '']]],
    ])
    const [b] = decodeRecordBatches(bytes)
    const values = b!.records.map((r) => r.value)
    expect(values[0]!.length).toBe(0)
    expect([...values[1]!]).toEqual([0xab])
    expect(values[2]!.equals(big)).toBe(true)
    expect(values[3]).toBeNull()
    expect(b!.records[4]!.key!.length).toBe(0)
    expect(b!.records[4]!.headers).toEqual([['', Buffer.alloc(0)]])
  })

  it('writes multi-byte UTF-8 strings for keys, values and header values', () => {
    const key = 'clé-😀'
    const value = 'héllo wörld 日本語 🎉'.repeat(20)
    const hv = 'ünïcödé'
    expect(byteLengthOf(value)).toBe(Buffer.byteLength(value))
    expect(byteLengthOf(value)).toBeGreaterThan(value.length)
    const bytes = batchOf([[5, key, value, [['ключ', hv]]]])
    const [b] = decodeRecordBatches(bytes)
    const r = b!.records[0]!
    expect(r.key!.toString('utf8')).toBe(key)
    expect(r.value!.toString('utf8')).toBe(value)
    expect(r.headers[0]![0]).toBe('ключ')
    expect(r.headers[0]![1]!.toString('utf8')).toBe(hv)
  })

  it('sizeOfRecord is exact across varint boundaries and negative deltas', () => {
    const lengths = [0, 1, 63, 64, 65, 8191, 8192, 8193, 70000]
    const deltas = [0, 1, -1, 63, 64, -64, -65, 1 << 20, -(2 ** 40), 2 ** 45]
    const buf = Buffer.alloc(200000)
    for (const n of lengths) {
      for (const d of deltas) {
        const cases: [RecordData, RecordData, HeaderPairs][] = [
          [null, Buffer.alloc(n, 1), undefined],
          ['x'.repeat(n), null, []],
          [Buffer.alloc(n, 2), 'é'.repeat(n >> 1), [['k'.repeat(n >> 4), 'v'], ['k', null], ['k', Buffer.alloc(n >> 3)]]],
        ]
        for (const [k, v, h] of cases) {
          const offsetDelta = Math.abs(d) % 100000
          const expected = sizeOfRecord(offsetDelta, d, k, v, h)
          expect(writeRecord(buf, 7, offsetDelta, d, k, v, h) - 7).toBe(expected)
        }
      }
    }
  })

  it('rewrites producer state and CRC in place', () => {
    const bytes = Buffer.from(golden)
    rewriteProducerState(bytes, 4242n, 3, 17, true)
    const [b] = decodeRecordBatches(bytes)
    expect(b!.producerId).toBe(4242n)
    expect(b!.producerEpoch).toBe(3)
    expect(b!.baseSequence).toBe(17)
    expect(b!.isTransactional).toBe(true)
    expect(b!.records).toHaveLength(2)
    rewriteProducerState(bytes, -1n, -1, -1, false)
    expect(bytes.equals(golden)).toBe(true)
  })
})

describe('ProducerBatch encoding', () => {
  it('refuses a record that does not fit without writing any of it', () => {
    const buf = Buffer.alloc(RECORD_BATCH_OVERHEAD + 40, 0xee)
    const b = new ProducerBatch('t', 0, buf, 0)
    expect(b.tryAppend(1, 'k', Buffer.alloc(20), undefined, noop, null, 0)).toBe(0)
    const size = b.estimatedSizeInBytes
    const snapshot = Buffer.from(buf)
    expect(b.tryAppend(2, 'k', Buffer.alloc(20), undefined, noop, null, 0)).toBe(-1)
    expect(buf.equals(snapshot)).toBe(true)
    expect(b.estimatedSizeInBytes).toBe(size)
    expect(b.recordCount).toBe(1)
    // A record that fits exactly still goes in, and then the batch is full.
    const room = buf.length - size
    const fits = Buffer.alloc(room - sizeOfRecord(1, 0, null, Buffer.alloc(0), undefined))
    expect(sizeOfRecord(1, 0, null, fits, undefined)).toBe(room)
    expect(b.tryAppend(1, null, fits, undefined, noop, null, 0)).toBe(1)
    expect(b.isFull).toBe(true)
    expect(b.close().length).toBe(buf.length)
  })

  it('close() returns a view of the pooled buffer, not a copy, and is idempotent', () => {
    const buf = Buffer.alloc(500)
    const b = new ProducerBatch('t', 0, buf, 0)
    b.tryAppend(1, 'a', 'b', undefined, noop, null, 0)
    const v = b.close()
    expect(v.buffer).toBe(buf.buffer)
    expect(v.byteOffset).toBe(buf.byteOffset)
    expect(b.close()).toBe(v)
    expect(b.tryAppend(2, 'a', 'b', undefined, noop, null, 0)).toBe(-1)
    b.setProducerState(9n, 1, 100, false)
    expect(b.close()).toBe(v)
    const [d] = decodeRecordBatches(v)
    expect(d!.producerId).toBe(9n)
    expect(d!.baseSequence).toBe(100)
  })

  it('rewrites the header of a closed batch only when it is sent again, in Kafka\'s layout with a correct CRC-32C', () => {
    const b = new ProducerBatch('t', 0, Buffer.alloc(500), 0)
    b.tryAppend(1, 'a', 'b', undefined, noop, null, 0)
    b.tryAppend(2, null, 'c', [['h', 'v']], noop, null, 0)
    b.setProducerState(5n, 0, 10, false)
    const v = b.close()
    const sent = Buffer.from(v)
    // An epoch bump while the first attempt may still be in a socket write: the bytes must not change yet.
    b.setProducerState(5n, 1, 0, false)
    expect(v.equals(sent)).toBe(true)
    expect(b.records()).toBe(v)
    // Read back by the documented RecordBatch v2 offsets, checked with the bitwise CRC definition,
    // so neither our decoder nor our CRC code judges our own bytes.
    expect(v.readBigInt64BE(43)).toBe(5n) // producerId
    expect(v.readInt16BE(51)).toBe(1) // producerEpoch
    expect(v.readInt32BE(53)).toBe(0) // baseSequence
    expect(v.readInt32BE(57)).toBe(2) // records count
    expect(v.readUInt32BE(17)).toBe(crc32cBitwise(v.subarray(21)))
    expect(v.subarray(61).equals(sent.subarray(61))).toBe(true) // records untouched
  })

  it('writes producer state set before close', () => {
    const b = new ProducerBatch('t', 0, Buffer.alloc(500), 0)
    b.tryAppend(1, 'a', 'b', undefined, noop, null, 0)
    b.setProducerState(77n, 2, 5, true)
    const [d] = decodeRecordBatches(b.close())
    expect([d!.producerId, d!.producerEpoch, d!.baseSequence, d!.isTransactional]).toEqual([77n, 2, 5, true])
  })

  it('tracks maxTimestamp when timestamps go backwards', () => {
    const b = new ProducerBatch('t', 0, Buffer.alloc(500), 0)
    b.tryAppend(1000, null, 'a', undefined, noop, null, 0)
    b.tryAppend(5000, null, 'b', undefined, noop, null, 0)
    b.tryAppend(10, null, 'c', undefined, noop, null, 0)
    const [d] = decodeRecordBatches(b.close())
    expect(d!.baseTimestamp).toBe(1000)
    expect(d!.maxTimestamp).toBe(5000)
    expect(d!.records.map((r) => r.timestamp)).toEqual([1000, 5000, 10])
  })
})
