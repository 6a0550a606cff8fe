// Imported, not the global: Node's global `Buffer` is a lazy getter that runs on every use (bench/micro/FINDINGS.md).
import { Buffer } from 'node:buffer'
import { createAbortError, KafkaInvalidRecordError, KafkaProducerClosedError, KafkaTimeoutError } from '../errors.js'
import { Deque } from '../util/deque.js'
import type { BufferPoolInspection } from './inspection.js'

interface Waiter {
  readonly size: number
  readonly maxTimeToBlockMs: number
  readonly deadlineMs: number
  /** Bytes already reserved for this waiter out of the unallocated memory. */
  accumulated: number
  resolve: (buf: Buffer) => void
  reject: (err: Error) => void
}

/**
 * The smallest size class: a new batch starts in a buffer of at least this
 * many bytes. 512 B holds the 61-byte record-batch header and a few records
 * of ~100 B, so a partition that gets a handful of records between sends
 * holds 512 B rather than batch.size, and a busy one reaches 16 KiB in five
 * doublings (each copying less than the bytes written since the last one).
 * Smaller floors would save little against the fixed cost of a Node Buffer
 * (its ArrayBuffer and backing store) and add doublings.
 */
export const MIN_SIZE_CLASS = 512

/**
 * A bounded pool of batch buffers: Java's BufferPool for a single thread,
 * with free lists per size class instead of one list of `poolableSize`
 * buffers, so that batches can start small and grow (RecordAccumulator).
 *
 * Invariants:
 * - Size classes: the powers of two from `minSizeClass` below
 *   `poolableSize`, and `poolableSize` itself (batch.size, a power of two or
 *   not). A buffer whose length is a class goes back on its class's free
 *   list; any other size is allocated fresh and only its byte count comes back.
 * - Accounting: `totalMemory = handedOut + unallocated + freeBytes
 *   + sum(waiter.accumulated)`, where `handedOut` is the capacity of every buffer
 *   given out and not yet deallocated and `freeBytes` the total length of the
 *   buffers on the free lists. So the bytes this pool has handed out never
 *   exceed `totalMemory`, whatever the mix of sizes.
 * - Each free list is LIFO: the buffer freed last, still warm in the CPU
 *   caches from its socket write, is the next one handed out (Java's pool is
 *   FIFO, which cycles appends through the coldest memory). Memory taken back
 *   from the lists for other sizes comes from their cold ends, largest class
 *   first (the fewest buffers dropped per byte).
 * - FIFO: waiters are served strictly in arrival order. The head waiter
 *   reserves whatever memory becomes free (possibly in several deallocations)
 *   until it has its full size; nobody behind it, and no synchronous
 *   `tryAllocate` (a batch's growth included), takes memory while anyone waits.
 * - Cancellation: a waiter whose AbortSignal aborts leaves the queue at once
 *   (wherever it is), gives back what it had reserved, and rejects with an
 *   AbortError; a waiter that was served first never sees the abort.
 * - Timers: at most one, armed for the earliest waiter deadline, and none at
 *   all when nobody waits, so an idle pool never keeps the process alive.
 *   The timer is deliberately ref'd while someone waits: a pending `send()`
 *   must settle (success or timeout) rather than the process exiting under it.
 *
 * - Overdraft: `reserveOverdraft` (a compressed copy whose size is only
 *   known once the codec has run, so it cannot wait) may take more than is
 *   free, leaving `unallocated` negative. While it is, nothing is handed out
 *   (not even a pooled buffer) and waiters reserve nothing: the debt is
 *   repaid by deallocations first, so the bytes handed out exceed
 *   `totalMemory` by at most the overdraft, and only until it is repaid.
 *
 * Time is injected: deadlines are `nowMs + maxTimeToBlockMs` in the caller's
 * clock; when the timer fires, "now" is taken to be the deadline it was armed
 * for, so the pool itself never reads a clock.
 */
export class BufferPool {
  readonly totalMemory: number
  /** The largest size class (batch.size). */
  readonly poolableSize: number
  /** The smallest size class; `poolableSize` when that is smaller. */
  readonly minSizeClass: number
  /** Free lists, index k holding buffers of `classSizes[k]` bytes, ascending. */
  private readonly classSizes: number[] = []
  private readonly free: Deque<Buffer>[] = []
  /** Total length of the buffers on the free lists. */
  private freeBytes = 0
  private freeCount = 0
  private readonly waiters = new Deque<Waiter>()
  private nonPooledAvailableMemory: number
  private timer: NodeJS.Timeout | null = null
  private timerDeadlineMs = Infinity
  private closed = false

  constructor(totalMemory: number, poolableSize: number, minSizeClass: number = MIN_SIZE_CLASS) {
    if (!Number.isSafeInteger(totalMemory) || totalMemory < 0) throw new RangeError(`totalMemory must be a non-negative integer, got ${totalMemory}`)
    if (!Number.isSafeInteger(poolableSize) || poolableSize < 0) throw new RangeError(`poolableSize must be a non-negative integer, got ${poolableSize}`)
    if (!Number.isSafeInteger(minSizeClass) || minSizeClass < 1 || (minSizeClass & (minSizeClass - 1)) !== 0) {
      throw new RangeError(`minSizeClass must be a power of two, got ${minSizeClass}`)
    }
    this.totalMemory = totalMemory
    this.poolableSize = poolableSize
    this.minSizeClass = Math.min(minSizeClass, poolableSize)
    this.nonPooledAvailableMemory = totalMemory
    if (poolableSize > 0) {
      for (let c = minSizeClass; c < poolableSize; c *= 2) this.classSizes.push(c)
      this.classSizes.push(poolableSize)
      for (let k = 0; k < this.classSizes.length; k++) this.free.push(new Deque<Buffer>())
    }
  }

  /**
   * The smallest size class that holds `size` bytes, or `size` itself when it
   * exceeds `poolableSize` (such a buffer is allocated fresh, not pooled).
   */
  sizeClassFor(size: number): number {
    const classes = this.classSizes
    for (let k = 0; k < classes.length; k++) if (classes[k]! >= size) return classes[k]!
    return size
  }

  /** The free list for buffers of exactly `size` bytes; -1 when `size` is not a class. */
  private classIndex(size: number): number {
    const classes = this.classSizes
    for (let k = 0; k < classes.length; k++) {
      const c = classes[k]!
      if (c === size) return k
      if (c > size) return -1
    }
    return -1
  }

  /**
   * Synchronous fast path: a buffer of exactly `size` bytes, or null when the
   * caller would have to wait (not enough memory, or waiters ahead of it).
   * Throws if `size` can never be satisfied or the pool is closed.
   */
  tryAllocate(size: number): Buffer | null {
    this.checkAllocatable(size)
    if (this.waiters.size > 0) return null
    return this.takeWhenNoWaiters(size)
  }

  /**
   * A batch's growth: a buffer of `size` bytes holding the first `used` bytes
   * of `old` (handed out and counted at `old.length`), which it replaces. Only
   * the difference must be free, so growing to batch.size does not need both
   * sizes free at once (else a buffer.memory under 1.5 × batch.size could
   * never grow a batch past half of it). While `size` is free on its own,
   * the new buffer is taken as usual and `old` goes to its free list for the
   * next small batch; only when just the difference is, the fresh buffer
   * takes over `old`'s count and `old` is left to the GC. Null, changing
   * nothing, while anyone waits (FIFO), while overdrawn, or without the
   * memory now; throws as `tryAllocate` does.
   */
  tryGrow(old: Buffer, used: number, size: number): Buffer | null {
    this.checkAllocatable(size)
    if (this.waiters.size > 0 || this.nonPooledAvailableMemory < 0) return null
    const taken = this.takeWhenNoWaiters(size)
    if (taken !== null) {
      old.copy(taken, 0, 0, used)
      this.deallocate(old) // no waiters: nothing is served from here
      return taken
    }
    const extra = size - old.length
    if (this.nonPooledAvailableMemory + this.freeBytes < extra) return null
    this.freeUp(extra)
    this.nonPooledAvailableMemory -= extra
    const bigger = Buffer.allocUnsafeSlow(size)
    old.copy(bigger, 0, 0, used)
    return bigger
  }

  /**
   * A buffer of exactly `size` bytes, waiting up to `maxTimeToBlockMs` for
   * memory to be deallocated. Rejects with KafkaTimeoutError on timeout
   * (after giving back any partial reservation), KafkaInvalidRecordError if
   * `size > totalMemory`, KafkaProducerClosedError if the pool is or gets closed,
   * and an AbortError once `signal` aborts before memory was handed over.
   */
  allocate(size: number, maxTimeToBlockMs: number, nowMs: number, signal: AbortSignal | null = null): Promise<Buffer> {
    try {
      this.checkAllocatable(size)
    } catch (e) {
      return Promise.reject(e)
    }
    if (signal !== null && signal.aborted) return Promise.reject(createAbortError(signal))
    if (this.waiters.size === 0) {
      const buf = this.takeWhenNoWaiters(size)
      if (buf !== null) return Promise.resolve(buf)
    }
    if (maxTimeToBlockMs <= 0) return Promise.reject(this.timeoutError(size, maxTimeToBlockMs))
    return new Promise<Buffer>((resolve, reject) => {
      const w: Waiter = { size, maxTimeToBlockMs, deadlineMs: nowMs + maxTimeToBlockMs, accumulated: 0, resolve, reject }
      this.waiters.pushBack(w)
      this.serveWaiters()
      if (this.waiters.size > 0 && w.deadlineMs < this.timerDeadlineMs) this.armTimer(w.deadlineMs, nowMs)
      if (signal !== null && w.accumulated < w.size && this.waiters.size > 0) this.cancelOnAbort(w, signal)
    })
  }

  /**
   * Removes `w` from the queue when `signal` aborts, unless it was served,
   * timed out or failed first; the listener goes with whichever comes first.
   * A removed head waiter's reservation goes back and may serve those behind
   * it. The timer stays armed for its deadline if it was the earliest: it then
   * finds nothing expired and re-arms for the next one.
   */
  private cancelOnAbort(w: Waiter, signal: AbortSignal): void {
    const { resolve, reject } = w
    const onAbort = (): void => {
      if (!this.waiters.remove(w)) return
      this.nonPooledAvailableMemory += w.accumulated
      w.accumulated = 0
      reject(createAbortError(signal))
      this.serveWaiters()
    }
    signal.addEventListener('abort', onAbort, { once: true })
    w.resolve = (buf) => {
      signal.removeEventListener('abort', onAbort)
      resolve(buf)
    }
    w.reject = (err) => {
      signal.removeEventListener('abort', onAbort)
      reject(err)
    }
  }

  /**
   * Returns `size` bytes (default: the buffer's length) to the pool and serves
   * waiters. `buf` null means the memory is free but the buffer itself must
   * not be reused, e.g. a socket write may still reference it (KAFKA-19012).
   */
  deallocate(buf: Buffer | null, size: number = buf === null ? 0 : buf.length): void {
    const k = buf !== null && buf.length === size ? this.classIndex(size) : -1
    if (k >= 0) {
      this.free[k]!.pushBack(buf!)
      this.freeBytes += size
      this.freeCount++
    } else {
      this.nonPooledAvailableMemory += size
    }
    if (this.waiters.size > 0) this.serveWaiters()
  }

  /**
   * Takes `size` bytes of memory now, without waiting and without a buffer,
   * even if that overdraws the pool (see the class notes); they come back
   * with `deallocate(null, size)`. For memory that already exists and must be
   * counted (a batch's compressed copy), not for new allocations.
   */
  reserveOverdraft(size: number): void {
    this.freeUp(size)
    this.nonPooledAvailableMemory -= size
  }

  /** Free memory: unallocated bytes plus pooled free buffers (0 while overdrawn). */
  availableMemory(): number {
    return Math.max(0, this.nonPooledAvailableMemory + this.freeBytes)
  }

  /** Bytes neither handed out, nor reserved by a waiter, nor on the free list. */
  unallocatedMemory(): number {
    return this.nonPooledAvailableMemory
  }

  /** Number of callers waiting for memory. */
  queued(): number {
    return this.waiters.size
  }

  /** Number of reusable buffers on the free lists, all classes together. */
  freeBufferCount(): number {
    return this.freeCount
  }

  /** Total length of the reusable buffers on the free lists. */
  freeBufferBytes(): number {
    return this.freeBytes
  }

  /** Number of reusable buffers of exactly `size` bytes on the free lists (0 when not a class). */
  freeBufferCountOf(size: number): number {
    const k = this.classIndex(size)
    return k < 0 ? 0 : this.free[k]!.size
  }

  isClosed(): boolean {
    return this.closed
  }

  /**
   * For `producer.inspect()`: free and used bytes, and the appends waiting
   * for memory. A waiter's start is its deadline less its max block time,
   * so nothing is kept for this.
   */
  inspect(nowMs: number): BufferPoolInspection {
    let waitingBytes = 0
    let oldestStart = Infinity
    this.waiters.forEach((w) => {
      waitingBytes += w.size
      const start = w.deadlineMs - w.maxTimeToBlockMs
      if (start < oldestStart) oldestStart = start
    })
    const freeBytes = this.availableMemory()
    return {
      totalBytes: this.totalMemory,
      freeBytes,
      usedBytes: Math.max(0, this.totalMemory - freeBytes),
      pooledBuffers: this.freeCount,
      waiters: this.waiters.size,
      waitingBytes,
      oldestWaiterAgeMs: oldestStart === Infinity ? 0 : Math.max(0, nowMs - oldestStart),
    }
  }

  /** Fails every waiter and every later allocation; deallocation keeps working. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.clearTimer()
    let w: Waiter | undefined
    while ((w = this.waiters.popFront()) !== undefined) {
      this.nonPooledAvailableMemory += w.accumulated
      w.reject(new KafkaProducerClosedError('Producer closed while allocating memory'))
    }
  }

  private checkAllocatable(size: number): void {
    if (size > this.totalMemory) {
      throw new KafkaInvalidRecordError(
        `Attempt to allocate ${size} bytes, but there is a hard limit of ${this.totalMemory} on memory allocations (buffer.memory)`,
      )
    }
    if (this.closed) throw new KafkaProducerClosedError('Producer closed while allocating memory')
  }

  /** Callers check for waiters first: taking memory while someone waits would break FIFO. */
  private takeWhenNoWaiters(size: number): Buffer | null {
    const pooled = this.nonPooledAvailableMemory >= 0 ? this.popPooled(size) : null
    if (pooled !== null) return pooled
    if (this.nonPooledAvailableMemory + this.freeBytes < size) return null
    this.freeUp(size)
    this.nonPooledAvailableMemory -= size
    return Buffer.allocUnsafeSlow(size)
  }

  /** The warmest free buffer of exactly `size` bytes, or null. */
  private popPooled(size: number): Buffer | null {
    const k = this.classIndex(size)
    if (k < 0) return null
    const buf = this.free[k]!.popBack()
    if (buf === undefined) return null
    this.freeBytes -= size
    this.freeCount--
    return buf
  }

  /**
   * Turns pooled buffers back into unallocated bytes until `size` is covered
   * or the lists are empty: the cold end of the largest class first.
   */
  private freeUp(size: number): void {
    for (let k = this.free.length - 1; k >= 0 && this.nonPooledAvailableMemory < size; k--) {
      const list = this.free[k]!
      let buf: Buffer | undefined
      while (this.nonPooledAvailableMemory < size && (buf = list.popFront()) !== undefined) {
        this.nonPooledAvailableMemory += buf.length
        this.freeBytes -= buf.length
        this.freeCount--
      }
    }
  }

  private serveWaiters(): void {
    let w: Waiter | undefined
    while ((w = this.waiters.peekFront()) !== undefined) {
      let buf: Buffer | null = w.accumulated === 0 && this.nonPooledAvailableMemory >= 0 ? this.popPooled(w.size) : null
      if (buf === null) {
        const need = w.size - w.accumulated
        this.freeUp(need)
        // max 0: while overdrawn (reserveOverdraft) there is nothing to reserve.
        const got = Math.max(0, Math.min(need, this.nonPooledAvailableMemory))
        this.nonPooledAvailableMemory -= got
        w.accumulated += got
        if (w.accumulated < w.size) break
        buf = Buffer.allocUnsafeSlow(w.size)
      }
      this.waiters.popFront()
      w.resolve(buf)
    }
    if (this.waiters.size === 0) this.clearTimer()
  }

  private armTimer(deadlineMs: number, nowMs: number): void {
    this.clearTimer()
    this.timerDeadlineMs = deadlineMs
    this.timer = setTimeout(this.onTimer, Math.max(0, deadlineMs - nowMs))
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    this.timerDeadlineMs = Infinity
  }

  private readonly onTimer = (): void => {
    const nowMs = this.timerDeadlineMs
    this.timer = null
    this.timerDeadlineMs = Infinity
    const expired = this.waiters.removeWhere((w) => w.deadlineMs <= nowMs)
    for (const w of expired) {
      // The message reports availability before the partial reservation goes back, as Java's does.
      const err = this.timeoutError(w.size, w.maxTimeToBlockMs)
      this.nonPooledAvailableMemory += w.accumulated
      w.reject(err)
    }
    this.serveWaiters()
    let next = Infinity
    this.waiters.forEach((w) => {
      if (w.deadlineMs < next) next = w.deadlineMs
    })
    if (next !== Infinity) this.armTimer(next, nowMs)
  }

  private timeoutError(size: number, maxTimeToBlockMs: number): KafkaTimeoutError {
    return new KafkaTimeoutError(
      `Failed to allocate ${size} bytes within the configured max blocking time ${maxTimeToBlockMs} ms. ` +
        `Total memory: ${this.totalMemory} bytes. Available memory: ${this.availableMemory()} bytes. ` +
        `Poolable size: ${this.poolableSize} bytes`,
    )
  }
}
