/**
 * KIP-219 client-side throttling below the Sender: which responses throttle
 * (Java's `shouldClientThrottle` per API version), and the per-node deadline
 * in ClusterConnectionStates (Java's throttle / isThrottled / pollDelayMs).
 * The Sender's side is in sender.test.ts; the real broker's in
 * test/integration/quota-throttle-kafka.test.ts.
 */
import { describe, expect, it } from 'vitest'
import { ClusterConnectionStates } from '../../src/clients/connection-states.js'
import { ProducerMetadata } from '../../src/clients/metadata.js'
import { FakeSelector, frames, networkClientOn } from '../harness/fake-selector.js'
import { SelectorMetrics } from '../../src/network/selector-metrics.js'
import { clientThrottleTimeMs } from '../../src/protocol/throttle.js'
import { ApiVersionsApi, InitProducerIdApi, MetadataApi, ProduceApi, SaslAuthenticateApi, SUPPORTED_APIS } from '../../src/protocol/apis/index.js'

describe('clientThrottleTimeMs', () => {
  it('throttles from the KIP-219 version of each API, and only for a positive throttle time', () => {
    expect(clientThrottleTimeMs(ProduceApi, 6, { throttleTimeMs: 300 })).toBe(300) // Produce v6+
    expect(clientThrottleTimeMs(ProduceApi, 5, { throttleTimeMs: 300 })).toBe(0) // the broker delayed v5 answers itself
    expect(clientThrottleTimeMs(MetadataApi, 6, { throttleTimeMs: 10 })).toBe(10) // Metadata v6+
    expect(clientThrottleTimeMs(ApiVersionsApi, 1, { throttleTimeMs: 10 })).toBe(0) // ApiVersions from v2
    expect(clientThrottleTimeMs(InitProducerIdApi, 1, { throttleTimeMs: 10 })).toBe(10) // InitProducerId from v1
    expect(clientThrottleTimeMs(SaslAuthenticateApi, 2, { throttleTimeMs: 10 })).toBe(0) // SaslAuthenticate: never
    expect(clientThrottleTimeMs(ProduceApi, 12, { throttleTimeMs: 0 })).toBe(0)
    expect(clientThrottleTimeMs(ProduceApi, 12, null)).toBe(0)
  })

  it("matches each Java response's shouldClientThrottle", () => {
    const from = Object.fromEntries(SUPPORTED_APIS.map((a) => [a.name, a.clientThrottleFrom]))
    expect(from).toEqual({
      Produce: 6,
      Metadata: 6,
      ApiVersions: 2,
      InitProducerId: 1,
      SaslHandshake: Infinity,
      SaslAuthenticate: Infinity,
      FindCoordinator: 2,
      AddPartitionsToTxn: 1,
      AddOffsetsToTxn: 1,
      EndTxn: 1,
      TxnOffsetCommit: 1,
      GetTelemetrySubscriptions: Infinity,
      PushTelemetry: Infinity,
    })
  })
})

describe('ClusterConnectionStates throttling', () => {
  function readyNode(): ClusterConnectionStates {
    const s = new ClusterConnectionStates(50, 1000, 10_000, 30_000, () => 0.5)
    s.startConnecting(1, 0, 'h', 9092)
    s.checkingApiVersions(1)
    s.ready(1)
    return s
  }

  it('holds a node until the deadline, never moves it back, and reports it as the poll delay', () => {
    const s = readyNode()
    expect(s.isThrottled(1, 100)).toBe(false)
    expect(s.pollDelayMs(1, 100)).toBe(Infinity) // connected: no connection delay
    s.throttle(1, 400)
    s.throttle(1, 200) // an earlier deadline does not shorten it
    expect(s.isThrottled(1, 100)).toBe(true)
    expect(s.throttleDelayMs(1, 100)).toBe(300)
    expect(s.pollDelayMs(1, 100)).toBe(300)
    expect(s.isThrottled(1, 400)).toBe(false)
    expect(s.throttleDelayMs(1, 400)).toBe(0)
    expect(s.isThrottled(2, 100)).toBe(false) // other nodes unaffected
  })

  it('reports the reconnect backoff, not the throttle, for a node that is disconnected', () => {
    const s = readyNode()
    s.throttle(1, 10_000)
    s.disconnected(1, 100)
    expect(s.pollDelayMs(1, 100)).toBe(50)
  })
})

describe('NetworkClient throttling', () => {
  it("applies the throttle time of the connection's ApiVersions handshake (v2+), as Java's maybeThrottle does for every response", async () => {
    let now = 1_000_000
    const sel = new FakeSelector()
    const md = new ProducerMetadata([{ host: 'b1', port: 9092 }], 3_600_000, 3_600_000, 100, 1000, () => 0.5)
    md.update({ brokers: [{ nodeId: 1, host: 'b1', port: 9092, rack: null }], clusterId: 'c', controllerId: 1, topics: [] }, now)
    const client = networkClientOn(sel, md)
    const node = { id: 1, host: 'b1', port: 9092, rack: null }
    expect(client.ready(node, now)).toBe(false)
    sel.connectNow(1)
    await client.poll(0, () => now)
    expect(sel.written.map((w) => w.apiKey)).toEqual([18])
    sel.respond(1, 18, frames.apiVersions([[18, 0, 4], [0, 0, 12]], 400))
    await client.poll(0, () => now)
    expect(client.ready(node, now)).toBe(false) // throttled
    expect(client.pollDelayMs(1, now)).toBe(400)
    expect(client.inspectConnections(now)[0]).toMatchObject({ state: 'ready', throttledForMs: 400 })
    now += 400
    expect(client.ready(node, now)).toBe(true)
    expect(client.inspectConnections(now)[0]!.throttledForMs).toBeUndefined()
  })
})

describe('NetworkClient throttling of Produce answers (KIP-219: Java ProduceResponse.shouldClientThrottle is version >= 6)', () => {
  /** Produce response v5..v8 with no topics (header: the correlation id, which FakeSelector.respond adds). */
  const produceAnswer = (throttleTimeMs: number): Buffer => {
    const b = Buffer.alloc(8)
    b.writeInt32BE(0, 0) // responses: []
    b.writeInt32BE(throttleTimeMs, 4)
    return b
  }

  for (const [version, holdsBack] of [
    [5, false],
    [6, true],
  ] as const) {
    it(`Produce v${version} answered with throttle_time_ms 300 ${holdsBack ? 'holds the node back for 300 ms' : 'does not hold the node back (the broker delayed the answer itself)'}`, async () => {
      let now = 1_000_000
      const sel = new FakeSelector()
      const md = new ProducerMetadata([{ host: 'b1', port: 9092 }], 3_600_000, 3_600_000, 100, 1000, () => 0.5)
      md.update({ brokers: [{ nodeId: 1, host: 'b1', port: 9092, rack: null }], clusterId: 'c', controllerId: 1, topics: [] }, now)
      const client = networkClientOn(sel, md)
      const node = { id: 1, host: 'b1', port: 9092, rack: null }
      client.ready(node, now)
      sel.connectNow(1)
      await client.poll(0, () => now)
      sel.respond(1, 18, frames.apiVersions([[18, 0, 4], [0, 3, version]]))
      await client.poll(0, () => now)
      expect(client.ready(node, now)).toBe(true)

      const answers: { throttleTimeMs: number }[] = []
      const produce = () =>
        client.send(
          {
            destination: 1,
            api: ProduceApi,
            body: { transactionalId: null, acks: -1, timeoutMs: 30_000, topics: [] },
            expectResponse: true,
            createdMs: now,
            requestTimeoutMs: 30_000,
            onComplete: (r) => answers.push(r.body as { throttleTimeMs: number }),
          },
          now,
        )
      produce()
      await client.poll(0, () => now)
      expect(sel.written.at(-1)).toMatchObject({ apiKey: 0, apiVersion: version })
      sel.respond(1, 0, produceAnswer(300))
      await client.poll(0, () => now)
      expect(answers).toEqual([expect.objectContaining({ throttleTimeMs: 300 })])

      expect(client.ready(node, now)).toBe(!holdsBack)
      expect(client.inspectConnections(now)[0]!.throttledForMs).toBe(holdsBack ? 300 : undefined)
      if (holdsBack) {
        expect(client.pollDelayMs(1, now)).toBe(300)
        now += 299
        expect(client.ready(node, now)).toBe(false)
        now += 1
      }
      expect(client.ready(node, now)).toBe(true)
      produce()
      expect(sel.written.filter((w) => w.apiKey === 0)).toHaveLength(2)
    })
  }
})

describe('SelectorMetrics', () => {
  it('counts frames and bytes globally and per node', () => {
    const m = new SelectorMetrics()
    m.recordSent(1, 100, 0)
    m.recordSent(2, 300, 0)
    m.recordReceived(1, 50, 10)
    expect(m.sent.totalSum).toBe(400)
    expect(m.sent.totalCount).toBe(2)
    expect(m.sent.max(10)).toBe(300)
    expect(m.node(1).sent.totalSum).toBe(100)
    expect(m.node(2).sent.avg(10)).toBe(300)
    expect(m.node(1).received.totalCount).toBe(1)
    expect(m.received.rate(30_010)).toBeCloseTo(50 / 30, 9) // one full 30 s window since the first value
  })
})
