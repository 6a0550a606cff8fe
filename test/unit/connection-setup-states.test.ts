import { describe, expect, it } from 'vitest'
import { ConnectionFailures, TLS_HANDSHAKE_CLOSE_LABEL } from '../../src/clients/connection-failures.js'
import { ClusterConnectionStates, ConnectionState } from '../../src/clients/connection-states.js'
import type { Node } from '../../src/clients/cluster.js'
import { type MetadataResponseView, ProducerMetadata } from '../../src/clients/metadata.js'
import { disconnectError, type NetworkClient } from '../../src/clients/network-client.js'
import { SaslClientAuthenticator } from '../../src/clients/sasl/authenticator.js'
import { plainFactory } from '../../src/clients/sasl/plain.js'
import { ApiVersionsApi } from '../../src/protocol/apis/index.js'
import { FakeSelector, frames, networkClientOn } from '../harness/fake-selector.js'
import { KafkaAuthenticationError, KafkaNetworkError, KafkaTimeoutError, KafkaTlsError } from '../../src/errors.js'
import { NetworkReceive } from '../../src/network/framing.js'
import { LogSink } from '../../src/util/logger.js'

/** Node 1's state as inspect() names it. */
const stateOf = (client: NetworkClient, nowMs: number) => client.inspectConnections(nowMs).find((c) => c.nodeId === 1)?.state

describe('connection setup states (one place, a name per state)', () => {
  it('walks CONNECTING → TLS_HANDSHAKE → CHECKING_API_VERSIONS → SASL_HANDSHAKE → SASL_AUTHENTICATE → READY → REAUTHENTICATING → READY', () => {
    const s = new ClusterConnectionStates(50, 1000, 10_000, 30_000, () => 0.5)
    const seen: ConnectionState[] = []
    const look = () => seen.push(s.state(1))
    s.startConnecting(1, 0, 'b1', 9093)
    look()
    s.tlsHandshake(1)
    look()
    expect(s.isConnectionSetupTimeout(1, 10_000)).toBe(true) // the TLS handshake counts against the setup timeout
    s.checkingApiVersions(1)
    look()
    expect(s.connecting.has(1)).toBe(false)
    s.authenticating(1, ConnectionState.SaslHandshake)
    look()
    s.authenticating(1, ConnectionState.SaslAuthenticate)
    look()
    expect(s.isReady(1)).toBe(false)
    s.ready(1)
    look()
    s.authenticating(1, ConnectionState.Reauthenticating)
    look()
    expect(s.isReady(1)).toBe(false) // Java's rule: no new requests while re-authenticating
    expect(s.isDisconnected(1)).toBe(false)
    s.ready(1)
    look()
    expect(seen).toEqual([
      ConnectionState.Connecting,
      ConnectionState.TlsHandshake,
      ConnectionState.CheckingApiVersions,
      ConnectionState.SaslHandshake,
      ConnectionState.SaslAuthenticate,
      ConnectionState.Ready,
      ConnectionState.Reauthenticating,
      ConnectionState.Ready,
    ])
    expect(s.inspect(0)[0]!.state).toBe('ready')
  })

  it('AUTHENTICATION_FAILED is a disconnected state in reconnect backoff that keeps its error until a later success', () => {
    const s = new ClusterConnectionStates(100, 1000, 10_000, 30_000, () => 0.5)
    s.startConnecting(1, 0, 'b1', 9093)
    s.checkingApiVersions(1)
    s.authenticating(1, ConnectionState.SaslAuthenticate)
    const err = new KafkaAuthenticationError('no')
    s.authenticationFailed(1, 1000, err)
    expect(s.state(1)).toBe(ConnectionState.AuthenticationFailed)
    expect(s.inspect(1001)[0]).toMatchObject({ state: 'backing-off', authenticationError: err })
    expect(s.isDisconnected(1)).toBe(true)
    expect(s.authenticationError(1)).toBe(err)
    expect(s.canConnect(1, 1001)).toBe(false) // backoff
    expect(s.connectionDelay(1, 1001)).toBeGreaterThan(0)
    expect(s.canConnect(1, 1000 + 200)).toBe(true)
    s.startConnecting(1, 1200, 'b1', 9093)
    expect(s.authenticationError(1)).toBeNull()
    s.checkingApiVersions(1)
    s.ready(1)
    expect(s.authenticationError(1)).toBeNull()
  })
})

describe('a plaintext client on a TLS listener', () => {
  it('a TLS alert record read as a frame size is reported as PLAINTEXT_ON_TLS_LISTENER', () => {
    const r = new NetworkReceive(100 * 1024 * 1024)
    // TLS 1.2 alert record: type 21, version 3.3, length 2, fatal / unexpected_message
    let err: unknown
    try {
      r.push(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x0a]), () => {})
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(KafkaTlsError)
    expect((err as KafkaTlsError).reason).toBe('PLAINTEXT_ON_TLS_LISTENER')
    expect((err as KafkaTlsError).code).toBe('TLS')
  })
})

describe('a TLS handshake the peer closes (Java: EOF during the handshake is a connection failure, not SslAuthenticationException)', () => {
  const reset = Object.assign(new Error('Client network socket disconnected before secure TLS connection was established'), { code: 'ECONNRESET' })
  const badCert = Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' })
  const alert = Object.assign(new Error('tlsv13 alert certificate required'), { code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' })

  it('a close without an alert is a retriable KafkaNetworkError naming the likely cause', () => {
    for (const e of [reset, new KafkaNetworkError('Connection to node 1 was closed by the broker', 1)]) {
      const err = disconnectError(1, ConnectionState.TlsHandshake, e)
      expect(err).toBeInstanceOf(KafkaNetworkError)
      expect(err).not.toBeInstanceOf(KafkaAuthenticationError)
      expect(err.retriable).toBe(true)
      expect(err.message).toMatch(/closed during the TLS handshake .*may not be a TLS one/)
      expect(err.cause).toBe(e)
    }
  })

  it('a certificate verdict or a TLS alert stays a KafkaTlsError (not retriable); our own setup timeout stays a timeout', () => {
    for (const e of [badCert, alert]) {
      const err = disconnectError(1, ConnectionState.TlsHandshake, e)
      expect(err).toBeInstanceOf(KafkaTlsError)
      expect((err as KafkaTlsError).reason).toBe(e.code)
    }
    const timeout = new KafkaTimeoutError('setup timed out')
    expect(disconnectError(1, ConnectionState.TlsHandshake, timeout)).toBe(timeout)
  })

  it('matches closes positively: reset, broken pipe, abort, codeless disconnects and EOF; EPROTO is a TLS error; other codes are plain failures', () => {
    const closes = [
      Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }),
      Object.assign(new Error('read ECONNABORTED'), { code: 'ECONNABORTED' }),
      new Error('Client network socket disconnected before secure TLS connection was established'),
      new Error('socket hang up: unexpected EOF'),
    ]
    for (const e of closes) {
      const err = disconnectError(1, ConnectionState.TlsHandshake, e)
      expect(err, e.message).toBeInstanceOf(KafkaNetworkError)
      expect(err.message).toMatch(/closed during the TLS handshake/)
    }
    const eproto = Object.assign(new Error('write EPROTO 140:error:0A00010B:SSL routines:ssl3_get_record:wrong version number'), { code: 'EPROTO' })
    const tlsErr = disconnectError(1, ConnectionState.TlsHandshake, eproto)
    expect(tlsErr).toBeInstanceOf(KafkaTlsError)
    expect((tlsErr as KafkaTlsError).reason).toBe('EPROTO')
    expect(tlsErr.retriable).toBe(false)
    // An unrecognised code is neither a handshake close nor a TLS verdict: a plain, retriable connection failure.
    for (const e of [Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' }), Object.assign(new Error('odd'), { code: 'ESOMETHING' }), new Error('unexplained')]) {
      const err = disconnectError(1, ConnectionState.TlsHandshake, e)
      expect(err).toBeInstanceOf(KafkaNetworkError)
      expect(err.message).not.toMatch(/closed during the TLS handshake/)
      expect(err.retriable).toBe(true)
    }
  })

  it('the NetworkClient files a TLS handshake close under that label, warned as a possible plaintext listener only, never as a failed connection', async () => {
    let now = 1_000_000
    const sel = new FakeSelector()
    const md = new ProducerMetadata([{ host: 'b1', port: 9093 }], 3_600_000, 3_600_000, 100, 1000, () => 0.5)
    const warned: { event: unknown; message: string }[] = []
    const client = networkClientOn(sel, md, {
      reconnectBackoffMaxMs: 50,
      log: new LogSink({ warn: (f, m) => warned.push({ event: f.event, message: m }), error: () => {} }, 'test', () => now),
    })
    const bootstrap: Node = { id: -1, host: 'b1', port: 9093, rack: null }
    for (let i = 0; i < 3; i++) {
      expect(client.ready(bootstrap, now)).toBe(false) // connects
      sel.disconnectNow(-1, reset, true)
      await client.poll(0, () => now)
      now += 100 // past the reconnect backoff
    }
    expect(client.connectionFailures()!.summary).toBe('b1:9093 closed during the TLS handshake (3 attempts)')
    expect(client.connectionFailures()!.error.errors[0]!.cause).toBeInstanceOf(KafkaNetworkError)
    expect(warned.map((w) => w.event)).toEqual(['connection.misconfigured'])
    expect(warned[0]!.message).toMatch(/closed the connection during the TLS handshake, without a TLS alert/)
  })

  it('repeated TLS handshake closes at an address that never completed one are recorded under their own label and warned about once', () => {
    const warnings: string[] = []
    const f = new ConnectionFailures(['b1:9092'], (m) => warnings.push(m))
    for (let i = 0; i < 3; i++) f.record(-1, 'b1', 9092, { kind: 'RESET', label: TLS_HANDSHAKE_CLOSE_LABEL, error: reset }, i)
    expect(f.report(false)!.summary).toBe('b1:9092 closed during the TLS handshake (3 attempts)')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/closed the connection during the TLS handshake, without a TLS alert: is this a PLAINTEXT or SASL_PLAINTEXT listener/)
  })
})

describe('KIP-368 re-authentication is driven by sends (Java: KafkaChannel.maybeBeginClientReauthentication)', () => {
  const T0 = 1_000_000
  const node1: Node = { id: 1, host: 'b1', port: 9093, rack: null }
  const view: MetadataResponseView = { brokers: [{ nodeId: 1, host: 'b1', port: 9093, rack: null }], clusterId: 'c', controllerId: 1, topics: [] }
  const API_VERSIONS = 18
  const SASL_HANDSHAKE = 17
  const SASL_AUTHENTICATE = 36

  function setup(sessionLifetimeMs = 10_000) {
    let now = T0
    const sel = new FakeSelector((id) => new SaslClientAuthenticator(plainFactory('alice', 'pw'), { host: 'b1', port: 9093, nodeId: id }, () => 0.5))
    const md = new ProducerMetadata([{ host: 'b1', port: 9093 }], 3_600_000, 3_600_000, 100, 1000, () => 0.5)
    md.update(view, T0)
    const client = networkClientOn(sel, md, { connectionsMaxIdleMs: 60_000 })
    /** One poll at the fake clock, after letting pending authenticator steps settle. */
    const poll = async (timeoutMs = 1000) => {
      await new Promise((r) => setImmediate(r))
      await client.poll(timeoutMs, () => now)
    }
    const writes = (apiKey: number) => sel.written.filter((w) => w.apiKey === apiKey).length
    /** Answers one SaslHandshake + SaslAuthenticate exchange (PLAIN: one round). */
    const answerAuthentication = async () => {
      sel.respond(1, SASL_HANDSHAKE, frames.saslHandshake(0, ['PLAIN']))
      await poll()
      await poll()
      sel.respond(1, SASL_AUTHENTICATE, frames.saslAuthenticate(0, Buffer.alloc(0), sessionLifetimeMs))
      await poll()
      await poll()
    }
    const establish = async () => {
      expect(client.ready(node1, now)).toBe(false)
      sel.connectNow(1)
      await poll()
      sel.respond(1, API_VERSIONS, frames.apiVersions([[18, 0, 4], [17, 0, 1], [36, 0, 1]]))
      await poll()
      await poll()
      await answerAuthentication()
      expect(stateOf(client, now)).toBe('ready')
    }
    /** An ordinary request (an ApiVersions, as data) on the ready connection. */
    const sendRequest = () =>
      client.send({ destination: 1, api: ApiVersionsApi, body: { clientSoftwareName: 't', clientSoftwareVersion: '0' }, expectResponse: true, createdMs: now, requestTimeoutMs: 30_000, onComplete: () => {} }, now)
    return { sel, client, poll, writes, establish, answerAuthentication, sendRequest, setNow: (t: number) => (now = t), stateOf: () => stateOf(client, now) }
  }

  it("a broker's SASL rejection fails the connection at once with the authenticator's error, not the close that follows", async () => {
    const t = setup()
    expect(t.client.ready(node1, T0)).toBe(false)
    t.sel.connectNow(1)
    await t.poll()
    t.sel.respond(1, API_VERSIONS, frames.apiVersions([[18, 0, 4], [17, 0, 1], [36, 0, 1]]))
    await t.poll()
    await t.poll()
    t.sel.respond(1, SASL_HANDSHAKE, frames.saslHandshake(0, ['PLAIN']))
    await t.poll()
    await t.poll()
    t.sel.respond(1, SASL_AUTHENTICATE, frames.saslAuthenticate(58, Buffer.alloc(0), 0)) // SASL_AUTHENTICATION_FAILED
    await t.poll()
    const err = t.client.authenticationError(1)
    expect(err).toBeInstanceOf(KafkaAuthenticationError)
    expect(err!.message).toBe('SASL PLAIN authentication with broker b1:9093 (node 1) failed (SASL_AUTHENTICATION_FAILED)')
    expect(t.sel.closed).toEqual([1])
    expect(t.client.selectorMetrics.failedAuthentication.totalCount).toBe(1)
  })

  it('an idle connection is not re-authenticated, so connections.max.idle.ms closes it', async () => {
    const t = setup()
    await t.establish()
    expect(t.writes(SASL_HANDSHAKE)).toBe(1)
    // Re-authentication is due at 90 % of the 10 s session; nothing wants the connection.
    for (const at of [T0 + 9500, T0 + 20_000, T0 + 40_000]) {
      t.setNow(at)
      await t.poll()
    }
    expect(t.writes(SASL_HANDSHAKE)).toBe(1)
    expect(t.stateOf()).toBe('ready')
    // An idle producer's poll waits exactly until the idle deadline (last activity at T0), not for ever.
    await t.poll(Infinity)
    expect(t.sel.pollTimeouts.at(-1)).toBe(20_001)
    t.setNow(T0 + 60_001)
    await t.poll()
    expect(t.sel.closed).toEqual([1])
  })

  it('a request for a connection whose re-authentication is due begins it; the request goes once it is done', async () => {
    const t = setup()
    await t.establish()
    t.setNow(T0 + 9500)
    expect(t.client.ready(node1, T0 + 9500)).toBe(false)
    expect(t.stateOf()).toBe('reauthenticating')
    await t.poll()
    expect(t.writes(SASL_HANDSHAKE)).toBe(2) // a fresh SaslHandshake, no ApiVersions
    expect(t.writes(API_VERSIONS)).toBe(1)
    await t.answerAuthentication()
    expect(t.client.successfulReauthenticationTotal).toBe(1)
    expect(t.client.ready(node1, T0 + 9500)).toBe(true)
  })

  it('a connection in use since its last authentication is renewed on time by the poll, without waiting for the next request', async () => {
    const t = setup()
    await t.establish()
    t.setNow(T0 + 100)
    t.sendRequest()
    await t.poll()
    t.sel.respond(1, API_VERSIONS, frames.apiVersions([[18, 0, 4]]))
    await t.poll()
    // The poll sleeps exactly until the re-authentication time (90 % of 10 s after T0).
    await t.poll(Infinity)
    expect(t.sel.pollTimeouts.at(-1)).toBe(8900)
    t.setNow(T0 + 9000)
    await t.poll(Infinity)
    expect(t.stateOf()).toBe('reauthenticating')
    await t.poll()
    expect(t.writes(SASL_HANDSHAKE)).toBe(2)
    await t.answerAuthentication()
    // Renewed, and not used since: the next renewal waits for a request (an idle connection may close).
    await t.poll(Infinity)
    expect(t.sel.pollTimeouts.at(-1)).toBe(60_001) // the idle deadline (from the renewal), not the next renewal (T0 + 18 000)
  })

  it('a due re-authentication held back by a send being written does not make the poll spin', async () => {
    const t = setup()
    await t.establish()
    t.sel.holdSends = true
    t.sendRequest()
    t.setNow(T0 + 9500)
    expect(t.client.ready(node1, T0 + 9500)).toBe(false) // the send in progress goes first
    t.sel.pollTimeouts.length = 0
    for (let i = 0; i < 3; i++) await t.poll(1000)
    expect(t.sel.pollTimeouts).toEqual([1000, 1000, 1000])
    expect(t.writes(SASL_HANDSHAKE)).toBe(1)
    t.sel.holdSends = false
    t.sel.finishSend(1)
    await t.poll()
    expect(t.client.ready(node1, T0 + 9500)).toBe(false)
    expect(t.stateOf()).toBe('reauthenticating')
  })
})
