/**
 * Exactly-once consume-transform-produce with transactions: each batch of
 * input is processed, its output records and the consumer group's next
 * offsets are committed in one transaction, so a crash anywhere either
 * commits both or neither. (The "input" here is simulated; with a real
 * consumer pass its group metadata to sendOffsetsToTransaction.)
 *
 *   KAFKA_BROKERS=127.0.0.1:9092 TOPIC=demo-out TXN_ID=demo-txn npx tsx examples/transactions.ts
 *
 * Read the output with `kcat -C -b 127.0.0.1:9092 -t demo-out -X isolation.level=read_committed`:
 * only committed transactions show.
 */
import {
  KafkaFatalProducerError,
  KafkaProducer,
  KafkaTransactionAbortableError,
} from 'kafka-producer-ts'

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',')
const topic = process.env.TOPIC ?? 'demo-out'
const inputTopic = process.env.INPUT_TOPIC ?? 'demo-in'
const group = process.env.GROUP ?? 'demo-group'

const producer = new KafkaProducer({
  bootstrapServers: brokers,
  // Stable across restarts of this instance: a restarted instance fences the old one (zombie fencing).
  transactionalId: process.env.TXN_ID ?? 'demo-txn',
  transactionTimeoutMs: 30_000,
})

async function main(): Promise<void> {
  // Once per producer: registers the transactional id and aborts whatever a previous instance left open.
  await producer.initTransactions()

  let nextOffset = 0n
  for (let batch = 0; batch < 10; batch++) {
    const input = Array.from({ length: 100 }, (_, i) => `event-${batch}-${i}`)
    try {
      // Begins, commits when the function resolves, aborts (and rethrows) when it throws.
      await producer.transaction(async () => {
        for (const event of input) {
          // Sends inside the transaction need not be awaited one by one: commit waits for all of them.
          void producer.send({ topic, key: event.split('-')[1]!, value: event.toUpperCase() }).catch(() => {})
        }
        nextOffset += BigInt(input.length)
        // The group's position moves only if this transaction commits.
        await producer.sendOffsetsToTransaction([{ topic: inputTopic, partition: 0, offset: nextOffset }], group)
      })
      console.log(`batch ${batch}: committed ${input.length} records, ${inputTopic}-0 at ${nextOffset}`)
    } catch (err) {
      if (err instanceof KafkaFatalProducerError) throw err // fenced by a newer instance: stop
      if (err instanceof KafkaTransactionAbortableError) {
        // Already aborted by transaction(): rewind and process the batch again.
        nextOffset -= BigInt(input.length)
        console.warn(`batch ${batch}: aborted (${err.message}); retrying`)
        batch--
        continue
      }
      throw err
    }
  }

  // The explicit form, for when the transaction spans more than one function:
  producer.beginTransaction()
  await producer.send({ topic, value: 'explicit' })
  await producer.abortTransaction() // never visible to read_committed consumers

  const m = producer.metrics()
  console.log(`commit time total ${(m['txn-commit-time-ns-total'] / 1e6).toFixed(1)} ms, abort ${(m['txn-abort-time-ns-total'] / 1e6).toFixed(1)} ms`)
}

main()
  .catch((err) => {
    console.error(err)
    process.exitCode = 1
  })
  .finally(() => producer.close())
