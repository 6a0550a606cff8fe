import type { Node } from '../../src/clients/cluster.js'
import type { ClientRequest, ClientResponse } from '../../src/clients/in-flight-requests.js'
import type { ConnectionFailureReport } from '../../src/clients/connection-failures.js'
import { type ConnectionInspection, describeRequestPayload } from '../../src/clients/inspection.js'
import { type FinalizedFeatures, type KafkaClient, NO_FINALIZED_FEATURES } from '../../src/clients/kafka-client.js'
import type { MetadataResponseView, ProducerMetadata } from '../../src/clients/metadata.js'
import { KafkaNetworkError, KafkaTimeoutError } from '../../src/errors.js'
import type { ProduceRequest, ProduceResponse } from '../../src/protocol/apis/index.js'
import { KafkaProducer } from '../../src/producer/kafka-producer.js'
import { clientThrottleTimeMs } from '../../src/protocol/throttle.js'
import { SelectorMetrics } from '../../src/network/selector-metrics.js'

export { until } from './wait.js'

/** One request the client was handed, with what became of it. */
export class ScriptedRequest<Req = any, Res = any> {
  /** Set once a completion was queued for it (an answer, a disconnect, a timeout, an acks=0 send). */
  answered = false
  /** Set once its `onComplete` ran. */
  completed = false

  constructor(
    readonly request: ClientRequest<Req, Res>,
    readonly sentMs: number,
    /** Position among every request sent, from 0. */
    readonly index: number,
  ) {}

  get destination(): number {
    return this.request.destination
  }

  get api(): string {
    return this.request.api.name
  }

  get body(): Req {
    return this.request.body
  }
}

interface NodeScript {
  /** False: `ready()` says no, and `connectionDelay` returns `delayMs`. */
  ready: boolean
  delayMs: number
}

/**
 * A {@link KafkaClient} with no sockets, for driving `Sender` in unit tests
 * the way Java's SenderTest drives it with `MockClient`.
 *
 * It records every request it is handed (`requests`, in order). The test
 * answers each one: `respond(req, body)`, `disconnect(nodeId)` (every request
 * in flight to the node fails as NetworkClient fails them on a lost
 * connection), or `timeOut(req)`; requests still unanswered when the clock
 * passes their `requestTimeoutMs` time out on their own at the next poll, as
 * in NetworkClient. Answers are queued and their `onComplete`s run only from
 * `poll` / `deliver` (and `close`), in the order they were queued, keeping the
 * real client's contract that completions never run inside `send`.
 *
 * Readiness is scripted per node (`setReady`), and `ready()` is false for a
 * node with `maxInFlightPerConnection` requests in flight, as NetworkClient's
 * is. `send` to a node that is not ready throws, so a Sender that ignored
 * `ready` fails the test; `maxInFlightSeen` keeps the highest per-node count.
 *
 * Broker throttling is applied as NetworkClient applies it (KIP-219): an
 * answer whose body has a positive `throttleTimeMs`, at a version with
 * client-side throttling (the node's `apiVersions` entry for the API, else
 * the API's newest), makes the node not ready until that time has passed
 * after delivery; `pollDelayMs` reports what is left.
 *
 * Invariant it checks for the Sender: a request completes exactly once (a
 * second answer to the same request throws).
 */
export class ScriptedClient implements KafkaClient {
  readonly requests: ScriptedRequest[] = []
  /** The timeouts the Sender asked `poll` to wait, in order. */
  readonly pollTimeouts: number[] = []
  /** Per node, the highest number of requests ever in flight at once. */
  readonly maxInFlightSeen = new Map<number, number>()
  wakeups = 0
  closed = false
  /** Never recorded into: a scripted client has no frames or connections to count. */
  readonly selectorMetrics = new SelectorMetrics()
  /** What `negotiatedApiVersions` reports. */
  apiVersions: Record<string, Record<string, number>> = {}
  /** What `finalizedFeatures` reports (e.g. transaction.version for the transaction manager). */
  features: FinalizedFeatures = NO_FINALIZED_FEATURES
  /** What `authenticationError` reports per node (a TLS or SASL rejection of its last attempt). */
  readonly authErrors = new Map<number, Error>()
  /** Overrides `leastLoadedNode` when set (null: no node available). */
  leastLoaded: Node | null | undefined = undefined

  private readonly nodes = new Map<number, NodeScript>()
  /** Per node, until when its broker throttles us (KIP-219). */
  readonly throttledUntil = new Map<number, number>()
  private readonly inFlight = new Map<number, ScriptedRequest[]>()
  private queued: { readonly req: ScriptedRequest; readonly response: ClientResponse<any> }[] = []
  /** Ends the pending `poll` early (an answer was queued, or `wakeup`); null when none is pending. */
  private endPoll: (() => void) | null = null
  private woken = false

  constructor(
    private readonly metadata: ProducerMetadata,
    /** The clock answers are stamped with (`receivedMs`). */
    private readonly time: () => number,
    readonly maxInFlightPerConnection = 5,
  ) {}

  authenticationError(nodeId: number): Error | null {
    return this.authErrors.get(nodeId) ?? null
  }

  // ---- scripting ----

  /** Makes `nodeId` ready or not; a node that is not ready reports `delayMs` as its connection delay. */
  setReady(nodeId: number, ready: boolean, delayMs = ready ? 0 : Infinity): void {
    this.nodes.set(nodeId, { ready, delayMs })
  }

  /** Requests sent and not answered yet, oldest first; to one node when given. */
  pending(nodeId?: number): ScriptedRequest[] {
    if (nodeId !== undefined) return (this.inFlight.get(nodeId) ?? []).filter((r) => !r.answered)
    return this.requests.filter((r) => !r.answered)
  }

  /** Requests of one API (e.g. 'Produce'), in send order. */
  sentOf(api: string): ScriptedRequest[] {
    return this.requests.filter((r) => r.api === api)
  }

  /** Answers `req` with a decoded body (delivered at the next poll / deliver). */
  respond<Res>(req: ScriptedRequest<unknown, Res>, body: Res): void {
    // A connection answers in request order (InFlightRequests completes the oldest first).
    const earlier = (this.inFlight.get(req.destination) ?? []).find((r) => r !== req && !r.answered && r.index < req.index)
    if (earlier !== undefined) {
      throw new Error(`request #${req.index} to node ${req.destination} answered before #${earlier.index}: a broker answers in order`)
    }
    this.queue(req, { disconnected: false, timedOut: false, body, error: null })
  }

  /** Fails `req` as a request timeout does in NetworkClient (the connection is dropped with it). */
  timeOut(req: ScriptedRequest): void {
    this.dropNode(
      req.destination,
      new KafkaTimeoutError(`Disconnected from node ${req.destination} due to a request timeout (request.timeout.ms=${req.request.requestTimeoutMs})`),
      true,
    )
  }

  /** Drops the connection to `nodeId`: every request in flight to it fails with a disconnect. */
  disconnect(nodeId: number): void {
    this.dropNode(nodeId, new KafkaNetworkError(`Connection to node ${nodeId} was closed by the broker`, nodeId), false)
  }

  /** Runs the queued completions now (what `poll` does after its wait), after applying request timeouts. */
  deliver(nowMs = this.time()): void {
    for (const [node, list] of this.inFlight) {
      if (list.some((r) => !r.answered && nowMs - r.sentMs >= r.request.requestTimeoutMs)) {
        this.dropNode(node, new KafkaTimeoutError(`Disconnected from node ${node} due to a request timeout`), true)
      }
    }
    const batch = this.queued
    this.queued = []
    for (const { req, response } of batch) {
      const list = this.inFlight.get(req.destination)
      if (list !== undefined) {
        const i = list.indexOf(req)
        if (i >= 0) list.splice(i, 1)
      }
      req.completed = true
      if (response.body !== null) {
        const api = req.request.api
        const version = this.apiVersions[String(req.destination)]?.[api.name] ?? api.maxVersion
        const t = clientThrottleTimeMs(api, version, response.body)
        if (t > 0) this.throttledUntil.set(req.destination, Math.max(this.throttledUntil.get(req.destination) ?? 0, response.receivedMs + t))
      }
      req.request.onComplete(response)
    }
  }

  private queue(req: ScriptedRequest, r: Pick<ClientResponse, 'disconnected' | 'timedOut' | 'body' | 'error'>): void {
    if (req.answered) throw new Error(`request #${req.index} (${req.api} to node ${req.destination}) was answered twice`)
    req.answered = true
    this.queued.push({ req, response: { request: req.request as ClientRequest<unknown, any>, receivedMs: this.time(), apiVersion: -1, ...r } })
    this.endPollSoon()
  }

  private dropNode(nodeId: number, error: Error, timedOut: boolean): void {
    for (const req of this.inFlight.get(nodeId) ?? []) {
      if (!req.answered) this.queue(req, { disconnected: true, timedOut, body: null, error })
    }
  }

  // ---- KafkaClient ----

  ready(node: Node, nowMs: number): boolean {
    return this.canSend(node.id, nowMs)
  }

  private canSend(nodeId: number, nowMs: number): boolean {
    const script = this.nodes.get(nodeId)
    if (this.closed || (script !== undefined && !script.ready)) return false
    if ((this.throttledUntil.get(nodeId) ?? 0) > nowMs) return false
    return this.inFlightRequestCount(nodeId) < this.maxInFlightPerConnection
  }

  pollDelayMs(nodeId: number, nowMs: number): number {
    const script = this.nodes.get(nodeId)
    const throttled = (this.throttledUntil.get(nodeId) ?? 0) - nowMs
    if (throttled > 0 && (script === undefined || script.ready)) return throttled
    return this.connectionDelay(nodeId, nowMs)
  }

  connectionDelay(nodeId: number, _nowMs: number): number {
    const script = this.nodes.get(nodeId)
    return script === undefined || script.ready ? 0 : script.delayMs
  }

  /** Null: scripted requests have no correlation id or version (a produce trace shows -1). */
  send<Req, Res>(request: ClientRequest<Req, Res>, nowMs: number): null {
    const node = request.destination
    if (!this.canSend(node, nowMs)) throw new Error(`Attempt to send a request to node ${node}, which is not ready`)
    const req = new ScriptedRequest(request, nowMs, this.requests.length)
    this.requests.push(req)
    let list = this.inFlight.get(node)
    if (list === undefined) this.inFlight.set(node, (list = []))
    list.push(req)
    this.maxInFlightSeen.set(node, Math.max(this.maxInFlightSeen.get(node) ?? 0, list.length))
    // acks=0: complete as soon as the send is, i.e. at the next poll.
    if (!request.expectResponse) this.queue(req, { disconnected: false, timedOut: false, body: null, error: null })
    return null
  }

  /**
   * For a running Sender loop (producer-level tests): waits, as the real
   * client does, until an answer is queued, `wakeup` is called or
   * `timeoutMs` of real time passed, always yielding to the event loop at
   * least once; then delivers. Unit tests of `runOnce` call `deliver` instead.
   */
  poll(timeoutMs: number, time: () => number): Promise<void> {
    this.pollTimeouts.push(timeoutMs)
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | null = null
      const finish = (): void => {
        if (this.endPoll !== finish) return
        this.endPoll = null
        if (timer !== null) clearTimeout(timer)
        this.deliver(time())
        resolve()
      }
      this.endPoll = finish
      if (this.woken || this.queued.length > 0 || !(timeoutMs > 0)) setImmediate(finish)
      else if (Number.isFinite(timeoutMs)) timer = setTimeout(finish, Math.min(timeoutMs, 2147483647))
      this.woken = false
    })
  }

  wakeup(): void {
    this.wakeups++
    if (this.endPoll !== null) this.endPollSoon()
    else this.woken = true
  }

  /**
   * Ends a pending poll on a later turn, never on the caller's stack: the
   * real client runs completions only from poll, so a Sender under test must
   * not see them run inside `send`, `wakeup` or a test's `respond`.
   */
  private endPollSoon(): void {
    const end = this.endPoll
    if (end !== null) setImmediate(end)
  }

  hasInFlightRequests(): boolean {
    return this.inFlightRequestCount() > 0
  }

  inFlightRequestCount(nodeId?: number): number {
    if (nodeId !== undefined) return this.inFlight.get(nodeId)?.length ?? 0
    let n = 0
    for (const list of this.inFlight.values()) n += list.length
    return n
  }

  inFlightPerNode(): Map<number, number> {
    const out = new Map<number, number>()
    for (const [node, list] of this.inFlight) if (list.length > 0) out.set(node, list.length)
    return out
  }

  leastLoadedNode(nowMs: number): Node | null {
    if (this.leastLoaded !== undefined) return this.leastLoaded
    let best: Node | null = null
    for (const n of this.metadata.cluster.nodes) {
      if (!this.canSend(n.id, nowMs)) continue
      if (best === null || this.inFlightRequestCount(n.id) < this.inFlightRequestCount(best.id)) best = n
    }
    return best
  }

  /**
   * What NetworkClient.inspectConnections shows, for the scripted nodes and
   * any node with requests: `ready`, or `backing-off` / `connecting` when
   * scripted not ready (a finite / infinite delay). A request's correlation
   * id is its index, its version the scripted `apiVersions` entry (-1 if
   * none), its bytes 0 (nothing is encoded); batches, records and
   * partitions are read from its body as the real client reads them.
   * `throttledForMs` while a node is throttled, as the real client shows it.
   */
  inspectConnections(nowMs: number): ConnectionInspection[] {
    const ids = new Set<number>([...this.nodes.keys(), ...this.inFlight.keys()])
    const out: ConnectionInspection[] = []
    for (const id of [...ids].sort((a, b) => a - b)) {
      const script = this.nodes.get(id)
      const node = this.metadata.cluster.nodeById(id)
      const state = script === undefined || script.ready ? 'ready' : Number.isFinite(script.delayMs) ? 'backing-off' : 'connecting'
      out.push({
        nodeId: id,
        address: node === undefined ? '' : `${node.host}:${node.port}`,
        state,
        ...(state === 'backing-off' ? { reconnectInMs: script!.delayMs } : {}),
        ...((this.throttledUntil.get(id) ?? 0) > nowMs ? { throttledForMs: this.throttledUntil.get(id)! - nowMs } : {}),
        apiVersions: this.apiVersions[String(id)] ?? {},
        inFlight: (this.inFlight.get(id) ?? [])
          .filter((r) => !r.answered)
          .map((r) => ({
            correlationId: r.index,
            api: r.api,
            apiVersion: this.apiVersions[String(id)]?.[r.api] ?? -1,
            ageMs: Math.max(0, nowMs - r.sentMs),
            bytes: 0,
            sent: true,
            ...describeRequestPayload(r.request),
          })),
      })
    }
    return out
  }

  negotiatedApiVersions(): Record<string, Record<string, number>> {
    return this.apiVersions
  }

  connectionCount(): number {
    return 0
  }

  /** What `connectionFailures` answers (scripted; null: nothing is failing). */
  failureReport: ((nodeId?: number) => ConnectionFailureReport | null) | null = null

  connectionFailures(nodeId?: number): ConnectionFailureReport | null {
    return this.failureReport?.(nodeId) ?? null
  }

  finalizedFeatures(): FinalizedFeatures {
    return this.features
  }

  close(_nowMs: number): void {
    if (this.closed) return
    this.closed = true
    for (const node of this.inFlight.keys()) this.dropNode(node, new KafkaNetworkError('The network client was closed'), false)
    this.deliver()
    this.endPoll?.()
  }
}

/** What {@link scriptedProducer} builds a producer from. */
export interface ScriptedProducerOptions {
  /** Producer options on top of `bootstrapServers: 'bootstrap:9092'`. */
  readonly config?: Record<string, unknown>
  /** The cluster the client knows from the start; each of its topics is in the metadata (no refresh is played). */
  readonly view: MetadataResponseView
  /** The producer's clock (default `Date.now`). */
  readonly time?: () => number
  /** Default `() => 0.5`: jitter factors of exactly 1, a fixed sticky-partition choice. */
  readonly random?: () => number
  /** Scripts the new client (`apiVersions`, `features`...) before the producer uses it. */
  readonly setup?: (client: ScriptedClient) => void
}

/**
 * A KafkaProducer whose network client is a {@link ScriptedClient}, built
 * through the producer's `createClient` seam. `client()` and `metadata()`
 * are the ones the producer made (available once the constructor returned).
 * The caller closes the producer.
 */
export function scriptedProducer(options: ScriptedProducerOptions): {
  producer: KafkaProducer<any, any>
  client: () => ScriptedClient
  metadata: () => ProducerMetadata
} {
  let client!: ScriptedClient
  let metadata!: ProducerMetadata
  const producer = new KafkaProducer({ bootstrapServers: 'bootstrap:9092', ...options.config } as any, {
    ...(options.time !== undefined ? { time: options.time } : {}),
    random: options.random ?? (() => 0.5),
    createClient: (parts) => {
      metadata = parts.metadata
      for (const t of options.view.topics) if (t.name !== null) metadata.add(t.name, parts.time())
      metadata.update(options.view, parts.time())
      client = new ScriptedClient(parts.metadata, parts.time)
      options.setup?.(client)
      return client
    },
  })
  return { producer, client: () => client, metadata: () => metadata }
}

/** A Produce answer with no error for every partition of `req`, each at `baseOffset`. */
export function produceOk(req: ScriptedRequest, baseOffset: bigint): ProduceResponse {
  const body = req.body as ProduceRequest
  return {
    throttleTimeMs: 0,
    nodeEndpoints: [],
    topics: body.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({ index: p.index, errorCode: 0, baseOffset, logAppendTimeMs: -1, logStartOffset: -1n, recordErrors: [], errorMessage: null })),
    })),
  }
}
