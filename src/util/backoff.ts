/**
 * Exponential backoff with jitter, as Java's `ExponentialBackoff`:
 * `initial * multiplier^attempts`, capped at `max`, then spread by ±jitter so
 * that many clients retrying together do not arrive in lockstep.
 */
export class ExponentialBackoff {
  private readonly expMax: number
  private readonly initialMs: number

  constructor(
    initialMs: number,
    private readonly multiplier: number,
    private readonly maxMs: number,
    private readonly jitter: number,
    private readonly random: () => number = Math.random,
  ) {
    // As Java: an initial value above the maximum is clamped, so `max` is a hard bound.
    this.initialMs = Math.min(initialMs, maxMs)
    this.expMax = maxMs > initialMs ? Math.log(maxMs / Math.max(initialMs, 1)) / Math.log(multiplier) : 0
  }

  backoff(attempts: number): number {
    if (this.expMax === 0) return this.initialMs
    const exp = Math.min(attempts, this.expMax)
    const term = this.initialMs * Math.pow(this.multiplier, exp)
    const randomFactor = this.jitter < Number.MIN_VALUE ? 1 : 1 - this.jitter + this.random() * 2 * this.jitter
    const value = Math.trunc(randomFactor * term)
    return Math.min(value, this.maxMs)
  }
}
