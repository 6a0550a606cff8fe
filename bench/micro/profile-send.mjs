// Profile driver for the send path against librdkafka's mock cluster.
//
//   node bench/micro/profile-send.mjs [variant]            one variant in this process
//   node --cpu-prof --cpu-prof-dir=bench/micro/profiles bench/micro/profile-send.mjs acks1
//   node bench/micro/profile-send.mjs all                  every variant, each in a fresh process
//
// Variants:
//   acks1  1,000,000 records of 100 B, null key, 4 partitions, acks=1, enableIdempotence false, callback sends
//   idem   the same with the producer defaults: acks=all + idempotence
//   latency 5,000 records/s for 5 s (after 1 s of warm-up), lingerMs 0, acks=1: send-to-callback latency
//
// Environment: RECORDS (1000000), VALUE_BYTES (100), BROKERS (3), PARTITIONS (4),
// MOCK_NODELAY=1 (TCP_NODELAY on the mock's side, as a real broker),
// LINGER_MS / BATCH_SIZE (producer defaults when unset), MAX_OUTSTANDING (200000),
// COUNT_PASSES=1 (throughput variants): also count the sender's accumulator passes, read through the
// producer's private `accumulator` field (a diagnostic, not API): ready() and drain() calls, batches drained,
// and appends that went through the wait for buffer.memory (appendAsync).
// KEYS (0: null keys; N: record i has the key `key-<i mod N>` as a Buffer, as bench scenario 6),
// WARMUP_S (1, latency: seconds of sends not measured), YIELD_EVERY (10000), FORM (callback: one shared callback; closure: a new
// closure per send; promise: send().then), RATE (5000, latency), DURATION (5 s, latency), JSON=1 for one JSON line.
//
// The send loop is what a callback user writes: send, and yield to the event
// loop every YIELD_EVERY records so the network loop runs alongside; while
// more than MAX_OUTSTANDING records are unacknowledged (a bound below
// buffer.memory), wait for half of them to complete. Metadata and connections
// are warmed up with one awaited send before the clock starts.
//
// HEAP_PROFILE=<file.heapprofile> samples allocations of the timed section
// (collected objects included); top-profile.mjs reads it too.
// PROFILE=<file.cpuprofile> records a CPU profile of the timed section only
// (inspector, PROFILE_INTERVAL_US sampling, default 100 us); `node --cpu-prof`
// works too but also covers start-up and the mock cluster's set-up.
//
// Figures: msgs/s and CPU seconds (process.cpuUsage, user + system, all
// threads of this process) from the first timed send to the last callback;
// peak RSS is process.resourceUsage().maxRSS over the whole process.
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Session } from 'node:inspector/promises'
import { createInterface } from 'node:readline'
import v8 from 'node:v8'
import { fileURLToPath } from 'node:url'
import { MOCKCLUSTER_BIN, loadSdk } from './sdk.mjs'

const env = process.env
const num = (name, dflt) => (env[name] === undefined || env[name] === '' ? dflt : Number(env[name]))

/** MOCK_NODELAY=1: the mock's accepted sockets get TCP_NODELAY, as a real broker's (see bench/c/mock-nodelay.c). */
function mockEnv() {
  if (env.MOCK_NODELAY !== '1') return env
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kpts-shim-'))
  const so = path.join(dir, 'mock-nodelay.so')
  const src = fileURLToPath(new URL('../c/mock-nodelay.c', import.meta.url))
  const r = spawnSync('cc', ['-shared', '-fPIC', '-O2', '-o', so, src, '-ldl'], { stdio: 'inherit' })
  if (r.status !== 0) throw new Error('could not build mock-nodelay.so')
  return { ...env, LD_PRELOAD: so }
}

async function startMock(brokers) {
  const child = spawn(MOCKCLUSTER_BIN, [String(brokers)], { stdio: ['pipe', 'pipe', 'inherit'], env: mockEnv() })
  const lines = createInterface({ input: child.stdout })
  const queue = []
  const waiters = []
  lines.on('line', (l) => (waiters.length > 0 ? waiters.shift()(l) : queue.push(l)))
  const next = () => (queue.length > 0 ? Promise.resolve(queue.shift()) : new Promise((r) => waiters.push(r)))
  const first = await next()
  const m = /^BOOTSTRAP (\S+)$/.exec(first)
  if (!m) throw new Error(`mockcluster said: ${first}`)
  const command = async (line) => {
    child.stdin.write(line + '\n')
    const reply = await next()
    if (!reply.startsWith('OK')) throw new Error(`mockcluster ${line}: ${reply}`)
    return reply
  }
  return {
    bootstrap: m[1],
    command,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', resolve)
        child.stdin.end()
      }),
  }
}

async function throughput(sdk, bootstrap, topic, variant) {
  const total = num('RECORDS', 1_000_000)
  const valueBytes = num('VALUE_BYTES', 100)
  const maxOutstanding = num('MAX_OUTSTANDING', 200_000)
  const yieldEvery = num('YIELD_EVERY', 10_000)
  const config = { bootstrapServers: bootstrap }
  if (variant === 'acks1') Object.assign(config, { acks: 1, enableIdempotence: false })
  if (env.LINGER_MS) config.lingerMs = Number(env.LINGER_MS)
  if (env.BATCH_SIZE) config.batchSize = Number(env.BATCH_SIZE)
  const producer = new sdk.KafkaProducer(config)
  await producer.send({ topic, value: 'warm-up' })
  const passes = env.COUNT_PASSES === '1' ? countPasses(producer) : null

  const value = Buffer.alloc(valueBytes, 'x')
  const nKeys = num('KEYS', 0)
  const keys = Array.from({ length: nKeys }, (_, i) => Buffer.from(`key-${i}`))
  let completed = 0
  let failed = 0
  let firstError = null
  let lowWater = null // resolve() of the wait below, or null
  let lowMark = 0
  let resolveAll = null
  const allDone = new Promise((r) => (resolveAll = r))
  const onDone = (err) => {
    if (err !== null) {
      failed++
      firstError ??= err
    }
    if (++completed === total) resolveAll()
    if (lowWater !== null && sent - completed <= lowMark) {
      const r = lowWater
      lowWater = null
      r()
    }
  }
  let sent = 0
  const profiler = await startProfile()
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const form = env.FORM ?? 'callback'
  const onOk = () => onDone(null)
  for (; sent < total; ) {
    if (nKeys > 0) producer.send({ topic, key: keys[sent % nKeys], value }, onDone)
    else if (form === 'callback') producer.send({ topic, value }, onDone)
    else if (form === 'closure') producer.send({ topic, value }, (err) => onDone(err)) // a new closure per send
    else producer.send({ topic, value }).then(onOk, onDone)
    sent++
    if (sent % yieldEvery === 0) {
      sampleMemory()
      if (sent - completed > maxOutstanding) {
        lowMark = maxOutstanding >> 1
        await new Promise((r) => (lowWater = r))
      } else {
        await new Promise((r) => setImmediate(r))
      }
    }
  }
  await allDone
  const t1 = performance.now()
  const cpu = process.cpuUsage(cpu0)
  await stopProfile(profiler)
  const m = producer.metrics()
  await producer.close()
  const secs = (t1 - t0) / 1000
  const cpuSecs = (cpu.user + cpu.system) / 1e6
  return {
    variant: form === 'callback' ? variant : `${variant}/${form}`,
    records: total,
    valueBytes,
    failed,
    firstError: firstError === null ? null : String(firstError),
    seconds: round(secs, 3),
    msgsPerSec: Math.round(total / secs),
    cpuSeconds: round(cpuSecs, 3),
    cpuSecondsPer1M: round((cpuSecs * 1e6) / total, 3),
    userSeconds: round(cpu.user / 1e6, 3),
    systemSeconds: round(cpu.system / 1e6, 3),
    peakRssMB: round(process.resourceUsage().maxRSS / 1024, 1),
    peakHeapUsedMB: round(mem.heapUsed / 1048576, 1),
    peakHeapTotalMB: round(mem.heapTotal / 1048576, 1),
    peakArrayBuffersMB: round(mem.arrayBuffers / 1048576, 1),
    ...(mem.spaces ? { heapSpacesAtPeak: mem.spaces } : {}),
    requests: m['request-total'],
    recordsPerRequest: round(m['records-per-request-avg'], 1),
    batchSizeAvg: Math.round(m['batch-size-avg']),
    ...(passes ? { passes } : {}),
  }
}

/** COUNT_PASSES: wraps the accumulator's ready/drain/appendAsync (private fields, reached at run time) with counters. */
function countPasses(producer) {
  const acc = producer.accumulator
  const c = { ready: 0, drain: 0, drainedBatches: 0, appendAsync: 0 }
  const ready = acc.ready.bind(acc)
  const drain = acc.drain.bind(acc)
  const appendAsync = acc.appendAsync.bind(acc)
  acc.ready = (...a) => (c.ready++, ready(...a))
  acc.drain = (...a) => {
    c.drain++
    const out = drain(...a)
    for (const l of out.values()) c.drainedBatches += l.length
    return out
  }
  acc.appendAsync = (...a) => (c.appendAsync++, appendAsync(...a))
  return c
}

async function latency(sdk, bootstrap, topic) {
  const rate = num('RATE', 5000)
  const seconds = num('DURATION', 5)
  const valueBytes = num('VALUE_BYTES', 100)
  const producer = new sdk.KafkaProducer({ bootstrapServers: bootstrap, acks: 1, enableIdempotence: false, lingerMs: 0 })
  await producer.send({ topic, value: 'warm-up' })
  const value = Buffer.alloc(valueBytes, 'x')
  const warmup = Math.round(rate * num('WARMUP_S', 1)) // one second by default
  const total = warmup + rate * seconds
  const lat = new Float64Array(total)
  let completed = 0
  let failed = 0
  let resolveAll = null
  const allDone = new Promise((r) => (resolveAll = r))
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const intervalMs = 1000 / rate
  let sent = 0
  const profiler = await startProfile()
  await new Promise((resolveSending) => {
    const tick = () => {
      const now = performance.now()
      // Every record due by now goes; a 1 ms timer tick carries about rate/1000 of them.
      while (sent < total && t0 + sent * intervalMs <= now) {
        const i = sent++
        const start = performance.now()
        producer.send({ topic, value }, (err) => {
          lat[i] = performance.now() - start
          if (err !== null) failed++
          if (++completed === total) resolveAll()
        })
      }
      if (sent < total) setTimeout(tick, Math.max(0, t0 + sent * intervalMs - performance.now()))
      else resolveSending()
    }
    tick()
  })
  await allDone
  const cpu = process.cpuUsage(cpu0)
  const secs = (performance.now() - t0) / 1000
  await stopProfile(profiler)
  const m = producer.metrics()
  await producer.close()
  const measured = Array.from(lat.subarray(warmup)).sort((a, b) => a - b)
  const q = (p) => round(measured[Math.min(measured.length - 1, Math.floor(p * measured.length))], 3)
  return {
    variant: 'latency',
    rate,
    records: measured.length,
    failed,
    p50Ms: q(0.5),
    p90Ms: q(0.9),
    p99Ms: q(0.99),
    p999Ms: q(0.999),
    maxMs: round(measured[measured.length - 1], 3),
    cpuPercent: round((100 * (cpu.user + cpu.system)) / 1e6 / secs, 1),
    userPercent: round((100 * cpu.user) / 1e6 / secs, 1),
    requestLatencyAvgMs: round(m['request-latency-avg'], 3),
    requestLatencyMaxMs: round(m['request-latency-max'], 3),
    queueTimeAvgMs: round(m['record-queue-time-avg'], 3),
    recordsPerRequest: round(m['records-per-request-avg'], 2),
    peakRssMB: round(process.resourceUsage().maxRSS / 1024, 1),
  }
}

/** Peaks of process.memoryUsage() fields, sampled at every yield of the send loop. */
const mem = { heapUsed: 0, heapTotal: 0, arrayBuffers: 0 }
function sampleMemory() {
  const m = process.memoryUsage()
  if (env.HEAP_SPACES === '1' && m.heapTotal > mem.heapTotal) {
    mem.spaces = v8.getHeapSpaceStatistics().map((s) => `${s.space_name} ${(s.space_size / 1048576).toFixed(1)}/${(s.space_used_size / 1048576).toFixed(1)}`).join(', ')
  }
  if (m.heapUsed > mem.heapUsed) mem.heapUsed = m.heapUsed
  if (m.heapTotal > mem.heapTotal) mem.heapTotal = m.heapTotal
  if (m.arrayBuffers > mem.arrayBuffers) mem.arrayBuffers = m.arrayBuffers
}

async function startProfile() {
  if (env.HEAP_PROFILE) {
    // Allocation sampling, collected objects included: what the send path allocates, live or not.
    const session = new Session()
    session.connect()
    await session.post('HeapProfiler.enable')
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: num('HEAP_PROFILE_INTERVAL', 4096),
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    })
    return session
  }
  if (!env.PROFILE) return null
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: num('PROFILE_INTERVAL_US', 100) })
  await session.post('Profiler.start')
  return session
}

async function stopProfile(session) {
  if (session === null) return
  if (env.HEAP_PROFILE) {
    const { profile } = await session.post('HeapProfiler.stopSampling')
    fs.writeFileSync(env.HEAP_PROFILE, JSON.stringify(profile))
    session.disconnect()
    return
  }
  const { profile } = await session.post('Profiler.stop')
  fs.writeFileSync(env.PROFILE, JSON.stringify(profile))
  session.disconnect()
}

function round(v, d) {
  const f = 10 ** d
  return Math.round(v * f) / f
}

function print(r) {
  if (env.JSON === '1') {
    console.log(JSON.stringify(r))
    return
  }
  if (r.variant === 'latency') {
    console.log(
      `latency  ${r.rate} msg/s, ${r.records} records: p50 ${r.p50Ms} ms  p90 ${r.p90Ms} ms  p99 ${r.p99Ms} ms  p99.9 ${r.p999Ms} ms  max ${r.maxMs} ms` +
        `  (request latency avg ${r.requestLatencyAvgMs} max ${r.requestLatencyMaxMs} ms, queue time avg ${r.queueTimeAvgMs} ms, ${r.recordsPerRequest} rec/req)` +
        `  cpu ${r.cpuPercent}% (user ${r.userPercent}%)  peak RSS ${r.peakRssMB} MB  failed ${r.failed}`,
    )
    return
  }
  console.log(
    `${r.variant.padEnd(7)}  ${r.msgsPerSec.toLocaleString('en-US')} msgs/s  ${r.seconds} s  CPU ${r.cpuSeconds} s (user ${r.userSeconds}, sys ${r.systemSeconds})` +
      ` = ${r.cpuSecondsPer1M} s per 1M  peak RSS ${r.peakRssMB} MB (heap ${r.peakHeapUsedMB}/${r.peakHeapTotalMB}, buffers ${r.peakArrayBuffersMB})  requests ${r.requests} (${r.recordsPerRequest} rec/req, batch ${r.batchSizeAvg} B)` +
      `  failed ${r.failed}${r.firstError ? ` (${r.firstError})` : ''}${r.heapSpacesAtPeak ? `\n  heap spaces at peak (size/used MB): ${r.heapSpacesAtPeak}` : ''}`,
  )
}

async function main() {
  const variant = process.argv[2] ?? 'acks1'
  if (variant === 'all') {
    // Each run in its own process, so peak RSS and JIT state are its own; medians over RUNS runs.
    const self = fileURLToPath(import.meta.url)
    const runs = num('RUNS', 5)
    const only = process.argv[3] ? process.argv[3].split(',') : ['acks1', 'idem', 'latency']
    for (const v of only) {
      const results = []
      for (let i = 0; i < runs; i++) {
        const r = spawnSync(process.execPath, [self, v], { env: { ...env, JSON: '1' }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
        if (r.status !== 0) {
          process.exitCode = 1
          continue
        }
        const res = JSON.parse(r.stdout.trim().split('\n').pop())
        results.push(res)
        if (env.VERBOSE === '1') print(res)
      }
      if (results.length === 0) continue
      const median = {}
      for (const k of Object.keys(results[0])) {
        const vals = results.map((x) => x[k])
        median[k] = typeof vals[0] === 'number' ? vals.sort((a, b) => a - b)[vals.length >> 1] : vals[0]
      }
      median.variant = `${v}`
      process.stdout.write(`median of ${results.length}: `)
      print(median)
    }
    return
  }
  if (!['acks1', 'idem', 'latency'].includes(variant)) throw new Error(`unknown variant ${variant}`)
  const sdk = await loadSdk()
  const mock = await startMock(num('BROKERS', 3))
  const topic = 'bench'
  try {
    await mock.command(`topic ${topic} ${num('PARTITIONS', 4)} 1`)
    print(variant === 'latency' ? await latency(sdk, mock.bootstrap, topic) : await throughput(sdk, mock.bootstrap, topic, variant))
  } finally {
    await mock.stop()
  }
}

await main()
