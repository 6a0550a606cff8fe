/**
 * Java's `ThroughputThrottler` (server-common, used by ProducerPerformance):
 * after each send, `shouldThrottle(sentSoFar, sendStartMs)` is true while the
 * average rate since the start exceeds the target; `throttle()` then adds one
 * record's share of time (1 / target s) to a sleep deficit and, once the
 * deficit reaches 2 ms, sleeps it off and clears it. Oversleeping needs no
 * correction: the average drops below the target and the next sends go
 * unthrottled until it catches up.
 *
 * Java sleeps the thread; here `throttle()` resolves after the deficit has
 * passed on the injected clock, sleeping with the injected `sleep` (a timer
 * in the CLI, a fake in tests). A negative target never throttles.
 */
export interface ThrottlerClock {
  /** Monotonic nanoseconds (Java's System.nanoTime). */
  nowNs(): number
  /** Resolves after about `ms` milliseconds. */
  sleep(ms: number): Promise<void>
}

const NS_PER_MS = 1_000_000
const NS_PER_SEC = 1_000 * NS_PER_MS
const MIN_SLEEP_NS = 2 * NS_PER_MS

export class ThroughputThrottler {
  private readonly sleepTimeNs: number
  private sleepDeficitNs = 0

  constructor(
    private readonly targetThroughput: number,
    private readonly startMs: number,
    private readonly clock: ThrottlerClock,
  ) {
    this.sleepTimeNs = targetThroughput > 0 ? NS_PER_SEC / targetThroughput : Number.POSITIVE_INFINITY
  }

  shouldThrottle(amountSoFar: number, sendStartMs: number): boolean {
    if (this.targetThroughput < 0) return false
    const elapsedSec = (sendStartMs - this.startMs) / 1000
    return elapsedSec > 0 && amountSoFar / elapsedSec > this.targetThroughput
  }

  /** Accumulates one record's sleep time; sleeps once it reaches 2 ms. */
  async throttle(): Promise<void> {
    this.sleepDeficitNs += this.sleepTimeNs
    if (this.sleepDeficitNs < MIN_SLEEP_NS) return
    const start = this.clock.nowNs()
    let remaining = this.sleepDeficitNs
    while (remaining > 0) {
      await this.clock.sleep(Math.ceil(remaining / NS_PER_MS))
      remaining = this.sleepDeficitNs - (this.clock.nowNs() - start)
    }
    this.sleepDeficitNs = 0
  }
}
