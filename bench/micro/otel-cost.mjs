// The cost of kafka-producer-ts/opentelemetry on the send path: msg/s against
// librdkafka's mock cluster (1 broker, acks=1, 100-byte values, callback sends)
// with no instrumentation, and with an OpenTelemetry span per send, and with
// spans and metrics, each mode in a fresh process, alternating modes per round
// so all see the same machine noise. Uses dist/ (run `npx tsup` first), the
// real SDK (TracerProvider + BatchSpanProcessor, the AsyncLocalStorage context
// manager as the Node SDK registers it) and an exporter that drops the spans,
// so what is measured is the instrumentation and the SDK, not an export.
//
//   node bench/micro/otel-cost.mjs [rounds=3]     # RECORDS=200000 by default
//   node bench/micro/otel-cost.mjs --run <mode>   # one run, prints JSON (internal)
import { spawn, spawnSync } from 'node:child_process'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const MOCKCLUSTER_BIN = path.join(REPO, '.cache', 'mockcluster', 'mockcluster')
const MODES = ['none', 'spans', 'spans+metrics']

async function startMock() {
  const child = spawn(MOCKCLUSTER_BIN, ['1'], { stdio: ['pipe', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout })
  const first = await new Promise((r) => lines.once('line', r))
  const m = /^BOOTSTRAP (\S+)$/.exec(first)
  if (!m) throw new Error(`mockcluster said: ${first}`)
  return { bootstrap: m[1], stop: () => new Promise((r) => (child.once('exit', r), child.stdin.end())) }
}

async function runOne(mode) {
  const { KafkaProducer } = await import(path.join(REPO, 'dist', 'index.js'))
  let otel = null
  let spans = 0
  if (mode === 'channel') {
    // A subscriber that does nothing: the cost of the traced send path alone.
    const dc = await import('node:diagnostics_channel')
    const noop = () => {}
    dc.tracingChannel('kafka-producer-ts:send').subscribe({ start: noop, end: noop, asyncStart: noop, asyncEnd: noop, error: noop })
  } else if (mode !== 'none') {
    const { context } = await import('@opentelemetry/api')
    const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks')
    const { TracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace')
    const { MeterProvider, MetricReader } = await import('@opentelemetry/sdk-metrics')
    const { enableOpenTelemetry } = await import(path.join(REPO, 'dist', 'opentelemetry', 'index.js'))
    if (process.env.NO_CONTEXT_MANAGER !== '1') context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
    const exporter = {
      export(batch, done) {
        spans += batch.length
        done({ code: 0 })
      },
      shutdown: async () => {},
    }
    const tracerProvider = new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter, maxQueueSize: 65536, maxExportBatchSize: 4096, scheduledDelayMillis: 200 })] })
    class Reader extends MetricReader {
      async onShutdown() {}
      async onForceFlush() {}
    }
    const meterProvider = new MeterProvider({ readers: [new Reader()] })
    otel = { handle: enableOpenTelemetry({ tracerProvider, meterProvider, metrics: mode === 'spans+metrics' }), tracerProvider }
  }
  const mock = await startMock()
  const total = Number(process.env.RECORDS ?? 200_000)
  const producer = new KafkaProducer({ bootstrapServers: mock.bootstrap, acks: 1, enableIdempotence: false })
  await producer.send({ topic: 'cost', value: 'warm-up' })
  const value = Buffer.alloc(100, 'x')
  let completed = 0
  let failed = 0
  let resolveAll
  const allDone = new Promise((r) => (resolveAll = r))
  const onDone = (err) => {
    if (err) failed++
    if (++completed === total) resolveAll()
  }
  const t0 = performance.now()
  const cpu0 = process.cpuUsage()
  for (let sent = 0; sent < total; ) {
    producer.send({ topic: 'cost', value }, onDone)
    if (++sent % 10_000 === 0) {
      // Keep at most ~100k outstanding, and let I/O run.
      while (sent - completed > 100_000) await new Promise((r) => setTimeout(r, 1))
      await new Promise((r) => setImmediate(r))
    }
  }
  await allDone
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  await producer.close()
  if (otel !== null) {
    otel.handle.disable()
    await otel.tracerProvider.forceFlush()
  }
  await mock.stop()
  return { mode, records: total, failed, msgsPerSec: Math.round(total / seconds), cpuSecondsPer1M: +(((cpu.user + cpu.system) / 1e6 / total) * 1e6).toFixed(2), spans }
}

if (process.argv[2] === '--run') {
  console.log(JSON.stringify(await runOne(process.argv[3])))
} else {
  const rounds = Number(process.argv[2] ?? 3)
  const runs = Object.fromEntries(MODES.map((m) => [m, []]))
  for (let i = 0; i < rounds; i++) {
    for (const mode of MODES) {
      const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--run', mode], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], cwd: REPO })
      if (r.status !== 0) throw new Error(`${mode}: exit ${r.status}`)
      const res = JSON.parse(r.stdout.trim().split('\n').pop())
      runs[mode].push(res)
      console.log(`#${i + 1} ${mode}: ${res.msgsPerSec} msg/s, ${res.cpuSecondsPer1M} CPU s per 1M records, ${res.failed} failed, ${res.spans} spans`)
    }
  }
  const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1]
  const base = median(runs.none.map((r) => r.msgsPerSec))
  for (const mode of MODES) {
    const m = median(runs[mode].map((r) => r.msgsPerSec))
    const c = median(runs[mode].map((r) => r.cpuSecondsPer1M))
    console.log(`median ${mode}: ${m} msg/s (${((m / base) * 100).toFixed(0)}% of none), ${c} CPU s per 1M records`)
  }
}
