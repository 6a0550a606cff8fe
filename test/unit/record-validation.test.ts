import { describe, expect, it } from 'vitest'
import { KafkaInvalidRecordError } from '../../src/errors.js'
import { type ProducerRecord, validateRecord, validateTopicName } from '../../src/producer/record.js'

/** Asserts that `fn` throws a KafkaInvalidRecordError with exactly `message`. */
function rejects(fn: () => unknown, message: string | RegExp): void {
  let err: unknown
  try {
    fn()
  } catch (e) {
    err = e
  }
  expect(err, 'expected a KafkaInvalidRecordError').toBeInstanceOf(KafkaInvalidRecordError)
  expect((err as KafkaInvalidRecordError).code).toBe('INVALID_RECORD')
  expect((err as KafkaInvalidRecordError).retriable).toBe(false)
  if (typeof message === 'string') expect((err as Error).message).toBe(message)
  else expect((err as Error).message).toMatch(message)
}

/** A record with fields the types would not allow, as JavaScript callers can pass them. */
function rec(fields: Record<string, unknown>): ProducerRecord {
  return { topic: 't', value: 'v', ...fields } as unknown as ProducerRecord
}

describe('validateTopicName', () => {
  it.each([
    [undefined, 'Record topic must be a string, got undefined'],
    [null, 'Record topic must be a string, got null'],
    [42, 'Record topic must be a string, got number 42'],
    [['t'], 'Record topic must be a string, got an array'],
    [{ name: 't' }, 'Record topic must be a string, got an object (Object)'],
    ['', 'Record topic is empty'],
    ['.', "Topic name '.' is not allowed"],
    ['..', "Topic name '..' is not allowed"],
    ['a'.repeat(250), 'Topic name is 250 characters; the limit is 249'],
  ])('rejects %j', (topic, message) => {
    rejects(() => validateTopicName(topic), message)
  })

  it.each(['with space', 'slash/ed', 'colon:', 'ümlaut', 'tab\t', 'star*', 'a\nb'])('rejects the illegal character in %j', (topic) => {
    rejects(
      () => validateTopicName(topic),
      `Topic name '${topic}' is illegal: only ASCII letters, digits, '.', '_' and '-' are allowed`,
    )
  })

  it.each(['a', 'orders', 'Orders_2024-01.v2', '...', '_', '-', 'a'.repeat(249)])('accepts %j', (topic) => {
    expect(() => validateTopicName(topic)).not.toThrow()
  })
})

describe('validateRecord rejects', () => {
  it.each([
    ['a null record', null, 'A record must be an object, got null'],
    ['a string record', 'hello', 'A record must be an object, got string hello'],
  ])('%s', (_name, record, message) => {
    rejects(() => validateRecord(record as unknown as ProducerRecord), message)
  })

  it('a bad topic', () => {
    rejects(() => validateRecord(rec({ topic: 7 })), 'Record topic must be a string, got number 7')
    rejects(() => validateRecord(rec({ topic: 'bad topic' })), /^Topic name 'bad topic' is illegal/)
  })

  it('a missing value', () => {
    rejects(() => validateRecord({ topic: 't' } as unknown as ProducerRecord), 'Record value is missing; pass null for a tombstone')
    rejects(() => validateRecord(rec({ value: undefined })), 'Record value is missing; pass null for a tombstone')
  })

  it.each([
    [42, 'Record value must be a Buffer, a string or null, got number 42'],
    [{ a: 1 }, 'Record value must be a Buffer, a string or null, got an object (Object)'],
    [[1, 2], 'Record value must be a Buffer, a string or null, got an array'],
    [new Uint8Array(2), 'Record value must be a Buffer, a string or null, got an object (Uint8Array)'],
    [true, 'Record value must be a Buffer, a string or null, got boolean true'],
    [10n, 'Record value must be a Buffer, a string or null, got bigint 10'],
  ])('a value of the wrong type: %s', (value, message) => {
    rejects(() => validateRecord(rec({ value })), message)
  })

  it.each([
    [1, 'Record key must be a Buffer, a string or null, got number 1'],
    [{}, 'Record key must be a Buffer, a string or null, got an object (Object)'],
    [['k'], 'Record key must be a Buffer, a string or null, got an array'],
  ])('a key of the wrong type: %j', (key, message) => {
    rejects(() => validateRecord(rec({ key })), message)
  })

  it.each([
    [-1, 'number -1'],
    [1.5, 'number 1.5'],
    [NaN, 'number NaN'],
    [Infinity, 'number Infinity'],
    [2147483648, 'number 2147483648'],
    ['1', 'string 1'],
  ])('a partition that is not a non-negative int32: %j', (partition, got) => {
    rejects(() => validateRecord(rec({ partition })), `Record partition must be a non-negative integer, got ${got}`)
  })

  it.each([
    [NaN, 'number NaN'],
    [Infinity, 'number Infinity'],
    [-Infinity, 'number -Infinity'],
    [-1, 'number -1'],
    [1.5, 'number 1.5'],
    ['1700000000000', 'string 1700000000000'],
    [new Date(0), 'an object (Date)'],
  ])('a timestamp that is not a finite non-negative integer: %j', (timestamp, got) => {
    rejects(
      () => validateRecord(rec({ timestamp })),
      `Record timestamp must be a finite, non-negative integer of milliseconds, got ${got}`,
    )
  })

  it('a header key that is not a string', () => {
    rejects(() => validateRecord(rec({ headers: [[1, 'v']] })), 'Header key must be a string, got number 1')
    rejects(() => validateRecord(rec({ headers: [[null, 'v']] })), 'Header key must be a string, got null')
  })

  it.each([
    [1, 'number 1'],
    [{ x: 1 }, 'an object (Object)'],
    [['v'], 'an array'],
    [undefined, 'undefined'],
  ])('a header value of the wrong type: %j', (value, got) => {
    rejects(() => validateRecord(rec({ headers: { h: value } })), `Header 'h' value must be a Buffer, a string or null, got ${got}`)
    rejects(() => validateRecord(rec({ headers: [['h', value]] })), `Header 'h' value must be a Buffer, a string or null, got ${got}`)
  })

  it.each([
    ['a string', 'h=v', 'string h=v'],
    ['a number', 5, 'number 5'],
    ['a Map', new Map([['h', 'v']]), 'an object (Map)'],
    ['a Buffer', Buffer.from('h'), 'an object (Buffer)'],
  ])('headers that are %s', (_name, headers, got) => {
    rejects(
      () => validateRecord(rec({ headers })),
      `Record headers must be a plain object or an array of [key, value] pairs, got ${got}`,
    )
  })

  it.each([
    [['h', 'v'], 'string h'],
    [[['h']], 'an array'],
    [[['h', 'v', 'extra']], 'an array'],
    [[null], 'null'],
    [[{ key: 'h', value: 'v' }], 'an object (Object)'],
  ])('malformed header pairs: %j', (headers, got) => {
    rejects(() => validateRecord(rec({ headers })), `Each header must be a [key, value] pair, got ${got}`)
  })
})

describe('validateRecord accepts', () => {
  it('the minimal record, tombstones, and Buffer or string keys and values', () => {
    expect(validateRecord({ topic: 't', value: 'v' })).toBeNull()
    expect(validateRecord({ topic: 't', value: null })).toBeNull()
    expect(validateRecord({ topic: 't', value: Buffer.from('v'), key: Buffer.alloc(0) })).toBeNull()
    expect(validateRecord({ topic: 't', value: '', key: null, partition: 0, timestamp: 0 })).toBeNull()
    expect(validateRecord(rec({ partition: 2147483647, timestamp: 1_700_000_000_000 }))).toBeNull()
    expect(validateRecord(rec({ partition: null, timestamp: null }))).toBeNull()
  })

  it('object headers as pairs, in key order, with null values kept', () => {
    const b = Buffer.from([1, 2])
    expect(validateRecord(rec({ headers: { a: 'x', b, c: null } }))).toEqual([
      ['a', 'x'],
      ['b', b],
      ['c', null],
    ])
    const bare = Object.create(null) as Record<string, string>
    bare.k = 'v'
    expect(validateRecord(rec({ headers: bare }))).toEqual([['k', 'v']])
  })

  it('array headers as given, repeated keys and all', () => {
    const headers = [
      ['k', 'one'],
      ['k', 'two'],
      ['', Buffer.from('empty key')],
      ['n', null],
    ] as const
    expect(validateRecord(rec({ headers }))).toBe(headers)
  })

  it('no headers as null: absent, null, {} or []', () => {
    expect(validateRecord(rec({}))).toBeNull()
    expect(validateRecord(rec({ headers: null }))).toBeNull()
    expect(validateRecord(rec({ headers: {} }))).toBeNull()
    expect(validateRecord(rec({ headers: [] }))).toBeNull()
  })
})
