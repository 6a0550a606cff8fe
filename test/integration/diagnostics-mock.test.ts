/**
 * The diagnostics channels (docs/observability.md) against librdkafka's mock
 * cluster (3 brokers) with injected errors and RTT: every channel publishes in
 * the scenario that should cause it, with its documented fields; the send
 * trace's start subscriber can add headers that reach the broker (kcat).
 */
import * as dc from 'node:diagnostics_channel'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KafkaProducer, type RecordMetadata } from '../../src/index.js'
import { CHANNEL_NAMES } from '../../src/util/diagnostics.js'
import { listen } from '../harness/channels.js'
import { consumeWithKcat } from '../harness/consume.js'
import { type MockCluster, startMockCluster } from '../harness/mock.js'
import { until } from '../harness/wait.js'

let mock: MockCluster

beforeAll(async () => {
  mock = await startMockCluster({ brokers: 3 })
  await mock.createTopic('traced', 3, 1)
  await mock.createTopic('traced-cb', 1, 1)
  await mock.createTopic('retried', 1, 1)
  await mock.createTopic('split', 1, 1)
  await mock.createTopic('bumped', 1, 1)
}, 60_000)

afterAll(async () => {
  await mock?.stop()
})

type Events = { name: string; ctx: any }[]

/** Subscribes to a tracing channel's five events, recording a snapshot of the context's keys per event. */
function traceEvents(name: string): { events: Events; stop: () => void } {
  const tc = dc.tracingChannel(name)
  const events: Events = []
  const handlers = {
    start: (ctx: any) => events.push({ name: 'start', ctx }),
    end: (ctx: any) => events.push({ name: 'end', ctx }),
    asyncStart: (ctx: any) => events.push({ name: 'asyncStart', ctx }),
    asyncEnd: (ctx: any) => events.push({ name: 'asyncEnd', ctx }),
    error: (ctx: any) => events.push({ name: 'error', ctx }),
  }
  tc.subscribe(handlers)
  return { events, stop: () => tc.unsubscribe(handlers) }
}

describe('kafka-producer-ts:send', () => {
  it('traces each promise send from the call to its acknowledgement, and a start subscriber can add headers', async () => {
    const producer = new KafkaProducer({ bootstrapServers: mock.bootstrap, clientId: 'dc-test', lingerMs: 5 })
    const tc = dc.tracingChannel(CHANNEL_NAMES.send)
    const inject = (ctx: any): void => {
      if (Array.isArray(ctx.headers)) ctx.headers.push(['traceparent', `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`])
      else ctx.headers.traceparent = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`
    }
    tc.start.subscribe(inject as (m: unknown) => void)
    const { events, stop } = traceEvents(CHANNEL_NAMES.send)
    const ownHeaders = { app: 'x' }
    let mds: RecordMetadata[]
    try {
      mds = await Promise.all([
        producer.send({ topic: 'traced', key: 'k1', value: 'v1', partition: 1, headers: ownHeaders, timestamp: 1_700_000_000_000 }),
        producer.send({ topic: 'traced', key: 'k2', value: 'v2', partition: 1 }),
      ])
      // Not attempted at all: traced as an error (a bad topic is rejected by validation).
      await expect(producer.send({ topic: 'bad topic!', value: 'x' })).rejects.toThrow(/illegal/)
    } finally {
      stop()
      tc.start.unsubscribe(inject as (m: unknown) => void)
      await producer.close()
    }
    // The caller's headers object is left as it was.
    expect(ownHeaders).toEqual({ app: 'x' })
    const starts = events.filter((e) => e.name === 'start')
    expect(starts).toHaveLength(3)
    const first = starts[0]!.ctx
    expect(first).toMatchObject({ clientId: 'dc-test', topic: 'traced', partition: 1, key: 'k1', value: 'v1', timestamp: 1_700_000_000_000 })
    expect(first.headers).toMatchObject({ app: 'x' })
    expect(first.result).toEqual(mds[0])
    expect(starts[1]!.ctx.result).toEqual(mds[1])
    expect(starts[1]!.ctx.timestamp).toBeUndefined()
    // Order per trace: start, end (the synchronous part), asyncStart, asyncEnd.
    for (const ctx of [first, starts[1]!.ctx]) {
      expect(events.filter((e) => e.ctx === ctx).map((e) => e.name)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd'])
    }
    const bad = starts[2]!.ctx
    expect(events.filter((e) => e.ctx === bad).map((e) => e.name)).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd'])
    expect(bad.error).toBeInstanceOf(Error)
    // The injected header reached the broker, next to the record's own.
    const read = await consumeWithKcat(mock.bootstrap, 'traced', { partition: 1 })
    expect(read).toHaveLength(2)
    const tp = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`
    expect(read[0]!.headers.map(([k, v]) => [k, v.toString()])).toEqual([
      ['app', 'x'],
      ['traceparent', tp],
    ])
    expect(read[1]!.headers.map(([k, v]) => [k, v.toString()])).toEqual([['traceparent', tp]])
  }, 60_000)

  it('traces callback sends, success and failure, before the callback runs', async () => {
    const producer = new KafkaProducer({ bootstrapServers: mock.bootstrap, deliveryTimeoutMs: 3000, requestTimeoutMs: 1000, retries: 0, enableIdempotence: false })
    const { events, stop } = traceEvents(CHANNEL_NAMES.send)
    const order: string[] = []
    const onAsyncStart = (): void => void order.push('asyncStart')
    dc.tracingChannel(CHANNEL_NAMES.send).asyncStart.subscribe(onAsyncStart)
    try {
      const md = await new Promise<RecordMetadata>((resolve, reject) =>
        producer.send({ topic: 'traced-cb', value: 'cb' }, (err, m) => {
          order.push('callback')
          if (err) reject(err)
          else resolve(m!)
        }),
      )
      const ok = events.find((e) => e.name === 'asyncEnd')!.ctx
      expect(ok).toMatchObject({ topic: 'traced-cb', value: 'cb', partition: undefined, result: md })
      expect(order).toEqual(['asyncStart', 'callback'])
      // A broker-refused record: the error channel carries the send's error (a non-retriable code).
      await mock.command('push_errors Produce INVALID_RECORD')
      const err = await new Promise<Error>((resolve) => producer.send({ topic: 'traced-cb', value: 'refused' }, {}, (e) => resolve(e!)))
      const failed = events.find((e) => e.name === 'error')!.ctx
      expect(failed.error).toBe(err)
      expect(failed.value).toBe('refused')
    } finally {
      stop()
      dc.tracingChannel(CHANNEL_NAMES.send).asyncStart.unsubscribe(onAsyncStart)
      await mock.command('clear_errors')
      await producer.close()
    }
  }, 60_000)
})

describe('kafka-producer-ts:produce', () => {
  it('traces each Produce request with its node, batches, bytes, latency (500 ms RTT) and per-partition errors', async () => {
    const producer = new KafkaProducer({ bootstrapServers: mock.bootstrap, clientId: 'dc-produce', lingerMs: 20, acks: -1 })
    // Leaders first, then slow every broker down.
    await producer.send({ topic: 'traced', value: 'warm', partition: 0 })
    const { events, stop } = traceEvents(CHANNEL_NAMES.produce)
    await mock.command('rtt -1 500')
    try {
      await Promise.all([0, 1, 2].flatMap((p) => [producer.send({ topic: 'traced', value: `a${p}`, partition: p }), producer.send({ topic: 'traced', value: `b${p}`, partition: p })]))
    } finally {
      await mock.command('rtt -1 0')
      stop()
      await producer.close()
    }
    const starts = events.filter((e) => e.name === 'start').map((e) => e.ctx)
    expect(starts.length).toBeGreaterThanOrEqual(1)
    let records = 0
    for (const ctx of starts) {
      expect(ctx).toMatchObject({ clientId: 'dc-produce', acks: -1 })
      expect(ctx.nodeId).toBeGreaterThanOrEqual(1)
      expect(ctx.correlationId).toBeGreaterThan(0)
      expect(ctx.apiVersion).toBeGreaterThanOrEqual(3)
      expect(ctx.batches).toBeGreaterThanOrEqual(1)
      expect(ctx.bytes).toBeGreaterThan(61)
      expect(ctx.result.errors).toEqual([])
      expect(ctx.result.throttleTimeMs).toBe(0)
      expect(ctx.latencyMs).toBeGreaterThanOrEqual(450)
      expect(events.filter((e) => e.ctx === ctx).map((e) => e.name)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd'])
      records += ctx.records
    }
    expect(records).toBe(6)
  }, 60_000)
})

describe('plain channels', () => {
  it('connection:connect, connection:ready, metadata:refresh, and connection:disconnect for a bootstrap connection closed as idle and a broker going down', async () => {
    const names = [CHANNEL_NAMES.connectionConnect, CHANNEL_NAMES.connectionReady, CHANNEL_NAMES.metadataRefresh, CHANNEL_NAMES.connectionDisconnect]
    const subs = names.map((n) => listen(n))
    const [connects, readies, refreshes, disconnects] = subs.map((s) => s.messages) as [any[], any[], any[], any[]]
    const producer = new KafkaProducer({ bootstrapServers: mock.bootstrap, clientId: 'dc-conn', reconnectBackoffMs: 50, reconnectBackoffMaxMs: 100 })
    try {
      const md = await producer.send({ topic: 'traced', value: 'c', partition: 2 })
      expect(connects.length).toBeGreaterThanOrEqual(2)
      expect(connects[0]).toMatchObject({ clientId: 'dc-conn', host: '127.0.0.1', securityProtocol: 'PLAINTEXT' })
      expect(connects[0].nodeId).toBeLessThan(0) // a bootstrap address first
      expect(connects.some((c) => c.nodeId >= 1)).toBe(true)
      expect(readies.length).toBeGreaterThanOrEqual(2)
      expect(readies[0]).toMatchObject({ clientId: 'dc-conn', host: '127.0.0.1', mechanism: null })
      expect(readies[0].apiVersions).toBeGreaterThanOrEqual(3)
      expect(readies[0].port).toBeGreaterThan(0)
      expect(refreshes.length).toBeGreaterThanOrEqual(1)
      const answered = refreshes.find((r) => r.error === null && r.topics?.includes('traced'))
      expect(answered).toMatchObject({ clientId: 'dc-conn', nodes: 3 })
      expect(answered.durationMs).toBeGreaterThanOrEqual(0)
      expect(typeof answered.nodeId).toBe('number')
      // The bootstrap connection is closed as soon as real brokers are known and it is idle.
      expect(disconnects.find((d) => d.nodeId < 0)).toMatchObject({ reason: 'idle', cause: null })
      expect(md.partition).toBe(2)
      // Every broker goes down: the open connections report their cause.
      const brokerIds = [...new Set(readies.filter((r) => r.nodeId >= 1).map((r) => r.nodeId as number))]
      for (const id of brokerIds) await mock.command(`broker_down ${id}`)
      await until(() => disconnects.some((d) => d.nodeId >= 1 && d.reason === 'error'), 'a disconnect for an error', 10_000, 20)
      const down = disconnects.find((d) => d.nodeId >= 1 && d.reason === 'error')
      expect(down.cause).toBeInstanceOf(Error)
      expect(down).toMatchObject({ clientId: 'dc-conn', host: '127.0.0.1' })
      for (const id of brokerIds) await mock.command(`broker_up ${id}`)
    } finally {
      for (const s of subs) s.stop()
      await producer.close({ timeoutMs: 2000 })
    }
  }, 60_000)

  it('batch:retry for a retriable broker error, batch:split for MESSAGE_TOO_LARGE', async () => {
    const retries = listen(CHANNEL_NAMES.batchRetry)
    const splits = listen(CHANNEL_NAMES.batchSplit)
    const producer = new KafkaProducer({ bootstrapServers: mock.bootstrap, clientId: 'dc-batch', lingerMs: 50, retryBackoffMs: 10 })
    try {
      await producer.send({ topic: 'retried', value: 'warm' })
      await mock.command('push_errors Produce NOT_LEADER_OR_FOLLOWER')
      await producer.send({ topic: 'retried', value: 'again' })
      expect(retries.messages).toHaveLength(1)
      expect(retries.messages[0]).toMatchObject({ clientId: 'dc-batch', topic: 'retried', partition: 0, attempt: 1, records: 1, errorCode: 6 })
      expect(retries.messages[0].error).toBeInstanceOf(Error)
      await producer.send({ topic: 'split', value: 'warm' })
      await mock.command('push_errors Produce 10')
      await Promise.all(Array.from({ length: 10 }, (_, i) => producer.send({ topic: 'split', value: `v${i}` })))
      expect(splits.messages).toHaveLength(1)
      expect(splits.messages[0]).toMatchObject({ clientId: 'dc-batch', topic: 'split', partition: 0, records: 10, parts: 2 })
      expect(splits.messages[0].bytes).toBeGreaterThan(61)
      expect(splits.messages[0].nodeId).toBeGreaterThanOrEqual(1)
    } finally {
      retries.stop()
      splits.stop()
      await mock.command('clear_errors')
      await producer.close()
    }
  }, 60_000)

  it('idempotence:epoch-bump after the broker refused a batch of an idempotent producer', async () => {
    const bumps = listen(CHANNEL_NAMES.idempotenceEpochBump)
    const producer = new KafkaProducer({ bootstrapServers: mock.bootstrap, clientId: 'dc-idem', enableIdempotence: true, deliveryTimeoutMs: 5000, requestTimeoutMs: 2000 })
    try {
      await producer.send({ topic: 'bumped', value: 'warm' })
      await mock.command('push_errors Produce INVALID_RECORD')
      await expect(producer.send({ topic: 'bumped', value: 'refused' })).rejects.toThrow()
      await until(() => bumps.messages.length > 0, 'an epoch bump', 10_000, 20)
      const m = bumps.messages[0]
      expect(m).toMatchObject({ clientId: 'dc-idem', transactionalId: null, reason: 'idempotent' })
      expect(typeof m.producerId).toBe('bigint')
      expect(m.producerId).toBe(m.previousProducerId)
      expect(m.epoch).toBe(m.previousEpoch + 1)
    } finally {
      bumps.stop()
      await mock.command('clear_errors')
      await producer.close({ timeoutMs: 3000 })
    }
  }, 60_000)
})
