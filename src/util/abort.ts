import { createAbortError } from '../errors.js'

/** An AbortSignal, by shape (signals from another realm or a polyfill count too). */
export function isAbortSignal(v: unknown): v is AbortSignal {
  return (
    v !== null &&
    typeof v === 'object' &&
    typeof (v as AbortSignal).aborted === 'boolean' &&
    typeof (v as AbortSignal).addEventListener === 'function' &&
    typeof (v as AbortSignal).removeEventListener === 'function'
  )
}

/**
 * `p`, or a rejection with an AbortError if `signal` aborts first. Stops
 * only the waiting, not the work behind `p`; the listener is removed when
 * either settles. `signal` must not be aborted already (callers check, to
 * fail without starting the work).
 */
export function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(createAbortError(signal))
    signal.addEventListener('abort', onAbort, { once: true })
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort)
        resolve(v)
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(err)
      },
    )
  })
}
