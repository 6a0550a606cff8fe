/**
 * Sender against a scripted network client and a fake clock, as Java's
 * SenderTest drives its Sender with MockClient: the accumulator, buffer pool,
 * producer metadata and transaction manager are the real ones; only the
 * network is scripted (test/harness/scripted-client.ts). Each test advances
 * `now` by hand and runs passes of `runOnce`, answering requests in between.
 */
import { beforeEach, describe, expect, it } from 'vitest'
import { type MetadataResponseView, ProducerMetadata } from '../../src/clients/metadata.js'
import { KafkaAuthenticationError, KafkaBrokerError, KafkaCompressionError, KafkaFatalProducerError, KafkaNetworkError, KafkaTimeoutError } from '../../src/errors.js'
import type { BatchCompression } from '../../src/protocol/compression/index.js'
import type { InitProducerIdRequest, InitProducerIdResponse, ProduceRequest, ProduceResponse } from '../../src/protocol/apis/index.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { BufferPool } from '../../src/producer/buffer-pool.js'
import { ProducerMetrics } from '../../src/producer/metrics.js'
import type { ProducerBatch } from '../../src/producer/producer-batch.js'
import { APPEND_NEEDS_MEMORY, RecordAccumulator } from '../../src/producer/record-accumulator.js'
import type { SendCallback } from '../../src/producer/record.js'
import { Sender } from '../../src/producer/sender.js'
import { TransactionManager } from '../../src/producer/transaction-manager.js'
import { manualCompression } from '../harness/compressed-batch.js'
import { decodeRecordBatches, type DecodedRecordBatch } from '../harness/record-batch-decoder.js'
import { ScriptedClient, type ScriptedRequest } from '../harness/scripted-client.js'

const T0 = 1_700_000_000_000
const TOPIC = 't'
/** With jitter 0.2, random() = 0.5 gives a factor of exactly 1: backoffs are exact powers of two of the initial value. */
const MID = (): number => 0.5

let now = T0
const clock = (): number => now

beforeEach(() => {
  now = T0
})

/** A Metadata response: brokers 1 and 2; topic `t` with one partition per entry of `leaders`. */
function clusterView(leaders: readonly number[]): MetadataResponseView {
  return {
    brokers: [1, 2].map((id) => ({ nodeId: id, host: `broker${id}`, port: 9092, rack: null })),
    clusterId: 'scripted',
    controllerId: 1,
    topics: [
      {
        errorCode: 0,
        name: TOPIC,
        partitions: leaders.map((leader, i) => ({
          errorCode: 0,
          partitionIndex: i,
          leaderId: leader,
          leaderEpoch: 0,
          replicaNodes: [leader],
          isrNodes: [leader],
        })),
      },
    ],
  }
}

interface Setup {
  idempotent?: boolean
  maxInFlight?: number
  retries?: number
  lingerMs?: number
  batchSize?: number
  deliveryTimeoutMs?: number
  requestTimeoutMs?: number
  retryBackoffMs?: number
  retryBackoffMaxMs?: number
  acks?: number
  /** Leader of each partition of topic `t` (default: p0 → 1, p1 → 2). */
  leaders?: number[]
  /** The batches' codec (default: none). */
  compression?: BatchCompression
}

/** The real producer pipeline below the network, wired as wireProducer wires it, around a ScriptedClient. */
function setup(o: Setup = {}) {
  const batchSize = o.batchSize ?? 16384
  const deliveryTimeoutMs = o.deliveryTimeoutMs ?? 120_000
  const retryBackoffMs = o.retryBackoffMs ?? 100
  const retryBackoffMaxMs = o.retryBackoffMaxMs ?? 1000
  const requestTimeoutMs = o.requestTimeoutMs ?? 30_000
  const maxInFlight = o.maxInFlight ?? 5
  const metadata = new ProducerMetadata([{ host: 'bootstrap', port: 9092 }], 300_000, 300_000, retryBackoffMs, retryBackoffMaxMs, MID)
  metadata.add(TOPIC, now)
  metadata.update(clusterView(o.leaders ?? [1, 2]), now)
  const pool = new BufferPool(1 << 20, batchSize)
  const tm = o.idempotent ? new TransactionManager() : null
  const accumulator = new RecordAccumulator({
    batchSize,
    lingerMs: o.lingerMs ?? 0,
    deliveryTimeoutMs,
    retryBackoffMs,
    retryBackoffMaxMs,
    bufferPool: pool,
    random: MID,
    ...(tm !== null ? { producerState: tm } : {}),
    ...(o.compression !== undefined ? { compression: o.compression } : {}),
  })
  const client = new ScriptedClient(metadata, clock, maxInFlight)
  const stats = new ProducerMetrics()
  const sender = new Sender(
    client,
    metadata,
    accumulator,
    stats,
    {
      acks: o.acks ?? -1,
      requestTimeoutMs,
      deliveryTimeoutMs,
      maxRequestSize: 1 << 20,
      retries: o.retries ?? 2147483647,
      retryBackoffMs,
      guaranteeMessageOrder: maxInFlight === 1,
    },
    clock,
    tm,
  )

  /** What became of one record: every completion is counted, so "exactly once" can be checked. */
  interface Outcome {
    calls: number
    err: Error | null
    offset: bigint | null
  }
  function append(partition: number, value: string | Buffer = 'v'): Outcome {
    const o: Outcome = { calls: 0, err: null, offset: null }
    const cb: SendCallback = (err, md) => {
      o.calls++
      o.err = err
      o.offset = md === null ? null : md.offset
    }
    const r = accumulator.append(TOPIC, partition, now, null, value, null, cb, null, now, metadata.cluster)
    if (r === APPEND_NEEDS_MEMORY) throw new Error('the test pool ran out of memory')
    return o
  }

  /** One turn of the Sender's loop: a pass, then the poll that runs completions. Returns what the pass asked to wait. */
  function pass(): number {
    const wait = sender.runOnce(now)
    client.deliver(now)
    return wait
  }

  return { metadata, pool, tm, accumulator, client, stats, sender, append, pass }
}

/** A Produce answer for every partition of `req`: `code` (or code by partition), offsets from `baseOffset`. */
function produceAnswer(req: ScriptedRequest, code: number | ((partition: number) => number) = 0, baseOffset = 0n): ProduceResponse {
  const body = req.body as ProduceRequest
  return {
    throttleTimeMs: 0,
    nodeEndpoints: [],
    topics: body.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        const c = typeof code === 'number' ? code : code(p.index)
        return {
          index: p.index,
          errorCode: c,
          baseOffset: c === 0 ? baseOffset : -1n,
          logAppendTimeMs: -1,
          logStartOffset: -1n,
          recordErrors: [],
          errorMessage: null,
        }
      }),
    })),
  }
}

function initProducerIdAnswer(errorCode: number, producerId = 1000n, producerEpoch = 0): InitProducerIdResponse {
  return { throttleTimeMs: 0, errorCode, producerId, producerEpoch, ongoingTxnProducerId: -1n, ongoingTxnProducerEpoch: -1 }
}

/** The record batches a Produce request carries, per partition, decoded independently of the SDK's writer. */
function batchesIn(req: ScriptedRequest): { partition: number; batch: DecodedRecordBatch }[] {
  const body = req.body as ProduceRequest
  const out: { partition: number; batch: DecodedRecordBatch }[] = []
  for (const t of body.topics) for (const p of t.partitions) for (const b of decodeRecordBatches(p.records)) out.push({ partition: p.index, batch: b })
  return out
}

function valuesIn(req: ScriptedRequest): string[] {
  return batchesIn(req).flatMap(({ batch }) => batch.records.map((r) => r.value!.toString()))
}

function onlyBatch(acc: RecordAccumulator, partition: number): ProducerBatch {
  const list = acc.batchesFor(TOPIC, partition)
  expect(list).toHaveLength(1)
  return list[0]!
}

describe('Sender: sending and runOnce timing', () => {
  it('sends one Produce request per leader and completes each record once with its offset', () => {
    const s = setup()
    const a = [s.append(0, 'a0'), s.append(0, 'a1'), s.append(0, 'a2')]
    const b = s.append(1, 'b0')
    expect(s.pass()).toBe(0) // drained something: look again at once
    const produce = s.client.sentOf('Produce')
    expect(produce.map((r) => r.destination).sort()).toEqual([1, 2])
    const toNode1 = produce.find((r) => r.destination === 1)!
    expect(valuesIn(toNode1)).toEqual(['a0', 'a1', 'a2'])
    expect((toNode1.body as ProduceRequest).acks).toBe(-1)
    for (const r of produce) s.client.respond(r, produceAnswer(r, 0, r.destination === 1 ? 40n : 7n))
    s.pass()
    expect(a.map((o) => [o.calls, o.offset])).toEqual([
      [1, 40n],
      [1, 41n],
      [1, 42n],
    ])
    expect([b.calls, b.offset, b.err]).toEqual([1, 7n, null])
    expect(s.pool.availableMemory()).toBe(s.pool.totalMemory)
  })

  it('runOnce returns the time left until linger.ms, then 0 when it sends', () => {
    const s = setup({ lingerMs: 100 })
    s.append(0)
    expect(s.pass()).toBe(100)
    now += 40
    expect(s.pass()).toBe(60)
    expect(s.client.requests).toHaveLength(0)
    now += 60
    expect(s.pass()).toBe(0)
    expect(s.client.sentOf('Produce')).toHaveLength(1)
  })

  it('runOnce returns the connection delay of a leader that is not ready, or the time to delivery.timeout.ms expiry', () => {
    const s = setup({ deliveryTimeoutMs: 5000 })
    s.client.setReady(1, false, 250) // in reconnect backoff for 250 ms
    s.append(0)
    expect(s.pass()).toBe(250)
    s.client.setReady(1, false) // connecting: its outcome wakes the poll, so only the expiry bounds the wait
    expect(s.pass()).toBe(5000)
    now += 1000
    expect(s.pass()).toBe(4000)
    expect(s.client.requests).toHaveLength(0)
  })

  it('with acks=0 a record completes when its request was sent, offset unknown', () => {
    const s = setup({ acks: 0 })
    const o = s.append(0)
    s.pass()
    expect(s.client.sentOf('Produce')[0]!.request.expectResponse).toBe(false)
    expect([o.calls, o.offset, o.err]).toEqual([1, -1n, null])
  })
})

describe('Sender: retries', () => {
  it('re-enqueues a batch failed with a retriable error and re-sends it after the exponential retry backoff; attempts are counted', () => {
    const s = setup({ retryBackoffMs: 100, retryBackoffMaxMs: 1000 })
    const recs = [s.append(0, 'x'), s.append(0, 'y')]
    const batch = onlyBatch(s.accumulator, 0)
    s.pass()
    const first = s.client.sentOf('Produce')[0]!
    expect(batch.attempts).toBe(0)

    now += 5
    s.client.respond(first, produceAnswer(first, ErrorCode.NOT_LEADER_OR_FOLLOWER))
    s.client.deliver()
    expect(recs.every((o) => o.calls === 0)).toBe(true)
    expect(batch.attempts).toBe(1)
    expect(s.stats.retries.totalSum).toBe(2)
    // NOT_LEADER_OR_FOLLOWER means stale metadata: a refresh is asked for.
    expect(s.metadata.updateRequested).toBe(true)

    // retry.backoff.ms (100, jitter factor 1) after the failure; runOnce says how long is left.
    expect(s.pass()).toBe(100)
    now += 99
    expect(s.pass()).toBe(1)
    expect(s.client.sentOf('Produce')).toHaveLength(1)
    now += 1
    s.pass()
    const second = s.client.sentOf('Produce')[1]!
    expect(valuesIn(second)).toEqual(['x', 'y'])

    // A second failure doubles the backoff (Java's ExponentialBackoff: 100 * 2^1).
    s.client.respond(second, produceAnswer(second, ErrorCode.NOT_ENOUGH_REPLICAS))
    s.client.deliver()
    expect(batch.attempts).toBe(2)
    expect(s.pass()).toBe(200)
    now += 200
    s.pass()
    const third = s.client.sentOf('Produce')[2]!
    s.client.respond(third, produceAnswer(third, 0, 500n))
    s.client.deliver()
    expect(recs.map((o) => [o.calls, o.offset, o.err])).toEqual([
      [1, 500n, null],
      [1, 501n, null],
    ])
    expect(s.stats.retries.totalSum).toBe(4)
  })

  it('a disconnect is retried as a retriable network error', () => {
    const s = setup()
    const o = s.append(0)
    s.pass()
    s.client.disconnect(1)
    s.client.deliver()
    expect(o.calls).toBe(0)
    now += 100
    s.pass()
    const produce = s.client.sentOf('Produce')
    expect(produce).toHaveLength(2)
    s.client.respond(produce[1]!, produceAnswer(produce[1]!, 0, 3n))
    s.client.deliver()
    expect([o.calls, o.offset]).toEqual([1, 3n])
  })

  it('counts request latency only for requests that were answered, not for disconnects or timeouts (Java: hasResponse)', () => {
    const s = setup()
    s.append(0)
    s.pass()
    now += 50
    s.client.disconnect(1)
    s.client.deliver()
    expect(s.stats.requestLatency.totalCount).toBe(0)
    now += 100
    s.pass()
    now += 30_000 // request.timeout.ms
    s.client.deliver() // the request times out
    expect(s.client.sentOf('Produce')).toHaveLength(2)
    expect(s.stats.requestLatency.totalCount).toBe(0)
    expect(s.stats.nodes.get(1)?.latency.totalCount ?? 0).toBe(0)
    now += 1000 // past the retry backoff, which grows with each attempt
    s.pass()
    const third = s.client.sentOf('Produce')[2]!
    now += 7
    s.client.respond(third, produceAnswer(third))
    s.client.deliver()
    expect(s.stats.requestLatency.totalCount).toBe(1)
    expect(s.stats.requestLatency.max(now)).toBe(7)
  })

  it('a non-retriable error fails the batch at once with a typed KafkaBrokerError', () => {
    const s = setup()
    const recs = [s.append(0), s.append(0)]
    s.pass()
    const req = s.client.sentOf('Produce')[0]!
    s.client.respond(req, produceAnswer(req, ErrorCode.TOPIC_AUTHORIZATION_FAILED))
    s.client.deliver()
    for (const o of recs) {
      expect(o.calls).toBe(1)
      expect(o.err).toBeInstanceOf(KafkaBrokerError)
      const e = o.err as KafkaBrokerError
      expect([e.errorCode, e.errorName, e.retriable]).toEqual([ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'TOPIC_AUTHORIZATION_FAILED', false])
      expect(e.message).toContain('t-0 on node 1')
    }
    now += 10_000
    s.pass()
    expect(s.client.sentOf('Produce')).toHaveLength(1)
    expect(s.stats.errors.totalSum).toBe(2)
    expect(s.pool.availableMemory()).toBe(s.pool.totalMemory)
  })

  it('once `retries` attempts are used up, the next retriable error fails the batch with it', () => {
    const s = setup({ retries: 1 })
    const o = s.append(0)
    s.pass()
    const first = s.client.sentOf('Produce')[0]!
    s.client.respond(first, produceAnswer(first, ErrorCode.NOT_ENOUGH_REPLICAS))
    s.client.deliver()
    now += 100
    s.pass()
    const second = s.client.sentOf('Produce')[1]!
    s.client.respond(second, produceAnswer(second, ErrorCode.NOT_ENOUGH_REPLICAS))
    s.client.deliver()
    expect(o.calls).toBe(1)
    expect(o.err).toBeInstanceOf(KafkaBrokerError)
    expect((o.err as KafkaBrokerError).errorName).toBe('NOT_ENOUGH_REPLICAS')
    expect((o.err as KafkaBrokerError).retriable).toBe(true)
  })
})

describe('Sender: retries and delivery.timeout.ms', () => {
  it('a retriable error that arrives once delivery.timeout.ms has passed fails the batch with that error, without a retry', () => {
    const s = setup({ deliveryTimeoutMs: 1000, requestTimeoutMs: 900 })
    const o = s.append(0)
    s.pass()
    const req = s.client.sentOf('Produce')[0]!
    // The answer arrives exactly at the deadline, before the Sender's next pass could expire the batch in flight.
    now += 1000
    s.client.respond(req, produceAnswer(req, ErrorCode.NOT_ENOUGH_REPLICAS))
    s.client.deliver()
    expect(o.calls).toBe(1)
    expect(o.err).toBeInstanceOf(KafkaBrokerError)
    expect((o.err as KafkaBrokerError).errorName).toBe('NOT_ENOUGH_REPLICAS')
    now += 10_000
    s.pass()
    expect(s.client.sentOf('Produce')).toHaveLength(1)
  })
})

describe('Sender: MESSAGE_TOO_LARGE splits', () => {
  it('splits a rejected multi-record batch, re-sends the parts in order, and completes every record once', () => {
    const s = setup()
    const values = Array.from({ length: 8 }, (_, i) => `r${i}-`.padEnd(500, 'x'))
    const recs = values.map((v) => s.append(0, v))
    s.pass()
    const whole = s.client.sentOf('Produce')[0]!
    expect(batchesIn(whole)).toHaveLength(1)
    s.client.respond(whole, produceAnswer(whole, ErrorCode.MESSAGE_TOO_LARGE))
    s.client.deliver()
    expect(s.stats.batchSplit.totalCount).toBe(1)
    expect(recs.every((o) => o.calls === 0)).toBe(true)

    // No backoff for the parts ("as if not even tried"): they go at once, one batch per partition per request.
    s.pass()
    s.pass()
    const parts = s.client.sentOf('Produce').slice(1)
    expect(parts).toHaveLength(2)
    expect(parts.map((r) => valuesIn(r))).toEqual([values.slice(0, 4), values.slice(4)])
    s.client.respond(parts[0]!, produceAnswer(parts[0]!, 0, 100n))
    s.client.respond(parts[1]!, produceAnswer(parts[1]!, 0, 104n))
    s.client.deliver()
    expect(recs.map((o) => o.calls)).toEqual(Array(8).fill(1))
    expect(recs.map((o) => o.offset)).toEqual([100n, 101n, 102n, 103n, 104n, 105n, 106n, 107n])
    expect(s.pool.availableMemory()).toBe(s.pool.totalMemory)
  })

  it('keeps halving while the broker rejects, and fails a single record that is still too large', () => {
    const s = setup()
    const recs = [s.append(0, 'a'.repeat(300)), s.append(0, 'b'.repeat(300))]
    s.pass()
    const whole = s.client.sentOf('Produce')[0]!
    s.client.respond(whole, produceAnswer(whole, ErrorCode.MESSAGE_TOO_LARGE))
    s.client.deliver()
    s.pass()
    s.pass()
    const [p0, p1] = s.client.sentOf('Produce').slice(1)
    expect(batchesIn(p0!)[0]!.batch.recordCount).toBe(1)
    s.client.respond(p0!, produceAnswer(p0!, ErrorCode.MESSAGE_TOO_LARGE))
    s.client.respond(p1!, produceAnswer(p1!, 0, 9n))
    s.client.deliver()
    expect(recs[0]!.calls).toBe(1)
    expect((recs[0]!.err as KafkaBrokerError).errorName).toBe('MESSAGE_TOO_LARGE')
    expect([recs[1]!.calls, recs[1]!.offset, recs[1]!.err]).toEqual([1, 9n, null])
    expect(s.stats.batchSplit.totalCount).toBe(1)
  })
})

describe('Sender: max.in.flight.requests.per.connection', () => {
  it('never has more than the cap in flight to one node, and sends the next request once one is answered', () => {
    const s = setup({ maxInFlight: 2, leaders: [1, 1, 1, 1] })
    for (let i = 0; i < 6; i++) {
      s.append(i % 4, `m${i}`)
      s.pass()
      now += 1
    }
    expect(s.client.sentOf('Produce')).toHaveLength(2)
    expect(s.client.maxInFlightSeen.get(1)).toBe(2)
    const [first] = s.client.pending(1)
    s.client.respond(first!, produceAnswer(first!))
    s.client.deliver()
    s.pass()
    expect(s.client.sentOf('Produce')).toHaveLength(3)
    expect(s.client.maxInFlightSeen.get(1)).toBe(2)
  })

  it('with idempotence and a cap of 1, one batch per partition is in flight, and a retried batch goes before later ones', () => {
    const s = setup({ idempotent: true, maxInFlight: 1, batchSize: 1024 })
    s.pass()
    const init = s.client.sentOf('InitProducerId')[0]!
    s.client.respond(init, initProducerIdAnswer(0, 55n, 1))
    s.client.deliver()
    // 600-byte values: each record fills its own 1 KiB batch, so p0 queues three batches.
    const recs = ['A', 'B', 'C'].map((v) => s.append(0, v.repeat(600)))
    expect(s.accumulator.batchesFor(TOPIC, 0)).toHaveLength(3)

    const answer = (code: number): void => {
      const req = s.client.pending(1)[0]!
      s.client.respond(req, produceAnswer(req, code, 0n))
      s.client.deliver()
    }
    const sendPass = (): void => {
      s.pass()
      s.pass() // a second pass must not add anything while one batch of p0 flies
      const inFlight = s.client.pending(1)
      expect(inFlight.length).toBeLessThanOrEqual(1)
      for (const r of inFlight) expect(batchesIn(r)).toHaveLength(1)
    }
    sendPass()
    answer(ErrorCode.NOT_ENOUGH_REPLICAS) // retriable: A goes again before B
    now += 100
    sendPass()
    answer(0)
    sendPass()
    answer(0)
    sendPass()
    answer(0)
    const produce = s.client.sentOf('Produce')
    expect(produce.map((r) => batchesIn(r)[0]!.batch.baseSequence)).toEqual([0, 0, 1, 2])
    expect(produce.map((r) => batchesIn(r)[0]!.batch.producerId)).toEqual([55n, 55n, 55n, 55n])
    expect(s.client.maxInFlightSeen.get(1)).toBe(1)
    expect(recs.map((o) => [o.calls, o.err])).toEqual([
      [1, null],
      [1, null],
      [1, null],
    ])
  })

  it('with a cap of 1, a partition whose leader moved waits until its batch in flight to the old leader is answered', () => {
    const s = setup({ maxInFlight: 1, leaders: [1] })
    const a = s.append(0, 'A')
    s.pass()
    const toOld = s.client.sentOf('Produce')[0]!
    s.metadata.update(clusterView([2]), now)
    const b = s.append(0, 'B')
    s.pass()
    s.pass()
    expect(s.client.sentOf('Produce')).toHaveLength(1) // B must not overtake A on node 2
    s.client.respond(toOld, produceAnswer(toOld, 0, 10n))
    s.client.deliver()
    s.pass()
    const produce = s.client.sentOf('Produce')
    expect(produce).toHaveLength(2)
    expect(produce[1]!.destination).toBe(2)
    expect(valuesIn(produce[1]!)).toEqual(['B'])
    expect([a.calls, a.offset, b.calls]).toEqual([1, 10n, 0])
  })
})

describe('Sender: delivery.timeout.ms', () => {
  it('fails a batch still in the accumulator with KafkaTimeoutError once delivery.timeout.ms has passed since its creation', () => {
    const s = setup({ deliveryTimeoutMs: 1000 })
    s.client.setReady(1, false)
    const o = s.append(0)
    expect(s.pass()).toBe(1000)
    now += 999
    expect(s.pass()).toBe(1)
    expect(o.calls).toBe(0)
    now += 1
    s.pass()
    expect(o.calls).toBe(1)
    expect(o.err).toBeInstanceOf(KafkaTimeoutError)
    expect(o.err!.message).toMatch(/t-0: 1000 ms has passed since batch creation \(delivery\.timeout\.ms=1000\)/)
    expect(s.client.requests).toHaveLength(0)
    expect(s.pool.availableMemory()).toBe(s.pool.totalMemory)
  })

  it("ends the expiry message with the failing leader's connection failures, asking for the leader only, and makes them its cause", () => {
    const s = setup({ deliveryTimeoutMs: 1000 })
    s.client.setReady(1, false)
    const asked: (number | undefined)[] = []
    const report = { summary: 'b1:9092 ECONNREFUSED (3 attempts)', error: new AggregateError([], 'b1:9092 ECONNREFUSED (3 attempts)'), anyReady: true }
    s.client.failureReport = (nodeId) => {
      asked.push(nodeId)
      return nodeId === 1 ? report : null
    }
    const o = s.append(0)
    s.pass()
    expect(asked).toEqual([]) // only asked when something expires
    now += 1000
    s.pass()
    expect(asked).toEqual([1])
    expect(o.err).toBeInstanceOf(KafkaTimeoutError)
    expect(o.err!.message).toMatch(/\(delivery\.timeout\.ms=1000\); leader unreachable: b1:9092 ECONNREFUSED \(3 attempts\)$/)
    expect(o.err!.cause).toBe(report.error)
  })

  it('fails a batch in flight at delivery.timeout.ms without waiting for its response; the late response changes nothing', () => {
    const s = setup({ deliveryTimeoutMs: 120_000, requestTimeoutMs: 30_000 })
    s.client.setReady(1, false)
    const o = s.append(0)
    s.pass()
    // The leader becomes reachable late: the batch leaves 100 s after its creation.
    now = T0 + 100_000
    s.client.setReady(1, true)
    s.pass()
    const req = s.client.sentOf('Produce')[0]!
    now += 1
    expect(s.pass()).toBe(19_999) // until the batch's delivery deadline, well before the request's timeout
    now = T0 + 120_000
    s.pass()
    expect(o.calls).toBe(1)
    expect(o.err).toBeInstanceOf(KafkaTimeoutError)
    expect(req.answered).toBe(false) // still in flight
    // Its memory is released, its buffer is not (the socket may still be reading it).
    expect(s.pool.availableMemory()).toBe(s.pool.totalMemory)

    now += 1000
    s.client.respond(req, produceAnswer(req, 0, 77n))
    s.client.deliver()
    expect(o.calls).toBe(1)
    expect(o.err).toBeInstanceOf(KafkaTimeoutError)
  })
})

describe('Sender: idempotence', () => {
  it('sends InitProducerId first; Produce waits for the producer id and then carries it with sequence 0', () => {
    const s = setup({ idempotent: true })
    const o = s.append(0, 'first')
    expect(s.pass()).toBe(30_000) // the InitProducerId answer wakes the loop
    expect(s.client.requests.map((r) => r.api)).toEqual(['InitProducerId'])
    const init = s.client.requests[0]!
    expect(init.body as InitProducerIdRequest).toMatchObject({ transactionalId: null, producerId: -1n, producerEpoch: -1 })
    s.pass()
    expect(s.client.requests).toHaveLength(1) // neither another InitProducerId nor a Produce meanwhile

    s.client.respond(init, initProducerIdAnswer(0, 4242n, 7))
    s.client.deliver()
    s.pass()
    const produce = s.client.sentOf('Produce')
    expect(produce).toHaveLength(1)
    const [{ batch }] = batchesIn(produce[0]!)
    expect([batch.producerId, batch.producerEpoch, batch.baseSequence]).toEqual([4242n, 7, 0])
    s.client.respond(produce[0]!, produceAnswer(produce[0]!, 0, 0n))
    s.client.deliver()
    expect([o.calls, o.offset, o.err]).toEqual([1, 0n, null])
  })

  it('retries a retriable InitProducerId error after retry.backoff.ms; a fatal one fails every batch with KafkaFatalProducerError', () => {
    const s = setup({ idempotent: true, retryBackoffMs: 100 })
    const o = s.append(0)
    s.pass()
    s.client.respond(s.client.requests[0]!, initProducerIdAnswer(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS))
    s.client.deliver()
    expect(s.pass()).toBe(100)
    now += 99
    s.pass()
    expect(s.client.sentOf('InitProducerId')).toHaveLength(1)
    now += 1
    s.pass()
    const inits = s.client.sentOf('InitProducerId')
    expect(inits).toHaveLength(2)
    s.client.respond(inits[1]!, initProducerIdAnswer(ErrorCode.CLUSTER_AUTHORIZATION_FAILED))
    s.client.deliver()
    expect(s.pass()).toBe(Infinity) // nothing more can be written
    expect(o.calls).toBe(1)
    expect(o.err).toBeInstanceOf(KafkaFatalProducerError)
    expect(s.client.sentOf('Produce')).toHaveLength(0)
  })

  it('a disconnect during InitProducerId is retried, not fatal', () => {
    const s = setup({ idempotent: true })
    s.append(0)
    s.pass()
    s.client.disconnect(s.client.requests[0]!.destination)
    s.client.deliver()
    now += 100
    s.pass()
    expect(s.client.sentOf('InitProducerId')).toHaveLength(2)
    expect(s.tm!.fatalError).toBeNull()
  })
})

/** Producer epoch and base sequence from the (uncompressed) header of the only batch of a Produce request. */
function producerStateIn(req: ScriptedRequest): [number, number] {
  const records = (req.body as ProduceRequest).topics[0]!.partitions[0]!.records
  return [records.readInt16BE(51), records.readInt32BE(53)]
}

const tick = () => new Promise((r) => setImmediate(r))

describe('Sender: a batch whose codec failed', () => {
  it('is failed through failBatch: its records fail once with KafkaCompressionError, and an idempotent partition bumps its epoch over the lost sequences', async () => {
    const m = manualCompression('lz4')
    const s = setup({ idempotent: true, compression: m.compression })
    const values = Array.from({ length: 8 }, (_, i) => `r${i}-`.padEnd(500, 'x'))
    const recs = values.map((v) => s.append(0, v))
    s.pass()
    s.client.respond(s.client.sentOf('InitProducerId')[0]!, initProducerIdAnswer(0, 4242n, 7))
    s.client.deliver()
    s.pass() // ready() starts the codec
    m.calls[0]!.resolve()
    await tick()
    s.pass()
    const whole = s.client.sentOf('Produce')[0]!
    expect(producerStateIn(whole)).toEqual([7, 0])
    // Too large: split into two parts with sequences 0 and 4, both compressing at once.
    s.client.respond(whole, produceAnswer(whole, ErrorCode.MESSAGE_TOO_LARGE))
    s.client.deliver()
    expect(m.calls).toHaveLength(3)
    // The first part's codec fails; the second part's succeeds.
    m.calls[1]!.reject(new Error('lz4 block failed'))
    m.calls[2]!.resolve()
    await tick()
    s.pass()
    s.pass()
    const first4 = recs.slice(0, 4)
    expect(first4.map((o) => o.calls)).toEqual([1, 1, 1, 1])
    for (const o of first4) {
      expect(o.err).toBeInstanceOf(KafkaCompressionError)
      expect((o.err as KafkaCompressionError).codec).toBe('lz4')
    }
    expect(s.stats.errors.totalSum).toBe(4)
    // Sequences 0-3 were never written: the second part goes under a new epoch from sequence 0, not with a gap at 4.
    const produces = s.client.sentOf('Produce')
    expect(produces).toHaveLength(2)
    expect(producerStateIn(produces[1]!)).toEqual([8, 0])
    s.client.respond(produces[1]!, produceAnswer(produces[1]!, 0, 10n))
    s.client.deliver()
    expect(recs.slice(4).map((o) => [o.calls, o.offset])).toEqual([
      [1, 10n],
      [1, 11n],
      [1, 12n],
      [1, 13n],
    ])
    expect(s.accumulator.hasIncomplete()).toBe(false)
    expect(s.pool.availableMemory()).toBe(s.pool.totalMemory)
  })

  it('without idempotence: its records fail once, are counted, and its memory comes back (transactions: test/unit/transactions.test.ts)', async () => {
    const m = manualCompression('lz4')
    const s = setup({ compression: m.compression })
    expect(s.tm).toBeNull()
    const o = s.append(0, 'v')
    s.pass()
    m.calls[0]!.reject(new Error('boom'))
    await tick()
    s.pass()
    expect([o.calls, (o.err as KafkaCompressionError).codec]).toEqual([1, 'lz4'])
    expect(s.stats.errors.totalSum).toBe(1)
    expect(s.accumulator.hasUndrained()).toBe(false)
    expect(s.pool.availableMemory()).toBe(s.pool.totalMemory)
  })
})

describe('ScriptedClient contract', () => {
  it('completes each request once, and fails what is in flight on close with a disconnect', () => {
    const s = setup({ retries: 0 })
    const o = s.append(0)
    s.pass()
    const req = s.client.sentOf('Produce')[0]!
    s.client.respond(req, produceAnswer(req))
    expect(() => s.client.respond(req, produceAnswer(req))).toThrow(/answered twice/)
    s.client.deliver()
    expect(o.calls).toBe(1)

    const p = s.append(0)
    s.pass()
    const q = s.append(0)
    s.pass()
    const [r1, r2] = s.client.pending(1)
    // A connection answers in order: a script that answers the later one first is refused.
    expect(() => s.client.respond(r2!, produceAnswer(r2!))).toThrow(/answered before/)
    expect(r1).toBeDefined()
    s.client.close(now)
    expect(q.calls).toBe(1)
    expect(s.client.pending()).toHaveLength(0)
    expect(p.calls).toBe(1)
    expect(p.err).toBeInstanceOf(KafkaNetworkError)
  })
})

describe('Sender: broker throttling (KIP-219)', () => {
  /** Sends one batch to each of nodes 1 and 2 and answers them, node 1's answer with `throttleMs`. */
  function throttledByNode1(s: ReturnType<typeof setup>, throttleMs: number): void {
    s.append(0, 'a')
    s.append(1, 'b')
    s.pass()
    for (const req of s.client.pending()) {
      s.client.respond(req, { ...produceAnswer(req), throttleTimeMs: req.destination === 1 ? throttleMs : 0 })
    }
    s.client.deliver(now)
  }

  it('sends nothing to a throttled node until its throttle time has passed, and wakes exactly then', () => {
    const s = setup()
    throttledByNode1(s, 300)
    s.append(0, 'c')
    // No polling: the pass asks to sleep for the throttle time left, and node 1 gets nothing.
    expect(s.sender.runOnce(now)).toBe(300)
    expect(s.client.sentOf('Produce')).toHaveLength(2)
    // Other nodes are not affected.
    s.append(1, 'd')
    s.sender.runOnce(now)
    expect(s.client.sentOf('Produce').map((r) => r.destination)).toEqual([1, 2, 2])
    now += 299
    expect(s.sender.runOnce(now)).toBe(1)
    expect(s.client.pending(1)).toHaveLength(0)
    now += 1
    s.sender.runOnce(now)
    const toNode1 = s.client.pending(1)
    expect(toNode1).toHaveLength(1)
    expect(valuesIn(toNode1[0]!)).toEqual(['c'])
    // produce-throttle-time-avg/max: over the Produce responses (one throttled, one not), and per node.
    expect(s.stats.produceThrottleTime.max(now)).toBe(300)
    expect(s.stats.produceThrottleTime.avg(now)).toBe(150)
    expect(s.stats.nodes.get(1)!.throttleTime.max(now)).toBe(300)
    expect(s.stats.nodes.get(2)!.throttleTime.max(now)).toBe(0)
  })
})

describe('Sender: metrics recorded per batch and per request', () => {
  it('records per-topic sends, bytes and compression rate, the largest record, queue time and records per request', () => {
    const s = setup()
    s.append(0, 'x')
    now += 7
    s.append(0, 'y'.repeat(100))
    s.pass()
    const [req] = s.client.pending()
    const batchBytes = batchesIn(req!)[0]!.batch
    s.client.respond(req!, produceAnswer(req!))
    s.client.deliver(now)
    const m = s.stats
    const t = m.topics.get(TOPIC)!
    expect(t.records.totalSum).toBe(2)
    expect(t.records.rate(now)).toBeGreaterThan(0)
    expect(t.bytes.totalSum).toBe(m.batchSize.totalSum)
    expect(m.batchSize.max(now)).toBeGreaterThan(100)
    expect(batchBytes.records).toHaveLength(2)
    expect(m.topicCompressionRate(t, now)).toBe(1) // uncompressed: reported, not recorded per batch
    expect(t.compression.totalCount).toBe(0)
    // The 100-byte value's record: length varint + attributes, deltas, key/value lengths, value, header count.
    expect(m.recordSize.max(now)).toBeGreaterThan(100)
    expect(m.recordSize.max(now)).toBeLessThan(110)
    expect(m.queueTime.max(now)).toBe(7)
    expect(m.recordsPerRequest.avg(now)).toBe(2)
    expect(m.recordsPerRequest.countRate(now)).toBeGreaterThan(0) // request-rate
  })

  it('records retries and errors per topic, and batch splits', () => {
    const s = setup({ retries: 1 })
    s.append(0, 'a')
    s.append(0, 'b')
    s.pass()
    let [req] = s.client.pending()
    s.client.respond(req!, produceAnswer(req!, ErrorCode.NOT_LEADER_OR_FOLLOWER))
    s.client.deliver(now)
    const t = s.stats.topics.get(TOPIC)!
    expect(s.stats.retries.totalSum).toBe(2)
    expect(t.retries.totalSum).toBe(2)
    expect(s.stats.retries.totalSum).toBe(2)
    now += 10_000
    s.metadata.update(clusterView([1, 2]), now)
    s.pass()
    ;[req] = s.client.pending()
    s.client.respond(req!, produceAnswer(req!, ErrorCode.NOT_LEADER_OR_FOLLOWER))
    s.client.deliver(now)
    expect(s.stats.errors.totalSum).toBe(2)
    expect(t.errors.totalSum).toBe(2)
    expect(s.stats.errors.rate(now)).toBeGreaterThan(0)

    const split = setup()
    split.append(0, 'a')
    split.append(0, 'b')
    split.pass()
    const [whole] = split.client.pending()
    split.client.respond(whole!, produceAnswer(whole!, ErrorCode.MESSAGE_TOO_LARGE))
    split.client.deliver(now)
    expect(split.stats.batchSplit.totalCount).toBe(1)
    expect(split.stats.batchSplit.totalCount).toBe(1)
    expect(split.stats.batchSplit.rate(now)).toBeGreaterThan(0)
  })
})

describe('Sender: a leader that rejects authentication', () => {
  it("fails that leader's queued batches at once with the TLS/SASL error, keeps other leaders' flowing, and sends again once it authenticates", () => {
    const s = setup({ idempotent: true })
    // The producer id first, from node 1, before node 1 starts rejecting us.
    s.client.setReady(1, true)
    s.client.setReady(2, true)
    s.pass()
    s.client.respond(s.client.sentOf('InitProducerId')[0]!, initProducerIdAnswer(0))
    s.pass()
    const authError = new KafkaAuthenticationError('SASL SCRAM-SHA-512 authentication with broker broker1:9092 (node 1) failed (SASL_AUTHENTICATION_FAILED)')
    s.client.setReady(1, false, 800)
    s.client.authErrors.set(1, authError)
    const toNode1 = [s.append(0, 'a0'), s.append(0, 'a1')]
    const toNode2 = s.append(1, 'b0')
    s.pass()
    for (const o of toNode1) expect(o).toMatchObject({ calls: 1, err: authError })
    expect(s.accumulator.batchesFor(TOPIC, 0)).toHaveLength(0)
    expect(s.client.sentOf('Produce').map((r) => r.destination)).toEqual([2])
    s.client.respond(s.client.sentOf('Produce')[0]!, produceAnswer(s.client.sentOf('Produce')[0]!))
    s.pass()
    expect(toNode2).toMatchObject({ calls: 1, err: null })
    // Reconnecting (the error no longer stands): new records wait for the outcome rather than failing.
    s.client.authErrors.delete(1)
    const later = s.append(0, 'later')
    s.pass()
    expect(later.calls).toBe(0)
    s.client.setReady(1, true)
    s.pass()
    const again = s.client.sentOf('Produce').filter((r) => r.destination === 1)
    expect(again).toHaveLength(1)
    expect(valuesIn(again[0]!)).toEqual(['later'])
    s.client.respond(again[0]!, produceAnswer(again[0]!))
    s.pass()
    expect(later).toMatchObject({ calls: 1, err: null })
    expect(s.pool.availableMemory()).toBe(1 << 20) // the failed batches' memory came back too
  })
})
