/**
 * The outcome of one transactional operation (Java's
 * `TransactionalRequestResult`): settled once by the sender side, awaited by
 * the application's `initTransactions()`, `commitTransaction()`, ...
 *
 * Invariants:
 * - Settles at most once; later `done`/`fail` calls are ignored.
 * - Never an unhandled rejection: a result nobody awaits (an abort run by
 *   `close()`, an AddPartitionsToTxn) may fail silently.
 * - `acked` is set when the application has seen the outcome; until then a
 *   repeated call of the same operation (after a max.block.ms timeout) gets
 *   this result back instead of starting over (Java's pendingTransition).
 */
export class TransactionalResult {
  readonly promise: Promise<void>
  private settle!: (error: Error | null) => void
  private outcome: 'pending' | 'done' | 'failed' = 'pending'
  private errorValue: Error | null = null
  acked = false
  /** The application's call gave up waiting (max.block.ms) before the outcome: it must be repeated to see it. */
  timedOut = false

  constructor(readonly operation: string) {
    this.promise = new Promise<void>((resolve, reject) => {
      this.settle = (error) => (error === null ? resolve() : reject(error))
    })
    this.promise.catch(() => {})
  }

  get isCompleted(): boolean {
    return this.outcome !== 'pending'
  }

  get isSuccessful(): boolean {
    return this.outcome === 'done'
  }

  get error(): Error | null {
    return this.errorValue
  }

  done(): void {
    if (this.outcome !== 'pending') return
    this.outcome = 'done'
    this.settle(null)
  }

  fail(error: Error): void {
    if (this.outcome !== 'pending') return
    this.outcome = 'failed'
    this.errorValue = error
    this.settle(error)
  }
}
