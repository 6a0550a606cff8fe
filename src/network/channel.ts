import type { Authenticator, TransportLayer } from './transport.js'
import { NetworkReceive, type NetworkSend } from './framing.js'

export const enum ChannelState {
  Connecting = 0,
  Ready = 1,
  Closed = 2,
}

/**
 * One connection to one broker: a transport (the socket), an authenticator,
 * the frame reassembler for what arrives, and at most one send in progress.
 *
 * Invariants:
 * - `sendInProgress` is non-null from `write` until the transport has taken
 *   every byte of that send; a second `write` meanwhile is a caller bug.
 * - Frames are delivered in arrival order, and never after `state` is Closed.
 */
export class KafkaChannel {
  state = ChannelState.Connecting
  sendInProgress: NetworkSend | null = null
  muted = false
  /** TCP is up and the TLS handshake is under way (TLS transports only). */
  tlsHandshaking = false
  readonly receive: NetworkReceive
  /** The first error seen on this channel, reported with its disconnect. */
  error: Error | null = null

  constructor(
    readonly id: number,
    readonly transport: TransportLayer,
    readonly authenticator: Authenticator,
    maxReceiveSize: number,
  ) {
    this.receive = new NetworkReceive(maxReceiveSize)
  }

  /**
   * The transport can carry frames. Whether requests other than the
   * authenticator's may go out is the network client's decision (its
   * connection state), since authentication requests travel on this same
   * channel before `authenticator.complete`.
   */
  get ready(): boolean {
    return this.state === ChannelState.Ready
  }

  /**
   * Writes every segment of `send` in one corked burst, so a request made of
   * header views and pooled record batches leaves as few TCP segments as the
   * kernel allows, with no concatenation. `onWritten` runs once the transport
   * has taken the last byte.
   */
  write(send: NetworkSend, onWritten: (err: Error | null | undefined) => void): void {
    if (this.sendInProgress !== null) throw new Error(`channel ${this.id} already has a send in progress`)
    const segs = send.segments
    const last = segs.length - 1
    if (last < 0) throw new Error(`channel ${this.id}: a send needs at least one segment`)
    this.sendInProgress = send
    const socket = this.transport.socket
    socket.cork()
    for (let i = 0; i < last; i++) socket.write(segs[i]!)
    socket.write(segs[last]!, onWritten)
    socket.uncork()
  }

  mute(): void {
    if (!this.muted) {
      this.muted = true
      this.transport.socket.pause()
    }
  }

  unmute(): void {
    if (this.muted) {
      this.muted = false
      this.transport.socket.resume()
    }
  }

  close(): void {
    this.state = ChannelState.Closed
    this.transport.socket.destroy()
  }
}
