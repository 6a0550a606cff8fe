/**
 * The diagnostics channels that need a real broker (one secured Kafka 4.4
 * node for the whole file): connection:authenticate for SASL success and
 * rejection (never a credential in a message), and transaction:state for a
 * committed and an aborted transaction, with the epoch bumps transactions v2
 * makes at every end (KIP-890).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KafkaProducer, type ProducerConfig } from '../../src/index.js'
import { CHANNEL_NAMES } from '../../src/util/diagnostics.js'
import { listen } from '../harness/channels.js'
import { startSecureKafka, type SecureKafka } from '../harness/secure-kafka.js'

let k: SecureKafka

beforeAll(async () => {
  k = await startSecureKafka()
  await k.cluster.createTopic('dc-auth', 1, 1)
  await k.cluster.createTopic('dc-txn', 1, 1)
}, 180_000)

afterAll(async () => {
  await k?.stop()
}, 60_000)

describe('connection:authenticate', () => {
  it('publishes success with the mechanism, then failure with the typed error and no credential', async () => {
    const auth = listen(CHANNEL_NAMES.connectionAuthenticate)
    const ready = listen(CHANNEL_NAMES.connectionReady)
    const connect = listen(CHANNEL_NAMES.connectionConnect)
    const wrong = 'not-the-password-' + Math.random().toString(36).slice(2)
    try {
      const good = new KafkaProducer({
        bootstrapServers: k.listeners.SASL_PLAINTEXT,
        clientId: 'dc-sasl',
        sasl: { mechanism: 'PLAIN', username: k.alice.username, password: k.alice.password },
      } as ProducerConfig)
      try {
        await good.send({ topic: 'dc-auth', value: 'ok' })
      } finally {
        await good.close()
      }
      const ok = auth.messages.filter((m) => m.clientId === 'dc-sasl')
      expect(ok.length).toBeGreaterThanOrEqual(1)
      expect(ok[0]).toMatchObject({ mechanism: 'PLAIN', outcome: 'success', reauthentication: false, host: '127.0.0.1' })
      expect(ready.messages.find((m) => m.clientId === 'dc-sasl')).toMatchObject({ mechanism: 'PLAIN' })
      expect(connect.messages.find((m) => m.clientId === 'dc-sasl')).toMatchObject({ securityProtocol: 'SASL_PLAINTEXT' })

      const bad = new KafkaProducer({
        bootstrapServers: k.listeners.SASL_PLAINTEXT,
        clientId: 'dc-sasl-bad',
        maxBlockMs: 3000,
        sasl: { mechanism: 'PLAIN', username: k.alice.username, password: wrong },
      } as ProducerConfig)
      try {
        await expect(bad.send({ topic: 'dc-auth', value: 'no' })).rejects.toThrow()
      } finally {
        await bad.close({ timeoutMs: 2000 })
      }
      const failed = auth.messages.filter((m) => m.clientId === 'dc-sasl-bad')
      expect(failed.length).toBeGreaterThanOrEqual(1)
      expect(failed[0]).toMatchObject({ mechanism: 'PLAIN', outcome: 'failure', reauthentication: false })
      expect(failed[0].error).toBeInstanceOf(Error)
      const text = JSON.stringify(auth.messages, (_k, v) => (v instanceof Error ? `${v.name}: ${v.message}` : typeof v === 'bigint' ? String(v) : v))
      expect(text.includes(wrong)).toBe(false)
      expect(text.includes(k.alice.password)).toBe(false)
    } finally {
      auth.stop()
      ready.stop()
      connect.stop()
    }
  }, 60_000)
})

describe('transaction:state', () => {
  it('follows a committed and an aborted transaction, and reports the v2 epoch bumps', async () => {
    const states = listen(CHANNEL_NAMES.transactionState)
    const bumps = listen(CHANNEL_NAMES.idempotenceEpochBump)
    const producer = new KafkaProducer({ bootstrapServers: k.listeners.PLAINTEXT, clientId: 'dc-txn', transactionalId: 'dc-txn-1', lingerMs: 5 })
    try {
      await producer.initTransactions()
      producer.beginTransaction()
      await producer.send({ topic: 'dc-txn', value: 'committed' })
      await producer.commitTransaction()
      producer.beginTransaction()
      await producer.send({ topic: 'dc-txn', value: 'aborted' })
      await producer.abortTransaction()
    } finally {
      await producer.close()
      states.stop()
      bumps.stop()
    }
    const mine = states.messages.filter((m) => m.transactionalId === 'dc-txn-1')
    expect(mine.map((m) => `${m.from}>${m.to}`)).toEqual([
      'UNINITIALIZED>INITIALIZING',
      'INITIALIZING>READY',
      'READY>IN_TRANSACTION',
      'IN_TRANSACTION>COMMITTING_TRANSACTION',
      'COMMITTING_TRANSACTION>READY',
      'READY>IN_TRANSACTION',
      'IN_TRANSACTION>ABORTING_TRANSACTION',
      'ABORTING_TRANSACTION>READY',
    ])
    for (const m of mine) expect(m).toMatchObject({ clientId: 'dc-txn', error: null })
    // Kafka 4.4 runs transactions v2: each EndTxn hands out the next epoch.
    const txnBumps = bumps.messages.filter((m) => m.transactionalId === 'dc-txn-1')
    expect(txnBumps).toHaveLength(2)
    for (const b of txnBumps) {
      expect(b).toMatchObject({ clientId: 'dc-txn', reason: 'end-txn' })
      expect(b.producerId).toBe(b.previousProducerId)
      expect(b.epoch).toBe(b.previousEpoch + 1)
    }
  }, 90_000)
})
