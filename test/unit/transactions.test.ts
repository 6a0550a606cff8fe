/**
 * The transactional producer's state machine and request order (Java's
 * TransactionManagerTest, in spirit): the real TransactionManager, Sender,
 * accumulator and buffer pool against a scripted network client and a fake
 * clock. Each test calls the manager's application-side methods as
 * KafkaProducer does, runs Sender passes, and answers the requests it sends.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { type MetadataResponseView, ProducerMetadata } from '../../src/clients/metadata.js'
import {
  KafkaCompressionError,
  KafkaFatalProducerError,
  KafkaTransactionAbortableError,
  KafkaTransactionAbortedError,
  KafkaTimeoutError,
  KafkaTransactionStateError,
} from '../../src/errors.js'
import type {
  AddOffsetsToTxnResponse,
  AddPartitionsToTxnRequest,
  AddPartitionsToTxnResponse,
  EndTxnRequest,
  EndTxnResponse,
  FindCoordinatorRequest,
  FindCoordinatorResponse,
  InitProducerIdRequest,
  InitProducerIdResponse,
  ProduceRequest,
  ProduceResponse,
  TxnOffsetCommitRequest,
  TxnOffsetCommitResponse,
} from '../../src/protocol/apis/index.js'
import type { BatchCompression } from '../../src/protocol/compression/index.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { KafkaProducer } from '../../src/producer/kafka-producer.js'
import { BufferPool } from '../../src/producer/buffer-pool.js'
import { ProducerMetrics } from '../../src/producer/metrics.js'
import { APPEND_NEEDS_MEMORY, RecordAccumulator } from '../../src/producer/record-accumulator.js'
import type { SendCallback } from '../../src/producer/record.js'
import { Sender } from '../../src/producer/sender.js'
import { TransactionManager } from '../../src/producer/transaction-manager.js'
import type { TransactionalResult } from '../../src/producer/transactions/transactional-result.js'
import { decodeRecordBatches } from '../harness/record-batch-decoder.js'
import { ScriptedClient, type ScriptedRequest, scriptedProducer, until } from '../harness/scripted-client.js'

const T0 = 1_700_000_000_000
const TOPIC = 't'
const TXN_ID = 'txn-1'
const MID = (): number => 0.5

let now = T0
const clock = (): number => now

beforeEach(() => {
  now = T0
})

function clusterView(): MetadataResponseView {
  return {
    brokers: [1, 2].map((id) => ({ nodeId: id, host: `broker${id}`, port: 9092, rack: null })),
    clusterId: 'scripted',
    controllerId: 1,
    topics: [
      {
        errorCode: 0,
        name: TOPIC,
        partitions: [1, 2].map((leader, i) => ({ errorCode: 0, partitionIndex: i, leaderId: leader, leaderEpoch: 0, replicaNodes: [leader], isrNodes: [leader] })),
      },
    ],
  }
}

/**
 * Versions brokers 1 and 2 negotiated (Kafka 4.x), and `transaction.version` as the cluster finalized it.
 * `initProducerIdVersion` below 3: a coordinator without KIP-360, which cannot bump a producer's epoch.
 */
function setup(transactionVersion: 1 | 2, compression?: BatchCompression, initProducerIdVersion = 6) {
  const metadata = new ProducerMetadata([{ host: 'bootstrap', port: 9092 }], 300_000, 300_000, 100, 1000, MID)
  metadata.add(TOPIC, now)
  metadata.update(clusterView(), now)
  const client = new ScriptedClient(metadata, clock, 5)
  const versions = { Produce: 12, FindCoordinator: 6, InitProducerId: initProducerIdVersion, AddPartitionsToTxn: 5, AddOffsetsToTxn: 4, EndTxn: 5, TxnOffsetCommit: 6 }
  client.apiVersions = { '1': versions, '2': versions }
  client.features = { epoch: 7n, levels: new Map([['transaction.version', transactionVersion]]) }
  const tm = new TransactionManager({ transactionalId: TXN_ID, transactionTimeoutMs: 60_000, retryBackoffMs: 100, finalizedFeatures: () => client.finalizedFeatures() })
  const pool = new BufferPool(1 << 20, 16384)
  const accumulator = new RecordAccumulator({
    batchSize: 16384,
    lingerMs: 0,
    deliveryTimeoutMs: 120_000,
    retryBackoffMs: 100,
    retryBackoffMaxMs: 1000,
    bufferPool: pool,
    random: MID,
    producerState: tm,
    ...(compression !== undefined ? { compression } : {}),
  })
  const stats = new ProducerMetrics()
  const sender = new Sender(
    client,
    metadata,
    accumulator,
    stats,
    { acks: -1, requestTimeoutMs: 30_000, deliveryTimeoutMs: 120_000, maxRequestSize: 1 << 20, retries: 2147483647, retryBackoffMs: 100, guaranteeMessageOrder: false },
    clock,
    tm,
  )

  interface Outcome {
    calls: number
    err: Error | null
  }
  /** A send as KafkaProducer makes it: state check, append, then the partition joins the transaction. */
  function send(partition: number, value = 'v'): Outcome {
    const o: Outcome = { calls: 0, err: null }
    const cb: SendCallback = (err) => {
      o.calls++
      o.err = err
    }
    tm.ensureSendAllowed()
    const r = accumulator.append(TOPIC, partition, now, null, value, null, cb, null, now, metadata.cluster)
    if (r === APPEND_NEEDS_MEMORY) throw new Error('out of memory')
    tm.maybeAddPartition(TOPIC, r.partition)
    return o
  }

  /** One Sender pass between two deliveries: answers queued before it are handled first, as after a poll. */
  function pass(): number {
    client.deliver(now)
    const wait = sender.runOnce(now)
    client.deliver(now)
    return wait
  }

  /** The requests sent since the last call, by API name. */
  let seen = 0
  function newRequests(): ScriptedRequest[] {
    const out = client.requests.slice(seen)
    seen = client.requests.length
    return out
  }

  function only(api: string): ScriptedRequest {
    const reqs = newRequests()
    expect(reqs.map((r) => r.api)).toEqual([api])
    return reqs[0]!
  }

  /** initTransactions() to completion: FindCoordinator (coordinator: node 1), then InitProducerId → (1000, 0). */
  async function init(): Promise<void> {
    const result = tm.initializeTransactions()
    pass()
    const find = only('FindCoordinator')
    expect(find.body as FindCoordinatorRequest).toEqual({ keyType: 1, coordinatorKeys: [TXN_ID] })
    client.respond(find, findCoordinatorAnswer(1))
    pass()
    const initReq = only('InitProducerId')
    expect(initReq.destination).toBe(1)
    expect(initReq.body as InitProducerIdRequest).toEqual({
      transactionalId: TXN_ID,
      transactionTimeoutMs: 60_000,
      ...(initProducerIdVersion >= 3 ? { producerId: -1n, producerEpoch: -1 } : {}),
    })
    client.respond(initReq, initAnswer(0, 1000n, 0))
    pass()
    await outcome(tm, result)
    tm.maybeUpdateTransactionV2Enabled(true)
    expect(tm.state).toBe('READY')
  }

  return { metadata, client, tm, accumulator, sender, send, pass, newRequests, only, init }
}

/**
 * What KafkaProducer's awaitTransactional does with a result: wait for its
 * outcome, then acknowledge it (success or failure), so the manager lets a
 * different init/commit/abort begin (Java's TransactionalRequestResult.await).
 */
async function outcome(tm: TransactionManager, r: TransactionalResult): Promise<void> {
  try {
    await r.promise
  } finally {
    tm.acknowledge(r)
  }
}

/**
 * Init, one record to partition 0 delivered, then a commit whose EndTxn is
 * answered with `code`. `timedOut`: the commitTransaction() call's wait timed
 * out meanwhile, so the result is not acknowledged.
 */
async function commitAnsweredWith(version: 1 | 2, code: number, timedOut = true) {
  const s = setup(version)
  await s.init()
  s.tm.beginTransaction()
  s.send(0)
  s.pass()
  if (version === 1) {
    const add = s.only('AddPartitionsToTxn')
    s.client.respond(add, addPartitionsAnswer(add))
    s.pass()
    s.pass()
  }
  const produce = s.only('Produce')
  s.client.respond(produce, produceAnswer(produce))
  const commit = s.tm.beginCommit()
  if (timedOut) s.tm.markTimedOut(commit)
  s.pass()
  s.pass()
  s.client.respond(s.only('EndTxn'), endTxnAnswer(code, version === 2 && code === 0 ? 1000n : -1n, version === 2 && code === 0 ? 1 : -1))
  s.pass()
  expect(commit.isCompleted).toBe(true)
  return { s, commit }
}

function findCoordinatorAnswer(nodeId: number, errorCode = 0): FindCoordinatorResponse {
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    errorMessage: null,
    nodeId: 0,
    host: '',
    port: 0,
    coordinators: [{ key: TXN_ID, nodeId, host: `broker${nodeId}`, port: 9092, errorCode, errorMessage: null }],
  }
}

function initAnswer(errorCode: number, producerId = -1n, producerEpoch = -1): InitProducerIdResponse {
  return { throttleTimeMs: 0, errorCode, producerId, producerEpoch, ongoingTxnProducerId: -1n, ongoingTxnProducerEpoch: -1 }
}

function addPartitionsAnswer(req: ScriptedRequest, code = 0): AddPartitionsToTxnResponse {
  const body = req.body as AddPartitionsToTxnRequest
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    resultsByTransaction: [],
    resultsByTopicV3AndBelow: body.v3AndBelowTopics!.map((t) => ({
      name: t.name,
      resultsByPartition: t.partitions.map((p) => ({ partitionIndex: p, partitionErrorCode: code })),
    })),
  }
}

function endTxnAnswer(errorCode: number, producerId = -1n, producerEpoch = -1): EndTxnResponse {
  return { throttleTimeMs: 0, errorCode, producerId, producerEpoch }
}

function produceAnswer(req: ScriptedRequest, code = 0): ProduceResponse {
  const body = req.body as ProduceRequest
  return {
    throttleTimeMs: 0,
    nodeEndpoints: [],
    topics: body.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({
        index: p.index,
        errorCode: code,
        baseOffset: code === 0 ? 0n : -1n,
        logAppendTimeMs: -1,
        logStartOffset: -1n,
        recordErrors: [],
        errorMessage: null,
      })),
    })),
  }
}

function batchHeaders(req: ScriptedRequest): { partition: number; isTransactional: boolean; producerId: bigint; producerEpoch: number; baseSequence: number }[] {
  const body = req.body as ProduceRequest
  const out = []
  for (const t of body.topics) {
    for (const p of t.partitions) {
      for (const b of decodeRecordBatches(p.records)) {
        out.push({ partition: p.index, isTransactional: b.isTransactional, producerId: b.producerId, producerEpoch: b.producerEpoch, baseSequence: b.baseSequence })
      }
    }
  }
  return out
}

type Setup = ReturnType<typeof setup>

/** One record to partition 0 of the open transaction, written at `baseOffset` (v1: its partition added first). */
function writeOneRecord(s: Setup, version: 1 | 2, baseOffset = 0n): void {
  s.send(0)
  s.pass()
  if (version === 1) {
    const add = s.only('AddPartitionsToTxn')
    s.client.respond(add, addPartitionsAnswer(add))
    s.pass()
    s.pass()
  }
  const produce = s.only('Produce')
  s.client.respond(produce, withOffsets(produceAnswer(produce), baseOffset, -1n))
  s.pass()
}

/** `res` with each partition's base offset (those without an error) and log start offset set. */
function withOffsets(res: ProduceResponse, baseOffset: bigint, logStartOffset: bigint): ProduceResponse {
  return {
    ...res,
    topics: res.topics.map((t) => ({ ...t, partitions: t.partitions.map((p) => ({ ...p, baseOffset: p.errorCode === 0 ? baseOffset : -1n, logStartOffset })) })),
  }
}

/**
 * A whole transaction after recovery: its requests carry `epoch`, its first batch starts at sequence 0, and
 * its commit completes (v2: EndTxn bumps the epoch once more).
 */
async function nextTransactionCommits(s: Setup, version: 1 | 2, epoch: number): Promise<void> {
  s.tm.beginTransaction()
  s.send(0)
  s.pass()
  if (version === 1) {
    const add = s.only('AddPartitionsToTxn')
    expect(add.body as AddPartitionsToTxnRequest).toMatchObject({ v3AndBelowProducerId: 1000n, v3AndBelowProducerEpoch: epoch })
    s.client.respond(add, addPartitionsAnswer(add))
    s.pass()
    s.pass()
  }
  const produce = s.only('Produce')
  expect(batchHeaders(produce)).toEqual([{ partition: 0, isTransactional: true, producerId: 1000n, producerEpoch: epoch, baseSequence: 0 }])
  s.client.respond(produce, produceAnswer(produce))
  s.pass()
  const commit = s.tm.beginCommit()
  s.pass()
  const end = s.only('EndTxn')
  expect(end.body as EndTxnRequest).toMatchObject({ producerId: 1000n, producerEpoch: epoch, committed: true })
  s.client.respond(end, version === 2 ? endTxnAnswer(0, 1000n, epoch + 1) : endTxnAnswer(0))
  s.pass()
  await outcome(s.tm, commit)
  expect(s.tm.state).toBe('READY')
}

describe('transactions v1 (AddPartitionsToTxn)', () => {
  it('sends FindCoordinator, InitProducerId, AddPartitionsToTxn, Produce, EndTxn in that order, one transactional request at a time', async () => {
    const s = setup(1)
    await s.init()
    expect(s.tm.isTransactionV2Enabled).toBe(false)
    s.tm.beginTransaction()
    const a = s.send(0, 'a')
    const b = s.send(1, 'b')
    s.pass()
    // No Produce before the coordinator knows the partitions are in the transaction.
    const add = s.only('AddPartitionsToTxn')
    expect(add.destination).toBe(1)
    expect(add.request.api.maxVersion).toBe(3) // v4+ is for brokers (KIP-890)
    expect(add.body).toEqual({ v3AndBelowTransactionalId: TXN_ID, v3AndBelowProducerId: 1000n, v3AndBelowProducerEpoch: 0, v3AndBelowTopics: [{ name: TOPIC, partitions: [0, 1] }] })
    s.pass()
    expect(s.newRequests()).toEqual([]) // waits for the answer
    s.client.respond(add, addPartitionsAnswer(add))
    s.pass()
    s.pass()
    const produce = s.newRequests()
    expect(produce.map((r) => r.api)).toEqual(['Produce', 'Produce'])
    for (const p of produce) {
      expect((p.body as ProduceRequest).transactionalId).toBe(TXN_ID)
      expect(p.request.api.maxVersion).toBe(11) // v12 would ask the broker to add the partition (v2 only)
      expect(batchHeaders(p)).toEqual([{ partition: p.destination - 1, isTransactional: true, producerId: 1000n, producerEpoch: 0, baseSequence: 0 }])
    }
    const commit = s.tm.beginCommit()
    expect(s.tm.state).toBe('COMMITTING_TRANSACTION')
    s.pass()
    expect(s.newRequests()).toEqual([]) // EndTxn waits for the batches
    for (const p of produce) s.client.respond(p, produceAnswer(p))
    s.pass()
    expect([a.calls, a.err, b.calls, b.err]).toEqual([1, null, 1, null])
    s.pass()
    const end = s.only('EndTxn')
    expect(end.destination).toBe(1)
    expect(end.request.api.maxVersion).toBe(4)
    expect(end.body as EndTxnRequest).toEqual({ transactionalId: TXN_ID, producerId: 1000n, producerEpoch: 0, committed: true })
    s.client.respond(end, endTxnAnswer(0))
    s.pass()
    await outcome(s.tm, commit)
    expect(s.tm.state).toBe('READY')
    expect(s.tm.producerIdAndEpoch).toEqual({ producerId: 1000n, epoch: 0 }) // v1: the epoch stays

    // The next transaction adds its partitions again, and sequences go on under the same epoch.
    s.tm.beginTransaction()
    s.send(0, 'c')
    s.pass()
    const add2 = s.only('AddPartitionsToTxn')
    s.client.respond(add2, addPartitionsAnswer(add2))
    s.pass()
    s.pass()
    expect(batchHeaders(s.only('Produce'))[0]!.baseSequence).toBe(1)
  })

  it('retries CONCURRENT_TRANSACTIONS on the first AddPartitionsToTxn after 20 ms, and finds a moved coordinator again', async () => {
    const s = setup(1)
    await s.init()
    s.tm.beginTransaction()
    s.send(0)
    s.pass()
    const add = s.only('AddPartitionsToTxn')
    s.client.respond(add, addPartitionsAnswer(add, ErrorCode.CONCURRENT_TRANSACTIONS))
    s.pass()
    expect(s.pass()).toBe(20)
    expect(s.newRequests()).toEqual([])
    now += 20
    s.pass()
    const again = s.only('AddPartitionsToTxn')
    s.client.respond(again, addPartitionsAnswer(again, ErrorCode.NOT_COORDINATOR))
    s.pass()
    s.pass()
    const find = s.only('FindCoordinator')
    s.client.respond(find, findCoordinatorAnswer(2))
    s.pass()
    now += 100 // the AddPartitionsToTxn retry backoff
    s.pass()
    const third = s.only('AddPartitionsToTxn')
    expect(third.destination).toBe(2)
    s.client.respond(third, addPartitionsAnswer(third))
    s.pass()
    s.pass()
    expect(s.newRequests().map((r) => r.api)).toEqual(['Produce'])
  })

  it('an abortable error fails the commit; abort then ends the transaction and bumps the epoch (KIP-360)', async () => {
    const s = setup(1)
    await s.init()
    s.tm.beginTransaction()
    const a = s.send(0)
    s.pass()
    const add = s.only('AddPartitionsToTxn')
    s.client.respond(add, addPartitionsAnswer(add))
    s.pass()
    s.pass()
    const produce = s.only('Produce')
    s.client.respond(produce, produceAnswer(produce, ErrorCode.TRANSACTION_ABORTABLE))
    s.pass()
    expect(a.calls).toBe(1)
    expect(a.err).toMatchObject({ name: 'KafkaBrokerError', code: 'TRANSACTION_ABORTABLE' }) // the record's own error, as Java's callback gets
    expect(s.tm.state).toBe('ABORTABLE_ERROR')
    expect(s.tm.lastError).toBeInstanceOf(KafkaTransactionAbortableError)
    expect(() => s.tm.beginCommit()).toThrow(KafkaTransactionAbortableError)
    expect(() => s.tm.ensureSendAllowed()).toThrow(KafkaTransactionAbortableError)
    const abort = s.tm.beginAbort()
    s.pass()
    const end = s.only('EndTxn')
    expect((end.body as EndTxnRequest).committed).toBe(false)
    s.client.respond(end, endTxnAnswer(0))
    s.pass()
    s.pass()
    const bump = s.only('InitProducerId')
    expect(bump.body as InitProducerIdRequest).toMatchObject({ transactionalId: TXN_ID, producerId: 1000n, producerEpoch: 0 })
    s.client.respond(bump, initAnswer(0, 1000n, 1))
    s.pass()
    await outcome(s.tm, abort)
    expect(s.tm.state).toBe('READY')
    expect(s.tm.producerIdAndEpoch).toEqual({ producerId: 1000n, epoch: 1 })
    s.tm.beginTransaction()
    s.send(0)
    s.pass()
    const add2 = s.only('AddPartitionsToTxn')
    s.client.respond(add2, addPartitionsAnswer(add2))
    s.pass()
    s.pass()
    expect(batchHeaders(s.only('Produce'))[0]).toMatchObject({ producerEpoch: 1, baseSequence: 0 })
  })

  it('abort fails records not sent yet, and skips EndTxn when nothing joined the transaction', async () => {
    const s = setup(1)
    await s.init()
    s.tm.beginTransaction()
    const a = s.send(0)
    const abort = s.tm.beginAbort()
    s.pass()
    expect(a.calls).toBe(1)
    expect(a.err).toBeInstanceOf(KafkaTransactionAbortedError)
    expect(s.newRequests()).toEqual([])
    await outcome(s.tm, abort)
    expect(s.tm.state).toBe('READY')
  })

  it('sendOffsetsToTransaction: AddOffsetsToTxn to the transaction coordinator, then TxnOffsetCommit (v4 at most) to the group coordinator', async () => {
    const s = setup(1)
    await s.init()
    s.tm.beginTransaction()
    const r = s.tm.sendOffsetsToTransaction([{ topic: 'in', partition: 3, offset: 42n }], { groupId: 'g', generationId: 5, memberId: 'm-1', groupInstanceId: null })
    s.pass()
    const addOffsets = s.only('AddOffsetsToTxn')
    expect(addOffsets.destination).toBe(1)
    expect(addOffsets.body).toEqual({ transactionalId: TXN_ID, producerId: 1000n, producerEpoch: 0, groupId: 'g' })
    s.client.respond(addOffsets, { throttleTimeMs: 0, errorCode: 0 } satisfies AddOffsetsToTxnResponse)
    s.pass()
    s.pass()
    const find = s.only('FindCoordinator')
    expect(find.body as FindCoordinatorRequest).toEqual({ keyType: 0, coordinatorKeys: ['g'] })
    s.client.respond(find, { ...findCoordinatorAnswer(2), coordinators: [{ key: 'g', nodeId: 2, host: 'broker2', port: 9092, errorCode: 0, errorMessage: null }] })
    s.pass()
    s.pass()
    const commit = s.only('TxnOffsetCommit')
    expect(commit.destination).toBe(2)
    expect(commit.request.api.maxVersion).toBe(4)
    expect(commit.body as TxnOffsetCommitRequest).toEqual({
      transactionalId: TXN_ID,
      groupId: 'g',
      producerId: 1000n,
      producerEpoch: 0,
      generationIdOrMemberEpoch: 5,
      memberId: 'm-1',
      groupInstanceId: null,
      topics: [{ name: 'in', partitions: [{ partitionIndex: 3, committedOffset: 42n, committedLeaderEpoch: -1, committedMetadata: '' }] }],
    })
    s.client.respond(commit, { throttleTimeMs: 0, topics: [{ name: 'in', topicId: '', partitions: [{ partitionIndex: 3, errorCode: 0 }] }] } satisfies TxnOffsetCommitResponse)
    s.pass()
    await outcome(s.tm, r)
    // Offsets alone make the transaction non-empty: EndTxn is sent.
    const end = s.tm.beginCommit()
    s.pass()
    s.client.respond(s.only('EndTxn'), endTxnAnswer(0))
    s.pass()
    await outcome(s.tm, end)
  })

  // Java's TxnOffsetCommitHandler: a consumer whose group metadata is out of date (KIP-447 zombie) makes the
  // transaction abortable (CommitFailedException), never the producer fatal; KIP-848's member-epoch and
  // missing-group answers mean the same.
  it.each(['ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'FENCED_INSTANCE_ID', 'STALE_MEMBER_EPOCH', 'GROUP_ID_NOT_FOUND'] as const)(
    '%s from the group is abortable, and abortTransaction() recovers',
    async (name) => {
      const s = setup(2)
      await s.init()
      s.tm.beginTransaction()
      const r = s.tm.sendOffsetsToTransaction([{ topic: 'in', partition: 0, offset: 1 }], { groupId: 'g', generationId: 1, memberId: 'old' })
      s.pass()
      const find = s.only('FindCoordinator')
      s.client.respond(find, { ...findCoordinatorAnswer(2), coordinators: [{ key: 'g', nodeId: 2, host: 'broker2', port: 9092, errorCode: 0, errorMessage: null }] })
      s.pass()
      s.pass()
      const commit = s.only('TxnOffsetCommit')
      s.client.respond(commit, { throttleTimeMs: 0, topics: [{ name: 'in', topicId: '', partitions: [{ partitionIndex: 0, errorCode: ErrorCode[name] }] }] })
      s.pass()
      await expect(outcome(s.tm, r)).rejects.toMatchObject({ name: 'KafkaTransactionAbortableError', code: name })
      expect(s.tm.state).toBe('ABORTABLE_ERROR')
      expect(s.tm.fatalError).toBeNull()
      const abort = s.tm.beginAbort()
      s.pass()
      s.client.respond(s.only('EndTxn'), endTxnAnswer(0, 1000n, 1))
      s.pass()
      await outcome(s.tm, abort)
      expect(s.tm.state).toBe('READY')
    },
  )
})

describe('a coordinator its broker throttles (KIP-219)', () => {
  it('sends the next transactional request when the throttle is over, and does not look the coordinator up again', async () => {
    const s = setup(1)
    const result = s.tm.initializeTransactions()
    s.pass()
    s.client.respond(s.only('FindCoordinator'), findCoordinatorAnswer(1))
    s.pass()
    // InitProducerId v6 (throttled by the client from v1) answered with 45 s of throttling: longer than request.timeout.ms.
    s.client.respond(s.only('InitProducerId'), { ...initAnswer(0, 1000n, 0), throttleTimeMs: 45_000 })
    s.pass()
    await outcome(s.tm, result)
    s.tm.beginTransaction()
    s.send(0)
    // The pass sleeps exactly for the throttle time left (Java: pollDelayMs), not a backoff or request.timeout.ms.
    expect(s.pass()).toBe(45_000)
    expect(s.newRequests()).toEqual([])
    now += 30_000 // request.timeout.ms of throttling: no reason to find the coordinator again
    expect(s.pass()).toBe(15_000)
    expect(s.newRequests()).toEqual([])
    now += 15_000
    s.pass()
    const add = s.only('AddPartitionsToTxn')
    expect(add.destination).toBe(1)
  })
})

describe('transactions v2 (KIP-890 part 2)', () => {
  it('adds partitions through Produce v12 and bumps the epoch with every EndTxn', async () => {
    const s = setup(2)
    await s.init()
    expect(s.tm.isTransactionV2Enabled).toBe(true)
    s.tm.beginTransaction()
    s.send(0)
    s.pass()
    const produce = s.only('Produce') // no AddPartitionsToTxn
    expect(produce.request.api.maxVersion).toBe(12)
    expect((produce.body as ProduceRequest).transactionalId).toBe(TXN_ID)
    expect(batchHeaders(produce)[0]).toMatchObject({ isTransactional: true, producerEpoch: 0, baseSequence: 0 })
    s.client.respond(produce, produceAnswer(produce))
    const commit = s.tm.beginCommit()
    s.pass()
    s.pass()
    const end = s.only('EndTxn')
    expect(end.request.api.maxVersion).toBe(5)
    s.client.respond(end, endTxnAnswer(0, 1000n, 1))
    s.pass()
    await outcome(s.tm, commit)
    expect(s.tm.producerIdAndEpoch).toEqual({ producerId: 1000n, epoch: 1 })
    s.tm.beginTransaction()
    s.send(0)
    s.pass()
    expect(batchHeaders(s.only('Produce'))[0]).toMatchObject({ producerEpoch: 1, baseSequence: 0 })
  })

  it('a batch whose codec failed makes the transaction abortable: its records are not silently left out of a commit', async () => {
    let reject!: (e: Error) => void
    const failing: BatchCompression = {
      codec: 'zstd',
      id: 4,
      level: 3,
      compress: () => new Promise<Buffer>((_, r) => (reject = r)),
      decompress: (b) => Promise.resolve(b),
    }
    const s = setup(2, failing)
    await s.init()
    s.tm.beginTransaction()
    const a = s.send(0)
    s.pass() // ready() starts the codec
    reject(new Error('zstd context lost'))
    await new Promise((r) => setImmediate(r))
    s.pass()
    expect(a.calls).toBe(1)
    expect(a.err).toBeInstanceOf(KafkaCompressionError)
    expect(a.err).toMatchObject({ code: 'COMPRESSION', codec: 'zstd' })
    expect(s.tm.state).toBe('ABORTABLE_ERROR')
    expect(s.tm.lastError).toBeInstanceOf(KafkaTransactionAbortableError)
    expect(s.tm.lastError!.message).toMatch(/zstd context lost/)
    expect(() => s.tm.beginCommit()).toThrow(KafkaTransactionAbortableError)
    expect(s.newRequests().map((r) => r.api)).toEqual([]) // nothing of it was produced
  })

  it('sends TxnOffsetCommit (v5) without AddOffsetsToTxn', async () => {
    const s = setup(2)
    await s.init()
    s.tm.beginTransaction()
    s.tm.sendOffsetsToTransaction([{ topic: 'in', partition: 0, offset: 7n }], { groupId: 'g' })
    s.pass()
    const find = s.only('FindCoordinator')
    s.client.respond(find, { ...findCoordinatorAnswer(1), coordinators: [{ key: 'g', nodeId: 1, host: 'broker1', port: 9092, errorCode: 0, errorMessage: null }] })
    s.pass()
    s.pass()
    const commit = s.only('TxnOffsetCommit')
    expect(commit.request.api.maxVersion).toBe(5)
    expect(commit.body).toMatchObject({ generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null })
  })

  it('an abort after an abortable error needs no InitProducerId: EndTxn v5 bumps the epoch', async () => {
    const s = setup(2)
    await s.init()
    s.tm.beginTransaction()
    s.send(0)
    s.pass()
    const produce = s.only('Produce')
    s.client.respond(produce, produceAnswer(produce, ErrorCode.INVALID_PRODUCER_EPOCH))
    s.pass()
    expect(s.tm.state).toBe('ABORTABLE_ERROR') // KIP-588: on Produce, abortable, not fatal
    const abort = s.tm.beginAbort()
    s.pass()
    s.client.respond(s.only('EndTxn'), endTxnAnswer(0, 1000n, 2))
    s.pass()
    s.pass()
    expect(s.newRequests()).toEqual([])
    await outcome(s.tm, abort)
    expect(s.tm.producerIdAndEpoch.epoch).toBe(2)
  })
})

describe('fatal errors and misuse', () => {
  it('PRODUCER_FENCED on EndTxn fails the commit and every later call with KafkaFatalProducerError', async () => {
    const { s, commit } = await commitAnsweredWith(2, ErrorCode.PRODUCER_FENCED, false)
    await expect(outcome(s.tm, commit)).rejects.toBeInstanceOf(KafkaFatalProducerError)
    await expect(outcome(s.tm, commit)).rejects.toMatchObject({ code: 'PRODUCER_FENCED' })
    expect(s.tm.state).toBe('FATAL_ERROR')
    expect(() => s.tm.beginTransaction()).toThrow(KafkaFatalProducerError)
    expect(() => s.tm.ensureSendAllowed()).toThrow(KafkaFatalProducerError)
    expect(() => s.tm.beginAbort()).toThrow(KafkaFatalProducerError)
  })

  it('INVALID_PRODUCER_EPOCH from InitProducerId means fenced (Java maps it to PRODUCER_FENCED)', async () => {
    const s = setup(1)
    const result = s.tm.initializeTransactions()
    s.pass()
    s.client.respond(s.only('FindCoordinator'), findCoordinatorAnswer(1))
    s.pass()
    s.client.respond(s.only('InitProducerId'), initAnswer(ErrorCode.INVALID_PRODUCER_EPOCH))
    s.pass()
    await expect(outcome(s.tm, result)).rejects.toMatchObject({ name: 'KafkaFatalProducerError', code: 'PRODUCER_FENCED' })
  })

  it('retries coordinator errors: COORDINATOR_LOAD_IN_PROGRESS with backoff, NOT_COORDINATOR with a new lookup', async () => {
    const s = setup(2)
    const result = s.tm.initializeTransactions()
    s.pass()
    s.client.respond(s.only('FindCoordinator'), findCoordinatorAnswer(1, ErrorCode.COORDINATOR_NOT_AVAILABLE))
    s.pass()
    expect(s.pass()).toBe(100)
    now += 100
    s.pass()
    s.client.respond(s.only('FindCoordinator'), findCoordinatorAnswer(1))
    s.pass()
    s.client.respond(s.only('InitProducerId'), initAnswer(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS))
    s.pass()
    now += 100
    s.pass()
    s.client.respond(s.only('InitProducerId'), initAnswer(ErrorCode.NOT_COORDINATOR))
    s.pass()
    s.pass()
    s.client.respond(s.only('FindCoordinator'), findCoordinatorAnswer(2))
    s.pass()
    now += 100
    s.pass()
    const init = s.only('InitProducerId')
    expect(init.destination).toBe(2)
    s.client.respond(init, initAnswer(0, 5n, 0))
    s.pass()
    await outcome(s.tm, result)
  })

  it('a disconnect from the coordinator looks it up again and resends', async () => {
    const s = setup(2)
    await s.init()
    s.tm.beginTransaction()
    s.tm.sendOffsetsToTransaction([{ topic: 'in', partition: 0, offset: 1 }], 'g' as never)
    const commit = s.tm.beginCommit()
    void commit
    s.pass()
    const find = s.only('FindCoordinator')
    s.client.disconnect(find.destination)
    s.pass()
    now += 100
    s.pass()
    expect(s.only('FindCoordinator').api).toBe('FindCoordinator')
  })

  it('misuse is a KafkaTransactionStateError naming the state, and changes nothing', async () => {
    const s = setup(2)
    const state = (f: () => unknown): string => {
      try {
        f()
      } catch (err) {
        expect(err).toBeInstanceOf(KafkaTransactionStateError)
        return (err as KafkaTransactionStateError).state
      }
      throw new Error('expected a KafkaTransactionStateError')
    }
    expect(state(() => s.tm.beginTransaction())).toBe('UNINITIALIZED')
    expect(state(() => s.tm.ensureSendAllowed())).toBe('UNINITIALIZED')
    await s.init()
    expect(state(() => s.tm.beginCommit())).toBe('READY')
    expect(state(() => s.tm.beginAbort())).toBe('READY')
    expect(state(() => s.tm.ensureSendAllowed())).toBe('READY')
    expect(state(() => s.tm.sendOffsetsToTransaction([], { groupId: 'g' }))).toBe('READY')
    expect(state(() => s.tm.initializeTransactions())).toBe('READY')
    s.tm.beginTransaction()
    expect(state(() => s.tm.beginTransaction())).toBe('IN_TRANSACTION')
    expect(s.tm.state).toBe('IN_TRANSACTION')
    const idempotent = new TransactionManager()
    expect(state(() => idempotent.beginTransaction())).toBe('NOT_TRANSACTIONAL')
  })
})

describe('a call repeated after a max.block.ms timeout (Java: pendingTransition)', () => {
  it('commitTransaction() again gets the same result once the commit completed meanwhile, with no second EndTxn', async () => {
    const { s, commit } = await commitAnsweredWith(1, 0)
    expect(s.tm.state).toBe('READY')
    // Only the timed-out call may be made until the application has seen its outcome.
    expect(() => s.tm.beginTransaction()).toThrow(/previous call to commitTransaction\(\) timed out and has completed since/)
    expect(() => s.tm.beginAbort()).toThrow(KafkaTransactionStateError)
    const again = s.tm.beginCommit()
    expect(again).toBe(commit)
    s.pass()
    expect(s.newRequests()).toEqual([])
    await outcome(s.tm, again)
    s.tm.beginTransaction()
    expect(s.tm.state).toBe('IN_TRANSACTION')
  })

  it('while the call that began the commit still awaits it, other calls are told it is in progress, not that it timed out', async () => {
    const s = setup(2)
    await s.init()
    s.tm.beginTransaction()
    s.send(0)
    const commit = s.tm.beginCommit()
    expect(() => s.tm.ensureSendAllowed()).toThrow(/Cannot send because commitTransaction\(\) is in progress; await its outcome first/)
    expect(() => s.tm.beginAbort()).toThrow(/commitTransaction\(\) is in progress/)
    s.tm.markTimedOut(commit)
    expect(() => s.tm.ensureSendAllowed()).toThrow(/previous call to commitTransaction\(\) timed out and is still in progress/)
  })

  it('initTransactions() again gets the same result once InitProducerId completed meanwhile', async () => {
    const s = setup(2)
    const first = s.tm.initializeTransactions()
    s.pass()
    s.client.respond(s.only('FindCoordinator'), findCoordinatorAnswer(1))
    s.pass()
    s.client.respond(s.only('InitProducerId'), initAnswer(0, 1000n, 0))
    s.pass()
    expect(s.tm.state).toBe('READY')
    const again = s.tm.initializeTransactions()
    expect(again).toBe(first)
    await outcome(s.tm, again)
    expect(s.newRequests()).toEqual([])
    s.tm.beginTransaction()
  })

  it('abortTransaction() after a fatal error throws the fatal error, even while the failed commit was not seen', async () => {
    const { s, commit } = await commitAnsweredWith(2, ErrorCode.PRODUCER_FENCED)
    expect(s.tm.state).toBe('FATAL_ERROR')
    expect(() => s.tm.beginAbort()).toThrow(KafkaFatalProducerError)
    expect(() => s.tm.beginTransaction()).toThrow(KafkaFatalProducerError)
    // The repeated commit gets its own outcome: the fatal error.
    expect(s.tm.beginCommit()).toBe(commit)
    await expect(outcome(s.tm, commit)).rejects.toMatchObject({ name: 'KafkaFatalProducerError', code: 'PRODUCER_FENCED' })
    expect(() => s.tm.beginAbort()).toThrow(KafkaFatalProducerError)
  })
})

describe('commitTransaction() with a record that fails', () => {
  it('sends the records first and fails with their error; no EndTxn goes out (Java: maybeTerminateRequestWithError)', async () => {
    const s = setup(2)
    await s.init()
    s.tm.beginTransaction()
    const a = s.send(0)
    const commit = s.tm.beginCommit()
    s.pass()
    const produce = s.only('Produce') // the commit sends what is buffered, ignoring linger
    s.client.respond(produce, produceAnswer(produce, ErrorCode.TRANSACTION_ABORTABLE))
    s.pass()
    s.pass()
    expect(a.err).toMatchObject({ code: 'TRANSACTION_ABORTABLE' })
    await expect(outcome(s.tm, commit)).rejects.toMatchObject({ name: 'KafkaTransactionAbortableError', code: 'TRANSACTION_ABORTABLE' })
    expect(s.client.sentOf('EndTxn')).toEqual([])
    expect(s.tm.state).toBe('ABORTABLE_ERROR')
  })
})

describe('EndTxn(abort) answered with an abortable error', () => {
  // Java fails the abort and stays ABORTING_TRANSACTION (transitionToAbortableError skips), where no call is
  // valid any more; here the producer becomes fatal instead of stuck, and says why, also when the coordinator
  // can bump epochs: it still holds the transaction open at this epoch, so an InitProducerId would be fenced.
  it.each([
    { name: 'TRANSACTION_ABORTABLE', version: 2, initProducerIdVersion: 6 },
    { name: 'UNKNOWN_PRODUCER_ID', version: 1, initProducerIdVersion: 2 },
    { name: 'UNKNOWN_PRODUCER_ID', version: 1, initProducerIdVersion: 6 },
    { name: 'UNKNOWN_PRODUCER_ID', version: 2, initProducerIdVersion: 6 },
  ] as const)('$name (transaction.version $version, InitProducerId v$initProducerIdVersion) makes the producer fatal, not stuck in ABORTING_TRANSACTION', async ({ name, version, initProducerIdVersion }) => {
    const s = setup(version, undefined, initProducerIdVersion)
    await s.init()
    s.tm.beginTransaction()
    await writeOneRecord(s, version)
    const abort = s.tm.beginAbort()
    s.pass()
    const end = s.only('EndTxn')
    expect((end.body as EndTxnRequest).committed).toBe(false)
    s.client.respond(end, endTxnAnswer(ErrorCode[name]))
    s.pass()
    await expect(outcome(s.tm, abort)).rejects.toMatchObject({ name: 'KafkaFatalProducerError', code: name })
    expect(s.tm.state).toBe('FATAL_ERROR')
    expect(() => s.tm.beginAbort()).toThrow(KafkaFatalProducerError)
    expect(() => s.tm.beginTransaction()).toThrow(KafkaFatalProducerError)
    expect(() => s.tm.ensureSendAllowed()).toThrow(KafkaFatalProducerError)
    expect(s.client.sentOf('InitProducerId')).toHaveLength(1) // initTransactions()' own: no bump was tried
  })

  it('TRANSACTION_ABORTABLE on EndTxn(commit) stays abortable: abort recovers', async () => {
    const { s, commit } = await commitAnsweredWith(2, ErrorCode.TRANSACTION_ABORTABLE, false)
    await expect(outcome(s.tm, commit)).rejects.toBeInstanceOf(KafkaTransactionAbortableError)
    expect(s.tm.state).toBe('ABORTABLE_ERROR')
    const abort = s.tm.beginAbort()
    s.pass()
    s.client.respond(s.only('EndTxn'), endTxnAnswer(0, 1000n, 2))
    s.pass()
    await outcome(s.tm, abort)
    expect(s.tm.state).toBe('READY')
  })
})

/**
 * The same through KafkaProducer (its max.block.ms wait and its waiting
 * sends), on a scripted client. The producer's loop runs on the event loop,
 * so these wait for requests with real (short) timers.
 */
/**
 * Java's abortableErrorIfPossible: UNKNOWN_PRODUCER_ID answering AddPartitionsToTxn, AddOffsetsToTxn or EndTxn
 * makes the transaction abortable when the coordinator can bump the epoch (InitProducerId v3+, KIP-360), and
 * the abort then bumps it with InitProducerId carrying the current id and epoch; without KIP-360 it is fatal.
 * On Produce it is abortable either way (maybeTransitionToErrorState). TxnOffsetCommit has no case for it in
 * Java (fatal, as any unexpected error).
 */
describe('UNKNOWN_PRODUCER_ID on transactional requests (Java: abortableErrorIfPossible)', () => {
  type Kind = 'AddPartitionsToTxn' | 'AddOffsetsToTxn' | 'EndTxn(commit)' | 'Produce'
  const UNKNOWN = ErrorCode.UNKNOWN_PRODUCER_ID

  /**
   * In a v1 transaction, has `kind` answered with UNKNOWN_PRODUCER_ID. Returns the result the application
   * awaits for it (null: none, the error shows in the state), and whether anything joined the transaction at
   * the coordinator (so the abort sends EndTxn).
   */
  function provoke(s: Setup, kind: Kind): { result: TransactionalResult | null; started: boolean } {
    s.tm.beginTransaction()
    switch (kind) {
      case 'AddPartitionsToTxn': {
        s.send(0)
        s.pass()
        const add = s.only('AddPartitionsToTxn')
        s.client.respond(add, addPartitionsAnswer(add, UNKNOWN))
        s.pass()
        return { result: null, started: false }
      }
      case 'AddOffsetsToTxn': {
        const result = s.tm.sendOffsetsToTransaction([{ topic: 'in', partition: 0, offset: 1n }], { groupId: 'g' })
        s.pass()
        s.client.respond(s.only('AddOffsetsToTxn'), { throttleTimeMs: 0, errorCode: UNKNOWN } satisfies AddOffsetsToTxnResponse)
        s.pass()
        return { result, started: false }
      }
      case 'EndTxn(commit)': {
        writeOneRecord(s, 1)
        const result = s.tm.beginCommit()
        s.pass()
        s.client.respond(s.only('EndTxn'), endTxnAnswer(UNKNOWN))
        s.pass()
        return { result, started: true }
      }
      case 'Produce': {
        // The first batch is acknowledged at offset 5; the broker then no longer knows the producer although
        // its log still starts at 0, below that offset: not retention, the batch fails (Java's canRetry).
        writeOneRecord(s, 1, 5n)
        const r = s.send(0)
        s.pass()
        const produce = s.only('Produce')
        s.client.respond(produce, withOffsets(produceAnswer(produce, UNKNOWN), -1n, 0n))
        s.pass()
        expect(r.err).toMatchObject({ code: 'UNKNOWN_PRODUCER_ID' })
        return { result: null, started: true }
      }
    }
  }

  it.each(['AddPartitionsToTxn', 'AddOffsetsToTxn', 'EndTxn(commit)', 'Produce'] as const)(
    '%s: abortable when the coordinator can bump the epoch; abortTransaction() bumps it with InitProducerId and the next transaction runs on it',
    async (kind) => {
      const s = setup(1)
      await s.init()
      const { result, started } = provoke(s, kind)
      if (result !== null) await expect(outcome(s.tm, result)).rejects.toMatchObject({ name: 'KafkaTransactionAbortableError', code: 'UNKNOWN_PRODUCER_ID' })
      expect(s.tm.state).toBe('ABORTABLE_ERROR')
      expect(s.tm.fatalError).toBeNull()
      expect(() => s.tm.beginCommit()).toThrow(KafkaTransactionAbortableError)
      const abort = s.tm.beginAbort()
      s.pass()
      if (started) {
        const end = s.only('EndTxn')
        expect(end.body as EndTxnRequest).toMatchObject({ producerId: 1000n, producerEpoch: 0, committed: false })
        s.client.respond(end, endTxnAnswer(0))
        s.pass()
        s.pass()
      }
      const bump = s.only('InitProducerId')
      expect(bump.body as InitProducerIdRequest).toEqual({ transactionalId: TXN_ID, transactionTimeoutMs: 60_000, producerId: 1000n, producerEpoch: 0 })
      s.client.respond(bump, initAnswer(0, 1000n, 1))
      s.pass()
      await outcome(s.tm, abort)
      expect(s.tm.state).toBe('READY')
      expect(s.tm.producerIdAndEpoch).toEqual({ producerId: 1000n, epoch: 1 })
      await nextTransactionCommits(s, 1, 1)
    },
  )

  it.each(['AddPartitionsToTxn', 'AddOffsetsToTxn', 'EndTxn(commit)'] as const)(
    '%s: fatal when the coordinator cannot bump the epoch (InitProducerId v2, before KIP-360)',
    async (kind) => {
      const s = setup(1, undefined, 2)
      await s.init()
      const { result } = provoke(s, kind)
      if (result !== null) await expect(outcome(s.tm, result)).rejects.toMatchObject({ name: 'KafkaFatalProducerError', code: 'UNKNOWN_PRODUCER_ID' })
      expect(s.tm.state).toBe('FATAL_ERROR')
      expect(s.tm.fatalError).toMatchObject({ code: 'UNKNOWN_PRODUCER_ID' })
      expect(() => s.tm.beginAbort()).toThrow(KafkaFatalProducerError)
      expect(() => s.tm.beginTransaction()).toThrow(KafkaFatalProducerError)
    },
  )

  it('Produce: abortable even when the coordinator cannot bump the epoch; the abort sends EndTxn only and the next transaction keeps the epoch', async () => {
    const s = setup(1, undefined, 2)
    await s.init()
    provoke(s, 'Produce')
    expect(s.tm.state).toBe('ABORTABLE_ERROR')
    const abort = s.tm.beginAbort()
    s.pass()
    s.client.respond(s.only('EndTxn'), endTxnAnswer(0))
    s.pass()
    s.pass()
    expect(s.newRequests()).toEqual([])
    await outcome(s.tm, abort)
    expect(s.tm.producerIdAndEpoch).toEqual({ producerId: 1000n, epoch: 0 })
    await nextTransactionCommits(s, 1, 0)
  })

  it('TxnOffsetCommit: fatal, as in Java (its handler has no case for it)', async () => {
    const s = setup(2)
    await s.init()
    s.tm.beginTransaction()
    const r = s.tm.sendOffsetsToTransaction([{ topic: 'in', partition: 0, offset: 1n }], { groupId: 'g' })
    s.pass()
    s.client.respond(s.only('FindCoordinator'), { ...findCoordinatorAnswer(2), coordinators: [{ key: 'g', nodeId: 2, host: 'broker2', port: 9092, errorCode: 0, errorMessage: null }] })
    s.pass()
    s.pass()
    s.client.respond(s.only('TxnOffsetCommit'), { throttleTimeMs: 0, topics: [{ name: 'in', topicId: '', partitions: [{ partitionIndex: 0, errorCode: UNKNOWN }] }] })
    s.pass()
    await expect(outcome(s.tm, r)).rejects.toMatchObject({ name: 'KafkaFatalProducerError', code: 'UNKNOWN_PRODUCER_ID' })
  })
})

describe('KafkaProducer transactional calls on a scripted client', () => {
  const producers: KafkaProducer[] = []
  afterEach(async () => {
    await Promise.all(producers.splice(0).map((p) => p.close({ timeoutMs: 0 })))
  })

  async function nextOf(client: ScriptedClient, api: string, n: number): Promise<ScriptedRequest> {
    await until(() => client.sentOf(api).length >= n, `${api} #${n}`)
    return client.sentOf(api)[n - 1]!
  }

  /**
   * A transactional producer (transactions v2) on the scripted client; `init()` runs initTransactions() to
   * completion. `time`: the producer's clock (default Date.now); `config`: more producer options.
   */
  function transactionalProducer(maxBlockMs: number, options: { time?: () => number; config?: Record<string, unknown> } = {}) {
    const { producer, client, metadata } = scriptedProducer({
      config: { transactionalId: TXN_ID, lingerMs: 0, maxBlockMs, ...options.config },
      view: clusterView(),
      random: MID,
      ...(options.time !== undefined ? { time: options.time } : {}),
      setup: (c) => {
        const versions = { Produce: 12, FindCoordinator: 6, InitProducerId: 6, AddPartitionsToTxn: 5, AddOffsetsToTxn: 4, EndTxn: 5, TxnOffsetCommit: 6 }
        c.apiVersions = { '1': versions, '2': versions }
        c.features = { epoch: 7n, levels: new Map([['transaction.version', 2]]) }
      },
    })
    producers.push(producer)
    const init = async (): Promise<void> => {
      const done = producer.initTransactions()
      client().respond(await nextOf(client(), 'FindCoordinator', 1), findCoordinatorAnswer(1))
      client().respond(await nextOf(client(), 'InitProducerId', 1), initAnswer(0, 1000n, 0))
      await done
    }
    return { producer, client, metadata, init }
  }

  it('commitTransaction() that timed out (max.block.ms) can be called again and returns the outcome of the same commit', async () => {
    const { producer, client, init } = transactionalProducer(100)
    await init()
    const c = client()
    producer.beginTransaction()
    const sent = producer.send({ topic: TOPIC, partition: 0, value: 'v' })
    const produce = await nextOf(c, 'Produce', 1)
    c.respond(produce, produceAnswer(produce))
    await sent
    await expect(producer.commitTransaction()).rejects.toBeInstanceOf(KafkaTimeoutError)
    // The commit goes on after the timeout, and completes before the application calls again.
    c.respond(await nextOf(c, 'EndTxn', 1), endTxnAnswer(0, 1000n, 1))
    await until(() => c.pending().length === 0 && (producer as unknown as { txn: TransactionManager }).txn.state === 'READY', 'the commit')
    await expect(Promise.resolve().then(() => producer.beginTransaction())).rejects.toBeInstanceOf(KafkaTransactionStateError)
    await producer.commitTransaction()
    expect(c.sentOf('EndTxn')).toHaveLength(1)
    producer.beginTransaction() // the outcome was seen: the next transaction may begin
    await producer.abortTransaction()
  })

  it('a failed commit is acknowledged by the call that saw it: abortTransaction() then runs', async () => {
    const { producer, client, init } = transactionalProducer(5000)
    await init()
    const c = client()
    producer.beginTransaction()
    const sent = producer.send({ topic: TOPIC, partition: 0, value: 'v' })
    const produce = await nextOf(c, 'Produce', 1)
    c.respond(produce, produceAnswer(produce))
    await sent
    const commit = producer.commitTransaction()
    c.respond(await nextOf(c, 'EndTxn', 1), endTxnAnswer(ErrorCode.TRANSACTION_ABORTABLE))
    await expect(commit).rejects.toBeInstanceOf(KafkaTransactionAbortableError)
    const abort = producer.abortTransaction()
    c.respond(await nextOf(c, 'EndTxn', 2), endTxnAnswer(0, 1000n, 1))
    await abort
  })

  it('a send that times out waiting for metadata makes the transaction abortable: commitTransaction() rejects and no EndTxn(commit) goes out (Java: doSend → maybeTransitionToErrorState)', async () => {
    const { producer, client, init } = transactionalProducer(300)
    await init()
    const c = client()
    producer.beginTransaction()
    const sent = producer.send({ topic: TOPIC, partition: 0, value: 'written' })
    c.respond(await nextOf(c, 'Produce', 1), produceAnswer(c.sentOf('Produce')[0]!))
    await sent
    // 'never' is never in the metadata: this send fails with KafkaTimeoutError after max.block.ms.
    const lost = producer.send({ topic: 'never', partition: 0, value: 'lost' }).then(
      () => null,
      (e: Error) => e,
    )
    const commit = producer.commitTransaction()
    expect(await lost).toBeInstanceOf(KafkaTimeoutError)
    const err = await commit.then(
      () => null,
      (e: Error) => e,
    )
    expect(err).toBeInstanceOf(KafkaTransactionAbortableError)
    expect((err as Error & { cause: Error }).cause.cause).toBeInstanceOf(KafkaTimeoutError)
    expect(c.sentOf('EndTxn')).toEqual([])
    const abort = producer.abortTransaction()
    const end = await nextOf(c, 'EndTxn', 1)
    expect((end.body as EndTxnRequest).committed).toBe(false)
    c.respond(end, endTxnAnswer(0, 1000n, 1))
    await abort
  })

  it('a send refused at once in a transaction (invalid partition, record too large) makes it abortable too', async () => {
    const { producer, client, init } = transactionalProducer(5000)
    await init()
    const c = client()
    for (const record of [
      { topic: TOPIC, partition: 7, value: 'no such partition' },
      { topic: TOPIC, partition: 0, value: 'x'.repeat(2 << 20) },
    ]) {
      producer.beginTransaction()
      await expect(producer.send(record)).rejects.toThrow()
      await expect(producer.commitTransaction()).rejects.toBeInstanceOf(KafkaTransactionAbortableError)
      await producer.abortTransaction() // nothing joined the transaction: no EndTxn needed
    }
    expect(c.sentOf('EndTxn')).toEqual([])
  })

  /** Metadata learns topic 'later' (one partition, leader 1). */
  function publishLater(metadata: ProducerMetadata, nowMs = Date.now()): void {
    const view = clusterView()
    metadata.add('later', nowMs)
    metadata.update(
      {
        ...view,
        topics: [
          ...view.topics,
          { errorCode: 0, name: 'later', partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, leaderEpoch: 0, replicaNodes: [1], isrNodes: [1] }] },
        ],
      },
      nowMs,
    )
  }

  function producedValues(req: ScriptedRequest): string[] {
    const body = req.body as ProduceRequest
    return body.topics.flatMap((t) => t.partitions.flatMap((p) => decodeRecordBatches(p.records).flatMap((b) => b.records.map((r) => String(r.value)))))
  }

  it('while commitTransaction() waits for earlier sends, a later send() and sendOffsetsToTransaction() are refused, not committed (Java: beginCommit is synchronous)', async () => {
    const { producer, client, metadata, init } = transactionalProducer(5000)
    await init()
    const c = client()
    producer.beginTransaction()
    const early = producer.send({ topic: 'later', partition: 0, value: 'early' }) // waits for metadata
    const commit = producer.commitTransaction()
    const late = producer.send({ topic: TOPIC, partition: 0, value: 'late' })
    await expect(late).rejects.toBeInstanceOf(KafkaTransactionStateError)
    await expect(late).rejects.toThrow(/commitTransaction\(\) is in progress/)
    await expect(producer.sendOffsetsToTransaction([{ topic: 'in', partition: 0, offset: 1n }], 'g')).rejects.toBeInstanceOf(KafkaTransactionStateError)
    publishLater(metadata())
    const produce = await nextOf(c, 'Produce', 1)
    expect(producedValues(produce)).toEqual(['early'])
    c.respond(produce, produceAnswer(produce))
    await early
    const end = await nextOf(c, 'EndTxn', 1)
    expect((end.body as EndTxnRequest).committed).toBe(true)
    c.respond(end, endTxnAnswer(0, 1000n, 1))
    await commit
    expect(c.sentOf('Produce')).toHaveLength(1)
  })

  it('abortTransaction() while commitTransaction() waits for earlier sends is refused; the commit goes on and reports its own outcome', async () => {
    const { producer, client, metadata, init } = transactionalProducer(5000)
    await init()
    const c = client()
    producer.beginTransaction()
    const early = producer.send({ topic: 'later', partition: 0, value: 'early' })
    const commit = producer.commitTransaction()
    await expect(producer.abortTransaction()).rejects.toThrow(/Cannot abortTransaction\(\) because commitTransaction\(\) is in progress/)
    publishLater(metadata())
    const produce = await nextOf(c, 'Produce', 1)
    c.respond(produce, produceAnswer(produce))
    await early
    c.respond(await nextOf(c, 'EndTxn', 1), endTxnAnswer(0, 1000n, 1))
    await commit
    expect(c.sentOf('EndTxn').map((r) => (r.body as EndTxnRequest).committed)).toEqual([true])
  })

  it('transaction(): an abort that times out after fn threw is not swallowed: its error is the rethrown error\'s cause, and abortTransaction() again finishes it', async () => {
    const { producer, client, init } = transactionalProducer(200)
    await init()
    const c = client()
    const failure = new Error('fn failed')
    const thrown = await producer
      .transaction(async () => {
        const sent = producer.send({ topic: TOPIC, partition: 0, value: 'v' })
        const produce = await nextOf(c, 'Produce', 1)
        c.respond(produce, produceAnswer(produce))
        await sent
        throw failure
      })
      .then(
        () => null,
        (e: unknown) => e,
      )
    expect(thrown).toBe(failure)
    expect(failure.cause).toBeInstanceOf(KafkaTimeoutError) // EndTxn(abort) was never answered
    expect((failure as Error & { abortError?: unknown }).abortError).toBe(failure.cause)
    expect(() => producer.beginTransaction()).toThrow(/abortTransaction\(\) timed out/)
    const abort = producer.abortTransaction()
    c.respond(await nextOf(c, 'EndTxn', 1), endTxnAnswer(0, 1000n, 1))
    await abort
    producer.beginTransaction()
  })

  it('a send waiting for metadata whose transaction was aborted fails with KafkaTransactionAbortedError when no transaction was begun since (state READY)', async () => {
    const { producer, client, metadata, init } = transactionalProducer(5000)
    await init()
    const c = client()
    producer.beginTransaction()
    const waiting = producer.send({ topic: 'later', partition: 0, value: 'from the aborted transaction' }).then(
      () => null,
      (e: Error) => e,
    )
    await producer.abortTransaction()
    expect((producer as unknown as { txn: TransactionManager }).txn.state).toBe('READY')
    publishLater(metadata())
    const err = await waiting
    expect(err).toBeInstanceOf(KafkaTransactionAbortedError)
    expect(c.sentOf('Produce')).toEqual([])
  })

  it('a send waiting for metadata when its transaction is aborted fails with KafkaTransactionAbortedError, and never joins the next transaction', async () => {
    const { producer, client, metadata, init } = transactionalProducer(5000)
    await init()
    const c = client()
    producer.beginTransaction()
    // 'later' is not in the metadata yet: the send waits in the producer.
    const waiting = producer.send({ topic: 'later', partition: 0, value: 'from the aborted transaction' })
    const outcomeOf = waiting.then(
      () => null,
      (e: Error) => e,
    )
    await producer.abortTransaction()
    producer.beginTransaction()
    publishLater(metadata())
    let settled: Error | null | undefined
    void outcomeOf.then((e) => (settled = e))
    await until(() => settled !== undefined || c.sentOf('Produce').length > 0, 'the waiting send to settle or be sent')
    expect(c.sentOf('Produce')).toEqual([])
    expect(await outcomeOf).toBeInstanceOf(KafkaTransactionAbortedError)
    // The transaction begun after the abort holds nothing: committing it sends no EndTxn.
    await producer.commitTransaction()
    expect(c.sentOf('EndTxn')).toEqual([])
  })

  it('a send waiting for metadata through several aborted transactions fails with KafkaTransactionAbortedError, not in the one open when it is appended', async () => {
    const { producer, client, metadata, init } = transactionalProducer(5000)
    await init()
    const c = client()
    producer.beginTransaction()
    const outcomeOf = producer.send({ topic: 'later', partition: 0, value: 'from the first transaction' }).then(
      () => null,
      (e: Error) => e,
    )
    await producer.abortTransaction()
    producer.beginTransaction()
    await producer.abortTransaction()
    producer.beginTransaction()
    publishLater(metadata())
    let settled: Error | null | undefined
    void outcomeOf.then((e) => (settled = e))
    await until(() => settled !== undefined || c.sentOf('Produce').length > 0, 'the waiting send to settle or be sent')
    expect(c.sentOf('Produce')).toEqual([])
    expect(settled).toBeInstanceOf(KafkaTransactionAbortedError)
    await producer.commitTransaction()
    expect(c.sentOf('EndTxn')).toEqual([])
  })

  // Java's commitTransaction waits on one TransactionalRequestResult with one maxBlockTimeMs; here the commit
  // first waits for the sends made before it that still wait in the producer, and max.block.ms still counts
  // once, from the call, over that wait and EndTxn together.
  it.each(['metadata', 'buffer.memory'] as const)(
    'commitTransaction() waiting for an earlier send (waiting for %s) rejects with KafkaTimeoutError max.block.ms after the call, not after the wait',
    async (waitsFor) => {
      // Fake setTimeout (the max.block.ms timer, the waits, the scripted poll's wait) moved in step with the producer's clock.
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
      try {
        let now = T0
        const { producer, client, metadata } = transactionalProducer(1000, {
          time: () => now,
          // One 16 KiB batch fits in the buffer, not two: a second batch waits until the first one's Produce is answered.
          config: waitsFor === 'buffer.memory' ? { bufferMemory: 20_000, batchSize: 16_384 } : {},
        })
        const c = client()
        const advance = async (ms: number): Promise<void> => {
          for (let i = 0; i < ms; i++) {
            now += 1
            await vi.advanceTimersByTimeAsync(1)
          }
        }
        const next = async (api: string, n: number): Promise<ScriptedRequest> => {
          for (let waited = 0; c.sentOf(api).length < n; waited++) {
            if (waited > 2000) throw new Error(`no ${api} #${n}`)
            await advance(1)
          }
          return c.sentOf(api)[n - 1]!
        }
        const initialized = producer.initTransactions()
        c.respond(await next('FindCoordinator', 1), findCoordinatorAnswer(1))
        c.respond(await next('InitProducerId', 1), initAnswer(0, 1000n, 0))
        await initialized

        producer.beginTransaction()
        let first: ScriptedRequest | null = null
        if (waitsFor === 'buffer.memory') {
          void producer.send({ topic: TOPIC, partition: 0, value: 'a'.repeat(10_000) })
          first = await next('Produce', 1) // in flight, holding its 16 KiB
        }
        const early = producer.send(
          waitsFor === 'metadata' ? { topic: 'later', partition: 0, value: 'early' } : { topic: TOPIC, partition: 1, value: 'b'.repeat(10_000) },
        )
        const calledAt = now
        let outcome: Error | null | undefined
        void producer.commitTransaction().then(
          () => (outcome = null),
          (e: Error) => (outcome = e),
        )
        // 600 ms into the call the earlier send gets in, and the commit sends its records, then EndTxn.
        await advance(600)
        expect(outcome).toBeUndefined()
        expect(producer.inspect().waitingSends).toMatchObject({ sends: 1, head: waitsFor === 'metadata' ? 'metadata' : 'memory', oldestAgeMs: 600 })
        expect(c.sentOf('EndTxn')).toEqual([])
        if (first !== null) c.respond(first, produceAnswer(first))
        else publishLater(metadata(), now)
        const produce = await next('Produce', first !== null ? 2 : 1)
        c.respond(produce, produceAnswer(produce))
        await early
        const end = await next('EndTxn', 1)
        expect((end.body as EndTxnRequest).committed).toBe(true)
        // EndTxn is never answered: the call gives up max.block.ms after it was made, not after its wait ended.
        await advance(calledAt + 999 - now)
        expect(outcome).toBeUndefined()
        await advance(1)
        expect(outcome).toBeInstanceOf(KafkaTimeoutError)
        expect(outcome!.message).toMatch(/1000 ms \(max\.block\.ms\)/)
        // The commit goes on (Java): its outcome comes to the repeated call.
        c.respond(end, endTxnAnswer(0, 1000n, 1))
        const again = producer.commitTransaction()
        await advance(10)
        await again
      } finally {
        vi.useRealTimers()
      }
    },
  )
})
