import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { inspect } from 'node:util'
import tls from 'node:tls'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { JaasParseError, parseJaasConfig } from '../../src/clients/sasl/jaas.js'
import { resolveProducerConfig, type ProducerConfig, type ResolvedProducerConfig } from '../../src/config.js'
import { KafkaConfigError } from '../../src/errors.js'
import { KafkaProducer } from '../../src/producer/kafka-producer.js'
import { transportFactoryFor } from '../../src/producer/producer-wiring.js'
import { Secret } from '../../src/util/secret.js'
import { makeTestCertificates, type TestCertificates } from '../harness/certs.js'
import { startOidcServer, type OidcServer } from '../harness/oidc.js'
import { ScriptedClient } from '../harness/scripted-client.js'

const BASE = { bootstrapServers: 'localhost:9092' }
const resolve = (extra: Record<string, unknown>): ResolvedProducerConfig => resolveProducerConfig({ ...BASE, ...extra } as ProducerConfig, { onWarning: () => {} })
function configError(extra: Record<string, unknown>): KafkaConfigError {
  try {
    resolve(extra)
  } catch (e) {
    expect(e).toBeInstanceOf(KafkaConfigError)
    return e as KafkaConfigError
  }
  throw new Error('expected a KafkaConfigError')
}
const ctx = { host: 'broker-1', port: 9093, nodeId: 1 }
const startText = async (c: ResolvedProducerConfig) => (await c.security.sasl!.create(ctx).start()).toString('utf8')

let certs: TestCertificates
let dir: string
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'config-security-'))
  certs = makeTestCertificates(dir)
})
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true })
})

describe('TLS settings', () => {
  it('ssl: true is SSL with Node CAs and hostname verification', () => {
    const c = resolve({ ssl: true })
    expect(c.securityProtocol).toBe('SSL')
    expect(c.security.protocol).toBe('SSL')
    expect(c.security.sasl).toBeNull()
    const t = c.security.tls!
    expect(t).toMatchObject({ ca: undefined, cert: undefined, key: undefined, rejectUnauthorized: true, verifyHostname: true })
    const byName = t.connectOptions('broker-1.example', 9093)
    expect(byName).toMatchObject({ host: 'broker-1.example', port: 9093, servername: 'broker-1.example', rejectUnauthorized: true })
    expect(byName.checkServerIdentity).toBeTypeOf('function')
    // SNI must not be an IP address (RFC 6066 §3).
    expect(t.connectOptions('127.0.0.1', 9093).servername).toBeUndefined()
    expect(resolve({ ssl: false }).security.protocol).toBe('PLAINTEXT')
  })

  it('typed ssl object: PEM strings/Buffers, key and passphrase kept as Secrets', () => {
    const c = resolve({
      ssl: { ca: certs.caPem, cert: Buffer.from(certs.client.certPem), key: certs.client.keyPem, passphrase: certs.client.keyPassword, servername: 'localhost' },
    })
    const t = c.security.tls!
    expect(t.key).toBeInstanceOf(Secret)
    expect(t.passphrase).toBeInstanceOf(Secret)
    const o = t.connectOptions('127.0.0.1', 1)
    expect(o.servername).toBe('localhost')
    expect(o.key).toBe(certs.client.keyPem)
    expect(o.passphrase).toBe(certs.client.keyPassword)
    expect(o.ca).toEqual([certs.caPem])
    const shown = inspect(c, { depth: Infinity }) + JSON.stringify(c)
    expect(shown).not.toContain(certs.client.keyPassword!)
    expect(shown).not.toContain('PRIVATE KEY')
    expect(shown).toContain('[hidden]')
  })

  it('Kafka names: ssl.*.location files and ssl.*.pem text', () => {
    const byFile = resolve({
      'security.protocol': 'ssl',
      'ssl.ca.location': certs.caFile,
      'ssl.certificate.location': certs.client.certFile,
      'ssl.key.location': certs.client.keyFile,
      'ssl.key.password': certs.client.keyPassword,
    })
    expect(byFile.securityProtocol).toBe('SSL')
    const o = byFile.security.tls!.connectOptions('localhost', 1)
    expect((o.ca as Buffer[])[0]!.toString()).toBe(certs.caPem)
    expect((o.key as Buffer).toString()).toBe(certs.client.keyPem)
    const byPem = resolve({
      'security.protocol': 'SASL_SSL',
      'ssl.ca.pem': certs.caPem,
      'ssl.certificate.pem': certs.client.certPem,
      'ssl.key.pem': certs.client.keyPem,
      'ssl.key.password': certs.client.keyPassword,
      'sasl.mechanism': 'PLAIN',
      'sasl.username': 'u',
      'sasl.password': 'p',
    })
    expect(byPem.security.protocol).toBe('SASL_SSL')
    // Kafka-name strings are trimmed like .properties values; PEM does not mind.
    expect(byPem.security.tls!.connectOptions('localhost', 1).cert).toBe(certs.client.certPem.trim())
    expect(byPem.sslKeyPem).toBeInstanceOf(Secret)
    // camelCase names too, and ssl: true with properties.
    const camel = resolve({ ssl: true, sslCaLocation: certs.caFile })
    expect(camel.security.tls!.ca).toHaveLength(1)
  })

  // Deno's node:tls builds a context from a key that does not match its certificate without complaint (it
  // fails later, at the handshake), so the construction-time error is Node's and Bun's.
  it.skipIf('Deno' in globalThis)('a TLS context that cannot be built is blamed on the inputs given, never showing the key or passphrase', () => {
    const contextError = (ssl: Record<string, unknown>, fail = false): KafkaConfigError => {
      const c = resolve({ ssl })
      // Node accepts unparsable CA text silently; a context failure with only a CA is forced here.
      const t = c.security.tls!
      const failing = { ...t, createSecureContext: () => { throw new Error('forced failure') } }
      try {
        transportFactoryFor(fail ? { ...c, security: { ...c.security, tls: failing } } : c, () => {})
      } catch (e) {
        expect(e).toBeInstanceOf(KafkaConfigError)
        return e as KafkaConfigError
      }
      throw new Error('expected a KafkaConfigError')
    }
    const onlyCa = contextError({ ca: certs.caPem }, true)
    expect(onlyCa.message).toMatch(/CA certificates \(ssl.ca\) cannot be loaded: forced failure/)
    expect(onlyCa.message).not.toMatch(/key/)
    // A certificate that is not the key's: the pair is blamed, with its passphrase named but not shown.
    const mismatch = contextError({ ca: certs.caPem, cert: certs.expired.certPem, key: certs.client.keyPem, passphrase: certs.client.keyPassword })
    expect(mismatch.message).toMatch(/client certificate and key \(with its passphrase\) cannot be used together/)
    const unencrypted = contextError({ cert: certs.client.certPem, key: certs.untrustedClient.keyPem })
    expect(unencrypted.message).toMatch(/the TLS client certificate and key cannot be used together/)
    for (const e of [onlyCa, mismatch, unencrypted]) {
      const shown = `${e.message} ${inspect(e)}`
      expect(shown).not.toContain(certs.client.keyPassword)
      expect(shown).not.toContain('PRIVATE KEY')
    }
  })

  it('one SecureContext per producer: the key is parsed once, and no connection carries key material in its options', () => {
    const c = resolve({ ssl: { ca: certs.caPem, cert: certs.client.certPem, key: certs.client.keyPem, passphrase: certs.client.keyPassword } })
    const created = vi.spyOn(tls, 'createSecureContext')
    const connects = vi.spyOn(tls, 'connect')
    try {
      const factory = transportFactoryFor(c, () => {})
      expect(created).toHaveBeenCalledTimes(1)
      const sockets = [factory.connect('127.0.0.1', 1), factory.connect('localhost', 1), factory.connect('127.0.0.1', 2)].map((t) => t.socket)
      for (const s of sockets) {
        s.on('error', () => {})
        s.destroy()
      }
      expect(created).toHaveBeenCalledTimes(1)
      expect(connects).toHaveBeenCalledTimes(3)
      const contexts = new Set<unknown>()
      for (const [options] of connects.mock.calls as unknown as [tls.ConnectionOptions][]) {
        expect(options.secureContext).toBeDefined()
        contexts.add(options.secureContext)
        expect(options).not.toHaveProperty('key')
        expect(options).not.toHaveProperty('passphrase')
        expect(options).not.toHaveProperty('cert')
        expect(options.rejectUnauthorized).toBe(true)
      }
      expect(contexts.size).toBe(1)
      expect((connects.mock.calls[1]![0] as tls.ConnectionOptions).servername).toBe('localhost')
    } finally {
      created.mockRestore()
      connects.mockRestore()
    }
  })

  it('ssl.endpoint.identification.algorithm: https (default), empty or none', () => {
    expect(resolve({ ssl: true }).security.tls!.verifyHostname).toBe(true)
    expect(resolve({ ssl: true, 'ssl.endpoint.identification.algorithm': '' }).security.tls!.verifyHostname).toBe(false)
    expect(resolve({ ssl: true, 'ssl.endpoint.identification.algorithm': 'none' }).security.tls!.verifyHostname).toBe(false)
    const off = resolve({ ssl: true, sslEndpointIdentificationAlgorithm: '' }).security.tls!.connectOptions('h', 1)
    expect(off.checkServerIdentity!('h', {} as never)).toBeUndefined()
    expect(configError({ ssl: true, 'ssl.endpoint.identification.algorithm': 'http' }).key).toBe('ssl.endpoint.identification.algorithm')
  })

  it('rejects bad or inconsistent TLS settings, naming the key', () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ 'security.protocol': 'PLAINTEXT', ssl: true }, 'ssl', /need security.protocol SSL or SASL_SSL, but it is PLAINTEXT/],
      [{ 'security.protocol': 'SASL_PLAINTEXT', 'ssl.ca.location': certs.caFile, 'sasl.mechanism': 'PLAIN' }, 'ssl.ca.location', /SSL or SASL_SSL/],
      [{ 'ssl.ca.location': certs.caFile }, 'ssl.ca.location', /TLS is off/],
      [{ ssl: { ca: certs.caPem }, 'ssl.ca.location': certs.caFile }, 'ssl.ca.location', /cannot be combined with the 'ssl' object/],
      [{ ssl: true, 'ssl.ca.location': '/nonexistent/ca.pem' }, 'ssl.ca.location', /cannot read .*ENOENT/],
      [{ ssl: true, 'ssl.ca.location': certs.caFile, 'ssl.ca.pem': certs.caPem }, 'ssl.ca.pem', /either/],
      [{ ssl: { ca: 'not a pem' } }, 'ssl.ca', /PEM/],
      [{ ssl: { cert: certs.client.certPem } }, 'ssl.cert', /private key/],
      [{ ssl: { key: certs.broker.keyPem, passphrase: certs.broker.keyPassword } }, 'ssl.key', /client certificate/],
      [{ ssl: { cert: certs.client.certPem, key: certs.client.keyPem } }, 'ssl.key', /is encrypted: give its passphrase \(ssl.passphrase\)/],
      [{ ssl: { cert: certs.client.certPem, key: certs.client.keyPem, passphrase: 'wrong-passphrase-123' } }, 'ssl.key', /could not be decrypted/],
      [
        { ssl: true, 'ssl.certificate.location': certs.client.certFile, 'ssl.key.location': certs.client.keyFile, 'ssl.key.password': 'wrong-passphrase-123' },
        'ssl.key.location',
        /could not be decrypted with ssl.key.password/,
      ],
      [{ ssl: { rejectUnauthorized: 'no' } }, 'ssl.rejectUnauthorized', /boolean/],
      [{ ssl: { ciphers: 'x' } }, 'ssl.ciphers', /unknown TLS option/],
      [{ ssl: 'yes' }, 'ssl', /expected true, false or/],
      [{ 'security.protocol': 'TLS' }, 'security.protocol', /PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL/],
    ]
    for (const [extra, key, message] of cases) {
      const e = configError(extra)
      expect(e.key, JSON.stringify(Object.keys(extra))).toBe(key)
      expect(e.message).toMatch(message)
      expect(e.message).not.toContain('wrong-passphrase-123')
      expect(e.message).not.toContain(certs.client.keyPassword!)
    }
  })
})

describe('SASL settings', () => {
  it('typed sasl: PLAIN, SCRAM, OAUTHBEARER token provider, custom; protocol derived', async () => {
    const plain = resolve({ sasl: { mechanism: 'PLAIN', username: 'alice', password: 'pw1' } })
    expect(plain.security.protocol).toBe('SASL_PLAINTEXT')
    expect(plain.security.tls).toBeNull()
    expect(await startText(plain)).toBe('\0alice\0pw1')
    const scram = resolve({ ssl: true, sasl: { mechanism: 'SCRAM-SHA-512', username: 'bob', password: new Secret('pw2') } })
    expect(scram.security.protocol).toBe('SASL_SSL')
    expect(scram.security.sasl!.mechanism).toBe('SCRAM-SHA-512')
    expect(await startText(scram)).toMatch(/^n,,n=bob,r=/)
    const oauth = resolve({ sasl: { mechanism: 'OAUTHBEARER', tokenProvider: async () => ({ token: 'a.b.c', lifetimeMs: Date.now() + 1000 }), extensions: { x: 'y' } } })
    expect(await startText(oauth)).toBe('n,,\x01auth=Bearer a.b.c\x01x=y\x01\x01')
    const custom = { mechanism: 'AWS_MSK_IAM', create: () => ({ name: 'AWS_MSK_IAM', complete: false, start: async () => Buffer.alloc(0), evaluate: async () => null }) }
    const c = resolve({ 'security.protocol': 'SASL_SSL', sasl: custom })
    expect(c.security.sasl).toBe(custom)
    expect(c.security.protocol).toBe('SASL_SSL')
  })

  it('Kafka names: sasl.mechanism(s), sasl.username / sasl.password, any case', async () => {
    const c = resolve({ 'security.protocol': 'sasl_plaintext', 'sasl.mechanisms': 'scram-sha-256', 'sasl.username': 'u=1', 'sasl.password': 'p' })
    expect(c.saslMechanism).toBe('SCRAM-SHA-256')
    expect(c.securityProtocol).toBe('SASL_PLAINTEXT')
    expect(await startText(c)).toMatch(/^n,,n=u=3D1,r=/)
    expect(c.saslPassword).toBeInstanceOf(Secret)
    // The same value under both spellings is fine; different values are not.
    expect(resolve({ 'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'PLAIN', 'sasl.mechanisms': 'PLAIN', 'sasl.username': 'u', 'sasl.password': 'p' }).saslMechanism).toBe('PLAIN')
    expect(configError({ 'sasl.mechanism': 'PLAIN', 'sasl.mechanisms': 'SCRAM-SHA-256' }).key).toBe('sasl.mechanisms')
  })

  it('sasl.jaas.config with PlainLoginModule and ScramLoginModule', async () => {
    const plain = resolve({
      'security.protocol': 'SASL_SSL',
      'sasl.mechanism': 'PLAIN',
      'sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="p\\"w;=x";',
    })
    expect(await startText(plain)).toBe('\0alice\0p"w;=x')
    const scram = resolve({
      'security.protocol': 'SASL_SSL',
      'sasl.mechanism': 'SCRAM-SHA-512',
      'sasl.jaas.config': 'org.apache.kafka.common.security.scram.ScramLoginModule required\n  username=alice\n  password="secret";',
    })
    expect(await startText(scram)).toMatch(/^n,,n=alice,r=/)
  })

  it('OAUTHBEARER from properties (librdkafka oidc and Java JAAS forms) against the harness OIDC server', async () => {
    const oidc: OidcServer = await startOidcServer({ clients: [{ id: 'app', secret: 'oidc-secret-1' }] })
    try {
      const lib = resolve({
        'security.protocol': 'SASL_SSL',
        'sasl.mechanism': 'OAUTHBEARER',
        'sasl.oauthbearer.method': 'oidc',
        'sasl.oauthbearer.client.id': 'app',
        'sasl.oauthbearer.client.secret': 'oidc-secret-1',
        'sasl.oauthbearer.token.endpoint.url': oidc.tokenUrl,
        'sasl.oauthbearer.scope': 'kafka',
        'sasl.oauthbearer.extensions': 'traceId=abc, org=sales',
      })
      expect(await startText(lib)).toMatch(/^n,,\x01auth=Bearer [\w-]+\.[\w-]+\.[\w-]+\x01traceId=abc\x01org=sales\x01\x01$/)
      expect(oidc.requests.at(-1)).toMatchObject({ clientId: 'app', scope: 'kafka', auth: 'basic', status: 200 })
      const java = resolve({
        'security.protocol': 'SASL_SSL',
        'sasl.mechanism': 'OAUTHBEARER',
        'sasl.oauthbearer.token.endpoint.url': oidc.tokenUrl,
        'sasl.jaas.config': 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="app" clientSecret="oidc-secret-1" extension_team="core";',
      })
      expect(await startText(java)).toMatch(/\x01team=core\x01\x01$/)
      const typed = resolve({ ssl: true, sasl: { mechanism: 'OAUTHBEARER', oidc: { tokenEndpointUrl: oidc.tokenUrl, clientId: 'app', clientSecret: 'oidc-secret-1' } } })
      expect(await startText(typed)).toMatch(/^n,,\x01auth=Bearer /)
      for (const c of [lib, java, typed]) expect(inspect(c, { depth: Infinity }) + JSON.stringify(c)).not.toContain('oidc-secret-1')
    } finally {
      await oidc.stop()
    }
  })

  it("closing the producer closes its OIDC token provider: no more token requests", async () => {
    const oidc: OidcServer = await startOidcServer({ clients: [{ id: 'app', secret: 'oidc-secret-1' }] })
    try {
      const producer = new KafkaProducer(
        { ...BASE, sasl: { mechanism: 'OAUTHBEARER', oidc: { tokenEndpointUrl: oidc.tokenUrl, clientId: 'app', clientSecret: 'oidc-secret-1' } } },
        { createClient: (parts) => new ScriptedClient(parts.metadata, parts.time) },
      )
      const factory = (producer as unknown as { config: ResolvedProducerConfig }).config.security.sasl!
      expect((await factory.create(ctx).start()).toString('utf8')).toMatch(/^n,,\x01auth=Bearer /)
      const before = oidc.requests.length
      await producer.close({ timeoutMs: 0 })
      await expect(factory.create(ctx).start()).rejects.toThrow(/token provider is closed/)
      expect(oidc.requests.length).toBe(before)
    } finally {
      await oidc.stop()
    }
  })

  it('rejects bad or inconsistent SASL settings, naming the key', () => {
    const S = { 'security.protocol': 'SASL_SSL' }
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ 'security.protocol': 'SSL', 'sasl.mechanism': 'PLAIN', 'sasl.username': 'u', 'sasl.password': 'pw-secret-42' }, 'sasl.mechanism', /SASL_PLAINTEXT or SASL_SSL, but it is SSL/],
      [{ securityProtocol: 'PLAINTEXT', sasl: { mechanism: 'PLAIN', username: 'u', password: 'pw-secret-42' } }, 'sasl', /but it is PLAINTEXT/],
      [{ 'sasl.username': 'u', 'sasl.password': 'pw-secret-42' }, 'sasl.username', /SASL is off/],
      [{ ...S }, 'sasl.mechanism', /is required with security.protocol SASL_SSL/],
      [{ ...S, 'sasl.mechanism': 'GSSAPI' }, 'sasl.mechanism', /custom mechanism in the 'sasl' option/],
      [{ ...S, 'sasl.mechanism': 'PLAIN', 'sasl.username': 'u' }, 'sasl.password', /is required for PLAIN/],
      [{ ...S, 'sasl.mechanism': 'SCRAM-SHA-256', 'sasl.password': 'pw-secret-42' }, 'sasl.username', /is required/],
      [{ ...S, sasl: { mechanism: 'PLAIN', username: 'u', password: 'pw-secret-42' }, 'sasl.username': 'u' }, 'sasl.username', /cannot be combined/],
      [{ sasl: { mechanism: 'PLAIN', username: 'u' } }, 'sasl.password', /is required for PLAIN/],
      [{ sasl: { mechanism: 'SCRAM-SHA-1', username: 'u', password: 'pw-secret-42' } }, 'sasl.mechanism', /expected 'PLAIN'/],
      [{ sasl: { mechanism: 'PLAIN', username: 'u', password: 'pw-secret-42', extra: 1 } }, 'sasl.extra', /unknown option/],
      [{ sasl: { mechanism: 'OAUTHBEARER' } }, 'sasl', /tokenProvider function or oidc/],
      [{ sasl: { mechanism: 'OAUTHBEARER', oidc: { tokenEndpointUrl: 'ftp://x', clientId: 'a', clientSecret: 'pw-secret-42' } } }, 'sasl.oidc.tokenEndpointUrl', /http or https URL/],
      [{ sasl: { mechanism: 'OAUTHBEARER', tokenProvider: async () => null, extensions: { auth: 'x' } } }, 'sasl.extensions', /reserved/],
      [
        { ...S, 'sasl.mechanism': 'SCRAM-SHA-256', 'sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="pw-secret-42";' },
        'sasl.jaas.config',
        /needs org.apache.kafka.common.security.scram.ScramLoginModule/,
      ],
      [{ ...S, 'sasl.mechanism': 'PLAIN', 'sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required password="pw-secret-42"' }, 'sasl.jaas.config', /cannot be parsed: expected ';'/],
      [{ ...S, 'sasl.mechanism': 'PLAIN', 'sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required password="pw-secret-42";' }, 'sasl.jaas.config', /no username/],
      [
        { ...S, 'sasl.mechanism': 'PLAIN', 'sasl.username': 'u', 'sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required username=u password="pw-secret-42";' },
        'sasl.username',
        /either in sasl.jaas.config/,
      ],
      [{ ...S, 'sasl.mechanism': 'OAUTHBEARER' }, 'sasl.mechanism', /needs a token source/],
      [{ ...S, 'sasl.mechanism': 'OAUTHBEARER', 'sasl.oauthbearer.method': 'oidc' }, 'sasl.oauthbearer.token.endpoint.url', /is required with sasl.oauthbearer.method=oidc/],
      [{ ...S, 'sasl.mechanism': 'OAUTHBEARER', 'sasl.oauthbearer.token.endpoint.url': 'http://x/token', 'sasl.oauthbearer.client.secret': 'pw-secret-42' }, 'sasl.oauthbearer.client.id', /required/],
      [{ ...S, 'sasl.mechanism': 'OAUTHBEARER', 'sasl.oauthbearer.token.endpoint.url': 'http://x/token', 'sasl.oauthbearer.client.id': 'a' }, 'sasl.oauthbearer.client.secret', /required/],
      [
        { ...S, 'sasl.mechanism': 'OAUTHBEARER', 'sasl.oauthbearer.token.endpoint.url': 'http://x/token', 'sasl.oauthbearer.client.id': 'a', 'sasl.oauthbearer.client.secret': 'pw-secret-42', 'sasl.oauthbearer.extensions': 'bad' },
        'sasl.oauthbearer.extensions',
        /key=value/,
      ],
      [{ ...S, 'sasl.mechanism': 'PLAIN', 'sasl.username': 'u', 'sasl.password': 'p', 'sasl.oauthbearer.scope': 's' }, 'sasl.oauthbearer.scope', /OAUTHBEARER only/],
      [{ 'sasl.password': 42 }, 'sasl.password', /expected a string or a Secret, got number/],
      [{ 'sasl.password': 'pw-secret-42', saslPassword: 'pw-secret-43' }, 'saslPassword', /both name the same option/],
    ]
    for (const [extra, key, message] of cases) {
      const e = configError(extra)
      expect(e.key, JSON.stringify(Object.keys(extra))).toBe(key)
      expect(e.message).toMatch(message)
      const shown = `${e.message} ${inspect(e, { depth: Infinity })} ${JSON.stringify(e)}`
      expect(shown).not.toContain('pw-secret-4')
    }
  })
})

describe('secrets in the resolved config', () => {
  it('never appear in inspect or JSON, whatever option carried them', () => {
    const c = resolve({
      'security.protocol': 'SASL_SSL',
      'sasl.mechanism': 'OAUTHBEARER',
      'sasl.oauthbearer.token.endpoint.url': 'http://127.0.0.1:1/token',
      'sasl.oauthbearer.client.id': 'app',
      'sasl.oauthbearer.client.secret': 'S3CRET-client',
      'sasl.jaas.config': 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required extension_a="b";',
      'ssl.key.pem': certs.client.keyPem,
      'ssl.certificate.pem': certs.client.certPem,
      'ssl.key.password': certs.client.keyPassword,
    })
    const shown = inspect(c, { depth: Infinity, showHidden: true }) + JSON.stringify(c) + String(c.saslOauthbearerClientSecret)
    for (const secret of ['S3CRET-client', certs.client.keyPassword!, 'ENCRYPTED PRIVATE KEY', 'extension_a']) expect(shown).not.toContain(secret)
  })

  it('never appear in the error for a mistyped ssl or sasl option (a string, as from a properties file)', () => {
    for (const [key, value] of [
      ['ssl', `{"key":"${certs.client.keyPem}"}`],
      ['sasl', '{"mechanism":"PLAIN","username":"u","password":"S3CRET-pw"}'],
    ] as const) {
      let message = ''
      try {
        resolve({ [key]: value })
      } catch (e) {
        expect(e).toBeInstanceOf(KafkaConfigError)
        message = (e as Error).message
      }
      expect(message).toMatch(/got a string/)
      expect(message).not.toContain('S3CRET-pw')
      expect(message).not.toContain('PRIVATE KEY')
    }
  })
})

describe('JAAS parser', () => {
  it('reads Java JaasConfig syntax: words, quoted values with escapes, comments', () => {
    expect(parseJaasConfig('org.example.Module required;')).toEqual({ loginModule: 'org.example.Module', flag: 'required', options: {} })
    const m = parseJaasConfig(
      ' /* c */ org.apache.kafka.common.security.scram.ScramLoginModule   REQUIRED // line\n username="a b" password="q\\"uo\\\\te=;,\\n" token=x-1.2_$ ;  ',
    )
    expect(m.flag).toBe('required')
    expect(m.options).toEqual({ username: 'a b', password: 'q"uo\\te=;,\n', token: 'x-1.2_$' })
    expect(parseJaasConfig('M optional a = "" ;').options).toEqual({ a: '' })
  })

  it('rejects malformed text without quoting it', () => {
    const bad = [
      ['', /exactly one login module, found 0/],
      ['M required;N required;', /exactly one login module, found 2/],
      ['M mandatory;', /control flag/],
      ['M required a="secret-x"', /expected ';'/],
      ['M required a="secret-x;', /unterminated quoted value/],
      ['M required a "secret-x";', /expected '=' after option 'a'/],
      ['M required a="secret-x" a="y";', /given twice/],
      ['M required /* secret-x', /unterminated comment/],
    ] as const
    for (const [text, message] of bad) {
      let err: unknown
      try {
        parseJaasConfig(text)
      } catch (e) {
        err = e
      }
      expect(err, text).toBeInstanceOf(JaasParseError)
      expect((err as Error).message).toMatch(message)
      expect((err as Error).message).not.toContain('secret-x')
    }
  })
})
