/**
 * Windowed statistics with the semantics of Java's `org.apache.kafka.common.metrics`
 * (`metrics.num.samples` = 2 windows of `metrics.sample.window.ms` = 30 s):
 * an average, maximum or rate covers the samples not older than the windows,
 * so a metric reflects the last 30–60 s rather than the whole life of the
 * producer. With no samples, averages and maxima are NaN, as in Java.
 *
 * One stat serves every metric of a Java sensor over the same values: the
 * average and maximum of the values, their sum per second (`rate`, Java's
 * `Rate`), the number of values per second (`countRate`, Java's
 * `Rate(WindowedCount)`), and, never windowed, how many values were recorded
 * and their sum since creation (`totalCount`, `totalSum`: Java's
 * `CumulativeCount` and `CumulativeSum`, the `*-total` beside each rate).
 * Recording allocates nothing.
 */
export class SampledStat {
  /** Values recorded since creation (Java's CumulativeCount). */
  totalCount = 0
  /** Sum of the values recorded since creation (Java's CumulativeSum). */
  totalSum = 0
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
    this.totalCount++
    this.totalSum += value
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
    return this.perSecond(this.sums, nowMs)
  }

  /** Values recorded per second over the live windows (Java's `Rate` of a `WindowedCount`), windowed as `rate`. */
  countRate(nowMs: number): number {
    return this.perSecond(this.counts, nowMs)
  }

  private perSecond(values: readonly number[], nowMs: number): number {
    let sum = 0
    let oldest = nowMs
    for (let i = 0; i < this.numSamples; i++) {
      if (!this.live(i, nowMs)) continue
      sum += values[i]!
      oldest = Math.min(oldest, this.starts[i]!)
    }
    let elapsed = nowMs - oldest
    const fullWindows = Math.floor(elapsed / this.windowMs)
    const minFullWindows = this.numSamples - 1
    if (fullWindows < minFullWindows) elapsed += (minFullWindows - fullWindows) * this.windowMs
    return (sum * 1000) / Math.max(elapsed, 1)
  }
}
