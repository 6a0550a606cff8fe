import { KafkaNetworkError } from '../errors.js'
import { ChannelState, KafkaChannel } from './channel.js'
import type { NetworkSend } from './framing.js'
import { type Authenticator, NO_AUTHENTICATION, PlaintextTransportFactory, type TransportFactory } from './transport.js'

export interface CompletedReceive {
  readonly source: number
  /** The response frame without its size prefix. */
  readonly frame: Buffer
}

export interface Disconnect {
  readonly nodeId: number
  /** Why: the socket error, a protocol error, or a plain close by the peer. */
  readonly error: Error
  /** False when the connection never became ready (refused, reset during connect...). */
  readonly wasReady: boolean
  /** True when it closed after TCP connected and before its TLS handshake finished. */
  readonly duringTlsHandshake: boolean
}

/**
 * A pull-style multiplexer over broker connections, the Node counterpart of
 * Java's `Selector`.
 *
 * Sockets report events whenever the event loop delivers them; the selector
 * only records them. `poll(timeoutMs)` waits until at least one event was
 * recorded (or `wakeup()` was called, or the timeout passed), then publishes
 * everything recorded so far as `completedSends`, `completedReceives`,
 * `tlsHandshaking` (TCP up, TLS handshake under way), `connected` (the
 * transport is ready: TCP, and TLS handshaken) and `disconnected`. Those lists are valid until the next poll.
 * The caller (NetworkClient) handles them in a fixed order, so a response is
 * never processed before the send that carried its request completed, nor
 * after the disconnect that failed it.
 *
 * `poll` never settles in the microtask that called it unless events are
 * already recorded: with nothing recorded, a zero timeout or a pending wakeup
 * still yields to the event loop once (`setImmediate`, Java's `selectNow`),
 * so a caller looping on `poll(0)` cannot starve socket I/O, write callbacks
 * or timers.
 *
 * Invariants:
 * - After `close(id)` nothing more is reported for that channel, including
 *   events recorded before the close but not yet published.
 * - A disconnect is reported once per channel, in a later poll than any frames
 *   it delivered; until that poll the channel still counts for `hasChannel`
 *   (but is not ready), so the caller can match those frames to its requests.
 * - An idle selector holds no timers, so the process may exit.
 */
export class Selector {
  completedSends: NetworkSend[] = []
  completedReceives: CompletedReceive[] = []
  /** TLS connections whose TCP connect completed: their handshake is under way. */
  tlsHandshaking: number[] = []
  connected: number[] = []
  disconnected: Disconnect[] = []

  private readonly channels = new Map<number, KafkaChannel>()
  private nextSends: NetworkSend[] = []
  private nextReceives: CompletedReceive[] = []
  private nextHandshaking: number[] = []
  private nextConnected: number[] = []
  private nextDisconnected: Disconnect[] = []
  /** Disconnects held back one poll because frames of that channel were still unpublished. */
  private deferredDisconnects: Disconnect[] = []
  private woken = false
  /** The pending poll's resolve; null when no poll is outstanding. */
  private pollResolve: (() => void) | null = null
  /** The pending poll's timeout, handed to the executor (see `poll`). */
  private pollTimeoutMs = 0
  /**
   * Ends the pending poll: publishes and resolves it. One function for the
   * selector's life (timers and events call it), and one executor, so a poll
   * allocates only its Promise and its timer.
   */
  private readonly waiter = (): void => {
    const resolve = this.pollResolve
    if (resolve === null) return
    this.pollResolve = null
    this.clearTimers()
    this.publish()
    resolve()
  }
  private readonly pollExecutor = (resolve: () => void): void => {
    this.pollResolve = resolve
    const timeoutMs = this.pollTimeoutMs
    // Nothing recorded: even a zero timeout (or NaN) or a pending wakeup yields to the event loop
    // once, so socket callbacks run; the first event still settles the poll at once.
    if (this.woken || !(timeoutMs > 0)) this.immediate = setImmediate(this.waiter)
    else if (Number.isFinite(timeoutMs)) this.timer = setTimeout(this.waiter, Math.min(timeoutMs, 2147483647))
  }
  private timer: NodeJS.Timeout | null = null
  private immediate: NodeJS.Immediate | null = null

  constructor(
    private readonly maxReceiveSize: number,
    private readonly transports: TransportFactory = new PlaintextTransportFactory(),
  ) {}

  /** Starts connecting; the outcome arrives as `connected` or `disconnected` in a later poll. */
  connect(id: number, host: string, port: number): void {
    if (this.channels.has(id)) throw new Error(`There is already a connection for id ${id}`)
    const transport = this.transports.connect(host, port)
    const authenticator = this.transports.authenticator?.({ host, port, nodeId: id }) ?? NO_AUTHENTICATION
    const channel = new KafkaChannel(id, transport, authenticator, this.maxReceiveSize)
    this.channels.set(id, channel)
    const socket = transport.socket
    if (transport.connectEvent === 'secureConnect') {
      // TCP is up; the TLS handshake follows (a visible step of connection setup).
      socket.once('connect', () => {
        if (channel.state !== ChannelState.Connecting || this.channels.get(id) !== channel) return
        channel.tlsHandshaking = true
        this.nextHandshaking.push(id)
        this.signal()
      })
    }
    socket.once(transport.connectEvent, () => {
      if (channel.state !== ChannelState.Connecting) return
      channel.state = ChannelState.Ready
      channel.tlsHandshaking = false
      this.nextConnected.push(id)
      this.signal()
    })
    // One frame handler per connection, not one closure per chunk received.
    const onFrame = (frame: Buffer): void => {
      this.nextReceives.push({ source: id, frame })
    }
    socket.on('data', (chunk: Buffer) => this.onData(channel, chunk, onFrame))
    socket.on('error', (err) => {
      if (channel.error === null) channel.error = err
    })
    socket.on('close', () => this.onClose(channel))
  }

  private onData(channel: KafkaChannel, chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    if (channel.state === ChannelState.Closed) return
    try {
      channel.receive.push(chunk, onFrame)
    } catch (err) {
      // Framing errors (oversized or negative size) leave the stream unsynchronised: drop the connection.
      channel.error = err as Error
      channel.transport.socket.destroy()
    }
    this.signal()
  }

  private onClose(channel: KafkaChannel): void {
    const id = channel.id
    if (this.channels.get(id) !== channel) return // closed by us: not reported
    // A connect nobody has seen yet is withdrawn: the caller only learns the connection failed.
    const connectUnseen = removeWhere(this.nextConnected, (n) => n === id) > 0
    removeWhere(this.nextHandshaking, (n) => n === id)
    const wasReady = channel.state === ChannelState.Ready && !connectUnseen
    channel.state = ChannelState.Closed
    const error =
      channel.error ??
      new KafkaNetworkError(
        channel.receive.inProgress
          ? `Connection to node ${id} closed in the middle of a response`
          : `Connection to node ${id} was closed by the broker`,
        id,
      )
    const disconnect: Disconnect = { nodeId: id, error, wasReady, duringTlsHandshake: channel.tlsHandshaking }
    if (this.nextReceives.some((r) => r.source === id)) {
      // Its last responses go out in one poll and the disconnect in the next, so the caller
      // completes those requests rather than failing them. The channel stays (Closed, not
      // ready) until the disconnect is published.
      this.deferredDisconnects.push(disconnect)
    } else {
      this.channels.delete(id)
      this.nextDisconnected.push(disconnect)
    }
    this.signal()
  }

  /**
   * Queues a send on a ready channel with no send in progress. Completion is
   * reported in `completedSends` of a later poll.
   */
  send(send: NetworkSend): void {
    const channel = this.channels.get(send.destination)
    if (channel === undefined || !channel.ready) {
      throw new Error(`Attempt to send to node ${send.destination}, which is not ready`)
    }
    channel.write(send, (err) => {
      if (channel.sendInProgress === send) channel.sendInProgress = null
      if (err) {
        if (channel.error === null) channel.error = err
        return // 'close' follows and fails what was in flight
      }
      if (channel.state === ChannelState.Closed) return
      this.nextSends.push(send)
      this.signal()
    })
  }

  /**
   * Waits up to `timeoutMs` for something to happen, then publishes what
   * happened. Resolves at once when events are already recorded or a wakeup
   * is pending. Only one poll may be outstanding.
   */
  poll(timeoutMs: number): Promise<void> {
    if (this.pollResolve !== null) throw new Error('Selector.poll is already in progress')
    if (this.hasRecorded()) return Promise.resolve(this.publish())
    this.pollTimeoutMs = timeoutMs
    return new Promise<void>(this.pollExecutor)
  }

  private clearTimers(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer)
      this.timer = null
    }
    if (this.immediate !== null) {
      clearImmediate(this.immediate)
      this.immediate = null
    }
  }

  /** Makes the current or next poll return at once (new data to send, close...). */
  wakeup(): void {
    this.woken = true
    this.signal()
  }

  private signal(): void {
    if (this.pollResolve !== null) this.waiter()
  }

  private hasRecorded(): boolean {
    return (
      this.nextSends.length > 0 ||
      this.nextReceives.length > 0 ||
      this.nextHandshaking.length > 0 ||
      this.nextConnected.length > 0 ||
      this.nextDisconnected.length > 0
    )
  }

  private publish(): void {
    this.woken = false
    // Swap rather than copy: last poll's lists become next poll's (emptied) buffers.
    const s = this.completedSends
    this.completedSends = this.nextSends
    this.nextSends = s
    s.length = 0
    const r = this.completedReceives
    this.completedReceives = this.nextReceives
    this.nextReceives = r
    r.length = 0
    const h = this.tlsHandshaking
    this.tlsHandshaking = this.nextHandshaking
    this.nextHandshaking = h
    h.length = 0
    const c = this.connected
    this.connected = this.nextConnected
    this.nextConnected = c
    c.length = 0
    const d = this.disconnected
    this.disconnected = this.nextDisconnected
    this.nextDisconnected = d
    d.length = 0
    // A channel whose disconnect was held back leaves once that disconnect is published.
    for (const x of this.disconnected) {
      if (this.channels.get(x.nodeId)?.state === ChannelState.Closed) this.channels.delete(x.nodeId)
    }
    if (this.deferredDisconnects.length > 0) {
      for (const x of this.deferredDisconnects) this.nextDisconnected.push(x)
      this.deferredDisconnects.length = 0
    }
  }

  /** The transport is ready (TCP connected, TLS handshaken); authentication is the caller's business. */
  isChannelReady(id: number): boolean {
    const channel = this.channels.get(id)
    return channel !== undefined && channel.ready
  }

  /** The authenticator of the current connection to `id`, if there is one. */
  authenticator(id: number): Authenticator | undefined {
    return this.channels.get(id)?.authenticator
  }

  hasSendInProgress(id: number): boolean {
    return this.channels.get(id)?.sendInProgress != null
  }

  hasChannel(id: number): boolean {
    return this.channels.has(id)
  }

  mute(id: number): void {
    this.channels.get(id)?.mute()
  }

  unmute(id: number): void {
    this.channels.get(id)?.unmute()
  }

  /** Closes a channel now. Nothing more is reported for it, not even a disconnect. */
  close(id: number): void {
    const channel = this.channels.get(id)
    if (channel === undefined) return
    this.channels.delete(id)
    channel.close()
    // Events recorded before the close and not yet published belong to the dropped connection.
    removeWhere(this.nextSends, (s) => s.destination === id)
    removeWhere(this.nextReceives, (r) => r.source === id)
    removeWhere(this.nextConnected, (n) => n === id)
    removeWhere(this.nextHandshaking, (n) => n === id)
    removeWhere(this.nextDisconnected, (x) => x.nodeId === id)
    removeWhere(this.deferredDisconnects, (x) => x.nodeId === id)
  }

  /** Closes every channel (reporting nothing for them) and settles a pending poll. */
  closeAll(): void {
    for (const id of [...this.channels.keys()]) this.close(id)
    this.clearTimers()
    if (this.pollResolve !== null) this.waiter()
  }
}

/** Removes, in place and in order, the elements matching `pred`; returns how many went. */
function removeWhere<T>(list: T[], pred: (value: T) => boolean): number {
  let kept = 0
  for (let i = 0; i < list.length; i++) {
    const v = list[i]!
    if (!pred(v)) list[kept++] = v
  }
  const removed = list.length - kept
  list.length = kept
  return removed
}
