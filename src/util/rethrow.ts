/**
 * Throws `err` on the next tick, outside the caller's stack: Node's convention
 * for an application callback that threw (it surfaces as an uncaught
 * exception, as from an EventEmitter listener), while the producer code that
 * called it goes on.
 */
export function rethrowOnNextTick(err: unknown): void {
  process.nextTick(() => {
    throw err
  })
}
