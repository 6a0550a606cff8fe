// kafkajs 2.x.  It has no linger: the throughput scenarios send arrays of
// `arraySize` (1,000) messages, with up to `concurrency` send() calls in
// flight; the per-record scenarios call send() once per record.
import { createRequire } from 'node:module';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { Run, drive, readConfig, sendArrays, sendBounded, sendPaced } from '../lib/runner.mjs';

const require = createRequire(import.meta.url);
const version = require('kafkajs/package.json').version;
const run = new Run(readConfig());
const { cfg, value } = run;
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

function sendArray(n) {
  const messages = new Array(n);
  for (let i = 0; i < n; i++) messages[i] = { value };
  return producer.send({ topic, acks, messages });
}
const sendOne = () => producer.send({ topic, acks, messages: [{ value }] });

await drive(run, {
  result: { client: 'kafkajs', version },
  connect: () => producer.connect(),
  throughput: () => sendArrays(run, sendArray),
  bounded: () => sendBounded(run, sendOne),
  latency: () => sendPaced(run, sendOne),
  close: () => producer.disconnect(),
});
