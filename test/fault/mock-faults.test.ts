/**
 * The fault matrix against librdkafka's mock cluster (3 brokers): one
 * scenario per fault, each on a fresh mock cluster (per-broker error stacks
 * cannot be cleared) with its own 6-partition, rf 3 topic. Each sends 100,000
 * keyed records while the fault hits, then reads the topic back with kcat.
 *
 * What the 2.0.2 mock does (see README.md in this folder):
 * - An injected Produce error (push_errors) applies to the whole request and
 *   is returned *instead of* appending; an injected disconnect (_TRANSPORT)
 *   closes the connection and appends nothing either.
 * - `rtt` delays the answer, not the append: a request that times out in
 *   the client has been written.
 * - It checks producer ids and sequences only for transactional producers.
 *   For an idempotent producer it appends whatever comes: batch N+1 that was
 *   in flight while batch N failed lands before N's retry, and a retry of a
 *   written batch is written again. A real broker answers the first with
 *   OUT_OF_ORDER_SEQUENCE_NUMBER and the second with the original offset.
 *   So the idempotent scenarios run through `SequenceProxy`, which adds
 *   exactly those broker rules in front of the mock (sequence-proxy.ts).
 * - It refuses a KIP-360 epoch bump (InitProducerId with the current id and
 *   epoch) of a non-transactional producer with INVALID_PRODUCER_ID_MAPPING
 *   (49); only a new producer id (InitProducerId with -1/-1) works.
 */
import { spawnSync } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import { KafkaClientError } from '../../src/index.js'
import { consumeWithKcat } from '../harness/consume.js'
import { type MockCluster, startMockCluster } from '../harness/mock.js'
import { type FaultProducerConfig, type ScenarioContext, type ScenarioResult, expectClean, expectNoDamage, runScenario } from './scenario.js'
import { SequenceProxy } from './sequence-proxy.js'

const PARTITIONS = 6
const RECORDS = Number(process.env.FAULT_RECORDS ?? 100_000)
/** Faults are injected once this share of the records has been acknowledged. */
const AT = Math.floor(RECORDS * 0.3)

let mock: MockCluster | null = null
let proxy: SequenceProxy | null = null

afterEach(async () => {
  await proxy?.close()
  await mock?.stop()
  proxy = null
  mock = null
})

interface MockScenario {
  name: string
  producerConfig?: FaultProducerConfig
  /** Produce through SequenceProxy (broker-side sequence checks); default true. */
  sequenceChecks?: boolean
  /** Before the producer starts (e.g. leader placement). */
  setup?: (m: MockCluster, topic: string) => Promise<void>
  during: (ctx: ScenarioContext, m: MockCluster, topic: string) => Promise<void>
  /** Sends must all complete within this long (hang detection); default 60 s. */
  runTimeoutMs?: number
}

async function runMockScenario(s: MockScenario): Promise<ScenarioResult> {
  mock = await startMockCluster({ brokers: 3 })
  const m = mock
  const topic = `fault-${s.name.replace(/[^a-zA-Z0-9]+/g, '-').replace(/-$/, '')}`
  await m.createTopic(topic, PARTITIONS, 3)
  await s.setup?.(m, topic)
  const checks = s.sequenceChecks ?? true
  if (checks) proxy = await SequenceProxy.start(m.bootstrap)
  const p = proxy
  return runScenario({
    name: s.name,
    bootstrap: checks ? p!.bootstrap : m.bootstrap,
    topic,
    partitions: PARTITIONS,
    records: RECORDS,
    producerConfig: s.producerConfig,
    during: (ctx) => s.during(ctx, m, topic),
    runTimeoutMs: s.runTimeoutMs ?? 60_000,
    consume: () => consumeWithKcat(m.bootstrap, topic, { partitions: PARTITIONS, timeoutMs: 60_000 }),
    ...(checks ? { report: () => p!.describe() } : {}),
  })
}

/** Push `errors` onto the cluster-wide Produce error stack once AT records are acknowledged. */
function produceErrors(...errors: (string | number)[]): MockScenario['during'] {
  return async (ctx, m) => {
    await ctx.waitForAcks(AT)
    await m.command(`push_errors Produce ${errors.join(' ')}`)
    ctx.log(`pushed Produce errors ${errors.join(' ')}`)
  }
}

/** Leader per partition as the mock's metadata reports it (kcat -L). */
function leadersOf(m: MockCluster, topic: string): Map<number, number> {
  const r = spawnSync('kcat', ['-L', '-J', '-b', m.bootstrap, '-t', topic, '-m', '10'], { encoding: 'utf8', timeout: 15_000 })
  const md = JSON.parse(r.stdout) as { topics: { topic: string; partitions: { partition: number; leader: number }[] }[] }
  const t = md.topics.find((x) => x.topic === topic)!
  return new Map(t.partitions.map((p) => [p.partition, p.leader]))
}

const retriable = (r: ScenarioResult) => expectClean(r)

// Faults the idempotent producer (the default) must ride out with nothing lost, duplicated or reordered.
describe('retriable Produce errors, idempotence on (default config)', () => {
  for (const [name, code] of [
    ['NOT_LEADER_OR_FOLLOWER (6)', 'NOT_LEADER_OR_FOLLOWER'],
    ['LEADER_NOT_AVAILABLE (5)', 'LEADER_NOT_AVAILABLE'],
    ['UNKNOWN_TOPIC_OR_PARTITION (3), metadata fresh', 'UNKNOWN_TOPIC_OR_PART'],
    ['REQUEST_TIMED_OUT (7)', 'REQUEST_TIMED_OUT'],
    ['NOT_ENOUGH_REPLICAS (19)', 'NOT_ENOUGH_REPLICAS'],
    ['NOT_ENOUGH_REPLICAS_AFTER_APPEND (20)', 'NOT_ENOUGH_REPLICAS_AFTER_APPEND'],
  ] as const) {
    it(`${name} x8: everything delivered exactly once, in order`, async () => {
      retriable(await runMockScenario({ name, during: produceErrors(...Array<string>(8).fill(code)) }))
    })
  }

  it('network disconnects (Produce answered by closing the connection, x5): everything delivered exactly once, in order', async () => {
    retriable(await runMockScenario({ name: 'disconnects (_TRANSPORT x5)', during: produceErrors(...Array<string>(5).fill('_TRANSPORT')) }))
  })
})

describe('idempotence errors', () => {
  it('OUT_OF_ORDER_SEQUENCE_NUMBER (45) x5, nothing appended: retried, everything delivered exactly once', async () => {
    retriable(await runMockScenario({ name: 'OUT_OF_ORDER_SEQUENCE_NUMBER (45)', during: produceErrors(45, 45, 45, 45, 45) }))
  })

  it('UNKNOWN_PRODUCER_ID (59) x5, nothing appended: retried, everything delivered exactly once', async () => {
    retriable(await runMockScenario({ name: 'UNKNOWN_PRODUCER_ID (59)', during: produceErrors(59, 59, 59, 59, 59) }))
  })

  it('DUPLICATE_SEQUENCE_NUMBER (46) answering the retry of a batch that was written: counted as delivered, not written again', async () => {
    // Broker 1 leads only partition 0, and one request at a time goes to it. Its next Produce
    // is appended but answered after 2.5 s (> request.timeout.ms), so the producer retries the
    // same batch; the retry gets DUPLICATE_SEQUENCE_NUMBER, which is what a broker says for a
    // batch it already has. The batch is then in the log exactly once and must count as sent.
    const r = await runMockScenario({
      name: 'DUPLICATE_SEQUENCE_NUMBER (46) on a retry',
      // The mock must write the retried batch's first attempt and answer the retry itself.
      sequenceChecks: false,
      producerConfig: { maxInFlightRequestsPerConnection: 1, requestTimeoutMs: 1000, deliveryTimeoutMs: 30_000 },
      setup: async (m, topic) => {
        for (let p = 0; p < PARTITIONS; p++) await m.command(`leader ${topic} ${p} ${p === 0 ? 1 : 2 + (p % 2)}`)
      },
      during: async (ctx, m) => {
        await ctx.waitForAcks(AT)
        await m.command('broker_push_errors 1 Produce 0:2500 DUPLICATE_SEQUENCE_NUMBER')
        ctx.log('broker 1: next Produce appended and answered after 2500 ms, the one after answered DUPLICATE_SEQUENCE_NUMBER')
      },
    })
    expect(Number(await mock!.command('error_stack_cnt 1 Produce')), 'both injected answers were used').toBe(0)
    retriable(r)
  })

  it('INVALID_PRODUCER_EPOCH (47): only the refused batches fail, typed; the epoch is bumped and the rest is delivered in order', async () => {
    // For an idempotent producer 47 answers an attempt from an older epoch (KIP-588): not fatal.
    const r = await runMockScenario({ name: 'INVALID_PRODUCER_EPOCH (47)', during: produceErrors(47), runTimeoutMs: 30_000 })
    expectNoDamage(r)
    expect(r.failed, r.summary).toBeGreaterThan(0)
    expect(r.errors.every((e) => e.typed && e.retriable === false && /INVALID_PRODUCER_EPOCH/.test(e.example.message)), r.errors.map((e) => e.kind).join('\n')).toBe(true)
    expect(r.ackedAfterFirstFailure, r.summary).toBeGreaterThan(0)
    expect(r.acked + r.failed).toBe(r.sent)
  })

  it('PRODUCER_FENCED (90): fenced, a fatal typed error; every later send fails at once; nothing acknowledged is lost', async () => {
    // A fatal error must end the run quickly: every pending record fails with it.
    const r = await runMockScenario({ name: 'PRODUCER_FENCED (90), fatal', during: produceErrors(90), runTimeoutMs: 15_000 })
    expectNoDamage(r)
    expect(r.failed, r.summary).toBeGreaterThan(0)
    const first = r.errors[0]!
    expect(r.errors.every((e) => e.typed && e.retriable === false), r.errors.map((e) => e.kind).join('\n')).toBe(true)
    expect(r.errors.some((e) => /PRODUCER_FENCED.*fatal/.test(e.example.message)), first.kind).toBe(true)
    expect(first.example).toBeInstanceOf(KafkaClientError)
    // Fatal: nothing sent after the first failure was reported went through.
    expect(r.ackedAfterFirstFailure, r.summary).toBe(0)
    expect(r.acked + r.failed).toBe(r.sent)
  })
})

describe('brokers and leaders', () => {
  it('a broker set down for 2 s, then up: everything delivered exactly once, in order', async () => {
    const r = await runMockScenario({
      name: 'broker 2 down 2 s, then up',
      during: async (ctx, m) => {
        await ctx.waitForAcks(AT)
        await m.command('broker_down 2')
        ctx.log('broker 2 down')
        await ctx.sleep(2000)
        await m.command('broker_up 2')
        ctx.log('broker 2 up')
      },
    })
    retriable(r)
  })

  it('leaders moved twice mid-stream: everything delivered exactly once, in order', async () => {
    retriable(
      await runMockScenario({
        name: 'leaders moved',
        during: async (ctx, m, topic) => {
          for (const at of [AT, 2 * AT]) {
            await ctx.waitForAcks(at)
            const moves: string[] = []
            for (const [p, leader] of leadersOf(m, topic)) {
              const to = (leader % 3) + 1
              await m.command(`leader ${topic} ${p} ${to}`)
              moves.push(`p${p}:${leader}->${to}`)
            }
            ctx.log(`moved leaders ${moves.join(' ')}`)
          }
        },
      }),
    )
  })

  it('RTT just above request.timeout.ms with delivery.timeout.ms at its minimum: timed-out batches fail typed, nothing is lost or duplicated', async () => {
    // A request times out exactly at its batch's delivery deadline while the broker has written it:
    // its fate is unknown, so the partition must wait (or bump its epoch) rather than reuse the sequence.
    const r = await runMockScenario({
      name: 'RTT 1200 ms > request.timeout.ms 1000 = delivery.timeout.ms',
      producerConfig: { lingerMs: 0, requestTimeoutMs: 1000, deliveryTimeoutMs: 1000 },
      during: async (ctx, m) => {
        await ctx.waitForAcks(AT)
        await m.command('rtt 2 1200')
        ctx.log('broker 2 rtt 1200 ms')
        await ctx.sleep(3000)
        await m.command('rtt 2 0')
        ctx.log('broker 2 rtt 0')
      },
    })
    expectNoDamage(r)
    expect(r.errors.every((e) => e.typed), r.errors.map((e) => e.kind).join('\n')).toBe(true)
  })

  it('RTT above request.timeout.ms for 3 s, then restored: everything delivered exactly once, in order', async () => {
    const r = await runMockScenario({
      name: 'RTT 3000 ms > request.timeout.ms 1000 on broker 2 for 3 s',
      producerConfig: { requestTimeoutMs: 1000, deliveryTimeoutMs: 30_000 },
      during: async (ctx, m) => {
        await ctx.waitForAcks(AT)
        await m.command('rtt 2 3000')
        ctx.log('broker 2 rtt 3000 ms')
        await ctx.sleep(3000)
        await m.command('rtt 2 0')
        ctx.log('broker 2 rtt 0')
      },
    })
    // Every timed-out request was written by the mock; its retry must be recognised as a duplicate.
    retriable(r)
  })
})

// Compressed batches (closed off the event loop, resent as the same compressed bytes) through the same faults.
describe('compressed batches, idempotence on', () => {
  it('lz4: NOT_LEADER_OR_FOLLOWER x8 then disconnects x5: everything delivered exactly once, in order', async () => {
    const r = await runMockScenario({
      name: 'lz4 NOT_LEADER_OR_FOLLOWER x8 then _TRANSPORT x5',
      producerConfig: { compressionType: 'lz4' },
      during: async (ctx, m) => {
        await ctx.waitForAcks(AT)
        await m.command(`push_errors Produce ${Array<string>(8).fill('NOT_LEADER_OR_FOLLOWER').join(' ')}`)
        ctx.log('pushed NOT_LEADER_OR_FOLLOWER x8')
        await ctx.waitForAcks(Math.floor(RECORDS * 0.6))
        await m.command(`push_errors Produce ${Array<string>(5).fill('_TRANSPORT').join(' ')}`)
        ctx.log('pushed _TRANSPORT x5')
      },
    })
    retriable(r)
    expect(r.metrics['compression-rate-avg']).toBeLessThan(1)
  })

  it('zstd: RTT above request.timeout.ms for 3 s: written batches retried as the same bytes are recognised as duplicates', async () => {
    const r = await runMockScenario({
      name: 'zstd RTT 3000 ms > request.timeout.ms 1000 on broker 2 for 3 s',
      producerConfig: { compressionType: 'zstd', requestTimeoutMs: 1000, deliveryTimeoutMs: 30_000 },
      during: async (ctx, m) => {
        await ctx.waitForAcks(AT)
        await m.command('rtt 2 3000')
        ctx.log('broker 2 rtt 3000 ms')
        await ctx.sleep(3000)
        await m.command('rtt 2 0')
        ctx.log('broker 2 rtt 0')
      },
    })
    retriable(r)
    expect(r.metrics['compression-rate-avg']).toBeLessThan(1)
  })
})

describe('enableIdempotence: false with maxInFlightRequestsPerConnection: 1', () => {
  it('keeps per-partition order through retriable errors, disconnects and timeouts; duplicates are allowed and reported', async () => {
    const r = await runMockScenario({
      name: 'no idempotence, 1 in flight: errors, disconnects, RTT',
      sequenceChecks: false,
      producerConfig: { enableIdempotence: false, maxInFlightRequestsPerConnection: 1, requestTimeoutMs: 1000, deliveryTimeoutMs: 30_000 },
      during: async (ctx, m) => {
        await ctx.waitForAcks(AT)
        await m.command('push_errors Produce NOT_LEADER_OR_FOLLOWER _TRANSPORT NOT_ENOUGH_REPLICAS REQUEST_TIMED_OUT _TRANSPORT LEADER_NOT_AVAILABLE')
        ctx.log('pushed 6 Produce errors incl. 2 disconnects')
        await ctx.waitForAcks(2 * AT)
        await m.command('rtt 1 2500')
        ctx.log('broker 1 rtt 2500 ms')
        await ctx.sleep(2500)
        await m.command('rtt 1 0')
        ctx.log('broker 1 rtt 0')
      },
    })
    expect(r.idempotence).toBe('off')
    expectClean(r, ['duplicated', 'reordered'])
    expect(r.reorderedFirst).toBe(0)
  })
})
