/**
 * A growable ring-buffer double-ended queue.
 *
 * Invariants:
 * - `slots.length` is a power of two, so wrapping is a mask, not a modulo.
 * - The live elements are `slots[(head + i) & mask]` for `0 <= i < count`;
 *   every other slot is `undefined`, so popped elements are never kept alive.
 * - Every operation at either end is O(1) (amortised for growth). Unlike
 *   `Array.shift()`/`unshift()`, nothing is moved when the front changes,
 *   which is why the accumulator's per-partition queues use it: batches are
 *   drained from the front and retried batches go back to the front.
 *
 * `undefined` cannot be stored: it is what the peek/pop methods return for
 * "empty".
 */
export class Deque<T> {
  private slots: (T | undefined)[]
  private mask: number
  private head = 0
  private count = 0

  constructor(initialCapacity = 8) {
    let cap = 4
    while (cap < initialCapacity) cap <<= 1
    this.slots = new Array<T | undefined>(cap)
    this.mask = cap - 1
  }

  get size(): number {
    return this.count
  }

  isEmpty(): boolean {
    return this.count === 0
  }

  pushBack(value: T): void {
    if (this.count === this.slots.length) this.grow()
    this.slots[(this.head + this.count) & this.mask] = value
    this.count++
  }

  pushFront(value: T): void {
    if (this.count === this.slots.length) this.grow()
    this.head = (this.head - 1) & this.mask
    this.slots[this.head] = value
    this.count++
  }

  peekFront(): T | undefined {
    return this.count === 0 ? undefined : this.slots[this.head]
  }

  peekBack(): T | undefined {
    return this.count === 0 ? undefined : this.slots[(this.head + this.count - 1) & this.mask]
  }

  popFront(): T | undefined {
    if (this.count === 0) return undefined
    const v = this.slots[this.head]
    this.slots[this.head] = undefined
    this.head = (this.head + 1) & this.mask
    this.count--
    return v
  }

  popBack(): T | undefined {
    if (this.count === 0) return undefined
    const i = (this.head + this.count - 1) & this.mask
    const v = this.slots[i]
    this.slots[i] = undefined
    this.count--
    return v
  }

  /** The i-th element from the front (0-based), or undefined when out of range. */
  at(i: number): T | undefined {
    if (i < 0 || i >= this.count) return undefined
    return this.slots[(this.head + i) & this.mask]
  }

  clear(): void {
    for (let i = 0; i < this.count; i++) this.slots[(this.head + i) & this.mask] = undefined
    this.head = 0
    this.count = 0
  }

  /**
   * Removes, in one O(n) compaction pass, every element for which `pred` is
   * true, keeping the order of the rest. Returns the removed elements in
   * front-to-back order. Meant for rare paths (aborts), not per record.
   */
  removeWhere(pred: (value: T) => boolean): T[] {
    const removed: T[] = []
    let kept = 0
    for (let i = 0; i < this.count; i++) {
      const v = this.slots[(this.head + i) & this.mask] as T
      if (pred(v)) removed.push(v)
      else this.slots[(this.head + kept++) & this.mask] = v
    }
    for (let i = kept; i < this.count; i++) this.slots[(this.head + i) & this.mask] = undefined
    this.count = kept
    return removed
  }

  /** Removes the first element identical to `value`; O(n). */
  remove(value: T): boolean {
    let found = false
    this.removeWhere((v) => {
      if (found || v !== value) return false
      found = true
      return true
    })
    return found
  }

  /** Front-to-back. The deque must not be modified while iterating. */
  forEach(fn: (value: T, index: number) => void): void {
    for (let i = 0; i < this.count; i++) fn(this.slots[(this.head + i) & this.mask] as T, i)
  }

  /** Front-to-back. The deque must not be modified while iterating. */
  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.count; i++) yield this.slots[(this.head + i) & this.mask] as T
  }

  toArray(): T[] {
    const out = new Array<T>(this.count)
    for (let i = 0; i < this.count; i++) out[i] = this.slots[(this.head + i) & this.mask] as T
    return out
  }

  private grow(): void {
    const old = this.slots
    const cap = old.length * 2
    const next = new Array<T | undefined>(cap)
    for (let i = 0; i < this.count; i++) next[i] = old[(this.head + i) & this.mask]
    this.slots = next
    this.mask = cap - 1
    this.head = 0
  }
}
