import type { LogSink } from '../util/logger.js'
import type { RecordCallback, RecordCompletion, RecordReject, RecordResolve } from './producer-batch.js'
import type { Bytes, ProducerRecord, RecordMetadata } from './record.js'

/**
 * Java's `ProducerInterceptor<K, V>`: sees, and may change, each record before
 * it is serialized and partitioned, and sees each record's outcome.
 *
 * - `onSend(record)` runs inside `send()`, before the key and value are
 *   serialized and before the partition is chosen; it returns the record to
 *   send (the same object, or a changed copy, e.g. with a header added). It
 *   must not change the record it was given: the application may reuse it.
 * - `onAcknowledgement(metadata, error)` runs once per record, just before its
 *   callback or promise, for every outcome: delivered (`error` null), failed
 *   by the broker after any retries, or failed before it reached a batch
 *   (invalid record, serializer error, timeout waiting for metadata or memory,
 *   abort, producer closed: Java's `onSendError`). On an error, `metadata`
 *   has the topic, the partition when known (else -1), offset -1n and
 *   timestamp -1, as Java's. It runs on the event loop in the producer's
 *   completion path (Java: the I/O thread): keep it short.
 * - `close()` runs once, when the producer has closed.
 *
 * An interceptor that throws is logged (the producer's `logger`, once per
 * interceptor and hook; repeats at debug level) and skipped: the send goes on with the record
 * as the previous interceptor returned it, and the outcome still reaches the
 * application and the other interceptors.
 *
 * @example
 * ```ts
 * let acked = 0
 * let failed = 0
 * const tracing: ProducerInterceptor = {
 *   // Return a copy: the application may reuse the record it passed to send().
 *   onSend: (record) => ({ ...record, headers: { ...record.headers, 'trace-id': currentTraceId() } }),
 *   onAcknowledgement: (_metadata, error) => (error === null ? acked++ : failed++),
 * }
 * const producer = new KafkaProducer({ bootstrapServers: 'localhost:9092', interceptors: [tracing] })
 * ```
 */
export interface ProducerInterceptor<K = Bytes, V = Bytes> {
  /**
   * Called inside `send()`, before serialization and partitioning; returns
   * the record to send (the one given, or a changed copy). Must not modify
   * the record it is given.
   */
  onSend?(record: ProducerRecord<K, V>): ProducerRecord<K, V>
  /**
   * Called once per record with its outcome, just before its callback or
   * promise: `error` is null when delivered. On an error, `metadata` has the
   * topic, the partition when known (else -1), offset -1n and timestamp -1.
   */
  onAcknowledgement?(metadata: RecordMetadata, error: Error | null): void
  /** Called once, when the producer has closed. */
  close?(): void
}

/** `RecordMetadata.partition` on an error before the partition was known (Java's RecordMetadata.UNKNOWN_PARTITION). */
export const UNKNOWN_PARTITION_METADATA = -1

/**
 * Java's `ProducerInterceptors`: the configured interceptors, called in
 * configuration order, each call guarded so that one throwing interceptor
 * affects neither the send nor the others.
 *
 * Invariants:
 * - `onSend` chains: each interceptor gets what the previous one returned;
 *   one that throws, or returns something that is not an object, is skipped
 *   (warning) and the chain goes on with the record it was given.
 * - Every send that went through `onSend` gets exactly one
 *   `onAcknowledgement` per interceptor, before its own callback or promise:
 *   the completion `wrap` returns replaces the send's completion slots, so
 *   the producer, the waiting queue and the batch complete it as any other.
 */
export class ProducerInterceptors<K, V> {
  private readonly list: readonly ProducerInterceptor<K, V>[]

  constructor(
    interceptors: readonly ProducerInterceptor<K, V>[],
    private readonly log: LogSink,
  ) {
    this.list = interceptors.slice()
  }

  private warn(index: number, hook: string, err: unknown): void {
    const message = `kafka-producer-ts: interceptor ${index} threw in ${hook}, skipped: ${(err as Error)?.stack ?? String(err)}`
    this.log.warn(`interceptor:${index}:${hook}`, message, {
      event: 'interceptor.threw',
      interceptor: index,
      hook,
      ...(err instanceof Error ? { err } : {}),
    })
  }

  /** Java's ProducerInterceptors.onSend. */
  onSend(record: ProducerRecord<K, V>): ProducerRecord<K, V> {
    let r = record
    for (let i = 0; i < this.list.length; i++) {
      const ic = this.list[i]!
      if (typeof ic.onSend !== 'function') continue
      try {
        const next = ic.onSend(r)
        if (next === null || typeof next !== 'object') {
          this.warn(i, 'onSend', new TypeError(`onSend returned ${next === null ? 'null' : typeof next}; it must return a record`))
        } else {
          r = next
        }
      } catch (err) {
        this.warn(i, 'onSend', err)
      }
    }
    return r
  }

  /** Java's ProducerInterceptors.onAcknowledgement (and onSendError, which forwards to it). */
  onAcknowledgement(metadata: RecordMetadata, error: Error | null): void {
    for (let i = 0; i < this.list.length; i++) {
      const ic = this.list[i]!
      if (typeof ic.onAcknowledgement !== 'function') continue
      try {
        ic.onAcknowledgement(metadata, error)
      } catch (err) {
        this.warn(i, 'onAcknowledgement', err)
      }
    }
  }

  /** Java's ProducerInterceptors.close: each interceptor's close, guarded. */
  close(): void {
    for (let i = 0; i < this.list.length; i++) {
      const ic = this.list[i]!
      if (typeof ic.close !== 'function') continue
      try {
        ic.close()
      } catch (err) {
        this.warn(i, 'close', err)
      }
    }
  }

  /**
   * A completion that calls `onAcknowledgement` and then the send's own
   * callback or promise (Java's AppendCallbacks.onCompletion). Callback
   * style (its `fail` slot is null) whatever the original, so it fits both.
   * `topic` and `partition` describe the record on an error, when the batch
   * reports no metadata.
   */
  wrap(topic: string, partition: number, complete: RecordCompletion, fail: RecordReject | null): RecordCallback {
    return (err, metadata) => {
      this.onAcknowledgement(metadata ?? { topic, partition, offset: -1n, timestamp: -1 }, err)
      if (fail === null) (complete as RecordCallback)(err, metadata)
      else if (err !== null) fail(err)
      else (complete as RecordResolve)(metadata!)
    }
  }
}
