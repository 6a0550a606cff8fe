import { describe, expect, it } from 'vitest'
import type { Node } from '../../src/clients/cluster.js'
import type { ClientRequest } from '../../src/clients/in-flight-requests.js'
import { type MetadataResponseView, ProducerMetadata } from '../../src/clients/metadata.js'
import { DefaultMetadataUpdater, type MetadataRequestChannel } from '../../src/clients/metadata-updater.js'

const MID = (): number => 0.5
const T0 = 1_000_000

const view: MetadataResponseView = {
  brokers: [{ nodeId: 1, host: 'b1', port: 9092, rack: null }],
  clusterId: 'c',
  controllerId: 1,
  topics: [{ errorCode: 0, name: 't', partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, leaderEpoch: 0, replicaNodes: [1], isrNodes: [1] }] }],
}

/** A channel whose nodes are all sendable unless listed in `notReady`; it records what the updater sends or connects. */
function fakeChannel(metadata: ProducerMetadata) {
  const sent: ClientRequest<any, any>[] = []
  const connects: number[] = []
  const notReady = new Set<number>()
  const channel: MetadataRequestChannel = {
    leastLoadedNode: (): Node | null => metadata.cluster.nodes[0] ?? null,
    canSendRequest: (id) => !notReady.has(id),
    send: (request) => void sent.push(request),
    connectForRequest: (node) => {
      connects.push(node.id)
      return Infinity
    },
    connectionDelay: () => 0,
  }
  return { channel, sent, connects, notReady }
}

function answer(req: ClientRequest<any, any>, body: MetadataResponseView | null, receivedMs: number): void {
  req.onComplete({ request: req, receivedMs, apiVersion: 1, disconnected: body === null, timedOut: false, body, error: body === null ? new Error('gone') : null })
}

describe('DefaultMetadataUpdater', () => {
  it('sends one Metadata request for the used topics to the least loaded node, and blocks data requests only while one is due', () => {
    const md = new ProducerMetadata([{ host: 'boot', port: 9092 }], 300_000, 300_000, 100, 1000, MID)
    const ch = fakeChannel(md)
    const u = new DefaultMetadataUpdater(md, ch.channel, 30_000, 50)
    md.add('t', T0)
    expect(u.isUpdateDue(T0)).toBe(true)
    expect(u.fetchNodes().map((n) => n.id)).toEqual([-1]) // bootstrap until the first answer
    expect(u.maybeUpdate(T0)).toBe(30_000)
    expect(ch.sent).toHaveLength(1)
    expect(ch.sent[0]!.destination).toBe(-1)
    expect(ch.sent[0]!.body).toEqual({ topics: ['t'], allowAutoTopicCreation: false })
    expect(u.isUpdateDue(T0)).toBe(false) // in flight: data requests may go
    expect(u.maybeUpdate(T0 + 1)).toBe(30_000)
    expect(ch.sent).toHaveLength(1) // one at a time

    answer(ch.sent[0]!, view, T0 + 5)
    expect(md.cluster.leaderFor('t', 0)).toBe(1)
    expect(u.fetchNodes().map((n) => n.id)).toEqual([1])
    expect(u.isUpdateDue(T0 + 5)).toBe(false)
    u.handleServerDisconnect(T0 + 6, 1)
    expect(md.updateRequested).toBe(true)
  })

  it('records a failed or broker-less answer as a failed attempt (refresh backoff), and connects when no node can take the request', () => {
    const md = new ProducerMetadata([{ host: 'boot', port: 9092 }], 300_000, 300_000, 100, 1000, MID)
    const ch = fakeChannel(md)
    const u = new DefaultMetadataUpdater(md, ch.channel, 30_000, 50)
    md.add('t', T0)
    ch.notReady.add(-1)
    expect(u.maybeUpdate(T0)).toBe(Infinity)
    expect(ch.connects).toEqual([-1])
    ch.notReady.clear()
    u.maybeUpdate(T0)
    answer(ch.sent[0]!, null, T0 + 10)
    expect(md.version).toBe(0)
    expect(u.maybeUpdate(T0 + 10)).toBe(100) // retry.backoff.ms after a failure
    u.maybeUpdate(T0 + 110)
    answer(ch.sent[1]!, { ...view, brokers: [] }, T0 + 120)
    expect(md.version).toBe(0)
    expect(u.maybeUpdate(T0 + 120)).toBe(200) // second consecutive failure: doubled
  })
})
