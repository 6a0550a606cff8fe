// Backpressure: 1 KiB records from a source far faster than the brokers,
// through producer.createWriteStream() (stream.pipeline), producer.sendAll()
// and, for comparison, the callback form with the application's own bound on
// outstanding records (as profile-send.mjs does). Against librdkafka's mock
// cluster; each form in a fresh process.
//
//   node bench/micro/stream-backpressure.mjs                 every form, FORMS=callback,stream,sendAll
//   node bench/micro/stream-backpressure.mjs stream          one form in this process
//
// Environment: RECORDS (300000), VALUE_BYTES (1024), PARTITIONS (4),
// BUFFER_MEMORY (producer default, 32 MiB), MAX_OUTSTANDING (callback form:
// 20000, below buffer.memory / VALUE_BYTES), ROUNDS (1), JSON=1.
//
// Figures: msgs/s from the first record offered to the last acknowledged;
// peak RSS = process.resourceUsage().maxRSS of the measuring process (the
// SDK bundle is built in a child, the mock is another process), also
// sampled every 20 ms with the peak records-in-producer. The check: peak RSS
// under buffer.memory + 64 MB, and stream/sendAll within 10 % of callback.
// `node --expose-gc ... <form>` also prints liveHeapGrowthMB: the heap still
// live after the run (forced GC) minus before it; near 0 means nothing is retained.
import { spawn, spawnSync } from 'node:child_process'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { MOCKCLUSTER_BIN, loadSdk } from './sdk.mjs'

const env = process.env
const num = (name, dflt) => (env[name] === undefined || env[name] === '' ? dflt : Number(env[name]))
const RECORDS = num('RECORDS', 300_000)
const VALUE_BYTES = num('VALUE_BYTES', 1024)
const PARTITIONS = num('PARTITIONS', 4)
const DEFAULT_BUFFER_MEMORY = 32 * 1024 * 1024

async function startMock() {
  const child = spawn(MOCKCLUSTER_BIN, ['3'], { stdio: ['pipe', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout })
  const queue = []
  const waiters = []
  lines.on('line', (l) => (waiters.length > 0 ? waiters.shift()(l) : queue.push(l)))
  const next = () => (queue.length > 0 ? Promise.resolve(queue.shift()) : new Promise((r) => waiters.push(r)))
  const m = /^BOOTSTRAP (\S+)$/.exec(await next())
  const command = async (line) => {
    child.stdin.write(line + '\n')
    const reply = await next()
    if (!reply.startsWith('OK')) throw new Error(`mockcluster ${line}: ${reply}`)
  }
  return { bootstrap: m[1], command, stop: () => new Promise((resolve) => (child.once('exit', resolve), child.stdin.end())) }
}

/** A fast source: a fresh record object per item, all sharing one value buffer (the send copies it). */
function* records(value) {
  for (let i = 0; i < RECORDS; i++) yield { value }
}

async function runForm(form) {
  const sdk = await loadSdk()
  const mock = await startMock()
  const topic = 'bp'
  await mock.command(`topic ${topic} ${PARTITIONS} 1`)
  const config = { bootstrapServers: mock.bootstrap, acks: 1, enableIdempotence: false }
  if (env.BUFFER_MEMORY) config.bufferMemory = Number(env.BUFFER_MEMORY)
  const producer = new sdk.KafkaProducer(config)
  await producer.send({ topic, value: 'warm-up' })
  const value = Buffer.alloc(VALUE_BYTES, 'x')
  globalThis.gc?.()
  const baseHeap = process.memoryUsage().heapUsed
  const baseRss = process.memoryUsage().rss
  let peakHeapUsed = 0
  let peakSampledRss = 0
  let peakInProducer = 0
  const sampler = setInterval(() => {
    const mu = process.memoryUsage()
    peakSampledRss = Math.max(peakSampledRss, mu.rss)
    peakHeapUsed = Math.max(peakHeapUsed, mu.heapUsed)
    const m = producer.metrics()
    peakInProducer = Math.max(peakInProducer, m['buffer-total-bytes'] - m['buffer-available-bytes'])
  }, 20)
  const t0 = performance.now()
  let failed = 0
  if (form === 'stream') {
    const stream = producer.createWriteStream({ topic })
    await pipeline(Readable.from(records(value)), stream)
  } else if (form === 'sendAll') {
    await producer.sendAll(records(value), { topic })
  } else {
    // The callback form: the application bounds what is outstanding itself.
    const maxOutstanding = num('MAX_OUTSTANDING', 20_000)
    let completed = 0
    let sent = 0
    let lowWater = null
    let resolveAll
    const allDone = new Promise((r) => (resolveAll = r))
    const onDone = (err) => {
      if (err !== null) failed++
      if (++completed === RECORDS) resolveAll()
      if (lowWater !== null && sent - completed <= maxOutstanding >> 1) {
        const r = lowWater
        lowWater = null
        r()
      }
    }
    for (const record of records(value)) {
      producer.send({ ...record, topic }, onDone)
      sent++
      if (sent % 1000 === 0) {
        if (sent - completed > maxOutstanding) await new Promise((r) => (lowWater = r))
        else await new Promise((r) => setImmediate(r))
      }
    }
    await allDone
  }
  const secs = (performance.now() - t0) / 1000
  clearInterval(sampler)
  // With --expose-gc: live heap after the run over live heap before it, to tell retention from lazy collection.
  globalThis.gc?.()
  const liveHeapGrowth = process.memoryUsage().heapUsed - baseHeap
  const m = producer.metrics()
  await producer.close()
  await mock.stop()
  const bufferMemory = m['buffer-total-bytes']
  return {
    form,
    records: RECORDS,
    valueBytes: VALUE_BYTES,
    failed: failed + m['record-error-total'],
    seconds: Math.round(secs * 1000) / 1000,
    msgsPerSec: Math.round(RECORDS / secs),
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 102.4) / 10,
    peakSampledRssMB: Math.round(peakSampledRss / 104857.6) / 10,
    baseRssMB: Math.round(baseRss / 104857.6) / 10,
    peakHeapUsedMB: Math.round(peakHeapUsed / 104857.6) / 10,
    ...(globalThis.gc ? { liveHeapGrowthMB: Math.round(liveHeapGrowth / 104857.6) / 10 } : {}),
    peakInProducerMB: Math.round(peakInProducer / 104857.6) / 10,
    limitMB: Math.round((bufferMemory ?? DEFAULT_BUFFER_MEMORY) / 104857.6) / 10 + 64,
  }
}

const arg = process.argv[2]
if (arg && arg !== 'all') {
  const r = await runForm(arg)
  console.log(env.JSON === '1' ? JSON.stringify(r) : r)
} else {
  const forms = (env.FORMS ?? 'callback,stream,sendAll').split(',')
  const rounds = num('ROUNDS', 1)
  const results = Object.fromEntries(forms.map((f) => [f, []]))
  for (let i = 0; i < rounds; i++) {
    for (const form of forms) {
      const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), form], { env: { ...env, JSON: '1' }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
      if (r.status !== 0) {
        console.error(`${form}: exit ${r.status}`)
        continue
      }
      const res = JSON.parse(r.stdout.trim().split('\n').pop())
      results[form].push(res)
      console.log(`${form} #${i + 1}: msgs/s ${res.msgsPerSec}  peak RSS ${res.peakRssMB} MB (limit ${res.limitMB}, ${res.baseRssMB} before the run, heap used peak ${res.peakHeapUsedMB})  in producer ${res.peakInProducerMB} MB  failed ${res.failed}`)
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]
  for (const form of forms) {
    const rs = results[form]
    if (rs.length === 0) continue
    console.log(`${form} median of ${rs.length}: msgs/s ${median(rs.map((r) => r.msgsPerSec))}  peak RSS ${median(rs.map((r) => r.peakRssMB))} MB`)
  }
}
