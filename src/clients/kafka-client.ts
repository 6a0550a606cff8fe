import type { Node } from './cluster.js'
import type { ConnectionFailureReport } from './connection-failures.js'
import type { ClientRequest } from './in-flight-requests.js'
import type { SelectorMetrics } from '../network/selector-metrics.js'
import type { ConnectionInspection } from './inspection.js'

/**
 * What the producer needs of a network client: Java's
 * `org.apache.kafka.clients.KafkaClient`, cut down to the calls `Sender` and
 * `KafkaProducer` make. {@link NetworkClient} is the real one; tests drive
 * `Sender` with a scripted one (test/harness/scripted-client.ts), as Java's
 * SenderTest does with `MockClient`.
 *
 * Contract every implementation keeps (the Sender relies on each):
 * - Every request handed to `send` gets exactly one `onComplete`: a decoded
 *   body, a disconnect, a timeout, or, for `expectResponse: false` (acks=0),
 *   the completed send. Never synchronously from `send` itself: completions
 *   run from `poll` (or `close`), after the client has applied the whole
 *   batch of network events, so a handler sees the client's state after them.
 * - `send(request)` is only called for a destination for which `ready()`
 *   returned true in the same synchronous run; a client may throw otherwise.
 *   `ready(node)` is false while that node has as many requests in flight as
 *   max.in.flight.requests.per.connection allows, or while its broker
 *   throttles us (KIP-219: a response's throttle time has not passed yet).
 * - Responses from one node complete in the order their requests were sent.
 * - After `close`, nothing is sent; requests still in flight complete with a
 *   disconnect, inside `close`.
 *
 * Metadata is not part of this interface: the client refreshes it by itself
 * (NetworkClient through its `MetadataUpdater`) and the Sender reads the
 * snapshot from `ProducerMetadata`, as in Java.
 */
export interface KafkaClient {
  /**
   * True when a request can go to `node` now (connected, handshake done,
   * below the in-flight cap, no metadata refresh waiting to go first);
   * otherwise starts connecting when allowed and returns false.
   */
  ready(node: Node, nowMs: number): boolean

  /**
   * How long until a connection to `nodeId` may be attempted: 0 when now,
   * Infinity while one is being set up (its outcome wakes `poll`).
   */
  connectionDelay(nodeId: number, nowMs: number): number

  /**
   * How long a caller with data for `nodeId` that is not ready may wait
   * before looking again (Java's `KafkaClient.pollDelayMs`): for a connected
   * node its broker throttled (KIP-219), the throttle time left; otherwise
   * `connectionDelay`.
   */
  pollDelayMs(nodeId: number, nowMs: number): number

  /**
   * Queues `request` for its destination; precondition: `ready(node)` was true.
   * The protocol version is chosen here, per connection.
   *
   * @returns the correlation id and version the request went out with, for
   *   the `kafka-producer-ts:produce` trace; null when it failed before
   *   getting them (its completion says why), or from a client without
   *   correlation ids (a scripted one).
   */
  send<Req, Res>(request: ClientRequest<Req, Res>, nowMs: number): SentRequest | null

  /**
   * Waits up to `timeoutMs` for network activity (less when a metadata
   * refresh, a connection setup or a request timeout is due sooner), then
   * handles it and runs the completions. Takes the clock rather than a
   * reading because the time after the wait is what the handlers must see
   * (Java's poll reads `time.milliseconds()` after `selector.poll` too).
   */
  poll(timeoutMs: number, time: () => number): Promise<void>

  /** Makes a pending or the next `poll` return at once (new data to send, close). */
  wakeup(): void

  /** Any request sent and not completed, on any node. */
  hasInFlightRequests(): boolean

  /** Requests in flight to `nodeId`, or to every node when omitted. */
  inFlightRequestCount(nodeId?: number): number

  /** Requests in flight per node, for nodes with at least one (metrics). */
  inFlightPerNode(): Map<number, number>

  /**
   * The node with the fewest requests in flight, preferring ready
   * connections, then connecting ones, then any that may connect now; null
   * when every known node is in reconnect backoff.
   */
  leastLoadedNode(nowMs: number): Node | null

  /**
   * Per connected node, the version each API would go out with, as
   * negotiated through ApiVersions: `{ '1': { Produce: 12, ApiVersions: 3 } }`.
   */
  negotiatedApiVersions(): Record<string, Record<string, number>>

  /** Open connections whose handshake finished (metrics). */
  connectionCount(): number

  /**
   * Frames and bytes written and read, per node, and connection and
   * authentication events (Java's Selector metrics): connection-creation-total
   * and connection-close-total are its stats' totals. A client without a
   * network (a scripted one) has one that stays empty.
   */
  readonly selectorMetrics: SelectorMetrics

  /**
   * Optional. Each known connection with its state, negotiated versions and
   * requests in flight, built at this call (`producer.inspect()`); a client
   * without connections to show (a scripted one) may leave it out.
   */
  inspectConnections?(nowMs: number): ConnectionInspection[]

  /**
   * The TLS or SASL error that ended the last connection attempt to
   * `nodeId`, while that is how its last attempt ended (the node is in
   * AUTHENTICATION_FAILED); null otherwise.
   */
  authenticationError?(nodeId: number): Error | null

  /**
   * Why connections are failing: the brokers (all, or node `nodeId` only)
   * whose last connection attempt failed, each with its causes and counts;
   * null when none is. For the message and `cause` of a timeout: called on
   * failure paths only, never per send.
   */
  connectionFailures(nodeId?: number): ConnectionFailureReport | null

  /** Closes every connection; in-flight requests complete with a disconnect. Idempotent. */
  close(nowMs: number): void

  /**
   * Optional. The cluster's finalized feature levels from the ApiVersions
   * response with the highest `finalizedFeaturesEpoch` seen so far (Java's
   * `ApiVersions.getFinalizedFeaturesInfo`); epoch -1n and no levels before
   * any. The transaction manager reads `transaction.version` here (KIP-890).
   */
  finalizedFeatures?(): FinalizedFeatures
}

/** What `send` gave a request on the wire (NetworkClient returns its in-flight entry: nothing is allocated for it). */
export interface SentRequest {
  readonly correlationId: number
  readonly apiVersion: number
}

/** Finalized feature levels (ApiVersions v3+), as of one features epoch. */
export interface FinalizedFeatures {
  readonly epoch: bigint
  /** Feature name → finalized max version level, e.g. 'transaction.version' → 2. */
  readonly levels: ReadonlyMap<string, number>
}

export const NO_FINALIZED_FEATURES: FinalizedFeatures = Object.freeze({ epoch: -1n, levels: new Map<string, number>() })
