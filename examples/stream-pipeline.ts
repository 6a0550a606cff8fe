/**
 * stream.pipeline() into the producer: a fast source, a transform, and
 * producer.createWriteStream(). Backpressure comes from buffer.memory, so
 * memory stays bounded however many records flow and the application counts
 * nothing. Then the same with sendAll() over an async generator.
 *
 *   KAFKA_BROKERS=127.0.0.1:9092 TOPIC=events RECORDS=200000 npx tsx examples/stream-pipeline.ts
 */
import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { KafkaProducer } from 'kafka-producer-ts'

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',')
const topic = process.env.TOPIC ?? 'events'
const total = Number(process.env.RECORDS ?? 200_000)

const producer = new KafkaProducer({ bootstrapServers: brokers, lingerMs: 5 })

// A source that would produce far faster than any broker takes it.
function* readings(n: number): Generator<{ sensor: number; celsius: number; at: number }> {
  for (let i = 0; i < n; i++) yield { sensor: i % 50, celsius: 20 + Math.sin(i / 1000) * 5, at: Date.now() }
}

const toRecord = new Transform({
  objectMode: true,
  transform(reading: { sensor: number; celsius: number; at: number }, _encoding, callback) {
    // Records without a topic get the stream's; the key keeps each sensor's readings in order.
    callback(null, { key: `sensor-${reading.sensor}`, value: JSON.stringify(reading), timestamp: reading.at })
  },
})

const sink = producer.createWriteStream({ topic })
let peakRss = 0
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50)
const t0 = performance.now()
await pipeline(Readable.from(readings(total)), toRecord, sink)
const secs = (performance.now() - t0) / 1000
console.log(`pipeline: ${sink.acknowledged} records acknowledged in ${secs.toFixed(2)} s, peak RSS ${(peakRss / 1048576).toFixed(0)} MB`)

// The promise form: reads the next record only while the producer has room.
async function* moreReadings(): AsyncGenerator<{ key: string; value: string }> {
  for (const r of readings(total / 10)) yield { key: `sensor-${r.sensor}`, value: JSON.stringify(r) }
}
const sent = await producer.sendAll(moreReadings(), { topic })
clearInterval(sampler)
console.log(`sendAll: ${sent} records acknowledged`)

await producer.close({ timeoutMs: 10_000 })
