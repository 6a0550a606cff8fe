// Imported, not the global: Node's global `Buffer` is a lazy getter that runs on every use (bench/micro/FINDINGS.md).
import { Buffer } from 'node:buffer'
import { KafkaSerializationError } from '../errors.js'
import type { Bytes, ProducerRecord, RecordHeaders } from './record.js'

/**
 * Turns a typed key or value into the bytes of a record: Java's
 * `Serializer<T>.serialize(topic, headers, data)`, with the data first.
 * Returns a Buffer, a string (sent as its UTF-8 bytes) or null (a null key,
 * or a tombstone value). `headers` are the record's headers as given to
 * `send()` (after the interceptors), or undefined.
 *
 * Unlike Java's, a serializer is never called with a null (or absent) key or
 * a null value: those stay null, so a tombstone is a tombstone whatever the
 * serializer. A serializer that throws fails only its own send, with
 * {@link KafkaSerializationError}.
 *
 * @example
 * ```ts
 * // A custom serializer: a fixed-width big-endian id as the key.
 * const idKey: Serializer<number> = (id) => {
 *   const b = Buffer.alloc(8)
 *   b.writeBigInt64BE(BigInt(id))
 *   return b
 * }
 * const producer = new KafkaProducer<number, Order>({ bootstrapServers: 'localhost:9092', keySerializer: idKey, valueSerializer: serializers.json })
 * await producer.send({ topic: 'orders', key: order.id, value: order })
 * ```
 */
export type Serializer<T> = (data: T, topic: string, headers: RecordHeaders | undefined) => Bytes | null

/**
 * The built-in serializers, as Java's `StringSerializer`, `ByteArraySerializer`
 * and a JSON one (Java has none built in; Kafka Connect's JsonSerializer is
 * the usual choice).
 *
 * @example
 * ```ts
 * import { KafkaProducer, serializers } from 'kafka-producer-ts'
 *
 * const producer = new KafkaProducer<string, { user: string; clicks: number }>({
 *   bootstrapServers: 'localhost:9092',
 *   keySerializer: serializers.string,
 *   valueSerializer: serializers.json,
 * })
 * await producer.send({ topic: 'clicks', key: 'user-42', value: { user: 'user-42', clicks: 3 } })
 * ```
 */
export const serializers: {
  /** Strings, sent as UTF-8 (Java's StringSerializer). Anything else fails the send. */
  readonly string: Serializer<string>
  /** `JSON.stringify(data)`, sent as UTF-8. A value JSON cannot represent (undefined, a function, a BigInt, a cycle) fails the send. */
  readonly json: Serializer<unknown>
  /** Raw bytes, as they are: a Buffer, or any Uint8Array (viewed, not copied) (Java's ByteArraySerializer). */
  readonly bytes: Serializer<Uint8Array>
} = Object.freeze({
  string(data: string): Bytes {
    if (typeof data !== 'string') throw new TypeError(`expected a string, got ${typeof data}`)
    return data
  },
  json(data: unknown): Bytes {
    const text = JSON.stringify(data)
    if (typeof text !== 'string') throw new TypeError(`JSON.stringify returned undefined for ${typeof data === 'object' ? 'this object' : `a ${typeof data}`}`)
    return text
  },
  bytes(data: Uint8Array): Bytes {
    if (Buffer.isBuffer(data)) return data
    if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength)
    throw new TypeError(`expected a Buffer or a Uint8Array, got ${typeof data}`)
  },
})

/**
 * Applies a producer's key and value serializers to records: Java's
 * `KafkaProducer.doSend` serializes the key, then the value, before choosing
 * a partition, and wraps a failure in a `SerializationException`.
 *
 * Invariants:
 * - The input record is never changed: the result is a new record object
 *   with the serialized key and value and the other fields copied.
 * - A null or absent key and a null value are not passed to the serializers.
 * - Whatever a serializer throws, or a result that is not Bytes or null,
 *   becomes a KafkaSerializationError naming the topic and the side, with
 *   the original as `cause`.
 */
export class RecordSerializer<K, V> {
  constructor(
    private readonly keySerializer: Serializer<K> | null,
    private readonly valueSerializer: Serializer<V> | null,
  ) {}

  /** The record with its key and value serialized; throws KafkaSerializationError. */
  serialize(record: ProducerRecord<K, V>): ProducerRecord {
    if (record === null || typeof record !== 'object') return record as unknown as ProducerRecord // validateRecord reports it
    const topic = record.topic
    const headers = record.headers
    let key = record.key as unknown
    if (this.keySerializer !== null && key !== null && key !== undefined) key = apply(this.keySerializer, key as K, topic, headers, true)
    let value = record.value as unknown
    if (this.valueSerializer !== null && value !== null && value !== undefined) value = apply(this.valueSerializer, value as V, topic, headers, false)
    const out: ProducerRecord = { topic, value: value as Bytes | null, key: key as Bytes | null | undefined }
    if (headers !== undefined) out.headers = headers
    if (record.partition !== undefined) out.partition = record.partition
    if (record.timestamp !== undefined) out.timestamp = record.timestamp
    return out
  }
}

function apply<T>(serializer: Serializer<T>, data: T, topic: string, headers: RecordHeaders | undefined, isKey: boolean): Bytes | null {
  let out: unknown
  try {
    out = serializer(data, topic, headers)
  } catch (err) {
    throw new KafkaSerializationError(topic, isKey, (err as Error)?.message ?? String(err), { cause: err })
  }
  if (out === null || typeof out === 'string' || Buffer.isBuffer(out)) return out
  throw new KafkaSerializationError(
    topic,
    isKey,
    `the ${isKey ? 'key' : 'value'} serializer returned ${out === undefined ? 'undefined' : Array.isArray(out) ? 'an array' : `a ${typeof out}`}; it must return a Buffer, a string or null`,
  )
}
