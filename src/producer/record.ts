// Imported, not the global: Node's global `Buffer` is a lazy getter that runs on every use (bench/micro/FINDINGS.md).
import { Buffer } from 'node:buffer'
import { KafkaInvalidRecordError } from '../errors.js'
import type { HeaderPairs } from '../protocol/record-batch.js'

/** A key, value or header value as sent: a Buffer, or a string sent as its UTF-8 bytes. */
export type Bytes = Buffer | string

/**
 * Headers as an object, or as `[key, value]` pairs when a key repeats (Kafka
 * allows repeated keys and keeps their order).
 *
 * @example
 * ```ts
 * await producer.send({ topic: 'events', value: 'v', headers: { source: 'web', trace: Buffer.from([1, 2]) } })
 * await producer.send({ topic: 'events', value: 'v', headers: [['hop', 'a'], ['hop', 'b']] })
 * ```
 */
export type RecordHeaders = Record<string, Bytes> | ReadonlyArray<readonly [string, Bytes]>

/**
 * A record to send. `K` and `V` are the key and value types: {@link Bytes} (a
 * Buffer or a string, sent as UTF-8) unless the producer has serializers for
 * them. The object may be reused once `send()` returns.
 *
 * @example
 * ```ts
 * const record: ProducerRecord = { topic: 'events', key: 'user-42', value: JSON.stringify({ clicks: 3 }) }
 * await producer.send(record)
 * ```
 */
export interface ProducerRecord<K = Bytes, V = Bytes> {
  /** The topic to send to: 1 to 249 characters of ASCII letters, digits, `.`, `_` and `-`. */
  topic: string
  /** The value; `null` sends a tombstone (deletes the key in a compacted topic). Required: pass `null` explicitly. */
  value: V | null
  /** The key: records with equal keys go to the same partition (Java's murmur2 of the serialized key). Absent or `null`: no key. */
  key?: K | null
  /** The record's headers; see {@link RecordHeaders}. */
  headers?: RecordHeaders
  /** Explicit partition; otherwise the key's hash or the sticky partitioner decides. */
  partition?: number
  /** Milliseconds since the epoch; defaults to the time of `send()`. */
  timestamp?: number
}

/**
 * Where a record was written, as the broker acknowledged it (Java's
 * `RecordMetadata`): what `send()` resolves with or passes to its callback.
 */
export interface RecordMetadata {
  /** The record's topic. */
  topic: string
  /** The partition the record was written to; -1 in an interceptor's `onAcknowledgement` for an error before one was chosen. */
  partition: number
  /** The record's offset in its partition; -1n with `acks=0`, where the broker does not say. */
  offset: bigint
  /** The broker's log-append time when the topic uses it, else the record's timestamp. */
  timestamp: number
}

/**
 * The callback form of `send()`: called exactly once, with `(null, metadata)`
 * when the record was acknowledged or `(error, null)` when it failed.
 *
 * @example
 * ```ts
 * producer.send({ topic: 'events', value: 'hello' }, (err, md) => {
 *   if (err) console.error('not sent', err)
 *   else console.log(`written to ${md!.topic}-${md!.partition}@${md!.offset}`)
 * })
 * ```
 */
export type SendCallback = (err: Error | null, metadata: RecordMetadata | null) => void

/**
 * Options of one `send()`.
 *
 * @example
 * ```ts
 * const ac = new AbortController()
 * const sent = producer.send({ topic: 'events', value: 'v' }, { signal: ac.signal })
 * ac.abort() // rejects with an AbortError if the record still waits for metadata or buffer.memory
 * ```
 */
export interface SendOptions {
  /**
   * Cancels the send while it still waits in the producer (for topic
   * metadata, for buffer.memory, or behind sends that wait): it then fails
   * with an AbortError and is never sent. Once the record is in a batch the
   * signal has no effect: the batch decides its fate. Already aborted: the
   * send fails at once and nothing is sent.
   */
  signal?: AbortSignal
}

/** Header pairs as the record encoder takes them; `null` for no headers. */
export type { HeaderPairs }

const LEGAL_TOPIC = /^[a-zA-Z0-9._-]+$/
const MAX_TOPIC_LENGTH = 249

/** The last name that passed `validateTopicName`: a run of sends to one topic skips the regex. */
let lastValidTopic: string | null = null

/** Kafka's topic name rules (`Topic.validate`): 1..249 chars of [a-zA-Z0-9._-], not '.' or '..'. */
export function validateTopicName(topic: unknown): asserts topic is string {
  // Validity depends on the characters only, so an equal string is as valid (=== on strings compares them).
  if (lastValidTopic !== null && topic === lastValidTopic) return
  if (typeof topic !== 'string') throw new KafkaInvalidRecordError(`Record topic must be a string, got ${describe(topic)}`)
  if (topic.length === 0) throw new KafkaInvalidRecordError('Record topic is empty')
  if (topic === '.' || topic === '..') throw new KafkaInvalidRecordError(`Topic name '${topic}' is not allowed`)
  if (topic.length > MAX_TOPIC_LENGTH) {
    throw new KafkaInvalidRecordError(`Topic name is ${topic.length} characters; the limit is ${MAX_TOPIC_LENGTH}`)
  }
  if (!LEGAL_TOPIC.test(topic)) {
    throw new KafkaInvalidRecordError(`Topic name '${topic}' is illegal: only ASCII letters, digits, '.', '_' and '-' are allowed`)
  }
  lastValidTopic = topic
}

function describe(v: unknown): string {
  if (v === null) return 'null'
  if (v === undefined) return 'undefined'
  if (Array.isArray(v)) return 'an array'
  return typeof v === 'object' ? `an object (${(v as object).constructor?.name ?? 'Object'})` : `${typeof v} ${String(v)}`
}

function checkBytes(v: unknown, what: string): void {
  if (v !== null && typeof v !== 'string' && !Buffer.isBuffer(v)) {
    throw new KafkaInvalidRecordError(`Record ${what} must be a Buffer, a string or null, got ${describe(v)}`)
  }
}

/**
 * Checks a record's shape and returns its headers as pairs. Everything that can
 * be rejected without metadata is rejected here, before any memory is taken.
 */
export function validateRecord(record: ProducerRecord): HeaderPairs {
  if (record === null || typeof record !== 'object') throw new KafkaInvalidRecordError(`A record must be an object, got ${describe(record)}`)
  validateTopicName(record.topic)
  if (record.value === undefined) throw new KafkaInvalidRecordError('Record value is missing; pass null for a tombstone')
  checkBytes(record.value, 'value')
  if (record.key !== undefined) checkBytes(record.key, 'key')
  const p = record.partition
  if (p !== undefined && p !== null && (!Number.isInteger(p) || p < 0 || p > 2147483647)) {
    throw new KafkaInvalidRecordError(`Record partition must be a non-negative integer, got ${describe(p)}`)
  }
  const ts = record.timestamp
  if (ts !== undefined && ts !== null && (typeof ts !== 'number' || !Number.isFinite(ts) || !Number.isInteger(ts) || ts < 0)) {
    throw new KafkaInvalidRecordError(`Record timestamp must be a finite, non-negative integer of milliseconds, got ${describe(ts)}`)
  }
  return normalizeHeaders(record.headers)
}

function normalizeHeaders(headers: RecordHeaders | undefined): HeaderPairs {
  if (headers === undefined || headers === null) return null
  if (Array.isArray(headers)) {
    for (const pair of headers as ReadonlyArray<unknown>) {
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new KafkaInvalidRecordError(`Each header must be a [key, value] pair, got ${describe(pair)}`)
      }
      checkHeader(pair[0], pair[1])
    }
    return headers.length === 0 ? null : (headers as HeaderPairs)
  }
  // Only plain objects: a Map (or any class instance) has no own enumerable header entries and would
  // silently lose its headers.
  const proto: unknown = typeof headers === 'object' ? Object.getPrototypeOf(headers) : undefined
  if (typeof headers !== 'object' || (proto !== Object.prototype && proto !== null)) {
    throw new KafkaInvalidRecordError(`Record headers must be a plain object or an array of [key, value] pairs, got ${describe(headers)}`)
  }
  const pairs: [string, Bytes][] = []
  for (const k of Object.keys(headers)) {
    const v = (headers as Record<string, Bytes>)[k]
    checkHeader(k, v)
    pairs.push([k, v!])
  }
  return pairs.length === 0 ? null : pairs
}

function checkHeader(key: unknown, value: unknown): void {
  if (typeof key !== 'string') throw new KafkaInvalidRecordError(`Header key must be a string, got ${describe(key)}`)
  if (value !== null && typeof value !== 'string' && !Buffer.isBuffer(value)) {
    throw new KafkaInvalidRecordError(`Header '${key}' value must be a Buffer, a string or null, got ${describe(value)}`)
  }
}
