import { SampledStat } from '../util/sampled-stat.js'

/**
 * A point-in-time view of the producer's metrics, using the Java producer's
 * metric names (`producer-metrics` and `producer-node-metrics`), as returned
 * by {@link KafkaProducer.metrics}. Windowed values cover the last 30 to 60
 * seconds (Java's two 30 s samples); an average or maximum with no sample in
 * that time is NaN, as in Java.
 *
 * @example
 * ```ts
 * setInterval(() => {
 *   const m = producer.metrics()
 *   console.log(`${m['record-send-rate'].toFixed(0)} records/s, ${m['request-latency-avg'].toFixed(1)} ms,`,
 *     `${m['buffer-total-bytes'] - m['buffer-available-bytes']} bytes buffered`)
 * }, 10_000).unref()
 * ```
 */
export interface ProducerMetricsSnapshot extends RequestMetricsSnapshot {
  /** Records sent per second (windowed). */
  'record-send-rate': number
  /** Records sent since the producer started. */
  'record-send-total': number
  /** Records whose send failed, since the producer started. */
  'record-error-total': number
  /** Records re-sent after a retriable error, since the producer started. */
  'record-retry-total': number
  /** Batches split because the broker found them too large (MESSAGE_TOO_LARGE), since the producer started. */
  'batch-split-total': number
  /** Average records per Produce request (windowed). */
  'records-per-request-avg': number
  /** Average bytes per batch sent (windowed). */
  'batch-size-avg': number
  /** Average ms a batch waited in the accumulator before being sent (windowed). */
  'record-queue-time-avg': number
  /** Produce requests sent since the producer started. */
  'request-total': number
  /** Memory the accumulator may still use, in bytes. */
  'buffer-available-bytes': number
  /** `buffer.memory`. */
  'buffer-total-bytes': number
  /** Broker connections open and usable now. */
  'connection-count': number
  /** Connections established since the producer started. */
  'connection-creation-total': number
  /** Connections closed, by either side, since the producer started. */
  'connection-close-total': number
  /** Sends waiting for memory or metadata. */
  'waiting-sends': number
  /**
   * Java's: the average ratio of compressed to uncompressed records bytes per
   * batch (windowed); 1 when batches go uncompressed, NaN before any batch.
   * Recorded once per compressed batch (Java: per batch sent, retries again).
   */
  'compression-rate-avg': number
  /**
   * Per codec in use (`compression.type`; empty for none): records bytes
   * handed to the codec and bytes it produced, since the producer started
   * (split batches are compressed again and count again).
   */
  compression: Record<
    string,
    {
      /** Records bytes handed to the codec. */
      'bytes-in-total': number
      /** Bytes the codec produced. */
      'bytes-out-total': number
    }
  >
  /**
   * Total nanoseconds sends waited for their topic's metadata, counting the
   * waits that ended with the metadata (Java's KafkaProducerMetrics
   * metadata-wait-time-ns-total; measured in ms).
   */
  'metadata-wait-time-ns-total': number
  /** Total nanoseconds spent in `flush()`, from the call until it resolved or rejected (Java's KafkaProducerMetrics flush-time-ns-total). */
  'flush-time-ns-total': number
  /**
   * Total nanoseconds spent in `initTransactions()` (Java's names, counted
   * as Java counts them: from the call until it returned or resolved); 0 for
   * a producer without transactions. So are the other `txn-*` totals.
   */
  'txn-init-time-ns-total': number
  /** Total nanoseconds spent in `beginTransaction()`. */
  'txn-begin-time-ns-total': number
  /** Total nanoseconds spent in `sendOffsetsToTransaction()`. */
  'txn-send-offsets-time-ns-total': number
  /** Total nanoseconds spent in `commitTransaction()`. */
  'txn-commit-time-ns-total': number
  /** Total nanoseconds spent in `abortTransaction()`. */
  'txn-abort-time-ns-total': number
  /** Records failed per second (windowed; Java's record-error-rate). */
  'record-error-rate': number
  /** Records re-sent per second after a retriable error (windowed). */
  'record-retry-rate': number
  /** Average, over batches sent, of the batch's largest record in bytes (windowed; Java's record-size-avg). */
  'record-size-avg': number
  /** Largest record in bytes of the batches sent (windowed; Java's record-size-max). */
  'record-size-max': number
  /** Produce requests sent per second (windowed). */
  'request-rate': number
  /** Largest batch sent, in bytes (windowed). */
  'batch-size-max': number
  /** Batches split per second (windowed). */
  'batch-split-rate': number
  /** Longest ms a batch waited in the accumulator before being sent (windowed). */
  'record-queue-time-max': number
  /** Sends failed per second because no buffer memory came within max.block.ms (windowed). */
  'buffer-exhausted-rate': number
  /** Sends failed because no buffer memory came within max.block.ms, since the producer started. */
  'buffer-exhausted-total': number
  /** Fraction of time sends spent waiting for buffer memory (windowed; Java's bufferpool-wait-ratio). */
  'bufferpool-wait-ratio': number
  /** Total ns sends waited for buffer memory, since start. */
  'bufferpool-wait-time-ns-total': number
  /** Seconds since the last successful metadata update; NaN before the first. */
  'metadata-age': number
  /** Connections established per second (windowed). */
  'connection-creation-rate': number
  /** Connections closed, by either side, per second (windowed). */
  'connection-close-rate': number
  /** Connections that completed authentication per second (PLAINTEXT and TLS-only included, as Java; windowed). */
  'successful-authentication-rate': number
  /** Connections that completed authentication (PLAINTEXT and TLS-only included, as Java), since the producer started. */
  'successful-authentication-total': number
  /** Connections whose TLS handshake or SASL authentication was rejected, per second (windowed). */
  'failed-authentication-rate': number
  /** Connections whose TLS handshake or SASL authentication was rejected, since the producer started. */
  'failed-authentication-total': number
  /** Per node (by broker id). */
  nodes: Record<string, NodeMetricsSnapshot>
  /** Per topic, for every topic a batch was sent to (Java's topic-level producer metrics). */
  topics: Record<string, TopicMetricsSnapshot>
}

/**
 * The keys {@link ProducerMetricsSnapshot} and {@link NodeMetricsSnapshot}
 * share, with one meaning: at the top level a value covers every broker, in
 * `nodes[id]` that broker only. Request sizes, responses and bytes count
 * frames of any API (size prefix included, Java's Selector metrics); latency
 * and throttle time, Produce requests (Java's Sender metrics).
 */
export interface RequestMetricsSnapshot {
  /** Requests of any API sent and not yet answered. */
  'requests-in-flight': number
  /** Average ms from sending a Produce request to its response (windowed). */
  'request-latency-avg': number
  /** Maximum ms from sending a Produce request to its response (windowed). */
  'request-latency-max': number
  /** Average bytes per request written, size prefix included (windowed). */
  'request-size-avg': number
  /** Largest request written, in bytes, size prefix included (windowed). */
  'request-size-max': number
  /** Responses read per second (windowed). */
  'response-rate': number
  /** Responses read since the producer started. */
  'response-total': number
  /** Bytes read per second (windowed). */
  'incoming-byte-rate': number
  /** Bytes read since the producer started. */
  'incoming-byte-total': number
  /** Bytes written per second (windowed). */
  'outgoing-byte-rate': number
  /** Bytes written since the producer started. */
  'outgoing-byte-total': number
  /** Average ms the broker asked us to hold off (throttle_time_ms, 0 when not throttled) over Produce responses (windowed). */
  'produce-throttle-time-avg': number
  /** Largest throttle_time_ms of the Produce responses (windowed). */
  'produce-throttle-time-max': number
}

/** One broker's metrics in {@link ProducerMetricsSnapshot}: Java's node-level sender and selector metrics. */
export interface NodeMetricsSnapshot extends RequestMetricsSnapshot {
  /** Requests of any API written to this node per second (windowed). */
  'request-rate': number
  /** Requests of any API written to this node since the producer started. */
  'request-total': number
}

/** The {@link RequestMetricsSnapshot} keys that come from frames written and read (Java's Selector metrics). */
type IoMetricsSnapshot = Pick<
  RequestMetricsSnapshot,
  | 'request-size-avg'
  | 'request-size-max'
  | 'response-rate'
  | 'response-total'
  | 'incoming-byte-rate'
  | 'incoming-byte-total'
  | 'outgoing-byte-rate'
  | 'outgoing-byte-total'
>

/** The frame keys of a snapshot, from all connections' stats (`SelectorMetrics`) or one node's (`NodeIoMetrics`). */
export function ioSnapshot({ sent, received }: { readonly sent: SampledStat; readonly received: SampledStat }, nowMs: number): IoMetricsSnapshot {
  return {
    'request-size-avg': sent.avg(nowMs),
    'request-size-max': sent.max(nowMs),
    'response-rate': received.countRate(nowMs),
    'response-total': received.totalCount,
    'incoming-byte-rate': received.rate(nowMs),
    'incoming-byte-total': received.totalSum,
    'outgoing-byte-rate': sent.rate(nowMs),
    'outgoing-byte-total': sent.totalSum,
  }
}

/** One topic's metrics in {@link ProducerMetricsSnapshot}. */
export interface TopicMetricsSnapshot {
  /** Records of this topic sent per second (windowed). */
  'record-send-rate': number
  /** Records of this topic sent since the producer started. */
  'record-send-total': number
  /** Bytes of this topic's batches sent per second (windowed). */
  'byte-rate': number
  /** Bytes of this topic's batches sent since the producer started. */
  'byte-total': number
  /** Records of this topic failed per second (windowed). */
  'record-error-rate': number
  /** Records of this topic failed since the producer started. */
  'record-error-total': number
  /** Records of this topic re-sent per second after a retriable error (windowed). */
  'record-retry-rate': number
  /** Records of this topic re-sent after a retriable error since the producer started. */
  'record-retry-total': number
  /** Average compressed / uncompressed records bytes of its batches sent (1 uncompressed; windowed). */
  'compression-rate': number
}

/**
 * One topic's sensors, made the first time a batch of the topic is sent
 * (Java's `SenderMetrics.maybeRegisterTopicMetrics`) and then found with one
 * Map lookup per batch, never per record.
 */
export class TopicMetrics {
  readonly records = new SampledStat()
  readonly bytes = new SampledStat()
  /** Per compressed batch: its ratio; nothing without compression (see `ProducerMetrics.topicCompressionRate`). */
  readonly compression = new SampledStat()
  readonly retries = new SampledStat()
  readonly errors = new SampledStat()
}

/** One broker's Sender sensors (Java's per-node request-latency and produce-throttle-time), made on its first response. */
export class NodeMetrics {
  /** Per Produce response: ms from the request's creation to its response. */
  readonly latency = new SampledStat()
  /** Per Produce response: its throttle_time_ms (0 included). */
  readonly throttleTime = new SampledStat()
}

/**
 * The producer's sensors. Recording happens per batch or per request, never
 * per record. Windowed values use the
 * clock given at construction (the producer's injected clock) when the
 * caller has no reading of it at hand (errors, which are rare). Every
 * `*-total` is a stat's own total (`totalSum` or `totalCount`, Java's
 * CumulativeSum / CumulativeCount beside the Rate of the same sensor), never
 * a counter kept beside it.
 */
export class ProducerMetrics {
  /** Call times in ns, as Java's KafkaProducerMetrics flush-time-ns-total and txn-*-time-ns-total. */
  flushTimeNs = 0
  /** Ms sends waited for topic metadata (on the producer's clock, as bufferpool waits), reported in ns. */
  metadataWaitMs = 0
  txnInitTimeNs = 0
  txnBeginTimeNs = 0
  txnSendOffsetsTimeNs = 0
  txnCommitTimeNs = 0
  txnAbortTimeNs = 0
  readonly recordSend = new SampledStat()
  readonly recordsPerRequest = new SampledStat()
  readonly batchSize = new SampledStat()
  readonly queueTime = new SampledStat()
  readonly requestLatency = new SampledStat()
  /** Per node (broker id): its latency and throttle sensors. */
  readonly nodes = new Map<number, NodeMetrics>()
  /** Records failed / retried (values: record counts). */
  readonly errors = new SampledStat()
  readonly retries = new SampledStat()
  /** Per batch sent: its largest record's size. */
  readonly recordSize = new SampledStat()
  /** One value (1) per batch split. */
  readonly batchSplit = new SampledStat()
  /** Per Produce response: its throttle_time_ms (per node: `nodes`). */
  readonly produceThrottleTime = new SampledStat()
  /** Per send that waited for buffer memory: ms waited. */
  readonly bufferPoolWait = new SampledStat()
  /** One value per send that found no memory within max.block.ms. */
  readonly bufferExhausted = new SampledStat()
  readonly topics = new Map<string, TopicMetrics>()
  /** compression.type; 'none' records nothing below. */
  compressionCodec = 'none'
  readonly compressionRate = new SampledStat()
  compressionBytesIn = 0
  compressionBytesOut = 0

  constructor(private readonly time: () => number = Date.now) {}

  /** A batch was compressed: per batch, never per record, and never without compression. */
  recordCompression(uncompressedBytes: number, compressedBytes: number, nowMs: number): void {
    this.compressionBytesIn += uncompressedBytes
    this.compressionBytesOut += compressedBytes
    this.compressionRate.record(compressedBytes / uncompressedBytes, nowMs)
  }

  /** `compression-rate-avg`: Java's 1.0 per uncompressed batch is not recorded, but reported as such. */
  compressionRateAvg(nowMs: number): number {
    if (this.compressionCodec === 'none') return Number.isNaN(this.batchSize.avg(nowMs)) ? NaN : 1
    return this.compressionRate.avg(nowMs)
  }

  /**
   * A topic's `compression-rate`: Java records 1.0 per uncompressed batch
   * (MemoryRecordsBuilder's actualCompressionRatio with NONE); that value is
   * reported, not recorded, as for compression-rate-avg. `t.bytes` has a
   * value per batch sent at the same instants, so the two are NaN alike.
   */
  topicCompressionRate(t: TopicMetrics, nowMs: number): number {
    if (this.compressionCodec === 'none') return Number.isNaN(t.bytes.avg(nowMs)) ? NaN : 1
    return t.compression.avg(nowMs)
  }

  compressionSnapshot(): ProducerMetricsSnapshot['compression'] {
    if (this.compressionCodec === 'none') return {}
    return { [this.compressionCodec]: { 'bytes-in-total': this.compressionBytesIn, 'bytes-out-total': this.compressionBytesOut } }
  }

  /** The topic's sensors, made on first use (Java's maybeRegisterTopicMetrics). */
  topic(name: string): TopicMetrics {
    let t = this.topics.get(name)
    if (t === undefined) this.topics.set(name, (t = new TopicMetrics()))
    return t
  }

  /** One batch of `topic` (its sensors, from `topic()`) went into a Produce request (Java's updateProduceRequestMetrics). */
  recordBatchSent(
    records: number,
    bytes: number,
    queueTimeMs: number,
    nowMs: number,
    topic: TopicMetrics,
    maxRecordSize: number,
    compressionRatio: number,
  ): void {
    this.recordSend.record(records, nowMs)
    this.batchSize.record(bytes, nowMs)
    this.queueTime.record(queueTimeMs, nowMs)
    this.recordSize.record(maxRecordSize, nowMs)
    topic.records.record(records, nowMs)
    topic.bytes.record(bytes, nowMs)
    if (this.compressionCodec !== 'none') topic.compression.record(compressionRatio, nowMs)
  }

  recordRequest(records: number, nowMs: number): void {
    this.recordsPerRequest.record(records, nowMs)
  }

  /** The node's sensors, made on first use. */
  node(nodeId: number): NodeMetrics {
    let n = this.nodes.get(nodeId)
    if (n === undefined) this.nodes.set(nodeId, (n = new NodeMetrics()))
    return n
  }

  recordLatency(nodeId: number, latencyMs: number, nowMs: number): void {
    this.requestLatency.record(latencyMs, nowMs)
    this.node(nodeId).latency.record(latencyMs, nowMs)
  }

  /** A Produce response's throttle_time_ms (0 included, so the average is per response). */
  recordThrottleTime(nodeId: number, throttleMs: number, nowMs: number): void {
    this.produceThrottleTime.record(throttleMs, nowMs)
    this.node(nodeId).throttleTime.record(throttleMs, nowMs)
  }

  /** `count` records failed; `topic` when they had reached a batch (Java's SenderMetrics.recordErrors), else null. */
  recordErrors(count: number, topic: string | null = null, nowMs = this.time()): void {
    this.errors.record(count, nowMs)
    if (topic !== null) this.topics.get(topic)?.errors.record(count, nowMs)
  }

  /** `count` records of `topic` go out again (Java's SenderMetrics.recordRetries). */
  recordRetries(count: number, topic: string, nowMs: number): void {
    this.retries.record(count, nowMs)
    this.topics.get(topic)?.retries.record(count, nowMs)
  }

  recordBatchSplit(nowMs: number): void {
    this.batchSplit.record(1, nowMs)
  }

  /** A send waited `waitedMs` for buffer memory (Java's BufferPool.recordWaitTime); `exhausted`: and got none. */
  /** A send that waited for its topic's metadata got it after `waitedMs` (Java's recordMetadataWait). */
  recordMetadataWait(waitedMs: number): void {
    this.metadataWaitMs += waitedMs
  }

  recordBufferPoolWait(waitedMs: number, exhausted: boolean, nowMs: number): void {
    this.bufferPoolWait.record(waitedMs, nowMs)
    if (exhausted) this.bufferExhausted.record(1, nowMs)
  }

  recordRate(nowMs: number): number {
    return this.recordSend.rate(nowMs)
  }
}


