// The cost of TLS (and SASL) on the send path, as a figure, not a target:
// one real secured Kafka 4.4 node (test/harness/secure-kafka.ts), the same
// producer workload over its PLAINTEXT, SSL and SASL_SSL (SCRAM-SHA-512)
// listeners, alternating, each run in this process (the broker is another).
// Reports msgs/s and this process's CPU seconds per million records.
//
//   npx tsx bench/micro/tls-cost.ts [records=300000] [rounds=3]
import { KafkaProducer, type ProducerConfig } from '../../src/index.js'
import { startSecureKafka } from '../../test/harness/secure-kafka.js'

const records = Number(process.argv[2] ?? 300_000)
const rounds = Number(process.argv[3] ?? 3)
const value = Buffer.alloc(100, 7)

const k = await startSecureKafka()
try {
  await k.cluster.createTopic('tls-cost', 6, 1)
  const setups: Record<string, ProducerConfig> = {
    PLAINTEXT: { bootstrapServers: k.listeners.PLAINTEXT },
    SSL: { bootstrapServers: k.listeners.SSL, ssl: { ca: k.certs.caPem, cert: k.certs.client.certPem, key: k.certs.client.keyPem, passphrase: k.certs.client.keyPassword } },
    'SASL_SSL/SCRAM-SHA-512': {
      bootstrapServers: k.listeners.SASL_SSL,
      ssl: { ca: k.certs.caPem },
      sasl: { mechanism: 'SCRAM-SHA-512', username: k.alice.username, password: k.alice.password },
    },
  } as Record<string, ProducerConfig>
  const results: Record<string, { msgsPerSec: number; cpuSecondsPer1M: number }[]> = {}
  for (let round = 0; round < rounds; round++) {
    for (const [name, config] of Object.entries(setups)) {
      const producer = new KafkaProducer({ lingerMs: 5, batchSize: 65536, ...config } as ProducerConfig)
      await producer.send({ topic: 'tls-cost', value: 'warmup' }) // connected and authenticated before timing
      const cpu0 = process.cpuUsage()
      const t0 = process.hrtime.bigint()
      await new Promise<void>((resolve, reject) => {
        let done = 0
        for (let i = 0; i < records; i++) {
          producer.send({ topic: 'tls-cost', value }, (err) => {
            if (err) return reject(err)
            if (++done === records) resolve()
          })
        }
      })
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9
      const cpu = process.cpuUsage(cpu0)
      await producer.close()
      const r = { msgsPerSec: Math.round(records / seconds), cpuSecondsPer1M: +(((cpu.user + cpu.system) / 1e6 / records) * 1e6).toFixed(3) }
      ;(results[name] ??= []).push(r)
      console.log(`${name} #${round + 1}: ${JSON.stringify(r)}`)
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  for (const [name, rs] of Object.entries(results)) {
    console.log(`${name} median of ${rs.length}: msgsPerSec ${median(rs.map((r) => r.msgsPerSec))}  cpuSecondsPer1M ${median(rs.map((r) => r.cpuSecondsPer1M))}`)
  }
} finally {
  await k.stop()
}
