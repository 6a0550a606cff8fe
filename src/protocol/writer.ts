// Imported, not the global: Node's global `Buffer` is a lazy getter that runs on every use (bench/micro/FINDINGS.md).
import { Buffer } from 'node:buffer'
import { sizeOfUvarint, sizeOfVarint, sizeOfVarlong, writeUvarint, writeVarlong } from './varint.js'

/**
 * The one interface every request encoder writes through. It is implemented
 * twice: {@link SizeCounter} only adds up bytes, {@link BufferWriter} fills a
 * buffer allocated from that exact count. Running the same `write` function
 * over both means the size computation can never disagree with the encoding.
 *
 * `flexible` decides, once, whether strings, bytes and arrays use the compact
 * (uvarint length + 1) forms of KIP-482 and whether `taggedFields()` writes
 * anything. API modules never branch on it themselves.
 *
 * `records()` does not copy: it records a splice point, and the batch buffer is
 * sent as its own segment between views of the header buffer.
 */
export interface ProtocolWriter {
  readonly flexible: boolean
  int8(v: number): void
  int16(v: number): void
  int32(v: number): void
  uint32(v: number): void
  /** Exact for |v| < 2^53 when given a number; any int64 when given a bigint. */
  int64(v: number | bigint): void
  boolean(v: boolean): void
  float64(v: number): void
  uvarint(v: number): void
  varint(v: number): void
  varlong(v: number): void
  /** 16 bytes; a 32-hex-digit string or a 16-byte Buffer. */
  uuid(v: Buffer | string): void
  /** STRING or COMPACT_STRING by flexibility. */
  string(v: string): void
  /** NULLABLE_STRING or COMPACT_NULLABLE_STRING by flexibility. */
  nullableString(v: string | null): void
  /** A non-compact NULLABLE_STRING whatever the flexibility (request header's client_id). */
  int16NullableString(v: string | null): void
  bytes(v: Buffer): void
  nullableBytes(v: Buffer | null): void
  /** RECORDS: nullable bytes whose content is spliced in, never copied. */
  records(v: Buffer | null): void
  arrayLength(n: number): void
  nullableArrayLength(n: number | null): void
  /** Writes an empty tagged-field section when flexible; nothing otherwise. */
  taggedFields(): void
}

function uuidBytes(v: Buffer | string): Buffer {
  if (typeof v !== 'string') {
    if (v.length !== 16) throw new RangeError(`A UUID is 16 bytes, got ${v.length}`)
    return v
  }
  const hex = v.replace(/-/g, '')
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new RangeError(`Not a UUID: '${v}'`)
  return Buffer.from(hex, 'hex')
}

/** Counts the bytes a request body needs, splitting own bytes from spliced ones. */
export class SizeCounter implements ProtocolWriter {
  /** Bytes that will be written into the request's own buffer. */
  ownBytes = 0
  /** Bytes contributed by spliced record batches. */
  splicedBytes = 0
  /** Number of splice points: the request is sent as 2 * splices + 1 segments at most. */
  splices = 0

  constructor(readonly flexible: boolean) {}

  int8(_v: number): void { this.ownBytes += 1 }
  int16(_v: number): void { this.ownBytes += 2 }
  int32(_v: number): void { this.ownBytes += 4 }
  uint32(_v: number): void { this.ownBytes += 4 }
  int64(_v: number | bigint): void { this.ownBytes += 8 }
  boolean(_v: boolean): void { this.ownBytes += 1 }
  float64(_v: number): void { this.ownBytes += 8 }
  uvarint(v: number): void { this.ownBytes += sizeOfUvarint(v) }
  varint(v: number): void { this.ownBytes += sizeOfVarint(v) }
  varlong(v: number): void { this.ownBytes += sizeOfVarlong(v) }
  uuid(v: Buffer | string): void { uuidBytes(v); this.ownBytes += 16 }

  string(v: string): void {
    const n = Buffer.byteLength(v, 'utf8')
    this.ownBytes += (this.flexible ? sizeOfUvarint(n + 1) : 2) + n
  }

  nullableString(v: string | null): void {
    if (v === null) this.ownBytes += this.flexible ? 1 : 2
    else this.string(v)
  }

  int16NullableString(v: string | null): void {
    this.ownBytes += 2 + (v === null ? 0 : Buffer.byteLength(v, 'utf8'))
  }

  bytes(v: Buffer): void {
    this.ownBytes += (this.flexible ? sizeOfUvarint(v.length + 1) : 4) + v.length
  }

  nullableBytes(v: Buffer | null): void {
    if (v === null) this.ownBytes += this.flexible ? 1 : 4
    else this.bytes(v)
  }

  records(v: Buffer | null): void {
    if (v === null) {
      this.ownBytes += this.flexible ? 1 : 4
      return
    }
    this.ownBytes += this.flexible ? sizeOfUvarint(v.length + 1) : 4
    this.splicedBytes += v.length
    this.splices++
  }

  arrayLength(n: number): void { this.ownBytes += this.flexible ? sizeOfUvarint(n + 1) : 4 }
  nullableArrayLength(n: number | null): void { this.arrayLength(n === null ? -1 : n) }
  taggedFields(): void { if (this.flexible) this.ownBytes += 1 }
}

/**
 * Fills a buffer whose size was taken from a {@link SizeCounter} run of the same
 * encoder. Bounds are not re-checked per field: a mismatch is a bug in this
 * library, caught by the final `assertFilled`.
 */
export class BufferWriter implements ProtocolWriter {
  offset: number
  private readonly segments: Buffer[] = []
  private segmentStart = 0

  constructor(readonly buf: Buffer, offset: number, readonly flexible: boolean) {
    this.offset = offset
  }

  int8(v: number): void { this.offset = this.buf.writeInt8(v, this.offset) }
  int16(v: number): void { this.offset = this.buf.writeInt16BE(v, this.offset) }
  int32(v: number): void { this.offset = this.buf.writeInt32BE(v, this.offset) }
  uint32(v: number): void { this.offset = this.buf.writeUInt32BE(v, this.offset) }

  int64(v: number | bigint): void {
    if (typeof v === 'bigint') {
      this.offset = this.buf.writeBigInt64BE(v, this.offset)
      return
    }
    this.offset = writeInt64Number(this.buf, this.offset, v)
  }

  boolean(v: boolean): void { this.buf[this.offset++] = v ? 1 : 0 }
  float64(v: number): void { this.offset = this.buf.writeDoubleBE(v, this.offset) }
  uvarint(v: number): void { this.offset = writeUvarint(this.buf, this.offset, v) }
  varint(v: number): void { this.offset = writeUvarint(this.buf, this.offset, ((v << 1) ^ (v >> 31)) >>> 0) }
  varlong(v: number): void { this.offset = writeVarlong(this.buf, this.offset, v) }

  uuid(v: Buffer | string): void {
    this.offset += uuidBytes(v).copy(this.buf, this.offset)
  }

  string(v: string): void {
    const n = Buffer.byteLength(v, 'utf8')
    if (this.flexible) this.uvarint(n + 1)
    else this.int16(n)
    this.offset += this.buf.write(v, this.offset, 'utf8')
  }

  nullableString(v: string | null): void {
    if (v !== null) this.string(v)
    else if (this.flexible) this.uvarint(0)
    else this.int16(-1)
  }

  int16NullableString(v: string | null): void {
    if (v === null) {
      this.int16(-1)
      return
    }
    this.int16(Buffer.byteLength(v, 'utf8'))
    this.offset += this.buf.write(v, this.offset, 'utf8')
  }

  bytes(v: Buffer): void {
    if (this.flexible) this.uvarint(v.length + 1)
    else this.int32(v.length)
    this.offset += v.copy(this.buf, this.offset)
  }

  nullableBytes(v: Buffer | null): void {
    if (v !== null) this.bytes(v)
    else if (this.flexible) this.uvarint(0)
    else this.int32(-1)
  }

  records(v: Buffer | null): void {
    if (v === null) {
      this.nullableBytes(null)
      return
    }
    if (this.flexible) this.uvarint(v.length + 1)
    else this.int32(v.length)
    if (this.offset > this.segmentStart) this.segments.push(this.buf.subarray(this.segmentStart, this.offset))
    this.segments.push(v)
    this.segmentStart = this.offset
  }

  arrayLength(n: number): void {
    if (this.flexible) this.uvarint(n + 1)
    else this.int32(n)
  }

  nullableArrayLength(n: number | null): void { this.arrayLength(n === null ? -1 : n) }

  taggedFields(): void { if (this.flexible) this.buf[this.offset++] = 0 }

  /**
   * The request as the segments to write in order: views of the own buffer
   * with the spliced batches between them. No byte is copied.
   */
  finish(): Buffer[] {
    if (this.offset !== this.buf.length) {
      throw new Error(`encoder size mismatch: wrote ${this.offset} of ${this.buf.length} bytes`)
    }
    if (this.offset > this.segmentStart) this.segments.push(this.buf.subarray(this.segmentStart, this.offset))
    return this.segments
  }
}

const TWO_32 = 4294967296

/** Writes a safe-integer number as a big-endian int64 without allocating a BigInt. */
export function writeInt64Number(buf: Buffer, offset: number, v: number): number {
  const hi = Math.floor(v / TWO_32)
  const lo = v - hi * TWO_32
  buf.writeInt32BE(hi, offset)
  buf.writeUInt32BE(lo, offset + 4)
  return offset + 8
}
