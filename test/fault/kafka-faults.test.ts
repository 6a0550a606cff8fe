/**
 * The fault matrix against a 3-broker Apache Kafka 4.4 cluster (KRaft): the
 * faults the mock cannot play, on a broker that really tracks producer ids
 * and sequences.
 * - A partition leader killed with SIGKILL mid-stream, then restarted:
 *   everything delivered exactly once, in order.
 * - A partition leader paused (SIGSTOP) for 3 s, longer than
 *   request.timeout.ms, then resumed (SIGCONT): the real-broker form of "RTT
 *   above request.timeout.ms". Requests the broker wrote time out in the
 *   client and are retried; the broker must see them as duplicates.
 * - A broker stopped for longer than delivery.timeout.ms, leading the
 *   partitions of an rf-1 topic: sends to its partitions fail with
 *   KafkaTimeoutError, the rest are delivered, and nothing hangs.
 * Topics: 6 partitions; rf 3 with min.insync.replicas 2, except the rf-1 one.
 */
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KafkaTimeoutError, partitionForKey } from '../../src/index.js'
import { consumeWithKcat } from '../harness/consume.js'
import { type KafkaCluster, startKafka } from '../harness/kafka.js'
import { expectClean, expectNoDamage, runScenario } from './scenario.js'

const PARTITIONS = 6
const RECORDS = Number(process.env.FAULT_RECORDS ?? 100_000)
const AT = Math.floor(RECORDS * 0.3)
let kafka: KafkaCluster

beforeAll(async () => {
  kafka = await startKafka({ brokers: 3 })
  await kafka.createTopic('fault-kill9', PARTITIONS, 3, { 'min.insync.replicas': '2' })
  await kafka.createTopic('fault-pause', PARTITIONS, 3, { 'min.insync.replicas': '2' })
  await kafka.createTopic('fault-stopped', PARTITIONS, 1)
}, 180_000)

afterAll(async () => {
  await kafka?.stop()
})

/** The pid of a node's JVM: the process whose command line names that node's server.properties. */
function brokerPid(nodeId: number): number {
  const props = path.join(kafka.dir, `node${nodeId}`, 'server.properties')
  const ps = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
  const line = ps.stdout.split('\n').find((l) => l.includes(' kafka.Kafka ') && l.trimEnd().endsWith(props))
  if (!line) throw new Error(`no running JVM for Kafka node ${nodeId} (${props})`)
  return Number(line.trim().split(/\s+/)[0])
}

const consumeAll = (topic: string) => () => consumeWithKcat(kafka.bootstrap, topic, { partitions: PARTITIONS, timeoutMs: 90_000 })

describe('against a 3-broker Apache Kafka', () => {
  it('a partition leader paused (SIGSTOP) for 3 s > request.timeout.ms, then resumed: everything delivered exactly once, in order', async () => {
    const topic = 'fault-pause'
    let paused = -1
    try {
      const r = await runScenario({
        name: 'Kafka: leader paused 3 s (SIGSTOP) > request.timeout.ms 1500',
        bootstrap: kafka.bootstrap,
        topic,
        partitions: PARTITIONS,
        records: RECORDS,
        producerConfig: { requestTimeoutMs: 1500, deliveryTimeoutMs: 60_000 },
        runTimeoutMs: 90_000,
        during: async (ctx) => {
          await ctx.waitForAcks(AT)
          const leader = (await kafka.partitionLeaders(topic)).get(0)!.leader
          paused = brokerPid(leader)
          process.kill(paused, 'SIGSTOP')
          ctx.log(`node ${leader} (pid ${paused}) paused`)
          await ctx.sleep(3000)
          process.kill(paused, 'SIGCONT')
          paused = -1
          ctx.log(`node ${leader} resumed`)
        },
        consume: consumeAll(topic),
      })
      expectClean(r)
    } finally {
      if (paused > 0) process.kill(paused, 'SIGCONT')
    }
  }, 180_000)

  it('the leader of partition 0 killed with SIGKILL mid-stream, restarted 3 s later: everything delivered exactly once, in order', async () => {
    const topic = 'fault-kill9'
    const r = await runScenario({
      name: 'Kafka: leader kill -9, restart after 3 s',
      bootstrap: kafka.bootstrap,
      topic,
      partitions: PARTITIONS,
      records: RECORDS,
      runTimeoutMs: 120_000,
      during: async (ctx) => {
        await ctx.waitForAcks(AT)
        const leaders = await kafka.partitionLeaders(topic)
        const victim = leaders.get(0)!.leader
        const led = [...leaders].filter(([, s]) => s.leader === victim).map(([p]) => p)
        await kafka.kill(victim, 'SIGKILL')
        ctx.log(`node ${victim} killed (SIGKILL); it led partitions ${led.join(',')}`)
        await ctx.sleep(3000)
        await kafka.restart(victim)
        ctx.log(`node ${victim} restarted`)
      },
      consume: consumeAll(topic),
    })
    expectClean(r)
    await kafka.waitForFullIsr(topic, 60_000)
  }, 240_000)

  it('a broker stopped for longer than delivery.timeout.ms: its partitions fail with KafkaTimeoutError, the others are delivered, no hang', async () => {
    const topic = 'fault-stopped'
    const deliveryTimeoutMs = 5000
    let victim = -1
    let victimPartitions: number[] = []
    const r = await runScenario({
      name: 'Kafka: rf-1 leader stopped > delivery.timeout.ms 5000',
      bootstrap: kafka.bootstrap,
      topic,
      partitions: PARTITIONS,
      records: RECORDS,
      // Records of the stopped broker's partitions hold their slots until they expire.
      maxOutstanding: 50_000,
      producerConfig: { deliveryTimeoutMs, requestTimeoutMs: 2000 },
      runTimeoutMs: 60_000,
      closeTimeoutMs: 3000,
      during: async (ctx) => {
        await ctx.waitForAcks(Math.floor(RECORDS * 0.2))
        const leaders = await kafka.partitionLeaders(topic)
        victim = leaders.get(0)!.leader
        victimPartitions = [...leaders].filter(([, s]) => s.leader === victim).map(([p]) => p)
        await kafka.kill(victim, 'SIGKILL')
        ctx.log(`node ${victim} stopped (SIGKILL); it leads partitions ${victimPartitions.join(',')} (rf 1)`)
      },
      // Bring it back so that every partition can be read, including what it acknowledged before.
      consume: async () => {
        await kafka.restart(victim)
        return consumeWithKcat(kafka.bootstrap, topic, { partitions: PARTITIONS, timeoutMs: 90_000 })
      },
    })
    // Nothing acknowledged is missing, nothing doubled or reordered; a failed send may have landed.
    expectNoDamage(r)
    expect(r.failed, r.summary).toBeGreaterThan(0)
    const kinds = r.errors.map((e) => `${e.kind} (x${e.count})`).join('\n')
    expect(r.errors.every((e) => e.example instanceof KafkaTimeoutError), kinds).toBe(true)
    // Only records of the stopped broker's partitions failed; every other record was delivered.
    expect(r.failedPartitions.every((p) => victimPartitions.includes(p)), `failed in ${r.failedPartitions}, stopped broker led ${victimPartitions}`).toBe(true)
    let toLive = 0
    for (let i = 0; i < r.sent; i++) if (!victimPartitions.includes(partitionForKey(Buffer.from(`k${i % 1000}`), PARTITIONS))) toLive++
    expect(r.acked, r.summary).toBeGreaterThanOrEqual(toLive)
    expect(r.closeMs).toBeLessThan(3000 + 1000)
  }, 180_000)
})
