// A TCP proxy between the producer and real brokers that understands Kafka
// framing in both directions and can break the next response to a given API.
//
// - One listener per upstream broker (127.0.0.1, random port). `bootstrap` is
//   the list of listeners: give it to the producer instead of the brokers'.
// - Requests (client -> broker) are forwarded as they arrive; their headers
//   (size, api key, api version, correlation id) are read on the way to match
//   each response to its request.
// - Responses (broker -> client) are reassembled into whole frames. Metadata
//   responses (every version, 0..13) get their broker list rewritten to the
//   proxy's listeners, so the producer keeps talking through the proxy to
//   every broker it learns about.
// - `arm(apiKey, fault)` breaks the next response to that API (on whichever
//   connection it comes), once. The promise it returns resolves when the fault
//   has been applied, with the connection it hit.
// - Every connection records who closed it first: the client (the producer),
//   the proxy (a fault), or the broker.
//
// Responses on one connection keep their order, delayed ones included. After a
// fault that leaves the stream unusable (truncate, oversizePrefix,
// closeMidResponse) nothing more is sent to that client.
import net from 'node:net'
import { decodeResponse, isFlexible } from '../../src/protocol/api.js'
import { MetadataApi, ProduceApi, type ProduceResponse } from '../../src/protocol/apis/index.js'
import { Reader } from '../../src/protocol/reader.js'
import { BufferWriter, type ProtocolWriter, SizeCounter } from '../../src/protocol/writer.js'

export const API_KEY = { Produce: 0, Metadata: 3, ApiVersions: 18, InitProducerId: 22 } as const

export type Fault =
  /** Sends the first `keepBytes` bytes of the frame (size prefix included; default half), then closes (FIN). */
  | { kind: 'truncate'; keepBytes?: number }
  /** Sends the response with its correlation id plus `delta` (default 1000). */
  | { kind: 'wrongCorrelationId'; delta?: number }
  /** Keeps the size and correlation id; everything after is seeded random bytes. */
  | { kind: 'garbage'; seed?: number }
  /** Sends only a size prefix (default 2^31-1) and nothing else; the connection stays open. */
  | { kind: 'oversizePrefix'; size?: number }
  /** Sends the size prefix and a few bytes, waits `afterMs` (default 30), then resets the connection (RST). */
  | { kind: 'closeMidResponse'; afterMs?: number }
  /** Holds the response (and those behind it on the connection) for `ms`, then sends it. */
  | { kind: 'delay'; ms: number }
  /**
   * A body that does not match the version of the request: `layout` a number
   * re-encodes a Produce response in that version's layout (header included);
   * 'extraField' appends an int32 the version does not have; 'missingField'
   * drops the last 4 bytes (Produce v1..v8: the throttle time).
   */
  | { kind: 'wrongVersionBody'; layout: number | 'extraField' | 'missingField' }

export type Closer = 'client' | 'proxy' | 'broker'

export interface ProxyConnection {
  readonly id: number
  /** host:port of the broker behind it. */
  readonly upstream: string
  /** Position of that broker in the upstream bootstrap list (0-based; mock broker id - 1). */
  readonly upstreamIndex: number
  /** Requests seen per API key. */
  readonly requests: Map<number, number>
  /** Who closed the connection first; null while open. */
  closedBy: Closer | null
  /** Resolves when the connection is closed, with who closed it first. */
  readonly closed: Promise<Closer>
}

export interface FaultApplied {
  fault: Fault
  connection: ProxyConnection
  apiKey: number
  apiVersion: number
  correlationId: number
  /** The frame as the broker sent it (without size prefix). */
  original: Buffer
}

interface Armed {
  apiKey: number
  fault: Fault
  upstreamIndex: number | undefined
  resolve: (a: FaultApplied) => void
}

interface PendingRequest {
  apiKey: number
  apiVersion: number
}

/** Splits a byte stream into size-prefixed frames (returned without the prefix). */
class FrameSplitter {
  private chunks: Buffer[] = []
  private buffered = 0

  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    this.chunks.push(chunk)
    this.buffered += chunk.length
    for (;;) {
      if (this.buffered < 4) return
      const head = this.chunks.length === 1 ? this.chunks[0]! : this.flatten()
      const size = head.readInt32BE(0)
      if (size < 0) throw new Error(`fault proxy: negative frame size ${size}`)
      if (this.buffered < 4 + size) return
      const all = this.flatten()
      onFrame(Buffer.from(all.subarray(4, 4 + size)))
      const rest = all.subarray(4 + size)
      this.chunks = rest.length > 0 ? [rest] : []
      this.buffered = rest.length
    }
  }

  private flatten(): Buffer {
    if (this.chunks.length !== 1) this.chunks = [Buffer.concat(this.chunks)]
    return this.chunks[0]!
  }
}

function sizePrefixed(frame: Buffer): Buffer {
  const b = Buffer.allocUnsafe(4 + frame.length)
  b.writeInt32BE(frame.length, 0)
  frame.copy(b, 4)
  return b
}

/** xorshift32 bytes, so garbage is the same on every run. */
function seededBytes(n: number, seed: number): Buffer {
  let s = seed >>> 0 || 1
  const b = Buffer.allocUnsafe(n)
  for (let i = 0; i < n; i++) {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    s >>>= 0
    b[i] = s & 0xff
  }
  return b
}

/** Runs `write` over a SizeCounter, then into one buffer of that size. */
function encode(flexible: boolean, write: (w: ProtocolWriter) => void): Buffer {
  const size = new SizeCounter(flexible)
  write(size)
  const w = new BufferWriter(Buffer.allocUnsafe(size.ownBytes), 0, flexible)
  write(w)
  return Buffer.concat(w.finish())
}

/**
 * A Produce response frame (correlation id, header, body) in the layout of
 * `version` (0..12), from a decoded response: the "wrong version" a confused
 * broker or middlebox could send.
 */
export function encodeProduceResponse(correlationId: number, res: ProduceResponse, version: number): Buffer {
  const flexible = version >= 9
  return encode(flexible, (w) => {
    w.int32(correlationId)
    w.taggedFields() // response header v1 when flexible
    w.arrayLength(res.topics.length)
    for (const t of res.topics) {
      w.string(t.name)
      w.arrayLength(t.partitions.length)
      for (const p of t.partitions) {
        w.int32(p.index)
        w.int16(p.errorCode)
        w.int64(p.baseOffset)
        if (version >= 2) w.int64(p.logAppendTimeMs)
        if (version >= 5) w.int64(p.logStartOffset)
        if (version >= 8) {
          w.arrayLength(p.recordErrors.length)
          for (const e of p.recordErrors) {
            w.int32(e.batchIndex)
            w.nullableString(e.batchIndexErrorMessage)
            w.taggedFields()
          }
          w.nullableString(p.errorMessage)
        }
        w.taggedFields()
      }
      w.taggedFields()
    }
    if (version >= 1) w.int32(res.throttleTimeMs)
    w.taggedFields()
  })
}

/**
 * Rewrites the broker list of a Metadata response frame (any version): each
 * broker whose host:port `map` knows gets the proxy's address instead.
 * Everything else is copied byte for byte.
 */
export function rewriteMetadataBrokers(frame: Buffer, version: number, map: (host: string, port: number) => { host: string; port: number } | null): Buffer {
  const flexible = isFlexible(MetadataApi, version)
  const r = new Reader(frame, 4, flexible)
  r.taggedFields() // response header v1
  if (version >= 3) r.int32() // throttle time
  const start = r.offset
  const brokers = r.array((r) => {
    const nodeId = r.int32()
    const host = r.string()
    const port = r.int32()
    const rack = version >= 1 ? r.nullableString() : null
    const tagsFrom = r.offset
    r.taggedFields()
    return { nodeId, host, port, rack, tags: frame.subarray(tagsFrom, r.offset) }
  })
  const end = r.offset
  const body = encode(flexible, (w) => {
    w.arrayLength(brokers.length)
    for (const b of brokers) {
      const to = map(b.host, b.port) ?? { host: b.host, port: b.port }
      w.int32(b.nodeId)
      w.string(to.host)
      w.int32(to.port)
      if (version >= 1) w.nullableString(b.rack)
      // Tagged fields as the broker sent them (usually an empty section).
      if (flexible) for (const x of b.tags) w.int8(x << 24 >> 24)
    }
  })
  return Buffer.concat([frame.subarray(0, start), body, frame.subarray(end)])
}

export class FaultProxy {
  readonly connections: ProxyConnection[] = []
  /** Requests seen per API key, all connections. */
  readonly requests = new Map<number, number>()
  /** host:port of brokers a Metadata response named that no listener stands for (the client would bypass the proxy). */
  readonly unmappedBrokers: string[] = []
  private readonly armed: Armed[] = []
  private readonly sockets = new Set<net.Socket>()
  private nextId = 1

  private constructor(
    private readonly servers: { server: net.Server; upstreamHost: string; upstreamPort: number; port: number }[],
  ) {}

  /** "127.0.0.1:p1,127.0.0.1:p2,...", one listener per upstream broker, in the same order. */
  get bootstrap(): string {
    return this.servers.map((s) => `127.0.0.1:${s.port}`).join(',')
  }

  /** Starts one listener per broker of `upstreamBootstrap` ("host:port,host:port"). */
  static async start(upstreamBootstrap: string): Promise<FaultProxy> {
    const upstreams = upstreamBootstrap.split(',').map((hp) => {
      const i = hp.lastIndexOf(':')
      return { host: hp.slice(0, i), port: Number(hp.slice(i + 1)) }
    })
    const entries: { server: net.Server; upstreamHost: string; upstreamPort: number; port: number }[] = []
    const proxy = new FaultProxy(entries)
    for (const u of upstreams) {
      const index = entries.length
      const server = net.createServer((client) => proxy.accept(client, u.host, u.port, index))
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen({ host: '127.0.0.1', port: 0 }, () => resolve())
      })
      entries.push({ server, upstreamHost: u.host, upstreamPort: u.port, port: (server.address() as net.AddressInfo).port })
    }
    return proxy
  }

  /**
   * Breaks the next response to `apiKey`, once; with `upstreamIndex`, only a
   * response from that broker (its position in the upstream bootstrap list).
   * Resolves when the fault has been applied.
   */
  arm(apiKey: number, fault: Fault, opts: { upstreamIndex?: number } = {}): Promise<FaultApplied> {
    return new Promise((resolve) => this.armed.push({ apiKey, fault, upstreamIndex: opts.upstreamIndex, resolve }))
  }

  /** Forgets faults that were armed but never applied. */
  disarm(): void {
    this.armed.length = 0
  }

  /** Connections still open. */
  get open(): ProxyConnection[] {
    return this.connections.filter((c) => c.closedBy === null)
  }

  async close(): Promise<void> {
    this.disarm()
    for (const s of this.sockets) s.destroy()
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.server.close(() => resolve()))))
  }

  private mapBroker = (host: string, port: number): { host: string; port: number } | null => {
    const s = this.servers.find((x) => x.upstreamPort === port && (x.upstreamHost === host || sameLoopback(x.upstreamHost, host)))
    if (s === undefined) {
      this.unmappedBrokers.push(`${host}:${port}`)
      return null
    }
    return { host: '127.0.0.1', port: s.port }
  }

  private accept(client: net.Socket, host: string, port: number, upstreamIndex: number): void {
    const upstream = net.connect({ host, port })
    this.sockets.add(client)
    this.sockets.add(upstream)
    client.setNoDelay(true)
    upstream.setNoDelay(true)
    let resolveClosed!: (c: Closer) => void
    const conn: ProxyConnection = {
      id: this.nextId++,
      upstream: `${host}:${port}`,
      upstreamIndex,
      requests: new Map(),
      closedBy: null,
      closed: new Promise<Closer>((r) => (resolveClosed = r)),
    }
    this.connections.push(conn)
    const pending = new Map<number, PendingRequest>()
    const requestFrames = new FrameSplitter()
    const responseFrames = new FrameSplitter()
    /** Responses (or fault actions) to the client, strictly in order; delays hold the queue. */
    const queue: (() => Promise<void> | void)[] = []
    let draining = false
    /** Set after a fault that leaves the client's stream unusable. */
    let dead = false

    /** Records who closed first and closes both sides: FIN to the client, or RST with `reset`. */
    const closeBy = (who: Closer, reset = false): void => {
      if (conn.closedBy !== null) return
      conn.closedBy = who
      resolveClosed(who)
      if (who === 'client') client.destroy()
      else if (reset) client.resetAndDestroy()
      else client.end()
      upstream.destroy()
    }

    const drain = async (): Promise<void> => {
      if (draining) return
      draining = true
      while (queue.length > 0) {
        const step = queue.shift()!
        const p = step()
        if (p !== undefined) await p
      }
      draining = false
    }
    const enqueue = (step: () => Promise<void> | void): void => {
      queue.push(step)
      void drain()
    }
    const toClient = (b: Buffer): void => {
      if (!dead && conn.closedBy === null && !client.destroyed) client.write(b)
    }

    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk)
      requestFrames.push(chunk, (frame) => {
        const apiKey = frame.readInt16BE(0)
        const apiVersion = frame.readInt16BE(2)
        const correlationId = frame.readInt32BE(4)
        pending.set(correlationId, { apiKey, apiVersion })
        conn.requests.set(apiKey, (conn.requests.get(apiKey) ?? 0) + 1)
        this.requests.set(apiKey, (this.requests.get(apiKey) ?? 0) + 1)
      })
    })
    upstream.on('data', (chunk: Buffer) => {
      responseFrames.push(chunk, (frame) => {
        const correlationId = frame.readInt32BE(0)
        const req = pending.get(correlationId)
        pending.delete(correlationId)
        let out = frame
        if (req !== undefined && req.apiKey === API_KEY.Metadata) out = rewriteMetadataBrokers(frame, req.apiVersion, this.mapBroker)
        const i = req === undefined ? -1 : this.armed.findIndex((a) => a.apiKey === req.apiKey && (a.upstreamIndex === undefined || a.upstreamIndex === upstreamIndex))
        if (req === undefined || i < 0) {
          enqueue(() => toClient(sizePrefixed(out)))
          return
        }
        const armed = this.armed.splice(i, 1)[0]!
        const applied: FaultApplied = { fault: armed.fault, connection: conn, apiKey: req.apiKey, apiVersion: req.apiVersion, correlationId, original: frame }
        enqueue(() => this.apply(armed.fault, out, req, applied, { toClient, closeBy, kill: () => (dead = true) }))
        armed.resolve(applied)
      })
    })

    client.on('error', () => {})
    upstream.on('error', () => {})
    client.on('end', () => closeBy('client'))
    client.on('close', () => {
      closeBy('client')
      this.sockets.delete(client)
    })
    upstream.on('close', () => {
      closeBy('broker')
      this.sockets.delete(upstream)
    })
  }

  private async apply(
    fault: Fault,
    frame: Buffer,
    req: PendingRequest,
    applied: FaultApplied,
    io: { toClient: (b: Buffer) => void; closeBy: (who: Closer, reset?: boolean) => void; kill: () => void },
  ): Promise<void> {
    switch (fault.kind) {
      case 'truncate': {
        const whole = sizePrefixed(frame)
        const keep = Math.max(0, Math.min(fault.keepBytes ?? Math.floor(whole.length / 2), whole.length - 1))
        io.toClient(whole.subarray(0, keep))
        io.kill()
        io.closeBy('proxy')
        return
      }
      case 'wrongCorrelationId': {
        const f = Buffer.from(frame)
        f.writeInt32BE((applied.correlationId + (fault.delta ?? 1000)) | 0, 0)
        io.toClient(sizePrefixed(f))
        return
      }
      case 'garbage': {
        const f = Buffer.from(frame)
        seededBytes(f.length - 4, fault.seed ?? 0x6a756e6b).copy(f, 4)
        io.toClient(sizePrefixed(f))
        return
      }
      case 'oversizePrefix': {
        const prefix = Buffer.alloc(4)
        prefix.writeInt32BE(fault.size ?? 0x7fffffff, 0)
        io.toClient(prefix)
        io.kill()
        return
      }
      case 'closeMidResponse': {
        const whole = sizePrefixed(frame)
        io.toClient(whole.subarray(0, Math.min(whole.length - 1, 7)))
        io.kill()
        await new Promise((r) => setTimeout(r, fault.afterMs ?? 30))
        io.closeBy('proxy', true)
        return
      }
      case 'delay': {
        await new Promise((r) => setTimeout(r, fault.ms))
        io.toClient(sizePrefixed(frame))
        return
      }
      case 'wrongVersionBody': {
        let f: Buffer
        if (fault.layout === 'extraField') f = Buffer.concat([frame, Buffer.alloc(4)])
        else if (fault.layout === 'missingField') f = frame.subarray(0, frame.length - 4)
        else {
          if (req.apiKey !== API_KEY.Produce) throw new Error('fault proxy: a numeric wrongVersionBody layout is for Produce only')
          const res = decodeResponse(ProduceApi, req.apiVersion, frame)
          f = encodeProduceResponse(applied.correlationId, res, fault.layout)
        }
        io.toClient(sizePrefixed(f))
        return
      }
    }
  }
}

function sameLoopback(a: string, b: string): boolean {
  const loop = (h: string) => h === '127.0.0.1' || h === 'localhost' || h === '::1'
  return loop(a) && loop(b)
}
