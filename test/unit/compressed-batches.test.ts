import { describe, expect, it } from 'vitest'
import { Cluster, type PartitionInfo } from '../../src/clients/cluster.js'
import { BufferPool } from '../../src/producer/buffer-pool.js'
import {
  COMPRESSION_RATIO_DETERIORATE_STEP,
  COMPRESSION_RATIO_IMPROVING_STEP,
  CompressionRatioEstimator,
  uncompressedWriteLimit,
} from '../../src/producer/compression-ratio-estimator.js'
import type { ProducerBatch, RecordMetadata } from '../../src/producer/producer-batch.js'
import { APPEND_NEEDS_MEMORY, RecordAccumulator, type RecordAccumulatorOptions } from '../../src/producer/record-accumulator.js'
import { KafkaCompressionError } from '../../src/errors.js'
import { type CompressionCodec, resolveCompression } from '../../src/protocol/compression/index.js'
import { RECORD_BATCH_OVERHEAD, type HeaderPairs, type RecordData } from '../../src/protocol/record-batch.js'
import { manualCompression, uncompressBatch } from '../harness/compressed-batch.js'
import { decodeRecordBatches } from '../harness/record-batch-decoder.js'

const T0 = 1_700_000_000_000
const CODECS: CompressionCodec[] = ['gzip', 'snappy', 'lz4', 'zstd']
const CODEC_IDS: Record<CompressionCodec, number> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 }

function cluster(partitions = 1): Cluster {
  const infos: PartitionInfo[] = []
  for (let p = 0; p < partitions; p++) infos.push({ topic: 't', partition: p, leader: 1, leaderEpoch: 0, replicas: [], isr: [] })
  return new Cluster([{ id: 1, host: 'b1', port: 9092, rack: null }], infos)
}

/** Semi-compressible JSON of about `size` bytes, different for each `i`. */
function json(i: number, size = 1000): Buffer {
  const parts: string[] = []
  let n = 0
  for (let k = 0; n < size; k++) {
    const s = `{"id":${i * 1000 + k},"user":"user-${(i * 7919 + k * 104729) % 100000}","score":${((i + 1) * (k + 3) * 2654435761) % 1000003},"ok":${k % 3 === 0}}`
    parts.push(s)
    n += s.length + 1
  }
  return Buffer.from(`[${parts.join(',')}]`.slice(0, size))
}

interface Harness {
  acc: RecordAccumulator
  pool: BufferPool
  compressed: ProducerBatch[]
  /** Resolves once `n` batches in all have been compressed. */
  compressedCount(n: number): Promise<void>
}

function harness(codec: CompressionCodec, overrides: Partial<RecordAccumulatorOptions> = {}): Harness {
  const batchSize = overrides.batchSize ?? 16384
  const pool = overrides.bufferPool ?? new BufferPool(32 << 20, batchSize)
  const compressed: ProducerBatch[] = []
  let waiter: { n: number; resolve: () => void } | null = null
  const acc = new RecordAccumulator({
    batchSize,
    lingerMs: 5,
    deliveryTimeoutMs: 120_000,
    retryBackoffMs: 100,
    retryBackoffMaxMs: 1000,
    bufferPool: pool,
    random: () => 0.5,
    compression: resolveCompression({ compressionType: codec, compressionGzipLevel: -1, compressionLz4Level: 9, compressionZstdLevel: 3 }),
    onBatchCompressed: (b) => {
      compressed.push(b)
      if (waiter !== null && compressed.length >= waiter.n) {
        const w = waiter
        waiter = null
        w.resolve()
      }
    },
    ...overrides,
  })
  return {
    acc,
    pool,
    compressed,
    compressedCount: (n) =>
      compressed.length >= n ? Promise.resolve() : new Promise<void>((resolve) => (waiter = { n, resolve })),
  }
}

function append(acc: RecordAccumulator, c: Cluster, now: number, key: RecordData, value: RecordData, headers: HeaderPairs, cb: (e: Error | null, m: RecordMetadata | null) => void, partition = 0) {
  const r = acc.append('t', partition, now, key, value, headers, cb, null, now, c)
  if (r === APPEND_NEEDS_MEMORY) throw new Error('unexpected APPEND_NEEDS_MEMORY')
  return r
}

/** ready + drain, as the sender's pass does. */
function drainAll(acc: RecordAccumulator, c: Cluster, now: number, maxRequestSize = 1 << 30): ProducerBatch[] {
  const ready = acc.ready(c, now)
  return acc.drain(c, ready.readyNodes, maxRequestSize, now).get(1) ?? []
}

describe('CompressionRatioEstimator (Java rules)', () => {
  it('starts at 1.0, improves by 0.005, deteriorates by max(0.05, observed), and is reset by splits', () => {
    const e = new CompressionRatioEstimator()
    expect(e.estimation('t')).toBe(1)
    expect(e.updateEstimation('t', 0.3)).toBeCloseTo(1 - COMPRESSION_RATIO_IMPROVING_STEP, 10)
    for (let i = 0; i < 99; i++) e.updateEstimation('t', 0.3)
    expect(e.estimation('t')).toBeCloseTo(0.5, 6)
    expect(e.updateEstimation('t', 0.51)).toBeCloseTo(0.5 + COMPRESSION_RATIO_DETERIORATE_STEP, 6)
    expect(e.updateEstimation('t', 0.9)).toBeCloseTo(0.9, 6)
    expect(e.updateEstimation('t', 0.9)).toBeCloseTo(0.9, 6)
    e.setEstimation('t', Math.max(1, 0.4))
    expect(e.estimation('t')).toBe(1)
    expect(e.estimation('other')).toBe(1)
  })

  it("follows Java's updateEstimation step for step: improving is max(current - 0.005, observed), deteriorating max(current + 0.05, observed)", () => {
    const e = new CompressionRatioEstimator()
    // [observed, expected estimate after it], each expected value computed by Java's rule from the one before.
    const steps: [number, number][] = [
      [0.3, 0.995], // much better: one improving step
      [0.993, 0.993], // a little better, by less than a step: down to the observed ratio, not past it
      [0.993, 0.993], // as estimated: unchanged
      [0.9915, 0.9915],
      [0.5, 0.9865],
      [0.99, 1.0365], // worse, by less than a step: one deteriorating step
      [1.2, 1.2], // much worse: straight to the observed ratio
      [1.199, 1.199],
      [1.0, 1.194],
    ]
    for (const [observed, expected] of steps) {
      expect(e.updateEstimation('t', observed)).toBeCloseTo(expected, 12)
      expect(e.estimation('t')).toBeCloseTo(expected, 12)
    }
  })

  it('bounds the estimated compressed size by batch.size: 61 + records x ratio x 1.05 <= batch.size', () => {
    for (const ratio of [1, 0.5, 0.2, 0.05]) {
      const limit = uncompressedWriteLimit(16384, ratio, RECORD_BATCH_OVERHEAD)
      expect(61 + (limit - 61) * ratio * 1.05).toBeLessThanOrEqual(16384)
      expect(61 + (limit - 60) * ratio * 1.05).toBeGreaterThan(16384 - 1)
    }
  })
})

describe.each(CODECS)('compressed batches with %s', (codec) => {
  it('compress off the drain step: the partition is not drained until its codec is done, then the batch carries the codec and its records', async () => {
    const h = harness(codec, { lingerMs: 100 })
    const c = cluster()
    const done: (RecordMetadata | null)[] = []
    const values = Array.from({ length: 50 }, (_, i) => json(i, (i * 37) % 400))
    for (let i = 0; i < values.length; i++) {
      append(h.acc, c, T0 + i, i % 2 === 0 ? `k${i}` : null, i === 3 ? null : values[i]!, i % 5 === 0 ? [['h', `v${i}`]] : undefined, (e, m) => done.push(e === null ? m : null))
    }
    // Lingering: nothing is sendable yet, nothing compresses.
    expect(drainAll(h.acc, c, T0 + 50)).toEqual([])
    expect(h.acc.batchesFor('t', 0)[0]!.compressionStarted).toBe(false)
    // Linger over: ready() starts the close step and reports the node not ready.
    const ready = h.acc.ready(c, T0 + 100)
    expect(h.acc.batchesFor('t', 0).length).toBe(1)
    expect(ready.readyNodes.size).toBe(0)
    const batch = h.acc.batchesFor('t', 0)[0]!
    expect(batch.compressionStarted).toBe(true)
    expect(h.acc.drain(c, new Set([1]), 1 << 30, T0 + 100).get(1)).toEqual([])
    await h.compressedCount(1)
    expect(batch.isCompressed).toBe(true)
    const drained = drainAll(h.acc, c, T0 + 101)
    expect(drained).toEqual([batch])
    const wire = batch.records()
    expect(wire.length).toBe(batch.sizeInBytes)
    const { codecId, plain } = await uncompressBatch(wire)
    expect(codecId).toBe(CODEC_IDS[codec])
    const [decoded] = decodeRecordBatches(plain)
    expect(decoded!.recordCount).toBe(50)
    decoded!.records.forEach((r, i) => {
      expect(r.key?.toString() ?? null).toBe(i % 2 === 0 ? `k${i}` : null)
      expect(r.value === null ? null : Buffer.compare(r.value, values[i]!)).toBe(i === 3 ? null : 0)
      expect(r.timestamp).toBe(T0 + i)
      expect(r.headers).toEqual(i % 5 === 0 ? [['h', Buffer.from(`v${i}`)]] : [])
    })
    // Completion reads timestamps from the staging buffer, which outlives compression.
    batch.done(100n, -1, null)
    h.acc.deallocate(batch)
    expect(done.map((m) => [m!.offset, m!.timestamp])).toEqual(values.map((_, i) => [100n + BigInt(i), T0 + i]))
    // Memory: staging and compressed copy both returned.
    expect(h.pool.availableMemory()).toBe(h.pool.totalMemory)
  })

  it("ready() starts a partition's close step even when its node is already ready through another partition", async () => {
    const h = harness(codec, { lingerMs: 10 })
    const c = cluster(2)
    append(h.acc, c, T0, null, json(0), undefined, () => {}, 0)
    h.acc.ready(c, T0 + 10) // partition 0: linger over, starts compressing
    await h.compressedCount(1)
    append(h.acc, c, T0 + 10, null, json(1), undefined, () => {}, 1)
    expect([...h.acc.ready(c, T0 + 15).readyNodes]).toEqual([1])
    expect(h.acc.batchesFor('t', 1)[0]!.compressionStarted).toBe(false) // lingering
    expect([...h.acc.ready(c, T0 + 20).readyNodes]).toEqual([1])
    const second = h.acc.batchesFor('t', 1)[0]!
    expect(second.compressionStarted).toBe(true)
    await h.compressedCount(2)
    expect(drainAll(h.acc, c, T0 + 20).map((b) => b.partition).sort()).toEqual([0, 1])
  })

  it('a retry resends the same compressed bytes; an epoch bump rewrites only header fields and the CRC', async () => {
    const h = harness(codec)
    const c = cluster()
    for (let i = 0; i < 12; i++) append(h.acc, c, T0, null, json(i), undefined, () => {})
    h.acc.ready(c, T0 + 10)
    await h.compressedCount(1)
    const [batch] = drainAll(h.acc, c, T0 + 10)
    batch!.setProducerState(7n, 1, 0, false)
    const first = Buffer.from(batch!.records())
    batch!.setProducerState(7n, 2, 40, false)
    const second = batch!.records()
    expect(second.subarray(RECORD_BATCH_OVERHEAD).equals(first.subarray(RECORD_BATCH_OVERHEAD))).toBe(true)
    const { plain } = await uncompressBatch(second) // checks the CRC
    const [d] = decodeRecordBatches(plain)
    expect([d!.producerId, d!.producerEpoch, d!.baseSequence, d!.recordCount]).toEqual([7n, 2, 40, 12])
  })
})

describe('compressed batch sizing and pipelining (lz4)', () => {
  it('compresses a full batch in the append path, and sizes later batches from the ratio so they come out near batch.size', async () => {
    const h = harness('lz4', { lingerMs: 1_000_000 })
    const c = cluster()
    const sent: ProducerBatch[] = []
    let i = 0
    // 250 full batches' worth of 1 KiB JSON, drained as soon as compressed: the estimate improves by 0.005 a batch.
    while (sent.length < 250) {
      append(h.acc, c, T0, null, json(i++), undefined, () => {})
      for (const b of drainAll(h.acc, c, T0)) {
        sent.push(b)
        b.done(0n, -1, null)
        h.acc.deallocate(b)
      }
      if (i % 50 === 0) await new Promise((r) => setImmediate(r))
    }
    // The first batch was sized at ratio 1.0; later ones much larger uncompressed, near batch.size compressed.
    expect(sent[0]!.uncompressedSizeInBytes).toBeLessThanOrEqual(16384)
    const est = h.acc.compressionRatioEstimate('t')
    const ratio = sent[sent.length - 1]!.compressionRatio
    expect(est).toBeLessThan(0.6)
    // Converged: the estimate sits just above the ratio achieved (it never drops more than a step below it).
    expect(est).toBeGreaterThan(ratio - 0.02)
    for (const last of sent.slice(-10)) {
      expect(last.uncompressedSizeInBytes).toBeGreaterThan(16384 * 1.5)
      expect(last.sizeInBytes).toBeLessThanOrEqual(16384 * 1.05)
      expect(last.sizeInBytes).toBeGreaterThan(16384 * 0.75)
    }
  })

  it('a batch expired while compressing does not get its staging buffer recycled', async () => {
    const h = harness('gzip', { deliveryTimeoutMs: 50 })
    const c = cluster()
    for (let i = 0; i < 10; i++) append(h.acc, c, T0, null, json(i), undefined, () => {})
    h.acc.ready(c, T0 + 10)
    const [batch] = h.acc.expiredBatches(T0 + 60)
    expect(batch!.isCompressing).toBe(true)
    const free = h.pool.freeBufferCount()
    batch!.done(-1n, -1, new Error('expired'))
    h.acc.deallocate(batch!)
    expect(h.pool.freeBufferCount()).toBe(free)
    expect(h.pool.availableMemory()).toBe(h.pool.totalMemory)
    await new Promise((r) => setTimeout(r, 50))
    // Its compression finished after it ended: nothing is reserved for it.
    expect(batch!.compressedAccountedBytes).toBe(0)
    expect(h.pool.availableMemory()).toBe(h.pool.totalMemory)
  })
})

describe('splitting compressed batches (MESSAGE_TOO_LARGE, KAFKA-8350)', () => {
  it('re-splits by uncompressed size, resets the estimate to max(1, ratio), recompresses the parts, and completes every record once, in order', async () => {
    const h = harness('zstd', { lingerMs: 1_000_000 })
    const c = cluster()
    const done: bigint[] = []
    // Teach the estimator a good ratio, so a batch holds well over batch.size uncompressed.
    let i = 0
    while (h.acc.compressionRatioEstimate('t') > 0.6) {
      append(h.acc, c, T0, null, json(i++), undefined, () => {})
      for (const b of drainAll(h.acc, c, T0)) {
        b.done(0n, -1, null)
        h.acc.deallocate(b)
      }
      if (i % 20 === 0) await new Promise((r) => setImmediate(r))
    }
    // Send what is left, so the next batch starts empty.
    h.acc.beginFlush()
    const flushed = h.acc.awaitFlushCompletion()
    while (h.acc.hasUndrained()) {
      h.acc.ready(c, T0)
      await new Promise((r) => setTimeout(r, 5))
      for (const d of drainAll(h.acc, c, T0)) {
        d.done(0n, -1, null)
        h.acc.deallocate(d)
      }
    }
    await flushed
    const base = i
    // Now one big batch of 20 records (more than batch.size uncompressed, within the estimate's limit), flushed.
    const values: Buffer[] = []
    for (let k = 0; k < 20; k++) {
      values.push(json(base + k))
      append(h.acc, c, T0 + k, null, values[k]!, undefined, (e, m) => done.push(e === null ? m!.offset : -1n))
    }
    h.acc.beginFlush()
    h.acc.ready(c, T0 + 100)
    const before = h.compressed.length
    await h.compressedCount(before + 1)
    const [big] = drainAll(h.acc, c, T0 + 100)
    expect(big!.recordCount).toBe(20)
    expect(big!.uncompressedSizeInBytes).toBeGreaterThan(16384)
    const ratio = big!.compressionRatio
    expect(ratio).toBeLessThan(1)
    big!.setProducerState(5n, 0, 100, false)
    big!.records()

    const n = h.acc.splitAndReenqueue(big!)
    h.acc.deallocate(big!)
    expect(n).toBeGreaterThanOrEqual(2)
    expect(h.acc.compressionRatioEstimate('t')).toBe(1)
    const parts = h.acc.batchesFor('t', 0)
    expect(parts.length).toBe(n)
    for (const p of parts) {
      expect(p.isCompressed).toBe(false)
      expect(p.compressionStarted).toBe(true)
      expect(p.uncompressedSizeInBytes).toBeLessThanOrEqual(Math.max(16384, RECORD_BATCH_OVERHEAD + 1100))
    }
    // The parts compress at once, then go in order, each record once.
    const got: Buffer[] = []
    let offset = 0n
    while (h.acc.hasUndrained()) {
      h.acc.ready(c, T0 + 200)
      await new Promise((r) => setTimeout(r, 5))
      for (const p of drainAll(h.acc, c, T0 + 200)) {
        const { codecId, plain } = await uncompressBatch(p.records())
        expect(codecId).toBe(4)
        const [d] = decodeRecordBatches(plain)
        expect(d!.baseSequence).toBe(100 + Number(offset))
        for (const r of d!.records) got.push(r.value!)
        p.done(offset, -1, null)
        offset += BigInt(p.recordCount)
        h.acc.deallocate(p)
      }
    }
    expect(got.length).toBe(20)
    got.forEach((v, k) => expect(v.equals(values[k]!)).toBe(true))
    expect(done).toEqual(Array.from({ length: 20 }, (_, k) => BigInt(k)))
    h.acc.awaitFlushCompletion()
    expect(h.pool.availableMemory()).toBe(h.pool.totalMemory)
  })
})

describe('staging buffer cap', () => {
  it('a near-perfect ratio never asks the pool for more than an eighth of buffer.memory per batch', async () => {
    const pool = new BufferPool(1 << 20, 16384)
    const h = harness('zstd', { bufferPool: pool, lingerMs: 1_000_000 })
    const c = cluster()
    const zeros = Buffer.alloc(1000)
    let i = 0
    while (h.acc.compressionRatioEstimate('t') > 0.05 && i < 200_000) {
      // Memory is short while batches compress (slowly on a loaded machine): wait for them.
      while (h.acc.append('t', 0, T0, null, zeros, undefined, () => {}, null, T0, c) === APPEND_NEEDS_MEMORY) {
        for (const b of drainAll(h.acc, c, T0)) {
          b.done(0n, -1, null)
          h.acc.deallocate(b)
        }
        await new Promise((r) => setTimeout(r, 1))
      }
      i++
      for (const b of drainAll(h.acc, c, T0)) {
        b.done(0n, -1, null)
        h.acc.deallocate(b)
      }
      if (i % 100 === 0) await new Promise((r) => setImmediate(r))
    }
    for (const b of h.acc.batchesFor('t', 0)) expect(b.buffer.length).toBeLessThanOrEqual((1 << 20) / 8)
  })
})

const tick = () => new Promise((r) => setImmediate(r))

describe('a failed codec', () => {
  it.each(['rejects', 'throws'])('that %s: the batch leaves its queue for the sender to fail (takeCompressionFailures), with a KafkaCompressionError naming the codec', async (how) => {
    const m = manualCompression('gzip')
    const h = harness('gzip', { compression: m.compression, lingerMs: 0 })
    const c = cluster(2)
    const outcomes: (Error | null)[] = []
    append(h.acc, c, T0, null, 'lost?', undefined, (e) => outcomes.push(e), 0)
    append(h.acc, c, T0, null, 'other', undefined, (e) => outcomes.push(e), 1)
    if (how === 'throws') m.throwOnNextCall(new Error('native codec crashed'))
    h.acc.ready(c, T0)
    if (how === 'rejects') m.calls[0]!.reject(new Error('native codec crashed'))
    await tick()
    // Not failed behind the sender's back: the records wait for the sender's failBatch.
    expect(outcomes).toEqual([])
    expect(h.acc.batchesFor('t', 0)).toEqual([])
    expect(h.acc.hasUndrained()).toBe(true)
    expect(h.acc.hasIncomplete()).toBe(true)
    const failures = h.acc.takeCompressionFailures()
    expect(failures).toHaveLength(1)
    const { batch, error } = failures[0]!
    expect(batch.partition).toBe(0)
    expect(error).toBeInstanceOf(KafkaCompressionError)
    expect(error.codec).toBe('gzip')
    expect(error.code).toBe('COMPRESSION')
    expect(error.message).toMatch(/1 record\(s\) for t-0 with gzip: native codec crashed/)
    expect((error.cause as Error).message).toBe('native codec crashed')
    expect(h.acc.takeCompressionFailures()).toEqual([])
    // The other partition's batch is unaffected.
    expect(h.acc.batchesFor('t', 1)).toHaveLength(1)
  })

  it('a forced close fails a batch waiting in takeCompressionFailures once, and forgets it', async () => {
    const m = manualCompression('gzip')
    const h = harness('gzip', { compression: m.compression, lingerMs: 0 })
    const c = cluster()
    const outcomes: (Error | null)[] = []
    append(h.acc, c, T0, null, 'v', undefined, (e) => outcomes.push(e))
    h.acc.ready(c, T0)
    m.calls[0]!.reject(new Error('boom'))
    await tick()
    h.acc.close()
    h.acc.abortIncompleteBatches(new Error('closed'))
    expect(outcomes.map((e) => e?.message)).toEqual(['closed'])
    expect(h.acc.takeCompressionFailures()).toEqual([])
    expect(h.acc.hasUndrained()).toBe(false)
    expect(h.pool.availableMemory()).toBe(h.pool.totalMemory)
  })
})

describe('split parts compress in parallel', () => {
  it('starts every part compressing at the split, and still sends them in order whatever order they finish in', async () => {
    const m = manualCompression('gzip')
    const h = harness('gzip', { compression: m.compression, lingerMs: 1_000_000 })
    const c = cluster()
    const done: bigint[] = []
    for (let k = 0; k < 12; k++) append(h.acc, c, T0, null, json(k), undefined, (e, md) => done.push(e === null ? md!.offset : -1n))
    h.acc.beginFlush()
    h.acc.ready(c, T0)
    expect(m.calls).toHaveLength(1)
    m.calls[0]!.resolve()
    await tick()
    const [big] = drainAll(h.acc, c, T0)
    expect(big!.recordCount).toBe(12)
    big!.records()
    const n = h.acc.splitAndReenqueue(big!, RECORD_BATCH_OVERHEAD + 3 * 1100)
    h.acc.deallocate(big!)
    expect(n).toBeGreaterThanOrEqual(4)
    // Every part's codec is running now, not one after another as each comes to the front.
    expect(m.calls).toHaveLength(1 + n)
    const parts = h.acc.batchesFor('t', 0)
    expect(parts.every((p) => p.isCompressing)).toBe(true)
    // Finish them last first: nothing goes until the first part is done.
    for (let i = n; i >= 2; i--) m.calls[i]!.resolve()
    await tick()
    expect(drainAll(h.acc, c, T0)).toEqual([])
    m.calls[1]!.resolve()
    await tick()
    let offset = 0n
    const sent: ProducerBatch[] = []
    for (let round = 0; round < n; round++) {
      const [p] = drainAll(h.acc, c, T0)
      expect(p).toBe(parts[round])
      sent.push(p!)
      p!.done(offset, -1, null)
      offset += BigInt(p!.recordCount)
      h.acc.deallocate(p!)
    }
    expect(m.calls).toHaveLength(1 + n) // no part compressed twice
    expect(done).toEqual(Array.from({ length: 12 }, (_, k) => BigInt(k)))
    await h.acc.awaitFlushCompletion()
    expect(h.pool.availableMemory()).toBe(h.pool.totalMemory)
  })
})
