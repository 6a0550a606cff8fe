import type { LogSink } from '../util/logger.js'
import { type ProducerInterceptor, ProducerInterceptors, UNKNOWN_PARTITION_METADATA } from './interceptors.js'
import { failNotAppended, type RecordCompletion, type RecordReject, type SendTransaction } from './producer-batch.js'
import type { ProducerRecord } from './record.js'
import { RecordSerializer, type Serializer } from './serializers.js'
import type { ProducerMetrics } from './metrics.js'

/** What a send continues with once intercepted and serialized: the producer's own send of a Bytes record. */
export type SendBytes = (record: ProducerRecord, complete: RecordCompletion, fail: RecordReject | null, signal: AbortSignal | null) => void

/**
 * The steps Java's `KafkaProducer.send`/`doSend` take before a record is
 * partitioned: `interceptors.onSend`, then the key and value serializers.
 * The producer builds one only when it has interceptors or serializers, and
 * branches on that field once per send; without them a send never comes here
 * (no allocation, no call).
 *
 * Invariants:
 * - Order, as Java's: interceptors' onSend, then key, then value
 *   serialization, then the producer's send (validation, partition, append).
 * - With interceptors, the send's completion is wrapped before anything can
 *   fail, so `onAcknowledgement` sees every outcome, serialization errors
 *   included.
 * - A serializer failure fails that send only (KafkaSerializationError,
 *   asynchronously, through its own completion, counted in
 *   record-error-total); nothing was buffered for it. The open transaction,
 *   if any, hears of it first and becomes abortable (failNotAppended).
 */
export class SendPipeline<K, V> {
  private readonly interceptors: ProducerInterceptors<K, V> | null
  private readonly serializer: RecordSerializer<K, V> | null

  constructor(
    interceptors: readonly ProducerInterceptor<K, V>[] | null,
    keySerializer: Serializer<K> | null,
    valueSerializer: Serializer<V> | null,
    private readonly next: SendBytes,
    private readonly stats: Pick<ProducerMetrics, 'recordErrors'>,
    /** Where a throwing interceptor is reported. */
    log: LogSink,
    /** A transactional producer's manager, told of a send that failed here; null otherwise. */
    private readonly transaction: SendTransaction | null = null,
  ) {
    this.interceptors = interceptors !== null && interceptors.length > 0 ? new ProducerInterceptors(interceptors, log) : null
    this.serializer = keySerializer !== null || valueSerializer !== null ? new RecordSerializer(keySerializer, valueSerializer) : null
  }

  send(record: ProducerRecord<K, V>, complete: RecordCompletion, fail: RecordReject | null, signal: AbortSignal | null): void {
    let r = record
    const ics = this.interceptors
    if (ics !== null) {
      r = ics.onSend(record)
      const valid = r !== null && typeof r === 'object'
      complete = ics.wrap(valid ? r.topic : String(undefined), valid ? (r.partition ?? UNKNOWN_PARTITION_METADATA) : UNKNOWN_PARTITION_METADATA, complete, fail)
      fail = null
    }
    let bytes: ProducerRecord
    if (this.serializer !== null) {
      try {
        bytes = this.serializer.serialize(r)
      } catch (err) {
        const txn = this.transaction
        failNotAppended(complete, fail, err as Error, this.stats, txn, txn === null ? -1 : txn.transactionGeneration)
        return
      }
    } else {
      bytes = r as unknown as ProducerRecord
    }
    this.next(bytes, complete, fail, signal)
  }

  /** The interceptors' close() (Java's ProducerInterceptors.close), once the producer has closed. */
  close(): void {
    this.interceptors?.close()
  }
}
