import { Writable } from 'node:stream'
import { createAbortError } from '../errors.js'
import type { ProducerRecord, SendCallback, SendOptions } from './record.js'

/** A record written to a stream or given to sendAll: the topic may come from the options. */
export type StreamRecord<K, V> = Omit<ProducerRecord<K, V>, 'topic'> & {
  /** The record's topic; default: the `topic` of the stream's or sendAll's options. */
  topic?: string
}

/** What the streams need from the producer: created once per producer (KafkaProducer.port). */
export interface StreamProducer<K, V> {
  send(record: ProducerRecord<K, V>, options: SendOptions, callback: SendCallback): void
  /**
   * Null when no send waits in the producer (the last send was appended to a
   * batch, or failed); else a promise that resolves once the sends waiting
   * now, the last one included, have left the queue (appended or failed):
   * WaitingSends.whenEarlierSendsSettle.
   */
  whenWaitingSendsSettle(): Promise<void> | null
}

/** Options of {@link KafkaProducer.createWriteStream}. */
export interface WriteStreamOptions {
  /** The topic of records written without one. */
  topic?: string
  /** How many records the stream buffers before `write()` returns false (Writable's highWaterMark, object mode). Default: 16. */
  highWaterMark?: number
  /** Destroys the stream when it aborts (Writable's `signal`), which cancels its records still waiting in the producer. */
  signal?: AbortSignal
}

/** Options of {@link KafkaProducer.sendAll}. */
export interface SendAllOptions {
  /** The topic of records given without one. */
  topic?: string
  /**
   * Stops reading the source, cancels the records still waiting in the
   * producer, waits for those already in batches, and rejects with an AbortError.
   */
  signal?: AbortSignal
}

/**
 * Gives records without a topic the default one, in one reused object: a
 * send copies what it keeps (the record may be reused once send() returns),
 * so no object is allocated per record.
 */
class TopicFiller<K, V> {
  private readonly scratch: ProducerRecord<K, V>
  constructor(private readonly topic: string | null) {
    this.scratch = { topic: topic ?? '', value: null, key: undefined, headers: undefined, partition: undefined, timestamp: undefined }
  }

  fill(r: StreamRecord<K, V>): ProducerRecord<K, V> {
    if (this.topic === null || r === null || typeof r !== 'object' || r.topic !== undefined) return r as ProducerRecord<K, V>
    const s = this.scratch
    s.value = r.value
    s.key = r.key
    s.headers = r.headers
    s.partition = r.partition
    s.timestamp = r.timestamp
    return s
  }
}

/**
 * An object-mode Writable over a producer, made by
 * {@link KafkaProducer.createWriteStream}: each {@link StreamRecord} written
 * is sent; the stream finishes once every record is acknowledged, and is
 * destroyed with the error of the first record that fails.
 *
 * Backpressure: a write is done (its callback called) as soon as its record
 * is appended to a batch; while the record has to wait in the producer
 * (buffer.memory full, topic metadata unknown, or earlier sends waiting) the
 * write stays pending, so the Writable buffers what follows and `write()`
 * returns false at `highWaterMark` records, until the waiting sends have
 * left the queue and 'drain' is emitted. Memory is therefore bounded by
 * buffer.memory, one waiting record and `highWaterMark` buffered records,
 * with no counting by the application.
 *
 * Invariants:
 * - `pending` counts records sent and not yet completed; 'finish' waits until
 *   it is 0 (every record acknowledged), so a finished stream lost nothing.
 * - The first record that fails destroys the stream with its error; records
 *   already in batches still complete, later outcomes are not reported.
 * - Destroying the stream (error, `destroy()`, `signal`) aborts the stream's
 *   own AbortSignal, which every send carries: its records still waiting in
 *   the producer fail with an AbortError and are never sent; those in batches
 *   are the batches' (docs/sending.md, Cancellation).
 *
 * @example
 * ```ts
 * const out = producer.createWriteStream({ topic: 'events' })
 * for (const value of values) {
 *   if (!out.write({ value })) await once(out, 'drain') // buffer.memory is full: wait for room
 * }
 * out.end()
 * await finished(out) // every record acknowledged (node:stream/promises)
 * console.log(out.acknowledged)
 * ```
 *
 * @privateRemarks
 * - One completion callback for all its records (no closure per record), so
 *   consecutive records share completion runs in their batch.
 */
export class ProducerWriteStream<K, V> extends Writable {
  private readonly controller = new AbortController()
  private readonly sendOptions: SendOptions = { signal: this.controller.signal }
  private readonly records: TopicFiller<K, V>
  private pending = 0
  private acked = 0
  private failure: Error | null = null
  private finalCallback: ((err?: Error | null) => void) | null = null
  private readonly onDelivery: SendCallback = (err) => {
    this.pending--
    if (err === null) this.acked++
    else if (this.failure === null && !this.destroyed) {
      this.failure = err
      this.destroy(err)
    }
    if (this.pending === 0 && this.finalCallback !== null) {
      const cb = this.finalCallback
      this.finalCallback = null
      cb(this.failure)
    }
  }

  /** @internal Made by KafkaProducer.createWriteStream, over the producer's stream port. */
  constructor(
    private readonly producer: StreamProducer<K, V>,
    options: WriteStreamOptions,
  ) {
    super({ objectMode: true, highWaterMark: options.highWaterMark ?? 16, ...(options.signal !== undefined ? { signal: options.signal } : {}) })
    this.records = new TopicFiller(options.topic ?? null)
  }

  /** Records acknowledged by the broker so far. */
  get acknowledged(): number {
    return this.acked
  }

  /** Records sent and not yet completed. */
  get inFlight(): number {
    return this.pending
  }

  /** @internal Writable's hook: sends one record. */
  override _write(chunk: StreamRecord<K, V>, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.pending++
    this.producer.send(this.records.fill(chunk), this.sendOptions, this.onDelivery)
    const waiting = this.producer.whenWaitingSendsSettle()
    if (waiting === null) callback()
    else void waiting.then(() => callback())
  }

  /** @internal Writable's hook: finishes once every record sent has completed. */
  override _final(callback: (err?: Error | null) => void): void {
    if (this.pending === 0) callback(this.failure)
    else this.finalCallback = callback
  }

  /** @internal Writable's hook: cancels the stream's records still waiting in the producer. */
  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.controller.abort(err ?? undefined)
    callback(err)
  }
}

/** How many records of a synchronous source sendAll sends before it lets the event loop run (I/O, timers). */
const SYNC_YIELD_EVERY = 4096

function isAsyncIterable<T>(v: Iterable<T> | AsyncIterable<T>): v is AsyncIterable<T> {
  return v !== null && typeof v === 'object' && typeof (v as AsyncIterable<T>)[Symbol.asyncIterator] === 'function'
}

/** KafkaProducer.sendAll: the same backpressure as the stream, as a loop over the source. */
export async function sendAll<K, V>(
  producer: StreamProducer<K, V>,
  source: Iterable<StreamRecord<K, V>> | AsyncIterable<StreamRecord<K, V>>,
  options: SendAllOptions,
): Promise<number> {
  const outer = options.signal ?? null
  if (outer !== null && outer.aborted) throw createAbortError(outer)
  // Carried by every send: aborted on the first failure or by `outer`, to cancel the records still waiting.
  const controller = new AbortController()
  const sendOptions: SendOptions = { signal: controller.signal }
  const onOuterAbort = (): void => controller.abort(outer!.reason)
  outer?.addEventListener('abort', onOuterAbort, { once: true })
  const records = new TopicFiller<K, V>(options.topic ?? null)
  let pending = 0
  let sent = 0
  let failure: Error | null = null
  let whenIdle: (() => void) | null = null
  const onDelivery: SendCallback = (err) => {
    pending--
    if (err !== null && failure === null && !controller.signal.aborted) {
      failure = err
      controller.abort(err)
    }
    if (pending === 0 && whenIdle !== null) whenIdle()
  }
  /** Sends one record; a promise to await when it has to wait in the producer, else null. */
  const offer = (item: StreamRecord<K, V>): Promise<void> | null => {
    pending++
    sent++
    producer.send(records.fill(item), sendOptions, onDelivery)
    return producer.whenWaitingSendsSettle()
  }
  try {
    if (isAsyncIterable(source)) {
      for await (const item of source) {
        if (controller.signal.aborted) break
        const waiting = offer(item)
        if (waiting !== null) await waiting
      }
    } else {
      // A synchronous source is read synchronously (no promise per record, as Readable.from does), yielding
      // to the event loop when the producer is full, and at least every SYNC_YIELD_EVERY records.
      let run = 0
      for (const item of source) {
        if (controller.signal.aborted) break
        const waiting = offer(item)
        if (waiting !== null) {
          run = 0
          await waiting
        } else if (++run === SYNC_YIELD_EVERY) {
          run = 0
          await new Promise<void>((resolve) => setImmediate(resolve))
        }
      }
    }
    if (pending > 0) await new Promise<void>((resolve) => (whenIdle = resolve))
  } catch (err) {
    // The source threw: its records still waiting in the producer are cancelled too.
    controller.abort(err)
    throw err
  } finally {
    outer?.removeEventListener('abort', onOuterAbort)
  }
  if (failure !== null) throw failure
  if (outer !== null && outer.aborted) throw createAbortError(outer)
  return sent
}
