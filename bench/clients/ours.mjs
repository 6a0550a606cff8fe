// kafka-producer-ts (this repo's built dist/index.js), callback or promise sends.
//   form 'callback': producer.send(record, cb)      — no Promise per record
//   form 'promise' : await-style producer.send(record) with at most
//                    `maxOutstanding` unsettled promises
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { KafkaProducer, VERSION } from '../../dist/index.js';
import { Run, drive, keyBuffers, readConfig, sendPaced } from '../lib/runner.mjs';

const run = new Run(readConfig());
const { cfg, o, total, value } = run;
const form = cfg.form ?? 'callback';
const options = {
  bootstrapServers: cfg.bootstrap.split(','),
  clientId: `bench-ours-${form}`,
  acks: cfg.acks === 'all' ? 'all' : Number(cfg.acks),
  lingerMs: cfg.lingerMs ?? 5,
  batchSize: cfg.batchSize ?? 262144, // bench/lib/clients.mjs BATCH_SIZE
};
if (cfg.idempotence === 'off') options.enableIdempotence = false;
if (cfg.compression) options.compressionType = cfg.compression;
// S7: a transactional producer (idempotence stays on, as a transactional id needs it).
if (cfg.transactionalId) options.transactionalId = cfg.transactionalId;
// A secured listener: security.protocol, ssl.ca.location, sasl.* under librdkafka's names, which the config accepts.
if (cfg.security) Object.assign(options, cfg.security);
const producer = new KafkaProducer(options);
// The application's event-loop delay while it sends (p99, ms): compression must not block it.
const eld = monitorEventLoopDelay({ resolution: 10 });
eld.enable();
const topic = cfg.topic;
const onDone = (err) => o.done(err);
const onOk = () => o.done(null);
const onErr = (e) => o.done(e ?? new Error('rejected'));
// S6: record i carries keys[i % keys.length], placed by the default partitioner (Java's murmur2).
const keys = keyBuffers(cfg);

function sendOne() {
  const v = run.values === null ? value : run.valueAt(o.sent);
  // Unkeyed scenarios keep the record shape they always had ({ topic, value }).
  const record = keys === null ? { topic, value: v } : { topic, key: keys[o.sent % keys.length], value: v };
  o.sent++;
  if (form === 'callback') producer.send(record, onDone);
  else producer.send(record).then(onOk, onErr);
}

/** S5's extra result fields: compressed bytes and the event-loop delay. */
function extras() {
  eld.disable();
  const m = producer.metrics();
  const c = cfg.compression ? m.compression[cfg.compression] : undefined;
  return {
    eventLoopDelayP99Ms: eld.percentile(99) / 1e6,
    // Batches re-sent and connections closed: with idempotence off a retry can write a batch twice (delivery check).
    retries: m['record-retry-total'],
    connectionCloses: m['connection-close-total'],
    ...(c ? { uncompressedBytes: c['bytes-in-total'], compressedBytes: c['bytes-out-total'] } : {}),
  };
}

/**
 * throughput: yield to the event loop every `yieldEvery` sends and hold the
 * unacknowledged records under maxOutstanding (the pattern of
 * examples/high-throughput.ts); bounded: the same with maxOutstanding 1,000.
 */
async function sendLoop() {
  const max = cfg.maxOutstanding;
  const yieldEvery = Math.min(10_000, max);
  run.start();
  for (let i = 0; i < total; i++) {
    sendOne();
    if (o.count >= max) await o.below(max);
    else if (i % yieldEvery === yieldEvery - 1) await new Promise((r) => setImmediate(r));
  }
  await producer.flush();
  await o.below(1);
}

/**
 * transactional (S7): initTransactions() once before the clock starts, then beginTransaction, cfg.transactionRecords
 * sends, commitTransaction, repeated. commitTransaction() sends everything of the transaction and waits for the
 * commit; every record's callback has run by then, so nothing is outstanding between transactions.
 */
async function transactionalLoop() {
  const per = cfg.transactionRecords;
  await producer.initTransactions();
  run.start();
  for (let i = 0; i < total; ) {
    producer.beginTransaction();
    const end = Math.min(total, i + per);
    for (; i < end; i++) sendOne();
    await producer.commitTransaction();
  }
  await o.below(1);
}

await drive(run, {
  // Which runtime ran it: bench/lib/clients.mjs also starts this script under Bun and Deno.
  result: { client: 'kafka-producer-ts', version: VERSION, form, runtime: process.versions.bun ? `bun ${process.versions.bun}` : globalThis.Deno ? `deno ${globalThis.Deno.version.deno}` : `node ${process.versions.node}` },
  extras,
  throughput: sendLoop,
  bounded: sendLoop,
  transactional: transactionalLoop,
  latency: () =>
    form === 'callback'
      ? sendPaced(run, (cb) => producer.send({ topic, value }, cb), { completion: 'callback', flush: () => producer.flush() })
      : sendPaced(run, () => producer.send({ topic, value }), { flush: () => producer.flush() }),
  close: () => producer.close({ timeoutMs: 10_000 }),
});
