/**
 * Typed keys and values: string keys and JSON values through the built-in
 * serializers, plus an interceptor that stamps a header on every record and
 * counts outcomes.
 *
 *   KAFKA_BROKERS=127.0.0.1:9092 TOPIC=orders npx tsx examples/typed-json.ts
 */
import { KafkaProducer, KafkaSerializationError, type ProducerInterceptor, serializers } from 'kafka-producer-ts'

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',')
const topic = process.env.TOPIC ?? 'orders'

interface Order {
  id: number
  customer: string
  items: { sku: string; qty: number }[]
  total: number
}

let acked = 0
let failed = 0
// Java's ProducerInterceptor: onSend before serialization (return a copy), onAcknowledgement for every outcome.
const audit: ProducerInterceptor<string, Order> = {
  onSend: (record) => ({ ...record, headers: { ...record.headers, 'produced-by': 'typed-json-example' } }),
  onAcknowledgement: (_metadata, error) => (error === null ? acked++ : failed++),
}

const producer = new KafkaProducer<string, Order>({
  bootstrapServers: brokers,
  keySerializer: serializers.string,
  valueSerializer: serializers.json,
  interceptors: [audit],
})

// The key is the customer: all of one customer's orders land on one partition, in order.
const orders: Order[] = Array.from({ length: 10 }, (_, i) => ({
  id: i,
  customer: `customer-${i % 3}`,
  items: [{ sku: `sku-${i}`, qty: 1 + (i % 4) }],
  total: 9.99 * (1 + (i % 4)),
}))
for (const order of orders) {
  const md = await producer.send({ topic, key: order.customer, value: order })
  console.log(`order ${order.id} (${order.customer}) -> ${md.topic}-${md.partition}@${md.offset}`)
}

// A value JSON cannot represent fails that send only, with a typed error.
const broken = { id: 99, customer: 'customer-0', items: [], total: 10n } as unknown as Order
try {
  await producer.send({ topic, key: broken.customer, value: broken })
} catch (err) {
  if (!(err instanceof KafkaSerializationError)) throw err
  console.log(`not sent: ${err.message}`)
}

await producer.close({ timeoutMs: 10_000 })
console.log(`acknowledged ${acked}, failed ${failed}`)
