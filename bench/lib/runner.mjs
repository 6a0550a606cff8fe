// Shared plumbing for the Node.js client runners in bench/clients/*.mjs.
//
// A runner is started by bench/run.mjs as
//   node bench/clients/<name>.mjs '<json config>'
// and prints exactly one line `BENCH_RESULT {json}` on stdout before it exits.
// Config fields (see bench/README.md):
//   bootstrap, topic, records, valueBytes, acks ('1' | 'all'),
//   idempotence ('off' | 'default'), mode ('throughput' | 'bounded' | 'latency'),
//   maxOutstanding (bounded), warmupRecords + rate (latency), lingerMs, form (ours: 'callback' | 'promise')
import { performance } from 'node:perf_hooks';

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
