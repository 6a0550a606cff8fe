import { describe, expect, it } from 'vitest'
import { ExponentialBackoff } from '../../src/util/backoff.js'
import { ClusterConnectionStates, ConnectionState } from '../../src/clients/connection-states.js'
import { type ClientRequest, type InFlightRequest, InFlightRequests } from '../../src/clients/in-flight-requests.js'
import { type MetadataResponseView, ProducerMetadata } from '../../src/clients/metadata.js'
import { NetworkSend } from '../../src/network/framing.js'
import { MetadataApi, ProduceApi } from '../../src/protocol/apis/index.js'

// With jitter 0.2, random() = 0.5 gives a factor of exactly 1: backoffs are exact powers of two.
const MID = (): number => 0.5

// ---------------------------------------------------------------------------------------------
// InFlightRequests
// ---------------------------------------------------------------------------------------------

let correlation = 0
function inFlight(node: number, sendTimeMs: number, opts: { timeoutMs?: number; sent?: boolean; expectResponse?: boolean } = {}): InFlightRequest {
  const request: ClientRequest = {
    destination: node,
    api: ProduceApi,
    body: null,
    expectResponse: opts.expectResponse ?? true,
    createdMs: sendTimeMs,
    requestTimeoutMs: opts.timeoutMs ?? 1000,
    onComplete: () => {},
  }
  return {
    request,
    correlationId: correlation++,
    apiVersion: 9,
    send: new NetworkSend(node, [Buffer.alloc(8)]),
    sendTimeMs,
    sendCompleted: opts.sent ?? true,
  }
}

describe('InFlightRequests', () => {
  it('counts per node and in total, oldest and newest', () => {
    const q = new InFlightRequests(5)
    expect(q.count()).toBe(0)
    expect(q.isEmpty(1)).toBe(true)
    expect(q.oldest(1)).toBeUndefined()
    expect(q.lastSent(1)).toBeUndefined()
    const a = inFlight(1, 0)
    const b = inFlight(1, 1)
    const c = inFlight(2, 2)
    q.add(a)
    q.add(b)
    q.add(c)
    expect(q.count()).toBe(3)
    expect(q.count(1)).toBe(2)
    expect(q.count(2)).toBe(1)
    expect(q.count(3)).toBe(0)
    expect(q.oldest(1)).toBe(a)
    expect(q.lastSent(1)).toBe(b)
    expect(q.perNodeCounts()).toEqual(new Map([[1, 2], [2, 1]]))
  })

  it('lets another request go only once the last send completed, and never past the cap', () => {
    const q = new InFlightRequests(2)
    expect(q.canSendMore(1)).toBe(true)
    const a = inFlight(1, 0, { sent: false })
    q.add(a)
    expect(q.canSendMore(1)).toBe(false) // a is still being written
    expect(q.canSendMore(2)).toBe(true) // other nodes are independent
    a.sendCompleted = true
    expect(q.canSendMore(1)).toBe(true)
    q.add(inFlight(1, 1, { sent: true }))
    expect(q.canSendMore(1)).toBe(false) // 2 of 2, although every send completed
    q.completeNext(1)
    expect(q.canSendMore(1)).toBe(true)
  })

  it('completes responses oldest first, and acks=0 sends newest first', () => {
    const q = new InFlightRequests(5)
    const [a, b, c] = [inFlight(1, 0), inFlight(1, 1), inFlight(1, 2)]
    q.add(a)
    q.add(b)
    q.add(c)
    expect(q.completeNext(1)).toBe(a)
    expect(q.completeLastSent(1)).toBe(c)
    expect(q.count()).toBe(1)
    expect(q.completeNext(1)).toBe(b)
    expect(q.count()).toBe(0)
    expect(() => q.completeNext(1)).toThrow('No in-flight request for node 1')
    expect(() => q.completeLastSent(7)).toThrow('No in-flight request for node 7')
    expect(q.count()).toBe(0)
  })

  it('clearAll removes a node’s requests, oldest first, and fixes the total', () => {
    const q = new InFlightRequests(5)
    const [a, b, c] = [inFlight(1, 0), inFlight(2, 1), inFlight(1, 2)]
    q.add(a)
    q.add(b)
    q.add(c)
    expect(q.clearAll(1)).toEqual([a, c])
    expect(q.count()).toBe(1)
    expect(q.count(1)).toBe(0)
    expect(q.canSendMore(1)).toBe(true)
    expect(q.clearAll(1)).toEqual([])
    expect(q.clearAll(9)).toEqual([])
    expect(q.oldest(2)).toBe(b)
  })

  it('finds nodes whose requests reached their timeout, exactly at the boundary', () => {
    const q = new InFlightRequests(5)
    q.add(inFlight(1, 1000, { timeoutMs: 500 }))
    q.add(inFlight(1, 1100, { timeoutMs: 100 })) // a newer request with a shorter timeout expires first
    q.add(inFlight(2, 1000, { timeoutMs: 1000 }))
    expect(q.nodesWithTimedOutRequests(1199)).toEqual([])
    expect(q.nodesWithTimedOutRequests(1200)).toEqual([1])
    expect(q.nodesWithTimedOutRequests(1999)).toEqual([1])
    expect(q.nodesWithTimedOutRequests(2000)).toEqual([1, 2])
  })

  it('says how long until the next timeout, consistently with nodesWithTimedOutRequests', () => {
    const q = new InFlightRequests(5)
    expect(q.timeUntilNextTimeout(0)).toBe(Infinity)
    q.add(inFlight(1, 1000, { timeoutMs: 500 }))
    q.add(inFlight(2, 1200, { timeoutMs: 200 }))
    expect(q.timeUntilNextTimeout(1000)).toBe(400) // node 2 at 1400, node 1 at 1500
    expect(q.timeUntilNextTimeout(1399)).toBe(1)
    expect(q.timeUntilNextTimeout(1400)).toBe(0)
    expect(q.nodesWithTimedOutRequests(1400)).toEqual([2])
    expect(q.timeUntilNextTimeout(5000)).toBe(0)
    // Whenever the wait is 0, some node is reported: a caller never spins on a zero wait.
    for (let now = 1000; now <= 1600; now++) {
      if (q.timeUntilNextTimeout(now) === 0) expect(q.nodesWithTimedOutRequests(now).length).toBeGreaterThan(0)
    }
  })
})

// ---------------------------------------------------------------------------------------------
// ExponentialBackoff
// ---------------------------------------------------------------------------------------------

describe('ExponentialBackoff', () => {
  it('doubles from the initial value up to the maximum (no jitter at random() = 0.5)', () => {
    const b = new ExponentialBackoff(100, 2, 1000, 0.2, MID)
    expect([0, 1, 2, 3, 4, 5, 50].map((n) => b.backoff(n))).toEqual([100, 200, 400, 800, 1000, 1000, 1000])
  })

  it('spreads each value by ±jitter, from the injected random source', () => {
    const low = new ExponentialBackoff(100, 2, 1000, 0.2, () => 0)
    const high = new ExponentialBackoff(100, 2, 1000, 0.2, () => 0.999999)
    expect([0, 1, 2, 3].map((n) => low.backoff(n))).toEqual([80, 160, 320, 640])
    expect([0, 1, 2, 3].map((n) => high.backoff(n))).toEqual([119, 239, 479, 959])
    // Jitter never lifts a value past the maximum.
    expect(high.backoff(4)).toBe(1000)
    expect(low.backoff(4)).toBe(800)
  })

  it('stays within [0.8, 1.2] × the nominal value with the real random source', () => {
    const b = new ExponentialBackoff(100, 2, 10_000, 0.2)
    for (let i = 0; i < 500; i++) {
      const n = i % 5
      const v = b.backoff(n)
      const nominal = 100 * 2 ** n
      expect(v).toBeGreaterThanOrEqual(Math.trunc(0.8 * nominal))
      expect(v).toBeLessThanOrEqual(Math.trunc(1.2 * nominal))
    }
  })

  it('does not draw a random number without jitter', () => {
    const b = new ExponentialBackoff(100, 2, 1000, 0, () => {
      throw new Error('random() must not be called')
    })
    expect([0, 2, 9].map((n) => b.backoff(n))).toEqual([100, 400, 1000])
  })

  it('never exceeds the maximum, even when the initial value is larger', () => {
    expect(new ExponentialBackoff(5000, 2, 1000, 0.2, MID).backoff(0)).toBe(1000)
    expect(new ExponentialBackoff(100, 2, 100, 0.2, MID).backoff(3)).toBe(100)
    expect(new ExponentialBackoff(0, 2, 1000, 0.2, MID).backoff(3)).toBe(0)
  })
})

// ---------------------------------------------------------------------------------------------
// ClusterConnectionStates: reconnect backoff 100..1000, setup timeout 1000..8000
// ---------------------------------------------------------------------------------------------

function states(random: () => number = MID): ClusterConnectionStates {
  return new ClusterConnectionStates(100, 1000, 1000, 8000, random)
}

describe('ClusterConnectionStates', () => {
  it('lets an unknown node connect at once', () => {
    const s = states()
    expect(s.canConnect(1, 0)).toBe(true)
    expect(s.isBlackedOut(1, 0)).toBe(false)
    expect(s.connectionDelay(1, 0)).toBe(0)
    expect(s.state(1)).toBe(ConnectionState.Disconnected)
    expect(s.isDisconnected(1)).toBe(true)
    expect(s.isReady(1)).toBe(false)
    expect(s.timeUntilNextSetupTimeout(0)).toBe(Infinity)
  })

  it('tracks a connection through connecting, checking ApiVersions and ready', () => {
    const s = states()
    s.startConnecting(1, 1000, 'h', 9092)
    expect(s.state(1)).toBe(ConnectionState.Connecting)
    expect([...s.connecting]).toEqual([1])
    expect(s.canConnect(1, 5000)).toBe(false)
    expect(s.isBlackedOut(1, 1000)).toBe(false)
    expect(s.connectionDelay(1, 1000)).toBe(Infinity)
    s.checkingApiVersions(1)
    expect(s.state(1)).toBe(ConnectionState.CheckingApiVersions)
    expect([...s.connecting]).toEqual([])
    expect(s.isConnectionSetupTimeout(1, 1_000_000)).toBe(false) // only while connecting
    s.ready(1)
    expect(s.isReady(1)).toBe(true)
    expect(s.connectionDelay(1, 1000)).toBe(Infinity)
  })

  it('times out a connection attempt exactly when timeUntilNextSetupTimeout reaches 0', () => {
    const s = states()
    s.startConnecting(1, 1000, 'h', 9092)
    s.startConnecting(2, 1300, 'h2', 9092)
    expect(s.timeUntilNextSetupTimeout(1000)).toBe(1000)
    expect(s.timeUntilNextSetupTimeout(1500)).toBe(500)
    expect(s.isConnectionSetupTimeout(1, 1999)).toBe(false)
    expect(s.timeUntilNextSetupTimeout(2000)).toBe(0)
    expect(s.isConnectionSetupTimeout(1, 2000)).toBe(true)
    expect(s.isConnectionSetupTimeout(2, 2000)).toBe(false)
    expect(s.timeUntilNextSetupTimeout(9999)).toBe(0)
  })

  it('backs off exponentially after consecutive failures, exactly, with a fake clock', () => {
    const s = states()
    let now = 1000
    const backoffs: number[] = []
    for (let i = 0; i < 6; i++) {
      s.startConnecting(1, now, 'h', 9092)
      now += 10
      s.disconnected(1, now)
      expect(s.isDisconnected(1)).toBe(true)
      // Find the backoff from the public API: blacked out until exactly now + backoff.
      const delay = s.connectionDelay(1, now)
      expect(s.isBlackedOut(1, now + delay - 1)).toBe(true)
      expect(s.canConnect(1, now + delay - 1)).toBe(false)
      expect(s.connectionDelay(1, now + delay - 1)).toBe(1)
      expect(s.isBlackedOut(1, now + delay)).toBe(false)
      expect(s.canConnect(1, now + delay)).toBe(true)
      expect(s.connectionDelay(1, now + delay + 50)).toBe(0)
      backoffs.push(delay)
      now += delay
    }
    expect(backoffs).toEqual([100, 200, 400, 800, 1000, 1000])
  })

  it('keeps reconnect backoffs within the jitter bounds', () => {
    for (const [r, expected] of [
      [() => 0, [80, 160, 320, 640, 800]],
      [() => 0.999999, [119, 239, 479, 959, 1000]],
    ] as const) {
      const s = states(r)
      const got: number[] = []
      let now = 0
      for (let i = 0; i < 5; i++) {
        s.startConnecting(1, now, 'h', 9092)
        s.disconnected(1, now)
        got.push(s.connectionDelay(1, now))
        now += 10_000
      }
      expect(got).toEqual(expected)
    }
  })

  it('grows the setup timeout after failed connects and resets both on ready', () => {
    const s = states()
    s.startConnecting(1, 0, 'h', 9092)
    s.disconnected(1, 500) // failed while connecting: setup timeout 1000 -> 2000
    s.startConnecting(1, 600, 'h', 9092)
    expect(s.timeUntilNextSetupTimeout(600)).toBe(2000)
    s.disconnected(1, 700) // -> 4000, reconnect backoff 200
    expect(s.connectionDelay(1, 700)).toBe(200)
    s.startConnecting(1, 900, 'h', 9092)
    expect(s.timeUntilNextSetupTimeout(900)).toBe(4000)
    expect(s.isConnectionSetupTimeout(1, 4899)).toBe(false)
    expect(s.isConnectionSetupTimeout(1, 4900)).toBe(true)
    s.checkingApiVersions(1)
    s.ready(1)
    s.disconnected(1, 5000)
    expect(s.connectionDelay(1, 5000)).toBe(100) // reconnect backoff back to the initial value
    s.startConnecting(1, 5100, 'h', 9092)
    expect(s.timeUntilNextSetupTimeout(5100)).toBe(1000) // and the setup timeout too
  })

  it('resets the setup timeout when a connection that got through TCP fails later', () => {
    const s = states()
    s.startConnecting(1, 0, 'h', 9092)
    s.disconnected(1, 10) // setup timeout -> 2000
    s.startConnecting(1, 200, 'h', 9092)
    s.checkingApiVersions(1) // TCP worked; ApiVersions then fails
    s.disconnected(1, 300)
    expect(s.connectionDelay(1, 300)).toBe(200) // the reconnect backoff still counts both failures
    s.startConnecting(1, 500, 'h', 9092)
    expect(s.timeUntilNextSetupTimeout(500)).toBe(1000)
  })

  it('starts afresh when the node moved to another address', () => {
    const s = states()
    for (let i = 0; i < 3; i++) {
      s.startConnecting(1, i * 10_000, 'old', 9092)
      s.disconnected(1, i * 10_000)
    }
    expect(s.connectionDelay(1, 20_000)).toBe(400)
    s.startConnecting(1, 30_000, 'new', 9092)
    s.disconnected(1, 30_000)
    expect(s.connectionDelay(1, 30_000)).toBe(100)
  })

  it('forgets a removed node', () => {
    const s = states()
    s.startConnecting(1, 0, 'h', 9092)
    s.remove(1)
    expect(s.connecting.size).toBe(0)
    expect(s.canConnect(1, 0)).toBe(true)
    expect(s.state(1)).toBe(ConnectionState.Disconnected)
    s.disconnected(1, 0) // unknown: ignored
    expect(s.canConnect(1, 0)).toBe(true)
  })
})

// ---------------------------------------------------------------------------------------------
// ProducerMetadata: max age 300 s, max idle 60 s, retry backoff 100..1000 ms
// ---------------------------------------------------------------------------------------------

function metadata(random: () => number = MID): ProducerMetadata {
  return new ProducerMetadata([{ host: 'b0', port: 9092 }], 300_000, 60_000, 100, 1000, random)
}

type TopicView = MetadataResponseView['topics'][number]
function topic(name: string, leaders: number[], errorCode = 0): TopicView {
  return {
    errorCode,
    name,
    partitions: leaders.map((leaderId, i) => ({ errorCode: 0, partitionIndex: i, leaderId, leaderEpoch: 3, replicaNodes: [1, 2], isrNodes: [1] })),
  }
}
function response(topics: TopicView[]): MetadataResponseView {
  return {
    brokers: [
      { nodeId: 1, host: 'h1', port: 9092, rack: null },
      { nodeId: 2, host: 'h2', port: 9093, rack: 'r2' },
    ],
    clusterId: 'c1',
    controllerId: 2,
    topics,
  }
}

describe('ProducerMetadata', () => {
  it('wants an update at once when new, and starts from the bootstrap nodes', () => {
    const m = metadata()
    expect(m.updateRequested).toBe(true)
    expect(m.timeToNextUpdate(0)).toBe(0)
    expect(m.version).toBe(0)
    expect(m.cluster.nodes.map((n) => [n.id, n.host, n.port])).toEqual([[-1, 'b0', 9092]])
  })

  it('after an update, refreshes at metadata.max.age.ms, or after retry.backoff.ms when asked', () => {
    const m = metadata()
    m.attempted(10)
    m.update(response([]), 20)
    expect(m.version).toBe(1)
    expect(m.updateRequested).toBe(false)
    expect(m.timeToNextUpdate(20)).toBe(300_000)
    expect(m.timeToNextUpdate(300_019)).toBe(1)
    expect(m.timeToNextUpdate(300_020)).toBe(0)
    m.requestUpdate()
    expect(m.timeToNextUpdate(25)).toBe(95) // not before lastRefresh + backoff(0) = 120, as Java
    expect(m.timeToNextUpdate(120)).toBe(0)
    // The backoff was drawn once: asking again gives the same answer.
    expect(m.timeToNextUpdate(25)).toBe(95)
  })

  it('backs off exponentially after failed refreshes and resets on success', () => {
    const m = metadata()
    const waits: number[] = []
    let now = 1000
    for (let i = 0; i < 5; i++) {
      m.attempted(now)
      m.failedUpdate(now)
      waits.push(m.timeToNextUpdate(now))
      now += 5000
    }
    expect(waits).toEqual([100, 200, 400, 800, 1000])
    expect(m.updateRequested).toBe(true)
    m.update(response([]), now)
    m.requestUpdate()
    expect(m.timeToNextUpdate(now)).toBe(100)
  })

  it('jitters the refresh backoff from the injected random source', () => {
    const low = metadata(() => 0)
    low.failedUpdate(0)
    low.failedUpdate(0)
    expect(low.timeToNextUpdate(0)).toBe(160)
    const high = metadata(() => 0.999999)
    high.failedUpdate(0)
    expect(high.timeToNextUpdate(0)).toBe(119)
  })

  it('asks for a new topic at once, even inside the backoff', () => {
    const m = metadata()
    m.update(response([]), 1000)
    m.requestUpdate()
    m.failedUpdate(1000)
    expect(m.timeToNextUpdate(1010)).toBe(90)
    expect(m.add('orders', 1010)).toBe(true)
    expect(m.containsTopic('orders')).toBe(true)
    expect(m.updateRequested).toBe(true)
    expect(m.timeToNextUpdate(1010)).toBe(0)
    // A topic already tracked just refreshes its last use.
    expect(m.topicsForRequest(1010)).toEqual(['orders'])
    m.attempted(1010)
    m.update(response([topic('orders', [1])]), 1020)
    expect(m.add('orders', 1030)).toBe(false)
    expect(m.updateRequested).toBe(false)
    expect(m.timeToNextUpdate(1030)).toBe(300_000 - 10)
  })

  it('asks again right away for a topic added while the request was in flight', () => {
    const m = metadata()
    m.add('a', 0)
    expect(m.topicsForRequest(0)).toEqual(['a'])
    m.attempted(0)
    m.add('b', 5) // not in the request that is in flight
    m.update(response([topic('a', [1])]), 10)
    expect(m.updateRequested).toBe(true)
    expect(m.timeToNextUpdate(10)).toBe(0)
    expect(m.topicsForRequest(10)).toEqual(['a', 'b'])
    m.attempted(10)
    m.update(response([topic('a', [1]), topic('b', [2])]), 20)
    expect(m.updateRequested).toBe(false)
  })

  it('drops topics idle for more than metadata.max.idle.ms from the request', () => {
    const m = metadata()
    m.add('a', 0)
    m.add('b', 50_000)
    expect(m.topicsForRequest(60_000)).toEqual(['a', 'b'])
    expect(m.topicsForRequest(60_001)).toEqual(['b'])
    expect(m.containsTopic('a')).toBe(false)
    m.add('b', 100_000) // used again: kept
    expect(m.topicsForRequest(160_000)).toEqual(['b'])
    expect(m.topicsForRequest(160_001)).toEqual([])
  })

  it('builds a Cluster from the response and resolves the waiters of older versions', async () => {
    const m = metadata()
    const order: string[] = []
    const w0 = m.awaitUpdate(0).then(() => order.push('w0'))
    const w1 = m.awaitUpdate(1).then(() => order.push('w1'))
    m.update(response([topic('t', [1, 2, 1])]), 100)
    await w0
    expect(order).toEqual(['w0'])
    const c = m.cluster
    expect(c.nodes.map((n) => n.id)).toEqual([1, 2])
    expect(c.nodeById(2)).toEqual({ id: 2, host: 'h2', port: 9093, rack: 'r2' })
    expect(c.clusterId).toBe('c1')
    expect(c.controllerId).toBe(2)
    expect(c.partitionCountForTopic('t')).toBe(3)
    expect([0, 1, 2].map((p) => c.leaderFor('t', p))).toEqual([1, 2, 1])
    expect(c.partition('t', 1)).toMatchObject({ leaderEpoch: 3, replicas: [1, 2], isr: [1] })
    expect(m.topicErrors.size).toBe(0)
    m.update(response([topic('t', [1, 2, 1])]), 200)
    await w1
    expect(order).toEqual(['w0', 'w1'])
    expect(m.version).toBe(2)
    await m.awaitUpdate(1) // already past: resolves at once
  })

  it('asks again soon after a stale-metadata topic error, but not after an authorization error', () => {
    const m = metadata()
    m.update(response([topic('new', [], 3 /* UNKNOWN_TOPIC_OR_PARTITION */), topic('ok', [1])]), 1000)
    expect(m.topicErrors.get('new')).toBe(3)
    expect(m.cluster.partitionCountForTopic('new')).toBeUndefined()
    expect(m.cluster.topicErrors.get('new')).toBe(3)
    expect(m.updateRequested).toBe(true)
    expect(m.timeToNextUpdate(1000)).toBe(100)
    expect(m.timeToNextUpdate(1100)).toBe(0)

    const denied = metadata()
    denied.update(response([topic('secret', [], 29 /* TOPIC_AUTHORIZATION_FAILED */)]), 1000)
    expect(denied.topicErrors.get('secret')).toBe(29)
    expect(denied.updateRequested).toBe(false)
    expect(denied.timeToNextUpdate(1000)).toBe(300_000)
  })

  it('asks again soon when a partition has no leader or a leader missing from the brokers', () => {
    for (const leaders of [[1, -1], [1, 7]]) {
      const m = metadata()
      m.update(response([topic('t', leaders)]), 1000)
      expect(m.updateRequested).toBe(true)
      expect(m.timeToNextUpdate(1000)).toBe(100)
      expect(m.cluster.availablePartitionsForTopic('t').map((p) => p.partition)).toEqual([0])
    }
    const fine = metadata()
    fine.update(response([topic('t', [1, 2])]), 1000)
    expect(fine.updateRequested).toBe(false)
  })

  it('wakeAll releases every waiter without an update', async () => {
    const m = metadata()
    const p = Promise.all([m.awaitUpdate(0), m.awaitUpdate(5)])
    m.wakeAll()
    await p
    expect(m.version).toBe(0)
  })

  it('the request is for MetadataApi topics in first-use order', () => {
    // (Guards the shape the network client sends: names only, in insertion order.)
    const m = metadata()
    for (const t of ['z', 'a', 'm']) m.add(t, 0)
    expect(m.topicsForRequest(0)).toEqual(['z', 'a', 'm'])
    expect(MetadataApi.name).toBe('Metadata')
  })
})
