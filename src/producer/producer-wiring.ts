import { createSecureContext, type SecureContext } from 'node:tls'
import { type KafkaClient, NO_FINALIZED_FEATURES } from '../clients/kafka-client.js'
import { ProducerMetadata } from '../clients/metadata.js'
import { NetworkClient } from '../clients/network-client.js'
import type { ResolvedProducerConfig } from '../config.js'
import { KafkaConfigError } from '../errors.js'
import { resolveCompression } from '../protocol/compression/index.js'
import { Selector } from '../network/selector.js'
import { PlaintextTransportFactory, TlsTransportFactory, type TransportFactory } from '../network/transport.js'
import { saslAuthenticators } from '../clients/sasl/authenticator.js'
import { saslFactoryLifecycle } from '../clients/sasl/mechanism.js'
import { LogSink, stderrLogger } from '../util/logger.js'
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
  /** Where runtime faults are logged (the `logger` option, or stderr). */
  readonly log: LogSink
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
  readonly log: LogSink
}

/**
 * The transport and authenticator each connection gets, from
 * `security.protocol` (Java's `ClientUtils.createChannelBuilder` →
 * `ChannelBuilders.clientChannelBuilder`): TCP or TLS, and no authenticator
 * or a SASL one per connection. Only the selector and the network client see
 * the result; the sender and the accumulator stay as they are.
 *
 * With hostname verification turned off (ssl.endpoint.identification.algorithm
 * empty) this warns once, through `onWarning` (the producer's logger): the chain is still checked,
 * but any certificate the CA signed is accepted for any broker.
 */
export function transportFactoryFor(
  config: ResolvedProducerConfig,
  onWarning: (message: string) => void = (m) => process.emitWarning(m, { type: 'KafkaSecurityWarning' }),
  random: () => number = Math.random,
): TransportFactory {
  const { tls, sasl, protocol } = config.security
  const authenticators = sasl !== null ? saslAuthenticators(sasl, random) : null
  if (tls === null) return new PlaintextTransportFactory(authenticators, protocol)
  if (!tls.verifyHostname) {
    onWarning(
      'kafka-producer-ts: TLS hostname verification is off (ssl.endpoint.identification.algorithm is empty): ' +
        "brokers' certificates are checked against the CA but not against their host names",
    )
  }
  if (!tls.rejectUnauthorized) {
    onWarning("kafka-producer-ts: TLS certificate verification is off (ssl.rejectUnauthorized: false): any broker certificate is accepted")
  }
  // One context for every connection of this producer: the key is parsed once and kept out of
  // per-socket options (Java: one SSLContext per SslFactory, shared by its channels).
  let secureContext: SecureContext
  try {
    secureContext = tls.createSecureContext()
  } catch (e) {
    throw new KafkaConfigError('ssl', `${secureContextFailure(tls)}: ${(e as Error).message}`)
  }
  return new TlsTransportFactory((host, port) => tls.socketOptions(host, port, secureContext), authenticators, protocol)
}

/**
 * What a failed TLS context is about, named by the inputs that were given
 * (never their contents): the CA certificates when they fail on their own,
 * else the client certificate and key (resolution already proved the key
 * and its passphrase, so what is left is a certificate that does not match it).
 */
function secureContextFailure(tls: NonNullable<ResolvedProducerConfig['security']['tls']>): string {
  const caFails = (): boolean => {
    try {
      createSecureContext({ ca: [...tls.ca!] })
      return false
    } catch {
      return true
    }
  }
  const clientCert = tls.cert !== undefined || tls.key !== undefined
  if (tls.ca !== undefined && (!clientCert || caFails())) return 'the TLS CA certificates (ssl.ca) cannot be loaded'
  if (clientCert) {
    const what = tls.cert !== undefined && tls.key !== undefined ? 'client certificate and key' : tls.cert !== undefined ? 'client certificate (without a key)' : 'client key (without a certificate)'
    return `the TLS ${what}${tls.passphrase !== undefined ? ' (with its passphrase)' : ''} cannot be used${tls.cert !== undefined && tls.key !== undefined ? ' together' : ''}`
  }
  return 'the TLS context cannot be built'
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
  const log = new LogSink(c.logger ?? stderrLogger(), c.clientId, time)
  // A built-in OIDC token provider reports failed background refreshes here (the message names no secret).
  saslFactoryLifecycle(c.security.sasl)?.setLogger((message, err) =>
    log.warn('security:oidc-refresh', message, { event: 'sasl.token-refresh-failed', cause: err.name, err }),
  )
  const metadata = new ProducerMetadata(c.bootstrapServers, c.metadataMaxAgeMs, c.metadataMaxIdleMs, c.retryBackoffMs, c.retryBackoffMaxMs, random)
  const pool = new BufferPool(c.bufferMemory, c.batchSize)
  // The network client is built below; the manager reads its finalized features only once requests flow.
  let client: KafkaClient | null = null
  const transactionManager = !c.enableIdempotence
    ? null
    : c.transactionalId === null
      ? new TransactionManager(null, c.clientId)
      : new TransactionManager(
          {
            transactionalId: c.transactionalId,
            transactionTimeoutMs: c.transactionTimeoutMs,
            retryBackoffMs: c.retryBackoffMs,
            finalizedFeatures: () => client?.finalizedFeatures?.() ?? NO_FINALIZED_FEATURES,
          },
          c.clientId,
        )
  const partitionerOptions = { random }
  const stats = new ProducerMetrics(time)
  // The codec's package was loaded by config resolution; for none this is a no-op codec the accumulator ignores.
  const compression = resolveCompression(c)
  stats.compressionCodec = compression.codec
  // The sender is built after the accumulator, which needs to wake it when a batch is compressed.
  let sender: Sender | null = null
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
    ...(compression.id !== 0
      ? {
          compression,
          onBatchCompressed: (_batch, uncompressedBytes: number, compressedBytes: number) => {
            if (uncompressedBytes > 0) stats.recordCompression(uncompressedBytes, compressedBytes, time())
            sender?.wakeup()
          },
        }
      : {}),
  })
  const clientParts: ClientParts = {
    config: c,
    metadata,
    time,
    random,
    transportFactory:
      seams.transportFactory ?? transportFactoryFor(c, (m) => log.warn(`security:${m}`, m, { event: 'security.verification-off' }), random),
    log,
  }
  client = seams.createClient !== undefined ? seams.createClient(clientParts) : createNetworkClient(clientParts)
  sender = new Sender(
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
      clientId: c.clientId,
    },
    time,
    transactionManager,
    log,
  )
  return { time, metadata, pool, transactionManager, accumulator, client: client, sender, stats, log }
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
    securityProtocol: p.transportFactory.securityProtocol,
    log: p.log,
  })
}
