import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { KafkaAuthenticationError } from '../../src/errors.js'
import { Secret } from '../../src/util/secret.js'

describe('Secret', () => {
  const value = 'p4ssw0rd-value'
  const s = new Secret(value)

  it('prints [hidden] in every text form', () => {
    expect(String(s)).toBe('[hidden]')
    expect(`${s}`).toBe('[hidden]')
    expect('' + s).toBe('[hidden]')
    expect(JSON.stringify({ s })).toBe('{"s":"[hidden]"}')
    expect(inspect(s)).toBe('[hidden]')
    expect(inspect({ nested: { s } }, { depth: 10, showHidden: true })).not.toContain(value)
  })

  it('is not copied by spread, Object.assign, keys or structuredClone', () => {
    expect(Object.keys(s)).toEqual([])
    expect(JSON.stringify({ ...s })).toBe('{}')
    expect(inspect(structuredClone(s), { showHidden: true })).not.toContain(value)
  })

  it('reveals only on request, for strings and Buffers', () => {
    expect(s.reveal()).toBe(value)
    const b = new Secret(Buffer.from('-----BEGIN PRIVATE KEY-----'))
    expect(b.revealString()).toBe('-----BEGIN PRIVATE KEY-----')
    expect(inspect(b)).toBe('[hidden]')
    expect(Secret.of(s)).toBe(s)
    expect(Secret.of('x').equals(new Secret(Buffer.from('x')))).toBe(true)
  })
})

describe('KafkaAuthenticationError', () => {
  it('has code AUTHENTICATION, is not retriable and keeps the broker message', () => {
    const e = new KafkaAuthenticationError('SASL authentication failed: bad credentials', { brokerMessage: 'bad credentials' })
    expect(e.code).toBe('AUTHENTICATION')
    expect(e.retriable).toBe(false)
    expect(e.brokerMessage).toBe('bad credentials')
    expect(e.name).toBe('KafkaAuthenticationError')
  })
})
