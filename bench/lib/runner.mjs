// Shared plumbing for the Node.js client runners in bench/clients/*.mjs.
//
// A runner is started by bench/run.mjs as
//   node bench/clients/<name>.mjs '<json config>'
// and prints exactly one line `BENCH_RESULT {json}` on stdout before it exits.
// A runner supplies its client's calls (connect, send an array, send one record,
// flush, close) and hands them to drive() with the loops below: sendArrays (S1/S2
// without linger), sendBounded (S3) and sendPaced (S4).
// Config fields (see bench/README.md):
//   bootstrap, topic, records, valueBytes, acks ('1' | 'all'),
//   idempotence ('off' | 'default'), mode ('throughput' | 'bounded' | 'latency' | 'transactional'),
//   maxOutstanding (bounded), warmupRecords + rate (latency), lingerMs, form (ours: 'callback' | 'promise'),
//   keys + partitions (S6: record i's key is `key-<i mod keys>`, on a topic of `partitions` partitions),
//   transactionalId + transactionRecords (S7: a commit every `transactionRecords` records)
import { performance } from 'node:perf_hooks';
import { keyOf } from './keys.mjs';

export function readConfig() {
  const raw = process.argv[2] ?? process.env.BENCH_CONFIG;
  if (!raw) {
    console.error('usage: node <runner>.mjs \'{"bootstrap":"127.0.0.1:9092","topic":"t","records":1000,"valueBytes":100,"acks":"1","mode":"throughput"}\'');
    process.exit(2);
  }
  const cfg = JSON.parse(raw);
  for (const k of ['bootstrap', 'topic', 'records', 'valueBytes', 'acks', 'mode']) {
    if (cfg[k] === undefined) throw new Error(`config: missing ${k}`);
  }
  cfg.idempotence ??= cfg.acks === 'all' ? 'default' : 'off';
  cfg.maxOutstanding ??= 1000;
  cfg.warmupRecords ??= 0;
  cfg.rate ??= 5000;
  return cfg;
}

/** S6: the `cfg.keys` distinct keys as Buffers, built before the clock starts (null without keys). */
export function keyBuffers(cfg) {
  if (!cfg.keys) return null;
  return Array.from({ length: cfg.keys }, (_, i) => Buffer.from(keyOf(i, cfg.keys)));
}

/** The one result line the orchestrator parses. */
export function printResult(r) {
  process.stdout.write(`BENCH_RESULT ${JSON.stringify(r)}\n`);
}

/** Nearest-rank percentiles of a Float64Array of milliseconds. */
export function latencySummary(samples) {
  const a = Float64Array.from(samples).sort();
  const n = a.length;
  if (n === 0) return null;
  const pct = (p) => a[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))];
  let sum = 0;
  for (let i = 0; i < n; i++) sum += a[i];
  return { count: n, p50: pct(0.5), p99: pct(0.99), p999: pct(0.999), max: a[n - 1], mean: sum / n };
}

export const now = () => performance.now();

/**
 * Paced open-loop schedule for the latency scenario: every ~1 ms timer tick
 * sends the records that are due at `rate` per second (so ~5 per tick at
 * 5,000/s).  `send(i)` is called for i = 0 .. total-1, in order.  Resolves once
 * the last record has been handed to the client (not acknowledged).
 */
export function paced(total, rate, send) {
  return new Promise((resolve, reject) => {
    const t0 = now();
    let i = 0;
    const tick = () => {
      try {
        const due = Math.min(total, Math.floor(((now() - t0) * rate) / 1000) + 1);
        while (i < due) send(i++);
        if (i < total) setTimeout(tick, 1);
        else resolve();
      } catch (e) {
        reject(e);
      }
    };
    tick();
  });
}

/** Resolves when `pred()` holds, checking after each event-loop turn (setImmediate). */
export function until(pred) {
  return new Promise((resolve) => {
    const check = () => (pred() ? resolve() : setImmediate(check));
    check();
  });
}

/**
 * A counter of completions with a waiter: `await gate.below(n)` resolves once
 * fewer than n sends are outstanding.  Used for the bounded scenarios.
 */
export class Outstanding {
  constructor() {
    this.sent = 0;
    this.acked = 0;
    this.errors = 0;
    this.firstError = null;
    this.waiter = null;
    this.limit = Infinity;
  }
  get count() {
    return this.sent - this.acked - this.errors;
  }
  done(err) {
    if (err) {
      this.errors++;
      if (!this.firstError) this.firstError = String(err?.stack ?? err).split('\n').slice(0, 3).join(' | ');
    } else this.acked++;
    if (this.waiter && this.count < this.limit) {
      const w = this.waiter;
      this.waiter = null;
      w();
    }
  }
  /** Resolves when fewer than `limit` are outstanding (immediately if already so). */
  below(limit) {
    if (this.count < limit) return Promise.resolve();
    this.limit = limit;
    return new Promise((r) => (this.waiter = r));
  }
}

/** Close with a bound, then exit: a runner must never hang after printing its result. */
export async function finish(result, closeFn, closeTimeoutMs = 15_000) {
  printResult(result);
  try {
    await Promise.race([closeFn(), new Promise((r) => setTimeout(r, closeTimeoutMs).unref())]);
  } catch {
    /* close errors do not change the measured result */
  }
  process.exit(0);
}

export function errorText(e) {
  return String(e?.stack ?? e).split('\n').slice(0, 4).join(' | ');
}

/**
 * One runner's state: its config, the counters, the value every record
 * carries, the clock and the S4 result.  `t0` is where elapsedMs starts: set by
 * drive() before connecting, then by start() right before the first measured
 * send (S4: at the first record after the warm-up).
 */
export class Run {
  constructor(cfg) {
    this.cfg = cfg;
    this.o = new Outstanding();
    this.total = cfg.records + cfg.warmupRecords;
    this.value = Buffer.alloc(cfg.valueBytes, 'x');
    /** valueKind 'json' (S5): distinct semi-compressible values; valueAt(i) picks record i's. */
    this.values = cfg.valueKind === 'json' ? jsonValues(4096, cfg.valueBytes) : null;
    this.t0 = now();
    this.lat = null;
    this.latency = null;
  }
  /** Starts the clock. */
  start() {
    this.t0 = now();
  }
  /** Record i's value: the constant one, or one of the JSON pool. */
  valueAt(i) {
    return this.values === null ? this.value : this.values[i & 4095];
  }
  /** The S4 samples (ms), one per measured record, indexed by record - warmupRecords. */
  samples() {
    return (this.lat ??= new Float64Array(this.cfg.records));
  }
}

const MODES = ['throughput', 'bounded', 'latency', 'transactional'];

/**
 * `n` distinct JSON documents of exactly `bytes` bytes each, as an application
 * might send: repeated field names, ids, timestamps, enum-like strings and
 * random numbers (deterministic PRNG). gzip compresses them to about 0.3-0.4.
 */
export function jsonValues(n, bytes) {
  let seed = 0x9e3779b9;
  const rnd = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    let s = `{"id":"${(rnd() * 2 ** 52).toString(36)}","ts":${1700000000000 + Math.floor(rnd() * 1e9)},"events":[`;
    while (s.length < bytes) {
      s += `{"type":"${words[Math.floor(rnd() * 10)]}","user":${Math.floor(rnd() * 100000)},"amount":${(rnd() * 1000).toFixed(2)},"ok":${rnd() < 0.5},"tag":"${words[Math.floor(rnd() * 10)]}-${Math.floor(rnd() * 100)}"},`;
    }
    out[i] = Buffer.from(s.slice(0, bytes));
  }
  return out;
}

/**
 * What every runner does around its loop: connect, run the loop of cfg.mode,
 * count an error that ends it, then print the result line, close and exit.
 *   result       the fields that lead the result line ({ client, version, ... })
 *   connect      optional; before the clock starts
 *   throughput, bounded, latency, transactional   the loop of each mode (see below)
 *   onError(e)   optional; after an error that ended the run is counted
 *   close        the producer's close, bounded by finish()
 */
export async function drive(run, a) {
  const { o } = run;
  run.t0 = now();
  try {
    if (a.connect) await a.connect();
    const loop = MODES.includes(run.cfg.mode) ? a[run.cfg.mode] : undefined;
    if (!loop) throw new Error(`unknown mode ${run.cfg.mode}`);
    await loop();
  } catch (e) {
    o.errors++;
    o.firstError ??= errorText(e);
    a.onError?.(e);
  }
  const elapsedMs = now() - run.t0;
  const extras = a.extras ? a.extras() : {};
  await finish({ ...a.result, sent: o.sent, acked: o.acked, errors: o.errors, firstError: o.firstError, elapsedMs, latency: run.latency, ...extras }, a.close);
}

/**
 * S1/S2 for a client without linger: `cfg.concurrency` (4) workers, each with
 * one send() of an array of `cfg.arraySize` (1,000) records in flight.
 * `sendArray(n)` sends n records and returns a Promise of their acknowledgement.
 */
export async function sendArrays(run, sendArray) {
  const { cfg, o, total } = run;
  const arraySize = cfg.arraySize ?? 1000;
  const concurrency = cfg.concurrency ?? 4;
  run.start();
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const n = Math.min(arraySize, total - next);
      next += n;
      o.sent += n;
      try {
        await sendArray(n);
        o.acked += n;
      } catch (e) {
        o.errors += n;
        o.firstError ??= errorText(e);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/**
 * S3: one send() per record with at most `cfg.maxOutstanding` unacknowledged.
 * `completion` says how `send()` reports the acknowledgement:
 *   'promise'  send() returns a Promise of it
 *   'report'   the client calls run.o.done(err) itself (node-rdkafka's delivery
 *              reports); send() returns false when its queue is full, and then
 *              `await whenFull()` sends the record
 */
export async function sendBounded(run, send, { completion = 'promise', whenFull } = {}) {
  const { o, total } = run;
  const max = run.cfg.maxOutstanding;
  const promises = completion === 'promise';
  run.start();
  for (let i = 0; i < total; i++) {
    o.sent++;
    if (promises) {
      send().then(
        () => o.done(null),
        (e) => o.done(e),
      );
    } else if (!send()) await whenFull();
    if (o.count >= max) await o.below(max);
  }
  await o.below(1);
}

/**
 * S4: `cfg.warmupRecords` unmeasured records, then `cfg.records` measured ones,
 * all paced at `cfg.rate` (see paced()).  The clock starts at the first measured
 * record; a record's latency runs from just before its send to its
 * acknowledgement.  `completion` says how `send` reports the acknowledgement:
 *   'promise'   send() returns a Promise of it (latency recorded if it fulfils)
 *   'callback'  send(cb) calls cb(err) (latency recorded either way)
 *   'report'    send(i, ts) sends record i at ts; the client records
 *               run.samples()[i - warmupRecords] and calls run.o.done(err) itself
 * `flush` (optional) is awaited after the last send, before the last acknowledgement.
 */
export async function sendPaced(run, send, { completion = 'promise', flush } = {}) {
  const { cfg, o, total } = run;
  const lat = run.samples();
  const warm = cfg.warmupRecords;
  await paced(total, cfg.rate, (i) => {
    o.sent++;
    const ts = now();
    if (i === warm) run.t0 = ts;
    if (completion === 'promise') {
      send().then(
        () => {
          if (i >= warm) lat[i - warm] = now() - ts;
          o.done(null);
        },
        (e) => o.done(e),
      );
    } else if (completion === 'callback') {
      send((err) => {
        if (i >= warm) lat[i - warm] = now() - ts;
        o.done(err);
      });
    } else send(i, ts);
  });
  if (flush) await flush();
  await o.below(1);
  run.latency = latencySummary(lat);
}
