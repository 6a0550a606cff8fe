/**
 * The measurements of one perf run, as Java's `ProducerPerformance.Stats`:
 * every acknowledged record's latency (ms from just before `send()` to its
 * callback, whole milliseconds as Java's currentTimeMillis difference) and
 * size; a window that is reported every `reportingIntervalMs` (5 s in Java);
 * and a sample of latencies for the percentiles: every `sampling`-th record,
 * `sampling = numRecords / min(numRecords, 500000)`, so at most ~500,000 are
 * kept, as Java keeps them.
 *
 * For the live view and the HTML report it also keeps, at a fixed cost per
 * record (no allocation but amortized array growth): per-second totals
 * (records, bytes, latency sum and max, by second since the start) and an
 * exact latency histogram by whole millisecond.
 *
 * Time comes from the caller (`nowMs` arguments): no clock is read here.
 */
export class PerfStats {
  count = 0
  bytes = 0
  totalLatency = 0
  maxLatency = 0
  /** When the last acknowledgement came (the start until one has). */
  lastMs: number
  private readonly sampling: number
  private readonly latencies: Int32Array
  private index = 0
  private windowStart: number
  private windowCount = 0
  private windowBytes = 0
  private windowTotalLatency = 0
  private windowMaxLatency = 0
  /** Per second since `startMs`: records, bytes, latency sum, latency max. */
  readonly secCount: number[] = []
  readonly secBytes: number[] = []
  readonly secLatencySum: number[] = []
  readonly secLatencyMax: number[] = []
  /** histogram[ms] = records with that latency. */
  private histogram = new Float64Array(1024)
  private histogramTop = -1

  constructor(
    numRecords: number,
    private readonly reportingIntervalMs: number,
    readonly startMs: number,
    /** Receives Java's window line when a window closes; null: windows are not reported. */
    private readonly onWindow: ((line: string) => void) | null,
  ) {
    this.sampling = Math.max(1, Math.floor(numRecords / Math.min(numRecords, 500_000)))
    this.latencies = new Int32Array(Math.floor(numRecords / this.sampling) + 1)
    this.windowStart = startMs
    this.lastMs = startMs
  }

  /** One acknowledged record (Java's PerfCallback.onCompletion without an exception). */
  record(latency: number, bytes: number, nowMs: number): void {
    this.count++
    this.lastMs = nowMs
    this.bytes += bytes
    this.totalLatency += latency
    if (latency > this.maxLatency) this.maxLatency = latency
    this.windowCount++
    this.windowBytes += bytes
    this.windowTotalLatency += latency
    if (latency > this.windowMaxLatency) this.windowMaxLatency = latency
    // Java samples by the record's index; here by its completion's (count - 1), the same set of sizes.
    if ((this.count - 1) % this.sampling === 0 && this.index < this.latencies.length) this.latencies[this.index++] = latency
    this.recordSecond(latency, bytes, nowMs)
    this.recordHistogram(latency)
    if (this.onWindow !== null && nowMs - this.windowStart >= this.reportingIntervalMs) {
      this.onWindow(this.windowLine(nowMs))
      this.newWindow(nowMs)
    }
  }

  private recordSecond(latency: number, bytes: number, nowMs: number): void {
    const s = Math.max(0, Math.floor((nowMs - this.startMs) / 1000))
    while (this.secCount.length <= s) {
      this.secCount.push(0)
      this.secBytes.push(0)
      this.secLatencySum.push(0)
      this.secLatencyMax.push(0)
    }
    this.secCount[s]!++
    this.secBytes[s]! += bytes
    this.secLatencySum[s]! += latency
    if (latency > this.secLatencyMax[s]!) this.secLatencyMax[s] = latency
  }

  private recordHistogram(latency: number): void {
    const ms = Math.max(0, latency | 0)
    if (ms >= this.histogram.length) {
      const grown = new Float64Array(Math.max(ms + 1, this.histogram.length * 2))
      grown.set(this.histogram)
      this.histogram = grown
    }
    this.histogram[ms]!++
    if (ms > this.histogramTop) this.histogramTop = ms
  }

  /** Records per whole-millisecond latency, 0 … max latency. */
  latencyHistogram(): Float64Array {
    return this.histogram.subarray(0, this.histogramTop + 1)
  }

  /** Java's printWindow line. */
  windowLine(nowMs: number): string {
    const elapsed = nowMs - this.windowStart
    const recsPerSec = (1000 * this.windowCount) / elapsed
    const mbPerSec = (1000 * this.windowBytes) / elapsed / (1024 * 1024)
    return (
      `${this.windowCount} records sent, ${fixed(recsPerSec, 1)} records/sec (${fixed(mbPerSec, 2)} MB/sec), ` +
      `${fixed(this.windowTotalLatency / this.windowCount, 1)} ms avg latency, ${fixed(this.windowMaxLatency, 1)} ms max latency.`
    )
  }

  private newWindow(nowMs: number): void {
    this.windowStart = nowMs
    this.windowCount = 0
    this.windowBytes = 0
    this.windowTotalLatency = 0
    this.windowMaxLatency = 0
  }

  /** Latency percentiles of the sample, as Java's `Stats.percentiles`: sorted, the element at ⌊p·n⌋. */
  percentiles(...ps: number[]): number[] {
    const size = Math.min(this.index, this.latencies.length)
    const sorted = this.latencies.slice(0, Math.max(size, 1)).sort()
    return ps.map((p) => sorted[Math.min(Math.floor(p * size), sorted.length - 1)]!)
  }

  /** Java's printTotal line; `p` are the 50th, 95th, 99th and 99.9th percentiles when already computed. */
  totalLine(nowMs: number, p: readonly number[] = this.percentiles(0.5, 0.95, 0.99, 0.999)): string {
    const elapsed = nowMs - this.startMs
    const recsPerSec = (1000 * this.count) / elapsed
    const mbPerSec = (1000 * this.bytes) / elapsed / (1024 * 1024)
    const [p50, p95, p99, p999] = p
    return (
      `${this.count} records sent, ${fixed(recsPerSec, 1)} records/sec (${fixed(mbPerSec, 2)} MB/sec), ` +
      `${fixed(this.totalLatency / this.count, 2)} ms avg latency, ${fixed(this.maxLatency, 2)} ms max latency, ` +
      `${p50} ms 50th, ${p95} ms 95th, ${p99} ms 99th, ${p999} ms 99.9th.`
    )
  }
}

/** Java's `%.Nf` (NaN and Infinity spelled as Java spells them). */
export function fixed(v: number, digits: number): string {
  if (Number.isNaN(v)) return 'NaN'
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity'
  return v.toFixed(digits)
}
