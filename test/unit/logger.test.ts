import { describe, expect, it, vi } from 'vitest'
import { errorKind, isLogger, LogSink, type LogFields, RELOG_AFTER_MS, stderrLogger } from '../../src/util/logger.js'
import { isTracing } from '../../src/util/diagnostics.js'
import { KafkaConfigError, KafkaProducer } from '../../src/index.js'

function recorder(withDebug = true) {
  const calls: { level: string; fields: LogFields; message: string }[] = []
  const logger = {
    warn: (fields: LogFields, message: string) => void calls.push({ level: 'warn', fields, message }),
    error: (fields: LogFields, message: string) => void calls.push({ level: 'error', fields, message }),
    ...(withDebug ? { debug: (fields: LogFields, message: string) => void calls.push({ level: 'debug', fields, message }) } : {}),
  }
  return { logger, calls }
}

describe('LogSink', () => {
  it('logs a cause once at its level, repeats at debug with a count, and again once the cause was forgotten', () => {
    const { logger, calls } = recorder()
    const log = new LogSink(logger, 'c1')
    for (let i = 0; i < 3; i++) log.warn('connection:2:ECONNREFUSED', 'refused', { event: 'connection.failed', nodeId: 2 })
    log.error('sender:boom', 'boom', { event: 'sender.threw' })
    expect(calls.map((c) => [c.level, c.fields.repeated])).toEqual([
      ['warn', undefined],
      ['debug', 1],
      ['debug', 2],
      ['error', undefined],
    ])
    expect(calls[0]!.fields).toEqual({ clientId: 'c1', event: 'connection.failed', nodeId: 2 })
    log.forget('connection:2:')
    log.warn('connection:2:ECONNREFUSED', 'refused', { event: 'connection.failed', nodeId: 2 })
    expect(calls.at(-1)!.level).toBe('warn')
  })

  it('logs a cause at its level again, with repeated, once 5 minutes passed since it was last logged there (injected clock)', () => {
    const { logger, calls } = recorder()
    let now = 1_000_000
    const log = new LogSink(logger, 'c', () => now)
    log.warn('batch-failed:timeout', 'm', { event: 'batch.failed' })
    now += RELOG_AFTER_MS - 1
    log.warn('batch-failed:timeout', 'm', { event: 'batch.failed' })
    now += 1
    log.warn('batch-failed:timeout', 'm', { event: 'batch.failed' }) // a later incident of the same kind
    log.warn('batch-failed:timeout', 'm', { event: 'batch.failed' })
    expect(calls.map((c) => [c.level, c.fields.repeated])).toEqual([
      ['warn', undefined],
      ['debug', 1],
      ['warn', 2],
      ['debug', 3],
    ])
  })

  it('debugEnabled says whether debug lines go anywhere; errorKind keys a cause on the error class, not its message', () => {
    expect(new LogSink(recorder(true).logger, 'c').debugEnabled).toBe(true)
    expect(new LogSink(recorder(false).logger, 'c').debugEnabled).toBe(false)
    class KafkaThing extends Error {
      override name = 'KafkaThing'
    }
    expect(errorKind(new KafkaThing('id 123'))).toBe(errorKind(new KafkaThing('id 456')))
    expect(errorKind(new TypeError('x'))).toBe('TypeError')
    expect(errorKind('a string')).toBe('string')
  })

  it('without debug, repeats are dropped; a throwing logger loses the line only; causes are bounded', () => {
    const { logger, calls } = recorder(false)
    const log = new LogSink(logger, 'c')
    log.warn('k', 'm', { event: 'e' })
    log.warn('k', 'm', { event: 'e' })
    expect(calls).toHaveLength(1)
    const throwing = new LogSink({ warn: () => { throw new Error('x') }, error: () => { throw new Error('y') } }, 'c')
    expect(() => throwing.warn('k', 'm', { event: 'e' })).not.toThrow()
    for (let i = 0; i < 1100; i++) log.warn(`many:${i}`, 'm', { event: 'e' })
    // The oldest causes were forgotten: the first is logged again.
    log.warn('many:0', 'm', { event: 'e' })
    expect(calls.at(-1)!.fields.repeated).toBeUndefined()
    expect(calls).toHaveLength(1 + 1100 + 1)
  })

  it('the default logger writes one line per warning to stderr, with the fields that locate it', () => {
    const lines: string[] = []
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation(((s: string) => void lines.push(s)) as never)
    try {
      const err = new Error('connect ECONNREFUSED')
      stderrLogger().warn({ event: 'connection.failed', clientId: 'p', nodeId: 3, broker: 'h:9092', cause: 'ECONNREFUSED', err }, 'kafka-producer-ts: connection failed')
      stderrLogger().error({ event: 'sender.threw', clientId: 'p', err }, 'kafka-producer-ts sender: a send pass threw')
    } finally {
      spy.mockRestore()
    }
    expect(lines[0]).toBe('[WARN] kafka-producer-ts: connection failed (clientId=p nodeId=3 broker=h:9092 cause=ECONNREFUSED)\n')
    expect(lines[1]).toMatch(/^\[ERROR\] kafka-producer-ts sender: a send pass threw \(clientId=p\)\nError: connect ECONNREFUSED\n {4}at /)
  })

  it('the logger option takes console and logger-shaped objects, and rejects others with a typed error', () => {
    expect(isLogger(console)).toBe(true)
    expect(isLogger({ warn() {}, error() {} })).toBe(true)
    expect(isLogger({ warn() {} })).toBe(false)
    expect(isLogger({ warn() {}, error() {}, debug: 1 })).toBe(false)
    expect(() => new KafkaProducer({ bootstrapServers: 'localhost:9092', logger: { warn() {} } as never })).toThrow(KafkaConfigError)
  })
})

describe('diagnostics channels', () => {
  it('a missing tracing channel (a runtime without TracingChannel) is never tracing', () => {
    expect(isTracing(null)).toBe(false)
  })
})
