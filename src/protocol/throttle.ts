/**
 * KIP-219: from these response versions on, a broker that throttles a client
 * answers at once with `throttle_time_ms` and expects the client to hold off
 * that long (before them it delayed the response itself). The first version
 * per API key, as each Java `XxxResponse.shouldClientThrottle`; an API not
 * listed (SaslHandshake, SaslAuthenticate, the telemetry APIs) is never
 * throttled by the client, as in Java.
 */
const CLIENT_THROTTLE_FROM_VERSION: ReadonlyMap<number, number> = new Map([
  [0, 6], // Produce
  [3, 6], // Metadata
  [10, 2], // FindCoordinator
  [18, 2], // ApiVersions
  [22, 1], // InitProducerId
  [24, 1], // AddPartitionsToTxn
  [25, 1], // AddOffsetsToTxn
  [26, 1], // EndTxn
  [28, 1], // TxnOffsetCommit
])

/**
 * How long the client must send nothing more to the broker that sent this
 * response (Java's `NetworkClient.maybeThrottle`): its `throttleTimeMs` when
 * positive and the response version carries KIP-219's semantics; else 0.
 */
export function clientThrottleTimeMs(apiKey: number, version: number, body: unknown): number {
  const from = CLIENT_THROTTLE_FROM_VERSION.get(apiKey)
  if (from === undefined || version < from) return 0
  const t = (body as { throttleTimeMs?: unknown } | null)?.throttleTimeMs
  return typeof t === 'number' && t > 0 ? t : 0
}
