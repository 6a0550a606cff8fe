// Compression codecs: throughput, ratio, frame assembly, and event-loop delay.
//
//   node bench/micro/compression.mjs [throughput] [assembly] [eventloop] [--iterations N] [--batch-kib K]
//
// (no section named: all three). The codecs are src/protocol/compression,
// bundled with esbuild (as tsup does, target node20) into
// node_modules/.cache/ by a child process, so the optional packages resolve
// from the project's node_modules as they would from an application's.
//
// - throughput: 1 MiB of semi-compressible JSON lines (the seeded generator of
//   the tests, test/harness/compression-inputs.ts), compressed and
//   decompressed N times (default 20) one call after another through the
//   async API. Two figures: MB/s of input by the wall clock (median call), and
//   MB per CPU second (process.cpuUsage over all N calls: every thread, so the
//   pool's work counts; far steadier than the wall clock on a shared machine).
//   Ratio = input / frame. Also the package's one-shot sync call over the
//   whole MiB, without Java's framing, as the reference for what framing and
//   the thread-pool hops cost.
// - assembly: building the lz4 and snappy frames from already-compressed
//   blocks: one allocation sized from the blocks (what the codecs do) against
//   a length buffer per block and Buffer.concat. The two alternate, and the
//   figure is the fastest of 15 samples (the least disturbed).
// - eventloop: 16 MiB of the same JSON lines in 64 KiB batches (--batch-kib), one batch
//   after another, through the async API and through the sync APIs (one
//   batch per event-loop turn, as a producer compressing on its event loop
//   would); perf_hooks.monitorEventLoopDelay's p50 / p99 / max, against an
//   idle loop, and the event-loop utilization (performance.eventLoopUtilization:
//   the share of the time the main thread was busy rather than waiting).
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { fileURLToPath, pathToFileURL } from 'node:url'
import zlib from 'node:zlib'

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const OUT_DIR = path.join(REPO, 'node_modules', '.cache', 'kpts-bench-compression')
const ENTRY = `
export * from './src/protocol/compression/index.ts'
export { jsonLines } from './test/harness/compression-inputs.ts'
`

async function build(outfile) {
  const { buildSync } = await import('esbuild')
  buildSync({
    stdin: { contents: ENTRY, resolveDir: REPO, sourcefile: 'bench-compression-entry.ts', loader: 'ts' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outfile,
    logLevel: 'error',
  })
}

if (process.argv[2] === '--build') {
  await build(process.argv[3])
  process.exit(0)
}

const args = process.argv.slice(2)
const iterationsAt = args.indexOf('--iterations')
const ITERATIONS = iterationsAt >= 0 ? Number(args[iterationsAt + 1]) : 20
const batchAt = args.indexOf('--batch-kib')
const BATCH_KIB = batchAt >= 0 ? Number(args[batchAt + 1]) : 64
const sections = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--iterations' && args[i - 1] !== '--batch-kib')
const want = (s) => sections.length === 0 || sections.includes(s)

fs.mkdirSync(OUT_DIR, { recursive: true })
const bundle = path.join(OUT_DIR, 'compression.mjs')
const built = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--build', bundle], { stdio: 'inherit' })
if (built.status !== 0) throw new Error('bundling src/protocol/compression failed')
const c = await import(pathToFileURL(bundle).href)
const require = createRequire(bundle)
const snappy = require('snappy')
const lz4 = require('lz4-napi')
const zstdPkg = require('@toondepauw/node-zstd')

const MiB = 1 << 20
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const fmt = (x, d = 0) => x.toFixed(d)

console.log(`Node ${process.version}, ${process.platform}/${process.arch}; zstd ${c.optionalPackageFor('zstd') ?? 'node:zlib'}`)

const CASES = [
  ['gzip', 1],
  ['gzip', 6],
  ['snappy', undefined],
  ['lz4', undefined],
  ['zstd', 1],
  ['zstd', 3],
]

/** { ms: median wall ms per call, cpuMs: process CPU ms per call (all threads) }. */
async function timeCalls(fn) {
  for (let i = 0; i < 3; i++) await fn() // warm-up
  const ms = []
  const cpu = process.cpuUsage()
  for (let i = 0; i < ITERATIONS; i++) {
    const t = performance.now()
    await fn()
    ms.push(performance.now() - t)
  }
  const used = process.cpuUsage(cpu)
  return { ms: median(ms), cpuMs: (used.user + used.system) / 1000 / ITERATIONS }
}

if (want('throughput')) {
  const input = c.jsonLines(MiB)
  const oneShot = {
    gzip: (level) => () => zlib.gzipSync(input, { level }),
    snappy: () => () => snappy.compressSync(input),
    lz4: () => () => lz4.compressSync(input),
    zstd: (level) => () => new zstdPkg.Encoder(level).encodeSync(input),
  }
  console.log(`\n## Throughput: 1 MiB JSON lines, ${ITERATIONS} calls each (MB/s wall, median call / MB per CPU second)`)
  console.log('| codec | level | compress | decompress | ratio | one-shot sync, no framing: compress, ratio |')
  console.log('| --- | --- | --- | --- | --- | --- |')
  for (const [codec, level] of CASES) {
    const frame = await c.compress(codec, level, input)
    if (!(await c.decompress(codec, frame)).equals(input)) throw new Error(`${codec} round trip failed`)
    const rate = (t) => `${fmt(1000 / t.ms)} / ${fmt(1000 / t.cpuMs)}`
    const cT = await timeCalls(() => c.compress(codec, level, input))
    const dT = await timeCalls(() => c.decompress(codec, frame))
    const ref = oneShot[codec](level)
    const refOut = ref()
    const rT = await timeCalls(async () => ref())
    console.log(
      `| ${codec} | ${level ?? '–'} | ${rate(cT)} | ${rate(dT)} | ${fmt(input.length / frame.length, 2)} | ${rate(rT)}, ${fmt(input.length / refOut.length, 2)} |`,
    )
  }
}

if (want('assembly')) {
  // What the codecs' frame assembly does, against the obvious alternative.
  const input = c.jsonLines(MiB)
  const lz4Blocks = []
  for (let i = 0; i < input.length; i += 65536) lz4Blocks.push(lz4.compressSync(input.subarray(i, i + 65536)))
  const snappyBlocks = []
  for (let i = 0; i < input.length; i += 32768) snappyBlocks.push(snappy.compressSync(input.subarray(i, i + 32768)))
  const single = (blocks, headerSize, trim) => {
    let size = headerSize + 4
    for (const b of blocks) size += 4 + b.length - trim
    const out = Buffer.allocUnsafe(size)
    out.fill(0, 0, headerSize)
    let pos = headerSize
    for (const b of blocks) {
      out.writeUInt32LE(b.length - trim, pos)
      b.copy(out, pos + 4, trim)
      pos += 4 + b.length - trim
    }
    out.writeUInt32LE(0, pos)
    return out
  }
  const concat = (blocks, headerSize, trim) => {
    const parts = [Buffer.alloc(headerSize)]
    for (const b of blocks) {
      const len = Buffer.allocUnsafe(4)
      len.writeUInt32LE(b.length - trim)
      parts.push(len, trim > 0 ? b.subarray(trim) : b)
    }
    parts.push(Buffer.alloc(4))
    return Buffer.concat(parts)
  }
  const N = 500
  /** Fastest of 15 samples of N frames each, the two ways alternating: µs per frame. */
  const duel = (a, b) => {
    for (let i = 0; i < 200; i++) a(), b()
    const best = [Infinity, Infinity]
    for (let s = 0; s < 15; s++) {
      ;[a, b].forEach((fn, k) => {
        const t = process.hrtime.bigint()
        for (let i = 0; i < N; i++) fn()
        best[k] = Math.min(best[k], Number(process.hrtime.bigint() - t) / N / 1000)
      })
    }
    return best.map((x) => fmt(x, 1))
  }
  console.log(`\n## Frame assembly from compressed blocks, 1 MiB input (µs per frame, fastest of 15 samples × ${N})`)
  console.log('| frame | blocks | one allocation | length buffer per block + Buffer.concat |')
  console.log('| --- | --- | --- | --- |')
  const [l1, l2] = duel(() => single(lz4Blocks, 7, 4), () => concat(lz4Blocks, 7, 4))
  console.log(`| lz4 | ${lz4Blocks.length} | ${l1} | ${l2} |`)
  const [s1, s2] = duel(() => single(snappyBlocks, 16, 0), () => concat(snappyBlocks, 16, 0))
  console.log(`| snappy | ${snappyBlocks.length} | ${s1} | ${s2} |`)
}

if (want('eventloop')) {
  const BATCH = BATCH_KIB * 1024
  const data = c.jsonLines(16 * MiB)
  const batches = []
  for (let i = 0; i < data.length; i += BATCH) batches.push(data.subarray(i, i + BATCH))
  const encoders = new Map()
  const sync = {
    gzip: (b, level) => zlib.gzipSync(b, { level }),
    snappy: (b) => snappy.compressSync(b),
    lz4: (b) => lz4.compressSync(b),
    zstd: (b, level) => {
      if (!encoders.has(level)) encoders.set(level, new zstdPkg.Encoder(level))
      return encoders.get(level).encodeSync(b)
    },
  }
  const turn = () => new Promise((resolve) => setImmediate(resolve))
  async function measure(run) {
    const h = monitorEventLoopDelay({ resolution: 1 })
    h.enable()
    const elu = performance.eventLoopUtilization()
    const t = performance.now()
    await run()
    const ms = performance.now() - t
    const busy = performance.eventLoopUtilization(elu).utilization
    h.disable()
    return { ms, busy, p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6 }
  }
  const row = (what, r) => `| ${what} | ${fmt(r.ms)} | ${fmt(r.busy * 100)}% | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${fmt(r.max, 2)} |`
  console.log(`\n## Event-loop delay: 16 MiB in ${batches.length} batches of ${BATCH_KIB} KiB, one after another`)
  console.log('| run | wall ms | loop busy | delay p50 ms | p99 ms | max ms |')
  console.log('| --- | --- | --- | --- | --- | --- |')
  const idle = await measure(() => new Promise((resolve) => setTimeout(resolve, 1000)))
  console.log(row('idle loop, 1 s', idle))
  for (const [codec, level] of [['gzip', 6], ['snappy', undefined], ['lz4', undefined], ['zstd', 3]]) {
    const a = await measure(async () => {
      for (const b of batches) await c.compress(codec, level, b)
    })
    console.log(row(`${codec} async (this module)`, a))
    const s = await measure(async () => {
      for (const b of batches) {
        sync[codec](b, level ?? 0)
        await turn()
      }
    })
    console.log(row(`${codec} sync, one batch per turn`, s))
  }
}
