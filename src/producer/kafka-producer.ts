// Imported, not the global: Node's global `Buffer` is a lazy getter that runs on every use (bench/micro/FINDINGS.md).
import { Buffer } from 'node:buffer'
import type { KafkaClient } from '../clients/kafka-client.js'
import { NodeIoMetrics } from '../network/selector-metrics.js'
import type { ProducerMetadata } from '../clients/metadata.js'
import { saslFactoryLifecycle } from '../clients/sasl/mechanism.js'
import type { Cluster } from '../clients/cluster.js'
import { type ProducerConfig, resolveProducerConfig, type ResolvedProducerConfig } from '../config.js'
import {
  createAbortError,
  KafkaConfigError,
  KafkaInvalidRecordError,
  KafkaProducerClosedError,
  KafkaTimeoutError,
  KafkaTransactionAbortableError,
  KafkaTransactionStateError,
} from '../errors.js'
import { isAbortSignal, raceAbort } from '../util/abort.js'
import { isTracing, sendChannel, type Tracing } from '../util/diagnostics.js'
import { rethrowOnNextTick } from '../util/rethrow.js'
import { RECORD_BATCH_OVERHEAD, sizeOfRecord } from '../protocol/record-batch.js'
import type { BufferPool } from './buffer-pool.js'
import type { InspectOptions, ProducerInspection, ProducerStatistics } from './inspection.js'
import { ioSnapshot, NodeMetrics, type ProducerMetrics, type ProducerMetricsSnapshot } from './metrics.js'
import { partitionForKey, partitionForStringKey } from './partitioner.js'
import { failNotAppended, type RecordCompletion, type RecordReject } from './producer-batch.js'
import { APPEND_NEEDS_MEMORY, RecordAccumulator, UNKNOWN_PARTITION } from './record-accumulator.js'
import type { ProducerInterceptor } from './interceptors.js'
import { type Bytes, type HeaderPairs, type ProducerRecord, type RecordHeaders, type RecordMetadata, type SendCallback, type SendOptions, validateRecord } from './record.js'
import { type ProducerSeams, wireProducer } from './producer-wiring.js'
import { ProducerWriteStream, type SendAllOptions, sendAll, type StreamProducer, type StreamRecord, type WriteStreamOptions } from './producer-stream.js'
import { SendPipeline } from './send-pipeline.js'
import type { Serializer } from './serializers.js'
import type { Sender } from './sender.js'
import type { ConsumerGroupMetadata, TransactionManager, TransactionOffset } from './transaction-manager.js'
import type { TransactionalResult } from './transactions/transactional-result.js'
import { PARTITION_NOT_CHOSEN, WaitingSends } from './waiting-sends.js'

/**
 * How many sends of one synchronous run may share one clock reading (see
 * `sendClock`): Date.now() costs ~40-50 ns in V8, the largest single cost of
 * a send before this cache.
 */
const CLOCK_REUSE = 16

/** Extra room a varint-encoded offset and timestamp delta may take beyond the zero deltas sized below. */
const RECORD_DELTA_SLACK = 5 + 10

/**
 * A record's encoded size, zero deltas, is at most this plus its key and value
 * bytes when it has no headers: length varint 5, attributes 1, timestamp and
 * offset deltas 1 each, key and value length varints 5 each, header count 1.
 */
const RECORD_FIXED_MAX = 5 + 1 + 1 + 1 + 5 + 5 + 1

/**
 * What metrics() reads for a node it knows of (a request in flight) before
 * any frame or response of it was counted: NaN averages and maxima, 0 rates
 * and totals, as Java's sensors with no sample. Read, never recorded into.
 */
const NO_NODE_METRICS = new NodeMetrics()
const NO_NODE_IO = new NodeIoMetrics()

export type { ConsumerGroupMetadata, TransactionOffset } from './transaction-manager.js'

/** Options of {@link KafkaProducer.close}. */
export interface CloseOptions {
  /** How long to wait for buffered records to be delivered; the rest fail. Default: no limit. */
  timeoutMs?: number
}

/** Options of {@link KafkaProducer.flush}. */
export interface FlushOptions {
  /**
   * Stops waiting: the flush rejects with an AbortError. The records keep
   * going (as when a Java thread blocked in flush() is interrupted).
   */
  signal?: AbortSignal
}

/**
 * The options of `new KafkaProducer<K, V>(...)` besides the producer
 * configuration: functions, with no Kafka property name (Java's
 * key.serializer, value.serializer and interceptor.classes name classes).
 *
 * @example
 * ```ts
 * const producer = new KafkaProducer<string, { id: number }>({
 *   bootstrapServers: 'localhost:9092',
 *   keySerializer: serializers.string,
 *   valueSerializer: serializers.json,
 *   interceptors: [{ onSend: (r) => ({ ...r, headers: { ...r.headers, origin: 'api' } }) }],
 * })
 * ```
 */
export interface ProducerTypedOptions<K, V> {
  /** Turns a record's key into bytes; without it keys must be a Buffer, a string or null. */
  keySerializer?: Serializer<K> | null
  /** Turns a record's value into bytes; without it values must be a Buffer, a string or null. */
  valueSerializer?: Serializer<V> | null
  /** Called in this order for every send, before serialization, and for every outcome (Java's interceptor.classes). */
  interceptors?: readonly ProducerInterceptor<K, V>[] | null
  /**
   * Receives `{ ts, metrics, inspection }` every statistics.interval.ms
   * (`statisticsIntervalMs`), librdkafka's stats_cb: `producer.metrics()` and
   * `producer.inspect()` taken together, JSON-serialisable. Not called while
   * the interval is 0 (the default), nor after close() began. An exception it
   * throws is rethrown on the next tick, as a send callback's is.
   */
  onStatistics?: ((statistics: ProducerStatistics) => void) | null
}

/**
 * What `new KafkaProducer<K, V>(options)` takes: the configuration
 * ({@link ProducerConfig}, camelCase or Kafka property names) and the typed
 * options ({@link ProducerTypedOptions}).
 */
export type KafkaProducerOptions<K = Bytes, V = Bytes> = ProducerConfig & ProducerTypedOptions<K, V>

/**
 * A Kafka producer, as the Java client's `KafkaProducer`: `send()` adds a
 * record to a batch of its partition, and batches go to the partitions'
 * leaders when full or after `linger.ms`. Idempotent by default (Java 4.x):
 * retries neither duplicate nor reorder records. Every accepted record
 * completes exactly once, through its promise or its callback, with its
 * {@link RecordMetadata} or a typed {@link KafkaClientError}; bad input is
 * reported the same way, never thrown.
 *
 * `K` and `V` are the key and value types: {@link Bytes} unless
 * `keySerializer` / `valueSerializer` are given ({@link ProducerTypedOptions}).
 *
 * @example
 * ```ts
 * import { KafkaProducer } from 'kafka-producer-ts'
 *
 * const producer = new KafkaProducer({ bootstrapServers: ['127.0.0.1:9092'], lingerMs: 5 })
 * const md = await producer.send({ topic: 'events', key: 'user-42', value: 'hello' })
 * console.log(md.partition, md.offset)
 * await producer.close()
 * ```
 *
 * @privateRemarks
 * `send()` appends a record to a per-partition batch in the
 * `RecordAccumulator`; a `Sender` loop ships ready batches through
 * a `KafkaClient`.
 *
 * Its parts are built and connected in one place, `wireProducer`
 * (producer-wiring.ts), from the resolved config and the internal
 * `ProducerSeams` (clock, random source, transport, network client).
 * Tests reach the seams through the second constructor argument; that
 * overload carries the JSDoc internal tag, so the published typings (tsup
 * with stripInternal) show only `new KafkaProducer(config)`. (That tag is
 * matched as text: writing it in a comment strips what the comment is on.)
 *
 * Invariants:
 * - Every accepted record completes exactly once: its callback is called, or
 *   its promise settles, with metadata or a typed error.
 * - Records from one caller keep their order into the accumulator: once a
 *   send has to wait (unknown topic, full buffer), every later send queues
 *   behind it in `WaitingSends`, as a blocked `send()` would hold back
 *   a Java thread.
 * - Bad input is rejected before any memory is taken, through the same
 *   channel as delivery errors (rejected promise or callback), never thrown.
 * - Keys and values: Bytes unless serializers are configured; interceptors
 *   and serializers run in a {@link SendPipeline} that exists only when one
 *   is configured (`pipeline`, fixed at construction), so a producer without
 *   them takes the same path, allocation for allocation, as before they existed.
 * - Cancellation: a send's AbortSignal only reaches the waiting queue (the
 *   field `sendSignal` carries it through `doSend` for the duration of one
 *   synchronous call, so `doSend` keeps its arguments); see WaitingSends.
 * - Clock: with the default clock, a send reuses the previous send's reading
 *   when both run in the same synchronous run (no microtask between them)
 *   and fewer than CLOCK_REUSE sends have used it; so a record's default
 *   timestamp is the time of its send() or of one at most 15 sends earlier in
 *   the same run. An injected clock (tests) is read on every send.
 * - Statistics: at most one timer of its own (statistics.interval.ms with
 *   onStatistics; none otherwise), unref'd, re-armed for one interval at
 *   each emission, cleared when close() begins; inspect() and metrics() read
 *   the parts and change nothing.
 */
export class KafkaProducer<K = Bytes, V = Bytes> {
  private readonly config: ResolvedProducerConfig
  private readonly time: () => number
  private readonly metadata: ProducerMetadata
  private readonly pool: BufferPool
  private readonly accumulator: RecordAccumulator
  private readonly client: KafkaClient
  private readonly sender: Sender
  /** Idempotence state; null with enableIdempotence: false. */
  private readonly transactionManager: TransactionManager | null
  private readonly stats: ProducerMetrics
  /** Sends waiting for metadata or buffer.memory, and those queued behind them. */
  private readonly waiting: WaitingSends
  /** Partition count of `countTopic` in the snapshot `countCluster`: a run of sends to one topic skips the lookup. */
  private countTopic: string | null = null
  private countCluster: Cluster | null = null
  private countValue = 0
  /** min(max.request.size, buffer.memory): what a record's size is checked against. */
  private readonly recordSizeLimit: number
  /** The send path's clock reading, and how many more sends may reuse it (see `sendClock`). */
  private clockMs = 0
  private clockUses = 0
  private clockResetQueued = false
  private readonly cacheClock: boolean
  private readonly resetClock = (): void => {
    this.clockUses = 0
    this.clockResetQueued = false
  }
  /** Interceptors and serializers; null without any, and then a send never touches them. */
  private readonly pipeline: SendPipeline<K, V> | null
  /** The AbortSignal of the send `doSend` is running, for the waiting queue; null otherwise. */
  private sendSignal: AbortSignal | null = null
  /** The record of the promise `send()` whose executor is running; null otherwise. */
  private promisedRecord: ProducerRecord<K, V> | null = null
  /** ... and its signal, for `optionsPromiseExecutor`. */
  private promisedSignal: AbortSignal | null = null
  private readonly promiseExecutor = (resolve: (md: RecordMetadata) => void, reject: (err: Error) => void): void => {
    const record = this.promisedRecord!
    this.promisedRecord = null
    if (this.pipeline === null) this.doSend(record as ProducerRecord, resolve as RecordCompletion, reject)
    else this.pipeline.send(record, resolve as RecordCompletion, reject, null)
  }
  private readonly optionsPromiseExecutor = (resolve: (md: RecordMetadata) => void, reject: (err: Error) => void): void => {
    const record = this.promisedRecord!
    const signal = this.promisedSignal
    this.promisedRecord = null
    this.promisedSignal = null
    this.dispatch(record, resolve as RecordCompletion, reject, signal)
  }
  /** `doSend` with a signal for the waiting queue: what the pipeline continues with. */
  private readonly sendBytes = (record: ProducerRecord, complete: RecordCompletion, fail: RecordReject | null, signal: AbortSignal | null): void => {
    if (signal === null) {
      this.doSend(record, complete, fail)
      return
    }
    this.sendSignal = signal
    try {
      this.doSend(record, complete, fail)
    } finally {
      this.sendSignal = null
    }
  }
  /** What the write streams and sendAll need from the producer; made on first use. */
  private streamPort: StreamProducer<K, V> | null = null
  private closed = false
  private closePromise: Promise<void> | null = null
  /** The transaction manager when `transactionalId` is set: sends check its state and register their partition. */
  private readonly txn: TransactionManager | null
  /** The statistics timer (statistics.interval.ms with onStatistics); null when off or closed. */
  private statisticsTimer: NodeJS.Timeout | null = null
  private readonly onStatistics: ((statistics: ProducerStatistics) => void) | null

  /**
   * Creates a producer and starts its sender in the background. The
   * configuration is validated here, at once: a bad key or value throws
   * {@link KafkaConfigError}. Close the producer with
   * {@link KafkaProducer.close} to release its sockets and timers.
   *
   * @param options - the configuration, under camelCase or Kafka property names, with serializers and interceptors.
   * @throws {@link KafkaConfigError} on an unknown option, a wrong type or a value out of range.
   *
   * @example
   * ```ts
   * // Java's and librdkafka's property names work as they are:
   * const producer = new KafkaProducer({ 'bootstrap.servers': 'b1:9092,b2:9092', acks: 'all', 'compression.type': 'zstd' })
   * ```
   */
  constructor(options: KafkaProducerOptions<K, V>)
  /** @internal Tests only: replaces the clock, the random source, the transport or the network client. */
  constructor(options: KafkaProducerOptions<K, V>, seams: ProducerSeams)
  constructor(options: KafkaProducerOptions<K, V>, seams: ProducerSeams = {}) {
    const { keySerializer, valueSerializer, interceptors, onStatistics, ...config } = options ?? ({} as KafkaProducerOptions<K, V>)
    checkTypedOptions(keySerializer, valueSerializer, interceptors, onStatistics)
    const c = (this.config = resolveProducerConfig(config as ProducerConfig))
    this.cacheClock = seams.time === undefined
    this.recordSizeLimit = Math.min(c.maxRequestSize, c.bufferMemory)
    const parts = wireProducer(c, seams)
    this.time = parts.time
    this.metadata = parts.metadata
    this.pool = parts.pool
    this.transactionManager = parts.transactionManager
    this.accumulator = parts.accumulator
    this.client = parts.client
    this.sender = parts.sender
    this.stats = parts.stats
    const txn = (this.txn = parts.transactionManager !== null && parts.transactionManager.isTransactional ? parts.transactionManager : null)
    this.waiting = new WaitingSends({
      metadata: this.metadata,
      accumulator: this.accumulator,
      transaction: txn,
      sender: this.sender,
      stats: this.stats,
      transactionManager: this.transactionManager,
      maxBlockMs: c.maxBlockMs,
      bufferMemory: c.bufferMemory,
      time: this.time,
      sendClock: () => this.sendClock(),
      partitionFor: (topic, explicit, key, value, count, cluster) => this.partitionFor(topic, explicit, key, value, count, cluster),
      isClosed: () => this.closed,
      connectionFailures: () => this.client.connectionFailures(),
    })
    this.pipeline =
      (interceptors ?? []).length > 0 || (keySerializer ?? null) !== null || (valueSerializer ?? null) !== null
        ? new SendPipeline(interceptors ?? null, keySerializer ?? null, valueSerializer ?? null, this.sendBytes, this.stats, parts.log, txn)
        : null
    this.onStatistics = c.statisticsIntervalMs > 0 ? (onStatistics ?? null) : null
    this.sender.start()
    if (this.onStatistics !== null) this.scheduleStatistics()
  }

  /**
   * Sends a record. Without a callback, returns a promise of its metadata;
   * with one, returns nothing and calls it once, allocating no promise.
   * `options.signal` cancels the send while it still waits in the producer
   * (see {@link SendOptions}; docs/sending.md, Cancellation).
   *
   * The record object may be reused once this returns. Buffers in it are
   * copied when the record is appended to a batch: at once, unless the
   * record must wait (for metadata, for buffer.memory, or behind an earlier
   * send that waits), so a Buffer's contents must not change until the send
   * completes (as with `socket.write`).
   *
   * Sends beyond `buffer.memory`, or to a topic whose metadata is not known
   * yet, wait in order for up to `max.block.ms`, then fail with
   * {@link KafkaTimeoutError}. Failures arrive through the promise or the
   * callback: {@link KafkaInvalidRecordError}, {@link KafkaBrokerError},
   * {@link KafkaTimeoutError}, {@link KafkaSerializationError},
   * {@link KafkaProducerClosedError}, ...
   *
   * @returns a promise of the record's metadata, settled once the broker acknowledged it (per `acks`) or it failed.
   *
   * @example
   * ```ts
   * const md = await producer.send({ topic: 'events', key: 'user-42', value: 'hello', headers: { source: 'web' } })
   * console.log(md.partition, md.offset) // offset is a bigint
   * ```
   */
  send(record: ProducerRecord<K, V>): Promise<RecordMetadata>
  /**
   * Sends a record and calls `callback` once with its outcome; allocates no
   * promise (the fastest form).
   *
   * @example
   * ```ts
   * producer.send({ topic: 'events', value: Buffer.from('...') }, (err, md) => {
   *   if (err) console.error(err)
   *   else console.log(md!.partition, md!.offset)
   * })
   * ```
   */
  send(record: ProducerRecord<K, V>, callback: SendCallback): void
  /**
   * Sends a record with options, e.g. an AbortSignal that cancels it while
   * it still waits for metadata or buffer memory ({@link SendOptions}).
   *
   * @example
   * ```ts
   * try {
   *   await producer.send({ topic: 'events', value: 'v' }, { signal: AbortSignal.timeout(1_000) })
   * } catch (err) {
   *   if ((err as Error).name === 'AbortError') console.log('cancelled before it reached a batch: never sent')
   *   else throw err
   * }
   * ```
   */
  send(record: ProducerRecord<K, V>, options: SendOptions): Promise<RecordMetadata>
  /** Sends a record with options ({@link SendOptions}) and calls `callback` once with its outcome. */
  send(record: ProducerRecord<K, V>, options: SendOptions, callback: SendCallback): void
  send(record: ProducerRecord<K, V>, a?: SendCallback | SendOptions, b?: SendCallback): Promise<RecordMetadata> | void {
    // One check per send; the traced path (and everything it allocates) exists only while someone subscribes.
    if (sendChannel !== null && isTracing(sendChannel)) return this.tracedSend(sendChannel, record, a, b)
    return this.sendUntraced(record, a, b)
  }

  private sendUntraced(record: ProducerRecord<K, V>, a?: SendCallback | SendOptions, b?: SendCallback): Promise<RecordMetadata> | void {
    if (a === undefined) {
      // The executor runs synchronously inside the constructor: the record is handed over in a field, so
      // no executor closure is allocated per send.
      this.promisedRecord = record
      return new Promise<RecordMetadata>(this.promiseExecutor)
    }
    if (typeof a === 'function') {
      if (this.pipeline === null) this.doSend(record as ProducerRecord, a, null)
      else this.pipeline.send(record, a, null, null)
      return
    }
    return this.sendWithOptions(record, a, b)
  }

  /**
   * A send with a `kafka-producer-ts:send` subscriber: Node's
   * tracePromise/traceCallback around the untraced send, on a context the
   * `start` subscribers see before the record is intercepted, serialized or
   * validated. Its `headers` are a copy of the record's (same form; an empty
   * array when it had none) that a subscriber may add to, e.g. an
   * OpenTelemetry `traceparent`; the record then goes out with them, and the
   * caller's record object is left as it was.
   */
  private tracedSend(tc: Tracing, record: ProducerRecord<K, V>, a: SendCallback | SendOptions | undefined, b: SendCallback | undefined): Promise<RecordMetadata> | void {
    const ctx = sendContext(this.config.clientId, record)
    if (typeof a === 'function') {
      tc.traceCallback((cb: SendCallback) => this.sendUntraced(withTraceHeaders(record, ctx), cb), 0, ctx, this, a)
      return
    }
    if (a !== undefined && typeof b === 'function') {
      tc.traceCallback((cb: SendCallback) => this.sendUntraced(withTraceHeaders(record, ctx), a, cb), 0, ctx, this, b)
      return
    }
    // Promise forms, and argument mistakes (which throw or reject as without tracing, traced as errors).
    return tc.tracePromise(() => this.sendUntraced(withTraceHeaders(record, ctx), a, b) as Promise<RecordMetadata>, ctx)
  }

  /** send(record, options[, callback]): checks the options, fails an already-aborted send at once. */
  private sendWithOptions(record: ProducerRecord<K, V>, options: SendOptions, callback: SendCallback | undefined): Promise<RecordMetadata> | void {
    if (options === null || typeof options !== 'object') {
      throw new KafkaInvalidRecordError('The second argument of send() must be a callback or an options object such as { signal }')
    }
    if (callback !== undefined && typeof callback !== 'function') throw new KafkaInvalidRecordError('The send callback must be a function')
    const signal = options.signal ?? null
    let err: Error | null = null
    if (signal !== null && !isAbortSignal(signal)) err = new KafkaInvalidRecordError('send() options.signal must be an AbortSignal')
    else if (signal !== null && signal.aborted) err = createAbortError(signal)
    if (err !== null) {
      // Not attempted: no interceptor sees it, nothing is counted; reported asynchronously as every send error.
      // Still a record the application sent in its transaction, which must not commit without it.
      if (this.txn !== null) this.txn.recordNotAppended(this.txn.transactionGeneration, err)
      if (callback === undefined) return Promise.reject(err)
      process.nextTick(callback, err, null)
      return
    }
    if (callback === undefined) {
      this.promisedRecord = record
      this.promisedSignal = signal
      return new Promise<RecordMetadata>(this.optionsPromiseExecutor)
    }
    this.dispatch(record, callback, null, signal)
  }

  private dispatch(record: ProducerRecord<K, V>, complete: RecordCompletion, fail: RecordReject | null, signal: AbortSignal | null): void {
    if (this.pipeline === null) this.sendBytes(record as ProducerRecord, complete, fail, signal)
    else this.pipeline.send(record, complete, fail, signal)
  }

  /**
   * An object-mode Writable that sends each record written to it, for
   * `stream.pipeline(source, ..., producer.createWriteStream({ topic }))`.
   * Backpressure follows the producer's memory: while a record has to wait
   * for buffer.memory (or metadata), the stream holds its write, so `write()`
   * returns false once `highWaterMark` records are buffered, and 'drain'
   * follows when room returns. It finishes once every record written is
   * acknowledged, and errors (destroys) on the first record that fails;
   * destroying it cancels its records still waiting in the producer.
   *
   * @example
   * ```ts
   * import { pipeline } from 'node:stream/promises'
   * import { createReadStream } from 'node:fs'
   * import { createInterface } from 'node:readline'
   *
   * // Every line of a file as a record; memory stays bounded by buffer.memory.
   * const lines = createInterface({ input: createReadStream('events.jsonl') })
   * await pipeline(
   *   lines,
   *   async function* (source) {
   *     for await (const line of source) yield { value: line }
   *   },
   *   producer.createWriteStream({ topic: 'events' }),
   * )
   * ```
   */
  createWriteStream(options: WriteStreamOptions = {}): ProducerWriteStream<K, V> {
    return new ProducerWriteStream(this.port(), options)
  }

  /**
   * Sends every record of `source` (an iterable or async iterable), reading
   * the next one only while the producer has room (as `createWriteStream`),
   * so memory stays bounded by buffer.memory whatever the source's size.
   * Resolves with the number of records sent once all are acknowledged;
   * rejects with the first failure (after which no more are read).
   *
   * @example
   * ```ts
   * async function* rows() {
   *   for (let i = 0; i < 1_000_000; i++) yield { key: String(i), value: `row ${i}` }
   * }
   * const sent = await producer.sendAll(rows(), { topic: 'rows' })
   * ```
   */
  sendAll(source: Iterable<StreamRecord<K, V>> | AsyncIterable<StreamRecord<K, V>>, options: SendAllOptions = {}): Promise<number> {
    return sendAll(this.port(), source, options)
  }

  private port(): StreamProducer<K, V> {
    return (this.streamPort ??= {
      send: (record, options, callback) => this.send(record, options, callback),
      whenWaitingSendsSettle: () => this.waiting.whenEarlierSendsSettle(),
    })
  }

  private doSend(record: ProducerRecord, complete: RecordCompletion, fail: RecordReject | null): void {
    try {
      if (this.closed) throw new KafkaProducerClosedError('Cannot send after the producer is closed')
      const fatal = this.transactionManager?.fatalError
      if (fatal) throw fatal
      const txn = this.txn
      // A transactional producer only sends inside a transaction (Java: maybeAddPartition's checks).
      if (txn !== null) txn.ensureSendAllowed()
      const headers = validateRecord(record)
      const now = this.sendClock()
      const key = record.key ?? null
      this.ensureValidRecordSize(record.topic, key, record.value, headers)
      const timestamp = record.timestamp ?? now
      if (this.waiting.size > 0) {
        // Still a use of the topic (metadata.max.idle.ms), though the record queues behind earlier ones.
        this.metadata.add(record.topic, now)
        this.waiting.enqueue(record, PARTITION_NOT_CHOSEN, key, headers, timestamp, now, complete, fail, this.sendSignal)
        return
      }
      const topic = record.topic
      this.metadata.add(topic, now)
      const cluster = this.metadata.cluster
      let count: number | undefined
      if (topic === this.countTopic && cluster === this.countCluster) {
        count = this.countValue
      } else {
        count = cluster.partitionCountForTopic(topic)
        if (count !== undefined) {
          this.countTopic = topic
          this.countCluster = cluster
          this.countValue = count
        }
      }
      if (count === undefined) {
        this.waiting.enqueue(record, PARTITION_NOT_CHOSEN, key, headers, timestamp, now, complete, fail, this.sendSignal)
        this.sender.wakeup()
        return
      }
      // The hot path: positional parameters from here into the accumulator (and the waiting queue), since an
      // options object would be one allocation per record.
      const partition = this.partitionFor(topic, record.partition, key, record.value, count, cluster)
      const r = this.accumulator.append(topic, partition, timestamp, key, record.value, headers, complete, fail, now, cluster)
      if (r === APPEND_NEEDS_MEMORY) {
        this.waiting.enqueue(record, partition, key, headers, timestamp, now, complete, fail, this.sendSignal)
        // Memory is short: batches are sendable at once now (ready()'s `exhausted`), and the append may have
        // closed a batch that could not grow; the sender may be asleep for a linger.ms computed before.
        this.sender.wakeup()
        return
      }
      if (txn !== null) txn.maybeAddPartition(topic, r.partition)
      if (r.batchIsFull || r.newBatchCreated) this.sender.wakeup()
    } catch (err) {
      const txn = this.txn
      failNotAppended(complete, fail, err as Error, this.stats, txn, txn === null ? -1 : txn.transactionGeneration)
    }
  }

  /**
   * The time for a send: a fresh reading, or the last one while it may be
   * reused (same synchronous run, fewer than CLOCK_REUSE uses). A queued
   * microtask ends the reuse once the run yields, so sends separated by any
   * await or event-loop turn each read the clock.
   */
  private sendClock(): number {
    if (this.clockUses > 0) {
      this.clockUses--
      return this.clockMs
    }
    const now = this.time()
    if (this.cacheClock) {
      this.clockMs = now
      this.clockUses = CLOCK_REUSE - 1
      if (!this.clockResetQueued) {
        this.clockResetQueued = true
        queueMicrotask(this.resetClock)
      }
    }
    return now
  }

  /**
   * Java's ensureValidRecordSize: reject before buffering what could never be
   * sent. O(1) for a record without headers that is clearly small enough: an
   * upper bound of its size (a string's UTF-8 takes at most 3 bytes per
   * UTF-16 unit) is checked first, so the exact size, which scans strings, is
   * only computed near the limit; the batch measures the record once anyway
   * when it appends it.
   */
  private ensureValidRecordSize(topic: string, key: Bytes | null, value: Bytes | null, headers: HeaderPairs): void {
    if (headers === null) {
      const bound = RECORD_BATCH_OVERHEAD + RECORD_DELTA_SLACK + RECORD_FIXED_MAX + maxByteLength(key) + maxByteLength(value)
      if (bound <= this.recordSizeLimit) return
    }
    const size = RECORD_BATCH_OVERHEAD + RECORD_DELTA_SLACK + sizeOfRecord(0, 0, key, value, headers)
    if (size > this.config.maxRequestSize) {
      throw new KafkaInvalidRecordError(
        `The record for topic '${topic}' is ${size} bytes when serialized, which is larger than ${this.config.maxRequestSize}, the value of max.request.size`,
      )
    }
    if (size > this.config.bufferMemory) {
      throw new KafkaInvalidRecordError(
        `The record for topic '${topic}' is ${size} bytes when serialized, which is larger than the total memory buffer (buffer.memory=${this.config.bufferMemory})`,
      )
    }
  }

  /**
   * Java's KafkaProducer.partition: the explicit partition, the custom
   * partitioner's choice, or the key's murmur2 hash; UNKNOWN_PARTITION leaves
   * a keyless record to the accumulator's sticky partitioner. Also called by
   * `WaitingSends` for a send whose topic was unknown at send().
   */
  private partitionFor(topic: string, explicit: number | null | undefined, key: Bytes | null, value: Bytes | null, count: number, cluster: Cluster): number {
    if (explicit !== undefined && explicit !== null) {
      if (explicit >= count) {
        throw new KafkaInvalidRecordError(`Invalid partition given with record: ${explicit} is not in the range [0...${count}) of topic '${topic}'`)
      }
      return explicit
    }
    const custom = this.config.partitioner
    if (custom !== null) {
      const p = custom(topic, toBuffer(key), toBuffer(value), cluster)
      if (!Number.isInteger(p) || p < 0 || p >= count) {
        throw new KafkaInvalidRecordError(`The custom partitioner returned ${String(p)} for topic '${topic}', which has ${count} partitions`)
      }
      return p
    }
    if (key !== null && !this.config.partitionerIgnoreKeys) {
      return typeof key === 'string' ? partitionForStringKey(key, count) : partitionForKey(key, count)
    }
    return UNKNOWN_PARTITION
  }

  /**
   * Resolves once every record sent before this call has completed
   * (successfully or not). With `options.signal`, rejects with an AbortError
   * when it aborts first; the records are not affected.
   *
   * @example
   * ```ts
   * for (const e of batchOfEvents) producer.send({ topic: 'events', value: e }, onDelivery)
   * await producer.flush() // every send above has completed: acknowledged, or failed through its callback
   * ```
   */
  flush(options?: FlushOptions): Promise<void> {
    const signal = options?.signal
    if (signal === undefined || signal === null) return this.timedFlush(this.doFlush())
    if (!isAbortSignal(signal)) return Promise.reject(new KafkaInvalidRecordError('flush() options.signal must be an AbortSignal'))
    if (signal.aborted) return Promise.reject(createAbortError(signal))
    return this.timedFlush(raceAbort(this.doFlush(), signal))
  }

  /** Java's KafkaProducer.flush records its time in a finally: until the call returns, interrupted or not. */
  private async timedFlush(flush: Promise<void>): Promise<void> {
    const start = process.hrtime.bigint()
    try {
      await flush
    } finally {
      this.stats.flushTimeNs += Number(process.hrtime.bigint() - start)
    }
  }

  private async doFlush(): Promise<void> {
    // The sends waiting in the producer before this call, not those queued after it.
    const earlier = this.waiting.whenEarlierSendsSettle()
    if (earlier !== null) await earlier
    this.accumulator.beginFlush()
    this.sender.wakeup()
    await this.accumulator.awaitFlushCompletion()
  }

  /**
   * For each connected broker, the protocol version each API goes out with,
   * as negotiated through ApiVersions: `{ '1': { Produce: 12, Metadata: 13, ApiVersions: 5 } }`.
   */
  negotiatedApiVersions(): Record<string, Record<string, number>> {
    return this.client.negotiatedApiVersions()
  }

  /**
   * A picture of the pipeline at this instant: each broker connection with
   * its state, negotiated API versions and requests in flight (age, bytes,
   * batches, records, partitions); each partition with queued batches (how
   * many, bytes, records, oldest age, muted, backing off, waiting for a
   * leader); the sends waiting for metadata or memory; the buffer pool.
   * Plain data, ready for `JSON.stringify`; see docs/observability.md.
   * Built from the state the parts keep anyway: not calling it costs nothing,
   * a call walks the queued batches and in-flight requests once (about 3 ms
   * with 10,000 partitions holding batches: bench/micro/inspect-cost.mjs).
   * `options.maxPartitions` lists only the partitions with the oldest batches.
   */
  inspect(options?: InspectOptions): ProducerInspection {
    const max = options?.maxPartitions
    if (max !== undefined && !(Number.isInteger(max) && max >= 0)) {
      throw new KafkaConfigError('maxPartitions', `expected an integer >= 0, got ${String(max)}`)
    }
    const now = this.time()
    return {
      ts: now,
      brokers: this.client.inspectConnections?.(now) ?? [],
      accumulator: this.accumulator.inspect(this.metadata.cluster, now, max),
      waitingSends: this.waiting.inspect(now),
      bufferPool: this.pool.inspect(now),
    }
  }

  /**
   * One timer for statistics.interval.ms, unref'd (it never keeps the
   * process alive), armed for one interval at a time rather than by
   * setInterval: an event loop blocked past several intervals yields one
   * emission, not a burst. Timers run on the monotonic clock, so a wall
   * clock step changes nothing. Only armed with an onStatistics, and
   * cleared by close(): an emission always has a callback to call.
   */
  private scheduleStatistics(): void {
    const timer = setTimeout(this.emitStatistics, this.config.statisticsIntervalMs)
    timer.unref?.()
    this.statisticsTimer = timer
  }

  private readonly emitStatistics = (): void => {
    // Re-armed before the callback runs: one that throws does not stop later statistics, one that closes the producer clears the new timer.
    this.scheduleStatistics()
    const inspection = this.inspect()
    const statistics: ProducerStatistics = { ts: inspection.ts, metrics: this.metrics(), inspection }
    try {
      this.onStatistics!(statistics)
    } catch (err) {
      // As the send callbacks': surfaced on the next tick.
      rethrowOnNextTick(err)
    }
  }

  /**
   * A snapshot of the producer's metrics, named as the Java producer names
   * them (docs/metrics.md): global values, `nodes[id]` per broker and
   * `topics[name]` per topic. Built only when called; recording costs a few
   * additions per batch, request and frame ({@link ProducerMetricsSnapshot}).
   *
   * @example
   * ```ts
   * const m = producer.metrics()
   * console.log(m['record-send-rate'], m['request-latency-avg'], m['buffer-available-bytes'])
   * ```
   */
  metrics(): ProducerMetricsSnapshot {
    const now = this.time()
    const s = this.stats
    const io = this.client.selectorMetrics
    const nodes: ProducerMetricsSnapshot['nodes'] = {}
    const inFlight = this.client.inFlightPerNode()
    const ids = new Set<number>([...inFlight.keys(), ...s.nodes.keys(), ...io.nodes.keys()])
    for (const id of ids) {
      if (id < 0) continue
      const sn = s.nodes.get(id) ?? NO_NODE_METRICS
      const n = io.nodes.get(id) ?? NO_NODE_IO
      nodes[String(id)] = {
        'requests-in-flight': inFlight.get(id) ?? 0,
        'request-latency-avg': sn.latency.avg(now),
        'request-latency-max': sn.latency.max(now),
        'request-rate': n.sent.countRate(now),
        'request-total': n.sent.totalCount,
        ...ioSnapshot(n, now),
        'produce-throttle-time-avg': sn.throttleTime.avg(now),
        'produce-throttle-time-max': sn.throttleTime.max(now),
      }
    }
    const topics: ProducerMetricsSnapshot['topics'] = {}
    for (const [name, t] of s.topics) {
      topics[name] = {
        'record-send-rate': t.records.rate(now),
        'record-send-total': t.records.totalSum,
        'byte-rate': t.bytes.rate(now),
        'byte-total': t.bytes.totalSum,
        'record-error-rate': t.errors.rate(now),
        'record-error-total': t.errors.totalSum,
        'record-retry-rate': t.retries.rate(now),
        'record-retry-total': t.retries.totalSum,
        'compression-rate': s.topicCompressionRate(t, now),
      }
    }
    const lastUpdate = this.metadata.lastSuccessfulUpdateMs
    return {
      'requests-in-flight': this.client.inFlightRequestCount(),
      'record-send-rate': s.recordRate(now),
      'record-send-total': s.recordSend.totalSum,
      'record-error-rate': s.errors.rate(now),
      'record-error-total': s.errors.totalSum,
      'record-retry-rate': s.retries.rate(now),
      'record-retry-total': s.retries.totalSum,
      'record-size-avg': s.recordSize.avg(now),
      'record-size-max': s.recordSize.max(now),
      'batch-split-rate': s.batchSplit.rate(now),
      'batch-split-total': s.batchSplit.totalCount,
      'records-per-request-avg': s.recordsPerRequest.avg(now),
      'batch-size-avg': s.batchSize.avg(now),
      'batch-size-max': s.batchSize.max(now),
      'record-queue-time-avg': s.queueTime.avg(now),
      'record-queue-time-max': s.queueTime.max(now),
      'request-latency-avg': s.requestLatency.avg(now),
      'request-latency-max': s.requestLatency.max(now),
      'request-rate': s.recordsPerRequest.countRate(now),
      'request-total': s.recordsPerRequest.totalCount,
      ...ioSnapshot(io, now),
      'produce-throttle-time-avg': s.produceThrottleTime.avg(now),
      'produce-throttle-time-max': s.produceThrottleTime.max(now),
      'buffer-available-bytes': this.pool.availableMemory(),
      'buffer-total-bytes': this.pool.totalMemory,
      'buffer-exhausted-rate': s.bufferExhausted.countRate(now),
      'buffer-exhausted-total': s.bufferExhausted.totalCount,
      // ms waited per second of wall time / 1000: the fraction of time spent waiting (Java's Rate in ns over ns).
      'bufferpool-wait-ratio': s.bufferPoolWait.rate(now) / 1000,
      'bufferpool-wait-time-ns-total': s.bufferPoolWait.totalSum * 1e6,
      'metadata-age': Number.isNaN(lastUpdate) ? NaN : (now - lastUpdate) / 1000,
      'connection-count': this.client.connectionCount(),
      'connection-creation-rate': io.connectionCreation.countRate(now),
      'connection-creation-total': io.connectionCreation.totalCount,
      'connection-close-rate': io.connectionClose.countRate(now),
      'connection-close-total': io.connectionClose.totalCount,
      'successful-authentication-rate': io.successfulAuthentication.countRate(now),
      'successful-authentication-total': io.successfulAuthentication.totalCount,
      'failed-authentication-rate': io.failedAuthentication.countRate(now),
      'failed-authentication-total': io.failedAuthentication.totalCount,
      'compression-rate-avg': s.compressionRateAvg(now),
      compression: s.compressionSnapshot(),
      'waiting-sends': this.waiting.size,
      'flush-time-ns-total': s.flushTimeNs,
      'metadata-wait-time-ns-total': s.metadataWaitMs * 1e6,
      'txn-init-time-ns-total': s.txnInitTimeNs,
      'txn-begin-time-ns-total': s.txnBeginTimeNs,
      'txn-send-offsets-time-ns-total': s.txnSendOffsetsTimeNs,
      'txn-commit-time-ns-total': s.txnCommitTimeNs,
      'txn-abort-time-ns-total': s.txnAbortTimeNs,
      nodes,
      topics,
    }
  }

  // ---- transactions (Java's KafkaProducer transactional methods) ----

  /**
   * Registers the `transactionalId` with its coordinator and gets a producer
   * id and epoch (InitProducerId), fencing any earlier producer with the same
   * id and completing or aborting its open transaction. Call once, before the
   * first `beginTransaction()`. Rejects with {@link KafkaTimeoutError} after
   * max.block.ms (the initialization goes on: call again to keep waiting),
   * {@link KafkaFatalProducerError} when fenced or not authorized.
   *
   * @example
   * ```ts
   * const producer = new KafkaProducer({ bootstrapServers: 'localhost:9092', transactionalId: 'orders-writer-1' })
   * await producer.initTransactions()
   * ```
   */
  async initTransactions(): Promise<void> {
    const txn = this.requireTransactional('initTransactions')
    const start = process.hrtime.bigint()
    const result = txn.initializeTransactions()
    this.sender.wakeup()
    await this.awaitTransactional(txn, result, this.maxBlockTimer())
    this.stats.txnInitTimeNs += Number(process.hrtime.bigint() - start)
    // Java decides on transactions v2 here, from the features the coordinator's ApiVersions reported.
    txn.maybeUpdateTransactionV2Enabled(true)
  }

  /**
   * Starts a transaction: every record sent until `commitTransaction()` or
   * `abortTransaction()` belongs to it. Throws {@link KafkaTransactionStateError}
   * before `initTransactions()` has completed or while a transaction is open.
   *
   * @example
   * ```ts
   * producer.beginTransaction()
   * try {
   *   producer.send({ topic: 'orders', value: 'a' }, onDelivery)
   *   producer.send({ topic: 'audit', value: 'a created' }, onDelivery)
   *   await producer.commitTransaction()
   * } catch (err) {
   *   if (err instanceof KafkaTransactionAbortableError) await producer.abortTransaction()
   *   else throw err // KafkaFatalProducerError: close the producer
   * }
   * ```
   */
  beginTransaction(): void {
    const txn = this.requireTransactional('beginTransaction')
    const start = process.hrtime.bigint()
    txn.beginTransaction()
    this.stats.txnBeginTimeNs += Number(process.hrtime.bigint() - start)
  }

  /**
   * Commits the offsets of a consumer group atomically with the records of
   * the current transaction (exactly-once consume-transform-produce, KIP-98;
   * with `{ groupId, generationId, memberId, groupInstanceId }` the group also
   * fences zombie consumers, KIP-447). `offsets` are the next offsets to
   * consume. Rejects with {@link KafkaTransactionAbortableError} when the
   * group refuses them (abort, then retry the work).
   *
   * @example
   * ```ts
   * // Consume-transform-produce: the consumed offsets commit with the output, or neither does.
   * await producer.transaction(async () => {
   *   for (const m of consumed) producer.send({ topic: 'out', value: transform(m.value) }, onDelivery)
   *   await producer.sendOffsetsToTransaction([{ topic: 'in', partition: 0, offset: lastOffset + 1n }], 'my-group')
   * })
   * ```
   */
  async sendOffsetsToTransaction(offsets: readonly TransactionOffset[], groupMetadata: string | ConsumerGroupMetadata): Promise<void> {
    const txn = this.requireTransactional('sendOffsetsToTransaction')
    const group = typeof groupMetadata === 'string' ? { groupId: groupMetadata } : groupMetadata
    if (typeof group?.groupId !== 'string' || group.groupId === '') {
      throw new KafkaInvalidRecordError('sendOffsetsToTransaction needs a non-empty consumer group id')
    }
    for (const o of offsets) {
      if (typeof o.topic !== 'string' || !Number.isInteger(o.partition) || o.partition < 0 || (typeof o.offset !== 'bigint' && !Number.isSafeInteger(o.offset)) || o.offset < 0) {
        throw new KafkaInvalidRecordError(`Invalid offset to commit: ${JSON.stringify(o, (_k, v) => (typeof v === 'bigint' ? `${v}` : v))}`)
      }
    }
    const start = process.hrtime.bigint()
    // Java returns at once for an empty map (no request, nothing joins the transaction).
    if (offsets.length > 0) {
      const result = txn.sendOffsetsToTransaction(offsets, group)
      this.sender.wakeup()
      await this.awaitTransactional(txn, result, this.maxBlockTimer())
    }
    this.stats.txnSendOffsetsTimeNs += Number(process.hrtime.bigint() - start)
  }

  /**
   * Delivers every record of the transaction, then commits it (EndTxn): once
   * this resolves, `read_committed` consumers see all of them, and offsets
   * sent with it are committed. Rejects with
   * {@link KafkaTransactionAbortableError} when something in the transaction
   * failed (abort it; the producer can go on), {@link KafkaFatalProducerError}
   * when fenced, {@link KafkaTimeoutError} after max.block.ms, counted from
   * this call (the commit goes on: call again to keep waiting). It takes
   * effect at the call: until it settles, `send()`,
   * `sendOffsetsToTransaction()` and `abortTransaction()` fail with
   * {@link KafkaTransactionStateError}, while records sent before it that
   * still wait in the producer are let into the transaction first.
   */
  async commitTransaction(): Promise<void> {
    const txn = this.requireTransactional('commitTransaction')
    const start = process.hrtime.bigint()
    // At once, as Java's synchronous beginCommit: from here a send(), sendOffsetsToTransaction() or
    // abortTransaction() is refused, so nothing joins or ends the transaction while it is being committed.
    txn.requestCommit()
    // max.block.ms counts from this call, over the wait for earlier sends and the commit together.
    const timer = this.maxBlockTimer()
    let result: TransactionalResult
    try {
      if (txn.isCommitRequested) {
        // Sends made before this call that still wait for metadata or memory belong to the transaction: let them in
        // first. Not raced against the timer: each of them fails at its own max.block.ms deadline, counted from its
        // send(), so this wait ends within this call's max.block.ms anyway, and a send that times out then has made
        // the transaction abortable (which beginCommit reports) rather than losing a tie with this call's timer.
        const earlier = this.waiting.whenEarlierSendsSettle()
        if (earlier !== null) await earlier
        if (this.closed) {
          throw new KafkaProducerClosedError('The producer was closed while commitTransaction() waited for the records sent before it; the transaction is aborted')
        }
      }
      result = txn.beginCommit()
    } catch (err) {
      timer.cancel()
      throw err
    }
    this.sender.wakeup()
    await this.awaitTransactional(txn, result, timer)
    this.stats.txnCommitTimeNs += Number(process.hrtime.bigint() - start)
  }

  /**
   * Aborts the transaction: records not sent yet fail with
   * KafkaTransactionAbortedError, records written are never shown to
   * `read_committed` consumers, offsets sent with it are not committed. The
   * way out of {@link KafkaTransactionAbortableError}.
   */
  async abortTransaction(): Promise<void> {
    const txn = this.requireTransactional('abortTransaction')
    const start = process.hrtime.bigint()
    const result = txn.beginAbort()
    this.sender.wakeup()
    await this.awaitTransactional(txn, result, this.maxBlockTimer())
    this.stats.txnAbortTimeNs += Number(process.hrtime.bigint() - start)
  }

  /**
   * Runs `fn` in a transaction: begins, commits when `fn` resolves and
   * aborts when it throws, rethrowing its error. A commit that fails with an
   * abortable error is aborted too, and its error rethrown. When that abort
   * fails as well (a KafkaTimeoutError after max.block.ms, a fatal error),
   * the rethrown error carries the abort's error as `abortError`, and as
   * `cause` when it has no cause of its own: after a timeout the abort is
   * still under way, and `abortTransaction()` must be called again before
   * the next transaction.
   *
   * @returns what `fn` returned, once the transaction is committed.
   *
   * @example
   * ```ts
   * await producer.transaction(async () => {
   *   await producer.send({ topic: 'orders', key: order.id, value: JSON.stringify(order) })
   *   await producer.send({ topic: 'audit', value: `order ${order.id} created` })
   * })
   * ```
   */
  async transaction<T>(fn: () => Promise<T> | T): Promise<T> {
    this.beginTransaction()
    let value: T
    try {
      value = await fn()
    } catch (err) {
      throw await this.abortAfterFailure(err)
    }
    try {
      await this.commitTransaction()
    } catch (err) {
      if (err instanceof KafkaTransactionAbortableError) throw await this.abortAfterFailure(err)
      throw err
    }
    return value
  }

  /**
   * Aborts after `fn` or the commit failed, and returns `err`, the error the
   * caller gets. An abort that fails is not swallowed: its error is attached
   * to `err` (see `transaction`), since an abort that timed out leaves the
   * producer waiting for abortTransaction() to be called again.
   */
  private async abortAfterFailure(err: unknown): Promise<unknown> {
    try {
      await this.abortTransaction()
    } catch (abortError) {
      if (err !== null && typeof err === 'object' && Object.isExtensible(err)) {
        Object.defineProperty(err, 'abortError', { value: abortError, configurable: true, writable: true })
        if ((err as { cause?: unknown }).cause === undefined) Object.defineProperty(err, 'cause', { value: abortError, configurable: true, writable: true })
      }
    }
    return err
  }

  private requireTransactional(operation: string): TransactionManager {
    if (this.txn === null) {
      throw new KafkaTransactionStateError('NOT_TRANSACTIONAL', `${operation}() needs a transactional producer: set transactionalId`)
    }
    if (this.closed) throw new KafkaProducerClosedError(`Cannot call ${operation}() after the producer is closed`)
    return this.txn
  }

  /**
   * Java's TransactionalRequestResult.await(max.block.ms): a timeout leaves
   * the operation running, to be awaited again by repeating the call (the
   * manager keeps its result until then); an outcome, success or failure,
   * acknowledges the result, as Java's await marks it acked.
   */
  private async awaitTransactional(txn: TransactionManager, result: TransactionalResult, timer: MaxBlockTimer): Promise<void> {
    timer.operation = result.operation
    try {
      await Promise.race([result.promise, timer.expired])
    } catch (err) {
      // Not on a timeout: the application was told to call again, and that call must find this result.
      if (!(err instanceof KafkaTimeoutError && err === timer.error)) txn.acknowledge(result)
      else txn.markTimedOut(result)
      throw err
    } finally {
      timer.cancel()
    }
    txn.acknowledge(result)
  }

  /** max.block.ms from now, for one transactional call: `expired` rejects with a KafkaTimeoutError then. */
  private maxBlockTimer(): MaxBlockTimer {
    const maxBlockMs = this.config.maxBlockMs
    let handle: NodeJS.Timeout | null = null
    const t: MaxBlockTimer = {
      operation: 'the operation',
      error: null,
      expired: new Promise<never>((_, reject) => {
        handle = setTimeout(() => {
          t.error = new KafkaTimeoutError(
            `Timeout expired after ${maxBlockMs} ms (max.block.ms) while awaiting ${t.operation}; it is still in progress: call the same method again to keep waiting`,
          )
          reject(t.error)
        }, Math.min(maxBlockMs, 2147483647))
      }),
      cancel: () => {
        if (handle !== null) clearTimeout(handle)
        handle = null
      },
    }
    t.expired.catch(() => {}) // raced, or cancelled before it fires: never an unhandled rejection
    return t
  }

  /**
   * Stops accepting sends, delivers what was accepted, then releases every
   * socket and timer. With `timeoutMs`, whatever is still undelivered when it
   * runs out fails with {@link KafkaProducerClosedError}. A transaction still
   * open is aborted first (Java's close), within the same timeout. Calling
   * it again returns the same promise.
   *
   * @example
   * ```ts
   * process.once('SIGTERM', () => {
   *   void producer.close({ timeoutMs: 10_000 }).then(() => process.exit(0))
   * })
   * ```
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.closePromise ??= this.doClose(options.timeoutMs ?? Infinity)
    return this.closePromise
  }

  private async doClose(timeoutMs: number): Promise<void> {
    this.closed = true
    if (this.statisticsTimer !== null) {
      clearTimeout(this.statisticsTimer)
      this.statisticsTimer = null
    }
    let timer: NodeJS.Timeout | null = null
    const timedOut = new Promise<void>((resolve) => {
      if (Number.isFinite(timeoutMs)) timer = setTimeout(resolve, Math.max(0, Math.min(timeoutMs, 2147483647)))
    })
    const graceful = (async () => {
      await this.waiting.whenIdle()
      await this.sender.close(false)
    })()
    let finished = false
    await Promise.race([graceful.then(() => (finished = true)), timedOut])
    if (!finished) {
      this.sender.forceCloseNow()
      this.accumulator.close() // fails sends still waiting for memory
      this.metadata.wakeAll() // and those waiting for metadata see `closed`
      await graceful
    }
    if (timer !== null) clearTimeout(timer)
    this.pipeline?.close()
    // Last, once no connection can authenticate again: the built-in OIDC provider stops refreshing,
    // aborts its request and makes no more (Java's SaslChannelBuilder.close releases its LoginManager).
    saslFactoryLifecycle(this.config.security.sasl)?.close()
  }
}

/** One transactional call's max.block.ms (KafkaProducer.maxBlockTimer). */
interface MaxBlockTimer {
  /** What the call awaits when it runs out, for the message. */
  operation: string
  /** The KafkaTimeoutError `expired` rejected with; null before. */
  error: KafkaTimeoutError | null
  readonly expired: Promise<never>
  cancel(): void
}

/** The typed options are functions and an array: checked here, as resolveProducerConfig checks the rest. */
function checkTypedOptions(keySerializer: unknown, valueSerializer: unknown, interceptors: unknown, onStatistics: unknown): void {
  if (onStatistics !== undefined && onStatistics !== null && typeof onStatistics !== 'function') {
    throw new KafkaConfigError('onStatistics', `expected a function (statistics) => void, got ${typeof onStatistics}`)
  }
  for (const [name, v] of [
    ['keySerializer', keySerializer],
    ['valueSerializer', valueSerializer],
  ] as const) {
    if (v !== undefined && v !== null && typeof v !== 'function') {
      throw new KafkaConfigError(name, `expected a function (data, topic, headers) => Buffer | string | null, got ${typeof v}`)
    }
  }
  if (interceptors === undefined || interceptors === null) return
  if (!Array.isArray(interceptors)) throw new KafkaConfigError('interceptors', `expected an array of interceptors, got ${typeof interceptors}`)
  interceptors.forEach((ic: unknown, i) => {
    if (ic === null || typeof ic !== 'object') throw new KafkaConfigError('interceptors', `interceptor ${i} must be an object with onSend / onAcknowledgement methods`)
  })
}

/** Upper bound of the UTF-8 bytes of a key or value. */
function maxByteLength(v: Bytes | null): number {
  return v === null ? 0 : typeof v === 'string' ? 3 * v.length : v.length
}

function toBuffer(v: Bytes | null): Buffer | null {
  return v === null || Buffer.isBuffer(v) ? v : Buffer.from(v, 'utf8')
}

/** The `kafka-producer-ts:send` trace context (docs/observability.md); `result` or `error` are added on completion. */
export interface SendTraceContext {
  /** The producer's client.id. */
  clientId: string
  /** The record's topic, as given (undefined when the record is not an object). */
  topic: string | undefined
  /** The requested partition, or undefined when the partitioner chooses. */
  partition: number | undefined
  /** The key as given to `send()`, before the key serializer. */
  key: unknown
  /** The value as given to `send()`, before the value serializer. */
  value: unknown
  /**
   * A copy of the record's headers in the form given, or an empty array; a
   * `start` subscriber may add to it or replace it, and the record is sent
   * with these headers (the caller's record is not changed).
   */
  headers: RecordHeaders | [string, Bytes][]
  /** The requested timestamp, or undefined. */
  timestamp: number | undefined
  /** On success: the metadata the send resolves with. */
  result?: RecordMetadata
  /** On failure: the error the send rejects with. */
  error?: unknown
}

function sendContext(clientId: string, record: ProducerRecord<unknown, unknown>): SendTraceContext {
  const r = record !== null && typeof record === 'object' ? record : undefined
  const h = r?.headers
  let headers: SendTraceContext['headers']
  if (h === undefined || h === null) headers = []
  else if (Array.isArray(h)) headers = h.slice()
  else if (typeof h === 'object' && (Object.getPrototypeOf(h) === Object.prototype || Object.getPrototypeOf(h) === null)) headers = { ...(h as Record<string, Bytes>) }
  else headers = h // not headers at all: validation rejects the record as given
  return { clientId, topic: r?.topic, partition: r?.partition ?? undefined, key: r?.key, value: r?.value, headers, timestamp: r?.timestamp }
}

/**
 * The record with the trace context's headers, when a subscriber changed
 * them; the caller's record object is not changed. The context holds a
 * shallow copy of the record's headers, so "unchanged" is the same entries
 * (or keys and values) in the same order: the record is then sent as it is,
 * with no copy for a subscriber that only observes.
 */
function withTraceHeaders<K, V>(record: ProducerRecord<K, V>, ctx: SendTraceContext): ProducerRecord<K, V> {
  if (record === null || typeof record !== 'object') return record
  if (sameHeaders(ctx.headers, record.headers)) return record
  return { ...record, headers: ctx.headers as RecordHeaders }
}

function sameHeaders(h: SendTraceContext['headers'], original: unknown): boolean {
  if (h === original) return true
  if (original === undefined || original === null) return Array.isArray(h) ? h.length === 0 : Object.keys(h).length === 0
  if (Array.isArray(h)) {
    if (!Array.isArray(original) || original.length !== h.length) return false
    for (let i = 0; i < h.length; i++) if (h[i] !== original[i]) return false
    return true
  }
  if (typeof original !== 'object' || Array.isArray(original)) return false
  const copy = h as Record<string, unknown>
  const keys = Object.keys(copy)
  if (keys.length !== Object.keys(original).length) return false
  for (const k of keys) if (copy[k] !== (original as Record<string, unknown>)[k] || !Object.hasOwn(original, k)) return false
  return true
}
