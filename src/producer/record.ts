// Imported, not the global: Node's global `Buffer` is a lazy getter that runs on every use (bench/micro/FINDINGS.md).
import { Buffer } from 'node:buffer'
import { KafkaInvalidRecordError } from '../errors.js'
import type { HeaderPairs } from '../protocol/record-batch.js'

export type Bytes = Buffer | string

/** Headers as an object, or as `[key, value]` pairs when a key repeats. */
export type RecordHeaders = Record<string, Bytes> | ReadonlyArray<readonly [string, Bytes]>

/**
 * A record to send. `K` and `V` are the key and value types: Bytes (a Buffer
 * or a string, sent as UTF-8) unless the producer has serializers for them.
 */
export interface ProducerRecord<K = Bytes, V = Bytes> {
  topic: string
  value: V | null
  key?: K | null
  headers?: RecordHeaders
  /** Explicit partition; otherwise the key's hash or the sticky partitioner decides. */
  partition?: number
  /** Milliseconds since the epoch; defaults to the time of `send()`. */
  timestamp?: number
}

export interface RecordMetadata {
  topic: string
  partition: number
  /** The record's offset in its partition; -1n with `acks=0`, where the broker does not say. */
  offset: bigint
  /** The broker's log-append time when the topic uses it, else the record's timestamp. */
  timestamp: number
}

export type SendCallback = (err: Error | null, metadata: RecordMetadata | null) => void

/** Options of one `send()`. */
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
