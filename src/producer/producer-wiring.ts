import { type KafkaClient, NO_FINALIZED_FEATURES } from '../clients/kafka-client.js'
import { ProducerMetadata } from '../clients/metadata.js'
import { NetworkClient } from '../clients/network-client.js'
import type { ResolvedProducerConfig } from '../config.js'
import { Selector } from '../network/selector.js'
import { PlaintextTransportFactory, type TransportFactory } from '../network/transport.js'
import { SOFTWARE_NAME, SOFTWARE_VERSION } from '../version.js'
import { BufferPool } from './buffer-pool.js'
import { ProducerMetrics } from './metrics.js'
import { BuiltInPartitioner } from './partitioner.js'
import { RecordAccumulator } from './record-accumulator.js'
import { Sender } from './sender.js'
import { TransactionManager } from './transaction-manager.js'

/**
 * The parts of a producer that are not Kafka configuration and that tests
 * (or a later security layer) replace. Internal: not exported from the
 * package; `KafkaProducer` takes it as a second constructor argument
 * whose overload the published typings strip (JSDoc internal tag).
 */
export interface ProducerSeams {
  /** The clock every timing decision reads (default `Date.now`). */
  readonly time?: () => number
  /**
   * Uniform [0, 1) source, as `Math.random` (the default), for every random
   * choice: retry, reconnect and metadata backoff jitter, the sticky
   * partitioner's choice, where the least-loaded-node scan starts.
   */
  readonly random?: () => number
  /** How connections are opened (default: {@link transportFactoryFor} the config). */
  readonly transportFactory?: TransportFactory
  /**
   * Builds the network client in place of a `NetworkClient` over a
   * `Selector` (tests: a scripted client; then `transportFactory` is unused).
   */
  readonly createClient?: (parts: ClientParts) => KafkaClient
}

/** What a network client is built from. */
export interface ClientParts {
  readonly config: ResolvedProducerConfig
  readonly metadata: ProducerMetadata
  readonly time: () => number
  readonly random: () => number
  readonly transportFactory: TransportFactory
}

/** A producer's parts, connected to each other; the sender is not started yet. */
export interface ProducerParts {
  readonly time: () => number
  readonly metadata: ProducerMetadata
  readonly pool: BufferPool
  /** Idempotence state; null with enableIdempotence: false. */
  readonly transactionManager: TransactionManager | null
  readonly accumulator: RecordAccumulator
  readonly client: KafkaClient
  readonly sender: Sender
  readonly stats: ProducerMetrics
}

/**
 * The transport the configuration asks for. Plaintext is the only one today;
 * `security.protocol` (SSL, SASL_*) will choose here, and only the selector
 * sees the result: the network client, the sender and the accumulator stay
 * as they are (Java's `ClientUtils.createChannelBuilder` plays this part).
 */
export function transportFactoryFor(_config: ResolvedProducerConfig): TransportFactory {
  return new PlaintextTransportFactory()
}

/**
 * Builds every part of a producer from its resolved configuration: the one
 * place that knows how they connect (Java does this in KafkaProducer's
 * constructor). Order matters only as data flows: metadata and pool first,
 * the accumulator on the pool, the client on the metadata, the sender on all.
 */
export function wireProducer(c: ResolvedProducerConfig, seams: ProducerSeams = {}): ProducerParts {
  const time = seams.time ?? Date.now
  const random = seams.random ?? Math.random
  const metadata = new ProducerMetadata(c.bootstrapServers, c.metadataMaxAgeMs, c.metadataMaxIdleMs, c.retryBackoffMs, c.retryBackoffMaxMs, random)
  const pool = new BufferPool(c.bufferMemory, c.batchSize)
  // The network client is built below; the manager reads its finalized features only once requests flow.
  let client: KafkaClient | null = null
  const transactionManager = !c.enableIdempotence
    ? null
    : c.transactionalId === null
      ? new TransactionManager()
      : new TransactionManager({
          transactionalId: c.transactionalId,
          transactionTimeoutMs: c.transactionTimeoutMs,
          retryBackoffMs: c.retryBackoffMs,
          finalizedFeatures: () => client?.finalizedFeatures?.() ?? NO_FINALIZED_FEATURES,
        })
  const partitionerOptions = { random }
  const accumulator = new RecordAccumulator({
    batchSize: c.batchSize,
    lingerMs: c.lingerMs,
    deliveryTimeoutMs: c.deliveryTimeoutMs,
    retryBackoffMs: c.retryBackoffMs,
    retryBackoffMaxMs: c.retryBackoffMaxMs,
    bufferPool: pool,
    createPartitioner: (topic) => new BuiltInPartitioner(topic, c.batchSize, partitionerOptions),
    partitionerAdaptive: c.partitionerAdaptivePartitioningEnable,
    partitionerAvailabilityTimeoutMs: c.partitionerAvailabilityTimeoutMs,
    random,
    ...(transactionManager !== null ? { producerState: transactionManager } : {}),
  })
  const clientParts: ClientParts = {
    config: c,
    metadata,
    time,
    random,
    transportFactory: seams.transportFactory ?? transportFactoryFor(c),
  }
  client = seams.createClient !== undefined ? seams.createClient(clientParts) : createNetworkClient(clientParts)
  const stats = new ProducerMetrics()
  const sender = new Sender(
    client,
    metadata,
    accumulator,
    stats,
    {
      acks: c.acks,
      requestTimeoutMs: c.requestTimeoutMs,
      deliveryTimeoutMs: c.deliveryTimeoutMs,
      maxRequestSize: c.maxRequestSize,
      retries: c.retries,
      retryBackoffMs: c.retryBackoffMs,
      guaranteeMessageOrder: c.maxInFlightRequestsPerConnection === 1,
    },
    time,
    transactionManager,
  )
  return { time, metadata, pool, transactionManager, accumulator, client: client, sender, stats }
}

/** The real network client: a NetworkClient over a Selector on the configured transport. */
export function createNetworkClient(p: ClientParts): NetworkClient {
  const c = p.config
  const selector = new Selector(c.receiveMessageMaxBytes, p.transportFactory)
  return new NetworkClient(selector, p.metadata, {
    clientId: c.clientId,
    maxInFlightRequestsPerConnection: c.maxInFlightRequestsPerConnection,
    requestTimeoutMs: c.requestTimeoutMs,
    reconnectBackoffMs: c.reconnectBackoffMs,
    reconnectBackoffMaxMs: c.reconnectBackoffMaxMs,
    socketConnectionSetupTimeoutMs: c.socketConnectionSetupTimeoutMs,
    socketConnectionSetupTimeoutMaxMs: c.socketConnectionSetupTimeoutMaxMs,
    connectionsMaxIdleMs: c.connectionsMaxIdleMs < 0 ? Infinity : c.connectionsMaxIdleMs,
    softwareName: SOFTWARE_NAME,
    softwareVersion: SOFTWARE_VERSION,
    random: p.random,
  })
}
