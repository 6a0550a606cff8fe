/** Bitwise CRC-32C (Castagnoli, reflected 0x82F63B78): the definition, independent of any table or library. */
export function crc32cBitwise(b: Uint8Array): number {
  let c = ~0
  for (const x of b) {
    c ^= x
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
  }
  return ~c >>> 0
}
