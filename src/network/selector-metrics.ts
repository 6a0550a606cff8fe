import { SampledStat } from '../util/sampled-stat.js'

/** One broker connection's traffic (Java's `node-<id>` sensors of `Selector.SelectorMetrics`). */
export class NodeIoMetrics {
  /** Size in bytes of each request frame written, size prefix included. */
  readonly sent = new SampledStat()
  /** Size in bytes of each response frame read, size prefix included. */
  readonly received = new SampledStat()
}

/**
 * The network layer's sensors, as Java's `Selector.SelectorMetrics`: frames
 * written and read (globally and per node), connections created and closed,
 * and authentications. Recording is one or two `SampledStat.record` calls
 * per frame or per connection event, never per record; a node's stats are
 * made when its first frame is counted (Java registers them per connection)
 * and kept for the client's life, so its totals survive reconnects.
 *
 * Invariant: `sent` / `received` equal the sums over `nodes` of theirs.
 */
export class SelectorMetrics {
  /** Every request frame written (request-size, request-rate, outgoing-byte-rate). */
  readonly sent = new SampledStat()
  /** Every response frame read (response-rate, incoming-byte-rate). */
  readonly received = new SampledStat()
  readonly nodes = new Map<number, NodeIoMetrics>()
  /** One value (1) per connection whose transport came up, per connection closed (by either side). */
  readonly connectionCreation = new SampledStat()
  readonly connectionClose = new SampledStat()
  /** One value per connection that finished authenticating (PLAINTEXT included, as Java) / was rejected (TLS or SASL). */
  readonly successfulAuthentication = new SampledStat()
  readonly failedAuthentication = new SampledStat()

  node(id: number): NodeIoMetrics {
    let n = this.nodes.get(id)
    if (n === undefined) this.nodes.set(id, (n = new NodeIoMetrics()))
    return n
  }

  recordSent(nodeId: number, bytes: number, nowMs: number): void {
    this.sent.record(bytes, nowMs)
    this.node(nodeId).sent.record(bytes, nowMs)
  }

  recordReceived(nodeId: number, bytes: number, nowMs: number): void {
    this.received.record(bytes, nowMs)
    this.node(nodeId).received.record(bytes, nowMs)
  }
}
