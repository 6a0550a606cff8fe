/**
 * Windowed statistics with the semantics of Java's `org.apache.kafka.common.metrics`
 * (`metrics.num.samples` = 2 windows of `metrics.sample.window.ms` = 30 s):
 * an average, maximum or rate covers the samples not older than the windows,
 * so a metric reflects the last 30–60 s rather than the whole life of the
 * producer. With no samples, averages and maxima are NaN, as in Java.
 */
export class SampledStat {
  private readonly starts: number[]
  private readonly counts: number[]
  private readonly sums: number[]
  private readonly maxes: number[]
  private current = 0

  constructor(
    private readonly windowMs = 30_000,
    private readonly numSamples = 2,
  ) {
    this.starts = new Array<number>(numSamples).fill(-Infinity)
    this.counts = new Array<number>(numSamples).fill(0)
    this.sums = new Array<number>(numSamples).fill(0)
    this.maxes = new Array<number>(numSamples).fill(-Infinity)
  }

  record(value: number, nowMs: number): void {
    let i = this.current
    if (nowMs - this.starts[i]! >= this.windowMs) {
      i = this.current = (i + 1) % this.numSamples
      this.starts[i] = nowMs
      this.counts[i] = 0
      this.sums[i] = 0
      this.maxes[i] = -Infinity
    }
    this.counts[i]!++
    this.sums[i]! += value
    if (value > this.maxes[i]!) this.maxes[i] = value
  }

  private live(i: number, nowMs: number): boolean {
    return nowMs - this.starts[i]! < this.windowMs * this.numSamples
  }

  avg(nowMs: number): number {
    let sum = 0
    let count = 0
    for (let i = 0; i < this.numSamples; i++) {
      if (!this.live(i, nowMs)) continue
      sum += this.sums[i]!
      count += this.counts[i]!
    }
    return count === 0 ? NaN : sum / count
  }

  max(nowMs: number): number {
    let m = -Infinity
    for (let i = 0; i < this.numSamples; i++) if (this.live(i, nowMs) && this.counts[i]! > 0) m = Math.max(m, this.maxes[i]!)
    return m === -Infinity ? NaN : m
  }

  /**
   * Sum of recorded values per second over the live windows, as Java's
   * `Rate.windowSize`: the span from the oldest live window's start, padded
   * to at least `numSamples - 1` whole windows (so one early burst is not
   * reported as a huge rate), and never under 1 ms.
   */
  rate(nowMs: number): number {
    let sum = 0
    let oldest = nowMs
    for (let i = 0; i < this.numSamples; i++) {
      if (!this.live(i, nowMs)) continue
      sum += this.sums[i]!
      oldest = Math.min(oldest, this.starts[i]!)
    }
    let elapsed = nowMs - oldest
    const fullWindows = Math.floor(elapsed / this.windowMs)
    const minFullWindows = this.numSamples - 1
    if (fullWindows < minFullWindows) elapsed += (minFullWindows - fullWindows) * this.windowMs
    return (sum * 1000) / Math.max(elapsed, 1)
  }
}

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
export interface ProducerMetricsSnapshot {
  /** Requests sent and not yet answered, over all nodes. */
  'requests-in-flight': number
  /** Records sent per second (windowed). */
  'record-send-rate': number
  /** Records sent since the producer started. */
  'record-send-total': number
  /** Records whose send failed, since the producer started. */
  'record-error-total': number
  /** Batches re-sent after a retriable error, since the producer started. */
  'record-retry-total': number
  /** Batches split because the broker found them too large (MESSAGE_TOO_LARGE), since the producer started. */
  'batch-split-total': number
  /** Average records per Produce request (windowed). */
  'records-per-request-avg': number
  /** Average bytes per batch sent (windowed). */
  'batch-size-avg': number
  /** Average ms a batch waited in the accumulator before being sent (windowed). */
  'record-queue-time-avg': number
  /** Average ms from sending a Produce request to its response (windowed). */
  'request-latency-avg': number
  /** Maximum ms from sending a Produce request to its response (windowed). */
  'request-latency-max': number
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
  /** Per node, by broker id (Java's `producer-node-metrics`). */
  nodes: Record<
    string,
    {
      /** Requests sent to this broker and not yet answered. */
      'requests-in-flight': number
      /** Average ms from a Produce request to this broker to its response (windowed). */
      'request-latency-avg': number
      /** Maximum ms from a Produce request to this broker to its response (windowed). */
      'request-latency-max': number
    }
  >
}

/**
 * The producer's sensors. Recording happens per batch or per request, never
 * per record, except for one counter increment.
 */
export class ProducerMetrics {
  recordSendTotal = 0
  recordErrorTotal = 0
  /** Transactional call times, ns (Java's KafkaProducerMetrics txn-*-time-ns-total). */
  txnInitTimeNs = 0
  txnBeginTimeNs = 0
  txnSendOffsetsTimeNs = 0
  txnCommitTimeNs = 0
  txnAbortTimeNs = 0
  recordRetryTotal = 0
  batchSplitTotal = 0
  requestTotal = 0
  readonly recordSend = new SampledStat()
  readonly recordsPerRequest = new SampledStat()
  readonly batchSize = new SampledStat()
  readonly queueTime = new SampledStat()
  readonly requestLatency = new SampledStat()
  readonly nodeLatency = new Map<number, SampledStat>()
  /** compression.type; 'none' records nothing below. */
  compressionCodec = 'none'
  readonly compressionRate = new SampledStat()
  compressionBytesIn = 0
  compressionBytesOut = 0

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

  compressionSnapshot(): ProducerMetricsSnapshot['compression'] {
    if (this.compressionCodec === 'none') return {}
    return { [this.compressionCodec]: { 'bytes-in-total': this.compressionBytesIn, 'bytes-out-total': this.compressionBytesOut } }
  }

  recordBatchSent(records: number, bytes: number, queueTimeMs: number, nowMs: number): void {
    this.recordSendTotal += records
    this.recordSend.record(records, nowMs)
    this.batchSize.record(bytes, nowMs)
    this.queueTime.record(queueTimeMs, nowMs)
  }

  recordRequest(records: number, nowMs: number): void {
    this.requestTotal++
    this.recordsPerRequest.record(records, nowMs)
  }

  recordLatency(nodeId: number, latencyMs: number, nowMs: number): void {
    this.requestLatency.record(latencyMs, nowMs)
    let s = this.nodeLatency.get(nodeId)
    if (s === undefined) this.nodeLatency.set(nodeId, (s = new SampledStat()))
    s.record(latencyMs, nowMs)
  }

  recordRate(nowMs: number): number {
    return this.recordSend.rate(nowMs)
  }
}
