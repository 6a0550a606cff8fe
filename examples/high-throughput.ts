/**
 * High-throughput producing with callbacks, tuned linger.ms/batch.size, and
 * the producer's metrics printed every second.
 *
 *   KAFKA_BROKERS=127.0.0.1:9092 TOPIC=demo RECORDS=2000000 VALUE_BYTES=100 npx tsx examples/high-throughput.ts
 *
 * `npm run demo` runs this against a local broker it starts itself.
 */
import { KafkaProducer } from 'kafka-producer-ts'

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',')
const topic = process.env.TOPIC ?? 'demo'
const total = Number(process.env.RECORDS ?? 1_000_000)
const valueBytes = Number(process.env.VALUE_BYTES ?? 100)

const producer = new KafkaProducer({
  bootstrapServers: brokers,
  // Let batches fill: wait up to 10 ms and allow 256 KiB per partition batch (fewer, larger
  // requests: 1.7M -> 2.0M msg/s in bench/, see its README). Each partition being filled holds
  // one such buffer, so with hundreds of partitions raise bufferMemory or lower batchSize.
  lingerMs: 10,
  batchSize: 262144,
  acks: 1,
})

const value = Buffer.alloc(valueBytes, 'x')
let acked = 0
let failed = 0
let firstError: Error | null = null
const onDone = (err: Error | null): void => {
  if (err) {
    failed++
    firstError ??= err
  } else acked++
}

const started = Date.now()
let lastAcked = 0
const ticker = setInterval(() => {
  const m = producer.metrics()
  const rate = acked - lastAcked
  lastAcked = acked
  const nodes = Object.entries(m.nodes)
    .map(([id, n]) => `${id}:${n['requests-in-flight']}`)
    .join(' ')
  console.log(
    `${String(Math.round((Date.now() - started) / 1000)).padStart(3)}s  acked ${acked}/${total} (${rate.toLocaleString()} rec/s)` +
      `  in-flight ${m['requests-in-flight']} [${nodes}]` +
      `  batch ${Math.round(m['batch-size-avg'])} B  rec/req ${m['records-per-request-avg'].toFixed(0)}` +
      `  queue ${m['record-queue-time-avg'].toFixed(1)} ms  latency ${m['request-latency-avg'].toFixed(1)} ms` +
      `  buffer free ${(m['buffer-available-bytes'] / 1048576).toFixed(1)}/${(m['buffer-total-bytes'] / 1048576).toFixed(0)} MiB`,
  )
}, 1000)

// Callback sends never allocate a Promise. A send that finds buffer.memory
// full waits (up to max.block.ms) in the producer; to keep such waiting sends
// few, hold the number of unacknowledged records to a bound and yield to the
// event loop while above it, so the network loop runs while we produce.
const maxOutstanding = 200_000
for (let i = 0; i < total; i++) {
  producer.send({ topic, value }, onDone)
  if (i % 10_000 === 9_999) {
    do await new Promise((r) => setImmediate(r))
    while (i + 1 - (acked + failed) > maxOutstanding)
  }
}
await producer.flush()
clearInterval(ticker)
const secs = (Date.now() - started) / 1000
console.log(
  `done: ${acked} acknowledged, ${failed} failed in ${secs.toFixed(2)} s = ${Math.round(acked / secs).toLocaleString()} rec/s, ` +
    `${((acked * valueBytes) / secs / 1048576).toFixed(1)} MiB/s of values`,
)
if (firstError) console.log('first error:', firstError)
await producer.close()
