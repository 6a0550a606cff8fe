// The clients of the benchmark: how each one is run for a scenario, and the
// settings it gets (printed in the results so nobody has to guess).
import fs from 'node:fs';
import path from 'node:path';
import { RUNTIMES, runtimeArgv, runtimeEnv } from '../../scripts/lib/runtimes.mjs';
import { BENCH, C_PRODUCER, JAVA_CLASSES, KAFKA_DIR, TOOLS_LOG4J2 } from './paths.mjs';
import { partitionsOf } from './scenarios.mjs';

/** kafka-tools jars: the marker written by scripts/ensure-deps.mjs says where (see test/harness/util.ts kafkaToolsClasspath()). */
export function kafkaTools() {
  const marker = JSON.parse(fs.readFileSync(path.join(KAFKA_DIR, '.complete'), 'utf8'));
  const dir = path.join(KAFKA_DIR, marker.toolsLibs ?? 'libs');
  return { version: marker.toolsVersion ?? '4.4.0', dir, classpath: path.join(dir, '*') };
}

/**
 * JVM flags of Kafka's bin/kafka-producer-perf-test.sh + kafka-run-class.sh
 * (KAFKA_HEAP_OPTS=-Xmx512M, KAFKA_JVM_PERFORMANCE_OPTS), plus a log4j2
 * config that sends warnings and errors to stderr.
 */
export const JAVA_CLIENT_FLAGS = [
  '-Xmx512M',
  '-server',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent',
  '-Djava.awt.headless=true',
];

// Application-level flow control of our two forms in the throughput scenarios.
/**
 * batch.size for the two clients with Java's batching model (ours and the Java producer);
 * BENCH_BATCH_SIZE overrides it, for sweeps. 256 KiB beat 64 KiB for both on kfake, scenario 1a
 * (2 runs each): ours 1.66-1.75M -> 1.98-2.02M msg/s, Java 622-672k -> 686-787k msg/s; Java on real
 * Kafka (3 runs each, medians): 1a 562k -> 539k, 1b 492k -> 617k msg/s.
 * librdkafka's clients get batch.size 1,000,000, kafkajs and @platformatic/kafka arrays of 1,000.
 */
export const BATCH_SIZE = Number(process.env.BENCH_BATCH_SIZE ?? 262144);

/**
 * S3 (at most 1,000 records outstanding, about 110 KB) never fills a 256 KiB or 1 MB batch: every
 * batch would wait out linger.ms. There each batching client gets the batch size that suited it best
 * in a sweep (NODELAY mock, 2 runs each; Java on kfake):
 *   ours         8 KiB 0.56-0.57M, 16 KiB 0.79-0.80M, 32 KiB 0.87-0.92M, 64 KiB 0.53-0.56M msg/s
 *   node-rdkafka 8 KiB 0.34M, 16 KiB 0.35-0.37M, 64 KiB 0.27-0.28M, 1 MB 0.16-0.17M
 *   C            8 KiB 2.02-2.07M, 16 KiB 2.01-2.35M, 64 KiB 1.72-1.75M, 1 MB 0.18M
 *   Java         16 KiB 136-148k, 32 KiB 149-172k, 64 KiB 157-174k
 */
export const BOUNDED_BATCH_SIZE = { ours: 32768, java: 65536, rdkafka: 16384 };
export const OURS_CALLBACK_MAX_OUTSTANDING = 200_000; // as in examples/high-throughput.ts
/**
 * Unsettled promises cost GC, but the bound must hold a few batches or sends wait for linger.ms.
 * On the NODELAY mock, scenario 1a (msg/s, CPU s, peak RSS MB):
 *   batchSize 64 KiB, 3 runs, medians: 2,000: 1.63M, 0.80, 87; 5,000: 1.73M, 0.79, 93;
 *     10,000: 1.61M, 0.91, 126; 20,000: 1.45M, 1.04, 143; 50,000: 1.24M, 1.23, 177.
 *   batchSize 256 KiB, 2 runs: 2,000: 0.34-0.35M (less than one batch: every batch waits
 *     for linger.ms); 5,000: 1.81-1.88M, 0.68-0.72, 91; 10,000: 1.82-1.95M, 0.70-0.73, 95-97.
 */
export const OURS_PROMISE_MAX_OUTSTANDING = Number(process.env.BENCH_PROMISE_MAX_OUTSTANDING ?? 10_000);

/**
 * S6 (keyed, many partitions): every client with its defaults for batching and memory, not a sweep's best.
 * Ours and the Java producer: batch.size 16 KiB (the scenario's `batchSize`), buffer.memory 32 MiB (default).
 * librdkafka (C, node-rdkafka): batch.size 16 KiB as well, queue.buffering.max.kbytes 32768 (the same
 * 32 MiB budget; librdkafka charges it only the messages' key + value bytes, about 11 MB at 100,000
 * outstanding records of 100 B, so it never binds here, whereas Java's design takes a whole batch.size
 * buffer per partition that has a batch open), and the murmur2_random partitioner, which places keyed
 * messages as Java's default partitioner (librdkafka's default, consistent_random, is CRC32-based).
 * queue.buffering.max.messages stays 1,000,000 and batch.num.messages 10,000 (librdkafka's default);
 * neither binds with at most 100,000 records outstanding.
 */
export const KEYED_RDKAFKA = (s) => ({ 'batch.size': s.batchSize, 'queue.buffering.max.kbytes': 32768, partitioner: 'murmur2_random' });

/** S7: one transactional.id per run, from the run's topic (fresh per run), so no run fences or resumes another. */
export const transactionalId = (run) => `txn-${run.topic}`;

function nodeConfig(run, extra = {}) {
  const s = run.scenario;
  return {
    bootstrap: run.bootstrap,
    topic: run.topic,
    records: s.records,
    warmupRecords: s.warmupRecords ?? 0,
    rate: s.rate,
    valueBytes: s.valueBytes,
    acks: s.acks,
    idempotence: s.idempotence,
    mode: s.mode,
    maxOutstanding: s.maxOutstanding,
    lingerMs: s.lingerMs,
    partitions: partitionsOf(s),
    ...(s.keys ? { keys: s.keys } : {}),
    ...(s.transactionRecords ? { transactionRecords: s.transactionRecords, transactionalId: transactionalId(run) } : {}),
    ...(s.compression ? { compression: s.compression, valueKind: s.valueKind } : {}),
    // A secured listener (--broker kafka-ssl / kafka-sasl-ssl): librdkafka's property names, which ours accepts as they are.
    ...(run.security ? { security: run.security } : {}),
    ...extra,
  };
}

/**
 * The same security settings as Java client properties: the CA as a PEM trust
 * store (KIP-651), SCRAM through ScramLoginModule's JAAS line.
 */
export function javaSecurityProps(sec) {
  if (!sec) return [];
  const props = [`security.protocol=${sec['security.protocol'].toUpperCase()}`];
  if (sec['ssl.ca.location']) props.push('ssl.truststore.type=PEM', `ssl.truststore.location=${sec['ssl.ca.location']}`);
  if (sec['sasl.mechanisms']) {
    props.push(
      `sasl.mechanism=${sec['sasl.mechanisms']}`,
      `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${sec['sasl.username']}" password="${sec['sasl.password']}";`,
    );
  }
  return props;
}

const node = (script) => path.join(BENCH, 'clients', script);

/**
 * Both forms of ours run bench/clients/ours.mjs; the throughput scenarios get the form's own bound on outstanding records.
 * `rt` (an entry of scripts/lib/runtimes.mjs) runs the same script under Bun or Deno instead of node.
 */
function oursCommand(form, throughputMaxOutstanding, rt = null) {
  return (run) => {
    const s = run.scenario;
    const extra = { form, batchSize: s.batchSize ?? (s.mode === 'bounded' ? BOUNDED_BATCH_SIZE.ours : BATCH_SIZE) };
    if (run.scenario.mode === 'throughput') extra.maxOutstanding = throughputMaxOutstanding;
    const config = JSON.stringify(nodeConfig(run, extra));
    return rt ? runtimeArgv(rt, node('ours.mjs'), [config]) : ['node', node('ours.mjs'), config];
  };
}

export const CLIENTS = [
  {
    id: 'ours-cb',
    label: 'kafka-producer-ts (callback)',
    short: 'ours cb',
    color: '#d62728',
    needs: 'dist',
    command: oursCommand('callback', OURS_CALLBACK_MAX_OUTSTANDING),
    security: true,
    settings:
      `lingerMs 5 (0 in S4), batchSize ${BATCH_SIZE} (S3: ${BOUNDED_BATCH_SIZE.ours}), bufferMemory` + ' default 32 MiB, maxInFlightRequestsPerConnection default 5; ' +
      `send(record, callback); S6: batchSize 16384, bufferMemory 32 MiB (defaults), Buffer keys; S7: transactionalId per run, initTransactions() before the clock, beginTransaction / 10,000 sends / await commitTransaction(); S1/S2: the app holds ≤${OURS_CALLBACK_MAX_OUTSTANDING.toLocaleString('en-US')} unacknowledged records and yields to the event loop every 10,000 sends (examples/high-throughput.ts)`,
    idempotence: 'on (default; acks=all)',
  },
  {
    id: 'ours-promise',
    label: 'kafka-producer-ts (promise)',
    short: 'ours promise',
    color: '#ff7f0e',
    needs: 'dist',
    command: oursCommand('promise', OURS_PROMISE_MAX_OUTSTANDING),
    security: true,
    settings: `as the callback form, with send(record).then(...); S1/S2: ≤${OURS_PROMISE_MAX_OUTSTANDING.toLocaleString('en-US')} unsettled promises`,
    idempotence: 'on (default; acks=all)',
  },
  {
    id: 'kafkajs',
    label: 'kafkajs',
    short: 'kafkajs',
    color: '#1f77b4',
    needs: 'kafkajs',
    command(run) {
      // Swept on kfake, S1a, 2 runs each: arrays of 1,000 x 4 in flight 159-165k msg/s, 1,000 x 8 172-176k,
      // 5,000 x 4 144-150k, 10,000 x 4 131-132k.
      return ['node', node('kafkajs.mjs'), JSON.stringify(nodeConfig(run, { arraySize: 1000, concurrency: 8 }))];
    },
    settings:
      'no linger: S1/S2 send arrays of 1,000 messages, 8 send() calls in flight (swept: 1,000-10,000 per array, 4 or 8 in flight); S3/S4 one send() per record; DefaultPartitioner, acks per scenario',
    idempotence: 'off (default)',
  },
  {
    id: 'platformatic',
    label: '@platformatic/kafka',
    short: 'platformatic',
    color: '#9467bd',
    needs: '@platformatic/kafka',
    command(run) {
      // Swept on kfake, S1a, 2 runs each (msg/s): arrays of 1,000 x 4 in flight 468-512k (x 8: 534-547k, x 16:
      // 543-546k in an earlier pair), 4,000 x 4 415-442k, 4,000 x 8 430-440k, 10,000 x 4 325-326k, 10,000 x 8
      // 320-338k; asStream batchSize 1,000 466-470k, 5,000 336-338k, 10,000 298k. It is CPU-bound (2.4-4.5 s).
      return ['node', node('platformatic.mjs'), JSON.stringify(nodeConfig(run, { strategy: 'arrays', arraySize: 1000, concurrency: 8 }))];
    },
    settings:
      'S1/S2: send() of 1,000-message arrays, 8 in flight (swept on kfake against 4,000 and 10,000 per array, 4, 8 or 16 in flight, and producer.asStream() with batchSize 1,000-10,000), maxInflights default 5; S3/S4 one send() per record',
    idempotence: 'off (default)',
    // Checked by hand: its first request is ApiVersions v3 and it has Metadata v9-v12 only.
    brokerNotes: { mock: 'it needs ApiVersions >= v3 and Metadata >= v9; the 2.0.2 mock has ApiVersions <= v2 and Metadata <= v2' },
  },
  {
    id: 'node-rdkafka',
    label: 'node-rdkafka',
    short: 'node-rdkafka',
    color: '#2ca02c',
    needs: 'node-rdkafka',
    command(run) {
      const s = run.scenario;
      const extra = s.keys ? { rdkafka: KEYED_RDKAFKA(s) } : s.mode === 'bounded' ? { rdkafka: { 'batch.size': BOUNDED_BATCH_SIZE.rdkafka } } : {};
      return ['node', node('node-rdkafka.mjs'), JSON.stringify(nodeConfig(run, extra))];
    },
    settings:
      'S6: batch.size 16384, queue.buffering.max.kbytes 32768, partitioner murmur2_random, Buffer keys; otherwise linger.ms 5 (0 in S4), batch.size 1000000 (S3: ' + BOUNDED_BATCH_SIZE.rdkafka + '), batch.num.messages 10000, queue.buffering.max.messages 1000000, queue.buffering.max.kbytes 1048576, socket.nagle.disable true, dr_cb true, setPollInterval(1) + poll() every 10,000 produce() calls',
    idempotence: 'off (librdkafka default)',
  },
  {
    id: 'java',
    label: 'Java producer',
    short: 'java',
    color: '#8c564b',
    needs: 'java',
    command(run) {
      const s = run.scenario;
      const tools = kafkaTools();
      const jvm = [...JAVA_CLIENT_FLAGS, `-Dlog4j2.configurationFile=${TOOLS_LOG4J2}`];
      if (s.mode === 'throughput') {
        const props = [`acks=${s.acks}`, 'linger.ms=5', `batch.size=${BATCH_SIZE}`, `compression.type=${s.compression ?? 'none'}`, 'client.id=bench-java', ...javaSecurityProps(run.security)];
        if (s.idempotence === 'off') props.push('enable.idempotence=false');
        return [
          'java',
          ...jvm,
          '-cp',
          tools.classpath,
          'org.apache.kafka.tools.ProducerPerformance',
          '--bootstrap-server',
          run.bootstrap,
          '--topic',
          run.topic,
          '--num-records',
          String(s.records),
          '--record-size',
          String(s.valueBytes),
          '--throughput',
          '-1',
          '--command-property',
          ...props,
        ];
      }
      return [
        'java',
        ...jvm,
        '-cp',
        `${JAVA_CLASSES}${path.delimiter}${tools.classpath}`,
        'BenchProducer',
        ...javaArgs(run),
      ];
    },
    settings:
      'S7: bench/java/BenchProducer.java, transactional.id per run, initTransactions() before the clock, beginTransaction / 10,000 send() / commitTransaction(), linger.ms 5, batch.size ' + BATCH_SIZE + '; S6: bench/java/BenchProducer.java with a Semaphore of 100,000, byte[] keys, batch.size 16384, buffer.memory default 32 MiB; S1/S2: org.apache.kafka.tools.ProducerPerformance --throughput -1 with linger.ms 5, batch.size ' + BATCH_SIZE + ' (buffer.memory default 32 MiB); S3/S4: bench/java/BenchProducer.java (same client jar) with a Semaphore of 1,000 / paced sends, linger.ms 5 / 0, batch.size ' + BOUNDED_BATCH_SIZE.java + ' in S3 and ' + BATCH_SIZE + ' in S4; JVM flags of kafka-producer-perf-test.sh (-Xmx512M, G1)',
    idempotence: 'on (default; acks=all)',
    // Secured listeners: ProducerPerformance (S1/S2) takes the properties; BenchProducer (S3, S4, S6) has no flag for them yet.
    security: (s) => s.mode === 'throughput' && !s.keys,
    // Checked with DEBUG logging: the 2.0.2 mock offers Metadata v0-v2; Kafka 4.x clients
    // dropped Metadata < v4 (KIP-896), find no usable node and re-bootstrap until max.block.ms.
    brokerNotes: { mock: 'Kafka 4.x clients need Metadata >= v4 (KIP-896); the 2.0.2 mock has Metadata <= v2, so the client never gets metadata and blocks' },
  },
  {
    id: 'c',
    label: 'librdkafka C',
    short: 'C',
    color: '#7f7f7f',
    needs: 'c',
    command(run) {
      return [C_PRODUCER, ...cArgs(run), ...xArgs(olderLibrdkafkaSecurity(run.security))];
    },
    security: true,
    settings:
      'bench/c/producer.c: S7: transactional.id per run (idempotence on), rd_kafka_init_transactions() before the clock, begin / 10,000 produce / rd_kafka_commit_transaction(), the throughput settings below; S6: batch.size 16384, queue.buffering.max.kbytes 32768, partitioner murmur2_random (keys copied by librdkafka, as always); otherwise linger.ms 5 (0 in S4), batch.size 1000000 (S3: ' + BOUNDED_BATCH_SIZE.rdkafka + '), batch.num.messages 10000, queue.buffering.max.messages 1000000, queue.buffering.max.kbytes 1048576, socket.nagle.disable true, dr_msg_cb, zero-copy values (no RD_KAFKA_MSG_F_COPY); on the SASL_SSL listener SASL PLAIN, as librdkafka 2.0.2 cannot do SCRAM with Kafka 4 (fixed in 2.6.1)',
    idempotence: 'off (librdkafka default)',
  },
];

// Our two forms under Bun and Deno (the binaries scripts/ensure-deps.mjs --for test puts in .cache/): same
// script, settings and dist/ as ours-cb / ours-promise. Not in the default client set, so the published
// full run stays as it is; select them with --runtime bun,deno or by id (--clients ours-cb-bun,...).
const RUNTIME_LABEL = { bun: 'Bun', deno: 'Deno' };
const RUNTIME_COLORS = { 'ours-cb-bun': '#e377c2', 'ours-promise-bun': '#f7b6d2', 'ours-cb-deno': '#17becf', 'ours-promise-deno': '#9edae5' };
for (const rt of RUNTIMES) {
  for (const [form, base, bound] of [
    ['callback', 'ours-cb', OURS_CALLBACK_MAX_OUTSTANDING],
    ['promise', 'ours-promise', OURS_PROMISE_MAX_OUTSTANDING],
  ]) {
    const of = CLIENTS.find((c) => c.id === base);
    const id = `${base}-${rt.name}`;
    CLIENTS.push({
      ...of,
      id,
      label: `kafka-producer-ts (${form}, ${RUNTIME_LABEL[rt.name]} ${rt.version})`,
      short: `${of.short} ${rt.name}`,
      color: RUNTIME_COLORS[id],
      command: oursCommand(form, bound, rt),
      env: () => runtimeEnv(),
      settings: `as ${of.label}, run by ${rt.name} ${rt.version} (${rt.name === 'deno' ? 'deno run -A --node-modules-dir=manual' : 'bun'} bench/clients/ours.mjs)`,
      runtime: rt,
      optIn: true,
    });
  }
}

function commonArgs(run) {
  const s = run.scenario;
  const a = [
    '--bootstrap',
    run.bootstrap,
    '--topic',
    run.topic,
    '--records',
    String(s.records),
    '--value-bytes',
    String(s.valueBytes),
    '--acks',
    s.acks,
    '--idempotence',
    s.idempotence,
    '--mode',
    s.mode,
    '--linger',
    String(s.lingerMs ?? 5),
  ];
  if (s.maxOutstanding) a.push('--max-outstanding', String(s.maxOutstanding));
  if (s.warmupRecords) a.push('--warmup', String(s.warmupRecords));
  if (s.rate) a.push('--rate', String(s.rate));
  if (s.keys) a.push('--keys', String(s.keys), '--partitions', String(partitionsOf(s)));
  if (s.transactionRecords) a.push('--transaction-records', String(s.transactionRecords), '--transactional-id', transactionalId(run));
  return a;
}
/** librdkafka properties as bench/c/producer.c takes them: `-X key=value` each. */
/**
 * librdkafka before 2.6.1 repeats the client nonce in SCRAM's client-final
 * message, which Kafka 4 rejects, so Debian's 2.0.2 (the C client here)
 * authenticates with PLAIN on the same SASL_SSL listener. SASL runs once per
 * connection; what the scenario measures per record (TLS) is the same.
 */
function olderLibrdkafkaSecurity(sec) {
  return sec?.['sasl.mechanisms']?.startsWith('SCRAM-') ? { ...sec, 'sasl.mechanisms': 'PLAIN' } : sec;
}

const xArgs = (props) => Object.entries(props ?? {}).flatMap(([k, v]) => ['-X', `${k}=${v}`]);
function cArgs(run) {
  const s = run.scenario;
  if (s.keys) return [...commonArgs(run), ...xArgs(KEYED_RDKAFKA(s))];
  return [...commonArgs(run), ...(s.mode === 'bounded' ? ['-X', `batch.size=${BOUNDED_BATCH_SIZE.rdkafka}`] : [])];
}
const javaArgs = (run) => {
  const s = run.scenario;
  return [...commonArgs(run), '--batch-size', String(s.batchSize ?? (s.mode === 'bounded' ? BOUNDED_BATCH_SIZE.java : BATCH_SIZE))];
};

/**
 * Parse a finished client's stdout/stderr into the runner result object
 * ({ sent, acked, errors, firstError, elapsedMs, latency }) or throw.
 */
export function parseResult(client, run, stdout, stderr) {
  const line = stdout
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('BENCH_RESULT '));
  if (line) return JSON.parse(line.slice('BENCH_RESULT '.length));
  if (client.id === 'java' && run.scenario.mode === 'throughput') {
    // "1000000 records sent, 323624.595469 records/sec (30.86 MB/sec), 221.20 ms avg latency, ..."
    const m = /^(\d+) records sent, ([\d.]+) records\/sec .*?([\d.]+) ms avg latency, ([\d.]+) ms max latency/m.exec(
      stdout.split('\n').filter((l) => / records sent, /.test(l) && /50th/.test(l)).pop() ?? '',
    );
    if (!m) throw new Error('no ProducerPerformance summary line on stdout');
    const n = Number(m[1]);
    const rate = Number(m[2]);
    // Failed sends are printed as stack traces (and still counted in "records sent").
    const traces = stderr.split('\n').filter((l) => /^[\w.$]+(Exception|Error)\b/.test(l));
    return {
      client: 'java',
      version: kafkaTools().version,
      tool: 'ProducerPerformance',
      sent: n,
      acked: n - traces.length,
      errors: traces.length,
      firstError: traces[0] ?? null,
      elapsedMs: (n / rate) * 1000,
      latency: null,
    };
  }
  throw new Error('no BENCH_RESULT line on stdout');
}
