import Long from 'long'

/**
 * Varints as Kafka writes them (protobuf base-128, zigzag for signed values).
 *
 * Numbers below 2^31 take the bit-operation path; larger ones fall back to
 * arithmetic, which stays exact for zigzagged magnitudes below 2^53 (timestamps
 * and offsets in practice). `Long` covers the full int64 range where that is
 * not enough.
 */

const TWO_31 = 2147483648

export function sizeOfUvarint(v: number): number {
  if (v < 0x80) return 1
  if (v < 0x4000) return 2
  if (v < 0x200000) return 3
  if (v < 0x10000000) return 4
  let n = 4
  v = Math.floor(v / 0x10000000)
  while (v > 0) {
    n++
    v = Math.floor(v / 128)
  }
  return n
}

/** Size of a zigzag-encoded 32-bit signed value. */
export function sizeOfVarint(v: number): number {
  return sizeOfUvarint(((v << 1) ^ (v >> 31)) >>> 0)
}

/** Size of a zigzag-encoded signed value with |v| < 2^52. */
export function sizeOfVarlong(v: number): number {
  return sizeOfUvarint(zigzag(v))
}

function zigzag(v: number): number {
  if (v >= -1073741824 && v < 1073741824) return ((v << 1) ^ (v >> 31)) >>> 0
  return v >= 0 ? v * 2 : -v * 2 - 1
}

export function writeUvarint(buf: Buffer, offset: number, v: number): number {
  if (v < TWO_31) {
    while (v >= 0x80) {
      buf[offset++] = (v & 0x7f) | 0x80
      v >>>= 7
    }
    buf[offset++] = v
    return offset
  }
  while (v >= 0x80) {
    buf[offset++] = (v % 128) | 0x80
    v = Math.floor(v / 128)
  }
  buf[offset++] = v
  return offset
}

export function writeVarint(buf: Buffer, offset: number, v: number): number {
  return writeUvarint(buf, offset, ((v << 1) ^ (v >> 31)) >>> 0)
}

export function writeVarlong(buf: Buffer, offset: number, v: number): number {
  return writeUvarint(buf, offset, zigzag(v))
}

/** Full-range int64 varlong, for values a number cannot hold exactly. */
export function writeVarlongLong(buf: Buffer, offset: number, v: Long): number {
  let u = v.shiftLeft(1).xor(v.shiftRight(63)).toUnsigned()
  while (u.greaterThanOrEqual(0x80)) {
    buf[offset++] = (u.low & 0x7f) | 0x80
    u = u.shiftRightUnsigned(7)
  }
  buf[offset++] = u.low
  return offset
}

export function sizeOfVarlongLong(v: Long): number {
  let u = v.shiftLeft(1).xor(v.shiftRight(63)).toUnsigned()
  let n = 1
  while (u.greaterThanOrEqual(0x80)) {
    n++
    u = u.shiftRightUnsigned(7)
  }
  return n
}
