// What one producer.inspect() call costs with many partitions holding batches.
//
//   node bench/micro/inspect-cost.mjs [partitions=10000] [calls=50]
//
// A KafkaProducer on a stub network client whose only broker never becomes
// ready (so nothing is drained and every batch stays queued), with metadata
// for one topic of `partitions` partitions; one record is sent to each
// partition, then inspect() is called `calls` times. Prints the median and
// p90 ms per call, the JSON size of one picture, and JSON.stringify's ms;
// then the same with { maxPartitions: 20 }.
import { loadSdk } from './sdk.mjs'

const partitions = Number(process.argv[2] ?? 10_000)
const calls = Number(process.argv[3] ?? 50)
const sdk = await loadSdk()

/** A KafkaClient with one broker that is never ready: sends queue in the accumulator. */
class StubClient {
  #wake = null
  ready() { return false }
  connectionDelay() { return Infinity }
  send() { throw new Error('not ready') }
  poll(timeoutMs) {
    return new Promise((resolve) => {
      const t = setTimeout(done, Math.min(Number.isFinite(timeoutMs) ? timeoutMs : 50, 50))
      const self = this
      function done() { clearTimeout(t); self.#wake = null; resolve() }
      this.#wake = done
    })
  }
  wakeup() { this.#wake?.() }
  hasInFlightRequests() { return false }
  inFlightRequestCount() { return 0 }
  inFlightPerNode() { return new Map() }
  leastLoadedNode() { return null }
  negotiatedApiVersions() { return {} }
  connectionCount() { return 0 }
  connectionFailures() { return null }
  close() { this.#wake?.() }
}

const view = {
  brokers: [{ nodeId: 1, host: 'broker1', port: 9092, rack: null }],
  clusterId: 'bench',
  controllerId: 1,
  topics: [
    {
      errorCode: 0,
      name: 'wide',
      partitions: Array.from({ length: partitions }, (_, p) => ({ errorCode: 0, partitionIndex: p, leaderId: 1, leaderEpoch: 0, replicaNodes: [1], isrNodes: [1] })),
    },
  ],
}

const producer = new sdk.KafkaProducer(
  { bootstrapServers: 'bootstrap:9092', lingerMs: 60_000, batchSize: 1024, bufferMemory: 256 * 1024 * 1024 },
  {
    createClient: (parts) => {
      parts.metadata.add('wide', parts.time())
      parts.metadata.update(view, parts.time())
      return new StubClient()
    },
  },
)
const value = Buffer.alloc(100, 1)
for (let p = 0; p < partitions; p++) producer.send({ topic: 'wide', partition: p, value }, () => {})

const first = producer.inspect()
if (first.accumulator.partitions.length !== partitions || first.accumulator.records !== partitions) {
  throw new Error(`expected ${partitions} partitions with a batch, got ${first.accumulator.partitions.length}`)
}
for (let i = 0; i < 5; i++) producer.inspect() // warm-up
const times = []
for (let i = 0; i < calls; i++) {
  const t0 = process.hrtime.bigint()
  producer.inspect()
  times.push(Number(process.hrtime.bigint() - t0) / 1e6)
}
times.sort((a, b) => a - b)
const t0 = process.hrtime.bigint()
const json = JSON.stringify(producer.inspect())
const stringifyMs = Number(process.hrtime.bigint() - t0) / 1e6
const q = (f) => times[Math.min(times.length - 1, Math.floor(f * times.length))].toFixed(2)
const short = []
for (let i = 0; i < calls; i++) {
  const t = process.hrtime.bigint()
  producer.inspect({ maxPartitions: 20 })
  short.push(Number(process.hrtime.bigint() - t) / 1e6)
}
short.sort((a, b) => a - b)
const shortJson = JSON.stringify(producer.inspect({ maxPartitions: 20 }))
console.log(
  `inspect() with ${partitions} partitions holding one batch each: median ${q(0.5)} ms, p90 ${q(0.9)} ms per call (${calls} calls); ` +
    `JSON ${(json.length / 1024).toFixed(0)} KiB, JSON.stringify ${stringifyMs.toFixed(2)} ms`,
)
console.log(
  `inspect({ maxPartitions: 20 }): median ${short[Math.floor(short.length / 2)].toFixed(2)} ms per call; JSON ${(shortJson.length / 1024).toFixed(1)} KiB`,
)
await producer.close({ timeoutMs: 0 })
