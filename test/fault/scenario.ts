/**
 * The fault-matrix runner: streams keyed records whose values carry a per-key
 * sequence number through one producer while a `during` hook injects a fault,
 * then reads the topic back (kcat) and accounts for every record.
 *
 * Record i has key `k${i % keys}` and per-key sequence `Math.floor(i / keys)`,
 * so every key's sequence starts at 0 and grows by one per send. The value is
 * `${key}:${seq}|` padded with '.' to `valueBytes`. Sends use the callback
 * form with at most `maxOutstanding` records unacknowledged, so a fault
 * injected "after N acks" lands in the middle of the stream.
 *
 * Analysis (kcat output, sorted by partition and offset):
 * - lost: acknowledged, not found
 * - duplicated: (key, seq) pairs found more than once
 * - reordered: within a partition, a record whose seq is lower than an earlier
 *   seq of the same key (every occurrence counts; a duplicated batch counts too)
 * - reorderedFirst: the same, looking only at the first copy of each (key, seq),
 *   i.e. the order damage that is not explained by duplicates
 * - failedButPresent: failed sends that did land (allowed: a failed send may or
 *   may not have been written); pendingButPresent should never happen
 * - misplaced: acknowledged with an offset (>= 0) where kcat found something else
 * - misrouted: acknowledged in a partition other than the key's murmur2 partition
 * Every failure's error is recorded; `untyped` counts those that are not a
 * KafkaClientError.
 */
import { expect } from 'vitest'
import { CONFIG_DEFINITIONS, KafkaClientError, KafkaProducer, type ProducerConfig, partitionForKey } from '../../src/index.js'
import type { ConsumedRecord } from '../harness/consume.js'

export type FaultProducerConfig = Omit<ProducerConfig, 'bootstrapServers' | 'bootstrap.servers'> & { enableIdempotence?: boolean }

/** What the `during` hook gets: the live producer, progress counters and waits. */
export interface ScenarioContext {
  readonly producer: KafkaProducer
  readonly records: number
  /** Sends issued / acknowledged / failed so far. */
  sent(): number
  acked(): number
  failed(): number
  /** Every send has completed (acknowledged or failed). */
  finished(): boolean
  /** Resolves true once `acked() >= n`, false if the run finishes first or `timeoutMs` (default 60 s) passes. */
  waitForAcks(n: number, timeoutMs?: number): Promise<boolean>
  /** Resolves true once `predicate()` holds, false if the run finishes first or `timeoutMs` passes. */
  waitUntil(predicate: () => boolean, timeoutMs?: number): Promise<boolean>
  sleep(ms: number): Promise<void>
  /** Adds a timestamped line to the scenario's event log (printed after the summary). */
  log(message: string): void
}

export interface ScenarioOptions {
  /** Short fault name for the summary line. */
  name: string
  bootstrap: string
  topic: string
  partitions: number
  /** Default 100 000. */
  records?: number
  /** Default 1000 (k0..k999). */
  keys?: number
  /** Unacknowledged sends allowed at once; default 20 000. */
  maxOutstanding?: number
  /** Bytes per value including the `${key}:${seq}|` prefix; default 32. */
  valueBytes?: number
  /** Merged over { bootstrapServers }. */
  producerConfig?: FaultProducerConfig
  /** Injects (and heals) the fault while the records are sent. Awaited before the analysis. */
  during?: (ctx: ScenarioContext) => Promise<void>
  /** Reads the whole topic back, e.g. () => consumeWithKcat(bootstrap, topic, { partitions }). */
  consume: () => Promise<ConsumedRecord[]>
  /** close({ timeoutMs }) after every send completed; default 10 000. */
  closeTimeoutMs?: number
  /** Every send must complete within this long, else the run counts as hung and throws; default 90 000. */
  runTimeoutMs?: number
  /** Extra lines for the report (e.g. what a proxy saw), called after the run. */
  report?: () => string
}

export interface ErrorKind {
  /** `${constructor name}: ${message with digits collapsed}` */
  readonly kind: string
  readonly count: number
  readonly typed: boolean
  readonly retriable: boolean | undefined
  readonly example: Error
}

export interface ScenarioResult {
  readonly name: string
  readonly idempotence: 'on' | 'off'
  readonly sent: number
  readonly acked: number
  readonly failed: number
  /** Distinct (key, seq) pairs read back. */
  readonly found: number
  /** Records read back, duplicates included. */
  readonly consumed: number
  readonly lost: number
  readonly duplicated: number
  readonly reordered: number
  readonly reorderedFirst: number
  readonly failedButPresent: number
  readonly pendingButPresent: number
  readonly misplaced: number
  readonly misrouted: number
  /** Records in the topic that this run did not send (unparseable, or an index never sent). */
  readonly foreign: number
  /** Callbacks called more than once for the same send. */
  readonly doubleCompletions: number
  /** Failures whose error is not a KafkaClientError (or a send() that threw). */
  readonly untyped: number
  readonly errors: ErrorKind[]
  /** How many sends had been issued when the first failure was reported (-1: none failed). */
  readonly sentAtFirstFailure: number
  /** Sends issued after the first failure was reported that were nevertheless acknowledged. */
  readonly ackedAfterFirstFailure: number
  /** Index of every failed send (record i: key k(i % keys), seq floor(i / keys)). */
  readonly failedIndexes: number[]
  /** Partitions whose acknowledged records failed, and those that had none fail. */
  readonly failedPartitions: number[]
  readonly elapsedMs: number
  readonly closeMs: number
  readonly metrics: Record<string, number>
  /** A few examples of each problem, for diagnosis. */
  readonly samples: Record<string, string[]>
  readonly summary: string
}

const PAD = '.'.repeat(256)

export function keyOf(i: number, keys: number): string {
  return `k${i % keys}`
}

export function seqOf(i: number, keys: number): number {
  return Math.floor(i / keys)
}

/** The producer config the runner will use, and whether idempotence is on for it. */
export function resolveFaultConfig(bootstrap: string, cfg: FaultProducerConfig = {}): { config: ProducerConfig; idempotence: 'on' | 'off' } {
  const config = { ...cfg, bootstrapServers: bootstrap } as ProducerConfig & { enableIdempotence?: boolean }
  const known = CONFIG_DEFINITIONS.some((d) => d.name === ('enableIdempotence' as string))
  // Before the option exists the producer rejects it as an unknown key; the scenario then
  // runs with what the producer does by default, and the summary says idempotence is off.
  if (!known) delete config.enableIdempotence
  const idempotence = known && config.enableIdempotence !== false ? 'on' : 'off'
  return { config, idempotence }
}

export async function runScenario(opts: ScenarioOptions): Promise<ScenarioResult> {
  const records = opts.records ?? 100_000
  const keys = opts.keys ?? 1000
  const maxOutstanding = opts.maxOutstanding ?? 20_000
  const valueBytes = opts.valueBytes ?? 32
  const runTimeoutMs = opts.runTimeoutMs ?? 90_000
  const closeTimeoutMs = opts.closeTimeoutMs ?? 10_000
  const { topic, partitions } = opts
  const { config, idempotence } = resolveFaultConfig(opts.bootstrap, opts.producerConfig)

  const keyPartition = new Int32Array(keys)
  const keyBufs: Buffer[] = []
  for (let k = 0; k < keys; k++) {
    keyBufs.push(Buffer.from(`k${k}`))
    keyPartition[k] = partitionForKey(keyBufs[k]!, partitions)
  }

  // Outcome per send: 0 pending, 1 acked, 2 failed.
  const status = new Uint8Array(records)
  const ackPartition = new Int32Array(records).fill(-1)
  const ackOffset = new Float64Array(records).fill(-1)
  const errorKindOf = new Int32Array(records).fill(-1)
  const kinds: { kind: string; count: number; typed: boolean; retriable: boolean | undefined; example: Error }[] = []
  const kindIndex = new Map<string, number>()
  let sent = 0
  let acked = 0
  let failed = 0
  let untyped = 0
  let doubleCompletions = 0
  let sentAtFirstFailure = -1
  const events: string[] = []
  const started = Date.now()
  const stamp = () => `+${((Date.now() - started) / 1000).toFixed(2)}s`

  // Wake-ups for the send loop (room in the window) and for ctx waits (progress).
  let progressWaiters: (() => void)[] = []
  const notify = () => {
    const w = progressWaiters
    progressWaiters = []
    for (const f of w) f()
  }
  let notifyScheduled = false
  const scheduleNotify = () => {
    if (notifyScheduled) return
    notifyScheduled = true
    setImmediate(() => {
      notifyScheduled = false
      notify()
    })
  }
  const outstanding = () => sent - acked - failed
  const finished = () => sent === records && outstanding() === 0

  const recordError = (i: number, err: unknown) => {
    const e = err instanceof Error ? err : new Error(String(err))
    const typed = e instanceof KafkaClientError
    if (!typed) untyped++
    const kind = `${e.constructor?.name ?? 'Error'}: ${e.message.replace(/\d+/g, 'N').slice(0, 300)}`
    let ki = kindIndex.get(kind)
    if (ki === undefined) {
      ki = kinds.length
      kindIndex.set(kind, ki)
      kinds.push({ kind, count: 0, typed, retriable: typed ? (e as KafkaClientError).retriable : undefined, example: e })
    }
    kinds[ki]!.count++
    errorKindOf[i] = ki
  }

  const producer = new KafkaProducer(config)
  const ctx: ScenarioContext = {
    producer,
    records,
    sent: () => sent,
    acked: () => acked,
    failed: () => failed,
    finished,
    waitForAcks: (n, timeoutMs) => ctx.waitUntil(() => acked >= n, timeoutMs),
    async waitUntil(predicate, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs
      while (!predicate()) {
        if (finished() || Date.now() > deadline) return predicate()
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 50)
          progressWaiters.push(() => {
            clearTimeout(t)
            resolve()
          })
        })
      }
      return true
    },
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    log(message) {
      events.push(`${stamp()} ${message} (sent=${sent} acked=${acked} failed=${failed})`)
    },
  }

  const sendAll = async () => {
    for (let i = 0; i < records; i++) {
      while (outstanding() >= maxOutstanding) {
        await new Promise<void>((resolve) => progressWaiters.push(resolve))
      }
      if (i % 5000 === 4999) await new Promise((r) => setImmediate(r)) // let timers and the fault hook run
      const k = i % keys
      const prefix = `k${k}:${Math.floor(i / keys)}|`
      const value = prefix.length >= valueBytes ? prefix : prefix + PAD.slice(0, valueBytes - prefix.length)
      sent++
      const index = i
      try {
        producer.send({ topic, key: keyBufs[k]!, value }, (err, md) => {
          if (status[index] !== 0) {
            doubleCompletions++
            return
          }
          if (err) {
            status[index] = 2
            failed++
            if (sentAtFirstFailure < 0) sentAtFirstFailure = sent
            recordError(index, err)
          } else {
            status[index] = 1
            acked++
            ackPartition[index] = md!.partition
            ackOffset[index] = Number(md!.offset)
          }
          scheduleNotify()
        })
      } catch (err) {
        // send() must never throw for a well-formed record; count it as an untyped failure.
        status[index] = 2
        failed++
        if (sentAtFirstFailure < 0) sentAtFirstFailure = sent
        recordError(index, err)
        if (err instanceof KafkaClientError) untyped++ // thrown instead of reported: still a contract breach
      }
    }
    while (!finished()) await new Promise<void>((resolve) => progressWaiters.push(resolve))
  }

  let closeMs = -1
  let stuckText = ''
  let metrics: Record<string, number> = {}
  let hang: Error | null = null
  try {
    let timer: NodeJS.Timeout | undefined
    const watchdog = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`hung: ${outstanding()} of ${records} sends still incomplete after ${runTimeoutMs} ms`))
      }, runTimeoutMs)
    })
    watchdog.catch(() => {})
    try {
      const during = opts.during ? opts.during(ctx) : Promise.resolve()
      during.catch(() => {})
      await Promise.race([Promise.all([sendAll(), during]), watchdog])
    } catch (e) {
      hang = e as Error
      // Before close() fails whatever is left: which records never completed, per partition of their key.
      const stuck = new Map<number, number[]>()
      for (let i = 0; i < sent; i++) {
        if (status[i] !== 0) continue
        const p = keyPartition[i % keys]!
        let list = stuck.get(p)
        if (list === undefined) stuck.set(p, (list = []))
        list.push(i)
      }
      stuckText = [...stuck]
        .sort((x, y) => x[0] - y[0])
        .map(([p, list]) => `p${p}: ${list.length} (k${list[0]! % keys}:${seqOf(list[0]!, keys)} .. k${list[list.length - 1]! % keys}:${seqOf(list[list.length - 1]!, keys)})`)
        .join(', ')
    } finally {
      clearTimeout(timer)
    }
    metrics = pickMetrics(producer)
  } finally {
    const t0 = Date.now()
    const closeTimeout = hang ? 2000 : closeTimeoutMs
    // A close that does not return is itself a finding; never let it hang the test.
    const closed = await Promise.race([
      producer.close({ timeoutMs: closeTimeout }).then(
        () => true,
        () => true,
      ),
      new Promise<boolean>((r) => setTimeout(() => r(false), closeTimeout + 5000).unref()),
    ])
    closeMs = Date.now() - t0
    if (!closed) events.push(`${stamp()} close({ timeoutMs: ${closeTimeout} }) did not return within ${closeTimeout + 5000} ms`)
  }
  const elapsedMs = Date.now() - started
  if (hang) {
    const errText = kinds.map((k) => `  x${k.count} ${k.kind.slice(0, 200)}`).join('\n')
    const problem = new Error(
      `[fault] ${opts.name}: ${hang.message}; sent=${sent} acked=${acked} failed=${failed}; metrics ${JSON.stringify(metrics)}\n` +
        `incomplete by partition: ${stuckText}\nerrors so far:\n${errText}\n${events.join('\n')}` +
        (opts.report ? `\n${opts.report()}` : ''),
    )
    console.log(problem.message)
    throw problem
  }

  const consumed = await opts.consume()
  const result = analyse({
    name: opts.name,
    idempotence,
    consumed,
    records,
    keys,
    partitions,
    keyPartition,
    status,
    ackPartition,
    ackOffset,
    errorKindOf,
    kinds,
    sent,
    acked,
    failed,
    untyped,
    doubleCompletions,
    sentAtFirstFailure,
    elapsedMs,
    closeMs,
    metrics,
  })
  if (opts.report) events.push(opts.report())
  console.log([result.summary, ...describeResult(result, events)].join('\n'))
  return result
}

function pickMetrics(producer: KafkaProducer): Record<string, number> {
  const m = producer.metrics() as unknown as Record<string, unknown>
  const out: Record<string, number> = {}
  for (const name of ['record-send-total', 'record-retry-total', 'record-error-total', 'request-total']) {
    if (typeof m[name] === 'number') out[name] = m[name] as number
  }
  // Only compressed runs report it below 1: it proves the batches were compressed.
  const rate = m['compression-rate-avg']
  if (typeof rate === 'number' && rate < 1) out['compression-rate-avg'] = Math.round(rate * 1000) / 1000
  return out
}

interface AnalyseInput {
  name: string
  idempotence: 'on' | 'off'
  consumed: ConsumedRecord[]
  records: number
  keys: number
  partitions: number
  keyPartition: Int32Array
  status: Uint8Array
  ackPartition: Int32Array
  ackOffset: Float64Array
  errorKindOf: Int32Array
  kinds: ErrorKind[]
  sent: number
  acked: number
  failed: number
  untyped: number
  doubleCompletions: number
  sentAtFirstFailure: number
  elapsedMs: number
  closeMs: number
  metrics: Record<string, number>
}

function analyse(a: AnalyseInput): ScenarioResult {
  const { records, keys } = a
  const copies = new Uint16Array(records)
  const firstOffsetOf = new Float64Array(records).fill(-1)
  const firstPartitionOf = new Int32Array(records).fill(-1)
  const samples: Record<string, string[]> = {}
  const sample = (what: string, line: string) => {
    const list = (samples[what] ??= [])
    if (list.length < 6) list.push(line)
  }
  let foreign = 0
  let reordered = 0
  let reorderedFirst = 0
  let duplicated = 0

  // The mock trims partition logs from the start; an analysis of a trimmed log would report losses that are not.
  const firstOffset = new Map<number, bigint>()
  for (const c of a.consumed) if (!firstOffset.has(c.partition)) firstOffset.set(c.partition, c.offset)
  for (const [p, off] of firstOffset) {
    if (off !== 0n) {
      throw new Error(`[fault] ${a.name}: partition ${p} starts at offset ${off}, not 0: the broker trimmed the log, so losses cannot be counted (use smaller values)`)
    }
  }

  /** Which send is stored at each (partition, offset). */
  const atOffset = new Map<string, number>()
  let partition = -1
  const maxSeq = new Int32Array(keys)
  const maxFirstSeq = new Int32Array(keys)
  for (const c of a.consumed) {
    if (c.partition !== partition) {
      partition = c.partition
      maxSeq.fill(-1)
      maxFirstSeq.fill(-1)
    }
    const v = c.value?.toString('latin1') ?? ''
    const colon = v.indexOf(':')
    const bar = v.indexOf('|', colon + 1)
    const k = colon > 1 && v[0] === 'k' ? Number(v.slice(1, colon)) : NaN
    const seq = bar > colon ? Number(v.slice(colon + 1, bar)) : NaN
    const i = seq * keys + k
    if (!Number.isInteger(k) || !Number.isInteger(seq) || k < 0 || k >= keys || seq < 0 || i >= a.sent || c.key?.toString('latin1') !== `k${k}`) {
      foreign++
      sample('foreign', `p${c.partition}@${c.offset}: key=${c.key?.toString('latin1')} value=${JSON.stringify(v.slice(0, 40))}`)
      continue
    }
    atOffset.set(`${c.partition}:${c.offset}`, i)
    const isFirst = copies[i] === 0
    if (copies[i] === 1) duplicated++
    if (copies[i]! < 65535) copies[i]!++
    if (isFirst) {
      firstOffsetOf[i] = Number(c.offset)
      firstPartitionOf[i] = c.partition
    } else {
      sample('duplicated', `k${k}:${seq} (#${i}) at p${c.partition}@${c.offset}, first at p${firstPartitionOf[i]}@${firstOffsetOf[i]}`)
    }
    if (seq < maxSeq[k]!) {
      reordered++
      if (!isFirst) {
        /* a re-appended copy: counted in `reordered` only */
      } else {
        sample('reordered', `k${k}:${seq} at p${c.partition}@${c.offset} after k${k}:${maxSeq[k]}`)
      }
    } else {
      maxSeq[k] = seq
    }
    if (isFirst) {
      if (seq < maxFirstSeq[k]!) reorderedFirst++
      else maxFirstSeq[k] = seq
    }
  }

  let found = 0
  let lost = 0
  let failedButPresent = 0
  let pendingButPresent = 0
  let misplaced = 0
  let misrouted = 0
  let ackedAfterFirstFailure = 0
  const failedIndexes: number[] = []
  const failedPartitionSet = new Set<number>()
  for (let i = 0; i < a.sent; i++) {
    const k = i % keys
    const present = copies[i]! > 0
    if (present) found++
    const s = a.status[i]
    if (s === 1) {
      if (!present) {
        lost++
        sample('lost', `k${k}:${seqOf(i, keys)} (#${i}) acked at p${a.ackPartition[i]}@${a.ackOffset[i]}`)
      } else if (a.ackOffset[i]! >= 0 && atOffset.get(`${a.ackPartition[i]}:${a.ackOffset[i]}`) !== i) {
        // The acknowledged offset must hold this record (one of its copies, if it was duplicated).
        misplaced++
        const there = atOffset.get(`${a.ackPartition[i]}:${a.ackOffset[i]}`)
        sample('misplaced', `k${k}:${seqOf(i, keys)} (#${i}) acked at p${a.ackPartition[i]}@${a.ackOffset[i]}, which holds ${there === undefined ? 'nothing' : `k${there % keys}:${seqOf(there, keys)}`}; found at p${firstPartitionOf[i]}@${firstOffsetOf[i]}`)
      }
      if (a.ackPartition[i] !== a.keyPartition[k]) misrouted++
      if (a.sentAtFirstFailure >= 0 && i >= a.sentAtFirstFailure) ackedAfterFirstFailure++
    } else if (s === 2) {
      failedIndexes.push(i)
      failedPartitionSet.add(a.keyPartition[k]!)
      if (present) {
        failedButPresent++
        sample('failedButPresent', `k${k}:${seqOf(i, keys)} (#${i}) failed (${a.kinds[a.errorKindOf[i]!]?.kind.slice(0, 80)}) but found at p${firstPartitionOf[i]}@${firstOffsetOf[i]}`)
      }
    } else if (present) {
      pendingButPresent++
    }
  }
  const failedSeconds = (a.elapsedMs / 1000).toFixed(1)
  const summary =
    `[fault] ${a.name}: sent=${a.sent} acked=${a.acked} failed=${a.failed} found=${found} lost=${lost} ` +
    `duplicated=${duplicated} reordered=${reordered} (${failedSeconds}s)`
  return {
    name: a.name,
    idempotence: a.idempotence,
    sent: a.sent,
    acked: a.acked,
    failed: a.failed,
    found,
    consumed: a.consumed.length,
    lost,
    duplicated,
    reordered,
    reorderedFirst,
    failedButPresent,
    pendingButPresent,
    misplaced,
    misrouted,
    foreign,
    doubleCompletions: a.doubleCompletions,
    untyped: a.untyped,
    errors: a.kinds.slice().sort((x, y) => y.count - x.count),
    sentAtFirstFailure: a.sentAtFirstFailure,
    ackedAfterFirstFailure,
    failedIndexes,
    failedPartitions: [...failedPartitionSet].sort((x, y) => x - y),
    elapsedMs: a.elapsedMs,
    closeMs: a.closeMs,
    metrics: a.metrics,
    samples,
    summary,
  }
}

/** The detail lines printed under the summary: anything unusual, the errors, the event log. */
function describeResult(r: ScenarioResult, events: string[]): string[] {
  const lines: string[] = []
  const extras: string[] = [`idempotence=${r.idempotence}`]
  if (r.reorderedFirst !== r.reordered) extras.push(`reorderedFirst=${r.reorderedFirst}`)
  for (const [name, n] of [
    ['failedButPresent', r.failedButPresent],
    ['pendingButPresent', r.pendingButPresent],
    ['misplaced', r.misplaced],
    ['misrouted', r.misrouted],
    ['foreign', r.foreign],
    ['doubleCompletions', r.doubleCompletions],
    ['untyped', r.untyped],
  ] as const) {
    if (n !== 0) extras.push(`${name}=${n}`)
  }
  if (r.failed > 0) extras.push(`sentAtFirstFailure=${r.sentAtFirstFailure} ackedAfterFirstFailure=${r.ackedAfterFirstFailure}`)
  extras.push(`close=${r.closeMs}ms`, `metrics=${JSON.stringify(r.metrics)}`)
  lines.push(`[fault]   ${extras.join(' ')}`)
  for (const e of r.errors.slice(0, 5)) {
    const typing = !e.typed ? ' (NOT a KafkaClientError)' : e.example.constructor === KafkaClientError ? ' (the base KafkaClientError, no subclass)' : ''
    lines.push(`[fault]   error x${e.count}${typing} retriable=${e.retriable}: ${e.example.constructor.name}: ${e.example.message.slice(0, 300)}`)
  }
  for (const [what, list] of Object.entries(r.samples)) {
    for (const s of list) lines.push(`[fault]   ${what}: ${s}`)
  }
  for (const e of events) lines.push(`[fault]   ${e}`)
  return lines
}

// ------------------------------------------------------------------ assertions

export type DamageCount =
  | 'lost'
  | 'duplicated'
  | 'reordered'
  | 'reorderedFirst'
  | 'misplaced'
  | 'misrouted'
  | 'foreign'
  | 'pendingButPresent'
  | 'doubleCompletions'
  | 'untyped'

const DAMAGE: DamageCount[] = [
  'lost',
  'duplicated',
  'reordered',
  'reorderedFirst',
  'misplaced',
  'misrouted',
  'foreign',
  'pendingButPresent',
  'doubleCompletions',
  'untyped',
]

/**
 * Nothing acknowledged is missing, nothing was written twice or out of order,
 * every failure (if any) is a KafkaClientError. `allow` lists counts that the
 * scenario cannot hold to zero (they are still printed in the summary).
 */
export function expectNoDamage(r: ScenarioResult, allow: DamageCount[] = []): void {
  const got: Record<string, number> = {}
  const want: Record<string, number> = {}
  for (const name of DAMAGE) {
    if (allow.includes(name)) continue
    got[name] = r[name]
    want[name] = 0
  }
  expect(got, `${r.summary}\n${sampleText(r)}`).toEqual(want)
}

/** A fault the producer must ride out: every send acknowledged, exactly once, in order. */
export function expectClean(r: ScenarioResult, allow: DamageCount[] = []): void {
  expect(
    { acked: r.acked, failed: r.failed, failedButPresent: r.failedButPresent, firstError: r.errors[0]?.kind ?? null },
    `${r.summary}\n${sampleText(r)}`,
  ).toEqual({ acked: r.sent, failed: 0, failedButPresent: 0, firstError: null })
  expectNoDamage(r, allow)
  if (!allow.includes('lost')) expect(r.found).toBe(r.sent)
}

function sampleText(r: ScenarioResult): string {
  return Object.entries(r.samples)
    .flatMap(([what, list]) => list.map((s) => `${what}: ${s}`))
    .join('\n')
}
