// Imported, not the global: Node's global `Buffer` is a lazy getter that runs on every use (bench/micro/FINDINGS.md).
import { Buffer } from 'node:buffer'
import { KafkaProtocolError } from '../errors.js'
import { crc32c, crc32cCombine } from './crc32c.js'
import { Reader } from './reader.js'
import { sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from './varint.js'
import { writeInt64Number } from './writer.js'

/**
 * RecordBatch v2 (magic 2): the only message format this producer writes.
 *
 * Batch layout (offsets are fixed, so the header is reserved up front and
 * backpatched when the batch closes):
 *
 *   0  baseOffset            int64   0 from a producer; the broker assigns it
 *   8  batchLength           int32   bytes after this field (= size - 12)
 *  12  partitionLeaderEpoch  int32   -1 from a producer
 *  16  magic                 int8    2
 *  17  crc                   uint32  CRC-32C of bytes [21, end)
 *  21  attributes            int16   bits 0-2 compression, 3 timestamp type,
 *                                    4 transactional, 5 control, 6 delete horizon
 *  23  lastOffsetDelta       int32
 *  27  baseTimestamp         int64
 *  35  maxTimestamp          int64
 *  43  producerId            int64
 *  51  producerEpoch         int16
 *  53  baseSequence          int32
 *  57  recordsCount          int32
 *  61  records...
 *
 * Record layout (all lengths are zigzag varints, -1 for null):
 *
 *   length varint (of what follows) | attributes int8 (0) |
 *   timestampDelta varlong | offsetDelta varint |
 *   keyLength varint | key | valueLength varint | value |
 *   headerCount varint | [keyLength varint | key utf8 | valueLength varint | value]*
 *
 * Keys, values and header values may be given as strings: they are sized and
 * written straight into the batch (see `utf8Length` / `writeUtf8`), so no
 * temporary Buffer is made per record. Sizing and writing run over the same
 * inputs, so `sizeOfRecord` is exact (tests pin this).
 */

export const MAGIC_V2 = 2

export const BASE_OFFSET_OFFSET = 0
export const LENGTH_OFFSET = 8
export const PARTITION_LEADER_EPOCH_OFFSET = 12
export const MAGIC_OFFSET = 16
export const CRC_OFFSET = 17
export const ATTRIBUTES_OFFSET = 21
export const LAST_OFFSET_DELTA_OFFSET = 23
export const BASE_TIMESTAMP_OFFSET = 27
export const MAX_TIMESTAMP_OFFSET = 35
export const PRODUCER_ID_OFFSET = 43
export const PRODUCER_EPOCH_OFFSET = 51
export const BASE_SEQUENCE_OFFSET = 53
export const RECORDS_COUNT_OFFSET = 57
/** Size of the batch header; the first record starts here. */
export const RECORD_BATCH_OVERHEAD = 61
/** baseOffset + batchLength: the part not counted by batchLength. */
export const LOG_OVERHEAD = 12

export const COMPRESSION_CODEC_MASK = 0x07
export const TIMESTAMP_TYPE_LOG_APPEND_TIME = 0x08
export const TRANSACTIONAL_FLAG = 0x10
export const CONTROL_FLAG = 0x20

/** Sequence numbers live in [0, 2^31) and wrap from Integer.MAX_VALUE to 0. */
export const SEQUENCE_MODULUS = 2147483648

/** A sequence `increment` records after `sequence`, wrapped as Java's `DefaultRecordBatch.incrementSequence`. */
export function incrementSequence(sequence: number, increment: number): number {
  return (sequence + increment) % SEQUENCE_MODULUS
}

export const NO_PRODUCER_ID = -1n
export const NO_PRODUCER_EPOCH = -1
export const NO_SEQUENCE = -1
export const NO_PARTITION_LEADER_EPOCH = -1
export const NO_TIMESTAMP = -1

/** A key or value: bytes, a string written as UTF-8, or null. */
export type RecordData = Buffer | string | null
export type RecordHeaderValue = Buffer | string | null
/** One header; repeated keys are allowed and kept in order. */
export type RecordHeader = readonly [key: string, value: RecordHeaderValue]
/** Headers as the producer normalises them; undefined/null/empty mean none. */
export type HeaderPairs = readonly RecordHeader[] | null | undefined

/**
 * Strings up to this many UTF-16 units are measured and (when ASCII) written
 * by a JS loop: below it, a loop beats the native `Buffer.byteLength` /
 * `buf.write` calls, whose fixed cost (~12 ns / ~45 ns) dominates for the
 * short strings headers are made of (bench/micro: "tryAppend ... +2 headers").
 */
const SHORT_STRING = 32

/** UTF-8 length of `s`, as `Buffer.byteLength(s, 'utf8')` (lone surrogates count 3, as U+FFFD). */
export function utf8Length(s: string): number {
  const n = s.length
  if (n > SHORT_STRING) return Buffer.byteLength(s, 'utf8')
  let bytes = n
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) continue
    if (c < 0x800) {
      bytes += 1
    } else if ((c & 0xfc00) === 0xd800 && i + 1 < n && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2 // a surrogate pair: 4 bytes for its 2 units
      i++
    } else {
      bytes += 2 // the rest of the BMP, and lone surrogates (written as U+FFFD): 3 bytes
    }
  }
  return bytes
}

/**
 * Writes `s` as UTF-8 at `offset`; `byteLength` is `utf8Length(s)`, which
 * equals `s.length` exactly when `s` is ASCII. Returns the offset after it.
 */
function writeUtf8(buf: Buffer, offset: number, s: string, byteLength: number): number {
  const n = s.length
  if (byteLength === n && n <= SHORT_STRING) {
    for (let i = 0; i < n; i++) buf[offset + i] = s.charCodeAt(i)
  } else {
    // No length argument: it sends Node down a slower path (~80 ns instead of ~50 for 100 chars). The
    // batch was sized for the string, so it is written whole.
    buf.write(s, offset)
  }
  return offset + byteLength
}

/** Encoded length of a key or value: -1 for null, UTF-8 bytes for a string. */
export function byteLengthOf(v: RecordData): number {
  if (v === null) return -1
  return typeof v === 'string' ? utf8Length(v) : v.length
}

/** Bytes the header section takes, count varint included. */
export function sizeOfHeaders(headers: HeaderPairs): number {
  if (headers == null) return 1
  const n = headers.length
  let size = sizeOfVarint(n)
  for (let i = 0; i < n; i++) {
    const h = headers[i]!
    const kLen = utf8Length(h[0])
    size += sizeOfVarint(kLen) + kLen
    const vLen = byteLengthOf(h[1])
    size += vLen < 0 ? 1 : sizeOfVarint(vLen) + vLen
  }
  return size
}

/**
 * Size of a record WITHOUT its leading length varint, from pre-measured
 * key/value lengths (-1 for null). The caller measures once and passes the
 * same lengths to {@link writeMeasuredRecord}, so strings are scanned once for size.
 */
export function sizeOfRecordBody(
  offsetDelta: number,
  timestampDelta: number,
  keyLength: number,
  valueLength: number,
  headers: HeaderPairs,
): number {
  return sizeOfRecordBodyWithHeaderBytes(offsetDelta, timestampDelta, keyLength, valueLength, sizeOfHeaders(headers))
}

/**
 * {@link sizeOfRecordBody} with the header section's encoded size given
 * (count varint included), as when re-encoding a record read back from a batch.
 */
export function sizeOfRecordBodyWithHeaderBytes(
  offsetDelta: number,
  timestampDelta: number,
  keyLength: number,
  valueLength: number,
  headersSize: number,
): number {
  return (
    1 +
    sizeOfVarlong(timestampDelta) +
    sizeOfVarint(offsetDelta) +
    (keyLength < 0 ? 1 : sizeOfVarint(keyLength) + keyLength) +
    (valueLength < 0 ? 1 : sizeOfVarint(valueLength) + valueLength) +
    headersSize
  )
}

/** Exact encoded size of one record, length varint included. */
export function sizeOfRecord(
  offsetDelta: number,
  timestampDelta: number,
  key: RecordData,
  value: RecordData,
  headers: HeaderPairs,
): number {
  const body = sizeOfRecordBody(offsetDelta, timestampDelta, byteLengthOf(key), byteLengthOf(value), headers)
  return sizeOfVarint(body) + body
}

function writeData(buf: Buffer, offset: number, v: RecordData, length: number): number {
  if (v === null) return writeVarint(buf, offset, -1)
  offset = writeVarint(buf, offset, length)
  if (length === 0) return offset
  if (typeof v === 'string') return writeUtf8(buf, offset, v, length)
  buf.set(v, offset)
  return offset + length
}

function writeHeaders(buf: Buffer, offset: number, headers: HeaderPairs): number {
  if (headers == null) {
    buf[offset] = 0
    return offset + 1
  }
  const n = headers.length
  offset = writeVarint(buf, offset, n)
  for (let i = 0; i < n; i++) {
    const h = headers[i]!
    offset = writeData(buf, offset, h[0], utf8Length(h[0]))
    offset = writeData(buf, offset, h[1], byteLengthOf(h[1]))
  }
  return offset
}

/**
 * Writes one record at `offset`, given `bodySize` from {@link sizeOfRecordBody}
 * over the same inputs. Precondition: the buffer has
 * `sizeOfVarint(bodySize) + bodySize` bytes free at `offset`; nothing checks
 * it here, the caller sized first. Returns the offset after the record.
 */
export function writeMeasuredRecord(
  buf: Buffer,
  offset: number,
  bodySize: number,
  offsetDelta: number,
  timestampDelta: number,
  key: RecordData,
  keyLength: number,
  value: RecordData,
  valueLength: number,
  headers: HeaderPairs,
): number {
  offset = writeRecordFields(buf, offset, bodySize, offsetDelta, timestampDelta, key, keyLength, value, valueLength)
  return writeHeaders(buf, offset, headers)
}

/** Everything of a record up to its header section: length, attributes, deltas, key, value. */
function writeRecordFields(
  buf: Buffer,
  offset: number,
  bodySize: number,
  offsetDelta: number,
  timestampDelta: number,
  key: RecordData,
  keyLength: number,
  value: RecordData,
  valueLength: number,
): number {
  offset = writeVarint(buf, offset, bodySize)
  buf[offset++] = 0 // record attributes: unused in v2
  offset = writeVarlong(buf, offset, timestampDelta)
  offset = writeVarint(buf, offset, offsetDelta)
  offset = writeData(buf, offset, key, keyLength)
  return writeData(buf, offset, value, valueLength)
}

/**
 * Writes one record whose header section is already encoded (`headers` is the
 * raw section, count varint included, e.g. a {@link RecordView}'s), given
 * `bodySize` from {@link sizeOfRecordBodyWithHeaderBytes}. Same precondition
 * as {@link writeMeasuredRecord}. Returns the offset after the record.
 */
export function writeMeasuredRecordWithHeaderBytes(
  buf: Buffer,
  offset: number,
  bodySize: number,
  offsetDelta: number,
  timestampDelta: number,
  key: Buffer | null,
  value: Buffer | null,
  headers: Buffer,
): number {
  offset = writeRecordFields(buf, offset, bodySize, offsetDelta, timestampDelta, key, key === null ? -1 : key.length, value, value === null ? -1 : value.length)
  buf.set(headers, offset)
  return offset + headers.length
}

/** Convenience form of {@link writeMeasuredRecord} that measures for itself. */
export function writeRecord(
  buf: Buffer,
  offset: number,
  offsetDelta: number,
  timestampDelta: number,
  key: RecordData,
  value: RecordData,
  headers: HeaderPairs,
): number {
  const keyLength = byteLengthOf(key)
  const valueLength = byteLengthOf(value)
  const body = sizeOfRecordBody(offsetDelta, timestampDelta, keyLength, valueLength, headers)
  return writeMeasuredRecord(buf, offset, body, offsetDelta, timestampDelta, key, keyLength, value, valueLength, headers)
}

/** CRC-32C of a whole batch's bytes from `attributes` to the end. */
export function computeBatchCrc(batch: Buffer): number {
  return crc32c(batch, ATTRIBUTES_OFFSET, batch.length)
}

/** Recomputes and stores the CRC of a batch whose other fields are final. */
export function writeBatchCrc(batch: Buffer): void {
  batch.writeUInt32BE(computeBatchCrc(batch), CRC_OFFSET)
}

/**
 * Fills the reserved 61-byte header of `batch`, a view whose length is exactly
 * the batch size (header + records already written), then the CRC last,
 * since it covers the other header fields from `attributes` on.
 *
 * `recordsCrc`, when given (not -1), is `crc32c` of the records region
 * `[RECORD_BATCH_OVERHEAD, end)`, taken earlier while those bytes were still
 * in the CPU caches: only the 40 header bytes are then checksummed here, and
 * the two CRCs combined.
 */
export function writeRecordBatchHeader(
  batch: Buffer,
  attributes: number,
  lastOffsetDelta: number,
  baseTimestamp: number,
  maxTimestamp: number,
  producerId: bigint,
  producerEpoch: number,
  baseSequence: number,
  recordCount: number,
  recordsCrc = -1,
): void {
  writeInt64Number(batch, BASE_OFFSET_OFFSET, 0)
  batch.writeInt32BE(batch.length - LOG_OVERHEAD, LENGTH_OFFSET)
  batch.writeInt32BE(NO_PARTITION_LEADER_EPOCH, PARTITION_LEADER_EPOCH_OFFSET)
  batch[MAGIC_OFFSET] = MAGIC_V2
  batch.writeInt16BE(attributes, ATTRIBUTES_OFFSET)
  batch.writeInt32BE(lastOffsetDelta, LAST_OFFSET_DELTA_OFFSET)
  writeInt64Number(batch, BASE_TIMESTAMP_OFFSET, baseTimestamp)
  writeInt64Number(batch, MAX_TIMESTAMP_OFFSET, maxTimestamp)
  batch.writeBigInt64BE(producerId, PRODUCER_ID_OFFSET)
  batch.writeInt16BE(producerEpoch, PRODUCER_EPOCH_OFFSET)
  batch.writeInt32BE(baseSequence, BASE_SEQUENCE_OFFSET)
  batch.writeInt32BE(recordCount, RECORDS_COUNT_OFFSET)
  if (recordsCrc < 0) {
    writeBatchCrc(batch)
    return
  }
  const headerCrc = crc32c(batch, ATTRIBUTES_OFFSET, RECORD_BATCH_OVERHEAD)
  batch.writeUInt32BE(crc32cCombine(headerCrc, recordsCrc, batch.length - RECORD_BATCH_OVERHEAD), CRC_OFFSET)
}

/**
 * Rewrites the idempotence fields (and the transactional attribute bit) of an
 * already-closed batch in place, then its CRC. Used when a batch is retried
 * or split under a new producer id/epoch/sequence; the records are untouched.
 */
export function rewriteProducerState(
  batch: Buffer,
  producerId: bigint,
  producerEpoch: number,
  baseSequence: number,
  isTransactional: boolean,
): void {
  const attrs = batch.readInt16BE(ATTRIBUTES_OFFSET)
  batch.writeInt16BE(isTransactional ? attrs | TRANSACTIONAL_FLAG : attrs & ~TRANSACTIONAL_FLAG, ATTRIBUTES_OFFSET)
  batch.writeBigInt64BE(producerId, PRODUCER_ID_OFFSET)
  batch.writeInt16BE(producerEpoch, PRODUCER_EPOCH_OFFSET)
  batch.writeInt32BE(baseSequence, BASE_SEQUENCE_OFFSET)
  writeBatchCrc(batch)
}

// ---------------------------------------------------------------------------
// Reading records back in place (timestamps at completion, batch splitting)
// ---------------------------------------------------------------------------

/**
 * Walks the records of a batch this producer encoded, in order, reading each
 * one's timestampDelta where it was written, so a batch needs no per-record
 * timestamp of its own to report them. Trusts its input (our own bytes, whole
 * records): no bounds checks. Exact for |timestampDelta| < 2^52, the range
 * `writeVarlong` encodes exactly.
 */
export class RecordTimestampCursor {
  private pos: number

  constructor(
    private readonly buf: Buffer,
    firstRecordOffset = RECORD_BATCH_OVERHEAD,
  ) {
    this.pos = firstRecordOffset
  }

  /** The next record's timestampDelta; moves past that record. */
  next(): number {
    const buf = this.buf
    let p = this.pos
    // length varint (zigzag int32, the body size)
    let b = buf[p++]!
    let u = b & 0x7f
    for (let shift = 7; b >= 0x80; shift += 7) {
      b = buf[p++]!
      u += (b & 0x7f) * 2 ** shift
    }
    const bodyEnd = p + u / 2 // a length is never negative: its zigzag is 2 * length
    p++ // attributes
    // timestampDelta varlong (zigzag)
    b = buf[p++]!
    u = b & 0x7f
    for (let shift = 7; b >= 0x80; shift += 7) {
      b = buf[p++]!
      u += (b & 0x7f) * 2 ** shift
    }
    this.pos = bodyEnd
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2
  }
}

/**
 * One record of an encoded batch, read in place: `key`, `value` and `headers`
 * are views of the batch's buffer, valid only while that buffer is.
 */
export interface RecordView {
  timestampDelta: number
  offsetDelta: number
  key: Buffer | null
  value: Buffer | null
  /** The encoded header section as is: count varint, then the headers. */
  headers: Buffer
}

/**
 * Reads the record starting at `offset` of `records` (a buffer that ends
 * where the records region ends) into `out`, copying nothing. Returns the
 * offset just after the record. Throws KafkaProtocolError if the bytes are
 * not one well-formed record lying wholly inside `records`.
 */
export function readRecordView(records: Buffer, offset: number, out: RecordView): number {
  const r = new Reader(records, offset)
  const bodySize = r.varint()
  const bodyStart = r.offset
  if (bodySize < 0 || bodySize > r.remaining) {
    throw new KafkaProtocolError(`Record at ${offset} declares ${bodySize} bytes, ${r.remaining} left`)
  }
  const end = bodyStart + bodySize
  r.int8() // attributes: unused in v2
  out.timestampDelta = r.varlong()
  out.offsetDelta = r.varint()
  out.key = readVarBytes(r)
  out.value = readVarBytes(r)
  if (r.offset >= end) throw new KafkaProtocolError(`Record at ${offset} has no header count`)
  out.headers = records.subarray(r.offset, end)
  return end
}

export function readVarBytes(r: Reader): Buffer | null {
  const n = r.varint()
  if (n < 0) return null
  if (n > r.remaining) throw new KafkaProtocolError(`Length ${n} exceeds the ${r.remaining} bytes left at ${r.offset}`)
  const b = r.buf.subarray(r.offset, r.offset + n)
  r.offset += n
  return b
}
