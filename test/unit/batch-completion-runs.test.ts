/**
 * ProducerBatch keeps completion slots per run of records sharing a callback
 * (or promise functions) and reads timestamps back from the encoded records.
 * These tests pin that every record is still completed exactly once, in
 * order, with its own offset, timestamp and error, whatever the mix of
 * callback and promise sends.
 */
import { describe, expect, it } from 'vitest'
import { ProducerBatch, type RecordMetadata } from '../../src/producer/producer-batch.js'
import { decodeRecordBatches } from '../harness/record-batch-decoder.js'

type Event = { who: string; record: number; err: Error | null; md: RecordMetadata | null }

const T0 = 1_700_000_000_000
// Deltas of every size and sign the varlong encoder takes exactly: small, negative, multi-byte, 2^40.
const TIMESTAMPS = [T0, T0 + 1, T0 - 5, T0 + 300, T0 + 70_000, T0 - 2 ** 20, T0 + 2 ** 40, T0, T0 + 2, T0 + 3, T0 - 1]

function fixture() {
  const events: Event[] = []
  let record = 0
  const cb = (who: string) => (err: Error | null, md: RecordMetadata | null) => events.push({ who, record: md ? Number(md.offset - 100n) : record, err, md })
  const A = cb('A')
  const B = cb('B')
  const promise = (who: string) => ({
    resolve: (md: RecordMetadata) => events.push({ who, record: Number(md.offset - 100n), err: null, md }),
    reject: (err: Error) => events.push({ who, record, err, md: null }),
  })
  const p1 = promise('p1')
  const p2 = promise('p2')
  // Slots per record: A A B p1 p2 A A p2 B B A -> runs: A, B, p1, p2, A, p2, B, A = 8.
  const slots: [string, (...a: never[]) => void, ((e: Error) => void) | null][] = [
    ['A', A, null], ['A', A, null], ['B', B, null], ['p1', p1.resolve, p1.reject], ['p2', p2.resolve, p2.reject],
    ['A', A, null], ['A', A, null], ['p2', p2.resolve, p2.reject], ['B', B, null], ['B', B, null], ['A', A, null],
  ]
  const batch = new ProducerBatch('t', 3, Buffer.alloc(4096), 0)
  slots.forEach(([, complete, fail], i) => {
    expect(batch.tryAppend(TIMESTAMPS[i]!, null, Buffer.from(`v${i}`), null, complete as never, fail, 0)).toBe(i)
  })
  return { batch, events, slots, setRecord: (i: number) => (record = i) }
}

describe('ProducerBatch completion runs', () => {
  it('groups consecutive records with the same slots into runs', () => {
    const { batch } = fixture()
    expect(batch.recordCount).toBe(11)
    expect(batch.completionRuns).toBe(8)
    const shared = new ProducerBatch('t', 0, Buffer.alloc(4096), 0)
    const cb = () => {}
    for (let i = 0; i < 20; i++) shared.tryAppend(T0 + i, null, 'x', null, cb, null, 0)
    expect(shared.completionRuns).toBe(1)
  })

  it('on success completes every record once, in order, with its offset and the timestamp it was appended with', () => {
    const { batch, events, slots } = fixture()
    batch.close()
    expect(batch.done(100n, -1, null)).toBe(true)
    expect(events.map((e) => e.who)).toEqual(slots.map(([who]) => who))
    events.forEach((e, i) => {
      expect(e.err).toBeNull()
      expect(e.md).toEqual({ topic: 't', partition: 3, offset: 100n + BigInt(i), timestamp: TIMESTAMPS[i] })
    })
    for (let i = 0; i < TIMESTAMPS.length; i++) expect(batch.timestampAt(i)).toBe(TIMESTAMPS[i])
  })

  it('reports the broker log-append time instead when the topic uses it, and -1 offsets when unknown', () => {
    const { batch, events } = fixture()
    batch.close()
    batch.done(-1n, 555, null)
    expect(events).toHaveLength(11)
    for (const e of events) expect(e.md).toMatchObject({ offset: -1n, timestamp: 555 })
  })

  it('on failure hands each record its own error (record errors override), through callback or reject', () => {
    const { batch, events, slots, setRecord } = fixture()
    batch.close()
    const base = new Error('batch failed')
    const own = new Map([[4, new Error('record 4')], [9, new Error('record 9')]])
    batch.done(-1n, -1, base, (i) => {
      setRecord(i)
      return own.get(i)
    })
    expect(events.map((e) => [e.who, e.record])).toEqual(slots.map(([who], i) => [who, i]))
    events.forEach((e, i) => {
      expect(e.md).toBeNull()
      expect(e.err).toBe(own.get(i) ?? base)
    })
  })

  it('split moves every record with its slots and timestamp; the parts complete each record once', () => {
    const { batch, events, slots } = fixture()
    const parts = batch.split(61 + 3 * 12) // about three records per part
    expect(parts.length).toBeGreaterThan(2)
    expect(parts.reduce((n, p) => n + p.recordCount, 0)).toBe(11)
    let offset = 100n
    for (const p of parts) {
      p.close()
      p.done(offset, -1, null)
      offset += BigInt(p.recordCount)
    }
    expect(events.map((e) => e.who)).toEqual(slots.map(([who]) => who))
    events.forEach((e, i) => expect(e.md).toEqual({ topic: 't', partition: 3, offset: 100n + BigInt(i), timestamp: TIMESTAMPS[i] }))
    // The original completes nothing more.
    expect(batch.done(0n, -1, null)).toBe(false)
    expect(events).toHaveLength(11)
  })
})

describe('ProducerBatch checksum taken at closeForAppends', () => {
  const fill = (b: ProducerBatch): void => {
    for (let i = 0; i < 50; i++) b.tryAppend(T0 + i * 3 - (i % 4), i % 3 === 0 ? null : `k${i}`, Buffer.alloc(17 + (i % 11), i), i % 5 === 0 ? [['h', `v${i}`]] : null, () => {}, null, 0)
  }

  it('gives the same bytes, CRC included, as checksumming the whole batch at close', () => {
    for (const idempotent of [false, true]) {
      const early = new ProducerBatch('t', 0, Buffer.alloc(4096), 0)
      const late = new ProducerBatch('t', 0, Buffer.alloc(4096), 0)
      fill(early)
      fill(late)
      early.closeForAppends() // records checksummed now
      if (idempotent) {
        // The producer state is assigned after appends closed, when the batch is drained.
        early.setProducerState(77n, 3, 1000, false)
        late.setProducerState(77n, 3, 1000, false)
      }
      const a = early.close()
      const b = late.close()
      expect(a.equals(b)).toBe(true)
      const [decoded] = decodeRecordBatches(a) // verifies the CRC
      expect(decoded!.recordCount).toBe(50)
      expect(decoded!.producerId).toBe(idempotent ? 77n : -1n)
    }
  })
})
