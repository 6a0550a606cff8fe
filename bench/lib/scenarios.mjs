// The benchmark's scenarios.  `group` is what --scenarios selects (1..7).
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
  // S6: keyed traffic over many partitions (issue 16). Keys `key-<i mod 100,000>` (UTF-8 bytes), placed by each
  // client's default partitioner: Java's murmur2 for ours and the Java producer, librdkafka's murmur2_random (the
  // same placement) for the C producer and node-rdkafka, so every client fills the same partitions with the same
  // records, and the delivery check also compares each partition's end offset with that placement (keys.mjs).
  // At most 100,000 records outstanding, acks=1, no idempotence, and the batching clients' defaults: batch.size
  // 16 KiB with buffer.memory 32 MiB (librdkafka: queue.buffering.max.kbytes 32768; see clients.mjs KEYED_SETTINGS).
  // `partitions` is the topic's partition count, for topic creation, the clients and the delivery check.
  ...[4, 1024, 4096].map((partitions) => ({
    id: `6-${partitions}`,
    group: 6,
    title: `S6 keyed, ${partitions.toLocaleString('en-US')} partitions, 100 B, ≤100,000 outstanding, acks=1`,
    mode: 'bounded',
    records: 1_000_000,
    valueBytes: 100,
    keys: 100_000,
    partitions,
    acks: '1',
    idempotence: 'off',
    maxOutstanding: 100_000,
    batchSize: 16384,
    timeoutSec: 300,
    clients: ['ours-cb', 'c', 'node-rdkafka', 'java'],
    // Measured 2026-12-02: creating a 4,096-partition topic on the single-node Kafka broker did not finish within
    // the harness's 60 s wait for partition leaders (2 cores, shared), twice in a row. 1,024 partitions work.
    ...(partitions > 1024 ? { notOn: { kafka: `a ${partitions.toLocaleString('en-US')}-partition topic on the single-node Kafka broker is not created within the harness's 60 s wait for leaders` } } : {}),
  })),
  // S7: transactions (issue 11). 100 B values, acks=all, idempotence on (a transactional id needs it), one
  // transactional.id per run (derived from the run's topic), initTransactions() once before the clock starts, then
  // beginTransaction / `transactionRecords` sends / commitTransaction, repeated. The batching settings are those of the
  // throughput scenarios (S1b). The delivery check counts the records a read_committed consumer sees (brokers.mjs
  // committedCount): the high-water marks also count one commit marker per partition per transaction, and which
  // partitions a transaction touched depends on the partitioner, so the end offsets alone cannot give an exact count.
  {
    id: '7',
    group: 7,
    title: 'S7 transactional, 100 B, acks=all, a commit every 10,000 records',
    mode: 'transactional',
    records: 1_000_000,
    valueBytes: 100,
    acks: 'all',
    idempotence: 'default',
    transactionRecords: 10_000,
    timeoutSec: 300,
    clients: ['ours-cb', 'ours-promise', 'c', 'java'],
    // kfake implements InitProducerId, AddPartitionsToTxn, EndTxn, the markers and read_committed fetches
    // (franz-go pkg/kfake txns.go), so S7 runs there too.
    notOn: {
      mock: 'the Java producer cannot run on the 2.0.2 mock (Metadata < v4), and the mock was not checked for commit markers and read_committed reads, which the delivery check of S7 relies on',
    },
  },
];

/** The topic's partition count when a scenario does not set one. */
export const PARTITIONS = 4;
export const partitionsOf = (s) => s.partitions ?? PARTITIONS;

/** --quick: 10x fewer records (and warm-up records), same everything else. */
export function scaled(s, quick) {
  // S7 keeps 10,000 records per transaction: --quick runs 10 transactions instead of 100.
  if (!quick) return { ...s };
  return { ...s, records: Math.round(s.records / 10), warmupRecords: s.warmupRecords ? Math.round(s.warmupRecords / 10) : 0 };
}
