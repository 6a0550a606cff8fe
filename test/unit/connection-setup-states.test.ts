import { describe, expect, it } from 'vitest'
import { ConnectionFailures, TLS_HANDSHAKE_CLOSE_LABEL } from '../../src/clients/connection-failures.js'
import { ClusterConnectionStates, ConnectionState } from '../../src/clients/connection-states.js'
import { disconnectError } from '../../src/clients/network-client.js'
import { KafkaAuthenticationError, KafkaNetworkError, KafkaTimeoutError, KafkaTlsError } from '../../src/errors.js'
import { NetworkReceive } from '../../src/network/framing.js'

describe('connection setup states (one place, a name per state)', () => {
  it('walks CONNECTING → TLS_HANDSHAKE → CHECKING_API_VERSIONS → SASL_HANDSHAKE → SASL_AUTHENTICATE → READY → REAUTHENTICATING → READY', () => {
    const s = new ClusterConnectionStates(50, 1000, 10_000, 30_000, () => 0.5)
    const seen: string[] = []
    const look = () => seen.push(s.describe()['1']!)
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
    expect(seen).toEqual(['CONNECTING', 'TLS_HANDSHAKE', 'CHECKING_API_VERSIONS', 'SASL_HANDSHAKE', 'SASL_AUTHENTICATE', 'READY', 'REAUTHENTICATING', 'READY'])
  })

  it('AUTHENTICATION_FAILED is a disconnected state in reconnect backoff that keeps its error until a later success', () => {
    const s = new ClusterConnectionStates(100, 1000, 10_000, 30_000, () => 0.5)
    s.startConnecting(1, 0, 'b1', 9093)
    s.checkingApiVersions(1)
    s.authenticating(1, ConnectionState.SaslAuthenticate)
    const err = new KafkaAuthenticationError('no')
    s.authenticationFailed(1, 1000, err)
    expect(s.describe()['1']).toBe('AUTHENTICATION_FAILED')
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

  it('repeated TLS handshake closes at an address that never completed one are recorded under their own label and warned about once', () => {
    const warnings: string[] = []
    const f = new ConnectionFailures(['b1:9092'], (m) => warnings.push(m))
    for (let i = 0; i < 3; i++) f.record(-1, 'b1', 9092, { kind: 'RESET', label: TLS_HANDSHAKE_CLOSE_LABEL, error: reset }, i)
    expect(f.report(false)!.summary).toBe('b1:9092 closed during the TLS handshake (3 attempts)')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/closed the connection during the TLS handshake, without a TLS alert: is this a PLAINTEXT or SASL_PLAINTEXT listener/)
  })
})
