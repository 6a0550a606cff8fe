// node-rdkafka 2.15.0, built against the system librdkafka (BUILD_LIBRDKAFKA=0).
// Delivery reports (dr_cb) count acknowledgements; poll() runs every 1 ms
// (setPollInterval(1), the finest timer) and after every 10,000 produce() calls.
import { createRequire } from 'node:module';
import { Run, drive, errorText, keyBuffers, now, readConfig, sendBounded, sendPaced } from '../lib/runner.mjs';

const require = createRequire(import.meta.url);
const Kafka = require('node-rdkafka');
const version = require('node-rdkafka/package.json').version;
const run = new Run(readConfig());
const { cfg, o, total, value } = run;
const QUEUE_FULL = Kafka.CODES.ERRORS.ERR__QUEUE_FULL;

const conf = {
  'metadata.broker.list': cfg.bootstrap,
  'client.id': 'bench-node-rdkafka',
  dr_cb: true,
  'linger.ms': cfg.lingerMs ?? 5,
  'batch.size': 1_000_000,
  'batch.num.messages': 10_000,
  'queue.buffering.max.messages': 1_000_000,
  'queue.buffering.max.kbytes': 1_048_576,
  'compression.codec': 'none',
  'socket.nagle.disable': true,
  acks: cfg.acks === 'all' ? -1 : Number(cfg.acks),
  ...(cfg.idempotence === 'off' ? { 'enable.idempotence': false } : {}),
  ...(cfg.rdkafka ?? {}),
};
const producer = new Kafka.Producer(conf, {});
const topic = cfg.topic;
// S6: record i carries keys[i % keys.length]; cfg.rdkafka sets partitioner murmur2_random (Java's placement).
const keys = keyBuffers(cfg);
let onReport = (err) => o.done(err);
producer.on('delivery-report', (err, report) => onReport(err, report));
producer.on('event.error', (e) => {
  o.firstError ??= `event.error: ${errorText(e)}`;
});

const connect = () =>
  new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('node-rdkafka: not ready within 30 s')), 30_000);
    producer.connect({ timeout: 30_000 }, (err) => {
      clearTimeout(t);
      if (err) reject(err);
      else resolve();
    });
  });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** produce() of the next record; false when the local queue is full (QUEUE_FULL). */
function tryProduce() {
  try {
    producer.produce(topic, null, value, keys === null ? null : keys[(o.sent - 1) % keys.length], null);
    return true;
  } catch (e) {
    if (e?.code !== QUEUE_FULL) throw e;
    return false;
  }
}

/** While the local queue is full: poll and wait 1 ms, then retry. */
async function produceWhenRoom() {
  do {
    producer.poll();
    await sleep(1);
  } while (!tryProduce());
}

async function sendThroughput() {
  run.start();
  for (let i = 0; i < total; i++) {
    o.sent++;
    if (!tryProduce()) await produceWhenRoom();
    if (i % 10_000 === 9_999) {
      producer.poll();
      await new Promise((r) => setImmediate(r));
    }
  }
  await new Promise((resolve, reject) => producer.flush(120_000, (err) => (err ? reject(err) : resolve())));
  await o.below(1);
}

/** S4: the record's index rides along as the delivery report's opaque. */
function sendLatency() {
  const lat = run.samples();
  const starts = new Float64Array(total);
  const warm = cfg.warmupRecords;
  onReport = (err, report) => {
    const i = report?.opaque;
    if (!err && typeof i === 'number' && i >= warm) lat[i - warm] = now() - starts[i];
    o.done(err);
  };
  return sendPaced(
    run,
    (i, ts) => {
      starts[i] = ts;
      producer.produce(topic, null, value, null, null, i);
      producer.poll();
    },
    { completion: 'report' },
  );
}

await drive(run, {
  result: { client: 'node-rdkafka', version, librdkafka: Kafka.librdkafkaVersion },
  connect: async () => {
    await connect();
    producer.setPollInterval(1);
  },
  throughput: sendThroughput,
  bounded: () => sendBounded(run, tryProduce, { completion: 'report', whenFull: produceWhenRoom }),
  latency: sendLatency,
  close: () =>
    new Promise((resolve) => {
      producer.setPollInterval(0);
      producer.disconnect(10_000, () => resolve());
    }),
});
