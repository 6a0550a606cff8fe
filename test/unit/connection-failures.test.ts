/**
 * ConnectionFailures (src/clients/connection-failures.ts): how connection
 * failures are classified, counted per broker and cause, summarised in one
 * line, forgotten on success, and warned about once; and the first-frame
 * sniff of src/network/framing.ts that names HTTP and TLS peers.
 */
import { describe, expect, it } from 'vitest'
import {
  classifyFailure,
  ConnectionFailures,
  ConnectionPhase,
  type FailureCause,
  HANDSHAKE_CLOSE_LABEL,
  timeoutSuffix,
} from '../../src/clients/connection-failures.js'
import {
  KafkaClientError,
  KafkaConnectionError,
  KafkaForeignProtocolError,
  KafkaNetworkError,
  KafkaProtocolError,
  KafkaTimeoutError,
  UnsupportedVersionError,
} from '../../src/errors.js'
import { NetworkReceive, sniffForeignProtocol } from '../../src/network/framing.js'

function sysError(code: string, message = `connect ${code}`): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code })
}

const refused = (): FailureCause => classifyFailure(sysError('ECONNREFUSED'), ConnectionPhase.Connecting)

function failures(bootstrap: string[] = ['h1:9092']) {
  const warnings: string[] = []
  const f = new ConnectionFailures(bootstrap, (m) => warnings.push(m))
  return { f, warnings }
}

describe('classifyFailure', () => {
  const Connecting = ConnectionPhase.Connecting
  const Handshake = ConnectionPhase.Handshake
  const Ready = ConnectionPhase.Ready
  it.each([
    ['ENOTFOUND', Connecting, 'DNS'],
    ['EAI_AGAIN', Connecting, 'DNS'],
    ['ECONNREFUSED', Connecting, 'REFUSED'],
    ['ECONNRESET', Ready, 'RESET'],
    ['EPIPE', Handshake, 'RESET'],
    ['ETIMEDOUT', Connecting, 'SETUP_TIMEOUT'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', Connecting, 'TLS'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', Connecting, 'TLS'],
    ['EHOSTUNREACH', Connecting, 'OTHER'],
  ] as const)('%s while %s is %s, labelled with its errno', (code, phase, kind) => {
    const c = classifyFailure(sysError(code), phase)
    expect(c.kind).toBe(kind)
    expect(c.errno).toBe(code)
  })

  it('finds the errno in a wrapped cause, never taking our own codes for one', () => {
    const wrapped = new KafkaNetworkError('Connection to node 1 failed', 1, { cause: sysError('ECONNREFUSED') })
    expect(classifyFailure(wrapped, ConnectionPhase.Connecting)).toMatchObject({ kind: 'REFUSED', errno: 'ECONNREFUSED' })
    const other = classifyFailure(new KafkaProtocolError('bad'), ConnectionPhase.Ready)
    expect(other).toMatchObject({ kind: 'OTHER', label: 'KafkaProtocolError' })
    expect(other.errno).toBeUndefined()
  })

  it('names what has no errno: foreign bytes, setup and request timeouts, closes, versions, authentication', () => {
    expect(classifyFailure(new KafkaForeignProtocolError('HTTP', 'x'), Handshake)).toMatchObject({ kind: 'NOT_KAFKA', label: 'not a Kafka broker (looks like HTTP)' })
    expect(classifyFailure(new KafkaForeignProtocolError(null, 'x'), Handshake)).toMatchObject({ kind: 'NOT_KAFKA', label: 'not a Kafka broker' })
    expect(classifyFailure(new KafkaTimeoutError('setup'), Connecting)).toMatchObject({ kind: 'SETUP_TIMEOUT' })
    expect(classifyFailure(new KafkaTimeoutError('request'), Handshake)).toMatchObject({ kind: 'OTHER', label: 'no answer to ApiVersions' })
    expect(classifyFailure(new KafkaTimeoutError('request'), Ready)).toMatchObject({ kind: 'OTHER', label: 'request timed out' })
    const close = new KafkaNetworkError('Connection to node 1 was closed by the broker', 1)
    expect(classifyFailure(close, Handshake)).toMatchObject({ kind: 'RESET', label: HANDSHAKE_CLOSE_LABEL })
    expect(classifyFailure(close, Ready)).toMatchObject({ kind: 'RESET', label: 'closed by the broker' })
    expect(classifyFailure(new UnsupportedVersionError('no'), Handshake)).toMatchObject({ kind: 'UNSUPPORTED_VERSION' })
    // What a SASL layer would raise: recorded as AUTHENTICATION with no change here.
    expect(classifyFailure(new KafkaClientError('AUTHENTICATION', 'bad password'), Handshake)).toMatchObject({ kind: 'AUTHENTICATION' })
  })
})

describe('ConnectionFailures', () => {
  it('counts one entry per broker and cause, and summarises them in one line', () => {
    const { f } = failures(['h1:9092', 'h2:9092'])
    for (let i = 0; i < 12; i++) f.record(-1, 'h1', 9092, refused(), 1000 + i)
    f.record(-1, 'h1', 9092, classifyFailure(new KafkaTimeoutError('t'), ConnectionPhase.Connecting), 2000)
    f.record(-2, 'h2', 9092, refused(), 1500)
    f.record(7, '::1', 9093, refused(), 1600)
    const r = f.report(false)!
    expect(r.summary).toBe(
      'h1:9092 ECONNREFUSED (12 attempts), connection setup timed out (1 attempt); h2:9092 ECONNREFUSED (1 attempt); [::1]:9093 ECONNREFUSED (1 attempt)',
    )
    expect(r.error).toBeInstanceOf(AggregateError)
    expect(r.error.message).toBe(r.summary)
    const [h1, h2, v6] = r.error.errors as KafkaConnectionError[]
    expect(h1).toBeInstanceOf(KafkaConnectionError)
    expect(h1).toMatchObject({ host: 'h1', port: 9092, nodeId: -1, kind: 'SETUP_TIMEOUT', errno: undefined, attempts: 13, lastFailureMs: 2000, code: 'NETWORK' })
    expect(h1!.causes).toEqual([
      { kind: 'REFUSED', errno: 'ECONNREFUSED', label: 'ECONNREFUSED', attempts: 12, lastFailureMs: 1011 },
      { kind: 'SETUP_TIMEOUT', errno: undefined, label: 'connection setup timed out', attempts: 1, lastFailureMs: 2000 },
    ])
    expect(h1!.cause).toBeInstanceOf(KafkaTimeoutError)
    expect(h2!.message).toBe('h2:9092 ECONNREFUSED (1 attempt)')
    expect(v6!.nodeId).toBe(7)
  })

  it('reports one node only on request, and reuses a report until something changes', () => {
    const { f } = failures()
    f.record(1, 'h1', 9092, refused(), 1)
    f.record(2, 'h2', 9092, refused(), 1)
    expect(f.report(true, 2)!.summary).toBe('h2:9092 ECONNREFUSED (1 attempt)')
    expect(f.report(true, 3)).toBeNull()
    const a = f.report(true)
    expect(f.report(true)).toBe(a)
    f.record(2, 'h2', 9092, refused(), 2)
    expect(f.report(true)).not.toBe(a)
  })

  it('forgets a broker once its handshake succeeds', () => {
    const { f } = failures()
    f.record(1, 'h1', 9092, refused(), 1)
    expect(f.isEmpty).toBe(false)
    f.succeeded('h1', 9092)
    expect(f.isEmpty).toBe(true)
    expect(f.report(false)).toBeNull()
    f.record(1, 'h1', 9092, refused(), 5)
    expect(f.report(false)!.summary).toBe('h1:9092 ECONNREFUSED (1 attempt)') // counted afresh
  })

  it('stays bounded: causes per broker, brokers, and brokers named in a summary', () => {
    const { f } = failures()
    for (let i = 0; i < 20; i++) f.record(1, 'h', 1, { kind: 'OTHER', label: `cause ${i}`, error: new Error('x') }, i)
    expect((f.report(false)!.error.errors[0] as KafkaConnectionError).causes).toHaveLength(8)
    for (let i = 0; i < 100; i++) f.record(i, `b${i}`, 9092, refused(), i)
    const r = f.report(false)!
    expect(r.error.errors).toHaveLength(64)
    expect(r.summary).toMatch(/; and 59 more$/)
  })

  it('warns once per address about configuration mistakes, never about transient failures', () => {
    const { f, warnings } = failures(['bad:9092', 'good:9092'])
    for (let i = 0; i < 5; i++) f.record(-1, 'bad', 9092, classifyFailure(sysError('ENOTFOUND', 'getaddrinfo ENOTFOUND bad'), ConnectionPhase.Connecting), i)
    for (let i = 0; i < 5; i++) f.record(-2, 'good', 9092, refused(), i)
    expect(warnings).toEqual(['kafka-producer-ts: bootstrap server bad:9092 cannot be resolved (ENOTFOUND: getaddrinfo ENOTFOUND bad)'])
    const http = classifyFailure(new KafkaForeignProtocolError('HTTP', 'not a Kafka broker: the first response was not a Kafka frame (looks like HTTP)'), ConnectionPhase.Handshake)
    f.record(3, 'web', 80, http, 9)
    f.record(3, 'web', 80, http, 10)
    expect(warnings[1]).toBe('kafka-producer-ts: broker 3 at web:80 is not a Kafka broker: the first response was not a Kafka frame (looks like HTTP)')
    f.record(4, 'kafka-1', 9092, classifyFailure(sysError('ENOTFOUND', 'getaddrinfo ENOTFOUND kafka-1'), ConnectionPhase.Connecting), 11)
    expect(warnings[2]).toMatch(/broker 4 at kafka-1:9092 cannot be resolved .*; check the broker's advertised\.listeners$/)
    expect(warnings).toHaveLength(3)
  })

  it('hints at an SSL listener after three silent handshake closes, never for an address that worked before', () => {
    const { f, warnings } = failures(['tls:9093'])
    const close = classifyFailure(new KafkaNetworkError('closed', -1), ConnectionPhase.Handshake)
    f.record(-1, 'tls', 9093, close, 1)
    f.record(-1, 'tls', 9093, close, 2)
    expect(warnings).toEqual([])
    f.record(-1, 'tls', 9093, close, 3)
    f.record(-1, 'tls', 9093, close, 4)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/^kafka-producer-ts: bootstrap server tls:9093 closed the connection without answering the ApiVersions request: is this an SSL or SASL_SSL listener\?/)
    f.succeeded('kafka', 9092)
    for (let i = 0; i < 5; i++) f.record(1, 'kafka', 9092, close, 10 + i) // a broker restarting
    expect(warnings).toHaveLength(1)
  })

  it('says when no bootstrap server can be resolved', () => {
    const { f, warnings } = failures(['a:1', 'b:2'])
    f.record(-1, 'a', 1, classifyFailure(sysError('ENOTFOUND'), ConnectionPhase.Connecting), 1)
    f.record(-2, 'b', 2, classifyFailure(sysError('ENOTFOUND'), ConnectionPhase.Connecting), 2)
    expect(warnings[0]).not.toContain('no bootstrap server')
    expect(warnings[1]).toMatch(/; no bootstrap server can be resolved \(a:1, b:2\): sends will fail after max\.block\.ms$/)
  })

  it('ends a timeout message according to what is reachable', () => {
    const { f } = failures()
    f.record(1, 'h1', 9092, refused(), 1)
    expect(timeoutSuffix(f.report(false))).toBe('; no broker reachable: h1:9092 ECONNREFUSED (1 attempt)')
    expect(timeoutSuffix(f.report(true))).toBe('; connection failures: h1:9092 ECONNREFUSED (1 attempt)')
    expect(timeoutSuffix(f.report(true, 1), true)).toBe('; leader unreachable: h1:9092 ECONNREFUSED (1 attempt)')
    expect(timeoutSuffix(null)).toBe('')
  })
})

describe('the first frame of a peer that is not Kafka', () => {
  const frames = (): Buffer[] => []
  it('sniffs an HTTP status line and TLS records from the size prefix', () => {
    expect(sniffForeignProtocol(Buffer.from('HTTP/1.1 400').readInt32BE(0))).toBe('HTTP')
    for (const type of [0x14, 0x15, 0x16, 0x17]) expect(sniffForeignProtocol(Buffer.from([type, 3, 3, 0]).readInt32BE(0))).toBe('TLS')
    expect(sniffForeignProtocol(Buffer.from([0x16, 3, 1, 2]).readInt32BE(0))).toBe('TLS')
    expect(sniffForeignProtocol(0x7fffffff)).toBeNull()
    expect(sniffForeignProtocol(Buffer.from('SSH-').readInt32BE(0))).toBeNull()
  })

  it('raises KafkaForeignProtocolError for an HTTP answer, whole or byte by byte', () => {
    const bytes = Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n')
    const rx = new NetworkReceive(100 * 1024 * 1024)
    const err = (() => {
      try {
        rx.push(bytes, () => {})
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(KafkaForeignProtocolError)
    expect(err).toBeInstanceOf(KafkaProtocolError)
    expect((err as KafkaForeignProtocolError).looksLike).toBe('HTTP')
    expect((err as Error).message).toBe('not a Kafka broker: the first response was not a Kafka frame (looks like HTTP)')
    const slow = new NetworkReceive(100 * 1024 * 1024)
    for (let i = 0; i < 3; i++) slow.push(bytes.subarray(i, i + 1), () => {})
    expect(() => slow.push(bytes.subarray(3, 4), () => {})).toThrow(KafkaForeignProtocolError)
  })

  it('names a TLS alert record', () => {
    const rx = new NetworkReceive(100 * 1024 * 1024)
    expect(() => rx.push(Buffer.from([0x15, 3, 3, 0, 2, 2, 0x46]), () => {})).toThrow(
      'not a Kafka broker: the first response was not a Kafka frame (looks like TLS: is this an SSL listener?)',
    )
  })

  it('after a Kafka frame, the same bytes are an ordinary bad size', () => {
    const rx = new NetworkReceive(100 * 1024 * 1024)
    const got = frames()
    rx.push(Buffer.from([0, 0, 0, 1, 9]), (f) => got.push(f))
    expect(got).toHaveLength(1)
    let err: unknown
    try {
      rx.push(Buffer.from('HTTP/1.1 400'), () => {})
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(KafkaProtocolError)
    expect(err).not.toBeInstanceOf(KafkaForeignProtocolError)
    expect((err as Error).message).toMatch(/^Invalid receive size 1213486160/)
  })
})
