import { spawnSync } from 'node:child_process'
import { inspect } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KafkaAuthenticationError } from '../../src/errors.js'
import { isSaslMechanismFactory } from '../../src/clients/sasl/mechanism.js'
import { oauthBearerFactory, oauthBearerInitialResponse, OAuthBearerMechanism } from '../../src/clients/sasl/oauthbearer.js'
import { jwtClaims, OidcClientCredentialsProvider } from '../../src/clients/sasl/oidc.js'
import { plainFactory, plainMessage } from '../../src/clients/sasl/plain.js'
import { saslName, scramFactory, ScramMechanism } from '../../src/clients/sasl/scram.js'
import { Secret } from '../../src/util/secret.js'
import { startOidcServer, type OidcServer } from '../harness/oidc.js'

const text = (b: Buffer | null) => b?.toString('utf8') ?? null

describe('PLAIN (RFC 4616)', () => {
  it('sends NUL user NUL password and completes on an empty reply', async () => {
    const f = plainFactory('alice', 'pä55')
    expect(isSaslMechanismFactory(f)).toBe(true)
    const m = f.create({ host: 'h', port: 1, nodeId: -1 })
    expect(m.name).toBe('PLAIN')
    expect(await m.start()).toEqual(Buffer.from('\0alice\0pä55', 'utf8'))
    expect(m.complete).toBe(false)
    expect(await m.evaluate(Buffer.alloc(0))).toBeNull()
    expect(m.complete).toBe(true)
    expect(plainMessage('u', new Secret('p'), 'admin')).toEqual(Buffer.from('admin\0u\0p'))
  })

  it('rejects NUL in credentials and unexpected server data', async () => {
    expect(() => plainMessage('a\0b', new Secret('p'))).toThrow(KafkaAuthenticationError)
    const m = plainFactory('alice', 'pw').create({ host: 'h', port: 1, nodeId: 1 })
    await m.start()
    await expect(m.evaluate(Buffer.from('x'))).rejects.toBeInstanceOf(KafkaAuthenticationError)
  })

  it('keeps the password out of inspect and JSON', () => {
    const f = plainFactory('alice', 'hunter2')
    expect(inspect(f, { depth: 5 }) + JSON.stringify(f) + String(f)).not.toContain('hunter2')
  })
})

describe('SCRAM (RFC 5802 / RFC 7677)', () => {
  // RFC 7677 §3 test vector.
  const nonce = 'rOprNGfwEbeRWgbNEkqO'
  const serverFirst = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'
  const clientFinal = 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ='
  const serverFinal = 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='

  it('SCRAM-SHA-256 reproduces the RFC 7677 exchange', async () => {
    const m = new ScramMechanism('SCRAM-SHA-256', 'user', new Secret('pencil'), nonce)
    expect(text(await m.start())).toBe(`n,,n=user,r=${nonce}`)
    expect(text(await m.evaluate(Buffer.from(serverFirst)))).toBe(clientFinal)
    expect(m.complete).toBe(false)
    expect(await m.evaluate(Buffer.from(serverFinal))).toBeNull()
    expect(m.complete).toBe(true)
  })

  it('SCRAM-SHA-512 matches an exchange computed independently with Python hashlib/hmac', async () => {
    const py = `
import hashlib, hmac, base64
user, pw, cnonce = 'us=er,x', 'pencil-512', 'fyko+d2lbbFgONRv9qkxdawL'
snonce = cnonce + '3rfcNHYJY1ZVvWVs7j'
salt = base64.b64decode('QSXCR+Q6sek8bf92')
first_bare = 'n=us=3Der=2Cx,r=' + cnonce
server_first = 'r=%s,s=%s,i=4096' % (snonce, 'QSXCR+Q6sek8bf92')
without_proof = 'c=biws,r=' + snonce
auth = ','.join([first_bare, server_first, without_proof]).encode()
salted = hashlib.pbkdf2_hmac('sha512', pw.encode(), salt, 4096)
ck = hmac.new(salted, b'Client Key', 'sha512').digest()
sk = hashlib.sha512(ck).digest()
sig = hmac.new(sk, auth, 'sha512').digest()
proof = bytes(a ^ b for a, b in zip(ck, sig))
srv = hmac.new(hmac.new(salted, b'Server Key', 'sha512').digest(), auth, 'sha512').digest()
print(server_first)
print(without_proof + ',p=' + base64.b64encode(proof).decode())
print('v=' + base64.b64encode(srv).decode())
`
    const r = spawnSync('python3', ['-c', py], { encoding: 'utf8' })
    expect(r.status, r.stderr).toBe(0)
    const [sFirst, cFinal, sFinal] = r.stdout.trim().split('\n') as [string, string, string]
    const m = new ScramMechanism('SCRAM-SHA-512', 'us=er,x', new Secret('pencil-512'), 'fyko+d2lbbFgONRv9qkxdawL')
    expect(text(await m.start())).toBe('n,,n=us=3Der=2Cx,r=fyko+d2lbbFgONRv9qkxdawL')
    expect(text(await m.evaluate(Buffer.from(sFirst)))).toBe(cFinal)
    expect(await m.evaluate(Buffer.from(sFinal))).toBeNull()
    expect(m.complete).toBe(true)
  })

  it('escapes = and , in the user name', () => {
    expect(saslName('a=b,c')).toBe('a=3Db=2Cc')
  })

  async function afterFirst(first = serverFirst): Promise<ScramMechanism> {
    const m = new ScramMechanism('SCRAM-SHA-256', 'user', new Secret('pencil'), nonce)
    await m.start()
    await m.evaluate(Buffer.from(first))
    return m
  }

  it('rejects a wrong server signature, and a server error in server-final', async () => {
    const m = await afterFirst()
    await expect(m.evaluate(Buffer.from('v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='))).rejects.toThrow(/invalid server signature/)
    expect(m.complete).toBe(false)
    const m2 = await afterFirst()
    await expect(m2.evaluate(Buffer.from('e=invalid-proof'))).rejects.toThrow(/server error: invalid-proof/)
  })

  it('rejects a nonce that does not extend ours, too few or too many iterations, m= and garbage', async () => {
    const start = async () => {
      const m = new ScramMechanism('SCRAM-SHA-256', 'user', new Secret('pencil'), nonce)
      await m.start()
      return m
    }
    await expect((await start()).evaluate(Buffer.from('r=other%x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'))).rejects.toThrow(/nonce/)
    await expect((await start()).evaluate(Buffer.from(`r=${nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`))).rejects.toThrow(/nonce/)
    await expect((await start()).evaluate(Buffer.from(`r=${nonce}x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4095`))).rejects.toThrow(/less than the minimum 4096/)
    // A sanity bound against a hostile server: refused before any PBKDF2 work.
    const tooMany = await (await start()).evaluate(Buffer.from(`r=${nonce}x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1000001`)).catch((e: unknown) => e)
    expect(tooMany).toBeInstanceOf(KafkaAuthenticationError)
    expect((tooMany as Error).message).toMatch(/more than the maximum 1000000/)
    // More than Java's AlterUserScramCredentials maximum (16384), as credentials stored through ZooKeeper may have: accepted.
    const final = await (await start()).evaluate(Buffer.from(`r=${nonce}x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=20000`))
    expect(final?.toString('utf8')).toMatch(/^c=biws,r=.*,p=/)
    await expect((await start()).evaluate(Buffer.from(`r=${nonce}x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999999999999999`))).rejects.toThrow(/less than the minimum|more than the maximum/)
    await expect((await start()).evaluate(Buffer.from(`m=ext,r=${nonce}x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`))).rejects.toThrow(/m=/)
    await expect((await start()).evaluate(Buffer.from('garbage'))).rejects.toThrow(/invalid server-first/)
    await expect((await start()).evaluate(Buffer.from('e=unknown-user'))).rejects.toThrow(/unknown-user/)
  })

  it('fails every call after a failure, and uses a fresh random nonce per instance', async () => {
    const m = await afterFirst()
    await expect(m.evaluate(Buffer.from('v=AAAA'))).rejects.toThrow()
    await expect(m.evaluate(Buffer.from(serverFinal))).rejects.toThrow(/already failed/)
    const f = scramFactory('SCRAM-SHA-512', 'u', 'p')
    const a = text(await f.create({ host: 'h', port: 1, nodeId: 1 }).start())!
    const b = text(await f.create({ host: 'h', port: 1, nodeId: 1 }).start())!
    expect(a).toMatch(/^n,,n=u,r=[A-Za-z0-9_-]{32}$/)
    expect(a).not.toBe(b)
  })
})

describe('OAUTHBEARER (RFC 7628)', () => {
  it('builds the client initial response as Java OAuthBearerClientInitialResponse', () => {
    expect(text(oauthBearerInitialResponse('abc.def.ghi'))).toBe('n,,\x01auth=Bearer abc.def.ghi\x01\x01')
    expect(text(oauthBearerInitialResponse('t0k', { traceId: '123', org: 'sales emea' }, 'admin'))).toBe(
      'n,a=admin,\x01auth=Bearer t0k\x01traceId=123\x01org=sales emea\x01\x01',
    )
  })

  it('validates extensions and the token', () => {
    expect(() => oauthBearerInitialResponse('t', { auth: 'x' })).toThrow(/reserved/)
    expect(() => oauthBearerInitialResponse('t', { 'bad-key': 'x' })).toThrow(/extension name/)
    expect(() => oauthBearerInitialResponse('t', { key: '' })).toThrow(/extension 'key'/)
    expect(() => oauthBearerInitialResponse('t', { key: 'a\x01b' })).toThrow(/extension 'key'/)
    expect(() => oauthBearerInitialResponse('has space')).toThrow(/bearer token/)
    expect(() => oauthBearerInitialResponse('')).toThrow(/bearer token/)
    expect(() => oauthBearerFactory(async () => ({ token: 't', lifetimeMs: 1 }), { '1': 'x' })).toThrow(KafkaAuthenticationError)
  })

  it('completes on an empty reply and reports the credential expiry', async () => {
    const m = new OAuthBearerMechanism(async () => ({ token: 'a.b.c', lifetimeMs: 12345, extensions: { x: 'y' } }), { base: 'z' })
    expect(text(await m.start())).toBe('n,,\x01auth=Bearer a.b.c\x01base=z\x01x=y\x01\x01')
    expect(m.credentialExpiresAtMs).toBe(12345)
    expect(await m.evaluate(Buffer.alloc(0))).toBeNull()
    expect(m.complete).toBe(true)
  })

  it('acknowledges a server error JSON with \\x01, then fails with its status', async () => {
    const m = new OAuthBearerMechanism(async () => ({ token: 'a.b.c', lifetimeMs: 1 }))
    await m.start()
    expect(await m.evaluate(Buffer.from('{"status":"invalid_token"}'))).toEqual(Buffer.from([1]))
    await expect(m.evaluate(Buffer.alloc(0))).rejects.toThrow(/invalid_token/)
    expect(m.complete).toBe(false)
  })

  it('wraps a failing token provider in KafkaAuthenticationError', async () => {
    const m = new OAuthBearerMechanism(async () => {
      throw new Error('no network')
    })
    await expect(m.start()).rejects.toThrow(/token provider failed: no network/)
    const bad = new OAuthBearerMechanism(async () => ({ token: 5 }) as never)
    await expect(bad.start()).rejects.toBeInstanceOf(KafkaAuthenticationError)
  })
})

describe('OIDC client-credentials provider (against the harness OIDC server)', () => {
  let oidc: OidcServer
  const secret = 'client-secret-value'
  beforeAll(async () => {
    oidc = await startOidcServer({ clients: [{ id: 'app', secret }, { id: 'we:ird id', secret: 'p&ss=wörd' }], tokenLifetimeSec: 600 })
  })
  afterAll(async () => {
    await oidc?.stop()
  })

  const provider = (extra: Partial<ConstructorParameters<typeof OidcClientCredentialsProvider>[0]> = {}) =>
    new OidcClientCredentialsProvider({ tokenEndpointUrl: oidc.tokenUrl, clientId: 'app', clientSecret: secret, scope: 'kafka', ...extra })

  it('fetches a token with HTTP Basic and client_credentials, and caches it', async () => {
    const before = oidc.requests.length
    const p = provider({ extensions: { traceId: 'abc' } })
    const t0 = Date.now()
    const [a, b] = await Promise.all([p.getToken(), p.getToken()])
    expect(a).toBe(b)
    expect(oidc.requests.slice(before)).toEqual([{ clientId: 'app', grantType: 'client_credentials', scope: 'kafka', auth: 'basic', status: 200 }])
    expect(a.principal).toBe('app')
    expect(a.extensions).toEqual({ traceId: 'abc' })
    expect(jwtClaims(a.token)).toMatchObject({ sub: 'app', scope: 'kafka' })
    expect(a.lifetimeMs).toBeGreaterThanOrEqual(t0 + 600_000 - 1000)
    expect(a.lifetimeMs).toBeLessThanOrEqual(Date.now() + 600_000)
    expect(await p.getToken()).toBe(a)
    expect(oidc.requests.length).toBe(before + 1)
    // And it drives the mechanism.
    const m = oauthBearerFactory(p.getToken).create({ host: 'h', port: 1, nodeId: 1 })
    expect(text(await m.start())).toBe(`n,,\x01auth=Bearer ${a.token}\x01traceId=abc\x01\x01`)
  })

  it('URL-encodes id and secret in the Basic header (RFC 6749 §2.3.1)', async () => {
    const p = provider({ clientId: 'we:ird id', clientSecret: new Secret('p&ss=wörd') })
    expect((await p.getToken()).principal).toBe('we:ird id')
  })

  it('refreshes at 80 % (+ jitter) of the lifetime, bounded by min period and buffer', async () => {
    let now = Date.now()
    const p = provider({ now: () => now, random: () => 0, refreshMinPeriodMs: 0, refreshBufferMs: 0 })
    const first = await p.getToken()
    const lifetime = first.lifetimeMs - now
    expect(p.refreshAtMs! - now).toBeGreaterThanOrEqual(Math.floor(0.8 * lifetime) - 1000)
    expect(p.refreshAtMs! - now).toBeLessThanOrEqual(Math.ceil(0.8 * lifetime) + 1000)
    now = p.refreshAtMs! - 1
    expect(await p.getToken()).toBe(first)
    // Past the refresh time the refresh runs in the background: this authentication gets the
    // still-valid token at once, without waiting for the endpoint.
    now = p.refreshAtMs!
    expect(await p.getToken()).toBe(first)
    const second = await p.pendingRequest!
    expect(second).not.toBe(first)
    expect(await p.getToken()).toBe(second)
    // With Java's defaults (min period 60 s, buffer 300 s) a 600 s token refreshes no later than 300 s before expiry.
    const q = provider({ random: () => 1 })
    const t = await q.getToken()
    expect(q.refreshAtMs!).toBeLessThanOrEqual(t.lifetimeMs - 300_000)
  })

  it('reads exp from the JWT when expires_in is absent', async () => {
    oidc.includeExpiresIn = false
    try {
      const t = await provider().getToken()
      expect(t.lifetimeMs).toBe((jwtClaims(t.token)!.exp as number) * 1000)
    } finally {
      oidc.includeExpiresIn = true
    }
  })

  it('retries 5xx with exponential backoff within retry.backoff.max.ms', async () => {
    const waits: number[] = []
    oidc.failNext(3, 503)
    const p = provider({ retryBackoffMs: 10, retryBackoffMaxMs: 5000, sleep: async (ms) => void waits.push(ms) })
    expect((await p.getToken()).principal).toBe('app')
    expect(waits).toEqual([10, 20, 40])
  })

  it('gives up after the retry budget with a KafkaAuthenticationError', async () => {
    oidc.failNext(1000, 500)
    try {
      const p = provider({ retryBackoffMs: 5, retryBackoffMaxMs: 60 })
      await expect(p.getToken()).rejects.toThrow(/no token from .* HTTP 500/)
    } finally {
      oidc.failNext(0)
    }
  })

  it('fails at once on 401, without the secret in the message', async () => {
    const before = oidc.requests.length
    const p = provider({ clientSecret: 'wrong-secret-value', retryBackoffMs: 5 })
    const err = await p.getToken().then(
      () => null,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(KafkaAuthenticationError)
    expect((err as Error).message).toMatch(/HTTP 401 \(invalid_client: client authentication failed\) for client 'app'/)
    expect(oidc.requests.length).toBe(before + 1)
    const shown = `${(err as Error).message} ${inspect(err)} ${JSON.stringify(err)} ${inspect(p, { depth: 5 })}`
    expect(shown).not.toContain('wrong-secret-value')
  })

  it('refreshes in the background at the refresh time while the token is in use, and stops when it is not', async () => {
    let now = Date.now()
    const timers: { fn: () => void; ms: number }[] = []
    const p = provider({ now: () => now, random: () => 0, refreshMinPeriodMs: 0, refreshBufferMs: 0, timer: (fn, ms) => void timers.push({ fn, ms }) })
    const first = await p.getToken()
    expect(timers).toHaveLength(1)
    expect(timers[0]!.ms).toBe(p.refreshAtMs! - now)
    const before = oidc.requests.length
    now = p.refreshAtMs!
    timers[0]!.fn() // the refresh time comes: a request starts without any caller waiting
    const second = await p.pendingRequest!
    expect(second).not.toBe(first)
    expect(oidc.requests.length).toBe(before + 1)
    expect(await p.getToken()).toBe(second) // what a re-authentication then finds
    // Nobody asked for a token since that refresh: the next timer does nothing (a closed producer stops).
    expect(timers).toHaveLength(2)
    now = p.refreshAtMs!
    timers[1]!.fn()
    expect(p.pendingRequest).not.toBeNull() // used since (the getToken above): refreshes
    await p.pendingRequest
    const idle = timers.at(-1)!
    idle.fn()
    expect(p.pendingRequest).toBeNull() // not used since the last refresh: no request
  })

  it('waits for the refresh only when the cached token is about to expire', async () => {
    let now = Date.now()
    const p = provider({ now: () => now })
    const first = await p.getToken()
    now = first.lifetimeMs - 5_000 // less than the margin left
    const before = oidc.requests.length
    const fresh = await p.getToken()
    expect(fresh).not.toBe(first)
    expect(oidc.requests.length).toBe(before + 1)
  })

  it('keeps using a still-valid token when a refresh fails', async () => {
    let now = Date.now()
    const p = provider({ now: () => now, retryBackoffMs: 1, retryBackoffMaxMs: 1, sleep: async (ms) => void (now += ms) })
    const first = await p.getToken()
    now = p.refreshAtMs! + 1
    oidc.failNext(10, 503)
    try {
      expect(await p.getToken()).toBe(first)
    } finally {
      oidc.failNext(0)
    }
  })

  it('does not count a throw after a successful fetch as a failed request (no re-fetch)', async () => {
    let requests = 0
    let calls = 0
    const p = provider({
      fetch: ((...args: Parameters<typeof fetch>) => {
        requests++
        return fetch(...args)
      }) as typeof fetch,
      timer: () => {
        calls++
        throw new Error('timer broke')
      },
    })
    await expect(p.getToken()).rejects.toThrow(/timer broke/)
    expect(calls).toBe(1)
    expect(requests).toBe(1)
  })

  it('uses a web-style timer that returns a number (no unref) without failing', async () => {
    // A fetch without sockets, so that only the provider's own timers meet the web-style setTimeout.
    const body = JSON.stringify({ access_token: 'opaque-token', expires_in: 600 })
    const p = provider({ fetch: (async () => new Response(body, { status: 200 })) as typeof fetch })
    const realSetTimeout = globalThis.setTimeout
    const realClearTimeout = globalThis.clearTimeout
    let numbers = 0
    globalThis.setTimeout = (() => ++numbers) as unknown as typeof setTimeout
    globalThis.clearTimeout = (() => {}) as typeof clearTimeout
    try {
      expect((await p.getToken()).token).toBe('opaque-token')
      expect(numbers).toBeGreaterThanOrEqual(2) // the request timeout and the refresh timer
      p.close()
    } finally {
      globalThis.setTimeout = realSetTimeout
      globalThis.clearTimeout = realClearTimeout
    }
  })

  it('close() cancels the refresh timer, aborts the request in flight and refuses later tokens', async () => {
    const cancelled: number[] = []
    const timers: { fn: () => void; ms: number }[] = []
    let now = Date.now()
    const p = provider({
      now: () => now,
      timer: (fn, ms) => {
        const i = timers.push({ fn, ms }) - 1
        return () => void cancelled.push(i)
      },
    })
    await p.getToken()
    p.close()
    expect(cancelled).toEqual([0])
    const before = oidc.requests.length
    now = p.refreshAtMs! + 1
    timers[0]!.fn() // a timer that fires anyway does nothing
    expect(p.pendingRequest).toBeNull()
    await expect(p.getToken()).rejects.toThrow(/closed/)
    expect(oidc.requests.length).toBe(before)

    // A request in flight is aborted, and its retries stop.
    let seenSignal: AbortSignal | undefined
    const hanging = provider({
      fetch: ((_url: unknown, init: RequestInit) => {
        seenSignal = init.signal ?? undefined
        return new Promise((_resolve, reject) => init.signal!.addEventListener('abort', () => reject(new Error('aborted'))))
      }) as typeof fetch,
    })
    const pending = hanging.getToken()
    await new Promise((r) => setImmediate(r))
    hanging.close()
    expect(seenSignal?.aborted).toBe(true)
    await expect(pending).rejects.toThrow(/closed/)
  })

  it('retries a failed background refresh after 10 s and reports it without the secret', async () => {
    let now = Date.now()
    const timers: { fn: () => void; ms: number }[] = []
    const reports: string[] = []
    const p = provider({
      now: () => now,
      retryBackoffMs: 1,
      retryBackoffMaxMs: 1,
      sleep: async (ms) => void (now += ms),
      timer: (fn, ms) => void timers.push({ fn, ms }),
      onRefreshFailure: (message) => reports.push(message),
    })
    const first = await p.getToken()
    now = p.refreshAtMs!
    oidc.failNext(10, 503)
    try {
      timers[0]!.fn()
      await p.pendingRequest!.catch(() => {})
      await new Promise((r) => setImmediate(r))
    } finally {
      oidc.failNext(0)
    }
    expect(reports).toHaveLength(1)
    expect(reports[0]).toMatch(/background token refresh failed; retrying in 10 s: .*HTTP 503/)
    expect(reports[0]).not.toContain(secret)
    expect(timers).toHaveLength(2)
    expect(timers[1]!.ms).toBe(10_000)
    expect(await p.getToken()).toBe(first) // still valid meanwhile
    timers[1]!.fn() // the retry runs even with no new caller
    const second = await p.pendingRequest!
    expect(second).not.toBe(first)
    expect(await p.getToken()).toBe(second)
  })

  it('rejects bad endpoint URLs and extension names up front', () => {
    expect(() => provider({ tokenEndpointUrl: 'not a url' })).toThrow(/not a valid URL/)
    expect(() => provider({ tokenEndpointUrl: 'ftp://x/token' })).toThrow(/http/)
    expect(() => provider({ extensions: { auth: 'x' } })).toThrow(/reserved/)
  })
})
