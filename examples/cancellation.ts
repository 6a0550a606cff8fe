/**
 * Cancellation with AbortSignal: a send that is still waiting in the
 * producer (here, for the metadata of a topic being created, or for
 * buffer.memory) can be withdrawn; once its record is in a batch, the batch
 * decides. A send is never reported aborted and then delivered.
 *
 *   KAFKA_BROKERS=127.0.0.1:9092 TOPIC=requests npx tsx examples/cancellation.ts
 */
import { KafkaProducer } from 'kafka-producer-ts'

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',')
const topic = process.env.TOPIC ?? 'requests'

const producer = new KafkaProducer({ bootstrapServers: brokers, bufferMemory: 64 * 1024, batchSize: 8192 })
await producer.send({ topic, value: 'warm-up' }) // metadata known from here on

// 1. A per-request deadline: each send may wait for buffer.memory at most 50 ms.
//    Far more is offered than 64 KiB holds, so later sends wait in the producer;
//    those still waiting at their deadline are removed and never sent.
const payload = Buffer.alloc(1024, 'r')
const outcomes = await Promise.allSettled(
  Array.from({ length: 2000 }, (_, i) => producer.send({ topic, key: `req-${i}`, value: payload }, { signal: AbortSignal.timeout(50) })),
)
const delivered = outcomes.filter((o) => o.status === 'fulfilled').length
const aborted = outcomes.filter((o) => o.status === 'rejected' && (o.reason as Error).name === 'AbortError').length
console.log(`deadline: ${delivered} delivered, ${aborted} withdrawn before sending, ${2000 - delivered - aborted} failed otherwise`)

// 2. The callback form, cancelled by the application: abort() withdraws what still waits.
const controller = new AbortController()
let withdrawn = 0
let acked = 0
await new Promise<void>((resolve) => {
  let settled = 0
  for (let i = 0; i < 500; i++) {
    producer.send({ topic, key: `batch-${i}`, value: payload }, { signal: controller.signal }, (err) => {
      if (err?.name === 'AbortError') withdrawn++
      else if (err === null) acked++
      if (++settled === 500) resolve()
    })
  }
  controller.abort(new Error('user cancelled the upload'))
})
console.log(`abort(): ${acked} delivered (already in batches), ${withdrawn} withdrawn`)

// 3. An already-aborted signal sends nothing.
try {
  await producer.send({ topic, value: 'never' }, { signal: AbortSignal.abort() })
} catch (err) {
  console.log(`already aborted: ${(err as Error).name}`)
}

// 4. flush() with a deadline: stops waiting, the records keep going.
await producer.flush({ signal: AbortSignal.timeout(5_000) })
await producer.close({ timeoutMs: 10_000 })
