// Micro-benchmarks of the send path's building blocks, in plain Node.
//
//   node bench/micro/run.mjs [--label NAME] [--filter SUBSTR] [--compare LABEL] [--quick]
//
// Each case: warm-up (~300 ms, so the JIT settles), then SAMPLES timed samples
// of ~100 ms each; the figure is the median sample's ns/op (and ops/s). The
// results go to bench/micro/results.json under `runs[label]` (default label:
// "latest"), so runs before and after a change sit side by side; --compare
// prints the ratio against a stored label.
//
// What is measured (all through the SDK's own code, bundled from src/ by sdk.mjs):
// - record encoding: ProducerBatch.tryAppend of 100 B / 1 KiB values, Buffer
//   and string, without and with 2 headers (a fresh 1 MiB batch whenever one
//   fills; that reset is outside the timing)
// - CRC-32C over 16 KiB and 64 KiB (computeBatchCrc, what close() runs)
// - murmur2 of 10-byte and 100-byte keys; partition of a 10-char string key
// - varint / varlong writes over a spread of magnitudes
// - RecordAccumulator.append: sticky (UNKNOWN_PARTITION) and explicit
//   partition, 100 B values, then draining (closing: header + CRC) what was
//   appended; completing and freeing the batches is outside the timing
// - Produce request encoding with 4 batches of 16 KiB (v7 and v12)
// - Produce response decoding, 4 partitions (v7 and v12)
// - matching a decoded answer to the request's 4 batches: by position where
//   the sender has answersInRequestOrder, else the string-keyed Map it replaced
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadSdk } from './sdk.mjs'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const RESULTS = path.join(HERE, 'results.json')

const argv = process.argv.slice(2)
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`)
  return i >= 0 ? argv[i + 1] : dflt
}
const label = opt('label', 'latest')
const filter = opt('filter', '')
const compare = opt('compare', null)
const quick = argv.includes('--quick')
const SAMPLES = quick ? 5 : 15
const SAMPLE_MS = quick ? 50 : 100
const WARMUP_MS = quick ? 150 : 300

let sink = 0 // results are folded in here so nothing is optimised away

/**
 * Runs `run(n)` (which performs n operations) repeatedly. `reset()`, when
 * given, runs between calls and outside the timing.
 */
function measure(name, run, { reset = null, chunk = 1000 } = {}) {
  const call = (n) => {
    if (reset !== null) reset()
    const t = process.hrtime.bigint()
    run(n)
    return Number(process.hrtime.bigint() - t)
  }
  // Warm-up, and calibrate how many calls make one sample.
  let warmNs = 0
  let calls = 0
  const start = performance.now()
  while (performance.now() - start < WARMUP_MS) {
    warmNs += call(chunk)
    calls++
  }
  const nsPerCall = warmNs / calls
  const callsPerSample = Math.max(1, Math.round((SAMPLE_MS * 1e6) / nsPerCall))
  const samples = []
  for (let s = 0; s < SAMPLES; s++) {
    let ns = 0
    for (let c = 0; c < callsPerSample; c++) ns += call(chunk)
    samples.push(ns / (callsPerSample * chunk))
  }
  samples.sort((a, b) => a - b)
  const nsPerOp = samples[samples.length >> 1]
  return {
    name,
    nsPerOp: Math.round(nsPerOp * 10) / 10,
    opsPerSec: Math.round(1e9 / nsPerOp),
    minNsPerOp: Math.round(samples[0] * 10) / 10,
    maxNsPerOp: Math.round(samples[samples.length - 1] * 10) / 10,
  }
}

function produceResponseFrame(version, topic, partitions) {
  const flexible = version >= 9
  const parts = []
  const u8 = (v) => parts.push(Buffer.from([v]))
  const i16 = (v) => {
    const b = Buffer.alloc(2)
    b.writeInt16BE(v)
    parts.push(b)
  }
  const i32 = (v) => {
    const b = Buffer.alloc(4)
    b.writeInt32BE(v)
    parts.push(b)
  }
  const i64 = (v) => {
    const b = Buffer.alloc(8)
    b.writeBigInt64BE(BigInt(v))
    parts.push(b)
  }
  i32(12345) // correlation id
  if (flexible) u8(0) // response header v1 tagged fields
  if (flexible) u8(2)
  else i32(1) // one topic
  const name = Buffer.from(topic)
  if (flexible) u8(name.length + 1)
  else i16(name.length)
  parts.push(name)
  if (flexible) u8(partitions + 1)
  else i32(partitions)
  for (let p = 0; p < partitions; p++) {
    i32(p)
    i16(0)
    i64(1_000_000 + p * 1000)
    i64(-1) // log append time
    i64(0) // log start offset (v5+)
    if (version >= 8) {
      if (flexible) u8(1)
      else i32(0) // record errors: empty
      if (flexible) u8(0)
      else i16(-1) // error message: null
    }
    if (flexible) u8(0)
  }
  if (flexible) u8(0) // topic tagged fields
  i32(0) // throttle time
  if (flexible) u8(0)
  return Buffer.concat(parts)
}

async function main() {
  const sdk = await loadSdk()
  const { ProducerBatch, RecordAccumulator, BufferPool, BuiltInPartitioner, Cluster, recordBatch, varint } = sdk
  const cases = []
  const add = (name, fn) => {
    if (!filter || name.includes(filter)) cases.push([name, fn])
  }
  const noop = () => {}
  const now = Date.now()

  // ---- record encoding ----
  const headers2 = [
    ['trace-id', Buffer.from('0af7651916cd43dd8448eb211c80319c')],
    ['source', 'web'],
  ]
  for (const size of [100, 1024]) {
    for (const kind of ['Buffer', 'string']) {
      for (const hdrs of [null, headers2]) {
        const value = kind === 'Buffer' ? Buffer.alloc(size, 'v') : 'v'.repeat(size)
        const name = `tryAppend ${size === 100 ? '100 B' : '1 KiB'} ${kind}${hdrs ? ' +2 headers' : ''}`
        add(name, () => {
          const buf = Buffer.allocUnsafeSlow(1 << 20)
          let batch = null
          return measure(
            name,
            (n) => {
              for (let i = 0; i < n; i++) {
                if (batch.tryAppend(now + (i & 7), null, value, hdrs, noop, null, now) < 0) {
                  batch = new ProducerBatch('bench', 0, buf, now)
                  batch.tryAppend(now, null, value, hdrs, noop, null, now)
                }
              }
            },
            { reset: () => (batch = new ProducerBatch('bench', 0, buf, now)), chunk: size === 100 ? 2000 : 500 },
          )
        })
      }
    }
  }

  // ---- CRC-32C ----
  for (const kib of [16, 64]) {
    const buf = Buffer.alloc(kib * 1024)
    for (let i = 0; i < buf.length; i++) buf[i] = (i * 31) & 0xff
    const name = `crc32c ${kib} KiB`
    add(name, () => {
      const r = measure(
        name,
        (n) => {
          for (let i = 0; i < n; i++) sink ^= recordBatch.computeBatchCrc(buf)
        },
        { chunk: 10 },
      )
      r.mbPerSec = Math.round((buf.length * r.opsPerSec) / 1048576)
      return r
    })
  }

  // ---- murmur2 ----
  for (const len of [10, 100]) {
    const key = Buffer.alloc(len)
    for (let i = 0; i < len; i++) key[i] = (i * 7 + 3) & 0xff
    const name = `murmur2 ${len} B key`
    add(name, () =>
      measure(name, (n) => {
        for (let i = 0; i < n; i++) sink ^= sdk.murmur2(key)
      }),
    )
  }
  {
    // What the producer does with a string key: before, Buffer.from + murmur2; now partitionForStringKey.
    const keys = Array.from({ length: 64 }, (_, i) => `user-${String(i).padStart(5, '0')}`)
    const forString = sdk.partitioner.partitionForStringKey ?? ((k, n) => sdk.partitionForKey(Buffer.from(k, 'utf8'), n))
    const name = 'partition of a 10-char string key (producer path)'
    add(name, () =>
      measure(name, (n) => {
        for (let i = 0; i < n; i++) sink ^= forString(keys[i & 63], 4)
      }),
    )
  }

  // ---- varints ----
  {
    const buf = Buffer.alloc(64)
    const ints = Int32Array.from({ length: 256 }, (_, i) => ((i * 2654435761) >> (i & 31)) | 0)
    const longs = Float64Array.from({ length: 256 }, (_, i) => (i & 1 ? -1 : 1) * Math.floor(Math.pow(2, (i * 7) % 52)))
    add('writeVarint (mixed magnitudes)', () =>
      measure('writeVarint (mixed magnitudes)', (n) => {
        let o = 0
        for (let i = 0; i < n; i++) o += varint.writeVarint(buf, 0, ints[i & 255])
        sink ^= o
      }),
    )
    add('writeVarlong (mixed magnitudes)', () =>
      measure('writeVarlong (mixed magnitudes)', (n) => {
        let o = 0
        for (let i = 0; i < n; i++) o += varint.writeVarlong(buf, 0, longs[i & 255])
        sink ^= o
      }),
    )
  }

  // ---- accumulator append ----
  const nodes = [1, 2, 3].map((id) => ({ id, host: '127.0.0.1', port: 9000 + id, rack: null }))
  const partitions = [0, 1, 2, 3].map((p) => ({ topic: 'bench', partition: p, leader: 1 + (p % 3), leaderEpoch: 0, replicas: [1], isr: [1] }))
  const cluster = new Cluster(nodes, partitions)
  for (const mode of ['sticky', 'explicit partition']) {
    // Timed: the appends, then draining every batch (which closes it: header + CRC), since the CRC is
    // taken at the last append now and at drain before. Untimed: completing and freeing the batches.
    const name = `accumulator.append 100 B (${mode}) + drain`
    add(name, () => {
      const value = Buffer.alloc(100, 'v')
      const pool = new BufferPool(64 << 20, 16384)
      const acc = new RecordAccumulator({
        batchSize: 16384,
        lingerMs: 5,
        deliveryTimeoutMs: 120000,
        retryBackoffMs: 100,
        retryBackoffMaxMs: 1000,
        bufferPool: pool,
        createPartitioner: (topic) => new BuiltInPartitioner(topic, 16384),
      })
      const ready = new Set(nodes.map((n) => n.id))
      let drained = []
      const drainAll = () => {
        acc.beginFlush()
        for (;;) {
          let any = false
          for (const list of acc.drain(cluster, ready, 1 << 30, now).values()) {
            for (const b of list) {
              any = true
              drained.push(b)
            }
          }
          if (!any) break
        }
      }
      const reset = () => {
        for (const b of drained) {
          b.done(0n, -1, null)
          acc.deallocate(b)
        }
        drained = []
        void acc.awaitFlushCompletion()
      }
      const partition = mode === 'sticky' ? sdk.UNKNOWN_PARTITION : -2
      return measure(
        name,
        (n) => {
          for (let i = 0; i < n; i++) {
            const r = acc.append('bench', partition === -2 ? i & 3 : partition, now, null, value, null, noop, null, now, cluster)
            sink ^= r.partition
          }
          drainAll()
        },
        { reset, chunk: 5000 },
      )
    })
  }

  // ---- Produce request encoding ----
  {
    const batches = [0, 1, 2, 3].map((p) => {
      const b = new ProducerBatch('bench', p, Buffer.allocUnsafeSlow(16384), now)
      const v = Buffer.alloc(100, 'v')
      while (b.tryAppend(now, null, v, null, noop, null, now) >= 0);
      return b.close()
    })
    const body = { transactionalId: null, acks: 1, timeoutMs: 30000, topics: [{ name: 'bench', partitions: batches.map((records, index) => ({ index, records })) }] }
    for (const version of [7, 12]) {
      const name = `encode Produce v${version} request, 4 batches x 16 KiB`
      add(name, () =>
        measure(
          name,
          (n) => {
            for (let i = 0; i < n; i++) sink ^= sdk.encodeRequest(sdk.ProduceApi, version, i, 'kafka-producer-ts', body).length
          },
          { chunk: 100 },
        ),
      )
    }
    // ---- matching a decoded response to the request's batches (sender; per response) ----
    {
      const version = 12
      const decoded = sdk.decodeResponse(sdk.ProduceApi, version, produceResponseFrame(version, 'bench', 4))
      const reqBatches = [0, 1, 2, 3].map((p) => ({ topic: 'bench', partition: p }))
      const positions = [0, 1, 2, 3]
      const byOrder = sdk.sender?.answersInRequestOrder
      // Before: a Map keyed by `${topic}\u0000${partition}`, filled from the answer and read per batch.
      const byKey = (body, batches) => {
        const m = new Map()
        for (const t of body.topics) for (const p of t.partitions) m.set(`${t.name}\u0000${p.index}`, p)
        return batches.map((b) => m.get(`${b.topic}\u0000${b.partition}`))
      }
      const name = 'match Produce answer to 4 batches (sender)'
      add(name, () =>
        measure(name, (n) => {
          for (let i = 0; i < n; i++) sink ^= (byOrder ? byOrder(decoded, reqBatches, positions) : byKey(decoded, reqBatches)).length
        }),
      )
    }
    // ---- Produce response decoding ----
    for (const version of [7, 12]) {
      const frame = produceResponseFrame(version, 'bench', 4)
      const name = `decode Produce v${version} response, 4 partitions`
      add(name, () =>
        measure(
          name,
          (n) => {
            for (let i = 0; i < n; i++) sink ^= sdk.decodeResponse(sdk.ProduceApi, version, frame).topics.length
          },
          { chunk: 100 },
        ),
      )
    }
  }

  const results = []
  for (const [name, fn] of cases) {
    const r = fn()
    results.push(r)
    const extra = r.mbPerSec !== undefined ? `  ${r.mbPerSec} MiB/s` : ''
    console.log(`${name.padEnd(58)} ${String(r.nsPerOp).padStart(10)} ns/op  ${r.opsPerSec.toLocaleString('en-US').padStart(13)} ops/s${extra}`)
  }
  if (sink === 0.5) console.log(sink)

  const all = fs.existsSync(RESULTS) ? JSON.parse(fs.readFileSync(RESULTS, 'utf8')) : { runs: {} }
  const prev = all.runs[label]
  // A filtered run only replaces the cases it ran.
  const merged = filter && prev ? [...prev.results.filter((r) => !results.some((x) => x.name === r.name)), ...results] : results
  all.runs[label] = { date: new Date().toISOString(), node: process.version, samples: SAMPLES, results: merged }
  fs.writeFileSync(RESULTS, JSON.stringify(all, null, 2) + '\n')
  console.log(`\nwrote ${path.relative(process.cwd(), RESULTS)} runs["${label}"]`)

  if (compare !== null) {
    const base = all.runs[compare]
    if (base === undefined) throw new Error(`no stored run "${compare}"`)
    console.log(`\n${'case'.padEnd(58)} ${compare.padStart(10)} ${label.padStart(10)}  speed-up`)
    for (const r of results) {
      const b = base.results.find((x) => x.name === r.name)
      if (b === undefined) continue
      console.log(`${r.name.padEnd(58)} ${String(b.nsPerOp).padStart(10)} ${String(r.nsPerOp).padStart(10)}  ${(b.nsPerOp / r.nsPerOp).toFixed(2)}x`)
    }
  }
}

await main()
