/**
 * Waits on real timers, checking every `stepMs`, until `cond` holds: for a
 * producer whose loop runs on the event loop. Rejects naming `what` once
 * `timeoutMs` passed.
 */
export async function until(cond: () => boolean, what: string, timeoutMs = 5000, stepMs = 1): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, stepMs))
  }
}
