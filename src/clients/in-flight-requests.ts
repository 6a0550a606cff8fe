import type { AnyApi } from '../protocol/api.js'
import type { NetworkSend } from '../network/framing.js'
import { Deque } from '../util/deque.js'
import { describeRequestPayload, type InFlightRequestInspection } from './inspection.js'

const NONE: readonly number[] = []

/** What the caller learns about a request: a decoded body, or why there is none. */
export interface ClientResponse<Res = unknown> {
  readonly request: ClientRequest<unknown, Res>
  readonly receivedMs: number
  /** The version the request went out with (negotiated per connection). */
  readonly apiVersion: number
  /** Set when the connection dropped or the request timed out before a response. */
  readonly disconnected: boolean
  readonly timedOut: boolean
  /** Decoded response, or null (disconnect, acks=0, error). */
  readonly body: Res | null
  /** Why there is no body: network, protocol or timeout error. */
  readonly error: Error | null
}

export interface ClientRequest<Req = unknown, Res = unknown> {
  readonly destination: number
  readonly api: AnyApi
  readonly body: Req
  /** False for Produce with acks=0: the request completes when its send does. */
  readonly expectResponse: boolean
  readonly createdMs: number
  readonly requestTimeoutMs: number
  /**
   * The newest version this request may go out with, below the API's own
   * maximum (Java's `AbstractRequest.Builder` latestAllowedVersion): e.g. a
   * client's AddPartitionsToTxn stays at v3, where v4+ is the brokers' batched form.
   */
  readonly maxVersion?: number
  readonly onComplete: (response: ClientResponse<Res>) => void
}

/** A request that has been handed to the selector, waiting for its response. */
export interface InFlightRequest {
  readonly request: ClientRequest<any, any>
  readonly correlationId: number
  readonly apiVersion: number
  readonly send: NetworkSend
  readonly sendTimeMs: number
  /** Set once the selector reported the send complete. */
  sendCompleted: boolean
}

/**
 * The requests sent on each connection and not yet answered, oldest first.
 *
 * Kafka answers requests on one connection in the order they were sent, so
 * each response completes the oldest entry of its node, and its correlation
 * id must match that entry's.
 *
 * Invariant: a node never has more than `maxInFlightPerConnection` entries,
 * and a new one is added only once the previous send has fully left
 * (`canSendMore`), which keeps a slow socket from buffering without bound.
 */
export class InFlightRequests {
  /** Per node, oldest first: responses pop the front, acks=0 sends pop the back. */
  private readonly requests = new Map<number, Deque<InFlightRequest>>()
  private total = 0

  constructor(private readonly maxInFlightPerConnection: number) {}

  add(r: InFlightRequest): void {
    const node = r.request.destination
    let q = this.requests.get(node)
    if (q === undefined) this.requests.set(node, (q = new Deque<InFlightRequest>()))
    q.pushBack(r)
    this.total++
  }

  oldest(node: number): InFlightRequest | undefined {
    return this.requests.get(node)?.peekFront()
  }

  /** Removes the oldest request of `node`: the one the next response answers. */
  completeNext(node: number): InFlightRequest {
    const q = this.requests.get(node)
    if (q === undefined || q.size === 0) throw new Error(`No in-flight request for node ${node}`)
    this.total--
    return q.popFront()!
  }

  /** Removes the newest request of `node`: an acks=0 request whose send just completed. */
  completeLastSent(node: number): InFlightRequest {
    const q = this.requests.get(node)
    if (q === undefined || q.size === 0) throw new Error(`No in-flight request for node ${node}`)
    this.total--
    return q.popBack()!
  }

  lastSent(node: number): InFlightRequest | undefined {
    return this.requests.get(node)?.peekBack()
  }

  canSendMore(node: number): boolean {
    const q = this.requests.get(node)
    return q === undefined || q.size === 0 || (q.peekBack()!.sendCompleted && q.size < this.maxInFlightPerConnection)
  }

  count(node?: number): number {
    if (node === undefined) return this.total
    return this.requests.get(node)?.size ?? 0
  }

  isEmpty(node: number): boolean {
    return this.count(node) === 0
  }

  /** Removes and returns everything in flight to `node`, oldest first (on disconnect). */
  clearAll(node: number): InFlightRequest[] {
    const q = this.requests.get(node)
    if (q === undefined) return []
    this.requests.delete(node)
    this.total -= q.size
    return q.toArray()
  }

  /**
   * Nodes with a request that has reached its timeout (`requestTimeoutMs` or
   * more since its send). The boundary matches `timeUntilNextTimeout`: when
   * that says 0, this reports the node, so a caller never polls with a zero
   * wait for a timeout it then does not act on.
   */
  nodesWithTimedOutRequests(nowMs: number): readonly number[] {
    // Runs on every poll: indexed loops (no iterator objects), and no array unless a node timed out.
    let out: number[] | null = null
    for (const [node, q] of this.requests) {
      for (let i = 0; i < q.size; i++) {
        const r = q.at(i)!
        if (nowMs - r.sendTimeMs >= r.request.requestTimeoutMs) {
          ;(out ??= []).push(node)
          break
        }
      }
    }
    return out ?? NONE
  }

  /** Milliseconds until the earliest in-flight request times out (Infinity if none). Runs on every poll. */
  timeUntilNextTimeout(nowMs: number): number {
    let min = Infinity
    for (const q of this.requests.values()) {
      for (let i = 0; i < q.size; i++) {
        const r = q.at(i)!
        const left = r.sendTimeMs + r.request.requestTimeoutMs - nowMs
        if (left < min) min = left
      }
    }
    return Math.max(0, min)
  }

  /**
   * The requests in flight to `node`, oldest first, as inspect() shows them:
   * batches, records and partitions are read from the request bodies at this
   * call, so the send path keeps nothing extra for it.
   */
  inspect(node: number, nowMs: number): InFlightRequestInspection[] {
    const q = this.requests.get(node)
    if (q === undefined) return []
    const out: InFlightRequestInspection[] = []
    for (let i = 0; i < q.size; i++) {
      const r = q.at(i)!
      const payload = describeRequestPayload(r.request)
      out.push({
        correlationId: r.correlationId,
        api: r.request.api.name,
        apiVersion: r.apiVersion,
        ageMs: Math.max(0, nowMs - r.sendTimeMs),
        bytes: r.send.size,
        sent: r.sendCompleted,
        batches: payload.batches,
        records: payload.records,
        partitions: payload.partitions,
      })
    }
    return out
  }

  perNodeCounts(): Map<number, number> {
    const out = new Map<number, number>()
    for (const [node, q] of this.requests) if (q.size > 0) out.set(node, q.size)
    return out
  }
}
