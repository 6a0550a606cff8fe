/**
 * Bad bytes from the network, end to end: the real producer against
 * librdkafka's mock cluster (3 brokers) through test/harness/fault-proxy.ts,
 * which passes everything through (rewriting Metadata so every broker is
 * reached through it) and breaks one response on demand.
 *
 * Topic `faults` has 3 partitions; partition p is led by broker p + 1. Every
 * fault hits the Produce response of broker 2 (partition 1) while a record is
 * in flight to each partition. For each fault:
 * - the faulted connection is closed: by the producer (it must not trust the
 *   stream after a bad frame), or by the proxy for truncations and resets;
 * - with default retries the record is retried over a new connection and
 *   resolves with an offset; with `retries: 0` it fails with a typed error
 *   whose message names the problem;
 * - nothing else is disturbed: the connections to brokers 1 and 3 stay open,
 *   their records are acknowledged, and later sends succeed;
 * - a size prefix of 2^31-1 or 200 MiB allocates nothing of that size.
 *
 * Faults on the handshake, Metadata and InitProducerId responses must not keep
 * the first send from succeeding.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  KafkaClientError,
  KafkaNetworkError,
  KafkaProducer,
  KafkaProtocolError,
  KafkaTimeoutError,
  type ProducerConfig,
  type RecordMetadata,
} from '../../src/index.js'
import { decodeResponse } from '../../src/protocol/api.js'
import { MetadataApi, type MetadataResponse, ProduceApi } from '../../src/protocol/apis/index.js'
import { RESPONSE_CASES } from '../golden/cases.js'
import {
  API_KEY,
  type Closer,
  encodeProduceResponse,
  type Fault,
  type FaultApplied,
  FaultProxy,
  type ProxyConnection,
  rewriteMetadataBrokers,
} from '../harness/fault-proxy.js'
import { type MockCluster, startMockCluster } from '../harness/mock.js'
import { ROOT, withTimeout } from '../harness/util.js'

const TOPIC = 'faults'
const PARTITIONS = [0, 1, 2]
/** Partition 1, led by broker 2: the proxy's upstream index 1. */
const FAULTED_PARTITION = 1
const FAULTED_BROKER_INDEX = 1
const WAIT_MS = 10_000

let mock: MockCluster
let proxy: FaultProxy
const producers: KafkaProducer[] = []

beforeAll(async () => {
  mock = await startMockCluster({ brokers: 3 })
  await mock.createTopic(TOPIC, PARTITIONS.length, 1)
  for (const p of PARTITIONS) await mock.command(`leader ${TOPIC} ${p} ${p + 1}`)
  proxy = await FaultProxy.start(mock.bootstrap)
}, 30_000)

afterEach(async () => {
  proxy.disarm()
  await Promise.all(producers.splice(0).map((p) => p.close({ timeoutMs: 2_000 })))
  // close() releases every socket: the next test starts with no connection of this one.
  await withTimeout(Promise.all(proxy.open.map((c) => c.closed)), WAIT_MS, `producer.close() left ${proxy.open.length} connections open`)
})

afterAll(async () => {
  await proxy?.close()
  await mock?.stop()
})

function newProducer(config: Partial<ProducerConfig> = {}): KafkaProducer {
  const p = new KafkaProducer({
    bootstrapServers: proxy.bootstrap,
    lingerMs: 0,
    retryBackoffMs: 20,
    retryBackoffMaxMs: 100,
    reconnectBackoffMs: 20,
    reconnectBackoffMaxMs: 100,
    ...config,
  })
  producers.push(p)
  return p
}

const sendAll = (producer: KafkaProducer, tag: string): Promise<RecordMetadata>[] =>
  PARTITIONS.map((partition) => producer.send({ topic: TOPIC, partition, value: `${tag}-${partition}` }))

/** One record to every partition, so the producer has a connection to every broker; returns those connections. */
async function warmUp(producer: KafkaProducer): Promise<ProxyConnection[]> {
  const mds = await withTimeout(Promise.all(sendAll(producer, 'warm-up')), WAIT_MS, 'warm-up sends did not complete')
  expect(mds.map((m) => m.partition)).toEqual(PARTITIONS)
  const conns = proxy.open.filter((c) => (c.requests.get(API_KEY.Produce) ?? 0) > 0)
  expect(conns.map((c) => c.upstreamIndex).sort()).toEqual([0, 1, 2])
  return conns
}

function expectOffset(md: RecordMetadata, partition: number): void {
  expect(md.partition).toBe(partition)
  expect(md.offset).toBeGreaterThanOrEqual(0n)
}

/** Samples process.memoryUsage().arrayBuffers every millisecond until stopped; returns the peak growth. */
function arrayBufferSampler(): { stop(): number } {
  const base = process.memoryUsage().arrayBuffers
  let peak = base
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().arrayBuffers)
  }, 1)
  return {
    stop() {
      clearInterval(timer)
      peak = Math.max(peak, process.memoryUsage().arrayBuffers)
      return peak - base
    },
  }
}

interface FaultCase {
  name: string
  fault: Fault
  /** Who closes the faulted connection. */
  closer: Closer
  /** The error a record on the faulted connection fails with when it is not retried. */
  error: (a: FaultApplied) => { type: new (...args: never[]) => KafkaClientError; message: RegExp }
  config?: Partial<ProducerConfig>
  /** Checks nothing near the claimed size was allocated. */
  checkMemory?: boolean
}

const decodeError = (detail: string) => (a: FaultApplied) => ({
  type: KafkaProtocolError,
  message: new RegExp(`^Cannot decode Produce v${a.apiVersion} response: ${detail}`),
})

const CASES: FaultCase[] = [
  {
    name: 'truncate: half the frame, then FIN',
    fault: { kind: 'truncate' },
    closer: 'proxy',
    error: () => ({ type: KafkaNetworkError, message: /^Connection to node 2 closed in the middle of a response$/ }),
  },
  {
    name: 'truncate: 2 bytes of the size prefix, then FIN',
    fault: { kind: 'truncate', keepBytes: 2 },
    closer: 'proxy',
    error: () => ({ type: KafkaNetworkError, message: /^Connection to node 2 closed in the middle of a response$/ }),
  },
  {
    name: 'wrongCorrelationId',
    fault: { kind: 'wrongCorrelationId', delta: 1000 },
    closer: 'client',
    error: (a) => ({
      type: KafkaProtocolError,
      message: new RegExp(`^Correlation id for response \\(${a.correlationId + 1000}\\) does not match request \\(${a.correlationId}\\) from node 2$`),
    }),
  },
  {
    name: 'garbage body',
    fault: { kind: 'garbage' },
    closer: 'client',
    error: decodeError(''),
  },
  {
    name: 'oversizePrefix 2^31-1',
    fault: { kind: 'oversizePrefix', size: 2 ** 31 - 1 },
    closer: 'client',
    error: () => ({ type: KafkaProtocolError, message: /^Invalid receive size 2147483647: larger than receive\.message\.max\.bytes \(104857600\)/ }),
    checkMemory: true,
  },
  {
    name: 'oversizePrefix 200 MiB',
    fault: { kind: 'oversizePrefix', size: 200 * 1024 * 1024 },
    closer: 'client',
    error: () => ({ type: KafkaProtocolError, message: /^Invalid receive size 209715200: larger than receive\.message\.max\.bytes \(104857600\)/ }),
    checkMemory: true,
  },
  {
    name: 'closeMidResponse: 7 bytes, then RST',
    fault: { kind: 'closeMidResponse' },
    closer: 'proxy',
    error: () => ({ type: KafkaNetworkError, message: /^Connection to node 2 failed: read ECONNRESET$/ }),
  },
  {
    name: 'delay beyond request.timeout.ms',
    fault: { kind: 'delay', ms: 2_500 },
    closer: 'client',
    error: () => ({ type: KafkaTimeoutError, message: /^Disconnected from node 2 due to a request timeout \(request\.timeout\.ms=1000\)$/ }),
    config: { requestTimeoutMs: 1_000 },
  },
  {
    name: 'wrongVersionBody: the v2 layout (no log start offset)',
    fault: { kind: 'wrongVersionBody', layout: 2 },
    closer: 'client',
    error: decodeError('Truncated response'),
  },
  {
    name: 'wrongVersionBody: the flexible v9 layout',
    fault: { kind: 'wrongVersionBody', layout: 9 },
    closer: 'client',
    error: decodeError(''),
  },
  {
    name: 'wrongVersionBody: an extra int32 field',
    fault: { kind: 'wrongVersionBody', layout: 'extraField' },
    closer: 'client',
    error: (a) => ({ type: KafkaProtocolError, message: new RegExp(`^Produce v${a.apiVersion} response has 4 unexpected trailing bytes$`) }),
  },
  {
    name: 'wrongVersionBody: the throttle time missing',
    fault: { kind: 'wrongVersionBody', layout: 'missingField' },
    closer: 'client',
    error: decodeError('Truncated response: need 4 bytes for int32'),
  },
]

/**
 * Arms `c.fault` on broker 2's next Produce response, sends one record to each
 * partition, and waits for the fault and for the faulted connection to close.
 */
async function runFault(producer: KafkaProducer, c: FaultCase, tag: string) {
  const before = await warmUp(producer)
  const others = before.filter((x) => x.upstreamIndex !== FAULTED_BROKER_INDEX)
  const connectionCount = proxy.connections.length
  const sampler = c.checkMemory ? arrayBufferSampler() : null
  const armed = proxy.arm(API_KEY.Produce, c.fault, { upstreamIndex: FAULTED_BROKER_INDEX })
  const sends = sendAll(producer, tag)
  const settled = Promise.allSettled(sends)
  const applied = await withTimeout(armed, WAIT_MS, `${c.name}: no Produce response reached the proxy to fault`)
  expect(applied.apiKey).toBe(API_KEY.Produce)
  const closer = await withTimeout(applied.connection.closed, WAIT_MS, `${c.name}: the faulted connection was never closed (the producer kept using it)`)
  expect(closer, 'who closed the faulted connection').toBe(c.closer)
  const results = await withTimeout(settled, 20_000, `${c.name}: sends never completed`)
  if (sampler !== null) {
    const growth = sampler.stop()
    console.log(`[network-faults] ${c.name}: arrayBuffers peak growth ${growth} bytes`)
    expect(growth, `arrayBuffers grew by ${growth} bytes after a ${c.fault.kind} fault`).toBeLessThan(4 * 1024 * 1024)
  }
  return { applied, others, connectionCount, results }
}

const golden = (file: string): Buffer => Buffer.from(fs.readFileSync(path.join(ROOT, 'test', 'golden', file), 'utf8').replace(/\s+/g, ''), 'hex')

describe('the proxy itself', () => {
  it('rewrites only the broker addresses of a Metadata response, at every version (golden frames from Kafka)', () => {
    for (const c of RESPONSE_CASES.filter((x) => x.api === MetadataApi)) {
      const frame = golden(c.file)
      expect(rewriteMetadataBrokers(frame, c.version, () => null).equals(frame), `${c.file} unchanged without a mapping`).toBe(true)
      const rewritten = rewriteMetadataBrokers(frame, c.version, (host, port) => (host === 'broker-1' && port === 9092 ? { host: '127.0.0.1', port: 40001 } : null))
      const want = structuredClone(c.expected) as MetadataResponse
      want.brokers[0] = { ...want.brokers[0]!, host: '127.0.0.1', port: 40001 }
      expect(decodeResponse(MetadataApi, c.version, rewritten), c.file).toStrictEqual(want)
    }
  })

  it("encodes Produce responses in Kafka's layout: v3..v9 golden frames re-encode byte for byte", () => {
    // v10+ carry tagged fields (CurrentLeader, NodeEndpoints) the proxy's encoder leaves out.
    for (const c of RESPONSE_CASES.filter((x) => x.api === ProduceApi && x.version <= 9)) {
      const frame = golden(c.file)
      const res = decodeResponse(ProduceApi, c.version, frame)
      expect(encodeProduceResponse(c.correlationId, res, c.version).toString('hex'), c.file).toBe(frame.toString('hex'))
    }
  })

  it('carries every request: Metadata names the proxy for all 3 brokers, and the producer connects to nothing else', async () => {
    const producedBefore = proxy.requests.get(API_KEY.Produce) ?? 0
    const producer = newProducer()
    await warmUp(producer)
    for (let i = 0; i < 10; i++) await Promise.all(sendAll(producer, `through-${i}`))
    expect(Object.keys(producer.negotiatedApiVersions()).filter((n) => Number(n) >= 0).sort()).toEqual(['1', '2', '3'])
    // Every Produce request the producer counted went through the proxy.
    expect((proxy.requests.get(API_KEY.Produce) ?? 0) - producedBefore).toBe(producer.metrics()['request-total'])
    expect(proxy.unmappedBrokers).toEqual([])
  })

  it('a response delayed within request.timeout.ms is only late: no retry, no reconnect', async () => {
    const producer = newProducer()
    const before = await warmUp(producer)
    const count = proxy.connections.length
    const armed = proxy.arm(API_KEY.Produce, { kind: 'delay', ms: 300 }, { upstreamIndex: FAULTED_BROKER_INDEX })
    const mds = await withTimeout(Promise.all(sendAll(producer, 'late')), WAIT_MS, 'delayed sends did not complete')
    mds.forEach((md, p) => expectOffset(md, p))
    expect((await armed).connection.closedBy).toBeNull()
    expect(proxy.connections.length).toBe(count)
    for (const c of before) expect(c.closedBy).toBeNull()
    expect(producer.metrics()['record-retry-total']).toBe(0)
  })
})

describe('a broken Produce response, default retries: the batch is retried on a new connection and succeeds', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const producer = newProducer(c.config)
      const { applied, others, connectionCount, results } = await runFault(producer, c, `retried-${c.fault.kind}`)
      results.forEach((r, p) => {
        if (r.status === 'rejected') throw new Error(`partition ${p} failed although retries are on: ${String(r.reason)}`, { cause: r.reason })
        expectOffset(r.value, p)
      })
      // The retry went out over a new connection to broker 2.
      const fresh = proxy.connections.slice(connectionCount).filter((x) => x.upstreamIndex === FAULTED_BROKER_INDEX)
      expect(fresh.some((x) => (x.requests.get(API_KEY.Produce) ?? 0) > 0), 'a new connection to broker 2 carried the retry').toBe(true)
      expect(applied.connection.closedBy).not.toBeNull()
      // Nothing else disturbed.
      for (const o of others) expect(o.closedBy, `connection to broker ${o.upstreamIndex + 1}`).toBeNull()
      const m = producer.metrics()
      expect(m['record-retry-total']).toBeGreaterThanOrEqual(1)
      expect(m['record-error-total']).toBe(0)
      const after = await withTimeout(Promise.all(sendAll(producer, 'after')), WAIT_MS, 'sends after the fault did not complete')
      after.forEach((md, p) => expectOffset(md, p))
    })
  }
})

describe('a broken Produce response, retries: 0: the record fails with a typed error naming the problem', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const producer = newProducer({ ...c.config, retries: 0 })
      const { applied, others, results } = await runFault(producer, c, `failed-${c.fault.kind}`)
      const expected = c.error(applied)
      results.forEach((r, p) => {
        if (p !== FAULTED_PARTITION) {
          if (r.status === 'rejected') throw new Error(`partition ${p} (another broker) failed: ${String(r.reason)}`, { cause: r.reason })
          expectOffset(r.value, p)
          return
        }
        expect(r.status, `partition ${p} behind the fault`).toBe('rejected')
        const err = (r as PromiseRejectedResult).reason as Error
        expect(err, `${err?.constructor?.name}: ${err?.message}`).toBeInstanceOf(expected.type)
        expect(err.message).toMatch(expected.message)
      })
      for (const o of others) expect(o.closedBy, `connection to broker ${o.upstreamIndex + 1}`).toBeNull()
      expect(producer.metrics()['record-error-total']).toBe(1)
      const after = await withTimeout(Promise.all(sendAll(producer, 'after')), WAIT_MS, 'sends after the fault did not complete')
      after.forEach((md, p) => expectOffset(md, p))
    })
  }
})

describe('a broken response with several Produce requests in flight behind it', () => {
  for (const fault of [{ kind: 'garbage' }, { kind: 'truncate' }, { kind: 'wrongCorrelationId' }] satisfies Fault[]) {
    it(`${fault.kind}: every in-flight batch is retried, and each record resolves, in send order`, async () => {
      // Small batches: the 60 records of partition 1 go out as many Produce requests, up to 5 in flight.
      const producer = newProducer({ batchSize: 256 })
      const before = await warmUp(producer)
      const others = before.filter((x) => x.upstreamIndex !== FAULTED_BROKER_INDEX)
      const armed = proxy.arm(API_KEY.Produce, fault, { upstreamIndex: FAULTED_BROKER_INDEX })
      const sends: Promise<RecordMetadata>[] = []
      for (let i = 0; i < 60; i++) sends.push(producer.send({ topic: TOPIC, partition: FAULTED_PARTITION, value: `pipelined-${i}`.padEnd(40, '.') }))
      const applied = await withTimeout(armed, WAIT_MS, 'the fault was never applied')
      await withTimeout(applied.connection.closed, WAIT_MS, 'the faulted connection was never closed')
      expect(applied.connection.requests.get(API_KEY.Produce) ?? 0, 'Produce requests on the faulted connection').toBeGreaterThan(2)
      const mds = await withTimeout(Promise.all(sends), 20_000, 'pipelined sends never completed')
      for (let i = 1; i < mds.length; i++) {
        expect(mds[i]!.offset, `record ${i} after record ${i - 1}`).toBeGreaterThan(mds[i - 1]!.offset)
      }
      for (const o of others) expect(o.closedBy).toBeNull()
      expect(producer.metrics()['record-error-total']).toBe(0)
      expect(producer.metrics()['record-retry-total']).toBeGreaterThan(0)
    })
  }
})

describe('broken responses before the first Produce: the producer recovers and the first send succeeds', () => {
  const cases: { name: string; apiKey: number; fault: Fault; closer: Closer }[] = [
    { name: 'ApiVersions with a wrong correlation id', apiKey: API_KEY.ApiVersions, fault: { kind: 'wrongCorrelationId' }, closer: 'client' },
    { name: 'ApiVersions truncated', apiKey: API_KEY.ApiVersions, fault: { kind: 'truncate' }, closer: 'proxy' },
    { name: 'Metadata garbage', apiKey: API_KEY.Metadata, fault: { kind: 'garbage' }, closer: 'client' },
    { name: 'Metadata with an extra field', apiKey: API_KEY.Metadata, fault: { kind: 'wrongVersionBody', layout: 'extraField' }, closer: 'client' },
    { name: 'InitProducerId garbage', apiKey: API_KEY.InitProducerId, fault: { kind: 'garbage' }, closer: 'client' },
    { name: 'InitProducerId reset mid-response', apiKey: API_KEY.InitProducerId, fault: { kind: 'closeMidResponse' }, closer: 'proxy' },
  ]
  for (const c of cases) {
    it(c.name, async () => {
      const armed = proxy.arm(c.apiKey, c.fault)
      const producer = newProducer()
      const first = producer.send({ topic: TOPIC, partition: FAULTED_PARTITION, value: `first-${c.name}` })
      const applied = await withTimeout(armed, WAIT_MS, `${c.name}: the fault was never applied`)
      expect(await withTimeout(applied.connection.closed, WAIT_MS, `${c.name}: the faulted connection was never closed`)).toBe(c.closer)
      expectOffset(await withTimeout(first, 20_000, `${c.name}: the first send never completed`), FAULTED_PARTITION)
      const after = await withTimeout(Promise.all(sendAll(producer, 'after')), WAIT_MS, 'sends after the fault did not complete')
      after.forEach((md, p) => expectOffset(md, p))
    })
  }
})
