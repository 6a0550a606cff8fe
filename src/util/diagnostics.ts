import * as dc from 'node:diagnostics_channel'

/**
 * Every diagnostics channel this package publishes on, created once, here,
 * at module load, from one table of names (docs/observability.md lists them
 * with their fields). The seam observability tools subscribe to, as undici's
 * and @platformatic/kafka's channels and franz-go's hooks: the producer only
 * publishes; OpenTelemetry and logging integrations subscribe.
 *
 * Invariants:
 * - A publisher checks `hasSubscribers` (or {@link isTracing}) before it
 *   builds anything: with no subscriber a publish point costs one property
 *   read, no object, no closure.
 * - Names are `kafka-producer-ts:` + the table's suffix; they are a public
 *   contract and change only with the changelog.
 * - A runtime without `diagnostics_channel.tracingChannel` (an older Bun or
 *   Deno) gets null for the tracing channels: nothing is traced there,
 *   nothing throws. Plain channels exist on every supported runtime.
 */

/** The channel names' common prefix. */
const CHANNEL_PREFIX = 'kafka-producer-ts:'

/** The published names, as a table (documented in docs/observability.md). */
export const CHANNEL_NAMES = Object.freeze({
  /** TracingChannel: one trace per record, from send() to its acknowledgement or failure. */
  send: `${CHANNEL_PREFIX}send`,
  /** TracingChannel: one trace per Produce request, from its send to its response or failure. */
  produce: `${CHANNEL_PREFIX}produce`,
  /** A connection attempt to a broker starts. */
  connectionConnect: `${CHANNEL_PREFIX}connection:connect`,
  /** A connection finished its handshake (ApiVersions, then SASL when configured) and takes requests. */
  connectionReady: `${CHANNEL_PREFIX}connection:ready`,
  /** A SASL authentication or re-authentication (KIP-368) ended, or TLS or SASL rejected a connection. */
  connectionAuthenticate: `${CHANNEL_PREFIX}connection:authenticate`,
  /** A connection closed: failed, timed out, rejected, or closed as idle (not those `close()` ends). */
  connectionDisconnect: `${CHANNEL_PREFIX}connection:disconnect`,
  /** A Metadata request was answered or failed. */
  metadataRefresh: `${CHANNEL_PREFIX}metadata:refresh`,
  /** A batch goes back to its queue for another attempt. */
  batchRetry: `${CHANNEL_PREFIX}batch:retry`,
  /** A batch the broker refused as too large (MESSAGE_TOO_LARGE) was split and queued again. */
  batchSplit: `${CHANNEL_PREFIX}batch:split`,
  /** The producer epoch changed for an existing producer id (KIP-360 bump, InitProducerId, or KIP-890's EndTxn). */
  idempotenceEpochBump: `${CHANNEL_PREFIX}idempotence:epoch-bump`,
  /** A transactional producer's state changed (Java's `TransactionManager.State`). */
  transactionState: `${CHANNEL_PREFIX}transaction:state`,
})

/** The part of Node's TracingChannel used here (the five sub-channels and the trace helpers). */
export interface Tracing {
  readonly start: dc.Channel
  readonly end: dc.Channel
  readonly asyncStart: dc.Channel
  readonly asyncEnd: dc.Channel
  readonly error: dc.Channel
  tracePromise<T>(fn: () => Promise<T>, context: object): Promise<T>
  traceCallback(fn: (...args: any[]) => unknown, position: number, context: object, thisArg: unknown, ...args: unknown[]): unknown
}

function tracing(name: string): Tracing | null {
  const make = (dc as { tracingChannel?: (name: string) => unknown }).tracingChannel
  if (typeof make !== 'function') return null
  try {
    const tc = make(name) as Tracing
    // A partial implementation is treated as none: degrade to no publishing rather than fail mid-send.
    if (typeof tc.tracePromise !== 'function' || typeof tc.traceCallback !== 'function' || tc.start === undefined || tc.asyncEnd === undefined) return null
    return tc
  } catch {
    return null
  }
}

function plain(name: string): dc.Channel {
  return dc.channel(name)
}

/** True when any of a tracing channel's five sub-channels has a subscriber (TracingChannel.hasSubscribers, Node 22, by hand). */
export function isTracing(tc: Tracing | null): tc is Tracing {
  return tc !== null && (tc.start.hasSubscribers || tc.end.hasSubscribers || tc.asyncStart.hasSubscribers || tc.asyncEnd.hasSubscribers || tc.error.hasSubscribers)
}

/** `kafka-producer-ts:send`; null where the runtime has no TracingChannel. */
export const sendChannel: Tracing | null = tracing(CHANNEL_NAMES.send)
/** `kafka-producer-ts:produce`; null where the runtime has no TracingChannel. */
export const produceChannel: Tracing | null = tracing(CHANNEL_NAMES.produce)
export const connectChannel = plain(CHANNEL_NAMES.connectionConnect)
export const readyChannel = plain(CHANNEL_NAMES.connectionReady)
export const authenticateChannel = plain(CHANNEL_NAMES.connectionAuthenticate)
export const disconnectChannel = plain(CHANNEL_NAMES.connectionDisconnect)
export const metadataRefreshChannel = plain(CHANNEL_NAMES.metadataRefresh)
export const batchRetryChannel = plain(CHANNEL_NAMES.batchRetry)
export const batchSplitChannel = plain(CHANNEL_NAMES.batchSplit)
export const epochBumpChannel = plain(CHANNEL_NAMES.idempotenceEpochBump)
export const transactionStateChannel = plain(CHANNEL_NAMES.transactionState)

/**
 * Publishes a produce trace's completion as Node's tracePromise does:
 * `error` (on failure), then `asyncStart` and `asyncEnd`, on one context.
 */
export function publishAsyncOutcome(tc: Tracing, context: { error?: unknown }): void {
  if (context.error !== undefined) tc.error.publish(context)
  tc.asyncStart.publish(context)
  tc.asyncEnd.publish(context)
}
