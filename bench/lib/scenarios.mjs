// The benchmark's scenarios.  `group` is what --scenarios selects (1..4).
//   acks '1'   : idempotence off for every client (it needs acks=all)
//   acks 'all' : each client's default idempotence (see clients.mjs, README)
export const SCENARIOS = [
  {
    id: '1a',
    group: 1,
    title: 'S1 throughput, 100 B, acks=1',
    mode: 'throughput',
    records: 1_000_000,
    valueBytes: 100,
    acks: '1',
    idempotence: 'off',
    timeoutSec: 240,
  },
  {
    id: '1b',
    group: 1,
    title: 'S1 throughput, 100 B, acks=all',
    mode: 'throughput',
    records: 1_000_000,
    valueBytes: 100,
    acks: 'all',
    idempotence: 'default',
    timeoutSec: 240,
  },
  {
    id: '2a',
    group: 2,
    title: 'S2 throughput, 1 KiB, acks=1',
    mode: 'throughput',
    records: 1_000_000,
    valueBytes: 1024,
    acks: '1',
    idempotence: 'off',
    timeoutSec: 300,
  },
  {
    id: '2b',
    group: 2,
    title: 'S2 throughput, 1 KiB, acks=all',
    mode: 'throughput',
    records: 1_000_000,
    valueBytes: 1024,
    acks: 'all',
    idempotence: 'default',
    timeoutSec: 300,
  },
  {
    id: '3',
    group: 3,
    title: 'S3 one send() per record, ≤1,000 outstanding, 100 B, acks=all',
    mode: 'bounded',
    records: 100_000,
    valueBytes: 100,
    acks: 'all',
    idempotence: 'default',
    maxOutstanding: 1000,
    timeoutSec: 180,
  },
  {
    id: '4',
    group: 4,
    title: 'S4 latency, 10,000 records paced at 5,000/s after 15,000 warm-up, linger 0, 100 B, acks=all',
    mode: 'latency',
    records: 10_000,
    // 3 s of warm-up: after 1 s (5,000 records) V8 still ran ~90 TurboFan compilations inside the
    // measured window, on the second core the broker needs; after 3 s, ~20 (node --trace-opt,
    // bench/micro/FINDINGS.md "Latency tail").
    warmupRecords: 15_000,
    rate: 5000,
    valueBytes: 100,
    acks: 'all',
    idempotence: 'default',
    lingerMs: 0,
    timeoutSec: 90,
  },
  // S5: compression, one scenario per codec: 1 KiB of semi-compressible JSON per record (a pool of
  // 4,096 distinct values, so a batch never repeats one), acks=1. Only the clients in `clients` are
  // wired for it so far (the others are reported as not run): ours sets compressionType, the Java
  // producer compression.type (its payload is ProducerPerformance's own, not this JSON).
  ...['gzip', 'snappy', 'lz4', 'zstd'].map((codec) => ({
    id: `5-${codec}`,
    group: 5,
    title: `S5 compression ${codec}, 1 KiB JSON, acks=1`,
    mode: 'throughput',
    records: 1_000_000,
    valueBytes: 1024,
    valueKind: 'json',
    compression: codec,
    acks: '1',
    idempotence: 'off',
    timeoutSec: 300,
    clients: ['ours-cb', 'ours-promise', 'java'],
  })),
];

export const PARTITIONS = 4;

/** --quick: 10x fewer records (and warm-up records), same everything else. */
export function scaled(s, quick) {
  if (!quick) return { ...s };
  return { ...s, records: Math.round(s.records / 10), warmupRecords: s.warmupRecords ? Math.round(s.warmupRecords / 10) : 0 };
}
