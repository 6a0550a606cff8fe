/**
 * Inputs for the compression tests and benchmarks: deterministic (seeded),
 * so a failing case or a figure can be reproduced.
 */
import { mulberry32 } from './prng.js'

/**
 * `size` bytes of JSON lines, semi-compressible like typical event payloads:
 * repeated field names, random ids, amounts and words (ratio ~2.5-5 by codec).
 */
export function jsonLines(size: number, seed = 1): Buffer {
  const rand = mulberry32(seed)
  const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima']
  const pick = () => words[Math.floor(rand() * words.length)]!
  const parts: string[] = []
  let length = 0
  for (let i = 0; length < size; i++) {
    const line =
      JSON.stringify({
        id: i,
        user: `user-${Math.floor(rand() * 100000)}`,
        event: pick(),
        amount: Math.round(rand() * 1e6) / 100,
        tags: [pick(), pick()],
        ts: 1700000000000 + Math.floor(rand() * 1e9),
        note: `${pick()} ${pick()} ${pick()}`,
      }) + '\n'
    parts.push(line)
    length += line.length
  }
  return Buffer.from(parts.join('')).subarray(0, size)
}

/** `size` bytes from a seeded PRNG: incompressible. */
export function randomBytes(size: number, seed = 7): Buffer {
  const rand = mulberry32(seed)
  const out = Buffer.allocUnsafe(size)
  for (let i = 0; i < size; i++) out[i] = Math.floor(rand() * 256)
  return out
}
