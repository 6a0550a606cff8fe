import type { ClientResponse } from '../clients/in-flight-requests.js'
import type { NetworkClient } from '../clients/network-client.js'
import type { ProducerMetadata } from '../clients/metadata.js'
import { KafkaClientError, KafkaNetworkError, KafkaTimeoutError } from '../errors.js'
import { ProduceApi, type ProduceRequest, type ProduceResponse } from '../protocol/apis/index.js'
import { brokerError, isRetriable } from '../protocol/error-codes.js'
import type { ProducerMetrics } from './metrics.js'
import type { ProducerBatch } from './producer-batch.js'
import type { RecordAccumulator } from './record-accumulator.js'

export interface SenderOptions {
  readonly acks: number
  readonly requestTimeoutMs: number
  readonly deliveryTimeoutMs: number
  readonly maxRequestSize: number
  readonly retries: number
  /** max.in.flight.requests.per.connection = 1: keep at most one batch per partition in flight. */
  readonly guaranteeMessageOrder: boolean
}

/** Error codes after which the partition's leader is probably elsewhere. */
const LEADER_ERRORS = new Set([
  3, // UNKNOWN_TOPIC_OR_PARTITION
  5, // LEADER_NOT_AVAILABLE
  6, // NOT_LEADER_OR_FOLLOWER
  74, // FENCED_LEADER_EPOCH
  75, // UNKNOWN_LEADER_EPOCH
])

/**
 * Moves batches from the accumulator to the brokers, as Java's `Sender`.
 *
 * `runOnce(nowMs)` does one pass: ready, request metadata for unknown leaders,
 * drop nodes that are not ready, drain, expire, then one Produce request per
 * node. It returns how long the loop may wait for network activity before it
 * must run again (a linger deadline, a backoff, an expiry). The loop then
 * awaits `NetworkClient.poll`, which wakes early on any network event or on
 * `wakeup()` from an append. There is no interval timer.
 *
 * Invariants:
 * - Each drained batch ends exactly once: done with offsets, failed with a
 *   typed error, or re-enqueued for a retry while attempts and
 *   `delivery.timeout.ms` allow.
 * - A batch's pooled buffer returns to the pool only after its response
 *   (or, with acks=0, after its send) completed.
 */
export class Sender {
  private running = true
  private forceClose = false
  private loopDone: Promise<void> | null = null

  constructor(
    private readonly client: NetworkClient,
    private readonly metadata: ProducerMetadata,
    private readonly accumulator: RecordAccumulator,
    private readonly metrics: ProducerMetrics,
    private readonly opts: SenderOptions,
    private readonly time: () => number,
  ) {}

  start(): void {
    this.loopDone ??= this.loop()
  }

  private async loop(): Promise<void> {
    while (this.running) await this.iterate()
    // Graceful close: keep going until everything accepted has been answered.
    while (!this.forceClose && (this.accumulator.hasUndrained() || this.client.hasInFlightRequests())) {
      await this.iterate()
    }
    if (this.forceClose) {
      this.accumulator.abortIncompleteBatches(new KafkaClientError('PRODUCER_CLOSED', 'The producer was closed before these records could be delivered'))
    }
    this.client.close(this.time())
  }

  private async iterate(): Promise<void> {
    let timeout: number
    try {
      timeout = this.runOnce(this.time())
    } catch (err) {
      // A bug in one pass must not stop the producer; look again shortly.
      process.emitWarning(`kafka-producer-ts sender: ${(err as Error).stack ?? err}`)
      timeout = 100
    }
    await this.client.poll(timeout, this.time)
  }

  /** One pass of the send logic; returns how long until the next pass is needed. */
  runOnce(nowMs: number): number {
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
        notReadyTimeout = Math.min(notReadyTimeout, this.client.connectionDelay(nodeId, nowMs))
      } else {
        this.accumulator.updateNodeLatencyStats(nodeId, nowMs, true)
      }
    }

    const batches = this.accumulator.drain(cluster, readyNodes, this.opts.maxRequestSize, nowMs)
    if (this.opts.guaranteeMessageOrder) {
      // A retried batch must go before anything behind it: nothing else of its partition may fly meanwhile.
      for (const list of batches.values()) for (const b of list) this.accumulator.mutePartition(b.topic, b.partition)
    }

    for (const batch of this.accumulator.expiredBatches(nowMs)) {
      this.failBatch(
        batch,
        new KafkaTimeoutError(
          `Expiring ${batch.recordCount} record(s) for ${batch.topic}-${batch.partition}: ${nowMs - batch.createdMs} ms has passed since batch creation (delivery.timeout.ms=${this.opts.deliveryTimeoutMs})`,
        ),
        nowMs,
      )
    }

    let pollTimeout = Math.min(result.nextReadyCheckDelayMs, notReadyTimeout, this.accumulator.nextExpiryTimeMs() - nowMs)
    // Something was sendable: come straight back in case more can go once these sends complete.
    if (readyNodes.size > 0) pollTimeout = 0
    for (const [nodeId, list] of batches) {
      if (list.length > 0) this.sendProduceRequest(nodeId, list, nowMs)
    }
    return Math.max(pollTimeout, 0)
  }

  private sendProduceRequest(nodeId: number, batches: ProducerBatch[], nowMs: number): void {
    const topics: ProduceRequest['topics'] = []
    const byTopic = new Map<string, ProduceRequest['topics'][number]>()
    let records = 0
    for (const batch of batches) {
      let t = byTopic.get(batch.topic)
      if (t === undefined) {
        t = { name: batch.topic, partitions: [] }
        byTopic.set(batch.topic, t)
        topics.push(t)
      }
      t.partitions.push({ index: batch.partition, records: batch.records() })
      records += batch.recordCount
      this.metrics.recordBatchSent(batch.recordCount, batch.sizeInBytes, nowMs - batch.createdMs, nowMs)
    }
    this.metrics.recordRequest(records, nowMs)
    const acks = this.opts.acks
    this.client.send<ProduceRequest, ProduceResponse>(
      {
        destination: nodeId,
        api: ProduceApi,
        body: { transactionalId: null, acks, timeoutMs: this.opts.requestTimeoutMs, topics },
        expectResponse: acks !== 0,
        createdMs: nowMs,
        requestTimeoutMs: this.opts.requestTimeoutMs,
        onComplete: (response) => this.handleProduceResponse(response, batches),
      },
      nowMs,
    )
  }

  private handleProduceResponse(response: ClientResponse<ProduceResponse>, batches: ProducerBatch[]): void {
    const nowMs = response.receivedMs
    const nodeId = response.request.destination
    if (this.opts.guaranteeMessageOrder) for (const b of batches) this.accumulator.unmutePartition(b.topic, b.partition)
    if (response.body === null) {
      if (response.error === null) {
        // acks=0: the send completed and the broker will not answer.
        for (const b of batches) this.completeBatch(b, -1n, -1, nowMs)
        return
      }
      this.metrics.recordLatency(nodeId, nowMs - response.request.createdMs, nowMs)
      const error =
        response.error instanceof KafkaClientError
          ? response.error
          : new KafkaNetworkError(`Produce request to node ${nodeId} failed: ${response.error.message}`, nodeId)
      for (const b of batches) this.retryOrFail(b, error, nowMs)
      return
    }
    this.metrics.recordLatency(nodeId, nowMs - response.request.createdMs, nowMs)
    // Index the partition responses, then walk the batches: every batch must get an answer.
    const answers = new Map<string, ProduceResponse['topics'][number]['partitions'][number]>()
    for (const t of response.body.topics) {
      for (const p of t.partitions) answers.set(`${t.name}\u0000${p.index}`, p)
    }
    for (const b of batches) {
      const p = answers.get(`${b.topic}\u0000${b.partition}`)
      if (p === undefined) {
        this.retryOrFail(b, new KafkaNetworkError(`Produce response from node ${nodeId} did not mention ${b.topic}-${b.partition}`, nodeId), nowMs)
        continue
      }
      if (p.errorCode === 0) {
        this.completeBatch(b, p.baseOffset, Number(p.logAppendTimeMs), nowMs)
        continue
      }
      if (LEADER_ERRORS.has(p.errorCode)) this.metadata.requestUpdate()
      const detail = p.errorMessage ?? (p.recordErrors.length > 0 ? p.recordErrors.map((e) => e.batchIndexErrorMessage).join('; ') : null)
      const err = brokerError(p.errorCode, `producing to ${b.topic}-${b.partition} on node ${nodeId}`, detail)
      if (isRetriable(p.errorCode)) this.retryOrFail(b, err, nowMs)
      else this.failBatch(b, err, nowMs)
    }
  }

  private retryOrFail(batch: ProducerBatch, error: KafkaClientError, nowMs: number): void {
    if (error.retriable && batch.attempts < this.opts.retries && !batch.hasReachedDeliveryTimeout(this.opts.deliveryTimeoutMs, nowMs)) {
      this.metrics.recordRetryTotal += batch.recordCount
      this.accumulator.reenqueue(batch, nowMs)
      return
    }
    this.failBatch(batch, error, nowMs)
  }

  private completeBatch(batch: ProducerBatch, baseOffset: bigint, logAppendTime: number, _nowMs: number): void {
    batch.done(baseOffset, logAppendTime, null)
    this.accumulator.deallocate(batch)
  }

  private failBatch(batch: ProducerBatch, error: Error, _nowMs: number): void {
    this.metrics.recordErrorTotal += batch.recordCount
    batch.done(-1n, -1, error)
    this.accumulator.deallocate(batch)
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
