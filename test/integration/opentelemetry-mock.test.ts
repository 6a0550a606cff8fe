/**
 * kafka-producer-ts/opentelemetry against librdkafka's mock cluster (3
 * brokers), with the real OpenTelemetry SDK and its in-memory exporters:
 * spans per send with the messaging conventions' attributes (topic,
 * partition, offset equal to the RecordMetadata), error spans, W3C trace
 * context in the record headers as kcat reads them back, and the metric
 * instruments' values as a MetricReader collects them.
 */
import { context, SpanKind, SpanStatusCode } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { type DataPoint, type Histogram, MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics'
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KafkaProducer, type RecordMetadata } from '../../src/index.js'
import { enableOpenTelemetry } from '../../src/opentelemetry/index.js'
import { consumeWithKcat } from '../harness/consume.js'
import { type MockCluster, startMockCluster } from '../harness/mock.js'

let mock: MockCluster
const contextManager = new AsyncLocalStorageContextManager()

beforeAll(async () => {
  // Spans follow the caller's async context, as with the Node SDK.
  context.setGlobalContextManager(contextManager.enable())
  mock = await startMockCluster({ brokers: 3 })
  await mock.createTopic('otel', 3, 1)
  await mock.createTopic('otel-fail', 1, 1)
  await mock.createTopic('otel-inject', 1, 1)
  await mock.createTopic('otel-metrics', 2, 1)
}, 60_000)

afterAll(async () => {
  await mock?.stop()
  context.disable()
})

function tracing(): { provider: TracerProvider; exporter: InMemorySpanExporter } {
  const exporter = new InMemorySpanExporter()
  return { provider: new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }), exporter }
}

/** A pull reader: collect() on demand, nothing exported anywhere. */
class PullReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

async function collect(reader: PullReader): Promise<Map<string, MetricData>> {
  const { resourceMetrics, errors } = await reader.collect()
  expect(errors).toEqual([])
  const out = new Map<string, MetricData>()
  for (const sm of resourceMetrics.scopeMetrics) for (const m of sm.metrics) out.set(m.descriptor.name, m)
  return out
}

const sendSpans = (exporter: InMemorySpanExporter): ReadableSpan[] => exporter.getFinishedSpans().filter((s) => s.name.startsWith('send'))

describe('spans', () => {
  it('one PRODUCER span per send, child of the active span, with the conventional attributes and the RecordMetadata', async () => {
    const { provider, exporter } = tracing()
    const otel = enableOpenTelemetry({ tracerProvider: provider, metrics: false, clientId: 'otel-spans' })
    const producer = new KafkaProducer({ bootstrapServers: mock.bootstrap, clientId: 'otel-spans', lingerMs: 5 })
    // Another producer in the process: filtered out by clientId.
    const other = new KafkaProducer({ bootstrapServers: mock.bootstrap, clientId: 'someone-else' })
    const tracer = provider.getTracer('app')
    let parentTrace = ''
    let parentSpan = ''
    let mds: RecordMetadata[] = []
    try {
      await tracer.startActiveSpan('handle-request', async (parent) => {
        parentTrace = parent.spanContext().traceId
        parentSpan = parent.spanContext().spanId
        mds = await Promise.all([
          producer.send({ topic: 'otel', key: 'user-1', value: 'a', partition: 1 }),
          producer.send({ topic: 'otel', key: Buffer.from('bin'), value: 'b', partition: 2 }),
          producer.send({ topic: 'otel', key: 'user-1', value: null, partition: 1 }),
        ])
        parent.end()
      })
      // The callback form, outside any span: a root span.
      await new Promise<void>((resolve, reject) => producer.send({ topic: 'otel', value: 'cb', partition: 0 }, (e) => (e ? reject(e) : resolve())))
      await other.send({ topic: 'otel', value: 'not traced', partition: 0 })
    } finally {
      otel.disable()
      await Promise.all([producer.close(), other.close()])
    }
    const spans = sendSpans(exporter)
    expect(spans).toHaveLength(4)
    for (let i = 0; i < 3; i++) {
      const s = spans.find((x) => x.attributes['messaging.kafka.offset'] === Number(mds[i]!.offset) && x.attributes['messaging.destination.partition.id'] === String(mds[i]!.partition))!
      expect(s, `span of send ${i}`).toBeDefined()
      expect(s.name).toBe('send otel')
      expect(s.kind).toBe(SpanKind.PRODUCER)
      expect(s.status.code).toBe(SpanStatusCode.UNSET)
      expect(s.spanContext().traceId).toBe(parentTrace)
      expect(s.parentSpanContext?.spanId).toBe(parentSpan)
      expect(s.instrumentationScope.name).toBe('kafka-producer-ts')
      expect(s.attributes).toMatchObject({
        'messaging.system': 'kafka',
        'messaging.operation.name': 'send',
        'messaging.operation.type': 'send',
        'messaging.destination.name': 'otel',
        'messaging.destination.partition.id': String(mds[i]!.partition),
        'messaging.kafka.offset': Number(mds[i]!.offset),
        'messaging.client.id': 'otel-spans',
      })
    }
    const byValue = (partition: string, tombstone: boolean) =>
      spans.filter((s) => s.attributes['messaging.destination.partition.id'] === partition && (s.attributes['messaging.kafka.message.tombstone'] === true) === tombstone)
    // A string key is recorded; a Buffer key is not (captureKey default); a null value is a tombstone.
    expect(byValue('1', false)[0]!.attributes['messaging.kafka.message.key']).toBe('user-1')
    expect(byValue('1', true)[0]!.attributes['messaging.kafka.message.key']).toBe('user-1')
    expect(byValue('2', false)[0]!.attributes).not.toHaveProperty('messaging.kafka.message.key')
    const cb = byValue('0', false)
    expect(cb).toHaveLength(1)
    expect(cb[0]!.parentSpanContext).toBeUndefined()
    expect(mds.map((m) => m.offset >= 0n)).toEqual([true, true, true])
  }, 60_000)

  it('a failed send ends its span with ERROR status and error.type: broker-refused, rejected before sending, and thrown synchronously', async () => {
    const { provider, exporter } = tracing()
    const otel = enableOpenTelemetry({ tracerProvider: provider, metrics: false, clientId: 'otel-fail' })
    const producer = new KafkaProducer({ bootstrapServers: mock.bootstrap, clientId: 'otel-fail', retries: 0, enableIdempotence: false })
    try {
      await producer.send({ topic: 'otel-fail', value: 'warm' })
      await mock.command('push_errors Produce INVALID_RECORD')
      await expect(producer.send({ topic: 'otel-fail', value: 'refused' })).rejects.toThrow(/INVALID_RECORD|invalid/i)
      await expect(producer.send({ topic: 'bad topic!', value: 'x' })).rejects.toThrow(/illegal/)
      // A mistake in the arguments throws inside send(): Node's tracePromise publishes no asyncEnd then.
      expect(() => producer.send({ topic: 'otel-fail', value: 'x' }, 42 as never)).toThrow(/second argument/)
    } finally {
      await mock.command('clear_errors')
      otel.disable()
      await producer.close()
    }
    const spans = sendSpans(exporter)
    expect(spans).toHaveLength(4)
    const [ok, refused, invalid, thrown] = spans
    expect(ok!.status.code).toBe(SpanStatusCode.UNSET)
    expect(refused!.name).toBe('send otel-fail')
    expect(refused!.status).toMatchObject({ code: SpanStatusCode.ERROR })
    expect(refused!.attributes['error.type']).toBe('INVALID_RECORD')
    expect(refused!.attributes).not.toHaveProperty('messaging.kafka.offset')
    expect(invalid!.name).toBe('send bad topic!')
    expect(invalid!.status.code).toBe(SpanStatusCode.ERROR)
    expect(invalid!.attributes['error.type']).toBe('KafkaInvalidRecordError')
    expect(thrown!.status.code).toBe(SpanStatusCode.ERROR)
    expect(thrown!.attributes['error.type']).toBe('KafkaInvalidRecordError')
    expect(thrown!.status.message).toMatch(/second argument/)
  }, 60_000)

  it('injectTraceContext writes a W3C traceparent into the record headers that kcat reads back with the span trace id', async () => {
    const { provider, exporter } = tracing()
    const otel = enableOpenTelemetry({ tracerProvider: provider, metrics: false, clientId: 'otel-inject', injectTraceContext: true, propagator: new W3CTraceContextPropagator() })
    const producer = new KafkaProducer({ bootstrapServers: mock.bootstrap, clientId: 'otel-inject' })
    const own = { app: 'x' }
    const ownArray: [string, string][] = [['traceparent', `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`]]
    try {
      await producer.send({ topic: 'otel-inject', value: 'object headers', headers: own })
      // A record that already carried a traceparent (a forwarded message) gets the send span's instead.
      await producer.send({ topic: 'otel-inject', value: 'array headers', headers: ownArray })
      await producer.send({ topic: 'otel-inject', value: 'no headers' })
    } finally {
      otel.disable()
      await producer.close()
    }
    // The application's header objects are left as they were.
    expect(own).toEqual({ app: 'x' })
    expect(ownArray).toHaveLength(1)
    const spans = sendSpans(exporter)
    expect(spans).toHaveLength(3)
    const read = await consumeWithKcat(mock.bootstrap, 'otel-inject', { partition: 0 })
    expect(read).toHaveLength(3)
    for (let i = 0; i < 3; i++) {
      const headers = read[i]!.headers.map(([k, v]) => [k, v.toString()] as const)
      const tps = headers.filter(([k]) => k === 'traceparent')
      expect(tps, `record ${i}`).toHaveLength(1)
      const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0([01])$/.exec(tps[0]![1])
      expect(m, tps[0]![1]).not.toBeNull()
      const span = spans.find((s) => s.attributes['messaging.kafka.offset'] === Number(read[i]!.offset))!
      expect(m![1]).toBe(span.spanContext().traceId)
      expect(m![2]).toBe(span.spanContext().spanId)
      expect(m![3]).toBe('1') // sampled
    }
    expect(read[0]!.headers.map(([k]) => k)).toEqual(['app', 'traceparent'])
  }, 60_000)
})

describe('metrics', () => {
  it('counts sends, times them and the Produce requests, and reads buffer use from the producer', async () => {
    const reader = new PullReader()
    const meterProvider = new MeterProvider({ readers: [reader] })
    const producer = new KafkaProducer({ bootstrapServers: mock.bootstrap, clientId: 'otel-metrics', lingerMs: 10, retries: 0, enableIdempotence: false, bufferMemory: 4 * 1024 * 1024 })
    const otel = enableOpenTelemetry({ meterProvider, traces: false, clientId: 'otel-metrics', producer })
    try {
      await Promise.all(Array.from({ length: 20 }, (_, i) => producer.send({ topic: 'otel-metrics', value: `v${i}`, partition: i % 2 })))
      await mock.command('push_errors Produce INVALID_RECORD')
      await expect(producer.send({ topic: 'otel-metrics', value: 'refused', partition: 0 })).rejects.toThrow()
      await mock.command('clear_errors')
      const metrics = await collect(reader)
      const sent = metrics.get('messaging.client.sent.messages')!
      expect(sent.descriptor.unit).toBe('{message}')
      const points = sent.dataPoints as DataPoint<number>[]
      const ok = points.filter((p) => p.attributes['error.type'] === undefined)
      expect(ok.map((p) => [p.attributes['messaging.destination.partition.id'], p.value]).sort()).toEqual([
        ['0', 10],
        ['1', 10],
      ])
      for (const p of ok) expect(p.attributes).toMatchObject({ 'messaging.system': 'kafka', 'messaging.operation.name': 'send', 'messaging.destination.name': 'otel-metrics' })
      const failed = points.filter((p) => p.attributes['error.type'] !== undefined)
      expect(failed.map((p) => [p.attributes['error.type'], p.value])).toEqual([['INVALID_RECORD', 1]])

      const duration = metrics.get('messaging.client.operation.duration')!
      expect(duration.descriptor.unit).toBe('s')
      const durations = duration.dataPoints as DataPoint<Histogram>[]
      expect(durations.reduce((n, p) => n + p.value.count, 0)).toBe(21)
      for (const p of durations) expect(p.value.min!).toBeGreaterThan(0)

      const requests = (metrics.get('kafka.producer.request.duration')!.dataPoints as DataPoint<Histogram>[])
      const requestCount = requests.reduce((n, p) => n + p.value.count, 0)
      expect(requestCount).toBeGreaterThanOrEqual(2) // the 20 records (one request per leader), then the refused one
      for (const p of requests) expect(p.attributes['kafka.node.id']).toBeGreaterThanOrEqual(1)
      const sizes = metrics.get('kafka.producer.request.size')!.dataPoints as DataPoint<Histogram>[]
      expect(sizes.reduce((n, p) => n + p.value.count, 0)).toBe(requestCount)
      expect(Math.min(...sizes.map((p) => p.value.min!))).toBeGreaterThan(61) // a record batch header is 61 bytes
      // Every request answered: back to zero in flight on every node.
      const inFlight = metrics.get('kafka.producer.requests.in_flight')!.dataPoints as DataPoint<number>[]
      expect(inFlight.length).toBeGreaterThanOrEqual(1)
      for (const p of inFlight) expect(p.value).toBe(0)
      const throttle = metrics.get('kafka.producer.request.throttle_time')!.dataPoints as DataPoint<Histogram>[]
      for (const p of throttle) expect(p.value.max).toBe(0)

      const gauge = (name: string): number => (metrics.get(name)!.dataPoints as DataPoint<number>[])[0]!.value
      expect(gauge('kafka.producer.buffer.limit')).toBe(4 * 1024 * 1024)
      expect(gauge('kafka.producer.buffer.usage')).toBe(4 * 1024 * 1024 - producer.metrics()['buffer-available-bytes'])
      expect(gauge('kafka.producer.sends.waiting')).toBe(0)
    } finally {
      otel.disable()
      await producer.close()
      await meterProvider.shutdown()
    }
  }, 60_000)

  it('shows requests in flight while the broker is slow (500 ms RTT), and disable() stops new measurements but lets started ones finish', async () => {
    const reader = new PullReader()
    const meterProvider = new MeterProvider({ readers: [reader] })
    const { provider, exporter } = tracing()
    const producer = new KafkaProducer({ bootstrapServers: mock.bootstrap, clientId: 'otel-slow', lingerMs: 0 })
    await producer.send({ topic: 'otel-metrics', value: 'warm', partition: 0 })
    const otel = enableOpenTelemetry({ meterProvider, tracerProvider: provider, clientId: 'otel-slow' })
    await mock.command('rtt -1 500')
    try {
      const sends = [producer.send({ topic: 'otel-metrics', value: 's0', partition: 0 }), producer.send({ topic: 'otel-metrics', value: 's1', partition: 1 })]
      await new Promise((r) => setTimeout(r, 150))
      const during = await collect(reader)
      const inFlight = during.get('kafka.producer.requests.in_flight')!.dataPoints as DataPoint<number>[]
      expect(inFlight.reduce((n, p) => n + p.value, 0)).toBeGreaterThanOrEqual(1)
      // Disabled while the two sends are in flight: their spans still end, their requests are taken back.
      otel.disable()
      await producer.send({ topic: 'otel-metrics', value: 'after', partition: 0 })
      await Promise.all(sends)
    } finally {
      await mock.command('rtt -1 0')
      await producer.close()
    }
    const after = await collect(reader)
    for (const p of after.get('kafka.producer.requests.in_flight')!.dataPoints as DataPoint<number>[]) expect(p.value).toBe(0)
    expect(sendSpans(exporter)).toHaveLength(2)
    const sent = after.get('messaging.client.sent.messages')!.dataPoints as DataPoint<number>[]
    expect(sent.reduce((n, p) => n + p.value, 0)).toBe(2)
    await meterProvider.shutdown()
  }, 60_000)
})

describe('no subscriber', () => {
  it('with the API but no SDK (no-op providers) sends work and no trace context reaches the record', async () => {
    // A real W3C propagator, so that only the missing (no-op, invalid) span keeps traceparent out of the headers.
    const otel = enableOpenTelemetry({ clientId: 'otel-noop', injectTraceContext: true, propagator: new W3CTraceContextPropagator() })
    const producer = new KafkaProducer({ bootstrapServers: mock.bootstrap, clientId: 'otel-noop' })
    let md: RecordMetadata
    try {
      md = await producer.send({ topic: 'otel', value: 'noop', partition: 0, headers: { app: 'x' } })
    } finally {
      otel.disable()
      await producer.close()
    }
    const read = (await consumeWithKcat(mock.bootstrap, 'otel', { partition: 0 })).find((r) => r.offset === md.offset)!
    expect(read.value?.toString()).toBe('noop')
    expect(read.headers.map(([k]) => k)).toEqual(['app'])
  }, 60_000)
})
