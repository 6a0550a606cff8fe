/**
 * Bounded waits against librdkafka's mock cluster: request.timeout.ms
 * disconnects and retries until delivery.timeout.ms; bad input and sends
 * after close are rejected through the promise.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KafkaInvalidRecordError, KafkaProducer, KafkaProducerClosedError, KafkaTimeoutError } from '../../src/index.js'
import { type MockCluster, startMockCluster } from '../harness/mock.js'

let mock: MockCluster

beforeAll(async () => {
  mock = await startMockCluster({ brokers: 1 })
  await mock.createTopic('slow', 1, 1)
}, 60_000)

afterAll(async () => {
  await mock?.stop()
})

describe('timeouts', () => {
  it('a request slower than request.timeout.ms disconnects, is retried, and fails at delivery.timeout.ms', async () => {
    const producer = new KafkaProducer({
      bootstrapServers: mock.bootstrap,
      lingerMs: 0,
      requestTimeoutMs: 400,
      deliveryTimeoutMs: 1500,
      retryBackoffMs: 50,
    })
    try {
      await producer.send({ topic: 'slow', value: 'warm-up' })
      await mock.command('rtt 1 3000')
      const started = Date.now()
      const err = await producer.send({ topic: 'slow', value: 'late' }).then(
        () => null,
        (e: Error) => e,
      )
      const elapsed = Date.now() - started
      expect(err).toBeInstanceOf(KafkaTimeoutError)
      expect(err!.message).toMatch(/request timeout|delivery\.timeout\.ms/)
      expect(elapsed).toBeGreaterThanOrEqual(1400)
      expect(elapsed).toBeLessThan(5000)
      expect(producer.metrics()['record-retry-total']).toBeGreaterThan(0)
    } finally {
      await mock.command('rtt 1 0')
      await producer.close({ timeoutMs: 5000 })
    }
  }, 30_000)

  it('rejects bad input through the promise, and sends after close at once', async () => {
    const producer = new KafkaProducer({ bootstrapServers: mock.bootstrap })
    await expect(producer.send({ topic: 'bad topic!', value: 'x' })).rejects.toBeInstanceOf(KafkaInvalidRecordError)
    await expect(producer.send({ topic: 'slow', value: 'x', partition: 7 })).rejects.toThrow(/Invalid partition given with record: 7/)
    await expect(producer.send({ topic: 'slow', value: Buffer.alloc(2 * 1024 * 1024) })).rejects.toThrow(/max\.request\.size/)
    await expect(producer.send({ topic: 'slow', value: 42 as unknown as string })).rejects.toThrow(/must be a Buffer, a string or null/)
    await producer.close()
    await expect(producer.send({ topic: 'slow', value: 'x' })).rejects.toBeInstanceOf(KafkaProducerClosedError)
  })
})
