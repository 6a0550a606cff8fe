// @platformatic/kafka (1.35.0: its last release for Node 20).
// Throughput: its own batching, producer.asStream({ batchSize, batchTime }),
// or (strategy 'arrays') send() of 1,000-message arrays with `concurrency`
// sends in flight; per-record scenarios call send() once per record.
import { createRequire } from 'node:module';
import { ProduceAcks, Producer } from '@platformatic/kafka';
import { Outstanding, errorText, finish, latencySummary, now, paced, readConfig } from '../lib/runner.mjs';

const require = createRequire(import.meta.url);
let version = 'unknown';
try {
  version = JSON.parse(require('node:fs').readFileSync(new URL('../node_modules/@platformatic/kafka/package.json', import.meta.url), 'utf8')).version;
} catch {
  /* version is informational */
}
const cfg = readConfig();
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
const value = Buffer.alloc(cfg.valueBytes, 'x');
const total = cfg.records + cfg.warmupRecords;
const o = new Outstanding();
let latency = null;
let t0 = now();
try {
  // Fetch metadata first, as kafkajs' connect() does, so a bad broker fails fast.
  await producer.metadata({ topics: [topic] });
  if (cfg.mode === 'throughput' && (cfg.strategy ?? 'stream') === 'stream') {
    const stream = producer.asStream({
      batchSize: cfg.streamBatchSize ?? 1000,
      batchTime: cfg.lingerMs ?? 5,
      highWaterMark: cfg.highWaterMark ?? 10_000,
      reportMode: 'batch',
    });
    stream.on('delivery-report', (r) => (o.acked += r.count));
    const failed = new Promise((_, reject) => stream.once('error', reject));
    failed.catch(() => {});
    t0 = now();
    for (let i = 0; i < total; i++) {
      o.sent++;
      if (!stream.write({ topic, value })) {
        await Promise.race([new Promise((r) => stream.once('drain', r)), failed]);
      }
    }
    await Promise.race([stream.close(), failed]);
  } else if (cfg.mode === 'throughput') {
    const arraySize = cfg.arraySize ?? 1000;
    const concurrency = cfg.concurrency ?? 4;
    t0 = now();
    let next = 0;
    const worker = async () => {
      while (next < total) {
        const n = Math.min(arraySize, total - next);
        next += n;
        const messages = new Array(n);
        for (let i = 0; i < n; i++) messages[i] = { topic, value };
        o.sent += n;
        try {
          await producer.send({ messages, acks });
          o.acked += n;
        } catch (e) {
          o.errors += n;
          o.firstError ??= errorText(e);
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  } else if (cfg.mode === 'bounded') {
    const max = cfg.maxOutstanding;
    t0 = now();
    for (let i = 0; i < total; i++) {
      o.sent++;
      producer.send({ messages: [{ topic, value }], acks }).then(
        () => o.done(null),
        (e) => o.done(e),
      );
      if (o.count >= max) await o.below(max);
    }
    await o.below(1);
  } else if (cfg.mode === 'latency') {
    const lat = new Float64Array(cfg.records);
    const warm = cfg.warmupRecords;
    await paced(total, cfg.rate, (i) => {
      o.sent++;
      const ts = now();
      if (i === warm) t0 = ts;
      producer.send({ messages: [{ topic, value }], acks }).then(
        () => {
          if (i >= warm) lat[i - warm] = now() - ts;
          o.done(null);
        },
        (e) => o.done(e),
      );
    });
    await o.below(1);
    latency = latencySummary(lat);
  } else throw new Error(`unknown mode ${cfg.mode}`);
} catch (e) {
  o.errors++;
  o.firstError ??= errorText(e);
  if (e?.errors) o.firstError += ` | ${e.errors.map((x) => x?.message).join('; ')}`;
}
const elapsedMs = now() - t0;
await finish(
  { client: '@platformatic/kafka', version, sent: o.sent, acked: o.acked, errors: o.errors, firstError: o.firstError, elapsedMs, latency },
  () => producer.close(true),
);
