/**
 * KafkaProducer's internal seams (ProducerSeams, wired by wireProducer): a
 * test can give it a clock, a random source, a transport factory or a whole
 * network client, without any of it being public API.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { MetadataResponseView } from '../../src/clients/metadata.js'
import { KafkaProducerClosedError } from '../../src/errors.js'
import { PlaintextTransportFactory, type TransportFactory, type TransportLayer } from '../../src/network/transport.js'
import type { InitProducerIdResponse } from '../../src/protocol/apis/index.js'
import { KafkaProducer } from '../../src/producer/kafka-producer.js'
import { produceOk, ScriptedClient, scriptedProducer, until } from '../harness/scripted-client.js'

const view: MetadataResponseView = {
  brokers: [{ nodeId: 1, host: 'broker1', port: 9092, rack: null }],
  clusterId: 'scripted',
  controllerId: 1,
  topics: [{ errorCode: 0, name: 't', partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, leaderEpoch: 0, replicaNodes: [1], isrNodes: [1] }] }],
}

const producers: KafkaProducer[] = []
afterEach(async () => {
  await Promise.all(producers.splice(0).map((p) => p.close({ timeoutMs: 0 })))
})

describe('KafkaProducer seams', () => {
  it('runs on a scripted client with an injected clock: InitProducerId, then Produce, then close closes the client', async () => {
    let clockReads = 0
    const time = (): number => {
      clockReads++
      return Date.now()
    }
    // No network: the scripted client starts with the metadata a refresh would have brought.
    const { producer, client: scripted } = scriptedProducer({ config: { lingerMs: 0 }, view, time })
    producers.push(producer)
    const client = scripted()
    expect(client).toBeInstanceOf(ScriptedClient)
    const sent = producer.send({ topic: 't', value: 'hello' })

    await until(() => client.requests.length > 0, 'InitProducerId')
    const init = client.requests[0]!
    expect(init.api).toBe('InitProducerId')
    const answer: InitProducerIdResponse = { throttleTimeMs: 0, errorCode: 0, producerId: 9n, producerEpoch: 0, ongoingTxnProducerId: -1n, ongoingTxnProducerEpoch: -1 }
    client.respond(init, answer)

    await until(() => client.sentOf('Produce').length > 0, 'Produce')
    const produce = client.sentOf('Produce')[0]!
    expect(producer.metrics()['requests-in-flight']).toBe(1)
    client.respond(produce, produceOk(produce, 31n))
    const md = await sent
    expect([md.topic, md.partition, md.offset]).toEqual(['t', 0, 31n])
    expect(clockReads).toBeGreaterThan(0)

    client.apiVersions = { '1': { Produce: 11 } }
    expect(producer.negotiatedApiVersions()).toEqual({ '1': { Produce: 11 } })
    await producer.close()
    expect(client.closed).toBe(true)
    await expect(producer.send({ topic: 't', value: 'late' })).rejects.toBeInstanceOf(KafkaProducerClosedError)
  })

  it('opens its connections through the injected transport factory', async () => {
    const connects: string[] = []
    const inner = new PlaintextTransportFactory()
    const transportFactory: TransportFactory = {
      securityProtocol: 'PLAINTEXT',
      connect(host: string, port: number): TransportLayer {
        connects.push(`${host}:${port}`)
        return inner.connect(host, port) // port 1: refused at once
      },
    }
    const producer = new KafkaProducer({ bootstrapServers: '127.0.0.1:1', maxBlockMs: 60_000 }, { transportFactory })
    producers.push(producer)
    const sent = producer.send({ topic: 't', value: 'x' }).catch((e: Error) => e)
    await until(() => connects.length > 0, 'a connection attempt')
    expect(connects[0]).toBe('127.0.0.1:1')
    await producer.close({ timeoutMs: 0 })
    expect(await sent).toBeInstanceOf(Error)
  })
})
