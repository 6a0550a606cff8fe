/**
 * producer.inspect() and statistics.interval.ms: each layer's picture with a
 * fake clock (exact fields), then the whole producer on a scripted client.
 * The real-broker side is test/integration/inspect-mock.test.ts.
 */
import diagnostics_channel from 'node:diagnostics_channel'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Cluster, type PartitionInfo } from '../../src/clients/cluster.js'
import { ClusterConnectionStates, ConnectionState } from '../../src/clients/connection-states.js'
import { type ClientRequest, InFlightRequests } from '../../src/clients/in-flight-requests.js'
import { describeRequestPayload } from '../../src/clients/inspection.js'
import { type MetadataResponseView, ProducerMetadata } from '../../src/clients/metadata.js'
import { KafkaAuthenticationError, KafkaConfigError } from '../../src/errors.js'
import { NetworkSend } from '../../src/network/framing.js'
import { MetadataApi, ProduceApi, type InitProducerIdResponse, type ProduceRequest } from '../../src/protocol/apis/index.js'
import { RECORD_BATCH_OVERHEAD, sizeOfRecord } from '../../src/protocol/record-batch.js'
import { BufferPool } from '../../src/producer/buffer-pool.js'
import type { ProducerStatistics } from '../../src/producer/inspection.js'
import { KafkaProducer } from '../../src/producer/kafka-producer.js'
import type { ProducerBatch } from '../../src/producer/producer-batch.js'
import { APPEND_NEEDS_MEMORY, RecordAccumulator } from '../../src/producer/record-accumulator.js'
import { resolveProducerConfig } from '../../src/config.js'
import { FakeSelector, frames, networkClientOn } from '../harness/fake-selector.js'
import { produceOk, ScriptedClient, scriptedProducer, until } from '../harness/scripted-client.js'

const noop = (): void => {}
const V100 = Buffer.alloc(100, 7)
const ONE_RECORD_BATCH = RECORD_BATCH_OVERHEAD + sizeOfRecord(0, 0, null, V100, undefined)

function cluster(leaders: Record<string, number[]>, nodeIds = [1, 2]): Cluster {
  const partitions: PartitionInfo[] = []
  for (const [topic, ls] of Object.entries(leaders)) {
    ls.forEach((leader, partition) => partitions.push({ topic, partition, leader, leaderEpoch: 0, replicas: [], isr: [] }))
  }
  return new Cluster(
    nodeIds.map((id) => ({ id, host: `b${id}`, port: 9092, rack: null })),
    partitions,
  )
}

function accumulator(batchSize = 16384, totalMemory = 1 << 20): RecordAccumulator {
  return new RecordAccumulator({
    batchSize,
    lingerMs: 10,
    deliveryTimeoutMs: 120_000,
    retryBackoffMs: 100,
    retryBackoffMaxMs: 1000,
    bufferPool: new BufferPool(totalMemory, batchSize),
    random: () => 0.5, // jitter factor exactly 1
  })
}

function append(acc: RecordAccumulator, c: Cluster, topic: string, partition: number, nowMs: number): void {
  const r = acc.append(topic, partition, nowMs, null, V100, undefined, noop, null, nowMs, c)
  if (r === APPEND_NEEDS_MEMORY) throw new Error('unexpected APPEND_NEEDS_MEMORY')
}

/** Round-trips through JSON: the picture must be plain data. */
function viaJson<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T
}

describe('in-flight requests', () => {
  it('shows each request with its age, bytes, and the batches, records and partitions read from its body', () => {
    const acc = accumulator(ONE_RECORD_BATCH) // one record per batch
    const c = cluster({ t: [1, 1] })
    append(acc, c, 't', 0, 0)
    append(acc, c, 't', 0, 0)
    append(acc, c, 't', 1, 0)
    // The accumulator drains one batch per partition per request, so two drains make two requests.
    const first = acc.drain(c, new Set([1]), 1 << 20, 20).get(1)!
    const second = acc.drain(c, new Set([1]), 1 << 20, 20).get(1)!
    expect(first.map((b) => b.partition).sort()).toEqual([0, 1])
    expect(second.map((b) => b.partition)).toEqual([0])

    const q = new InFlightRequests(5)
    const body = (batches: ProducerBatch[]): ProduceRequest => ({
      transactionalId: null,
      acks: -1,
      timeoutMs: 30_000,
      topics: [{ name: 't', partitions: batches.map((b) => ({ index: b.partition, records: b.records() })) }],
    })
    const request = (b: ProduceRequest): ClientRequest => ({
      destination: 1,
      api: ProduceApi,
      body: b,
      expectResponse: true,
      createdMs: 1000,
      requestTimeoutMs: 30_000,
      onComplete: noop,
    })
    const s1 = new NetworkSend(1, [Buffer.alloc(333)])
    q.add({ request: request(body(first)), correlationId: 7, apiVersion: 11, send: s1, sendTimeMs: 1000, sendCompleted: true })
    q.add({ request: request(body(second)), correlationId: 8, apiVersion: 11, send: new NetworkSend(1, [Buffer.alloc(10), Buffer.alloc(5)]), sendTimeMs: 1100, sendCompleted: false })
    const meta: ClientRequest = { ...request(body([])), api: MetadataApi, body: { topics: [] } }
    q.add({ request: meta, correlationId: 9, apiVersion: 12, send: new NetworkSend(1, [Buffer.alloc(40)]), sendTimeMs: 1200, sendCompleted: true })

    const seen = viaJson(q.inspect(1, 1250))
    expect(seen).toEqual([
      { correlationId: 7, api: 'Produce', apiVersion: 11, ageMs: 250, bytes: 333, sent: true, batches: 2, records: 2, partitions: expect.arrayContaining(['t-0', 't-1']) },
      { correlationId: 8, api: 'Produce', apiVersion: 11, ageMs: 150, bytes: 15, sent: false, batches: 1, records: 1, partitions: ['t-0'] },
      { correlationId: 9, api: 'Metadata', apiVersion: 12, ageMs: 50, bytes: 40, sent: true, batches: 0, records: 0, partitions: [] },
    ])
    expect(q.inspect(2, 1250)).toEqual([])
  })

  it('counts every batch of a partition entry that holds several, and their records', () => {
    const acc = accumulator()
    const c = cluster({ t: [1] })
    for (let i = 0; i < 3; i++) append(acc, c, 't', 0, 0) // one batch of three records
    const [a] = acc.drain(c, new Set([1]), 1 << 20, 20).get(1)!
    append(acc, c, 't', 0, 30)
    const [b] = acc.drain(c, new Set([1]), 1 << 20, 40).get(1)!
    const records = Buffer.concat([a!.records(), b!.records()])
    const req: ClientRequest = {
      destination: 1,
      api: ProduceApi,
      body: { transactionalId: null, acks: 1, timeoutMs: 1, topics: [{ name: 'x-y', partitions: [{ index: 3, records }] }] },
      expectResponse: true,
      createdMs: 0,
      requestTimeoutMs: 1,
      onComplete: noop,
    }
    expect(describeRequestPayload(req)).toEqual({ batches: 2, records: 4, partitions: ['x-y-3'] })
  })
})

describe('connection states', () => {
  it('names each setup step, and a failed node as backing-off until its reconnect backoff ran out', () => {
    const s = new ClusterConnectionStates(100, 1000, 10_000, 30_000, () => 0.5)
    const state = (now: number) => s.inspect(now).map((n) => [n.nodeId, n.state, n.reconnectInMs])
    s.startConnecting(1, 0, 'b1', 9093)
    expect(state(0)).toEqual([[1, 'connecting', 0]])
    s.tlsHandshake(1)
    expect(state(0)).toEqual([[1, 'tls-handshake', 0]])
    s.checkingApiVersions(1)
    expect(state(0)).toEqual([[1, 'checking-api-versions', 0]])
    s.authenticating(1, ConnectionState.SaslHandshake)
    expect(state(0)).toEqual([[1, 'authenticating', 0]])
    s.authenticating(1, ConnectionState.SaslAuthenticate)
    expect(state(0)).toEqual([[1, 'authenticating', 0]])
    s.ready(1)
    expect(state(0)).toEqual([[1, 'ready', 0]])
    s.authenticating(1, ConnectionState.Reauthenticating)
    expect(state(0)).toEqual([[1, 'reauthenticating', 0]])
    s.ready(1)
    s.disconnected(1, 1000)
    expect(state(1040)).toEqual([[1, 'backing-off', 60]])
    expect(state(1100)).toEqual([[1, 'disconnected', 0]])
    s.startConnecting(2, 2000, '::1', 9092)
    s.authenticationFailed(2, 2000, new KafkaAuthenticationError('bad credentials'))
    const [, two] = s.inspect(2010)
    expect(two).toMatchObject({ nodeId: 2, host: '::1', port: 9092, state: 'backing-off', reconnectInMs: 90 })
    expect(two!.authenticationError?.message).toBe('bad credentials')
  })

  it('shows the throttle time left for a node its broker throttles (KIP-219), and 0 once it is over', () => {
    const s = new ClusterConnectionStates(100, 1000, 10_000, 30_000, () => 0.5)
    s.startConnecting(1, 0, 'b1', 9092)
    s.checkingApiVersions(1)
    s.ready(1)
    expect(s.inspect(0)[0]!.throttledForMs).toBe(0)
    s.throttle(1, 500)
    expect(s.inspect(200)[0]).toMatchObject({ state: 'ready', throttledForMs: 300 })
    expect(s.inspect(500)[0]!.throttledForMs).toBe(0)
  })
})

describe('NetworkClient.inspectConnections', () => {
  it('each setup step, then per ready connection its address, negotiated versions and requests in flight; backing-off after a disconnect', async () => {
    let now = 5000
    const sel = new FakeSelector()
    const md = new ProducerMetadata([{ host: 'b1', port: 9092 }], 3_600_000, 3_600_000, 100, 1000, () => 0.5)
    md.update({ brokers: [{ nodeId: 1, host: 'b1', port: 9092, rack: null }], clusterId: 'c', controllerId: 1, topics: [] }, now)
    const client = networkClientOn(sel, md) // reconnect.backoff.ms 50, jitter factor 1
    const node = md.cluster.nodeById(1)!
    const picture = () => viaJson(client.inspectConnections(now))
    expect(picture()).toEqual([])
    client.ready(node, now)
    expect(picture()).toEqual([{ nodeId: 1, address: 'b1:9092', state: 'connecting', apiVersions: {}, inFlight: [] }])
    sel.connectNow(1)
    await client.poll(0, () => now)
    const [handshake] = sel.written // its send is reported complete at the next poll
    now += 10
    expect(picture()).toEqual([
      {
        nodeId: 1,
        address: 'b1:9092',
        state: 'checking-api-versions',
        apiVersions: {},
        inFlight: [{ correlationId: handshake!.correlationId, api: 'ApiVersions', apiVersion: handshake!.apiVersion, ageMs: 10, bytes: handshake!.size, sent: false, batches: 0, records: 0, partitions: [] }],
      },
    ])
    sel.respond(1, 18, frames.apiVersions([[18, 0, 4], [0, 3, 11], [3, 0, 12]]))
    await client.poll(0, () => now)
    expect(client.ready(node, now)).toBe(true)
    const versions = client.negotiatedApiVersions()['1']!
    expect(versions).toMatchObject({ Produce: 11, Metadata: 12 })

    // A Produce of two batches, one still being written.
    const acc = accumulator(ONE_RECORD_BATCH)
    const c = cluster({ t: [1, 1] }, [1])
    append(acc, c, 't', 0, now)
    append(acc, c, 't', 1, now)
    const batches = acc.drain(c, new Set([1]), 1 << 20, now).get(1)!
    sel.holdSends = true
    client.send(
      {
        destination: 1,
        api: ProduceApi,
        body: { transactionalId: null, acks: -1, timeoutMs: 30_000, topics: [{ name: 't', partitions: batches.map((b) => ({ index: b.partition, records: b.records() })) }] },
        expectResponse: true,
        createdMs: now,
        requestTimeoutMs: 30_000,
        onComplete: noop,
      },
      now,
    )
    const produce = sel.written.at(-1)!
    expect(produce.size).toBeGreaterThan(2 * ONE_RECORD_BATCH)
    now += 250
    const inFlight = { correlationId: produce.correlationId, api: 'Produce', apiVersion: 11, ageMs: 250, bytes: produce.size, batches: 2, records: 2, partitions: expect.arrayContaining(['t-0', 't-1']) }
    expect(picture()).toEqual([{ nodeId: 1, address: 'b1:9092', state: 'ready', apiVersions: versions, inFlight: [{ ...inFlight, sent: false }] }])
    sel.finishSend(1)
    await client.poll(0, () => now)
    now += 100
    expect(picture()[0]!.inFlight).toEqual([{ ...inFlight, ageMs: 350, sent: true }])

    // The broker drops the connection: the request fails, the node backs off for reconnect.backoff.ms.
    sel.disconnect(1)
    await client.poll(0, () => now)
    now += 20
    expect(picture()).toEqual([{ nodeId: 1, address: 'b1:9092', state: 'backing-off', reconnectInMs: 30, apiVersions: {}, inFlight: [] }])
  })
})

describe('accumulator', () => {
  it('per partition: batches, bytes, records, oldest age, and whether muted, backing off or waiting for a leader', () => {
    const acc = accumulator(2 * ONE_RECORD_BATCH)
    const c = cluster({ t: [1, 2], orphan: [-1] })
    append(acc, c, 't', 0, 100)
    append(acc, c, 't', 0, 110) // same batch
    append(acc, c, 't', 0, 120) // a second batch (the first holds two records at most)
    append(acc, c, 't', 1, 150)
    append(acc, c, 'orphan', 0, 160)
    acc.mutePartition('t', 1)
    const sizeOf = (topic: string, p: number) => acc.batchesFor(topic, p).reduce((n, b) => n + b.sizeInBytes, 0)

    const seen = viaJson(acc.inspect(c, 200))
    expect(seen).toEqual({
      batches: 4,
      bytes: sizeOf('t', 0) + ONE_RECORD_BATCH + ONE_RECORD_BATCH,
      records: 5,
      partitions: [
        { topic: 't', partition: 0, leader: 1, batches: 2, bytes: sizeOf('t', 0), records: 3, oldestBatchAgeMs: 100, muted: false, backoffMs: 0, waitingForLeader: false },
        { topic: 't', partition: 1, leader: 2, batches: 1, bytes: ONE_RECORD_BATCH, records: 1, oldestBatchAgeMs: 50, muted: true, backoffMs: 0, waitingForLeader: false },
        { topic: 'orphan', partition: 0, leader: -1, batches: 1, bytes: ONE_RECORD_BATCH, records: 1, oldestBatchAgeMs: 40, muted: false, backoffMs: 0, waitingForLeader: true },
      ],
      partitionsOmitted: 0,
    })
    // maxPartitions: the oldest first, the totals unchanged.
    const short = acc.inspect(c, 200, 2)
    expect(short.partitions.map((p) => `${p.topic}-${p.partition}`)).toEqual(['t-0', 't-1'])
    expect(short).toMatchObject({ batches: 4, records: 5, partitionsOmitted: 1 })
    expect(sizeOf('t', 0)).toBeGreaterThan(2 * ONE_RECORD_BATCH) // two batches, one of two records

    // A retried batch backs off: 100 ms (retry.backoff.ms, jitter factor 1) from its re-enqueue.
    acc.unmutePartition('t', 1)
    const [b] = acc.drain(c, new Set([2]), 1 << 20, 300).get(2)!
    acc.reenqueue(b!, 310)
    const t1 = acc.inspect(c, 350).partitions.find((p) => p.topic === 't' && p.partition === 1)!
    expect(t1).toMatchObject({ batches: 1, records: 1, backoffMs: 60, muted: false, oldestBatchAgeMs: 200 })
    expect(acc.inspect(c, 410).partitions.find((p) => p.partition === 1 && p.topic === 't')!.backoffMs).toBe(0)

    // Drained partitions leave the picture; a muted empty one stays (it holds back what comes next).
    acc.mutePartition('t', 0)
    acc.drain(c, new Set([1, 2]), 1 << 20, 500)
    const after = acc.inspect(c, 500)
    expect(after.partitions.map((p) => `${p.topic}-${p.partition}:${p.batches}`)).toEqual(['t-0:2', 'orphan-0:1'])
  })
})

describe('buffer pool', () => {
  it('free, used and pooled bytes, and the appends waiting for memory with the oldest wait', async () => {
    const pool = new BufferPool(1000, 100)
    expect(pool.inspect(0)).toEqual({ totalBytes: 1000, freeBytes: 1000, usedBytes: 0, pooledBuffers: 0, waiters: 0, waitingBytes: 0, oldestWaiterAgeMs: 0 })
    const a = pool.tryAllocate(100)!
    pool.tryAllocate(500)
    pool.deallocate(a)
    expect(pool.inspect(0)).toMatchObject({ freeBytes: 500, usedBytes: 500, pooledBuffers: 1 })
    const w1 = pool.allocate(700, 5000, 1000).catch((e: Error) => e)
    const w2 = pool.allocate(300, 5000, 1100).catch((e: Error) => e)
    // The head waiter has reserved the 500 free bytes: nothing is free, both wait.
    expect(viaJson(pool.inspect(1300))).toEqual({ totalBytes: 1000, freeBytes: 0, usedBytes: 1000, pooledBuffers: 0, waiters: 2, waitingBytes: 1000, oldestWaiterAgeMs: 300 })
    pool.close()
    await Promise.all([w1, w2])
    expect(pool.inspect(1400).waiters).toBe(0)
  })
})

// ---------------------------------------------------------------------------------------------
// The whole producer on a scripted client
// ---------------------------------------------------------------------------------------------

const view: MetadataResponseView = {
  brokers: [{ nodeId: 1, host: 'broker1', port: 9092, rack: null }],
  clusterId: 'scripted',
  controllerId: 1,
  topics: [
    {
      errorCode: 0,
      name: 't',
      partitions: [0, 1].map((p) => ({ errorCode: 0, partitionIndex: p, leaderId: 1, leaderEpoch: 0, replicaNodes: [1], isrNodes: [1] })),
    },
  ],
}

const INIT_OK: InitProducerIdResponse = { throttleTimeMs: 0, errorCode: 0, producerId: 9n, producerEpoch: 0, ongoingTxnProducerId: -1n, ongoingTxnProducerEpoch: -1 }

const producers: KafkaProducer<any, any>[] = []
afterEach(async () => {
  await Promise.all(producers.splice(0).map((p) => p.close({ timeoutMs: 0 })))
})

/** A producer on a scripted client that knows `view`, closed after each test. */
function scripted(config: Record<string, unknown>, time?: () => number): { producer: KafkaProducer<any, any>; client: () => ScriptedClient } {
  const built = scriptedProducer({ config, view, ...(time !== undefined ? { time } : {}) })
  producers.push(built.producer)
  return built
}

describe('KafkaProducer.inspect()', () => {
  it('shows requests in flight with growing ages until answered, queued batches, and waiting sends; all plain JSON', async () => {
    let now = 10_000
    const { producer, client: c } = scripted({ lingerMs: 0, maxBlockMs: 60_000, batchSize: ONE_RECORD_BATCH }, () => now)
    const client = c()
    client.apiVersions = { '1': { Produce: 11, Metadata: 12 } }
    const sent = [producer.send({ topic: 't', partition: 0, value: V100 })]
    await until(() => client.requests.length > 0, 'InitProducerId')
    const before = producer.inspect()
    expect(before.accumulator).toMatchObject({ batches: 1, records: 1, bytes: ONE_RECORD_BATCH })
    // No producer id yet: idempotence holds every partition back.
    expect(before.accumulator.partitions[0]).toMatchObject({ topic: 't', partition: 0, leader: 1, muted: true })
    expect(before.brokers[0]!.inFlight.map((r) => r.api)).toEqual(['InitProducerId'])
    client.respond(client.requests[0]!, INIT_OK)
    await until(() => client.sentOf('Produce').length === 1, 'Produce')

    now += 250
    const one = viaJson(producer.inspect())
    expect(one.ts).toBe(10_250)
    // The brokers part is the client's own picture, at the producer's clock (the real client's is checked above).
    expect(one.brokers).toEqual(viaJson(client.inspectConnections(10_250)))
    expect(one.brokers[0]!.inFlight.map((r) => r.api)).toEqual(['Produce'])
    expect(one.accumulator).toEqual({ batches: 0, bytes: 0, records: 0, partitions: [], partitionsOmitted: 0 })

    // Two more records for t-1 that stay queued while the node is not ready.
    client.setReady(1, false, 1000)
    sent.push(producer.send({ topic: 't', partition: 1, value: V100 }), producer.send({ topic: 't', partition: 1, value: V100 }))
    now += 50
    const two = producer.inspect()
    expect(two.accumulator).toEqual({
      batches: 2,
      bytes: 2 * ONE_RECORD_BATCH,
      records: 2,
      partitions: [{ topic: 't', partition: 1, leader: 1, batches: 2, bytes: 2 * ONE_RECORD_BATCH, records: 2, oldestBatchAgeMs: 50, muted: false, backoffMs: 0, waitingForLeader: false }],
      partitionsOmitted: 0,
    })
    expect(producer.inspect({ maxPartitions: 0 }).accumulator).toMatchObject({ partitions: [], partitionsOmitted: 1, records: 2 })
    expect(() => producer.inspect({ maxPartitions: -1 })).toThrow(KafkaConfigError)
    expect(two.bufferPool).toMatchObject({ usedBytes: 3 * ONE_RECORD_BATCH, waiters: 0 })

    // A send to a topic the metadata does not know waits for it; one behind it keeps send() order.
    const late = [producer.send({ topic: 'unknown', value: 'x' }).catch((e: Error) => e)]
    now += 30
    late.push(producer.send({ topic: 't', partition: 0, value: 'y' }).catch((e: Error) => e))
    now += 20
    const waiting = viaJson(producer.inspect().waitingSends)
    expect(waiting).toEqual({
      sends: 2,
      oldestAgeMs: 50,
      head: 'metadata',
      metadata: { sends: 1, oldestAgeMs: 50 },
      memory: { sends: 1, oldestAgeMs: 20 },
      topics: { unknown: { sends: 1, oldestAgeMs: 50, waitingFor: 'metadata' }, t: { sends: 1, oldestAgeMs: 20, waitingFor: 'memory' } },
    })

    // Answered: gone from the picture.
    client.respond(client.sentOf('Produce')[0]!, produceOk(client.sentOf('Produce')[0]!, 5n))
    await sent[0]
    expect(producer.inspect().brokers[0]!.inFlight).toEqual([])
    expect(JSON.parse(JSON.stringify(producer.inspect()))).toEqual(producer.inspect())
    await producer.close({ timeoutMs: 0 })
    await Promise.all([...sent.slice(1).map((p) => p.catch(() => null)), ...late])
  })
})

describe('statistics.interval.ms', () => {
  it('is an integer in [0, 86400000] under either name, 0 by default', () => {
    const base = { bootstrapServers: 'b:9092' }
    expect(resolveProducerConfig(base).statisticsIntervalMs).toBe(0)
    expect(resolveProducerConfig({ ...base, statisticsIntervalMs: 5000 }).statisticsIntervalMs).toBe(5000)
    expect(resolveProducerConfig({ ...base, 'statistics.interval.ms': '250' }).statisticsIntervalMs).toBe(250)
    for (const bad of [-1, 1.5, 86_400_001, '100' as unknown as number, NaN]) {
      expect(() => resolveProducerConfig({ ...base, statisticsIntervalMs: bad })).toThrow(KafkaConfigError)
    }
    expect(() => resolveProducerConfig({ ...base, 'statistics.interval.ms': 'often' })).toThrow(KafkaConfigError)
    expect(() => new KafkaProducer({ ...base, onStatistics: 'yes' as unknown as () => void })).toThrow(KafkaConfigError)
  })

  it('calls onStatistics every interval with { ts, metrics, inspection }, and never after close', async () => {
    // Fake setTimeout (the statistics timer, the scripted poll's wait); the producer's clock is injected and moved with it.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    try {
      const got: ProducerStatistics[] = []
      const T = 50_000
      let now = T
      const { producer } = scripted({ statisticsIntervalMs: 40, onStatistics: (s: ProducerStatistics) => got.push(s) }, () => now)
      for (let k = 1; k <= 3; k++) {
        now += 39
        await vi.advanceTimersByTimeAsync(39)
        expect(got).toHaveLength(k - 1)
        now += 1
        await vi.advanceTimersByTimeAsync(1)
        expect(got).toHaveLength(k)
      }
      // One interval apart, in the producer's clock.
      expect(got.map((s) => s.ts)).toEqual([T + 40, T + 80, T + 120])
      for (const s of got) {
        expect(Object.keys(s)).toEqual(['ts', 'metrics', 'inspection'])
        expect(s.inspection.ts).toBe(s.ts)
        expect(s.metrics['buffer-total-bytes']).toBe(33554432)
        expect(() => JSON.stringify(s)).not.toThrow()
      }
      const closed = producer.close({ timeoutMs: 0 }) // the scripted InitProducerId is never answered
      await vi.advanceTimersByTimeAsync(1)
      await closed
      await vi.advanceTimersByTimeAsync(200)
      expect(got).toHaveLength(3)
    } finally {
      vi.useRealTimers()
    }
  })

  it('without a callback, or with the interval at 0, arms no timer', async () => {
    const calls: unknown[] = []
    const { producer } = scripted({ statisticsIntervalMs: 0, onStatistics: (s: unknown) => calls.push(s) })
    const { producer: other } = scripted({ statisticsIntervalMs: 10 })
    await new Promise((r) => setTimeout(r, 60))
    expect(calls).toEqual([])
    expect((producer as unknown as { statisticsTimer: unknown }).statisticsTimer).toBeNull()
    expect((other as unknown as { statisticsTimer: unknown }).statisticsTimer).toBeNull()
  })
})

describe('traced sends (the send TracingChannel)', () => {
  it('send the caller\'s record object as it is when the start subscriber changed no header, and a copy when it added one', async () => {
    const seen: unknown[] = []
    const { producer } = scripted({ lingerMs: 0, interceptors: [{ onSend: (r: unknown) => (seen.push(r), r) }] })
    let add = false
    const start = (ctx: any): void => {
      if (add) ctx.headers.push(['traceparent', '00-abc'])
    }
    const channel = diagnostics_channel.tracingChannel('kafka-producer-ts:send')
    channel.start.subscribe(start)
    try {
      const observed = { topic: 't', partition: 0, value: 'a', headers: [['h', 'v']] as [string, string][] }
      const bare = { topic: 't', partition: 0, value: 'b' }
      const injected = { topic: 't', partition: 0, value: 'c', headers: [['h', 'v']] as [string, string][] }
      void producer.send(observed).catch(() => {})
      void producer.send(bare).catch(() => {})
      add = true
      void producer.send(injected).catch(() => {})
      add = false
      const objectHeaders = { topic: 't', partition: 0, value: 'd', headers: { h: 'v' } }
      void producer.send(objectHeaders).catch(() => {})
      expect(seen[3]).toBe(objectHeaders)
      expect(seen[0]).toBe(observed)
      expect(seen[1]).toBe(bare)
      expect(seen[2]).not.toBe(injected)
      expect((seen[2] as typeof injected).headers).toEqual([['h', 'v'], ['traceparent', '00-abc']])
      expect(injected.headers).toEqual([['h', 'v']]) // the caller's record is not changed
    } finally {
      channel.start.unsubscribe(start)
    }
  })
})
