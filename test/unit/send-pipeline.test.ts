/**
 * Serializers, interceptors and the SendPipeline that runs them before a
 * send reaches the producer's own path (no broker: the pipeline's `next` is
 * a fake that records what it was given).
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { KafkaSerializationError } from '../../src/errors.js'
import { type ProducerInterceptor, ProducerInterceptors } from '../../src/producer/interceptors.js'
import type { RecordCompletion, RecordReject } from '../../src/producer/producer-batch.js'
import type { ProducerRecord, RecordMetadata, SendCallback } from '../../src/producer/record.js'
import { RecordSerializer, serializers } from '../../src/producer/serializers.js'
import { SendPipeline } from '../../src/producer/send-pipeline.js'
import { ProducerMetrics } from '../../src/producer/metrics.js'
import { LogSink } from '../../src/util/logger.js'

afterEach(() => {
  vi.restoreAllMocks()
})

describe('serializers', () => {
  it('string passes strings, rejects anything else', () => {
    expect(serializers.string('héllo', 't', undefined)).toBe('héllo')
    expect(() => serializers.string(42 as unknown as string, 't', undefined)).toThrow(TypeError)
  })

  it('json stringifies, and rejects what JSON cannot represent', () => {
    expect(serializers.json({ a: 1, b: [true, null] }, 't', undefined)).toBe('{"a":1,"b":[true,null]}')
    expect(serializers.json('x', 't', undefined)).toBe('"x"')
    expect(() => serializers.json(undefined, 't', undefined)).toThrow(TypeError)
    expect(() => serializers.json(10n, 't', undefined)).toThrow(TypeError)
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(() => serializers.json(cyclic, 't', undefined)).toThrow(TypeError)
  })

  it('bytes passes Buffers and views Uint8Arrays without copying', () => {
    const b = Buffer.from('abc')
    expect(serializers.bytes(b, 't', undefined)).toBe(b)
    const u = new Uint8Array([1, 2, 3, 4]).subarray(1, 3)
    const out = serializers.bytes(u, 't', undefined) as Buffer
    expect(Buffer.isBuffer(out)).toBe(true)
    expect([...out]).toEqual([2, 3])
    u[0] = 9
    expect(out[0]).toBe(9) // a view
    expect(() => serializers.bytes('s' as unknown as Uint8Array, 't', undefined)).toThrow(TypeError)
  })
})

describe('RecordSerializer', () => {
  it('serializes key then value into a new record, copying the other fields and leaving the input alone', () => {
    const calls: string[] = []
    const s = new RecordSerializer<number, { n: number }>(
      (k, topic, headers) => {
        calls.push(`key ${k} ${topic} ${JSON.stringify(headers)}`)
        return Buffer.from([k])
      },
      (v, topic) => {
        calls.push(`value ${v.n} ${topic}`)
        return JSON.stringify(v)
      },
    )
    const input: ProducerRecord<number, { n: number }> = { topic: 't', key: 7, value: { n: 1 }, headers: { h: 'x' }, partition: 2, timestamp: 5 }
    const out = s.serialize(input)
    expect(calls).toEqual(['key 7 t {"h":"x"}', 'value 1 t'])
    expect(out).toEqual({ topic: 't', key: Buffer.from([7]), value: '{"n":1}', headers: { h: 'x' }, partition: 2, timestamp: 5 })
    expect(input.key).toBe(7)
    expect(input.value).toEqual({ n: 1 })
  })

  it('never passes a null or absent key, or a null value, to a serializer', () => {
    const key = vi.fn(() => 'k')
    const value = vi.fn(() => 'v')
    const s = new RecordSerializer<string, string>(key, value)
    expect(s.serialize({ topic: 't', value: null })).toEqual({ topic: 't', key: undefined, value: null })
    expect(s.serialize({ topic: 't', key: null, value: null })).toEqual({ topic: 't', key: null, value: null })
    expect(key).not.toHaveBeenCalled()
    expect(value).not.toHaveBeenCalled()
  })

  it('wraps a throw, or a result that is not Bytes, in a KafkaSerializationError naming topic and side', () => {
    const boom = new Error('boom')
    const s = new RecordSerializer<string, string>(
      () => {
        throw boom
      },
      () => 5 as unknown as string,
    )
    let err = catchError(() => s.serialize({ topic: 'orders', key: 'k', value: 'v' }))
    expect(err).toBeInstanceOf(KafkaSerializationError)
    expect(err).toMatchObject({ code: 'SERIALIZATION', topic: 'orders', isKey: true, cause: boom })
    expect(err.message).toMatch(/key of a record for topic 'orders': boom/)
    err = catchError(() => s.serialize({ topic: 'orders', value: 'v' }))
    expect(err).toMatchObject({ isKey: false })
    expect(err.message).toMatch(/value serializer returned a number/)
  })
})

describe('ProducerInterceptors', () => {
  it('chains onSend in order; a throwing or non-record-returning interceptor is skipped with a warning', () => {
    const { log, warnings } = capturedLog()
    const ics = new ProducerInterceptors<string, string>([
      { onSend: (r) => ({ ...r, value: `${r.value}+a` }) },
      {
        onSend: () => {
          throw new Error('bad b')
        },
      },
      { onSend: () => undefined as unknown as ProducerRecord<string, string> },
      { onAcknowledgement: () => {} }, // no onSend: skipped silently
      { onSend: (r) => ({ ...r, value: `${r.value}+e` }) },
    ], log)
    const r = ics.onSend({ topic: 't', value: 'v' })
    expect(r.value).toBe('v+a+e')
    expect(warnings).toHaveLength(2)
    expect(warnings[0]).toMatch(/interceptor 1 threw in onSend, skipped: Error: bad b/)
    expect(warnings[1]).toMatch(/interceptor 2 threw in onSend.*returned undefined/)
  })

  it('onAcknowledgement reaches every interceptor even when one throws; close likewise', () => {
    const { log, warnings } = capturedLog()
    const seen: string[] = []
    const ics = new ProducerInterceptors([
      {
        onAcknowledgement: () => {
          throw new Error('ack')
        },
        close: () => {
          throw new Error('close')
        },
      },
      { onAcknowledgement: (md, err) => seen.push(`${md.topic}-${md.partition} ${err?.message ?? 'ok'}`), close: () => seen.push('closed') },
    ], log)
    ics.onAcknowledgement({ topic: 't', partition: 1, offset: 3n, timestamp: 1 }, null)
    ics.close()
    expect(seen).toEqual(['t-1 ok', 'closed'])
    expect(warnings.map((w) => /in (\w+)/.exec(w)![1])).toEqual(['onAcknowledgement', 'close'])
  })

  it('wrap: acknowledges first, then completes callback-style or promise-style; errors get Java-like metadata', () => {
    const acks: [RecordMetadata, Error | null][] = []
    const ics = new ProducerInterceptors([{ onAcknowledgement: (md, err) => acks.push([md, err]) }], capturedLog().log)
    const order: string[] = []
    const md: RecordMetadata = { topic: 't', partition: 2, offset: 9n, timestamp: 4 }
    // Callback style.
    const cb: SendCallback = (err, m) => order.push(`cb ${err?.message ?? m!.offset}`)
    ics.wrap('t', -1, cb, null)(null, md)
    // Promise style.
    const resolve = (m: RecordMetadata): void => void order.push(`resolve ${m.offset}`)
    const reject: RecordReject = (e) => void order.push(`reject ${e.message}`)
    ics.wrap('t', -1, resolve as RecordCompletion, reject)(null, md)
    ics.wrap('t', 3, resolve as RecordCompletion, reject)(new Error('nope'), null)
    expect(order).toEqual(['cb 9', 'resolve 9', 'reject nope'])
    expect(acks.map(([m, e]) => [m, e?.message ?? null])).toEqual([
      [md, null],
      [md, null],
      [{ topic: 't', partition: 3, offset: -1n, timestamp: -1 }, 'nope'],
    ])
  })
})

describe('SendPipeline', () => {
  function pipeline<K, V>(interceptors: ProducerInterceptor<K, V>[] | null, key: ((k: K) => string) | null, value: ((v: V) => string) | null) {
    const forwarded: { record: ProducerRecord; complete: RecordCompletion; fail: RecordReject | null; signal: AbortSignal | null }[] = []
    const stats = new ProducerMetrics()
    const p = new SendPipeline<K, V>(interceptors, key, value, (record, complete, fail, signal) => forwarded.push({ record, complete, fail, signal }), stats, capturedLog().log)
    return { p, forwarded, stats }
  }

  it('runs onSend before the serializers, and hands the serialized record, the signal and a wrapped completion on', async () => {
    const order: string[] = []
    const { p, forwarded } = pipeline<number, { n: number }>(
      [
        {
          onSend: (r) => {
            order.push(`onSend ${r.key}`)
            return { ...r, key: r.key! + 1 }
          },
          onAcknowledgement: (_md, err) => order.push(`ack ${err?.message ?? 'ok'}`),
        },
      ],
      (k) => {
        order.push(`key ${k}`)
        return `k${k}`
      },
      (v) => JSON.stringify(v),
    )
    const signal = new AbortController().signal
    const done: string[] = []
    p.send({ topic: 't', key: 1, value: { n: 2 } }, ((err: Error | null) => done.push(err?.message ?? 'done')) as SendCallback, null, signal)
    expect(order).toEqual(['onSend 1', 'key 2'])
    expect(forwarded).toHaveLength(1)
    expect(forwarded[0]!.record).toEqual({ topic: 't', key: 'k2', value: '{"n":2}' })
    expect(forwarded[0]!.signal).toBe(signal)
    expect(forwarded[0]!.fail).toBeNull()
    ;(forwarded[0]!.complete as SendCallback)(null, { topic: 't', partition: 0, offset: 0n, timestamp: 0 })
    expect(order).toEqual(['onSend 1', 'key 2', 'ack ok'])
    expect(done).toEqual(['done'])
  })

  it('a serializer failure fails that send only, asynchronously, and the interceptors see it', async () => {
    const acks: (string | null)[] = []
    const { p, forwarded, stats } = pipeline<string, string>([{ onAcknowledgement: (md, err) => acks.push(err === null ? null : `${md.topic} ${err.name}`) }], null, (v) => {
      if (v === 'bad') throw new Error('no')
      return v
    })
    const results: string[] = []
    const reject: RecordReject = (e) => void results.push(`rejected ${e.constructor.name}`)
    p.send({ topic: 't', value: 'bad' }, (() => results.push('resolved')) as RecordCompletion, reject, null)
    p.send({ topic: 't', value: 'good' }, (() => results.push('resolved')) as RecordCompletion, reject, null)
    expect(results).toEqual([]) // never inside send()
    expect(forwarded.map((f) => f.record.value)).toEqual(['good'])
    await new Promise((r) => process.nextTick(r))
    expect(results).toEqual(['rejected KafkaSerializationError'])
    expect(acks).toEqual(['t KafkaSerializationError'])
    expect(stats.errors.totalSum).toBe(1)
  })

  it('a serializer failure is reported to the open transaction before the send fails', async () => {
    const events: string[] = []
    const p = new SendPipeline<string, string>(
      null,
      null,
      () => {
        throw new Error('bad value')
      },
      () => events.push('forwarded'),
      new ProducerMetrics(),
      capturedLog().log,
      { transactionGeneration: 3, recordNotAppended: (generation, err) => events.push(`notSent ${generation} ${err.name}`) },
    )
    p.send({ topic: 't', value: 'v' }, ((err: Error | null) => events.push(`callback ${err?.name}`)) as SendCallback, null, null)
    await new Promise((r) => process.nextTick(r))
    expect(events).toEqual(['notSent 3 KafkaSerializationError', 'callback KafkaSerializationError'])
  })

  it('without interceptors, passes the completion slots through untouched', () => {
    const { p, forwarded } = pipeline<string, string>(null, null, (v) => v.toUpperCase())
    const complete = (() => {}) as RecordCompletion
    const fail: RecordReject = () => {}
    p.send({ topic: 't', value: 'x' }, complete, fail, null)
    expect(forwarded[0]).toMatchObject({ record: { topic: 't', value: 'X' }, complete, fail, signal: null })
  })
})

function catchError(fn: () => unknown): Error {
  try {
    fn()
  } catch (e) {
    return e as Error
  }
  throw new Error('expected a throw')
}

/** A producer's LogSink whose warnings are kept, as the `logger` option would receive them. */
function capturedLog(): { log: LogSink; warnings: string[] } {
  const warnings: string[] = []
  const log = new LogSink({ warn: (_fields, message) => void warnings.push(message), error: () => {} }, 'test')
  return { log, warnings }
}
