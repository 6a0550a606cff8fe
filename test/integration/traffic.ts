/**
 * The mixed traffic of the pipeline issue's end-to-end checks, generated
 * deterministically so a failure can be reproduced: null/string/binary keys;
 * values of 0 B, 1 B, 100 B, 10 KiB, 900 KiB and null; string and Buffer
 * headers with repeated keys. Values contain arbitrary bytes (NUL, newlines).
 */
import { expect } from 'vitest'
import type { KafkaProducer, ProducerRecord, RecordMetadata } from '../../src/index.js'
import type { ConsumedRecord } from '../harness/consume.js'

export interface ExpectedRecord {
  readonly index: number
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers: [string, Buffer][]
  readonly record: ProducerRecord
}

function bytes(seed: number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n)
  let x = (seed * 2654435761) >>> 0 || 1
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    b[i] = x & 0xff
  }
  return b
}

const BIG = bytes(7, 900 * 1024)
const MEDIUM = bytes(11, 10 * 1024)

export function makeRecord(topic: string, i: number): ExpectedRecord {
  let key: Buffer | null
  let keyArg: Buffer | string | null
  switch (i % 3) {
    case 0:
      key = keyArg = null
      break
    case 1:
      keyArg = `key-${i % 997}-é`
      key = Buffer.from(keyArg, 'utf8')
      break
    default:
      key = keyArg = bytes(i % 1009, 8)
  }
  let value: Buffer | null
  if (i % 5000 === 17) {
    value = Buffer.concat([Buffer.from(`big-${i}:`), BIG])
  } else if (i % 100 === 3) {
    value = Buffer.concat([Buffer.from(`mid-${i}:`), MEDIUM])
  } else {
    const sizes = [-1, 0, 1, 100]
    const n = sizes[i % 4]!
    value = n < 0 ? null : bytes(i, n)
  }
  // Half the string-typed values go in as strings, to cover both encoder paths.
  const valueArg: Buffer | string | null = value !== null && value.length === 100 && i % 8 === 7 ? value.toString('latin1') : value
  if (typeof valueArg === 'string') value = Buffer.from(valueArg, 'utf8')

  let headers: [string, Buffer][] = []
  let headersArg: ProducerRecord['headers']
  switch (i % 4) {
    case 1:
      headersArg = { trace: `t-${i}`, bin: bytes(i + 1, 4) }
      headers = [['trace', Buffer.from(`t-${i}`)], ['bin', bytes(i + 1, 4)]]
      break
    case 2:
      headersArg = [['dup', 'first'], ['dup', Buffer.from('second')], ['empty', '']]
      headers = [['dup', Buffer.from('first')], ['dup', Buffer.from('second')], ['empty', Buffer.alloc(0)]]
      break
    default:
      headersArg = undefined
  }
  const record: ProducerRecord = { topic, key: keyArg, value: valueArg }
  if (headersArg !== undefined) record.headers = headersArg
  return { index: i, key, value, headers, record }
}

export interface SentTraffic {
  readonly expected: Map<string, ExpectedRecord>
  readonly metadata: RecordMetadata[]
  readonly keyed: { key: Buffer; partition: number }[]
}

/** Sends `n` records with bounded outstanding promises; every send must resolve with a partition and offset. */
export async function sendTraffic(producer: KafkaProducer, topic: string, n: number): Promise<SentTraffic> {
  const expected = new Map<string, ExpectedRecord>()
  const metadata: RecordMetadata[] = new Array(n)
  const keyed: { key: Buffer; partition: number }[] = []
  const window = 5000
  const inflight = new Set<Promise<void>>()
  for (let i = 0; i < n; i++) {
    const rec = makeRecord(topic, i)
    const p = producer.send(rec.record).then((md) => {
      metadata[i] = md
      expected.set(`${md.partition}:${md.offset}`, rec)
      if (rec.key !== null) keyed.push({ key: rec.key, partition: md.partition })
    })
    const tracked: Promise<void> = p.finally(() => inflight.delete(tracked))
    inflight.add(tracked)
    if (inflight.size >= window) await Promise.race(inflight)
  }
  await Promise.all(inflight)
  for (const md of metadata) {
    expect(md.topic).toBe(topic)
    expect(md.partition).toBeGreaterThanOrEqual(0)
    expect(md.offset).toBeGreaterThanOrEqual(0n)
  }
  expect(expected.size).toBe(n)
  return { expected, metadata, keyed }
}

/**
 * Every consumed record is the one sent at its partition and offset, byte for
 * byte, and every sent record was consumed.
 */
export function expectIdentical(
  consumed: ConsumedRecord[],
  sent: SentTraffic,
  opts: { headers: 'all' | 'text'; logStartTrimmed?: boolean },
): void {
  const seen = new Set<string>()
  let mismatches = 0
  let headerChecksSkipped = 0
  const first: string[] = []
  for (const c of consumed) {
    const id = `${c.partition}:${c.offset}`
    const e = sent.expected.get(id)
    if (e === undefined) {
      mismatches++
      if (first.length < 5) first.push(`unexpected record at ${id}`)
      continue
    }
    seen.add(id)
    const problems: string[] = []
    if (!sameBytes(c.key, e.key)) problems.push('key')
    if (!sameBytes(c.value, e.value)) problems.push(`value (${c.value?.length ?? 'null'} vs ${e.value?.length ?? 'null'} bytes)`)
    // kcat prints headers as unescaped `k=v,k=v` text: records with binary header values cannot be parsed back exactly.
    const comparable = opts.headers === 'all' || e.headers.every(([, v]) => isText(v))
    if (comparable) {
      const want = e.headers
      const got = c.headers
      if (want.length !== got.length || want.some(([k, v], j) => got[j]![0] !== k || !got[j]![1].equals(v))) problems.push('headers')
    } else {
      headerChecksSkipped++
    }
    if (problems.length > 0) {
      mismatches++
      if (first.length < 5) first.push(`record #${e.index} at ${id}: ${problems.join(', ')} differ`)
    }
  }
  expect(first, 'first mismatches').toEqual([])
  expect(mismatches).toBe(0)
  if (opts.logStartTrimmed) expectContiguousTails(consumed, sent)
  else expect(seen.size, 'records consumed vs sent').toBe(sent.expected.size)
  // The text-only mode must still have compared most records' headers.
  expect(headerChecksSkipped).toBeLessThan(consumed.length / 3)
}

function sameBytes(a: Buffer | null, b: Buffer | null): boolean {
  if (a === null || b === null) return a === b
  return a.equals(b)
}

function isText(v: Buffer): boolean {
  for (const byte of v) if (byte < 0x20 || byte > 0x7e || byte === 0x2c || byte === 0x3d) return false
  return true
}

/**
 * For a broker that trims the start of its logs (librdkafka's mock keeps a few
 * MB per partition): per partition, what was read is every acknowledged offset
 * from the first one read up to the last one acknowledged, with no gap.
 */
function expectContiguousTails(consumed: ConsumedRecord[], sent: SentTraffic): void {
  const acked = new Map<number, bigint[]>()
  for (const md of sent.metadata) {
    let list = acked.get(md.partition)
    if (list === undefined) acked.set(md.partition, (list = []))
    list.push(md.offset)
  }
  const read = new Map<number, bigint[]>()
  for (const c of consumed) {
    let list = read.get(c.partition)
    if (list === undefined) read.set(c.partition, (list = []))
    list.push(c.offset)
  }
  for (const [partition, offsets] of acked) {
    offsets.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    // Acknowledged offsets are dense: nothing acknowledged twice, nothing skipped.
    expect(offsets[0]).toBe(0n)
    expect(offsets[offsets.length - 1]).toBe(BigInt(offsets.length - 1))
    const got = read.get(partition) ?? []
    expect(got.length, `partition ${partition} read back`).toBeGreaterThan(0)
    const first = got[0]!
    expect(got[got.length - 1]).toBe(BigInt(offsets.length - 1))
    expect(BigInt(got.length), `partition ${partition}: contiguous from ${first}`).toBe(BigInt(offsets.length) - first)
  }
}
