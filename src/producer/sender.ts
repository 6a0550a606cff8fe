import { timeoutSuffix } from '../clients/connection-failures.js'
import type { Node } from '../clients/cluster.js'
import type { ClientResponse } from '../clients/in-flight-requests.js'
import type { KafkaClient } from '../clients/kafka-client.js'
import type { ProducerMetadata } from '../clients/metadata.js'
import {
  KafkaClientError,
  KafkaFatalProducerError,
  KafkaNetworkError,
  KafkaProducerClosedError,
  KafkaTimeoutError,
  KafkaTransactionAbortedError,
} from '../errors.js'
import type { AnyApi } from '../protocol/api.js'
import { errorKind, LogSink, stderrLogger } from '../util/logger.js'
import { batchRetryChannel, batchSplitChannel, isTracing, produceChannel, publishAsyncOutcome } from '../util/diagnostics.js'
import {
  InitProducerIdApi,
  type InitProducerIdRequest,
  type InitProducerIdResponse,
  ProduceApi,
  type ProducePartitionResponse,
  type ProduceRequest,
  type ProduceResponse,
} from '../protocol/apis/index.js'
import { brokerError, ErrorCode, errorName, isInvalidMetadata, isRetriable } from '../protocol/error-codes.js'
import type { ProducerMetrics, TopicMetrics } from './metrics.js'
import type { ProducerBatch } from './producer-batch.js'
import type { RecordAccumulator } from './record-accumulator.js'
import { FailedBatchOutcome, type TransactionManager, type TxnRequest } from './transaction-manager.js'

/** Produce inside a transactions-v1 transaction: v12 would ask the broker to add the partition itself (KIP-890). */
const PRODUCE_WITHOUT_IMPLICIT_ADD: AnyApi = { ...ProduceApi, maxVersion: 11 }

export interface SenderOptions {
  readonly acks: number
  readonly requestTimeoutMs: number
  readonly deliveryTimeoutMs: number
  readonly maxRequestSize: number
  readonly retries: number
  readonly retryBackoffMs: number
  /** max.in.flight.requests.per.connection = 1: keep at most one batch per partition in flight. */
  readonly guaranteeMessageOrder: boolean
  /** client.id, for the diagnostics channels' contexts. */
  readonly clientId?: string
}

/** The `kafka-producer-ts:produce` trace context (docs/observability.md); `result` or `error` are added on completion. */
export interface ProduceTraceContext {
  /** The producer's client.id. */
  clientId: string
  /** The broker the request goes to. */
  nodeId: number
  /** The request's correlation id; -1 when it failed before it could be sent. */
  correlationId: number
  /** The Produce version it went out with; -1 when it failed before it could be sent. */
  apiVersion: number
  /** The request's acks (-1, 0 or 1). */
  acks: number
  /** Record batches in the request. */
  batches: number
  /** Records in those batches. */
  records: number
  /** Bytes of those record batches. */
  bytes: number
  /** On a response (or, with acks=0, once the request was written). */
  result?: {
    /** The partitions that failed, with Kafka's error code; empty when all succeeded. */
    errors: {
      /** The partition's topic. */
      topic: string
      /** The partition's index. */
      partition: number
      /** Kafka's error code for it. */
      errorCode: number
    }[]
    /** The broker's throttle_time_ms (KIP-219); 0 when not throttled. */
    throttleTimeMs: number
  }
  /** When the request failed (a disconnect, a request timeout, ...). */
  error?: Error
  /** At completion, either outcome: ms from sending the request to its response or failure. */
  latencyMs?: number
}

/**
 * Errors after which this producer can never write again (Java's fatal set for
 * idempotence). INVALID_PRODUCER_EPOCH is not among them: for an idempotent
 * producer it only answers an attempt from before our own epoch bump (KIP-588).
 */
const FATAL_PRODUCE_ERRORS = new Set<number>([
  ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
  ErrorCode.UNSUPPORTED_VERSION,
  ErrorCode.PRODUCER_FENCED,
])

/**
 * Moves batches from the accumulator to the brokers, as Java's `Sender`.
 *
 * `runOnce(nowMs)` does one pass: with idempotence, first make sure there is
 * a producer id (InitProducerId) and apply any epoch bump; with transactions,
 * send the transaction manager's next request instead (one at a time, and no
 * produce data in a pass that sent or awaits one, as Java's
 * maybeSendAndPollTransactionalRequest); then ready, request
 * metadata for unknown leaders, drop nodes that are not ready, drain, expire,
 * and one Produce request per node. It returns how long the loop may wait for
 * network activity before it must run again (a linger deadline, a backoff, an
 * expiry). The loop then awaits `KafkaClient.poll`, which wakes early on any
 * network event or on `wakeup()` from an append. There is no interval timer.
 *
 * The Sender knows the network only as a {@link KafkaClient} (Java's Sender
 * takes a `KafkaClient` too): it relies on that interface's contract, one
 * completion per request, run from `poll`, and `send` only after `ready`.
 * test/unit/sender.test.ts drives it with a scripted client and a fake clock.
 *
 * Invariants:
 * - Each drained batch ends exactly once: done with offsets, failed with a
 *   typed error, or re-enqueued for a retry while attempts and
 *   `delivery.timeout.ms` allow.
 * - A batch in flight longer than `delivery.timeout.ms` is failed without
 *   waiting for its response; with idempotence its partition then waits until
 *   it is known whether the batch was written.
 * - A batch's pooled buffer returns to the pool only after its response
 *   (or, with acks=0, after its send) completed; a batch expired in flight
 *   returns its memory but not its buffer, which the socket may still read.
 */
export class Sender {
  private running = true
  private forceClose = false
  private loopDone: Promise<void> | null = null
  /** Batches sent and not yet answered, for delivery-timeout expiry. */
  private readonly inFlightBatches = new Set<ProducerBatch>()
  private nextInFlightExpiryMs = Infinity
  private initProducerIdNotBeforeMs = 0

  constructor(
    private readonly client: KafkaClient,
    private readonly metadata: ProducerMetadata,
    private readonly accumulator: RecordAccumulator,
    private readonly metrics: ProducerMetrics,
    private readonly opts: SenderOptions,
    private readonly time: () => number,
    private readonly transactionManager: TransactionManager | null,
    /** Where runtime faults are logged (the producer's `logger`). */
    private readonly log: LogSink = new LogSink(stderrLogger(), opts.clientId ?? '', time),
  ) {}

  start(): void {
    this.loopDone ??= this.loop()
  }

  private async loop(): Promise<void> {
    while (this.running) await this.iterate()
    // Graceful close: keep going until everything accepted has been answered.
    const tm = this.transactionManager
    const txn = tm !== null && tm.isTransactional ? tm : null
    while (
      !this.forceClose &&
      (this.accumulator.hasUndrained() || this.client.hasInFlightRequests() || (txn !== null && txn.hasPendingRequests() && txn.hasOngoingTransaction()))
    ) {
      await this.iterate()
    }
    // Java's Sender.run: a transaction still open at close is aborted, so its records never become visible.
    while (!this.forceClose && txn !== null && txn.hasOngoingTransaction()) {
      if (!txn.isTransactionCompleting()) {
        try {
          txn.beginAbortOnClose()
        } catch {
          this.forceClose = true // in an error state that cannot abort: stop here
          break
        }
      }
      await this.iterate()
    }
    if (this.forceClose) {
      txn?.close()
      this.accumulator.abortIncompleteBatches(
        new KafkaProducerClosedError('The producer was closed (close timeout ran out) before these records could be delivered'),
      )
    }
    this.client.close(this.time())
  }

  private async iterate(): Promise<void> {
    let timeout: number
    try {
      timeout = this.runOnce(this.time())
    } catch (err) {
      // A bug in one pass must not stop the producer; look again shortly.
      this.log.error(`sender:${errorKind(err)}`, `kafka-producer-ts sender: a send pass threw (retrying in 100 ms): ${(err as Error)?.message ?? err}`, {
        event: 'sender.threw',
        ...(err instanceof Error ? { err } : {}),
      })
      timeout = 100
    }
    try {
      await this.client.poll(timeout, this.time)
    } catch (err) {
      // Same for the network layer: an escaping error would reject the loop and crash the process.
      this.log.error(`poll:${errorKind(err)}`, `kafka-producer-ts network client: poll threw: ${(err as Error)?.message ?? err}`, {
        event: 'network.threw',
        ...(err instanceof Error ? { err } : {}),
      })
    }
  }

  /** One pass of the send logic; returns how long until the next pass is needed. */
  runOnce(nowMs: number): number {
    const tm = this.transactionManager
    if (tm !== null) {
      tm.maybeResolveSequences()
      const fatal = tm.fatalError
      if (fatal !== null) {
        // Nothing more can be written with this producer id: every incomplete batch fails now, sent or
        // not, as Java's maybeAbortBatches does; late responses find their batches already done.
        if (this.accumulator.hasIncomplete()) this.accumulator.abortIncompleteBatches(fatal)
        this.inFlightBatches.clear()
        this.nextInFlightExpiryMs = Infinity
        return Infinity
      }
    }
    this.failUncompressibleBatches()
    if (tm !== null) {
      if (tm.isTransactional) {
        const wait = this.maybeSendTransactionalRequest(tm, nowMs)
        if (wait !== null) {
          this.expireBatches(nowMs)
          return Math.max(0, Math.min(wait, this.accumulator.nextExpiryTimeMs() - nowMs, this.nextInFlightExpiryMs - nowMs))
        }
        return this.sendProducerData(nowMs)
      }
      tm.bumpIdempotentEpochAndResetIdIfNeeded()
      if (!tm.hasProducerId()) {
        this.expireBatches(nowMs)
        return Math.max(
          0,
          Math.min(this.maybeSendInitProducerId(nowMs), this.accumulator.nextExpiryTimeMs() - nowMs, this.nextInFlightExpiryMs - nowMs),
        )
      }
    }
    return this.sendProducerData(nowMs)
  }

  /**
   * Fails the batches whose codec failed, as any failed batch: through
   * `failBatch`, so the transaction manager sees them. Never sent, so
   * Rejected: an idempotent partition whose batch had a sequence (a split
   * part) bumps its epoch over the gap, and a transaction becomes abortable.
   * Done first in a pass, before the epoch bump is applied and before
   * anything is drained, so no later batch of the partition goes out with
   * the failed one's sequence still missing.
   */
  private failUncompressibleBatches(): void {
    for (const f of this.accumulator.takeCompressionFailures()) this.failBatch(f.batch, f.error, FailedBatchOutcome.Rejected, true)
  }

  private sendProducerData(nowMs: number): number {
    const cluster = this.metadata.cluster
    const result = this.accumulator.ready(cluster, nowMs)

    if (result.unknownLeaderTopics.size > 0) {
      for (const topic of result.unknownLeaderTopics) this.metadata.add(topic, nowMs)
      this.metadata.requestUpdate()
    }

    let notReadyTimeout = Infinity
    const readyNodes = result.readyNodes
    for (const nodeId of readyNodes) {
      const node = cluster.nodeById(nodeId)
      if (node === undefined || !this.client.ready(node, nowMs)) {
        this.accumulator.updateNodeLatencyStats(nodeId, nowMs, false)
        readyNodes.delete(nodeId)
        // A connected node its broker throttles (KIP-219) says how long is left: wake then, not before (Java: pollDelayMs).
        notReadyTimeout = Math.min(notReadyTimeout, this.client.pollDelayMs(nodeId, nowMs))
        this.failBatchesOfUnauthenticatedNode(nodeId)
      } else {
        this.accumulator.updateNodeLatencyStats(nodeId, nowMs, true)
      }
    }

    const batches = this.accumulator.drain(cluster, readyNodes, this.opts.maxRequestSize, nowMs)
    let drained = false
    for (const list of batches.values()) {
      for (const b of list) {
        drained = true
        this.inFlightBatches.add(b)
        const expiry = b.createdMs + this.opts.deliveryTimeoutMs
        if (expiry < this.nextInFlightExpiryMs) this.nextInFlightExpiryMs = expiry
        // A retried batch must go before anything behind it: nothing else of its partition may fly meanwhile.
        if (this.opts.guaranteeMessageOrder) this.accumulator.mutePartition(b.topic, b.partition)
      }
    }

    this.expireBatches(nowMs)

    let pollTimeout = Math.min(
      result.nextReadyCheckDelayMs,
      notReadyTimeout,
      this.accumulator.nextExpiryTimeMs() - nowMs,
      this.nextInFlightExpiryMs - nowMs,
    )
    // Sent something: look again at once, in case more became sendable meanwhile.
    if (drained) pollTimeout = 0
    for (const [nodeId, list] of batches) {
      if (list.length === 0) continue
      try {
        this.sendProduceRequest(nodeId, list, nowMs)
      } catch (err) {
        // The batches left their queues: give each its normal retry-or-fail path rather than strand it.
        const error = new KafkaNetworkError(`Could not send a Produce request to node ${nodeId}: ${(err as Error).message}`, nodeId, { cause: err })
        for (const b of list) {
          this.inFlightBatches.delete(b)
          if (this.opts.guaranteeMessageOrder) this.accumulator.unmutePartition(b.topic, b.partition)
          this.retryOrFail(b, error, -1, -1n, nowMs)
        }
      }
    }
    return Math.max(pollTimeout, 0)
  }

  /**
   * The leader's last connection attempt ended in a TLS or SASL rejection:
   * its queued batches, never sent, fail now with that non-retriable error
   * rather than at delivery.timeout.ms (Java fails them with the
   * AuthenticationException through the idempotent producer's fatal state,
   * `Sender.maybeAbortBatches`; here only that leader's, so other brokers'
   * partitions keep flowing). Nothing was written, so nothing is lost or
   * duplicated; the node is tried again after the reconnect backoff, and
   * while that attempt runs new batches wait for its outcome.
   */
  private failBatchesOfUnauthenticatedNode(nodeId: number): void {
    const error = this.client.authenticationError?.(nodeId) ?? null
    if (error === null) return
    for (const batch of this.accumulator.takeUndrainedBatchesFor(nodeId)) this.failBatch(batch, error, FailedBatchOutcome.Rejected, true)
  }

  /** Fails batches past delivery.timeout.ms, queued or in flight (Java's expiredBatches + getExpiredInflightBatches). */
  private expireBatches(nowMs: number): void {
    for (const batch of this.accumulator.expiredBatches(nowMs)) this.expire(batch, nowMs, true)
    if (nowMs < this.nextInFlightExpiryMs) return
    let next = Infinity
    for (const batch of this.inFlightBatches) {
      if (batch.hasReachedDeliveryTimeout(this.opts.deliveryTimeoutMs, nowMs)) {
        this.inFlightBatches.delete(batch)
        this.expire(batch, nowMs, false)
      } else {
        next = Math.min(next, batch.createdMs + this.opts.deliveryTimeoutMs)
      }
    }
    this.nextInFlightExpiryMs = next
  }

  private expire(batch: ProducerBatch, nowMs: number, reuseBuffer: boolean): void {
    // Failing connections explain the expiry: the leader's when it is known, else every broker's.
    const leader = this.metadata.cluster.leaderFor(batch.topic, batch.partition)
    const failures = this.client.connectionFailures(leader >= 0 ? leader : undefined)
    const error = new KafkaTimeoutError(
      `Expiring ${batch.recordCount} record(s) for ${batch.topic}-${batch.partition}: ${nowMs - batch.createdMs} ms has passed since batch creation (delivery.timeout.ms=${this.opts.deliveryTimeoutMs})${timeoutSuffix(failures, leader >= 0)}`,
      failures !== null ? { cause: failures.error } : undefined,
    )
    // A batch that had been sent may have been written: its partition waits until that is known.
    this.failBatch(batch, error, FailedBatchOutcome.Unknown, reuseBuffer)
  }

  // ---- InitProducerId ----

  private maybeSendInitProducerId(nowMs: number): number {
    const tm = this.transactionManager!
    if (!tm.needsInitProducerId()) return this.opts.requestTimeoutMs // in flight: its response wakes us
    if (nowMs < this.initProducerIdNotBeforeMs) return this.initProducerIdNotBeforeMs - nowMs
    const node = this.client.leastLoadedNode(nowMs)
    if (node === null) return this.opts.retryBackoffMs
    if (!this.client.ready(node, nowMs)) {
      // A connected node its broker throttles (KIP-219) gives the throttle time left (Java: pollDelayMs).
      const delay = this.client.pollDelayMs(node.id, nowMs)
      return Number.isFinite(delay) && delay > 0 ? delay : this.opts.retryBackoffMs
    }
    tm.initProducerIdSent()
    this.client.send<InitProducerIdRequest, InitProducerIdResponse>(
      {
        destination: node.id,
        api: InitProducerIdApi,
        // Java's idempotent producer: no transactional id, the longest timeout, no current producer.
        body: { transactionalId: null, transactionTimeoutMs: 2147483647, producerId: -1n, producerEpoch: -1 },
        expectResponse: true,
        createdMs: nowMs,
        requestTimeoutMs: this.opts.requestTimeoutMs,
        onComplete: (response) => this.handleInitProducerIdResponse(response),
      },
      nowMs,
    )
    return this.opts.requestTimeoutMs
  }

  private handleInitProducerIdResponse(response: ClientResponse<InitProducerIdResponse>): void {
    const tm = this.transactionManager!
    const body = response.body
    const retryLater = (): void => {
      tm.initProducerIdFailed()
      this.initProducerIdNotBeforeMs = response.receivedMs + this.opts.retryBackoffMs
    }
    if (body === null) {
      const err = response.error
      if (err instanceof KafkaClientError && err.code === 'UNSUPPORTED_VERSION') {
        tm.transitionToFatalError(
          new KafkaFatalProducerError('UNSUPPORTED_VERSION', `The broker does not support idempotent producing (InitProducerId): ${err.message}`, { cause: err }),
        )
        return
      }
      retryLater()
      return
    }
    if (body.errorCode === ErrorCode.NONE) {
      tm.setProducerIdAndEpoch({ producerId: body.producerId, epoch: body.producerEpoch })
      return
    }
    if (isRetriable(body.errorCode)) {
      retryLater()
      return
    }
    tm.transitionToFatalError(
      new KafkaFatalProducerError(errorName(body.errorCode), `InitProducerId failed with ${errorName(body.errorCode)} (error code ${body.errorCode})`),
    )
  }

  // ---- transactional requests ----

  /**
   * Java's maybeSendAndPollTransactionalRequest: sends the transaction
   * manager's next request to its coordinator (or any broker), one at a time.
   * Returns how long to wait when a request was sent, is in flight, or must
   * wait (backoff, a coordinator to connect to); null when there is nothing
   * transactional to do, so produce data may go.
   */
  private maybeSendTransactionalRequest(tm: TransactionManager, nowMs: number): number | null {
    if (tm.hasInFlightRequest()) return this.opts.requestTimeoutMs // its answer wakes the loop
    if ((tm.hasAbortableError() || tm.isAborting()) && this.accumulator.hasIncomplete()) {
      // Records not sent yet will never be part of a committed transaction: fail them now (Java: abortUndrainedBatches).
      this.accumulator.abortUndrainedBatches(tm.lastError ?? new KafkaTransactionAbortedError())
    }
    const next = tm.nextRequest(this.accumulator.hasIncomplete(), nowMs)
    if (next === null) return null
    if (typeof next === 'number') return next
    const h: TxnRequest = next
    let node: Node | null
    if (h.coordinatorType !== null) {
      node = tm.coordinator(h.coordinatorType, h.coordinatorKey)
      if (node === null) {
        tm.lookupCoordinator(h.coordinatorType, h.coordinatorKey!)
        tm.requeue(h)
        // The FindCoordinator now at the head goes to any broker: send it in this pass.
        return this.maybeSendTransactionalRequest(tm, nowMs)
      }
    } else {
      node = this.client.leastLoadedNode(nowMs)
      if (node === null) {
        // Every known broker is in reconnect backoff: refresh metadata and try again after a backoff.
        this.metadata.requestUpdate()
        tm.retry(h, nowMs)
        return this.opts.retryBackoffMs
      }
    }
    if (!this.client.ready(node, nowMs)) {
      // Java's awaitNodeReady polls with pollDelayMs: for a connected node its broker throttles (KIP-219)
      // that is the throttle time left, and it differs from connectionDelay only then.
      const delay = this.client.pollDelayMs(node.id, nowMs)
      if (delay !== this.client.connectionDelay(node.id, nowMs)) {
        // The node is up and answering, only throttled: that is no reason to look the coordinator up
        // again, so the wait below restarts once the throttle is over. Wake when it is.
        h.waitingForNodeSinceMs = -1
        tm.requeue(h)
        return Math.max(delay, 0)
      }
      // Java's awaitNodeReady waits up to request.timeout.ms, then looks the coordinator up again.
      if (h.waitingForNodeSinceMs < 0) h.waitingForNodeSinceMs = nowMs
      if (nowMs - h.waitingForNodeSinceMs >= this.opts.requestTimeoutMs) {
        h.waitingForNodeSinceMs = -1
        if (h.coordinatorType !== null) tm.lookupCoordinator(h.coordinatorType, h.coordinatorKey!)
        tm.retry(h, nowMs)
        return 0
      }
      tm.requeue(h)
      // Connecting, or connected but busy (in-flight cap, a metadata refresh going first): connectionDelay
      // is Infinity and the connection's outcome or a response wakes the loop; the cap keeps the
      // request-timeout check above alive. In reconnect backoff: the backoff left. 0 (a connection
      // could start but did not): look again after a backoff.
      if (delay === 0) return this.opts.retryBackoffMs
      return Math.min(Number.isFinite(delay) ? delay : this.opts.requestTimeoutMs, this.opts.requestTimeoutMs)
    }
    h.waitingForNodeSinceMs = -1
    const negotiated = this.client.negotiatedApiVersions()[String(node.id)] ?? {}
    if (h.coordinatorType === 'TRANSACTION') tm.handleCoordinatorReady(negotiated['InitProducerId'])
    // The version the client will pick: the node's, capped by this request's own range (Java's builders cap it too).
    const version = Math.min(h.api.maxVersion, negotiated[h.api.name] ?? h.api.maxVersion)
    let body: unknown
    try {
      body = h.build(version)
    } catch (err) {
      tm.requestSent(h)
      tm.handleTxnResponse(h, null, version, err as Error, false, nowMs)
      return 0
    }
    tm.requestSent(h)
    this.client.send<unknown, unknown>(
      {
        destination: node.id,
        api: h.api,
        body,
        expectResponse: true,
        createdMs: nowMs,
        requestTimeoutMs: this.opts.requestTimeoutMs,
        onComplete: (r) => tm.handleTxnResponse(h, r.body, version, r.error, r.disconnected || r.timedOut, r.receivedMs),
      },
      nowMs,
    )
    return this.opts.requestTimeoutMs
  }

  // ---- Produce ----

  private sendProduceRequest(nodeId: number, batches: ProducerBatch[], nowMs: number): void {
    // Grouped by topic, in order of first appearance (a request has few topics: a linear scan, no Map).
    const topics: ProduceRequest['topics'] = []
    /** For the k-th partition entry of the request, in request order: the index of its batch in `batches`. */
    const groups: number[][] = []
    /** Per topic group, its sensors: one Map lookup per topic, not per batch. */
    const topicMetrics: TopicMetrics[] = []
    let records = 0
    for (let i = 0; i < batches.length; i++) {
      const batch = batches[i]!
      let g = 0
      while (g < topics.length && topics[g]!.name !== batch.topic) g++
      if (g === topics.length) {
        topics.push({ name: batch.topic, partitions: [] })
        groups.push([])
        topicMetrics.push(this.metrics.topic(batch.topic))
      }
      topics[g]!.partitions.push({ index: batch.partition, records: batch.records() })
      groups[g]!.push(i)
      records += batch.recordCount
      this.metrics.recordBatchSent(
        batch.recordCount,
        batch.sizeInBytes,
        nowMs - batch.createdMs,
        nowMs,
        topicMetrics[g]!,
        batch.maxRecordSize,
        batch.compressionRatio,
      )
    }
    const positions = groups.length === 1 ? groups[0]! : groups.flat()
    this.metrics.recordRequest(records, nowMs)
    const acks = this.opts.acks
    const tm = this.transactionManager
    const transactionalId = tm !== null ? tm.transactionalId : null
    // Built only with a subscriber; the completion closure below carries it either way (null).
    const trace = produceChannel !== null && isTracing(produceChannel) ? this.produceContext(nodeId, batches, records) : null
    const sent = this.client.send<ProduceRequest, ProduceResponse>(
      {
        destination: nodeId,
        api: transactionalId !== null && !tm!.isTransactionV2Enabled ? PRODUCE_WITHOUT_IMPLICIT_ADD : ProduceApi,
        body: { transactionalId, acks, timeoutMs: this.opts.requestTimeoutMs, topics },
        expectResponse: acks !== 0,
        createdMs: nowMs,
        requestTimeoutMs: this.opts.requestTimeoutMs,
        onComplete: (response) => this.handleProduceResponse(response, batches, positions, trace),
      },
      nowMs,
    )
    if (trace !== null) {
      // Published once the request has its correlation id: start and end bracket the hand-over to the network.
      trace.correlationId = sent?.correlationId ?? -1
      trace.apiVersion = sent?.apiVersion ?? -1
      produceChannel!.start.publish(trace)
      produceChannel!.end.publish(trace)
    }
  }

  private produceContext(nodeId: number, batches: ProducerBatch[], records: number): ProduceTraceContext {
    let bytes = 0
    for (const b of batches) bytes += b.sizeInBytes
    return {
      clientId: this.opts.clientId ?? '',
      nodeId,
      correlationId: -1,
      apiVersion: -1,
      acks: this.opts.acks,
      batches: batches.length,
      records,
      bytes,
    }
  }

  /** The produce trace's completion: per-partition errors, throttle and latency, or the request's failure. */
  private endProduceTrace(trace: ProduceTraceContext, response: ClientResponse<ProduceResponse>): void {
    trace.latencyMs = response.receivedMs - response.request.createdMs
    const body = response.body
    if (body === null && response.error !== null) {
      trace.error = response.error
    } else {
      const errors: { topic: string; partition: number; errorCode: number }[] = []
      if (body !== null) {
        for (const t of body.topics) for (const p of t.partitions) if (p.errorCode !== ErrorCode.NONE) errors.push({ topic: t.name, partition: p.index, errorCode: p.errorCode })
      }
      trace.result = { errors, throttleTimeMs: body?.throttleTimeMs ?? 0 }
    }
    publishAsyncOutcome(produceChannel!, trace)
  }

  private handleProduceResponse(
    response: ClientResponse<ProduceResponse>,
    batches: ProducerBatch[],
    positions: readonly number[],
    trace: ProduceTraceContext | null = null,
  ): void {
    if (trace !== null) this.endProduceTrace(trace, response)
    const nowMs = response.receivedMs
    const nodeId = response.request.destination
    for (const b of batches) {
      this.inFlightBatches.delete(b)
      if (this.opts.guaranteeMessageOrder) this.accumulator.unmutePartition(b.topic, b.partition)
    }
    if (response.body === null) {
      if (response.error === null) {
        // acks=0: the send completed and the broker will not answer.
        for (const b of batches) this.completeBatch(b, -1n, -1)
        return
      }
      // No response, no latency: as Java's Sender.handleProduceResponse, a disconnect or a request timeout
      // is not counted in request-latency-avg/max (a timeout would record request.timeout.ms).
      const error =
        response.error instanceof KafkaClientError
          ? response.error
          : new KafkaNetworkError(`Produce request to node ${nodeId} failed: ${response.error.message}`, nodeId)
      for (const b of batches) this.retryOrFail(b, error, -1, -1n, nowMs)
      return
    }
    this.metrics.recordLatency(nodeId, nowMs - response.request.createdMs, nowMs)
    // The client already holds the node back for it (KIP-219); here it is only counted.
    this.metrics.recordThrottleTime(nodeId, response.body.throttleTimeMs, nowMs)
    const answers = answersInRequestOrder(response.body, batches, positions) ?? answersByPartition(response.body, batches)
    // Walk the batches in drain order: every batch must get an answer.
    for (let i = 0; i < batches.length; i++) {
      const b = batches[i]!
      const p = answers[i]
      if (p === undefined) {
        this.retryOrFail(b, new KafkaNetworkError(`Produce response from node ${nodeId} did not mention ${b.topic}-${b.partition}`, nodeId), -1, -1n, nowMs)
        continue
      }
      this.handlePartitionResponse(b, p, nodeId, nowMs)
    }
  }

  private handlePartitionResponse(b: ProducerBatch, p: ProducePartitionResponse, nodeId: number, nowMs: number): void {
    const code = p.errorCode
    if (code === ErrorCode.NONE) {
      this.completeBatch(b, p.baseOffset, Number(p.logAppendTimeMs))
      return
    }
    if (code === ErrorCode.DUPLICATE_SEQUENCE_NUMBER && this.transactionManager !== null) {
      // The broker already has this batch but no longer its offset: success, offset unknown (as Java).
      this.completeBatch(b, p.baseOffset, Number(p.logAppendTimeMs))
      return
    }
    if (isInvalidMetadata(code)) this.metadata.requestUpdate()
    const detail = p.errorMessage ?? (p.recordErrors.length > 0 ? p.recordErrors.map((e) => e.batchIndexErrorMessage).join('; ') : null)
    const where = `producing to ${b.topic}-${b.partition} on node ${nodeId}`
    if (code === ErrorCode.MESSAGE_TOO_LARGE && b.recordCount > 1 && !b.isDone) {
      // Too big for the broker as one batch: split it and try again, as Java does.
      const parts = this.accumulator.splitAndReenqueue(b)
      this.accumulator.deallocate(b)
      this.metrics.recordBatchSplit(nowMs)
      if (batchSplitChannel.hasSubscribers) {
        batchSplitChannel.publish({ clientId: this.opts.clientId ?? '', topic: b.topic, partition: b.partition, nodeId, records: b.recordCount, bytes: b.sizeInBytes, parts })
      }
      return
    }
    const tm = this.transactionManager
    // A late answer for a batch that already ended (expired in flight) cannot make the producer fatal.
    if (tm !== null && FATAL_PRODUCE_ERRORS.has(code) && !b.isDone) {
      const why =
        code === ErrorCode.PRODUCER_FENCED
          ? ': another producer instance with the same identity fenced it'
          : code === ErrorCode.CLUSTER_AUTHORIZATION_FAILED
            ? ': it is not authorised to write idempotently'
            : ''
      const fatal = new KafkaFatalProducerError(errorName(code), `The broker rejected this producer with ${errorName(code)} while ${where}${why}`)
      tm.transitionToFatalError(fatal)
      this.failBatch(b, fatal, FailedBatchOutcome.Rejected, true)
      return
    }
    this.retryOrFail(b, brokerError(code, where, detail), code, p.logStartOffset, nowMs)
  }

  private retryOrFail(batch: ProducerBatch, error: KafkaClientError, errorCode: number, logStartOffset: bigint, nowMs: number): void {
    if (this.canRetry(batch, error, errorCode, logStartOffset, nowMs)) {
      this.metrics.recordRetries(batch.recordCount, batch.topic, nowMs)
      if (this.log.debugEnabled) {
        this.log.debug(`kafka-producer-ts: retrying ${batch.recordCount} record(s) for ${batch.topic}-${batch.partition}: ${error.message}`, {
          event: 'batch.retry',
          topic: batch.topic,
          partition: batch.partition,
          errorCode,
          attempt: batch.attempts + 1,
          err: error,
        })
      }
      if (batchRetryChannel.hasSubscribers) {
        batchRetryChannel.publish({ clientId: this.opts.clientId ?? '', topic: batch.topic, partition: batch.partition, attempt: batch.attempts + 1, records: batch.recordCount, errorCode, error })
      }
      this.accumulator.reenqueue(batch, nowMs)
      return
    }
    // A retriable error (timeout, disconnect, ...) leaves it unknown whether the batch was written;
    // a non-retriable broker error means it was refused.
    this.failBatch(batch, error, error.retriable ? FailedBatchOutcome.Unknown : FailedBatchOutcome.Rejected, true, errorCode)
  }

  private canRetry(batch: ProducerBatch, error: KafkaClientError, errorCode: number, logStartOffset: bigint, nowMs: number): boolean {
    if (batch.isDone || batch.attempts >= this.opts.retries) return false
    if (batch.hasReachedDeliveryTimeout(this.opts.deliveryTimeoutMs, nowMs)) return false
    const tm = this.transactionManager
    if (tm === null || errorCode < 0) return error.retriable
    return tm.canRetry(batch, errorCode, error.retriable, logStartOffset)
  }

  private completeBatch(batch: ProducerBatch, baseOffset: bigint, logAppendTime: number): void {
    this.transactionManager?.handleCompletedBatch(batch, baseOffset)
    if (batch.done(baseOffset, logAppendTime, null)) this.accumulator.deallocate(batch)
  }

  private failBatch(batch: ProducerBatch, error: Error, outcome: FailedBatchOutcome, reuseBuffer: boolean, errorCode = -1): void {
    // A batch that already ended (expired in flight) was accounted for then; its late answer changes nothing.
    if (!batch.isDone) this.transactionManager?.handleFailedBatch(batch, outcome, error, errorCode)
    if (batch.done(-1n, -1, error)) {
      this.metrics.recordErrors(batch.recordCount, batch.topic)
      // Once per kind of failure, not per batch: the application gets each record's error anyway.
      const kind = `${error.name}:${errorCode >= 0 ? errorCode : ((error as KafkaClientError).code ?? '')}`
      this.log.warn(`batch-failed:${kind}`, `kafka-producer-ts: ${batch.recordCount} record(s) for ${batch.topic}-${batch.partition} failed: ${error.message}`, {
        event: 'batch.failed',
        topic: batch.topic,
        partition: batch.partition,
        ...(errorCode >= 0 ? { errorCode } : {}),
        cause: error.name,
        err: error,
      })
      this.accumulator.deallocate(batch, reuseBuffer)
    }
  }

  wakeup(): void {
    this.client.wakeup()
  }

  /** Stops accepting new passes; finishes what is buffered unless forced. */
  async close(force: boolean): Promise<void> {
    this.running = false
    // Closed, the accumulator makes every batch sendable at once: linger no longer applies.
    this.accumulator.close()
    if (force) this.forceClose = true
    this.client.wakeup()
    await this.loopDone
  }

  /** Turns a graceful close into a forced one (close timeout ran out). */
  forceCloseNow(): void {
    this.forceClose = true
    this.client.wakeup()
  }
}

/**
 * The partition answers matched to `batches` by position: brokers answer the
 * topics and partitions in the order the request listed them, so the k-th
 * answer is for the batch at `positions[k]`. Null, to fall back to matching
 * by name, when the answer's shape differs anywhere from the request's.
 */
export function answersInRequestOrder(
  body: ProduceResponse,
  batches: readonly ProducerBatch[],
  positions: readonly number[],
): (ProducePartitionResponse | undefined)[] | null {
  const out = new Array<ProducePartitionResponse | undefined>(batches.length)
  let k = 0
  for (const t of body.topics) {
    for (const p of t.partitions) {
      if (k === positions.length) return null
      const b = batches[positions[k++]!]!
      if (b.partition !== p.index || b.topic !== t.name) return null
      out[positions[k - 1]!] = p
    }
  }
  return k === positions.length ? out : null
}

/** The general matching: each batch's answer by topic and partition; undefined where there is none. */
export function answersByPartition(body: ProduceResponse, batches: readonly ProducerBatch[]): (ProducePartitionResponse | undefined)[] {
  const byKey = new Map<string, ProducePartitionResponse>()
  for (const t of body.topics) {
    for (const p of t.partitions) byKey.set(`${t.name}\u0000${p.index}`, p)
  }
  return batches.map((b) => byKey.get(`${b.topic}\u0000${b.partition}`))
}
