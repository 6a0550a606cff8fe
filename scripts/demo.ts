/**
 * `npm run demo`: runs examples/high-throughput.ts against KAFKA_BROKERS, or,
 * when that is unset, against a single-node Apache Kafka (KRaft) that this
 * script starts on a random local port and stops afterwards.
 */
import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { startKafka, type KafkaCluster } from '../test/harness/kafka.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const topic = process.env.TOPIC ?? 'kafka-producer-ts-demo'
let cluster: KafkaCluster | null = null
let brokers = process.env.KAFKA_BROKERS

if (!brokers) {
  console.log('[demo] KAFKA_BROKERS is not set: starting a local Apache Kafka broker (KRaft, single node)...')
  const t0 = Date.now()
  cluster = await startKafka({ brokers: 1 })
  brokers = cluster.bootstrap
  console.log(`[demo] broker up at ${brokers} in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  await cluster.createTopic(topic, 4, 1)
  console.log(`[demo] created topic '${topic}' with 4 partitions`)
} else {
  console.log(`[demo] producing to KAFKA_BROKERS=${brokers}, topic '${topic}' (it must exist)`)
}

const stop = async (): Promise<void> => {
  if (cluster) {
    const c = cluster
    cluster = null
    await c.stop()
  }
}
process.on('SIGINT', () => void stop().then(() => process.exit(130)))

const code = await new Promise<number>((resolve) => {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'examples/high-throughput.ts')], {
    stdio: 'inherit',
    env: { ...process.env, KAFKA_BROKERS: brokers, TOPIC: topic, RECORDS: process.env.RECORDS ?? '2000000' },
  })
  child.on('exit', (c) => resolve(c ?? 1))
})
await stop()
process.exit(code)
