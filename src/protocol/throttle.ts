import type { AnyApi } from './api.js'

/**
 * How long the client must send nothing more to the broker that sent this
 * response (Java's `NetworkClient.maybeThrottle`): its `throttleTimeMs` when
 * positive and the response version carries KIP-219's semantics (from the
 * API's `clientThrottleFrom`, before which the broker delayed the response
 * itself); else 0.
 */
export function clientThrottleTimeMs(api: AnyApi, version: number, body: unknown): number {
  if (version < api.clientThrottleFrom) return 0
  const t = (body as { throttleTimeMs?: unknown } | null)?.throttleTimeMs
  return typeof t === 'number' && t > 0 ? t : 0
}
