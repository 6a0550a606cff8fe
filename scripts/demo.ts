/**
 * `npm run demo`: runs examples/high-throughput.ts against KAFKA_BROKERS, or,
 * when that is unset, against a single-node Apache Kafka (KRaft) that this
 * script starts on a random local port and stops afterwards.
 *
 *   npm run demo                          # the example
 *   npm run demo -- --perf                # kafka-producer-perf instead: RECORDS records of VALUE_BYTES, unthrottled
 *   npm run demo -- --perf --num-records 100000 --record-size 512 --throughput 20000 --report report.html
 *                                         # ... with these flags (--bootstrap-server and --topic are added unless given)
 *   npm run demo -- --keep                # keep the local broker running afterwards, until Ctrl-C,
 *                                         # printing its address for kafka-producer-perf or your own code
 */
import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { startKafka, type KafkaCluster } from '../test/harness/kafka.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const topic = process.env.TOPIC ?? 'kafka-producer-ts-demo'
const args = process.argv.slice(2)
const keep = args.includes('--keep')
const perfAt = args.indexOf('--perf')
const perfArgs = perfAt >= 0 ? args.slice(perfAt + 1).filter((a) => a !== '--keep') : null
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

function run(command: string[], env: Record<string, string>): Promise<number> {
  return new Promise<number>((resolve) => {
    const child = spawn(process.execPath, command, { stdio: 'inherit', env: { ...process.env, ...env } })
    child.on('exit', (c) => resolve(c ?? 1))
  })
}

/** kafka-producer-perf's command line: the given flags, or a default run; the demo's broker and topic unless given. */
function perfCommand(given: string[]): string[] {
  const flags =
    given.length > 0
      ? [...given]
      : ['--num-records', process.env.RECORDS ?? '1000000', '--record-size', process.env.VALUE_BYTES ?? '1024', '--throughput', '-1', '--producer-props', 'acks=all', 'linger.ms=5']
  if (!flags.some((a) => a.startsWith('--topic'))) flags.unshift('--topic', topic)
  if (!flags.some((a) => a.startsWith('--bootstrap-server'))) flags.unshift('--bootstrap-server', brokers!)
  return flags
}

const code =
  perfArgs !== null
    ? await run([path.join(root, 'dist/kafka-producer-perf.js'), ...perfCommand(perfArgs)], {})
    : await run(['--import', 'tsx', path.join(root, 'examples/high-throughput.ts')], { KAFKA_BROKERS: brokers, TOPIC: topic, RECORDS: process.env.RECORDS ?? '2000000' })

if (keep && cluster) {
  console.log(`[demo] the broker stays up at ${brokers} (topic '${topic}', 4 partitions); Ctrl-C stops it. In another terminal:`)
  console.log(`  node dist/kafka-producer-perf.js --bootstrap-server ${brokers} --topic ${topic} --num-records 1000000 --record-size 1024 --throughput -1 --report report.html`)
  console.log(`  KAFKA_BROKERS=${brokers} npm run demo -- --perf`)
  await new Promise<never>(() => {
    // Until SIGINT (handled above: stops the broker, exits 130).
    setInterval(() => {}, 1 << 30)
  })
}
await stop()
process.exit(code)
