/**
 * The real-Kafka end-to-end check of the runtime matrix (scripts/test-matrix.mjs
 * runs it under Bun and Deno; the suffix keeps it out of the main `vitest run`,
 * whose Node pass has the same traffic in test/integration/pipeline-kafka.test.ts):
 * the built package (dist/index.js, what an application loads) sends 20,000
 * mixed records to a 1-broker Apache Kafka, and kcat, an independent decoder
 * with CRC checks, reads them back byte-identical.
 */
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { consumeWithKcat } from '../harness/consume.js'
import { type KafkaCluster, startKafka } from '../harness/kafka.js'
import { expectIdentical, type SentTraffic, sendTraffic } from '../integration/traffic.js'

type Pkg = typeof import('../../src/index.js')

const TOPIC = 'runtime-e2e'
const RECORDS = 20_000
const DIST = pathToFileURL(path.resolve(import.meta.dirname, '..', '..', 'dist', 'index.js')).href

/** Which runtime runs this file; the matrix sets KPTS_RUNTIME so a run that fell back to Node fails. */
function currentRuntime(): string {
  const v = process.versions as Record<string, string | undefined>
  if (v.bun) return `bun ${v.bun}`
  const deno = (globalThis as { Deno?: { version: { deno: string } } }).Deno
  if (deno) return `deno ${deno.version.deno}`
  return `node ${process.versions.node}`
}

let kafka: KafkaCluster
let pkg: Pkg
let sent: SentTraffic

beforeAll(async () => {
  // A variable specifier: dist/ is built by tsup after `tsc --noEmit` has run, so it must not be resolved at type-check time.
  pkg = (await import(DIST)) as Pkg
  kafka = await startKafka({ brokers: 1 })
  await kafka.createTopic(TOPIC, 3, 1)
}, 240_000)

afterAll(async () => {
  await kafka?.stop()
})

describe(`the built package on ${currentRuntime()} against Apache Kafka`, () => {
  it('runs on the runtime the matrix asked for', () => {
    const want = process.env.KPTS_RUNTIME
    if (want) expect(currentRuntime()).toBe(want)
  })

  it(`acknowledges ${RECORDS.toLocaleString('en-US')} mixed records`, async () => {
    const producer = new pkg.KafkaProducer({ bootstrapServers: kafka.bootstrap, clientId: 'runtime-e2e' })
    try {
      sent = await sendTraffic(producer, TOPIC, RECORDS)
      const m = producer.metrics()
      expect(m['record-send-total']).toBe(RECORDS)
      expect(m['record-error-total']).toBe(0)
    } finally {
      await producer.close()
    }
    const hw = await kafka.highWatermarks(TOPIC)
    expect([...hw.values()].reduce((a, b) => a + b, 0n)).toBe(BigInt(RECORDS))
  }, 180_000)

  it('reads back byte-identical through kcat (check.crcs=true)', async () => {
    expect(sent, 'the send test ran').toBeDefined()
    const consumed = await consumeWithKcat(kafka.bootstrap, TOPIC, { partitions: 3, timeoutMs: 170_000 })
    expect(consumed.length).toBe(RECORDS)
    expectIdentical(consumed, sent, { headers: 'text' })
  }, 180_000)
})
