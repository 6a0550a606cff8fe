import Long from 'long'
import { KafkaProtocolError } from '../errors.js'

const TWO_32 = 4294967296

/** Handler for one tagged field: its tag and a view of its bytes. */
export type TagHandler = (tag: number, data: Buffer) => void

/**
 * Decodes a response from one received frame.
 *
 * Invariants:
 * - Every read is bounds-checked; running past the end throws
 *   {@link KafkaProtocolError}, never a RangeError or a partial value.
 * - Nothing is allocated beyond what the input justifies: an array or string
 *   length is checked against the bytes that remain before anything is built.
 * - Bytes fields are returned as views of the frame (no copy); callers that
 *   keep them past the frame's life must copy.
 *
 * Like the Writer, `flexible` selects compact strings, bytes and arrays, and
 * whether `taggedFields()` reads a tag section.
 */
export class Reader {
  offset: number

  constructor(readonly buf: Buffer, offset = 0, public flexible = false) {
    this.offset = offset
  }

  get remaining(): number {
    return this.buf.length - this.offset
  }

  private need(n: number, what: string): void {
    if (n > this.buf.length - this.offset) {
      throw new KafkaProtocolError(
        `Truncated response: need ${n} bytes for ${what} at offset ${this.offset}, ${this.buf.length - this.offset} left`,
      )
    }
  }

  int8(): number {
    this.need(1, 'int8')
    return this.buf.readInt8(this.offset++)
  }

  uint8(): number {
    this.need(1, 'uint8')
    return this.buf[this.offset++]!
  }

  int16(): number {
    this.need(2, 'int16')
    const v = this.buf.readInt16BE(this.offset)
    this.offset += 2
    return v
  }

  int32(): number {
    this.need(4, 'int32')
    const v = this.buf.readInt32BE(this.offset)
    this.offset += 4
    return v
  }

  uint32(): number {
    this.need(4, 'uint32')
    const v = this.buf.readUInt32BE(this.offset)
    this.offset += 4
    return v
  }

  int64(): bigint {
    this.need(8, 'int64')
    const v = this.buf.readBigInt64BE(this.offset)
    this.offset += 8
    return v
  }

  /** An int64 that is known to be a safe integer (timestamps, durations). */
  int64Number(): number {
    this.need(8, 'int64')
    const hi = this.buf.readInt32BE(this.offset)
    const lo = this.buf.readUInt32BE(this.offset + 4)
    this.offset += 8
    return hi * TWO_32 + lo
  }

  boolean(): boolean {
    return this.uint8() !== 0
  }

  float64(): number {
    this.need(8, 'float64')
    const v = this.buf.readDoubleBE(this.offset)
    this.offset += 8
    return v
  }

  /** An unsigned varint of at most 5 bytes (32 bits), as Kafka's readUnsignedVarint. */
  uvarint(): number {
    let v = 0
    let shift = 0
    for (let i = 0; i < 5; i++) {
      this.need(1, 'varint')
      const b = this.buf[this.offset++]!
      v += (b & 0x7f) * 2 ** shift
      if ((b & 0x80) === 0) {
        if (v > 0xffffffff) break
        return v
      }
      shift += 7
    }
    throw new KafkaProtocolError(`Malformed varint at offset ${this.offset}`)
  }

  varint(): number {
    const u = this.uvarint()
    return (u >>> 1) ^ -(u & 1)
  }

  /** A zigzag varlong as a number; throws if it is not a safe integer. */
  varlong(): number {
    const v = this.varlongLong()
    if (v.greaterThan(Long.fromNumber(Number.MAX_SAFE_INTEGER)) || v.lessThan(Long.fromNumber(Number.MIN_SAFE_INTEGER))) {
      throw new KafkaProtocolError(`varlong ${v.toString()} is outside the safe integer range`)
    }
    return v.toNumber()
  }

  varlongLong(): Long {
    let lo = 0
    let hi = 0
    for (let i = 0; i < 10; i++) {
      this.need(1, 'varlong')
      const b = this.buf[this.offset++]!
      const bits = b & 0x7f
      const shift = i * 7
      if (shift < 28) lo |= bits << shift
      else if (shift === 28) {
        lo |= (bits & 0x0f) << 28
        hi |= bits >>> 4
      } else hi |= bits << (shift - 32)
      if ((b & 0x80) === 0) {
        const u = new Long(lo, hi, true)
        return u.shiftRightUnsigned(1).xor(u.and(1).negate()).toSigned()
      }
    }
    throw new KafkaProtocolError(`Malformed varlong at offset ${this.offset}`)
  }

  uuid(): string {
    this.need(16, 'uuid')
    const s = this.buf.toString('hex', this.offset, this.offset + 16)
    this.offset += 16
    return s
  }

  private lengthOf(what: string): number {
    if (this.flexible) return this.uvarint() - 1
    return what === 'string' ? this.int16() : this.int32()
  }

  private utf8(n: number): string {
    this.need(n, 'string')
    const s = this.buf.toString('utf8', this.offset, this.offset + n)
    this.offset += n
    return s
  }

  string(): string {
    const n = this.lengthOf('string')
    if (n < 0) throw new KafkaProtocolError(`Null where a non-nullable string was expected at offset ${this.offset}`)
    return this.utf8(n)
  }

  nullableString(): string | null {
    const n = this.lengthOf('string')
    return n < 0 ? null : this.utf8(n)
  }

  /** A non-compact NULLABLE_STRING whatever the flexibility. */
  int16NullableString(): string | null {
    const n = this.int16()
    return n < 0 ? null : this.utf8(n)
  }

  nullableBytes(): Buffer | null {
    const n = this.lengthOf('bytes')
    if (n < 0) return null
    this.need(n, 'bytes')
    const b = this.buf.subarray(this.offset, this.offset + n)
    this.offset += n
    return b
  }

  bytes(): Buffer {
    const b = this.nullableBytes()
    if (b === null) throw new KafkaProtocolError(`Null where non-nullable bytes were expected at offset ${this.offset}`)
    return b
  }

  /**
   * An array's element count, checked against what remains (every element takes
   * at least one byte), for decoders that loop over the elements themselves.
   */
  arrayLength(): number {
    const n = this.nullableArrayLength()
    if (n === null) throw new KafkaProtocolError(`Null where a non-nullable array was expected at offset ${this.offset}`)
    return n
  }

  nullableArrayLength(): number | null {
    const n = this.lengthOf('array')
    if (n < 0) return null
    if (n > this.remaining) {
      throw new KafkaProtocolError(`Array length ${n} exceeds the ${this.remaining} bytes left at offset ${this.offset}`)
    }
    return n
  }

  /** Reads an array; `each` reads one element. The count is checked against what remains. */
  array<T>(each: (r: Reader) => T): T[] {
    const a = this.nullableArray(each)
    if (a === null) throw new KafkaProtocolError(`Null where a non-nullable array was expected at offset ${this.offset}`)
    return a
  }

  nullableArray<T>(each: (r: Reader) => T): T[] | null {
    const n = this.lengthOf('array')
    if (n < 0) return null
    // Every element takes at least one byte, so a count above what remains is garbage.
    if (n > this.remaining) {
      throw new KafkaProtocolError(`Array length ${n} exceeds the ${this.remaining} bytes left at offset ${this.offset}`)
    }
    const out = new Array<T>(n)
    for (let i = 0; i < n; i++) out[i] = each(this)
    return out
  }

  /** Skips (or hands to `onTag`) a tagged-field section when flexible. */
  taggedFields(onTag?: TagHandler): void {
    if (!this.flexible) return
    const count = this.uvarint()
    if (count > this.remaining) {
      throw new KafkaProtocolError(`Tagged field count ${count} exceeds the ${this.remaining} bytes left`)
    }
    for (let i = 0; i < count; i++) {
      const tag = this.uvarint()
      const size = this.uvarint()
      this.need(size, 'tagged field')
      if (onTag !== undefined) onTag(tag, this.buf.subarray(this.offset, this.offset + size))
      this.offset += size
    }
  }

  /**
   * The number of tagged fields that follow (0 when not flexible), for decoders
   * that read known tags in place: per field, `uvarint()` is its tag,
   * {@link taggedFieldEnd} bounds its value, and the decoder either reads the
   * value and calls {@link endTaggedField} or sets `offset` to the end to skip it.
   */
  taggedFieldCount(): number {
    if (!this.flexible) return 0
    const count = this.uvarint()
    if (count > this.remaining) {
      throw new KafkaProtocolError(`Tagged field count ${count} exceeds the ${this.remaining} bytes left`)
    }
    return count
  }

  /** Reads a tagged field's size and returns the offset its value ends at. */
  taggedFieldEnd(): number {
    const size = this.uvarint()
    this.need(size, 'tagged field')
    return this.offset + size
  }

  /** A known tagged field's value must fill its declared size exactly; anything else means we mis-parsed it. */
  endTaggedField(end: number, what: string): void {
    if (this.offset !== end) {
      throw new KafkaProtocolError(`Tagged field ${what} ends at offset ${this.offset}, not at its declared end ${end}`)
    }
  }

  skip(n: number): void {
    this.need(n, 'skip')
    this.offset += n
  }
}
