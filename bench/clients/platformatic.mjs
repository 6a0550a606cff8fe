// @platformatic/kafka (1.35.0: its last release for Node 20).
// Throughput: its own batching, producer.asStream({ batchSize, batchTime }),
// or (strategy 'arrays') send() of 1,000-message arrays with `concurrency`
// sends in flight; per-record scenarios call send() once per record.
import { createRequire } from 'node:module';
import { ProduceAcks, Producer } from '@platformatic/kafka';
import { Run, drive, readConfig, sendArrays, sendBounded, sendPaced } from '../lib/runner.mjs';

const require = createRequire(import.meta.url);
let version = 'unknown';
try {
  version = JSON.parse(require('node:fs').readFileSync(new URL('../node_modules/@platformatic/kafka/package.json', import.meta.url), 'utf8')).version;
} catch {
  /* version is informational */
}
const run = new Run(readConfig());
const { cfg, o, total, value } = run;
const acks = cfg.acks === 'all' ? ProduceAcks.ALL : ProduceAcks.LEADER;
// idempotence: @platformatic/kafka defaults to off
const producer = new Producer({
  clientId: 'bench-platformatic',
  bootstrapBrokers: cfg.bootstrap.split(','),
  acks,
  idempotent: false,
  autocreateTopics: false,
});
const topic = cfg.topic;

/** Throughput with its own batching: producer.asStream(). */
async function sendStream() {
  const stream = producer.asStream({
    batchSize: cfg.streamBatchSize ?? 1000,
    batchTime: cfg.lingerMs ?? 5,
    highWaterMark: cfg.highWaterMark ?? 10_000,
    reportMode: 'batch',
  });
  stream.on('delivery-report', (r) => (o.acked += r.count));
  const failed = new Promise((_, reject) => stream.once('error', reject));
  failed.catch(() => {});
  run.start();
  for (let i = 0; i < total; i++) {
    o.sent++;
    if (!stream.write({ topic, value })) {
      await Promise.race([new Promise((r) => stream.once('drain', r)), failed]);
    }
  }
  await Promise.race([stream.close(), failed]);
}

function sendArray(n) {
  const messages = new Array(n);
  for (let i = 0; i < n; i++) messages[i] = { topic, value };
  return producer.send({ messages, acks });
}
const sendOne = () => producer.send({ messages: [{ topic, value }], acks });

await drive(run, {
  result: { client: '@platformatic/kafka', version },
  // Fetch metadata first, as kafkajs' connect() does, so a bad broker fails fast.
  connect: () => producer.metadata({ topics: [topic] }),
  throughput: () => ((cfg.strategy ?? 'stream') === 'stream' ? sendStream() : sendArrays(run, sendArray)),
  bounded: () => sendBounded(run, sendOne),
  latency: () => sendPaced(run, sendOne),
  onError: (e) => {
    if (e?.errors) o.firstError += ` | ${e.errors.map((x) => x?.message).join('; ')}`;
  },
  close: () => producer.close(true),
});
