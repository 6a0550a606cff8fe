import { describe, expect, it } from 'vitest'
import { ClusterConnectionStates, ConnectionState } from '../../src/clients/connection-states.js'
import { KafkaAuthenticationError, KafkaTlsError } from '../../src/errors.js'
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
