// kafka-producer-ts (this repo's built dist/index.js), callback or promise sends.
//   form 'callback': producer.send(record, cb)      — no Promise per record
//   form 'promise' : await-style producer.send(record) with at most
//                    `maxOutstanding` unsettled promises
import { KafkaProducer, VERSION } from '../../dist/index.js';
import { Outstanding, errorText, finish, latencySummary, now, paced, readConfig } from '../lib/runner.mjs';

const cfg = readConfig();
const form = cfg.form ?? 'callback';
const options = {
  bootstrapServers: cfg.bootstrap.split(','),
  clientId: `bench-ours-${form}`,
  acks: cfg.acks === 'all' ? 'all' : Number(cfg.acks),
  lingerMs: cfg.lingerMs ?? 5,
  batchSize: cfg.batchSize ?? 65536,
};
if (cfg.idempotence === 'off') options.enableIdempotence = false;
const producer = new KafkaProducer(options);
const topic = cfg.topic;
const value = Buffer.alloc(cfg.valueBytes, 'x');
const total = cfg.records + cfg.warmupRecords;
const o = new Outstanding();
const onDone = (err) => o.done(err);
const onOk = () => o.done(null);
const onErr = (e) => o.done(e ?? new Error('rejected'));

function sendOne() {
  o.sent++;
  if (form === 'callback') producer.send({ topic, value }, onDone);
  else producer.send({ topic, value }).then(onOk, onErr);
}

let latency = null;
let t0 = now();
try {
  if (cfg.mode === 'throughput' || cfg.mode === 'bounded') {
    // throughput: yield to the event loop every `yieldEvery` sends and hold
    // the unacknowledged records under maxOutstanding (the pattern of
    // examples/high-throughput.ts); bounded: the same with maxOutstanding 1,000.
    const max = cfg.maxOutstanding;
    const yieldEvery = Math.min(10_000, max);
    t0 = now();
    for (let i = 0; i < total; i++) {
      sendOne();
      if (o.count >= max) await o.below(max);
      else if (i % yieldEvery === yieldEvery - 1) await new Promise((r) => setImmediate(r));
    }
    await producer.flush();
    await o.below(1);
  } else if (cfg.mode === 'latency') {
    const lat = new Float64Array(cfg.records);
    const warm = cfg.warmupRecords;
    await paced(total, cfg.rate, (i) => {
      o.sent++;
      const ts = now();
      const record = { topic, value };
      if (i === warm) t0 = ts;
      if (form === 'callback') {
        producer.send(record, (err) => {
          if (i >= warm) lat[i - warm] = now() - ts;
          o.done(err);
        });
      } else {
        producer.send(record).then(
          () => {
            if (i >= warm) lat[i - warm] = now() - ts;
            o.done(null);
          },
          (e) => o.done(e),
        );
      }
    });
    await producer.flush();
    await o.below(1);
    latency = latencySummary(lat);
  } else throw new Error(`unknown mode ${cfg.mode}`);
} catch (e) {
  o.errors++;
  o.firstError ??= errorText(e);
}
const elapsedMs = now() - t0;
await finish(
  {
    client: 'kafka-producer-ts',
    version: VERSION,
    form,
    sent: o.sent,
    acked: o.acked,
    errors: o.errors,
    firstError: o.firstError,
    elapsedMs,
    latency,
  },
  () => producer.close({ timeoutMs: 10_000 }),
);
