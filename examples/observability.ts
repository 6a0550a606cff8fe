/**
 * What is in flight, right now: the inspector's picture printed once a second
 * while records flow, and one OpenTelemetry span per send exported to the
 * console (the first few, so the output stays readable).
 *
 *   KAFKA_BROKERS=127.0.0.1:9092 TOPIC=demo RECORDS=20000 npx tsx examples/observability.ts
 *
 * Against a slow broker (high round-trip time) the picture shows requests in
 * flight growing older and batches queuing behind them. Needs the optional
 * peer dependency `@opentelemetry/api` and an SDK (`@opentelemetry/sdk-trace`).
 */
import { KafkaProducer } from 'kafka-producer-ts'
import { enableOpenTelemetry } from 'kafka-producer-ts/opentelemetry'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { ConsoleSpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace'

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',')
const topic = process.env.TOPIC ?? 'demo'
const total = Number(process.env.RECORDS ?? 20_000)
const SPANS_SHOWN = 3

// Spans go to the console exporter; only the first few are printed.
const consoleExporter = new ConsoleSpanExporter()
let shown = 0
const firstFew: SpanExporter = {
  export(spans: ReadableSpan[], done) {
    const take = spans.slice(0, Math.max(0, SPANS_SHOWN - shown))
    shown += take.length
    if (take.length === 0) return done({ code: 0 })
    consoleExporter.export(take, done)
  },
  shutdown: () => consoleExporter.shutdown(),
}
const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: firstFew })] })
// traceparent goes into each record's headers, for consumers to continue the trace.
const otel = enableOpenTelemetry({ tracerProvider, injectTraceContext: true, propagator: new W3CTraceContextPropagator() })

const producer = new KafkaProducer({ bootstrapServers: brokers, lingerMs: 5, maxInFlightRequestsPerConnection: 5 })

/** One compact line per broker and per busy partition of the inspector's picture. */
function printPicture(): void {
  const p = producer.inspect({ maxPartitions: 5 })
  for (const b of p.brokers) {
    const ages = b.inFlight.map((r) => `${r.api}#${r.correlationId} ${r.ageMs}ms ${r.records}rec`).join(', ')
    console.log(`  broker ${b.nodeId} ${b.state}: ${b.inFlight.length} in flight${ages ? ` [${ages}]` : ''}`)
  }
  for (const q of p.accumulator.partitions) {
    console.log(`  ${q.topic}-${q.partition}: ${q.batches} batch(es) queued, ${q.records} records, oldest ${q.oldestBatchAgeMs} ms${q.muted ? ', muted' : ''}`)
  }
  console.log(`  buffer pool: ${p.bufferPool.usedBytes} of ${p.bufferPool.totalBytes} bytes used; waiting sends ${p.waitingSends.sends}`)
}

let acked = 0
let failed = 0
const ticker = setInterval(() => {
  console.log(`[${new Date().toISOString()}] acked ${acked}/${total}`)
  printPicture()
}, 1000)

const value = Buffer.alloc(100, 'x')
for (let i = 0; i < total; i++) {
  producer.send({ topic, key: `k${i % 100}`, value }, (err) => (err ? failed++ : acked++))
}
await producer.flush()
clearInterval(ticker)
console.log('after flush:')
printPicture()
await producer.close()
otel.disable()
await tracerProvider.shutdown()
console.log(`done: ${acked} acknowledged, ${failed} failed, ${shown} span(s) printed`)
