import { once } from 'node:events'
import net, { type AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { KafkaNetworkError, KafkaProtocolError } from '../../src/errors.js'
import { NetworkSend } from '../../src/network/framing.js'
import { type CompletedReceive, type Disconnect, Selector } from '../../src/network/selector.js'
import { PlaintextTransportFactory, type TransportFactory, type TransportLayer } from '../../src/network/transport.js'
import { activeResources } from '../harness/resources.js'

const HOST = '127.0.0.1'

/** The real plaintext transport, keeping the sockets it made so a test can wait on their events. */
class RecordingTransport implements TransportFactory {
  readonly securityProtocol = 'PLAINTEXT'
  readonly sockets: net.Socket[] = []
  private readonly inner = new PlaintextTransportFactory()

  connect(host: string, port: number): TransportLayer {
    const t = this.inner.connect(host, port)
    this.sockets.push(t.socket)
    return t
  }
}

/** A real TCP peer on 127.0.0.1 that the test scripts byte by byte. */
interface Peer {
  readonly port: number
  readonly conns: net.Socket[]
  readonly received: Buffer[]
  nextConnection(): Promise<net.Socket>
  close(): Promise<void>
}

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!()
})

async function startPeer(): Promise<Peer> {
  const conns: net.Socket[] = []
  const received: Buffer[] = []
  const waiting: ((s: net.Socket) => void)[] = []
  let taken = 0
  const server = net.createServer((s) => {
    s.setNoDelay(true)
    s.on('data', (d) => received.push(d))
    s.on('error', () => {})
    conns.push(s)
    const w = waiting.shift()
    if (w !== undefined) {
      taken++
      w(s)
    }
  })
  server.listen(0, HOST)
  await once(server, 'listening')
  const peer: Peer = {
    port: (server.address() as AddressInfo).port,
    conns,
    received,
    nextConnection() {
      if (taken < conns.length) return Promise.resolve(conns[taken++]!)
      return new Promise((resolve) => waiting.push(resolve))
    },
    async close() {
      for (const c of conns) c.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
  cleanups.push(() => peer.close())
  return peer
}

function newSelector(maxReceiveSize = 1 << 20, transport: TransportFactory = new PlaintextTransportFactory()): Selector {
  const sel = new Selector(maxReceiveSize, transport)
  cleanups.push(() => sel.closeAll())
  return sel
}

function frame(body: Buffer | string): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body
  const p = Buffer.alloc(4)
  p.writeInt32BE(b.length, 0)
  return Buffer.concat([p, b])
}

/** Everything the selector published, in order, with the index of the poll that published it. */
interface Log {
  polls: number
  sends: { poll: number; send: NetworkSend }[]
  receives: { poll: number; r: CompletedReceive }[]
  connected: { poll: number; id: number }[]
  disconnected: { poll: number; d: Disconnect }[]
}

function newLog(): Log {
  return { polls: 0, sends: [], receives: [], connected: [], disconnected: [] }
}

function capture(sel: Selector, log: Log): void {
  const poll = ++log.polls
  for (const send of sel.completedSends) log.sends.push({ poll, send })
  for (const r of sel.completedReceives) log.receives.push({ poll, r })
  for (const id of sel.connected) log.connected.push({ poll, id })
  for (const d of sel.disconnected) log.disconnected.push({ poll, d })
}

/** Polls (each wait at most 100 ms) until `done` holds; fails after 1.5 s. */
async function pollUntil(sel: Selector, log: Log, done: (log: Log) => boolean): Promise<void> {
  const deadline = Date.now() + 1500
  while (!done(log)) {
    if (Date.now() > deadline) {
      throw new Error(
        `gave up after ${log.polls} polls: connected=${JSON.stringify(log.connected)} receives=${log.receives.length} disconnected=${JSON.stringify(
          log.disconnected.map((x) => [x.d.nodeId, x.d.wasReady, x.d.error.message]),
        )}`,
      )
    }
    await sel.poll(100)
    capture(sel, log)
  }
}

async function connected(sel: Selector, log: Log, id: number, port: number): Promise<void> {
  sel.connect(id, HOST, port)
  await pollUntil(sel, log, (l) => l.connected.some((c) => c.id === id) || l.disconnected.some((x) => x.d.nodeId === id))
  expect(log.connected.map((c) => c.id)).toContain(id)
}

async function freePort(): Promise<number> {
  const s = net.createServer()
  s.listen(0, HOST)
  await once(s, 'listening')
  const port = (s.address() as AddressInfo).port
  await new Promise<void>((resolve) => s.close(() => resolve()))
  return port
}

// process.getActiveResourcesInfo() where it works, a tracker on Bun (test/harness/resources.ts).
const countResources = activeResources

function socketClosed(s: net.Socket): Promise<unknown> {
  return s.closed ? Promise.resolve() : once(s, 'close')
}

describe('Selector against a real TCP peer', () => {
  it('reports a connection in a poll, once, and the channel becomes ready', async () => {
    const peer = await startPeer()
    const sel = newSelector()
    const log = newLog()
    sel.connect(7, HOST, peer.port)
    expect(sel.hasChannel(7)).toBe(true)
    expect(sel.isChannelReady(7)).toBe(false)
    expect(() => sel.connect(7, HOST, peer.port)).toThrow('There is already a connection for id 7')
    expect(() => sel.send(new NetworkSend(7, [frame('x')]))).toThrow('Attempt to send to node 7, which is not ready')
    await pollUntil(sel, log, (l) => l.connected.length > 0)
    expect(log.connected.map((c) => c.id)).toEqual([7])
    expect(sel.isChannelReady(7)).toBe(true)
    await sel.poll(5)
    capture(sel, log)
    expect(log.connected).toHaveLength(1)
    expect(log.disconnected).toEqual([])
  })

  it('writes a multi-segment send byte-identically and reports that very send as completed', async () => {
    const peer = await startPeer()
    const sel = newSelector()
    const log = newLog()
    await connected(sel, log, 1, peer.port)
    const big = Buffer.alloc(256 * 1024)
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff
    const header = Buffer.from([0, 0, 0, 0, 0, 0, 0, 1, 0, 2])
    const segments = [header, Buffer.from('hello'), Buffer.alloc(0), big, Buffer.from([0xee])]
    const total = segments.reduce((n, s) => n + s.length, 0)
    header.writeInt32BE(total - 4, 0)
    const send = new NetworkSend(1, segments)
    sel.send(send)
    expect(sel.hasSendInProgress(1)).toBe(true)
    expect(() => sel.send(new NetworkSend(1, [frame('y')]))).toThrow('channel 1 already has a send in progress')
    await pollUntil(sel, log, (l) => l.sends.length > 0)
    expect(log.sends.map((x) => x.send)).toEqual([send])
    expect(log.sends[0]!.send).toBe(send)
    expect(sel.hasSendInProgress(1)).toBe(false)
    const deadline = Date.now() + 1500
    while (peer.received.reduce((n, b) => n + b.length, 0) < total && Date.now() < deadline) await new Promise((r) => setImmediate(r))
    expect(Buffer.compare(Buffer.concat(peer.received), Buffer.concat(segments))).toBe(0)
  })

  it('publishes frames in arrival order: two in one write, then one in three writes', async () => {
    const peer = await startPeer()
    const sel = newSelector()
    const log = newLog()
    const serverSide = peer.nextConnection()
    await connected(sel, log, 2, peer.port)
    const s = await serverSide
    const a = Buffer.from('first frame')
    const b = Buffer.alloc(0)
    const c = Buffer.alloc(3000, 0x5a)
    s.write(Buffer.concat([frame(a), frame(b)]))
    await pollUntil(sel, log, (l) => l.receives.length >= 2)
    const fc = frame(c)
    s.write(fc.subarray(0, 2)) // half of the size prefix
    await new Promise((r) => setTimeout(r, 5))
    s.write(fc.subarray(2, 1000))
    await new Promise((r) => setTimeout(r, 5))
    s.write(fc.subarray(1000))
    await pollUntil(sel, log, (l) => l.receives.length >= 3)
    expect(log.receives.map((x) => x.r.source)).toEqual([2, 2, 2])
    expect(log.receives.map((x) => x.r.frame.toString('hex'))).toEqual([a, b, c].map((x) => x.toString('hex')))
    expect(log.disconnected).toEqual([])
  })

  it('reports a close by the peer once, as a KafkaNetworkError with wasReady true', async () => {
    const peer = await startPeer()
    const sel = newSelector()
    const log = newLog()
    const serverSide = peer.nextConnection()
    await connected(sel, log, 3, peer.port)
    ;(await serverSide).end()
    await pollUntil(sel, log, (l) => l.disconnected.length > 0)
    expect(log.disconnected).toHaveLength(1)
    const d = log.disconnected[0]!.d
    expect(d.nodeId).toBe(3)
    expect(d.wasReady).toBe(true)
    expect(d.error).toBeInstanceOf(KafkaNetworkError)
    expect(d.error.message).toBe('Connection to node 3 was closed by the broker')
    expect(sel.hasChannel(3)).toBe(false)
    expect(sel.isChannelReady(3)).toBe(false)
    await sel.poll(5)
    capture(sel, log)
    expect(log.disconnected).toHaveLength(1)
    // The id may be connected again once its disconnect was reported.
    await connected(sel, log, 3, peer.port)
  })

  it('says when the peer closed in the middle of a response', async () => {
    const peer = await startPeer()
    const sel = newSelector()
    const log = newLog()
    const serverSide = peer.nextConnection()
    await connected(sel, log, 4, peer.port)
    ;(await serverSide).end(frame('abcdef').subarray(0, 7))
    await pollUntil(sel, log, (l) => l.disconnected.length > 0)
    expect(log.receives).toEqual([])
    expect(log.disconnected[0]!.d.error.message).toBe('Connection to node 4 closed in the middle of a response')
  })

  it('reports a refused connection as a disconnect with wasReady false and the socket error', async () => {
    const port = await freePort()
    const sel = newSelector()
    const log = newLog()
    sel.connect(5, HOST, port)
    await pollUntil(sel, log, (l) => l.disconnected.length > 0)
    expect(log.connected).toEqual([])
    expect(log.disconnected).toHaveLength(1)
    const d = log.disconnected[0]!.d
    expect(d.nodeId).toBe(5)
    expect(d.wasReady).toBe(false)
    expect((d.error as NodeJS.ErrnoException).code).toBe('ECONNREFUSED')
    expect(sel.hasChannel(5)).toBe(false)
  })

  it('drops the connection on an oversized frame, after publishing the frames before it', async () => {
    const peer = await startPeer()
    const sel = newSelector(100)
    const log = newLog()
    const serverSide = peer.nextConnection()
    await connected(sel, log, 6, peer.port)
    const s = await serverSide
    const ok = Buffer.alloc(100, 1) // exactly the limit
    const bad = Buffer.alloc(4)
    bad.writeInt32BE(101, 0)
    s.write(Buffer.concat([frame(ok), bad, Buffer.alloc(101)]))
    await pollUntil(sel, log, (l) => l.disconnected.length > 0)
    expect(log.receives.map((x) => x.r.frame.length)).toEqual([100])
    expect(log.receives[0]!.poll).toBeLessThan(log.disconnected[0]!.poll)
    const d = log.disconnected[0]!.d
    expect(d.error).toBeInstanceOf(KafkaProtocolError)
    expect(d.error.message).toContain('Invalid receive size 101')
    expect(d.wasReady).toBe(true)
    await socketClosed(s)
  })

  it('publishes the last frames of a closed connection one poll before its disconnect', async () => {
    const peer = await startPeer()
    const transport = new RecordingTransport()
    const sel = newSelector(1 << 20, transport)
    const log = newLog()
    const serverSide = peer.nextConnection()
    await connected(sel, log, 8, peer.port)
    ;(await serverSide).end(Buffer.concat([frame('r1'), frame('r2')]))
    // Let the data and the close both be recorded while no poll is outstanding.
    await socketClosed(transport.sockets[0]!)
    await sel.poll(0)
    capture(sel, log)
    expect(log.receives.map((x) => x.r.frame.toString())).toEqual(['r1', 'r2'])
    expect(log.disconnected).toEqual([])
    expect(sel.hasChannel(8)).toBe(true) // so a client can still match these responses
    expect(sel.isChannelReady(8)).toBe(false)
    await sel.poll(0)
    capture(sel, log)
    expect(log.disconnected.map((x) => [x.d.nodeId, x.d.wasReady])).toEqual([[8, true]])
    expect(sel.hasChannel(8)).toBe(false)
  })

  it('reports nothing for a channel after close(id), not even events recorded before it', async () => {
    const peer = await startPeer()
    const transport = new RecordingTransport()
    const sel = newSelector(1 << 20, transport)
    const log = newLog()
    const serverSide = peer.nextConnection()
    await connected(sel, log, 9, peer.port)
    const s = await serverSide
    const client = transport.sockets[0]!
    const dataSeen = once(client, 'data') // registered after the selector's own listener
    s.write(frame('late response'))
    await dataSeen
    sel.send(new NetworkSend(9, [frame('req')]))
    sel.close(9)
    expect(sel.hasChannel(9)).toBe(false)
    await socketClosed(client)
    await socketClosed(s)
    await sel.poll(20)
    capture(sel, log)
    expect(log.receives).toEqual([])
    expect(log.sends).toEqual([])
    expect(log.disconnected).toEqual([])
    sel.close(9) // closing again is a no-op
  })

  it('withdraws an unpublished connect when the connection drops before the poll', async () => {
    const peer = await startPeer()
    const transport = new RecordingTransport()
    const sel = newSelector(1 << 20, transport)
    const log = newLog()
    const serverSide = peer.nextConnection()
    sel.connect(10, HOST, peer.port)
    const client = transport.sockets[0]!
    await once(client, 'connect')
    ;(await serverSide).destroy()
    await socketClosed(client)
    await sel.poll(0)
    capture(sel, log)
    expect(log.connected).toEqual([])
    expect(log.disconnected.map((x) => [x.d.nodeId, x.d.wasReady])).toEqual([[10, false]])
  })

  it('wakeup() makes a pending poll(10_000) return promptly', async () => {
    const sel = newSelector()
    const t0 = performance.now()
    const p = sel.poll(10_000)
    setTimeout(() => sel.wakeup(), 1)
    await p
    expect(performance.now() - t0).toBeLessThan(200)
  })

  it('a wakeup before the poll still returns promptly, after one turn of the event loop', async () => {
    const sel = newSelector()
    let turned = false
    setImmediate(() => {
      turned = true
    })
    sel.wakeup()
    const t0 = performance.now()
    await sel.poll(10_000)
    expect(performance.now() - t0).toBeLessThan(200)
    expect(turned).toBe(true)
    // The wakeup was consumed: the next poll waits for its timeout.
    const t1 = performance.now()
    await sel.poll(30)
    expect(performance.now() - t1).toBeGreaterThanOrEqual(25)
  })

  it('a poll with nothing to do resolves after about its timeout', async () => {
    const sel = newSelector()
    const t0 = performance.now()
    await sel.poll(40)
    const took = performance.now() - t0
    expect(took).toBeGreaterThanOrEqual(35)
    expect(took).toBeLessThan(500)
    expect(sel.completedSends).toEqual([])
    expect(sel.completedReceives).toEqual([])
    expect(sel.connected).toEqual([])
    expect(sel.disconnected).toEqual([])
  })

  it('poll(0) yields to I/O: a caller looping on it still sees its connection complete', async () => {
    const peer = await startPeer()
    const sel = newSelector()
    sel.connect(11, HOST, peer.port)
    let polls = 0
    // Before the fix this loop never left the microtask queue, so the connect callback could not run.
    while (sel.connected.length === 0 && polls < 20_000) {
      await sel.poll(0)
      polls++
    }
    expect(sel.connected).toEqual([11])
  })

  it('allows one outstanding poll only', async () => {
    const sel = newSelector()
    const p = sel.poll(10_000)
    expect(() => sel.poll(10)).toThrow('Selector.poll is already in progress')
    sel.wakeup()
    await p
  })

  it('closeAll() settles a pending poll and leaves no sockets or timers behind', async () => {
    const peer = await startPeer()
    const transport = new RecordingTransport()
    const base = countResources()
    const sel = new Selector(1 << 20, transport)
    const log = newLog()
    for (const id of [1, 2, 3]) await connected(sel, log, id, peer.port)
    expect(countResources().sockets).toBeGreaterThan(base.sockets)
    // Counted right before the poll, not at `base`: an unrelated timer alive at `base` (the
    // worker has one) can fire while the three connects take their time on a loaded machine.
    const timersBeforePoll = countResources().timeouts
    const pending = sel.poll(10_000)
    expect(countResources().timeouts).toBe(timersBeforePoll + 1)
    sel.closeAll()
    await pending
    capture(sel, log)
    expect(log.disconnected).toEqual([])
    expect([1, 2, 3].map((id) => sel.hasChannel(id))).toEqual([false, false, false])
    await Promise.all([...transport.sockets, ...peer.conns].map(socketClosed))
    const after = countResources()
    expect(after.sockets).toBeLessThanOrEqual(base.sockets)
    expect(after.timeouts).toBeLessThanOrEqual(base.timeouts)
    expect(after.immediates).toBeLessThanOrEqual(base.immediates)
  })

  it('closeAll() while a zero-timeout poll is yielding clears its immediate', async () => {
    const sel = new Selector(1 << 20)
    const base = countResources()
    const pending = sel.poll(0)
    expect(countResources().immediates).toBe(base.immediates + 1)
    sel.closeAll()
    await pending
    expect(countResources().immediates).toBe(base.immediates)
  })
})
