import { describe, expect, it } from 'vitest'
import { SaslClientAuthenticator, SaslState } from '../../src/clients/sasl/authenticator.js'
import type { SaslMechanism, SaslMechanismFactory } from '../../src/clients/sasl/mechanism.js'
import { KafkaAuthenticationError } from '../../src/errors.js'
import { SaslAuthenticateApi } from '../../src/protocol/apis/sasl-authenticate.js'
import { SaslHandshakeApi } from '../../src/protocol/apis/sasl-handshake.js'

/** A two-round mechanism: 'hello' then 'proof', done when the server says 'ok'. */
function factory(opts: { expiresAtMs?: number } = {}): SaslMechanismFactory & { created: number } {
  const f = {
    mechanism: 'TEST',
    created: 0,
    create(): SaslMechanism {
      f.created++
      let round = 0
      const m = {
        name: 'TEST',
        complete: false,
        credentialExpiresAtMs: opts.expiresAtMs,
        start: async () => Buffer.from('hello'),
        evaluate: async (challenge: Buffer) => {
          round++
          if (round === 1) return Buffer.from('proof')
          if (challenge.toString() !== 'ok') throw new KafkaAuthenticationError('TEST: bad server proof')
          m.complete = true
          return null
        },
      }
      return m
    },
  }
  return f
}

const ctx = { host: 'b1', port: 9093, nodeId: 1 }
const hsOk = { errorCode: 0, mechanisms: ['TEST'] }
const auth = (bytes: string, sessionLifetimeMs = 0, errorCode = 0, errorMessage: string | null = null) => ({
  errorCode,
  errorMessage,
  authBytes: Buffer.from(bytes),
  sessionLifetimeMs,
})

describe('SaslClientAuthenticator (the request sequence of one connection)', () => {
  it('SaslHandshake v1, then SaslAuthenticate rounds until the mechanism is done; re-authentication at 85–95 % of the session lifetime', async () => {
    const f = factory()
    const a = new SaslClientAuthenticator(f, ctx, () => 0.5)
    const hs = await a.authenticate(1000)
    expect(hs).toEqual({ api: SaslHandshakeApi, body: { mechanism: 'TEST' }, minVersion: 1 })
    const r1 = await a.handleResponse(hsOk, 1001)
    expect(r1!.api).toBe(SaslAuthenticateApi)
    expect((r1!.body as { authBytes: Buffer }).authBytes.toString()).toBe('hello')
    const r2 = await a.handleResponse(auth('challenge'), 1002)
    expect((r2!.body as { authBytes: Buffer }).authBytes.toString()).toBe('proof')
    expect(a.complete).toBe(false)
    expect(await a.handleResponse(auth('ok', 10_000), 2000)).toBeNull()
    expect(a.complete).toBe(true)
    expect(a.state).toBe(SaslState.Complete)
    expect(a.successfulAuthentications).toBe(1)
    expect(a.reauthenticationTimeMs).toBe(2000 + 9000) // 90 % with random 0.5

    // KIP-368: a fresh mechanism, SaslHandshake again (no ApiVersions), not complete meanwhile.
    const again = await a.reauthenticate(11_000)
    expect(again!.api).toBe(SaslHandshakeApi)
    expect(a.complete).toBe(false)
    expect(f.created).toBe(2)
    await a.handleResponse(hsOk, 11_001)
    await a.handleResponse(auth('c'), 11_002)
    expect(await a.handleResponse(auth('ok', 0), 11_003)).toBeNull()
    expect(a.successfulAuthentications).toBe(2)
    expect(a.reauthenticationTimeMs).toBe(Infinity) // no session lifetime: no re-authentication (as Java)
  })

  it('a credential that expires before the session brings re-authentication earlier', async () => {
    const a = new SaslClientAuthenticator(factory({ expiresAtMs: 5000 }), ctx, () => 0)
    await a.authenticate(0)
    await a.handleResponse(hsOk, 0)
    await a.handleResponse(auth('c'), 0)
    await a.handleResponse(auth('ok', 60_000), 1000)
    expect(a.reauthenticationTimeMs).toBe(1000 + Math.floor(4000 * 0.85))
  })

  it('broker errors throw synchronously, naming the enabled mechanisms or carrying the broker message', async () => {
    const a = new SaslClientAuthenticator(factory(), ctx)
    await a.authenticate(0)
    expect(() => a.handleResponse({ errorCode: 33, mechanisms: ['PLAIN', 'SCRAM-SHA-512'] }, 0)).toThrow(
      /does not enable SASL mechanism TEST; it enables: PLAIN, SCRAM-SHA-512/,
    )
    const b = new SaslClientAuthenticator(factory(), ctx)
    await b.authenticate(0)
    await b.handleResponse(hsOk, 0)
    let err: unknown
    try {
      b.handleResponse(auth('', 0, 58, 'Authentication failed: Invalid username or password'), 0)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(KafkaAuthenticationError)
    expect((err as KafkaAuthenticationError).brokerMessage).toBe('Authentication failed: Invalid username or password')
    expect((err as Error).message).toMatch(/SASL_AUTHENTICATION_FAILED/)
  })

  it("a mechanism's own rejection (bad server proof) rejects the step", async () => {
    const a = new SaslClientAuthenticator(factory(), ctx)
    await a.authenticate(0)
    await a.handleResponse(hsOk, 0)
    await a.handleResponse(auth('c'), 0)
    await expect(a.handleResponse(auth('forged'), 0)).rejects.toThrow(/bad server proof/)
    expect(a.state).toBe(SaslState.Failed)
  })
})

/** A custom mechanism whose `start` / `evaluate` are given by the test (a bad implementation). */
function custom(start: () => unknown, evaluate: (c: Buffer) => unknown = () => null): SaslMechanismFactory {
  return {
    mechanism: 'CUSTOM',
    create: () => ({ name: 'CUSTOM', complete: true, start, evaluate }) as unknown as SaslMechanism,
  }
}

/** Runs an exchange up to the first SaslAuthenticate request (start()); returns its outcome. */
async function firstRequest(f: SaslMechanismFactory): Promise<unknown> {
  const a = new SaslClientAuthenticator(f, ctx)
  await a.authenticate(0)
  try {
    return await a.handleResponse(hsOk, 0)
  } catch (e) {
    return e
  }
}

describe('a custom mechanism that misbehaves fails the connection with a typed, non-retriable error (never hangs)', () => {
  it.each([
    ['a string', async () => 'hello', /start\(\) must resolve with a Buffer, got string/],
    ['undefined', async () => undefined, /start\(\) must resolve with a Buffer, got undefined/],
    ['null', async () => null, /start\(\) must resolve with a Buffer, got null/],
    ['an object', async () => ({ bytes: 1 }), /start\(\) must resolve with a Buffer, got Object/],
  ])('start() resolving with %s', async (_what, start, message) => {
    const out = await firstRequest(custom(start))
    expect(out).toBeInstanceOf(KafkaAuthenticationError)
    expect((out as Error).message).toMatch(message)
  })

  it('a Uint8Array (or a Buffer returned without a Promise) is accepted as the bytes, without a copy', async () => {
    const backing = new Uint8Array([0, 1, 2, 3, 4])
    const view = backing.subarray(1, 4)
    const r = (await firstRequest(custom(async () => view))) as { api: unknown; body: { authBytes: Buffer } }
    expect(r.api).toBe(SaslAuthenticateApi)
    expect(Buffer.isBuffer(r.body.authBytes)).toBe(true)
    expect([...r.body.authBytes]).toEqual([1, 2, 3])
    expect(r.body.authBytes.buffer).toBe(backing.buffer)
    const sync = (await firstRequest(custom(() => Buffer.from('x')))) as { body: { authBytes: Buffer } }
    expect(sync.body.authBytes.toString()).toBe('x')
  })

  it('evaluate() resolving with a string fails naming the contract', async () => {
    const a = new SaslClientAuthenticator(custom(async () => Buffer.from('a'), async () => 'next'), ctx)
    await a.authenticate(0)
    await a.handleResponse(hsOk, 0)
    await expect(a.handleResponse(auth('c'), 0)).rejects.toThrow(/evaluate\(\) must resolve with a Buffer \(or null when done\), got string/)
    expect(a.state).toBe(SaslState.Failed)
  })

  it("a synchronous throw from start(), evaluate() or the factory is a KafkaAuthenticationError with the mechanism's message and the cause", async () => {
    const boom = new TypeError('cannot read the keytab')
    const fromStart = await firstRequest(
      custom(() => {
        throw boom
      }),
    )
    expect(fromStart).toBeInstanceOf(KafkaAuthenticationError)
    expect((fromStart as Error).message).toMatch(/CUSTOM start\(\) threw: cannot read the keytab/)
    expect((fromStart as Error).cause).toBe(boom)

    const a = new SaslClientAuthenticator(
      custom(
        async () => Buffer.from('a'),
        () => {
          throw boom
        },
      ),
      ctx,
    )
    await a.authenticate(0)
    await a.handleResponse(hsOk, 0)
    const fromEvaluate = await a.handleResponse(auth('c'), 0).catch((e: unknown) => e)
    expect(fromEvaluate).toBeInstanceOf(KafkaAuthenticationError)
    expect((fromEvaluate as Error).cause).toBe(boom)

    const rejected = await firstRequest(custom(() => Promise.reject(new Error('provider down'))))
    expect(rejected).toBeInstanceOf(KafkaAuthenticationError)
    expect((rejected as Error).message).toMatch(/CUSTOM start\(\) failed: provider down/)

    const badFactory: SaslMechanismFactory = {
      mechanism: 'CUSTOM',
      create: () => {
        throw boom
      },
    }
    let err: unknown
    try {
      await new SaslClientAuthenticator(badFactory, ctx).authenticate(0)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(KafkaAuthenticationError)
    expect((err as Error).cause).toBe(boom)
  })
})

describe('re-authentication times are spread (KIP-368: 85–95 % of the session, at random per connection)', () => {
  it('connections authenticated together with one token re-authenticate across the whole window, not at once', async () => {
    const times: number[] = []
    for (const r of [0, 0.25, 0.5, 0.75, 0.999]) {
      // One token for all (expiring at 100 s), the broker's session bounded by it.
      const a = new SaslClientAuthenticator(factory({ expiresAtMs: 100_000 }), ctx, () => r)
      await a.authenticate(0)
      await a.handleResponse(hsOk, 0)
      await a.handleResponse(auth('c'), 0)
      await a.handleResponse(auth('ok', 100_000), 0)
      times.push(a.reauthenticationTimeMs)
    }
    expect(times).toEqual([85_000, 87_500, 90_000, 92_500, 94_990])
  })
})
