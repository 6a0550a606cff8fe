/**
 * A TCP proxy in front of each broker of librdkafka's mock cluster that adds
 * what a real broker does for an idempotent producer and the 2.0.2 mock does
 * not (it checks producer ids and sequences only for transactional
 * producers): per partition and producer id, the last five appended batches
 * are remembered, a retry of one of them is answered with its original offset
 * without being written again, and a batch that does not continue the
 * sequence is answered OUT_OF_ORDER_SEQUENCE_NUMBER (Kafka's
 * ProducerStateManager rules; an older epoch gets INVALID_PRODUCER_EPOCH).
 *
 * How it keeps track of what the mock wrote:
 * - Per client connection, requests are forwarded one at a time, so each
 *   Produce answer (or a closed connection) settles exactly one request.
 * - While a forwarded Produce's outcome is unknown, later batches of its
 *   partitions wait (across connections): a client that timed out and retried
 *   on a new connection sees the answer a broker would give once the first
 *   attempt is written.
 * - When the client goes away, the upstream request is still awaited.
 * - When the mock closes the connection with a Produce in flight (injected
 *   disconnect, broker set down), the partition's end offset is read with
 *   `kcat -Q` to learn whether the batch was written.
 * Metadata answers are rewritten so that clients connect to the proxy ports.
 * Batches without a producer id (idempotence off) pass through unchecked.
 */
import { spawn } from 'node:child_process'
import net from 'node:net'

const PRODUCE = 0
const METADATA = 3
const OUT_OF_ORDER_SEQUENCE_NUMBER = 45
const INVALID_PRODUCER_EPOCH = 47

interface BatchMeta {
  firstSeq: number
  lastSeq: number
  offset: bigint
}

interface ProducerEntry {
  epoch: number
  lastSeq: number
  batches: BatchMeta[]
}

interface PartitionData {
  index: number
  records: Buffer | null
}

interface ProduceRequestParts {
  /** Header + transactional id + acks + timeout: everything before the topic array. */
  prefix: Buffer
  topics: { name: string; partitions: PartitionData[] }[]
}

interface PartitionResult {
  errorCode: number
  baseOffset: bigint
  logAppendTime: bigint
  logStartOffset: bigint
}

type Decision =
  | { kind: 'forward'; batch: { pid: bigint; epoch: number; firstSeq: number; count: number } | null }
  | { kind: 'answer'; result: PartitionResult }

export interface SequenceProxyStats {
  /** Produce requests forwarded to the mock. */
  forwarded: number
  /** Retried batches answered with their original offset instead of being written again. */
  deduplicated: number
  /** Batches refused with OUT_OF_ORDER_SEQUENCE_NUMBER. */
  outOfOrder: number
  /** Batches refused with INVALID_PRODUCER_EPOCH (an older epoch). */
  staleEpoch: number
  /** Produce requests whose connection closed before the answer; resolved with kcat -Q. */
  unknownOutcomes: number
  unknownAppended: number
}

export class SequenceProxy {
  readonly stats: SequenceProxyStats = { forwarded: 0, deduplicated: 0, outOfOrder: 0, staleEpoch: 0, unknownOutcomes: 0, unknownAppended: 0 }
  readonly bootstrap: string
  private readonly producers = new Map<string, ProducerEntry>()
  /** Known log end offset per partition (every write goes through the proxy). */
  private readonly endOffsets = new Map<string, bigint>()
  /** Partitions with a forwarded Produce whose outcome is not known yet. */
  private readonly busy = new Map<string, Promise<void>>()
  private readonly servers: net.Server[]
  private readonly sockets = new Set<net.Socket>()
  private closed = false

  private constructor(
    servers: net.Server[],
    private readonly portMap: Map<number, number>,
    private readonly upstreamBootstrap: string,
  ) {
    this.servers = servers
    this.bootstrap = servers.map((s) => `127.0.0.1:${(s.address() as net.AddressInfo).port}`).join(',')
  }

  /** One listening port per broker of `upstreamBootstrap` ("host:port,..." in broker order). */
  static async start(upstreamBootstrap: string): Promise<SequenceProxy> {
    const upstreams = upstreamBootstrap.split(',').map((hp) => {
      const i = hp.lastIndexOf(':')
      return { host: hp.slice(0, i), port: Number(hp.slice(i + 1)) }
    })
    const servers = await Promise.all(
      upstreams.map(
        () =>
          new Promise<net.Server>((resolve, reject) => {
            const s = net.createServer()
            s.once('error', reject)
            s.listen(0, '127.0.0.1', () => resolve(s))
          }),
      ),
    )
    const portMap = new Map<number, number>()
    upstreams.forEach((u, i) => portMap.set(u.port, (servers[i]!.address() as net.AddressInfo).port))
    const proxy = new SequenceProxy(servers, portMap, upstreamBootstrap)
    servers.forEach((s, i) => s.on('connection', (c) => proxy.accept(c, upstreams[i]!)))
    return proxy
  }

  describe(): string {
    const s = this.stats
    return (
      `sequence proxy: forwarded=${s.forwarded} deduplicated=${s.deduplicated} outOfOrder=${s.outOfOrder} ` +
      `staleEpoch=${s.staleEpoch} unknownOutcomes=${s.unknownOutcomes} (appended ${s.unknownAppended})`
    )
  }

  async close(): Promise<void> {
    this.closed = true
    for (const s of this.sockets) s.destroy()
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))))
  }

  // ------------------------------------------------------------------ connections

  private accept(client: net.Socket, upstreamAddr: { host: string; port: number }): void {
    if (this.closed) {
      client.destroy()
      return
    }
    const upstream = net.connect(upstreamAddr.port, upstreamAddr.host)
    this.sockets.add(client)
    this.sockets.add(upstream)
    client.setNoDelay(true)
    upstream.setNoDelay(true)
    const conn = new Connection(this, client, upstream)
    client.on('close', () => {
      this.sockets.delete(client)
      conn.onClientClosed()
    })
    upstream.on('close', () => {
      this.sockets.delete(upstream)
      conn.onUpstreamClosed()
    })
    client.on('error', () => {})
    upstream.on('error', () => {})
  }

  // ------------------------------------------------------------------ Produce handling

  /** Decides and forwards one Produce request; returns the response body for the client (null: connection lost). */
  async handleProduce(
    frame: Buffer,
    version: number,
    forward: (frame: Buffer) => Promise<Buffer | null>,
  ): Promise<Buffer | null> {
    const req = parseProduceRequest(frame, version)
    const keys = new Set<string>()
    for (const t of req.topics) for (const p of t.partitions) if ((batchHeader(p.records)?.pid ?? -1n) >= 0n) keys.add(partKey(t.name, p.index))
    // Later batches of a partition wait until an earlier attempt's fate is known.
    for (;;) {
      const waits = [...keys].map((k) => this.busy.get(k)).filter((p): p is Promise<void> => p !== undefined)
      if (waits.length === 0) break
      await Promise.all(waits)
    }
    const decisions = new Map<string, Decision>()
    let forwardedAny = false
    let answeredAny = false
    for (const t of req.topics) {
      for (const p of t.partitions) {
        const d = this.decide(t.name, p)
        decisions.set(partKey(t.name, p.index), d)
        if (d.kind === 'forward') forwardedAny = true
        else answeredAny = true
      }
    }
    const corr = frame.readInt32BE(4)
    if (!forwardedAny) return encodeProduceResponse(corr, version, req.topics, (topic, p) => (decisions.get(partKey(topic, p)) as { result: PartitionResult }).result)

    // Mark the partitions written by this request as busy until the outcome is known.
    let release!: () => void
    const done = new Promise<void>((r) => (release = r))
    const appended: { topic: string; partition: number; pid: bigint; epoch: number; firstSeq: number; count: number }[] = []
    for (const t of req.topics) {
      for (const p of t.partitions) {
        const d = decisions.get(partKey(t.name, p.index))!
        if (d.kind === 'forward' && d.batch !== null) {
          this.busy.set(partKey(t.name, p.index), done)
          appended.push({ topic: t.name, partition: p.index, ...d.batch })
        }
      }
    }
    const out = answeredAny ? encodeProduceRequest(req, (topic, p) => decisions.get(partKey(topic, p))!.kind === 'forward') : frame
    this.stats.forwarded++
    let response: Buffer | null
    try {
      response = await forward(out)
      if (response === null) {
        await this.resolveUnknown(appended)
        return null
      }
      const results = parseProduceResponse(response, version)
      for (const a of appended) {
        const r = results.get(partKey(a.topic, a.partition))
        if (r && r.errorCode === 0) this.recordAppend(a.topic, a.partition, a.pid, a.epoch, a.firstSeq, a.count, r.baseOffset)
      }
      if (!answeredAny) return response
      return encodeProduceResponse(corr, version, req.topics, (topic, p) => {
        const d = decisions.get(partKey(topic, p))!
        return d.kind === 'answer' ? d.result : (results.get(partKey(topic, p)) ?? errorResult(-1))
      })
    } finally {
      for (const a of appended) if (this.busy.get(partKey(a.topic, a.partition)) === done) this.busy.delete(partKey(a.topic, a.partition))
      release()
    }
  }

  private decide(topic: string, p: PartitionData): Decision {
    const h = batchHeader(p.records)
    if (h === null || h.pid < 0n) return { kind: 'forward', batch: null }
    const key = `${partKey(topic, p.index)}\u0000${h.pid}`
    const entry = this.producers.get(key)
    const lastSeq = h.firstSeq + h.count - 1
    if (entry !== undefined) {
      if (h.epoch < entry.epoch) {
        this.stats.staleEpoch++
        return { kind: 'answer', result: errorResult(INVALID_PRODUCER_EPOCH) }
      }
      if (h.epoch === entry.epoch) {
        const dup = entry.batches.find((b) => b.firstSeq === h.firstSeq && b.lastSeq === lastSeq)
        if (dup !== undefined) {
          this.stats.deduplicated++
          return { kind: 'answer', result: { errorCode: 0, baseOffset: dup.offset, logAppendTime: -1n, logStartOffset: 0n } }
        }
        if (h.firstSeq !== nextSeq(entry.lastSeq)) {
          this.stats.outOfOrder++
          return { kind: 'answer', result: errorResult(OUT_OF_ORDER_SEQUENCE_NUMBER) }
        }
      } else if (h.firstSeq !== 0) {
        // A newer epoch must start its sequences at 0.
        this.stats.outOfOrder++
        return { kind: 'answer', result: errorResult(OUT_OF_ORDER_SEQUENCE_NUMBER) }
      }
    }
    return { kind: 'forward', batch: { pid: h.pid, epoch: h.epoch, firstSeq: h.firstSeq, count: h.count } }
  }

  private recordAppend(topic: string, partition: number, pid: bigint, epoch: number, firstSeq: number, count: number, offset: bigint): void {
    const key = `${partKey(topic, partition)}\u0000${pid}`
    let entry = this.producers.get(key)
    if (entry === undefined || entry.epoch !== epoch) {
      entry = { epoch, lastSeq: -1, batches: [] }
      this.producers.set(key, entry)
    }
    const lastSeq = firstSeq + count - 1
    entry.lastSeq = lastSeq
    entry.batches.push({ firstSeq, lastSeq, offset })
    if (entry.batches.length > 5) entry.batches.shift()
    const end = offset + BigInt(count)
    const pk = partKey(topic, partition)
    if ((this.endOffsets.get(pk) ?? 0n) < end) this.endOffsets.set(pk, end)
  }

  /** The connection closed with a Produce in flight: ask the mock how long each partition's log is now. */
  private async resolveUnknown(appended: { topic: string; partition: number; pid: bigint; epoch: number; firstSeq: number; count: number }[]): Promise<void> {
    if (appended.length === 0) return
    this.stats.unknownOutcomes++
    for (const a of appended) {
      const pk = partKey(a.topic, a.partition)
      const known = this.endOffsets.get(pk) ?? 0n
      const end = await this.queryEndOffset(a.topic, a.partition)
      if (end === known + BigInt(a.count)) {
        this.stats.unknownAppended++
        this.recordAppend(a.topic, a.partition, a.pid, a.epoch, a.firstSeq, a.count, known)
      } else if (end !== known) {
        throw new Error(`sequence proxy: ${a.topic}-${a.partition} ends at ${end}, expected ${known} or ${known + BigInt(a.count)}`)
      }
    }
  }

  private async queryEndOffset(topic: string, partition: number): Promise<bigint> {
    const deadline = Date.now() + 60_000
    for (;;) {
      const out = await runKcat(['-Q', '-b', this.upstreamBootstrap, '-t', `${topic}:${partition}:-1`], 5000)
      const m = / offset (-?\d+)/.exec(out)
      if (m) return BigInt(m[1]!)
      if (this.closed || Date.now() > deadline) throw new Error(`sequence proxy: cannot read the end offset of ${topic}-${partition}: ${out}`)
      await new Promise((r) => setTimeout(r, 200))
    }
  }

  /** Metadata answers name the mock's ports; point clients at the proxy instead. */
  rewriteMetadata(body: Buffer, version: number): Buffer {
    if (version > 8) throw new Error(`sequence proxy: Metadata v${version} (flexible) is not supported`)
    const r = new Cursor(body)
    r.skip(4) // correlation id
    if (version >= 3) r.skip(4) // throttle
    const n = r.int32()
    for (let i = 0; i < n; i++) {
      r.skip(4) // node id
      r.string() // host
      const port = body.readInt32BE(r.pos)
      const mapped = this.portMap.get(port)
      if (mapped !== undefined) body.writeInt32BE(mapped, r.pos)
      r.skip(4)
      if (version >= 1) r.string() // rack
    }
    return body
  }
}

/** One client connection: requests are forwarded strictly one at a time, answers go back in order. */
class Connection {
  private readonly queue: { frame: Buffer; response: Buffer | null }[] = []
  private nextToDispatch = 0
  private dispatching = false
  private clientBuf: Buffer = Buffer.alloc(0)
  private upstreamBuf: Buffer = Buffer.alloc(0)
  private waiting: ((frame: Buffer | null) => void) | null = null
  private clientClosed = false
  private upstreamClosed = false

  constructor(
    private readonly proxy: SequenceProxy,
    private readonly client: net.Socket,
    private readonly upstream: net.Socket,
  ) {
    client.on('data', (d: Buffer) => {
      this.clientBuf = this.clientBuf.length === 0 ? d : Buffer.concat([this.clientBuf, d])
      for (const f of this.takeClientFrames()) this.queue.push({ frame: f, response: null })
      void this.pump()
    })
    upstream.on('data', (d: Buffer) => {
      this.upstreamBuf = this.upstreamBuf.length === 0 ? d : Buffer.concat([this.upstreamBuf, d])
      for (;;) {
        if (this.upstreamBuf.length < 4) break
        const n = this.upstreamBuf.readInt32BE(0)
        if (this.upstreamBuf.length < 4 + n) break
        const frame = Buffer.from(this.upstreamBuf.subarray(4, 4 + n))
        this.upstreamBuf = this.upstreamBuf.subarray(4 + n)
        const w = this.waiting
        this.waiting = null
        w?.(frame)
      }
    })
  }

  private takeClientFrames(): Buffer[] {
    const frames: Buffer[] = []
    for (;;) {
      if (this.clientBuf.length < 4) break
      const n = this.clientBuf.readInt32BE(0)
      if (this.clientBuf.length < 4 + n) break
      frames.push(Buffer.from(this.clientBuf.subarray(4, 4 + n)))
      this.clientBuf = this.clientBuf.subarray(4 + n)
    }
    return frames
  }

  onClientClosed(): void {
    this.clientClosed = true
    // Requests not yet forwarded are dropped; one in flight upstream is still awaited.
    this.queue.length = this.nextToDispatch
    if (!this.dispatching) this.upstream.destroy()
  }

  onUpstreamClosed(): void {
    this.upstreamClosed = true
    const w = this.waiting
    this.waiting = null
    w?.(null)
    // As the mock did: the client sees the disconnect at once (an unknown outcome is resolved meanwhile).
    this.client.destroy()
  }

  private forward(frame: Buffer): Promise<Buffer | null> {
    if (this.upstreamClosed) return Promise.resolve(null)
    return new Promise((resolve) => {
      this.waiting = resolve
      const len = Buffer.allocUnsafe(4)
      len.writeInt32BE(frame.length)
      this.upstream.write(Buffer.concat([len, frame]))
    })
  }

  private async pump(): Promise<void> {
    if (this.dispatching) return
    while (this.nextToDispatch < this.queue.length && !this.clientClosed) {
      const item = this.queue[this.nextToDispatch]!
      this.nextToDispatch++
      this.dispatching = true
      let response: Buffer | null
      try {
        response = await this.dispatch(item.frame)
      } catch (e) {
        process.emitWarning(`sequence proxy: ${(e as Error).stack}`)
        response = null
      } finally {
        this.dispatching = false
      }
      if (response === null) {
        this.client.destroy()
        this.upstream.destroy()
        return
      }
      item.response = response
      this.flush()
    }
    if (this.clientClosed) this.upstream.destroy()
  }

  private flush(): void {
    while (this.queue.length > 0 && this.queue[0]!.response !== null) {
      const { response } = this.queue.shift()!
      this.nextToDispatch--
      if (this.clientClosed) continue
      const len = Buffer.allocUnsafe(4)
      len.writeInt32BE(response!.length)
      this.client.write(Buffer.concat([len, response!]))
    }
  }

  private async dispatch(frame: Buffer): Promise<Buffer | null> {
    const apiKey = frame.readInt16BE(0)
    const version = frame.readInt16BE(2)
    if (apiKey === PRODUCE && version >= 3 && version <= 8) {
      return this.proxy.handleProduce(frame, version, (f) => this.forward(f))
    }
    const response = await this.forward(frame)
    if (response !== null && apiKey === METADATA) return this.proxy.rewriteMetadata(response, version)
    return response
  }
}

// ------------------------------------------------------------------ codecs (Produce v3-v8, non-flexible)

class Cursor {
  pos = 0
  constructor(private readonly b: Buffer) {}
  skip(n: number): void {
    this.pos += n
  }
  int16(): number {
    const v = this.b.readInt16BE(this.pos)
    this.pos += 2
    return v
  }
  int32(): number {
    const v = this.b.readInt32BE(this.pos)
    this.pos += 4
    return v
  }
  int64(): bigint {
    const v = this.b.readBigInt64BE(this.pos)
    this.pos += 8
    return v
  }
  string(): string | null {
    const n = this.int16()
    if (n < 0) return null
    const s = this.b.toString('utf8', this.pos, this.pos + n)
    this.pos += n
    return s
  }
  bytes(): Buffer | null {
    const n = this.int32()
    if (n < 0) return null
    const v = this.b.subarray(this.pos, this.pos + n)
    this.pos += n
    return v
  }
}

function parseProduceRequest(frame: Buffer, version: number): ProduceRequestParts {
  const r = new Cursor(frame)
  r.skip(8) // api key, version, correlation id
  r.string() // client id
  if (version >= 3) r.string() // transactional id
  r.skip(2 + 4) // acks, timeout
  const prefix = frame.subarray(0, r.pos)
  const topics: ProduceRequestParts['topics'] = []
  const nt = r.int32()
  for (let i = 0; i < nt; i++) {
    const name = r.string()!
    const partitions: PartitionData[] = []
    const np = r.int32()
    for (let j = 0; j < np; j++) partitions.push({ index: r.int32(), records: r.bytes() })
    topics.push({ name, partitions })
  }
  return { prefix, topics }
}

function encodeProduceRequest(req: ProduceRequestParts, keep: (topic: string, partition: number) => boolean): Buffer {
  const parts: Buffer[] = [req.prefix]
  const topics = req.topics.map((t) => ({ name: t.name, partitions: t.partitions.filter((p) => keep(t.name, p.index)) })).filter((t) => t.partitions.length > 0)
  parts.push(int32(topics.length))
  for (const t of topics) {
    parts.push(str(t.name), int32(t.partitions.length))
    for (const p of t.partitions) {
      parts.push(int32(p.index))
      if (p.records === null) parts.push(int32(-1))
      else parts.push(int32(p.records.length), p.records)
    }
  }
  return Buffer.concat(parts)
}

function parseProduceResponse(body: Buffer, version: number): Map<string, PartitionResult> {
  const r = new Cursor(body)
  r.skip(4) // correlation id
  const out = new Map<string, PartitionResult>()
  const nt = r.int32()
  for (let i = 0; i < nt; i++) {
    const name = r.string()!
    const np = r.int32()
    for (let j = 0; j < np; j++) {
      const index = r.int32()
      const errorCode = r.int16()
      const baseOffset = r.int64()
      const logAppendTime = version >= 2 ? r.int64() : -1n
      const logStartOffset = version >= 5 ? r.int64() : -1n
      if (version >= 8) {
        const ne = r.int32()
        for (let k = 0; k < ne; k++) {
          r.skip(4)
          r.string()
        }
        r.string()
      }
      out.set(partKey(name, index), { errorCode, baseOffset, logAppendTime, logStartOffset })
    }
  }
  return out
}

function encodeProduceResponse(
  corr: number,
  version: number,
  topics: ProduceRequestParts['topics'],
  resultOf: (topic: string, partition: number) => PartitionResult,
): Buffer {
  const parts: Buffer[] = [int32(corr), int32(topics.length)]
  for (const t of topics) {
    parts.push(str(t.name), int32(t.partitions.length))
    for (const p of t.partitions) {
      const res = resultOf(t.name, p.index)
      const b = Buffer.alloc(4 + 2 + 8 + (version >= 2 ? 8 : 0) + (version >= 5 ? 8 : 0) + (version >= 8 ? 4 + 2 : 0))
      let o = b.writeInt32BE(p.index, 0)
      o = b.writeInt16BE(res.errorCode, o)
      o = b.writeBigInt64BE(res.baseOffset, o)
      if (version >= 2) o = b.writeBigInt64BE(res.logAppendTime, o)
      if (version >= 5) o = b.writeBigInt64BE(res.logStartOffset, o)
      if (version >= 8) {
        o = b.writeInt32BE(0, o) // record errors
        b.writeInt16BE(-1, o) // error message
      }
      parts.push(b)
    }
  }
  parts.push(int32(0)) // throttle time
  return Buffer.concat(parts)
}

/** Producer id, epoch, base sequence and record count of a v2 record batch (null if there is none). */
function batchHeader(records: Buffer | null): { pid: bigint; epoch: number; firstSeq: number; count: number } | null {
  if (records === null || records.length < 61 || records[16] !== 2) return null
  return { pid: records.readBigInt64BE(43), epoch: records.readInt16BE(51), firstSeq: records.readInt32BE(53), count: records.readInt32BE(57) }
}

function errorResult(code: number): PartitionResult {
  return { errorCode: code, baseOffset: -1n, logAppendTime: -1n, logStartOffset: -1n }
}

function nextSeq(seq: number): number {
  return seq === 2147483647 ? 0 : seq + 1
}

function partKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`
}

function int32(v: number): Buffer {
  const b = Buffer.allocUnsafe(4)
  b.writeInt32BE(v)
  return b
}

function str(s: string): Buffer {
  const body = Buffer.from(s, 'utf8')
  const b = Buffer.allocUnsafe(2)
  b.writeInt16BE(body.length)
  return Buffer.concat([b, body])
}

function runKcat(args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn('kcat', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.once('close', () => {
      clearTimeout(t)
      resolve(out)
    })
    child.once('error', (e) => {
      clearTimeout(t)
      resolve(String(e))
    })
  })
}
