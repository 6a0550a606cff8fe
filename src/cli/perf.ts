/**
 * `kafka-producer-perf`: Java's `kafka-producer-perf-test` on this client.
 * The send loop is Java's ProducerPerformance loop: for each record, note
 * the time, `send()` with a callback that records the latency, commit the
 * transaction when its duration has passed, and throttle as Java's
 * ThroughputThrottler. Output is Java's: the 5-second window lines (a
 * redrawn progress line instead on a terminal), then the summary line with
 * the 50th/95th/99th/99.9th percentiles, then with --print-metrics the
 * producer's metrics in Java's `ToolsUtils.printMetrics` layout.
 *
 * Where Node differs from a Java thread:
 * - Java's send() blocks while buffer.memory is full. Here the loop keeps
 *   the payload bytes sent and not yet acknowledged under buffer.memory and
 *   waits for acknowledgements beyond it, so memory stays bounded whatever
 *   --num-records is; it also yields to the event loop every YIELD_EVERY
 *   sends so the producer's I/O and the progress view run.
 * - Payloads of --record-size are random uppercase letters as in Java, but
 *   drawn in turn from a pool made up front (PAYLOAD_POOL_BYTES or
 *   --num-records of them, whichever is fewer), not regenerated per record:
 *   the loop measures the producer, not a random generator, and no batch up
 *   to that size repeats a payload (compression sees what Java's would).
 *
 * Only the public API is used (`../index.js`): the tool measures what an
 * application gets. Everything with side effects (clock, output, files,
 * timers, the producer) comes in through `PerfIo`, so tests can drive it.
 */
import { randomUUID } from 'node:crypto'
import { CONFIG_DEFINITIONS, KafkaConfigError, KafkaProducer, VERSION, type ProducerMetricsSnapshot, type RecordMetadata } from '../index.js'
import { PROGRAM, helpText, parsePerfArgs, usageLine, type PerfOptions } from './args.js'
import { TtyLine, type ProgressView } from './progress.js'
import { parseProperties } from './properties.js'
import { renderReport } from './report.js'
import { PerfStats, fixed } from './stats.js'
import { ThroughputThrottler } from './throttler.js'

export interface PerfIo {
  readonly stdout: { write(s: string): unknown; isTTY?: boolean; columns?: number }
  readonly stderr: { write(s: string): unknown }
  readFile(path: string): Buffer
  writeFile(path: string, text: string): void
  resolvePath(path: string): string
  /** Wall-clock ms (Java's System.currentTimeMillis), for latencies and rates. */
  nowMs(): number
  /** Monotonic ns, for the throttler. */
  nowNs(): number
  sleep(ms: number): Promise<void>
  /** Resolves on the next turn of the event loop (after pending I/O). */
  yieldToEventLoop(): Promise<void>
  /** Calls `fn` every `ms` until the returned function is called. */
  every(ms: number, fn: () => void): () => void
  /** Registers a handler for Ctrl-C; returns its removal. */
  onInterrupt(fn: () => void): () => void
}

/** Exit codes: 0 all records acknowledged, 1 a failure (records, config, files), 2 a command-line error. */
export const EXIT_OK = 0
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2

const REPORTING_INTERVAL_MS = 5_000
const YIELD_EVERY = 1_000
const PAYLOAD_POOL_BYTES = 16 * 1024 * 1024
const TTY_REFRESH_MS = 250
/** Java's printTotal percentiles. */
const PERCENTILES = [0.5, 0.95, 0.99, 0.999]
const PERCENTILE_LABELS = ['50th', '95th', '99th', '99.9th']
const DEFAULT_TRANSACTION_ID_PREFIX = 'performance-producer-'
const DEFAULT_TRANSACTION_DURATION_MS = 3_000
/**
 * Producer property names whose values never reach output or the report:
 * every `password` setting of the configuration table, in each of its
 * spellings, so a new secret setting is hidden without touching this tool.
 */
const SECRET_PROPERTIES: ReadonlySet<string> = new Set(
  CONFIG_DEFINITIONS.filter((d) => d.type === 'password').flatMap((d) => [d.name, ...(d.kafkaName === null ? [] : [d.kafkaName]), ...(d.aliases ?? [])]),
)

/**
 * A value as the report shows it: a secret setting's as `[hidden]`; a URL's
 * (the OIDC token endpoint) without user info, query or fragment, where
 * credentials can hide, as the OIDC client's own messages show it.
 */
function redactProperty(key: string, value: string): string {
  if (SECRET_PROPERTIES.has(key)) return '[hidden]'
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    try {
      const u = new URL(value)
      if (u.username !== '' || u.password !== '' || u.search !== '' || u.hash !== '') return `${u.origin}${u.pathname} [credentials or query hidden]`
    } catch {
      return '[hidden]' // not a URL after all: show nothing rather than guess
    }
  }
  return value
}

/**
 * The command line for the report, rendered from the parsed options (not
 * re-parsed from argv, whose `--flag=value`, prefix and list spellings are
 * many), with secret property values hidden.
 */
export function reportCommand(o: PerfOptions): string {
  const arg = (a: string): string => (/[\s"'\\]/.test(a) || a === '' ? JSON.stringify(a) : a)
  const parts: string[] = [PROGRAM, '--topic', o.topic, '--num-records', String(o.numRecords)]
  if (o.recordSize !== null) parts.push('--record-size', String(o.recordSize))
  if (o.payloadFile !== null) parts.push('--payload-file', o.payloadFile, '--payload-delimiter', o.payloadDelimiter)
  if (o.payloadMonotonic) parts.push('--payload-monotonic')
  parts.push('--throughput', String(o.throughput))
  if (o.bootstrapServer !== null) parts.push('--bootstrap-server', o.bootstrapServer)
  if (o.producerProps.length > 0) parts.push('--producer-props', ...o.producerProps.map(([k, v]) => `${k}=${redactProperty(k, v)}`))
  if (o.producerConfigFile !== null) parts.push('--producer.config', o.producerConfigFile)
  if (o.printMetrics) parts.push('--print-metrics')
  if (o.transactionalId !== null) parts.push('--transactional-id', o.transactionalId)
  if (o.transactionDurationMs !== null) parts.push('--transaction-duration-ms', String(o.transactionDurationMs))
  if (o.reportFile !== null) parts.push('--report', o.reportFile)
  return parts.map(arg).join(' ')
}

/** The producer properties, as Java's `readProps` builds them: file, then --producer-props, then --bootstrap-server. */
export function producerProperties(o: PerfOptions, readFile: (p: string) => Buffer): Map<string, string> {
  const props = new Map<string, string>()
  if (o.producerConfigFile !== null) {
    for (const [k, v] of parseProperties(readFile(o.producerConfigFile).toString('utf8'))) props.set(k, v)
  }
  for (const [k, v] of o.producerProps) props.set(k, v)
  if (o.bootstrapServer !== null) props.set('bootstrap.servers', o.bootstrapServer)
  // Java's tool sets ByteArraySerializer itself, whatever was given; here records are bytes already.
  props.delete('key.serializer')
  props.delete('value.serializer')
  if (!props.has('client.id')) props.set('client.id', 'perf-producer-client')
  return props
}

/** Java's readPayloadFile: the file split at the (literal) delimiter, trailing empty entries dropped as String.split drops them. */
export function splitPayloads(text: string, delimiter: string): Buffer[] {
  const parts = text.split(delimiter)
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop()
  return parts.map((p) => Buffer.from(p, 'utf8'))
}

/** Random uppercase letters (Java: random.nextInt(26) + 65), from a fixed seed as Java's SplittableRandom(0). */
export function letterPayloads(recordSize: number, count: number, seed = 0): Buffer[] {
  let s = seed >>> 0
  const next = (): number => {
    // mulberry32
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const out: Buffer[] = []
  const block = Buffer.allocUnsafe(recordSize * count)
  for (let i = 0; i < block.length; i++) block[i] = 65 + Math.floor(next() * 26)
  for (let i = 0; i < count; i++) out.push(block.subarray(i * recordSize, (i + 1) * recordSize))
  return out
}

/** Java's `ToolsUtils.printMetrics` layout over this client's metric snapshot. */
export function formatMetrics(m: ProducerMetricsSnapshot, clientId: string): string {
  const entries: [string, string][] = []
  const num = (v: number): string => fixed(v, 3)
  for (const [k, v] of Object.entries(m)) {
    if (typeof v === 'number') entries.push([`producer-metrics:${k}:{client-id=${clientId}}`, num(v)])
  }
  for (const [codec, c] of Object.entries(m.compression)) {
    for (const [k, v] of Object.entries(c)) entries.push([`producer-metrics:${k}:{client-id=${clientId}, compression-type=${codec}}`, num(v)])
  }
  for (const [node, n] of Object.entries(m.nodes)) {
    for (const [k, v] of Object.entries(n)) entries.push([`producer-node-metrics:${k}:{client-id=${clientId}, node-id=node-${node}}`, num(v)])
  }
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  const w = Math.max('Metric Name'.length, ...entries.map(([k]) => k.length))
  return [`\n${'Metric Name'.padEnd(w)}   Value`, ...entries.map(([k, v]) => `${k.padEnd(w)} : ${v}`)].join('\n')
}

/** Runs the tool; resolves with the exit code. Never calls process.exit. */
export async function runPerf(argv: readonly string[], io: PerfIo): Promise<number> {
  const parsed = parsePerfArgs(argv)
  if (parsed.kind === 'help') {
    io.stdout.write(`${helpText()}\n`)
    return EXIT_OK
  }
  if (parsed.kind === 'error') {
    io.stderr.write(`${usageLine()}\n${PROGRAM}: error: ${parsed.message}\n`)
    return EXIT_USAGE
  }
  try {
    return await perf(parsed.options, io)
  } catch (e) {
    io.stderr.write(`${PROGRAM}: ${e instanceof Error ? e.message : String(e)}\n`)
    return EXIT_FAILURE
  }
}

function readOrFail(io: PerfIo, path: string, flag: string): Buffer {
  try {
    return io.readFile(path)
  } catch (e) {
    throw new Error(`${flag} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
  }
}

async function perf(o: PerfOptions, io: PerfIo): Promise<number> {
  const props = producerProperties(o, (p) => readOrFail(io, p, '--producer.config'))
  let payloads: Buffer[]
  if (o.payloadFile !== null) {
    io.stdout.write(`Reading payloads from: ${io.resolvePath(o.payloadFile)}\n`)
    const text = readOrFail(io, o.payloadFile, '--payload-file').toString('utf8')
    payloads = text.length === 0 ? [] : splitPayloads(text, o.payloadDelimiter)
    if (payloads.length === 0) throw new Error('File does not exist or empty file provided.')
    io.stdout.write(`Number of messages read: ${payloads.length}\n`)
  } else if (o.recordSize !== null) {
    payloads = letterPayloads(o.recordSize, Math.max(1, Math.min(o.numRecords, Math.ceil(PAYLOAD_POOL_BYTES / o.recordSize))))
  } else payloads = []

  // Transactions as Java enables them: --transaction-duration-ms, --transactional-id or transactional.id.
  const transactional = o.transactionDurationMs !== null || o.transactionalId !== null || props.has('transactional.id')
  if (transactional) props.set('transactional.id', o.transactionalId ?? props.get('transactional.id') ?? `${DEFAULT_TRANSACTION_ID_PREFIX}${randomUUID()}`)
  const transactionDurationMs = o.transactionDurationMs ?? DEFAULT_TRANSACTION_DURATION_MS

  const config = Object.fromEntries(props) as unknown as ConstructorParameters<typeof KafkaProducer>[0]
  let producer: KafkaProducer<unknown, unknown>
  try {
    producer = new KafkaProducer(config)
  } catch (e) {
    if (e instanceof KafkaConfigError) throw new Error(`${e.message} (from ${o.producerConfigFile !== null ? '--producer.config / ' : ''}--producer-props)`)
    throw e
  }
  const bufferMemory = producer.metrics()['buffer-total-bytes']
  const clientId = props.get('client.id')!
  const tty = io.stdout.isTTY === true
  const line = tty ? new TtyLine(io.stdout) : null
  const say = (s: string): void => {
    line?.clear()
    io.stdout.write(`${s}\n`)
  }

  // As Java: the clock of the run (rates, the throttler) starts after initTransactions().
  if (transactional) {
    try {
      await producer.initTransactions()
    } catch (e) {
      await producer.close({ timeoutMs: 5_000 }).catch(() => {})
      throw e
    }
  }
  const startMs = io.nowMs()
  const stats = new PerfStats(o.numRecords, REPORTING_INTERVAL_MS, startMs, tty ? null : say)
  const throttler = new ThroughputThrottler(o.throughput, startMs, { nowNs: io.nowNs, sleep: io.sleep })

  // Acknowledgements: Java's PerfCallback, plus the in-flight accounting the loop waits on.
  let outstanding = 0
  let outstandingBytes = 0
  let failed = 0
  const errors = new Map<string, number>()
  let roomWaiter: (() => void) | null = null
  const resumeBelow = bufferMemory * 0.75
  const completion = (sendStartMs: number, bytes: number) => (err: Error | null, _md: RecordMetadata | null) => {
    const now = io.nowMs()
    outstanding--
    outstandingBytes -= bytes
    if (err === null) stats.record(now - sendStartMs, bytes, now)
    else {
      failed++
      const n = errors.get(err.message) ?? 0
      errors.set(err.message, n + 1)
      if (n === 0) {
        line?.clear()
        io.stderr.write(`${PROGRAM}: send failed: ${err.name}: ${err.message}\n`)
      }
    }
    if (roomWaiter !== null && outstandingBytes <= resumeBelow) {
      const w = roomWaiter
      roomWaiter = null
      w()
    }
  }

  // The terminal view, redrawn on a timer: a display refresh, not a decision of the send loop.
  let stopView = (): void => {}
  if (line !== null) {
    const history: { t: number; count: number; bytes: number }[] = []
    stopView = io.every(TTY_REFRESH_MS, () => {
      const now = io.nowMs()
      history.push({ t: now, count: stats.count, bytes: stats.bytes })
      if (history.length > 5) history.splice(0, history.length - 5)
      const from = history[0]!
      const dt = Math.max(1, now - from.t)
      const s = stats.secCount.length - 1
      let n = 0
      let sum = 0
      let max = NaN
      for (let i = Math.max(0, s - 1); i <= s; i++) {
        n += stats.secCount[i]!
        sum += stats.secLatencySum[i]!
        if (stats.secCount[i]! > 0) max = Number.isNaN(max) ? stats.secLatencyMax[i]! : Math.max(max, stats.secLatencyMax[i]!)
      }
      const m = producer.metrics()
      const view: ProgressView = {
        acked: stats.count,
        total: o.numRecords,
        recordsPerSec: history.length > 1 ? ((stats.count - from.count) * 1000) / dt : 0,
        mbPerSec: history.length > 1 ? ((stats.bytes - from.bytes) * 1000) / dt / (1024 * 1024) : 0,
        avgLatencyMs: n > 0 ? sum / n : NaN,
        maxLatencyMs: max,
        requestsInFlight: m['requests-in-flight'],
        recordsInFlight: outstanding,
        bufferUsed: m['buffer-total-bytes'] > 0 ? 1 - m['buffer-available-bytes'] / m['buffer-total-bytes'] : 0,
        elapsedMs: now - startMs,
      }
      line.draw(view)
    })
  }

  // Ctrl-C: stop sending, let what was sent complete, print the summary of what was done.
  let interrupted = false
  const stopInterrupt = io.onInterrupt(() => {
    interrupted = true
  })

  const record = { topic: o.topic, value: null as Buffer | null }
  let txnOpen = false
  let txnStart = 0
  let sent = 0
  let summary = ''
  let percentiles: number[] = []
  try {
    for (let i = 0; i < o.numRecords && !interrupted; i++) {
      const payload = o.payloadFile !== null ? payloads[Math.floor(Math.random() * payloads.length)]! : o.recordSize !== null ? payloads[i % payloads.length]! : Buffer.from(String(i), 'utf8')
      if (transactional && !txnOpen) {
        producer.beginTransaction()
        txnOpen = true
        txnStart = io.nowMs()
      }
      record.value = payload
      const sendStartMs = io.nowMs()
      outstanding++
      outstandingBytes += payload.length
      producer.send(record, completion(sendStartMs, payload.length))
      sent++
      if (transactional && transactionDurationMs <= sendStartMs - txnStart) {
        await producer.commitTransaction()
        txnOpen = false
      }
      // Where Java's next send() would block for buffer.memory, wait for acknowledgements; then throttle.
      if (outstandingBytes > bufferMemory) await new Promise<void>((resolve) => (roomWaiter = resolve))
      if (throttler.shouldThrottle(i, sendStartMs)) await throttler.throttle()
      else if (i % YIELD_EVERY === YIELD_EVERY - 1) await io.yieldToEventLoop()
    }
    if (transactional && txnOpen) await producer.commitTransaction()
    // Java's close() runs after every send() has returned, so nothing still waits for metadata or memory;
    // here sends may still wait, and close() would fail them: flush first.
    await producer.flush()
    // Java's order: without --print-metrics close() comes before the summary; with it, after the metrics.
    if (!o.printMetrics) await producer.close()
    stopView()
    line?.clear()
    percentiles = stats.percentiles(...PERCENTILES)
    summary = stats.totalLine(io.nowMs(), percentiles)
    io.stdout.write(`${summary}\n`)
    if (o.printMetrics) {
      io.stdout.write(`${formatMetrics(producer.metrics(), clientId)}\n`)
      await producer.close()
    }
  } catch (e) {
    stopView()
    line?.clear()
    await producer.close({ timeoutMs: 5_000 }).catch(() => {})
    throw e
  } finally {
    stopInterrupt()
  }

  if (interrupted) io.stderr.write(`${PROGRAM}: interrupted after ${sent} of ${o.numRecords} records\n`)
  if (failed > 0) {
    io.stderr.write(`${PROGRAM}: ${failed} of ${sent} records failed:\n`)
    for (const [message, n] of errors) io.stderr.write(`  ${n} × ${message}\n`)
  }
  if (o.reportFile !== null) {
    io.writeFile(
      o.reportFile,
      renderReport({
        title: `${PROGRAM}: ${o.topic}`,
        command: reportCommand(o),
        settings: [...props].map(([k, v]) => [k, redactProperty(k, v)] as const),
        summaryLine: summary,
        startedAt: new Date(startMs).toISOString(),
        toolVersion: VERSION,
        elapsedMs: stats.lastMs - startMs,
        secCount: stats.secCount,
        secBytes: stats.secBytes,
        secLatencySum: stats.secLatencySum,
        secLatencyMax: stats.secLatencyMax,
        histogram: stats.latencyHistogram(),
        percentiles: PERCENTILE_LABELS.map((label, i) => ({ label, ms: percentiles[i]! })),
        failed,
      }),
    )
    io.stdout.write(`Report written to ${io.resolvePath(o.reportFile)}\n`)
  }
  return failed > 0 || interrupted ? EXIT_FAILURE : EXIT_OK
}
