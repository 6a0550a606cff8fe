/**
 * Timeouts that say why (issue 14): with a bootstrap address that cannot
 * work, the max.block.ms KafkaTimeoutError ends with a one-line summary of
 * the connection failures per broker and carries them as its `cause` (an
 * AggregateError of KafkaConnectionError, one per broker). Configuration
 * mistakes (a name that does not resolve, a peer that is not Kafka) are
 * warned about once, at the first failure. Covered: a refused port, an
 * unresolvable host, an HTTP server, a TLS-only port (node:tls, which closes
 * silently), a peer answering with a TLS alert record, a delivery timeout
 * whose leader went away, and one good plus one bad bootstrap address.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import tls from 'node:tls'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { KafkaConnectionError, KafkaProducer, KafkaTimeoutError, KafkaTlsError, type ProducerConfig } from '../../src/index.js'
import type { LogFields, Logger } from '../../src/util/logger.js'
import { FaultProxy } from '../harness/fault-proxy.js'
import { type MockCluster, startMockCluster } from '../harness/mock.js'

const MAX_BLOCK_MS = 1200

/** Configuration mistakes the producer's logger was told about (event connection.misconfigured), and every warn line. */
let warnings: { message: string; atMs: number }[] = []
let warnLines: { fields: LogFields; message: string }[] = []
const logger: Logger = {
  warn: (fields, message) => {
    warnLines.push({ fields, message })
    if (fields.event === 'connection.misconfigured') warnings.push({ message, atMs: Date.now() })
  },
  error: (fields, message) => void warnLines.push({ fields, message }),
}
const FAST_RECONNECT = { reconnectBackoffMs: 50, reconnectBackoffMaxMs: 200, maxBlockMs: MAX_BLOCK_MS, logger } satisfies Partial<ProducerConfig>
const producers: KafkaProducer[] = []
const servers: net.Server[] = []

beforeEach(() => {
  warnings = []
  warnLines = []
})

afterEach(async () => {
  await Promise.all(producers.splice(0).map((p) => p.close({ timeoutMs: 2000 })))
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))))
})

function newProducer(config: Partial<ProducerConfig> & { bootstrapServers: string }): KafkaProducer {
  const p = new KafkaProducer({ ...FAST_RECONNECT, ...config })
  producers.push(p)
  return p
}

async function listen(server: net.Server): Promise<number> {
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as net.AddressInfo).port
}

/** A port nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const s = net.createServer()
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  const port = (s.address() as net.AddressInfo).port
  await new Promise<void>((resolve) => s.close(() => resolve()))
  return port
}

async function sendError(producer: KafkaProducer, topic = 't'): Promise<KafkaTimeoutError> {
  const started = Date.now()
  const err = await producer.send({ topic, value: 'x' }).then(
    () => null,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(KafkaTimeoutError)
  expect(Date.now() - started).toBeGreaterThanOrEqual(MAX_BLOCK_MS - 50) // max.block.ms semantics are kept
  // Printed so the report can quote real messages.
  console.log(`[${expect.getState().currentTestName}] ${(err as Error).message}`)
  return err as KafkaTimeoutError
}

/** The error's cause: an AggregateError of one KafkaConnectionError per broker; returns the one for `port`. */
function brokerCause(err: KafkaTimeoutError, port: number): KafkaConnectionError {
  expect(err.cause).toBeInstanceOf(AggregateError)
  const errors = (err.cause as AggregateError).errors
  for (const e of errors) expect(e).toBeInstanceOf(KafkaConnectionError)
  const mine = errors.find((e: KafkaConnectionError) => e.port === port) as KafkaConnectionError | undefined
  expect(mine, `no cause for port ${port}`).toBeDefined()
  return mine!
}

describe('a metadata timeout names the connection failures behind it', () => {
  it('refused port: ECONNREFUSED with a count, no warning (a broker may be restarting)', async () => {
    const port = await freePort()
    const err = await sendError(newProducer({ bootstrapServers: `127.0.0.1:${port}` }))
    expect(err.message).toMatch(
      new RegExp(`^Topic 't' not present in metadata after ${MAX_BLOCK_MS} ms \\(max\\.block\\.ms\\); no broker reachable: 127\\.0\\.0\\.1:${port} ECONNREFUSED \\(\\d+ attempts\\)$`),
    )
    const c = brokerCause(err, port)
    expect(c.kind).toBe('REFUSED')
    expect(c.errno).toBe('ECONNREFUSED')
    expect(c.host).toBe('127.0.0.1')
    expect(c.attempts).toBeGreaterThan(1)
    expect(c.message).toBe(`127.0.0.1:${port} ECONNREFUSED (${c.attempts} attempts)`)
    expect((c.cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED')
    expect((err.cause as AggregateError).message).toBe(c.message)
    expect(warnings).toEqual([])
    // Logged once for all those attempts: the cause with the address, not one line per reconnect.
    expect(warnLines.map((l) => l.fields)).toEqual([
      expect.objectContaining({ event: 'connection.failed', nodeId: -1, broker: `127.0.0.1:${port}`, cause: 'ECONNREFUSED' }),
    ])
  })

  it('unresolvable host: DNS, warned once at the first failure', async () => {
    const started = Date.now()
    const err = await sendError(newProducer({ bootstrapServers: 'no-such-host.invalid:9092' }))
    // ENOTFOUND with a resolver; EAI_AGAIN where the machine has none.
    expect(err.message).toMatch(/; no broker reachable: no-such-host\.invalid:9092 (ENOTFOUND|EAI_AGAIN) \(\d+ attempts\)$/)
    const c = brokerCause(err, 9092)
    expect(c.kind).toBe('DNS')
    expect(c.host).toBe('no-such-host.invalid')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]!.message).toMatch(
      /^kafka-producer-ts: bootstrap server no-such-host\.invalid:9092 cannot be resolved \((ENOTFOUND|EAI_AGAIN): .*\); no bootstrap server can be resolved \(no-such-host\.invalid:9092\): sends will fail after max\.block\.ms$/,
    )
    expect(warnings[0]!.atMs - started).toBeLessThan(MAX_BLOCK_MS / 2) // as soon as it is known, not at the timeout
  })

  it('an HTTP server: not a Kafka broker (looks like HTTP), warned once', async () => {
    const server = http.createServer((_req, res) => res.end('hello'))
    const port = await listen(server)
    const err = await sendError(newProducer({ bootstrapServers: `127.0.0.1:${port}` }))
    expect(err.message).toMatch(new RegExp(`; no broker reachable: 127\\.0\\.0\\.1:${port} not a Kafka broker \\(looks like HTTP\\) \\(\\d+ attempts\\)$`))
    const c = brokerCause(err, port)
    expect(c.kind).toBe('NOT_KAFKA')
    expect((c.cause as Error).message).toBe('not a Kafka broker: the first response was not a Kafka frame (looks like HTTP)')
    expect(warnings.map((w) => w.message)).toEqual([
      `kafka-producer-ts: bootstrap server 127.0.0.1:${port} is not a Kafka broker: the first response was not a Kafka frame (looks like HTTP)`,
    ])
  })

  it('a peer answering with a TLS alert record (as an SSL listener may): a prompt KafkaTlsError, warned once as looks like TLS', async () => {
    const server = net.createServer((s) => {
      s.on('error', () => {})
      // alert(21), TLS 1.2, length 2: fatal(2) protocol_version(70)
      s.once('data', () => s.end(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46])))
    })
    const port = await listen(server)
    // A TLS listener is a configuration mistake that retrying cannot fix: like other TLS
    // failures it fails the send at once (KafkaTlsError), not after max.block.ms.
    const started = Date.now()
    const err = await newProducer({ bootstrapServers: `127.0.0.1:${port}` })
      .send({ topic: 't', value: 'x' })
      .then(
        () => null,
        (e: unknown) => e,
      )
    expect(err).toBeInstanceOf(KafkaTlsError)
    expect((err as KafkaTlsError).reason).toBe('PLAINTEXT_ON_TLS_LISTENER')
    expect(Date.now() - started).toBeLessThan(MAX_BLOCK_MS)
    expect(warnings.map((w) => w.message)).toEqual([
      `kafka-producer-ts: bootstrap server 127.0.0.1:${port} is not a Kafka broker: the first response was not a Kafka frame (looks like TLS: is this an SSL listener?)`,
    ])
  })

  describe('a TLS-only port (node:tls)', () => {
    let dir: string
    let key: Buffer
    let cert: Buffer
    beforeAll(() => {
      // A throwaway self-signed certificate, made for this run only.
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kp-tls-'))
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '1', '-subj', '/CN=localhost'], {
        cwd: dir,
        stdio: 'ignore',
      })
      key = fs.readFileSync(path.join(dir, 'key.pem'))
      cert = fs.readFileSync(path.join(dir, 'cert.pem'))
    })
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

    it('closes without a byte of answer: named as a handshake close, with the SSL hint warned once', async () => {
      const server = tls.createServer({ key, cert }, () => {})
      server.on('tlsClientError', () => {}) // our plaintext ApiVersions is not a ClientHello
      const port = await listen(server)
      if (process.versions.bun !== undefined || 'Deno' in globalThis) {
        // Bun's and Deno's node:tls servers (BoringSSL, rustls) answer bytes that are not a
        // ClientHello with an alert record, where Node's OpenSSL closes silently: this
        // server is then the TLS-alert case above, a prompt KafkaTlsError.
        const err = await newProducer({ bootstrapServers: `127.0.0.1:${port}` })
          .send({ topic: 't', value: 'x' })
          .then(
            () => null,
            (e: unknown) => e,
          )
        expect(err).toBeInstanceOf(KafkaTlsError)
        expect((err as KafkaTlsError).reason).toBe('PLAINTEXT_ON_TLS_LISTENER')
        return
      }
      const err = await sendError(newProducer({ bootstrapServers: `127.0.0.1:${port}` }))
      expect(err.message).toMatch(
        new RegExp(`; no broker reachable: 127\\.0\\.0\\.1:${port} closed during the ApiVersions handshake \\(\\d+ attempts\\)$`),
      )
      const c = brokerCause(err, port)
      expect(c.kind).toBe('RESET')
      expect(warnings).toHaveLength(1)
      expect(warnings[0]!.message).toContain(`bootstrap server 127.0.0.1:${port} closed the connection without answering the ApiVersions request`)
      expect(warnings[0]!.message).toContain('SSL')
    })
  })
})

describe('with a broker', () => {
  let mock: MockCluster
  beforeAll(async () => {
    mock = await startMockCluster({ brokers: 1 })
    await mock.createTopic('ok', 1, 1)
  }, 60_000)
  afterAll(async () => {
    await mock?.stop()
  })

  it('one good and one unresolvable bootstrap address: sends succeed, the bad one is warned about once', async () => {
    // The bad address first, and random() = 0 so the first connection goes to it.
    const producer = new KafkaProducer(
      { ...FAST_RECONNECT, bootstrapServers: `no-such-host.invalid:9092,${mock.bootstrap}`, lingerMs: 0 },
      { random: () => 0 },
    )
    producers.push(producer)
    for (let i = 0; i < 20; i++) {
      const md = await producer.send({ topic: 'ok', value: `v${i}` })
      expect(md.offset).toBeGreaterThanOrEqual(0n)
    }
    expect(warnings).toHaveLength(1)
    expect(warnings[0]!.message).toMatch(/^kafka-producer-ts: bootstrap server no-such-host\.invalid:9092 cannot be resolved \((ENOTFOUND|EAI_AGAIN): /)
    // Not every bootstrap server failed: the warning does not say so.
    expect(warnings[0]!.message).not.toContain('no bootstrap server can be resolved')
  }, 30_000)

  it('a delivery timeout while the leader refuses connections names the leader', async () => {
    const proxy = await FaultProxy.start(mock.bootstrap)
    try {
      const producer = newProducer({ bootstrapServers: proxy.bootstrap, lingerMs: 0, requestTimeoutMs: 500, deliveryTimeoutMs: 1500 })
      await producer.send({ topic: 'ok', value: 'warm-up' })
      const port = Number(proxy.bootstrap.split(':')[1])
      await proxy.close() // the leader's address now refuses connections
      const err = await producer.send({ topic: 'ok', value: 'late' }).then(
        () => null,
        (e: unknown) => e as KafkaTimeoutError,
      )
      expect(err).toBeInstanceOf(KafkaTimeoutError)
      console.log(`[delivery] ${err!.message}`)
      expect(err!.message).toMatch(
        new RegExp(`^Expiring 1 record\\(s\\) for ok-0: \\d+ ms has passed since batch creation \\(delivery\\.timeout\\.ms=1500\\); leader unreachable: 127\\.0\\.0\\.1:${port} .*ECONNREFUSED \\(\\d+ attempts?\\)$`),
      )
      const c = brokerCause(err!, port)
      expect(c.nodeId).toBe(1)
      expect(c.kind).toBe('REFUSED')
    } finally {
      await proxy.close()
    }
  }, 30_000)
})
