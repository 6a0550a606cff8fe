/**
 * close({ timeoutMs }) under faults, against librdkafka's mock cluster: it
 * returns within its timeout, every record it could not deliver fails with a
 * typed error that names the close, and a send after close is rejected at once.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { KafkaClientError, KafkaProducer, KafkaProducerClosedError } from '../../src/index.js'
import { type MockCluster, startMockCluster } from '../harness/mock.js'

const SLACK_MS = 500
let mock: MockCluster | null = null

afterEach(async () => {
  await mock?.stop()
  mock = null
})

interface Outcome {
  err: Error | null
  atMs: number
}

/** Sends `n` keyed records with callbacks; returns their outcomes as they arrive. */
function sendMany(producer: KafkaProducer, topic: string, n: number, started: () => number): Outcome[] {
  const outcomes: Outcome[] = []
  for (let i = 0; i < n; i++) {
    producer.send({ topic, key: `k${i % 100}`, value: `v${i}` }, (err) => outcomes.push({ err, atMs: started() }))
  }
  return outcomes
}

async function expectCloseWithin(producer: KafkaProducer, timeoutMs: number): Promise<number> {
  const t0 = Date.now()
  const closed = await Promise.race([
    producer.close({ timeoutMs }).then(() => true),
    new Promise<false>((r) => setTimeout(() => r(false), timeoutMs + 10_000).unref()),
  ])
  const elapsed = Date.now() - t0
  expect(closed, `close({ timeoutMs: ${timeoutMs} }) had not returned after ${elapsed} ms`).toBe(true)
  expect(elapsed).toBeLessThan(timeoutMs + SLACK_MS)
  return elapsed
}

function expectAbortedByClose(outcomes: Outcome[], n: number): void {
  expect(outcomes.length, 'every record completed by the time close() returned').toBe(n)
  const kinds = new Map<string, number>()
  for (const o of outcomes) {
    const k = o.err ? `${o.err.constructor.name}: ${o.err.message}` : 'delivered'
    kinds.set(k, (kinds.get(k) ?? 0) + 1)
  }
  const text = [...kinds].map(([k, c]) => `x${c} ${k}`).join('\n')
  console.log(`[fault] close: ${n} records:\n${text}`)
  expect(outcomes.every((o) => o.err instanceof KafkaClientError), text).toBe(true)
  expect(outcomes.every((o) => o.err instanceof KafkaProducerClosedError), text).toBe(true)
  expect(outcomes.every((o) => /clos/i.test(o.err!.message)), text).toBe(true)
}

async function expectSendAfterCloseRejected(producer: KafkaProducer, topic: string): Promise<void> {
  const t0 = Date.now()
  const err = await producer.send({ topic, value: 'late' }).then(
    () => null,
    (e: Error) => e,
  )
  expect(err).toBeInstanceOf(KafkaProducerClosedError)
  // At once, not after max.block.ms (60 s): the bound is loose so a loaded machine does not fail it.
  expect(Date.now() - t0).toBeLessThan(2000)
  const viaCallback = await new Promise<Error | null>((resolve) => producer.send({ topic, value: 'late' }, (e) => resolve(e)))
  expect(viaCallback).toBeInstanceOf(KafkaProducerClosedError)
}

describe('close({ timeoutMs }) under faults', () => {
  it('with every broker down: returns within the timeout, fails the undelivered records naming the close; send after close rejects at once', async () => {
    mock = await startMockCluster({ brokers: 3 })
    await mock.createTopic('close-down', 6, 3)
    const producer = new KafkaProducer({ bootstrapServers: mock.bootstrap })
    await producer.send({ topic: 'close-down', value: 'warm-up' })
    await mock.command('broker_down -1')
    const t0 = Date.now()
    const n = 5000
    const outcomes = sendMany(producer, 'close-down', n, () => Date.now() - t0)
    await new Promise((r) => setTimeout(r, 200)) // the sender has tried, and failed, to reach the brokers
    const elapsed = await expectCloseWithin(producer, 1000)
    console.log(`[fault] close({ timeoutMs: 1000 }) with all brokers down returned after ${elapsed} ms`)
    expectAbortedByClose(outcomes, n)
    await expectSendAfterCloseRejected(producer, 'close-down')
  }, 30_000)

  it('with requests in flight that the brokers answer too late: returns within the timeout and fails the in-flight records naming the close', async () => {
    mock = await startMockCluster({ brokers: 3 })
    await mock.createTopic('close-slow', 6, 3)
    const producer = new KafkaProducer({ bootstrapServers: mock.bootstrap })
    await producer.send({ topic: 'close-slow', value: 'warm-up' })
    await mock.command('rtt -1 10000') // answers arrive long after the close, well within request.timeout.ms
    const t0 = Date.now()
    const n = 5000
    const outcomes = sendMany(producer, 'close-slow', n, () => Date.now() - t0)
    await new Promise((r) => setTimeout(r, 300)) // the records are in flight
    expect(producer.metrics()['requests-in-flight']).toBeGreaterThan(0)
    const elapsed = await expectCloseWithin(producer, 1000)
    console.log(`[fault] close({ timeoutMs: 1000 }) with requests in flight returned after ${elapsed} ms`)
    expectAbortedByClose(outcomes, n)
    await expectSendAfterCloseRejected(producer, 'close-slow')
  }, 30_000)
})
