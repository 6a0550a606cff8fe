/**
 * The smallest useful program: send, await, callback, flush, close.
 *
 *   KAFKA_BROKERS=127.0.0.1:9092 TOPIC=quickstart npx tsx examples/quickstart.ts
 */
import { KafkaProducer } from 'kafka-producer-ts'

const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'
const topic = process.env.TOPIC ?? 'quickstart'

const producer = new KafkaProducer({ bootstrapServers: brokers.split(','), lingerMs: 5, batchSize: 16384 })

// Promise form: resolves once the broker has the record.
const md = await producer.send({ topic, key: 'user-42', value: 'hello', headers: { source: 'quickstart' } })
console.log(`sent to ${md.topic}-${md.partition} at offset ${md.offset}`)

// Callback form: no Promise is allocated; the callback runs on acknowledgement.
for (let i = 0; i < 10; i++) {
  producer.send({ topic, value: `event ${i}` }, (err, meta) => {
    if (err) console.error('send failed:', err)
    else console.log(`event ${i} -> ${meta!.partition}@${meta!.offset}`)
  })
}

await producer.flush() // everything sent above is acknowledged now
await producer.close({ timeoutMs: 10_000 })
