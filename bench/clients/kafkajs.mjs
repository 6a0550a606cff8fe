// kafkajs 2.x.  It has no linger: the throughput scenarios send arrays of
// `arraySize` (1,000) messages, with up to `concurrency` send() calls in
// flight; the per-record scenarios call send() once per record.
import { createRequire } from 'node:module';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { Outstanding, errorText, finish, latencySummary, now, paced, readConfig } from '../lib/runner.mjs';

const require = createRequire(import.meta.url);
const version = require('kafkajs/package.json').version;
const cfg = readConfig();
const acks = cfg.acks === 'all' ? -1 : Number(cfg.acks);
const kafka = new Kafka({
  clientId: 'bench-kafkajs',
  brokers: cfg.bootstrap.split(','),
  logLevel: logLevel.ERROR,
  retry: { retries: 5 },
});
// idempotence: kafkajs defaults to off (and needs maxInFlightRequests 1 when on)
const producer = kafka.producer({
  allowAutoTopicCreation: false,
  createPartitioner: Partitioners.DefaultPartitioner,
  idempotent: false,
});
const topic = cfg.topic;
const value = Buffer.alloc(cfg.valueBytes, 'x');
const total = cfg.records + cfg.warmupRecords;
const o = new Outstanding();
let latency = null;
let t0 = now();
try {
  await producer.connect();
  if (cfg.mode === 'throughput') {
    const arraySize = cfg.arraySize ?? 1000;
    const concurrency = cfg.concurrency ?? 4;
    t0 = now();
    let next = 0;
    const worker = async () => {
      while (next < total) {
        const n = Math.min(arraySize, total - next);
        next += n;
        const messages = new Array(n);
        for (let i = 0; i < n; i++) messages[i] = { value };
        o.sent += n;
        try {
          await producer.send({ topic, acks, messages });
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
      producer.send({ topic, acks, messages: [{ value }] }).then(
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
      producer.send({ topic, acks, messages: [{ value }] }).then(
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
}
const elapsedMs = now() - t0;
await finish(
  { client: 'kafkajs', version, sent: o.sent, acked: o.acked, errors: o.errors, firstError: o.firstError, elapsedMs, latency },
  () => producer.disconnect(),
);
