import type { ProducerMetadata } from '../../src/clients/metadata.js'
import { NetworkClient, type NetworkClientOptions } from '../../src/clients/network-client.js'
import type { NetworkSend } from '../../src/network/framing.js'
import type { CompletedReceive, Disconnect, Selector } from '../../src/network/selector.js'
import { type Authenticator, NO_AUTHENTICATION } from '../../src/network/transport.js'
import { LogSink } from '../../src/util/logger.js'

/** One request the client wrote: its API key, version, correlation id, and the channel it went on. */
export interface WrittenRequest {
  readonly nodeId: number
  readonly apiKey: number
  readonly apiVersion: number
  readonly correlationId: number
  /** The frame's bytes, size prefix included (what inspect() reports as `bytes`). */
  readonly size: number
}

/**
 * An in-memory stand-in for the {@link Selector}, for unit tests of the
 * NetworkClient's connection logic with a fake clock: no sockets. The test
 * decides when a connection comes up (`connectNow`) or drops
 * (`disconnect`), answers requests with hand-built frames (`respond`), and
 * reads what was written (`written`) and every wait the client asked for
 * (`pollTimeouts`). `poll` never waits: it
 * publishes what the test queued and resolves, so a test drives time itself.
 * Sends complete at the next poll unless `holdSends` keeps them in progress.
 */
export class FakeSelector {
  completedSends: NetworkSend[] = []
  completedReceives: CompletedReceive[] = []
  tlsHandshaking: number[] = []
  connected: number[] = []
  disconnected: Disconnect[] = []

  readonly written: WrittenRequest[] = []
  readonly pollTimeouts: number[] = []
  readonly closed: number[] = []
  readonly connects: number[] = []
  /** While true, a send stays in progress (a large Produce being written). */
  holdSends = false
  private readonly channels = new Map<number, { ready: boolean; authenticator: Authenticator; inProgress: NetworkSend | null }>()
  private nextSends: NetworkSend[] = []
  private nextReceives: CompletedReceive[] = []
  private nextConnected: number[] = []
  private nextDisconnected: Disconnect[] = []

  constructor(private readonly authenticators: (nodeId: number) => Authenticator = () => NO_AUTHENTICATION) {}

  /** This fake, typed as the Selector the NetworkClient takes. */
  asSelector(): Selector {
    return this as unknown as Selector
  }

  connect(id: number): void {
    if (this.channels.has(id)) throw new Error(`There is already a connection for id ${id}`)
    this.connects.push(id)
    this.channels.set(id, { ready: false, authenticator: this.authenticators(id), inProgress: null })
  }

  /** The transport of `id` is up (TCP, TLS): reported at the next poll. */
  connectNow(id: number): void {
    this.channels.get(id)!.ready = true
    this.nextConnected.push(id)
  }

  /** The peer closed `id` (reported at the next poll, the channel gone), e.g. mid TLS handshake. */
  disconnectNow(id: number, error: Error, duringTlsHandshake = false): void {
    const c = this.channels.get(id)
    this.channels.delete(id)
    this.nextDisconnected.push({ nodeId: id, error, wasReady: c?.ready === true, duringTlsHandshake })
  }

  /** The peer closed the ready connection to `id`: the channel goes now, the disconnect is reported at the next poll. */
  disconnect(id: number, error = new Error('Connection reset by peer')): void {
    if (!this.channels.delete(id)) throw new Error(`no connection for id ${id}`)
    this.nextDisconnected.push({ nodeId: id, error, wasReady: true, duringTlsHandshake: false })
  }

  send(send: NetworkSend): void {
    const c = this.channels.get(send.destination)
    if (c === undefined || !c.ready) throw new Error(`Attempt to send to node ${send.destination}, which is not ready`)
    const head = Buffer.concat(send.segments.slice(0, 1))
    // size(4) apiKey(2) apiVersion(2) correlationId(4)
    this.written.push({ nodeId: send.destination, apiKey: head.readInt16BE(4), apiVersion: head.readInt16BE(6), correlationId: head.readInt32BE(8), size: send.size })
    c.inProgress = send
    if (!this.holdSends) this.finishSend(send.destination)
  }

  /** The send in progress on `id` has been written (after `holdSends`). */
  finishSend(id: number): void {
    const c = this.channels.get(id)
    if (c?.inProgress == null) return
    this.nextSends.push(c.inProgress)
    c.inProgress = null
  }

  /** Queues a response frame (without its size prefix) for the last written request of `apiKey` to `id`. */
  respond(id: number, apiKey: number, body: Buffer): void {
    const req = [...this.written].reverse().find((w) => w.nodeId === id && w.apiKey === apiKey)
    if (req === undefined) throw new Error(`no request of API ${apiKey} to node ${id}`)
    const header = Buffer.alloc(4)
    header.writeInt32BE(req.correlationId)
    this.nextReceives.push({ source: id, frame: Buffer.concat([header, body]) })
  }

  poll(timeoutMs: number): Promise<void> {
    this.pollTimeouts.push(timeoutMs)
    this.completedSends = this.nextSends
    this.nextSends = []
    this.completedReceives = this.nextReceives
    this.nextReceives = []
    this.connected = this.nextConnected
    this.nextConnected = []
    this.tlsHandshaking = []
    this.disconnected = this.nextDisconnected
    this.nextDisconnected = []
    return Promise.resolve()
  }

  wakeup(): void {}

  isChannelReady(id: number): boolean {
    return this.channels.get(id)?.ready === true
  }

  authenticator(id: number): Authenticator | undefined {
    return this.channels.get(id)?.authenticator
  }

  hasSendInProgress(id: number): boolean {
    return this.channels.get(id)?.inProgress != null
  }

  hasChannel(id: number): boolean {
    return this.channels.has(id)
  }

  mute(): void {}
  unmute(): void {}

  close(id: number): void {
    if (this.channels.delete(id)) this.closed.push(id)
  }

  closeAll(): void {
    for (const id of [...this.channels.keys()]) this.close(id)
  }
}

/**
 * A NetworkClient on `selector` with the producer's defaults for timeouts and
 * backoffs (reconnect 50 ms, deterministic jitter), a silent log, and
 * `overrides` on top.
 */
export function networkClientOn(selector: FakeSelector, metadata: ProducerMetadata, overrides: Partial<NetworkClientOptions> = {}): NetworkClient {
  return new NetworkClient(selector.asSelector(), metadata, {
    clientId: 'test',
    maxInFlightRequestsPerConnection: 5,
    requestTimeoutMs: 30_000,
    reconnectBackoffMs: 50,
    reconnectBackoffMaxMs: 1000,
    socketConnectionSetupTimeoutMs: 10_000,
    socketConnectionSetupTimeoutMaxMs: 30_000,
    connectionsMaxIdleMs: 600_000,
    softwareName: 'test',
    softwareVersion: '0',
    random: () => 0.5,
    log: new LogSink({ warn: () => {}, error: () => {} }, 'test'),
    ...overrides,
  })
}

/** Response bodies (after the correlation id) of the APIs a connection's setup uses, hand-encoded. */
export const frames = {
  /** ApiVersions v3+ (flexible): error 0, the given ranges and throttle time. */
  apiVersions(ranges: readonly (readonly [apiKey: number, min: number, max: number])[], throttleTimeMs = 0): Buffer {
    const parts: Buffer[] = [int16(0), Buffer.from([ranges.length + 1])]
    for (const [k, min, max] of ranges) parts.push(int16(k), int16(min), int16(max), Buffer.from([0]))
    parts.push(int32(throttleTimeMs), Buffer.from([0])) // throttle_time_ms, no tagged fields
    return Buffer.concat(parts)
  },
  /** SaslHandshake v1. */
  saslHandshake(errorCode: number, mechanisms: readonly string[]): Buffer {
    return Buffer.concat([int16(errorCode), int32(mechanisms.length), ...mechanisms.map(str)])
  },
  /** SaslAuthenticate v1 (not flexible). */
  saslAuthenticate(errorCode: number, authBytes: Buffer, sessionLifetimeMs: number): Buffer {
    const life = Buffer.alloc(8)
    life.writeBigInt64BE(BigInt(sessionLifetimeMs))
    return Buffer.concat([int16(errorCode), int16(-1), int32(authBytes.length), authBytes, life])
  },
}

function int16(v: number): Buffer {
  const b = Buffer.alloc(2)
  b.writeInt16BE(v)
  return b
}

function int32(v: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeInt32BE(v)
  return b
}

function str(s: string): Buffer {
  const bytes = Buffer.from(s, 'utf8')
  return Buffer.concat([int16(bytes.length), bytes])
}
