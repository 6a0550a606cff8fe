import { performance } from 'node:perf_hooks'
import {
  context,
  metrics,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type BatchObservableResult,
  type Context,
  type Histogram,
  type MeterProvider,
  type Span,
  type TextMapPropagator,
  type TextMapSetter,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api'
import type { SendTraceContext } from '../producer/kafka-producer.js'
import type { ProduceTraceContext } from '../producer/sender.js'
import { produceChannel, sendChannel } from '../util/diagnostics.js'

/**
 * OpenTelemetry for kafka-producer-ts, as the optional subpath
 * `kafka-producer-ts/opentelemetry`: a subscriber of the producer's
 * diagnostics channels (`kafka-producer-ts:send`, `kafka-producer-ts:produce`;
 * docs/observability.md) that turns their traces into spans and metric
 * measurements. It adds nothing to the send path: the producer only publishes,
 * and with this module disabled (or never imported) nothing subscribes.
 *
 * Its only dependency is `@opentelemetry/api` (an optional peer dependency);
 * the main entry never loads it. Providers come from the options or the
 * API's globals, so any SDK (or none: the API's no-op providers) works.
 *
 * Invariants:
 * - One span per `send()`, kind PRODUCER, started in the `start` event (inside
 *   the `send()` call, so its parent is the caller's active context) and ended
 *   exactly once: at `asyncEnd`, or at `end` for a send that threw
 *   synchronously (Node's tracePromise publishes no asyncEnd then).
 * - State for a send lives on the channel's context object under a symbol
 *   owned by one handle, so several handles (or other subscribers) never see
 *   each other's spans; a send already under way when the handle was enabled
 *   carries no state and is ignored at its end.
 * - `disable()` stops new spans and measurements at once; the spans already
 *   started still end, and in-flight requests are still taken back.
 */

/** The instrumentation scope name of the tracer and meter. */
export const INSTRUMENTATION_NAME = 'kafka-producer-ts'

/** The part of a `KafkaProducer` the observable gauges read (its `metrics()` snapshot). */
export interface MetricsSource {
  /** A snapshot with at least these keys of `ProducerMetricsSnapshot`; called only when the meter collects. */
  metrics(): {
    /** Memory the accumulator may still use, in bytes. */
    'buffer-available-bytes': number
    /** `buffer.memory`. */
    'buffer-total-bytes': number
    /** Sends waiting for memory or metadata. */
    'waiting-sends': number
  }
}

/** Options of {@link enableOpenTelemetry}; every one is optional (docs/observability.md). */
export interface OpenTelemetryOptions {
  /** Where spans go; default the API's global tracer provider (`trace.getTracerProvider()`). */
  tracerProvider?: TracerProvider
  /** Where measurements go; default the API's global meter provider (`metrics.getMeterProvider()`). */
  meterProvider?: MeterProvider
  /** A span per `send()` (default true). */
  traces?: boolean
  /** The metric instruments (default true). */
  metrics?: boolean
  /**
   * Only sends and requests of producers with this `clientId` (default: every
   * producer in the process, as the channels are process-wide).
   */
  clientId?: string
  /**
   * Write the send span's context into each record's headers (W3C
   * `traceparent` and `tracestate` with the default propagator), so a
   * consumer can continue the trace. Default false: headers cost bytes on
   * every record, and a record's headers are the application's.
   */
  injectTraceContext?: boolean
  /** The propagator for {@link injectTraceContext}; default the API's global one (`propagation`). */
  propagator?: TextMapPropagator
  /**
   * `messaging.kafka.message.key` on the span: `true` (default) records
   * string keys; `false` records none; a function renders any key (return
   * `undefined` to leave it out), e.g. for Buffer keys that are UTF-8 text.
   * Keys may be personal data: turn this off where they are.
   */
  captureKey?: boolean | ((key: unknown) => string | undefined)
  /**
   * A producer whose `metrics()` snapshot feeds the observable gauges of
   * buffer use and waiting sends (read only when the meter collects).
   * Pass `clientId` too to restrict the spans and the other instruments to it.
   */
  producer?: MetricsSource
}

/** What {@link enableOpenTelemetry} returns: the subscription, until `disable()`. */
export interface OpenTelemetryHandle {
  /** Unsubscribes from the channels and removes the observable callback; idempotent. */
  disable(): void
}

// Semantic conventions for messaging (Kafka page, v1.44): names as the specification writes them.
const ATTR_SYSTEM = 'messaging.system'
const ATTR_OPERATION_NAME = 'messaging.operation.name'
const ATTR_OPERATION_TYPE = 'messaging.operation.type'
const ATTR_DESTINATION = 'messaging.destination.name'
const ATTR_PARTITION = 'messaging.destination.partition.id'
const ATTR_CLIENT_ID = 'messaging.client.id'
const ATTR_KEY = 'messaging.kafka.message.key'
const ATTR_TOMBSTONE = 'messaging.kafka.message.tombstone'
const ATTR_OFFSET = 'messaging.kafka.offset'
const ATTR_ERROR_TYPE = 'error.type'
/** The broker id a Produce request went to (not in the conventions, which have no broker id). */
const ATTR_NODE_ID = 'kafka.node.id'

// The conventions' advice for messaging.client.operation.duration, in seconds.
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]
// Produce request sizes: 1 KiB to 16 MiB, in bytes.
const SIZE_BUCKETS = [1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216]

/** Writes a header into a send context's headers, in whichever form the record gave them. */
const headerSetter: TextMapSetter<SendTraceContext['headers']> = {
  set(carrier, key, value) {
    if (Array.isArray(carrier)) {
      // One value per propagation key: a record that already carried one (a forwarded message) gets ours instead.
      for (let i = carrier.length - 1; i >= 0; i--) if (carrier[i]![0] === key) carrier.splice(i, 1)
      carrier.push([key, value])
    } else if (carrier !== null && typeof carrier === 'object') {
      ;(carrier as Record<string, string>)[key] = value
    }
  },
}

/** `error.type`: Kafka's error name for a broker error (e.g. `INVALID_RECORD`), else the error's class name. */
function errorType(err: unknown): string {
  if (err !== null && typeof err === 'object') {
    const name = (err as { errorName?: unknown }).errorName
    if (typeof name === 'string' && name !== '') return name
    const cls = (err as { name?: unknown }).name
    if (typeof cls === 'string' && cls !== '') return cls
  }
  return '_OTHER'
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/**
 * Subscribes OpenTelemetry spans and metrics to the producer's diagnostics
 * channels, for every producer in the process (or those with `clientId`).
 * Returns a handle whose `disable()` stops it.
 */
export function enableOpenTelemetry(options: OpenTelemetryOptions = {}): OpenTelemetryHandle {
  const onlyClientId = options.clientId
  const withTraces = options.traces !== false
  const withMetrics = options.metrics !== false
  const inject = options.injectTraceContext === true
  const propagator: Pick<TextMapPropagator, 'inject'> = options.propagator ?? propagation
  const captureKey = options.captureKey ?? true
  const tracer: Tracer | null = withTraces ? (options.tracerProvider ?? trace.getTracerProvider()).getTracer(INSTRUMENTATION_NAME) : null
  const meter = withMetrics ? (options.meterProvider ?? metrics.getMeterProvider()).getMeter(INSTRUMENTATION_NAME) : null

  // Per-handle keys for the state kept on the channels' context objects.
  const SPAN = Symbol('otel.span')
  const STARTED = Symbol('otel.started')
  const NODE_ATTRS = Symbol('otel.node')

  const histogram = (name: string, description: string, unit: string, buckets: number[]): Histogram =>
    meter!.createHistogram(name, { description, unit, advice: { explicitBucketBoundaries: buckets } })
  const instruments =
    meter === null
      ? null
      : {
          sendDuration: histogram('messaging.client.operation.duration', 'Duration of send(): from the call to the acknowledgement or failure.', 's', DURATION_BUCKETS),
          sentMessages: meter.createCounter('messaging.client.sent.messages', {
            description: 'Records the producer attempted to send, counted at their completion; failures carry error.type.',
            unit: '{message}',
          }),
          requestDuration: histogram('kafka.producer.request.duration', 'Produce request latency: from the request to its response (or failure).', 's', DURATION_BUCKETS),
          requestSize: histogram('kafka.producer.request.size', 'Record-batch bytes per Produce request (the batches it carries, not the request on the wire).', 'By', SIZE_BUCKETS),
          throttleTime: histogram('kafka.producer.request.throttle_time', 'Throttle time the broker asked for in a Produce response (KIP-219).', 's', DURATION_BUCKETS),
          inFlight: meter.createUpDownCounter('kafka.producer.requests.in_flight', { description: 'Produce requests sent and not yet answered.', unit: '{request}' }),
        }

  /** The send attributes every send span and send measurement starts from; topic and partition when known. */
  function sendAttributes(clientId: string, topic: unknown, partition: unknown): Attributes {
    const a: Attributes = { [ATTR_SYSTEM]: 'kafka', [ATTR_OPERATION_NAME]: 'send', [ATTR_OPERATION_TYPE]: 'send', [ATTR_CLIENT_ID]: clientId }
    if (typeof topic === 'string') a[ATTR_DESTINATION] = topic
    if (typeof partition === 'number') a[ATTR_PARTITION] = String(partition)
    return a
  }
  // The success measurements' attribute sets, one per client, topic and partition: no object per record.
  const sendAttrs = new Map<string, Map<string, Attributes[]>>()
  function cachedSendAttributes(clientId: string, topic: string, partition: number): Attributes {
    let byTopic = sendAttrs.get(clientId)
    if (byTopic === undefined) sendAttrs.set(clientId, (byTopic = new Map()))
    let byPartition = byTopic.get(topic)
    if (byPartition === undefined) byTopic.set(topic, (byPartition = []))
    return (byPartition[partition] ??= sendAttributes(clientId, topic, partition))
  }
  const nodeAttrs = new Map<string, Attributes>()
  function nodeAttributes(clientId: string, nodeId: number): Attributes {
    const k = `${clientId}\0${nodeId}`
    let a = nodeAttrs.get(k)
    if (a === undefined) nodeAttrs.set(k, (a = { [ATTR_SYSTEM]: 'kafka', [ATTR_CLIENT_ID]: clientId, [ATTR_NODE_ID]: nodeId }))
    return a
  }

  function keyAttribute(key: unknown): string | undefined {
    if (key === null || key === undefined || captureKey === false) return undefined
    if (captureKey === true) return typeof key === 'string' ? key : undefined
    return captureKey(key)
  }

  type SendState = SendTraceContext & { [SPAN]?: Span | null; [STARTED]?: number }

  const onSendStart = (message: unknown): void => {
    const ctx = message as SendState
    if (onlyClientId !== undefined && ctx.clientId !== onlyClientId) return
    pending++
    if (instruments !== null) ctx[STARTED] = performance.now()
    if (tracer === null) {
      ctx[SPAN] = null
      return
    }
    const topic = typeof ctx.topic === 'string' ? ctx.topic : undefined
    // Known at creation, for samplers (the conventions ask for these at span start).
    const attributes = sendAttributes(ctx.clientId, topic, ctx.partition)
    const key = keyAttribute(ctx.key)
    if (key !== undefined) attributes[ATTR_KEY] = key
    if (ctx.value === null) attributes[ATTR_TOMBSTONE] = true
    // Inside send(): the active context is the caller's, so the span is its child.
    const parent: Context = context.active()
    const span = tracer.startSpan(topic !== undefined ? `send ${topic}` : 'send', { kind: SpanKind.PRODUCER, attributes }, parent)
    ctx[SPAN] = span
    // Sampled out or not, the span's context goes out, so the consumer follows the same sampling decision.
    if (inject) propagator.inject(trace.setSpan(parent, span), ctx.headers, headerSetter)
  }

  /** Ends a send's span and records its measurements, once. */
  const finishSend = (ctx: SendState): void => {
    const span = ctx[SPAN]
    if (span === undefined) return // not ours: another clientId, or begun before this handle existed
    ctx[SPAN] = undefined
    settled()
    const failed = ctx.error !== undefined
    const md = ctx.result
    if (span !== null) {
      if (failed) {
        span.setAttribute(ATTR_ERROR_TYPE, errorType(ctx.error))
        span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(ctx.error) })
      } else if (md !== undefined) {
        // One call (the SDK validates per call). An offset fits a double exactly up to 2^53; attributes have no bigint.
        if (md.offset >= 0n) span.setAttributes({ [ATTR_PARTITION]: String(md.partition), [ATTR_OFFSET]: Number(md.offset) })
        else span.setAttribute(ATTR_PARTITION, String(md.partition)) // acks=0: no offset
      }
      span.end()
    }
    const t0 = ctx[STARTED]
    if (t0 === undefined || instruments === null) return
    const seconds = (performance.now() - t0) / 1000
    let attrs: Attributes
    if (failed || md === undefined) {
      attrs = sendAttributes(ctx.clientId, ctx.topic, ctx.partition)
      attrs[ATTR_ERROR_TYPE] = errorType(ctx.error)
    } else {
      attrs = cachedSendAttributes(ctx.clientId, md.topic, md.partition)
    }
    instruments.sendDuration.record(seconds, attrs)
    instruments.sentMessages.add(1, attrs)
  }

  const onSendEnd = (message: unknown): void => {
    // A synchronous throw (tracePromise/traceCallback publish error, then end, and no asyncEnd).
    const ctx = message as SendState
    if (ctx.error !== undefined) finishSend(ctx)
  }
  const onSendAsyncEnd = (message: unknown): void => finishSend(message as SendState)

  // Produce traces are subscribed only with metrics on, so `instruments` is set in these two.
  type ProduceState = ProduceTraceContext & { [NODE_ATTRS]?: Attributes }
  const onProduceStart = (message: unknown): void => {
    const ctx = message as ProduceState
    if (onlyClientId !== undefined && ctx.clientId !== onlyClientId) return
    pending++
    const attrs = (ctx[NODE_ATTRS] = nodeAttributes(ctx.clientId, ctx.nodeId))
    instruments!.inFlight.add(1, attrs)
    instruments!.requestSize.record(ctx.bytes, attrs)
  }
  const onProduceAsyncEnd = (message: unknown): void => {
    const ctx = message as ProduceState
    const attrs = ctx[NODE_ATTRS]
    if (attrs === undefined) return // not ours, or begun before this handle existed
    ctx[NODE_ATTRS] = undefined
    settled()
    instruments!.inFlight.add(-1, attrs)
    // The sender's latency, on its clock, for both outcomes.
    // Clamped: the sender's clock is the wall clock, and a step back must not make a negative duration.
    const seconds = Math.max(0, ctx.latencyMs ?? 0) / 1000
    if (ctx.result !== undefined) {
      instruments!.requestDuration.record(seconds, attrs)
      instruments!.throttleTime.record(ctx.result.throttleTimeMs / 1000, attrs)
    } else {
      instruments!.requestDuration.record(seconds, { ...attrs, [ATTR_ERROR_TYPE]: errorType(ctx.error) })
    }
  }

  /**
   * Sends and requests started and not yet finished. After disable() the
   * completion events stay subscribed until it reaches 0, so every span
   * started ends and every in-flight increment is taken back.
   */
  let pending = 0
  let enabled = true
  function settled(): void {
    if (--pending === 0 && !enabled) unsubscribeCompletions()
  }
  function unsubscribeCompletions(): void {
    sendTc?.end.unsubscribe(onSendEnd)
    sendTc?.asyncEnd.unsubscribe(onSendAsyncEnd)
    produceTc?.asyncEnd.unsubscribe(onProduceAsyncEnd)
  }

  // The guarded channels: null where the runtime has no TracingChannel, and then nothing is recorded.
  const sendTc = withTraces || withMetrics ? sendChannel : null
  const produceTc = withMetrics ? produceChannel : null
  // Only the events used: start, the end of a synchronous throw, and asyncEnd.
  sendTc?.start.subscribe(onSendStart)
  sendTc?.end.subscribe(onSendEnd)
  sendTc?.asyncEnd.subscribe(onSendAsyncEnd)
  produceTc?.start.subscribe(onProduceStart)
  produceTc?.asyncEnd.subscribe(onProduceAsyncEnd)

  // Buffer use and waiting sends, read from the producer's snapshot when the meter collects.
  let removeObservers: (() => void) | null = null
  const source = options.producer
  if (meter !== null && source !== undefined) {
    const used = meter.createObservableGauge('kafka.producer.buffer.usage', { description: 'buffer.memory in use: buffer.memory minus buffer-available-bytes.', unit: 'By' })
    const limit = meter.createObservableGauge('kafka.producer.buffer.limit', { description: 'buffer.memory.', unit: 'By' })
    const waiting = meter.createObservableGauge('kafka.producer.sends.waiting', { description: 'Sends waiting for memory or metadata.', unit: '{send}' })
    const attrs: Attributes = { [ATTR_SYSTEM]: 'kafka' }
    if (onlyClientId !== undefined) attrs[ATTR_CLIENT_ID] = onlyClientId
    const observe = (result: BatchObservableResult): void => {
      const m = source.metrics()
      result.observe(used, m['buffer-total-bytes'] - m['buffer-available-bytes'], attrs)
      result.observe(limit, m['buffer-total-bytes'], attrs)
      result.observe(waiting, m['waiting-sends'], attrs)
    }
    meter.addBatchObservableCallback(observe, [used, limit, waiting])
    removeObservers = () => meter.removeBatchObservableCallback(observe, [used, limit, waiting])
  }

  return {
    disable(): void {
      if (!enabled) return
      enabled = false
      sendTc?.start.unsubscribe(onSendStart)
      produceTc?.start.unsubscribe(onProduceStart)
      if (pending === 0) unsubscribeCompletions()
      removeObservers?.()
    },
  }
}
