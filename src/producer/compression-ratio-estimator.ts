/**
 * Java's `CompressionRatioEstimator`, per producer rather than per JVM: for
 * each topic, the ratio (compressed records bytes / uncompressed records
 * bytes) the next batch is expected to achieve, so that `batch.size` bounds
 * a batch's estimated *compressed* size and compressed batches come out near
 * batch.size instead of ratio x batch.size (Java's MemoryRecordsBuilder
 * `estimatedBytesWritten`).
 *
 * Rules, as Java 3.x/4.x (`CompressionType.rate` is 1.0 for every codec):
 * - a topic starts at {@link INITIAL_COMPRESSION_RATIO};
 * - a batch that compressed better than estimated lowers it to
 *   `max(estimate - COMPRESSION_RATIO_IMPROVING_STEP, observed)` (slowly: one
 *   good batch proves little; and never below what was achieved, so a batch
 *   just better than the estimate moves it to its ratio, not past it);
 * - a worse one raises it to `max(estimate + COMPRESSION_RATIO_DETERIORATE_STEP, observed)`
 *   (quickly: an underestimate makes batches the broker may reject);
 * - a split (MESSAGE_TOO_LARGE) resets it to `max(1.0, observed)` (KAFKA-8350),
 *   so the parts, and the batches after them, are bounded by uncompressed size.
 *
 * Invariant: every estimate is > 0 and finite (a ratio of 0 would make the
 * uncompressed write limit infinite).
 */
export class CompressionRatioEstimator {
  private readonly ratios = new Map<string, number>()

  /** The current estimate for `topic`. */
  estimation(topic: string): number {
    return this.ratios.get(topic) ?? INITIAL_COMPRESSION_RATIO
  }

  /**
   * Java's `CompressionRatioEstimator.updateEstimation`: folds in the ratio a
   * batch of `topic` achieved; returns the new estimate. Same rule as Java's,
   * in doubles where Java computes in floats.
   */
  updateEstimation(topic: string, observedRatio: number): number {
    const current = this.estimation(topic)
    let next = current
    if (observedRatio > current) next = Math.max(current + COMPRESSION_RATIO_DETERIORATE_STEP, observedRatio)
    else if (observedRatio < current) next = Math.max(current - COMPRESSION_RATIO_IMPROVING_STEP, observedRatio)
    next = Math.max(next, MIN_COMPRESSION_RATIO)
    this.ratios.set(topic, next)
    return next
  }

  /** Java's setEstimation, as splitAndReenqueue uses it. */
  setEstimation(topic: string, ratio: number): void {
    this.ratios.set(topic, Math.max(ratio, MIN_COMPRESSION_RATIO))
  }
}

/** Java's `CompressionType.rate` (1.0 for every codec since Kafka 2.x). */
export const INITIAL_COMPRESSION_RATIO = 1.0
/** Java's COMPRESSION_RATIO_IMPROVING_STEP. */
export const COMPRESSION_RATIO_IMPROVING_STEP = 0.005
/** Java's COMPRESSION_RATIO_DETERIORATE_STEP. */
export const COMPRESSION_RATIO_DETERIORATE_STEP = 0.05
/**
 * Java's MemoryRecordsBuilder.COMPRESSION_RATE_ESTIMATION_FACTOR: the estimate
 * is padded by 5% when sizing a batch.
 */
export const COMPRESSION_RATE_ESTIMATION_FACTOR = 1.05
/**
 * Floor of an estimate. Java has none (its estimate could in theory step below
 * zero); ours keeps the uncompressed write limit, which divides by the
 * estimate, finite: at 0.01 a 16 KiB batch.size allows 1.5 MiB of records.
 */
export const MIN_COMPRESSION_RATIO = 0.01

/**
 * Bytes of uncompressed records (header included) a compressed batch may hold
 * so that its estimated compressed size, `61 + records * ratio * 1.05`, stays
 * within `batchSize` (Java: `writeLimit >= estimatedBytesWritten()`).
 */
export function uncompressedWriteLimit(batchSize: number, ratio: number, headerSize: number): number {
  if (batchSize <= headerSize) return headerSize
  return headerSize + Math.floor((batchSize - headerSize) / (ratio * COMPRESSION_RATE_ESTIMATION_FACTOR))
}
