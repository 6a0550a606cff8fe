/**
 * Transactions against a real 3-node Apache Kafka 4.x (transaction state log
 * replicated 3 ways), once with transaction.version=2 (KIP-890 part 2:
 * implicit partition adds, an epoch bump at every EndTxn) and once with
 * transaction.version=1 (AddPartitionsToTxn). What the producer claims is
 * read back independently: kcat (librdkafka) and the Java console consumer
 * in both isolation levels, and Kafka's admin tools for group offsets and the
 * transaction coordinator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  KafkaClientError,
  KafkaFatalProducerError,
  KafkaProducer,
  KafkaTransactionStateError,
} from '../../src/index.js'
import { committedGroupOffsets, describeTransaction } from '../harness/admin-tools.js'
import { type ConsumedRecord, consumeWithJavaConsoleConsumer, consumeWithKcat } from '../harness/consume.js'
import { type KafkaCluster, startKafka } from '../harness/kafka.js'

const TXNS = Number(process.env.TXN_COUNT ?? 200)
const PER_TXN = Number(process.env.TXN_RECORDS ?? 500)
const PARTITIONS = 6
const KEYS = 60

for (const transactionVersion of [2, 1] as const) {
  describe(`transactions on a 3-node Kafka with transaction.version=${transactionVersion}`, () => {
    let kafka: KafkaCluster

    beforeAll(async () => {
      kafka = await startKafka({ brokers: 3, features: { 'transaction.version': transactionVersion } })
      await kafka.createTopic('txn', PARTITIONS)
      await kafka.createTopic('zombie', 2)
      await kafka.createTopic('offsets-out', 1)
      await kafka.createTopic('offsets-in', 2)
      await kafka.createTopic('failover', 3)
      await kafka.createTopic('leader', 3)
      await kafka.createTopic('timeout', 1)
    }, 240_000)

    afterAll(async () => {
      await kafka?.stop()
    }, 60_000)

    it(`commits and aborts: ${TXNS} transactions of ${PER_TXN} keyed records over ${PARTITIONS} partitions, every third aborted`, async () => {
      const producer = new KafkaProducer({ bootstrapServers: kafka.bootstrap, transactionalId: `bulk-${transactionVersion}`, lingerMs: 5 })
      const committed: string[] = []
      const aborted = new Set<string>()
      try {
        await producer.initTransactions()
        const versions = Object.values(producer.negotiatedApiVersions())
        // Transactions v2 goes out as Produce v12 / EndTxn v5; v1 stays at 11 / 4 (checked by the unit tests);
        // here only that the brokers speak them.
        expect(versions.some((v) => (v['EndTxn'] ?? 0) >= 5)).toBe(true)
        for (let t = 0; t < TXNS; t++) {
          producer.beginTransaction()
          const abort = t % 3 === 2
          const sends: Promise<unknown>[] = []
          for (let i = 0; i < PER_TXN; i++) {
            const n = t * PER_TXN + i
            const key = `k${n % KEYS}`
            const value = `${key}:${String(Math.floor(n / KEYS)).padStart(6, '0')}:t${t}`
            sends.push(producer.send({ topic: 'txn', key, value }))
            if (abort) aborted.add(value)
            else committed.push(value)
          }
          if (abort) {
            // Written first, so read_uncommitted must show them; then aborted.
            await Promise.all(sends)
            await producer.abortTransaction()
          } else {
            await producer.commitTransaction()
            await Promise.all(sends)
          }
        }
        const m = producer.metrics()
        expect(m['txn-commit-time-ns-total']).toBeGreaterThan(0)
        expect(m['txn-abort-time-ns-total']).toBeGreaterThan(0)
        expect(m['txn-init-time-ns-total']).toBeGreaterThan(0)
      } finally {
        await producer.close()
      }
      const committedOnly = committed

      const expectCommittedView = (records: ConsumedRecord[], who: string): void => {
        const values = records.map((r) => r.value!.toString())
        expect(values.length, `${who}: record count`).toBe(committedOnly.length)
        expect(values.filter((v) => aborted.has(v)), `${who}: aborted records visible`).toEqual([])
        expect(new Set(values).size, `${who}: duplicates`).toBe(values.length)
        // In order per key: each key lives in one partition, and records come back sorted by (partition, offset).
        const lastByKey = new Map<string, string>()
        for (const v of values) {
          const [key, seq] = v.split(':')
          const prev = lastByKey.get(key!)
          if (prev !== undefined) expect(seq! > prev, `${who}: ${v} after ${key}:${prev}`).toBe(true)
          lastByKey.set(key!, seq!)
        }
      }

      const kcatCommitted = await consumeWithKcat(kafka.bootstrap, 'txn', { partitions: PARTITIONS, isolationLevel: 'read_committed' })
      expectCommittedView(kcatCommitted, 'kcat read_committed')
      const javaCommitted = await consumeWithJavaConsoleConsumer(kafka.bootstrap, 'txn', committedOnly.length, { isolationLevel: 'read_committed' })
      expectCommittedView(javaCommitted, 'Java console consumer read_committed')

      // read_uncommitted: the aborted records were written too, and every transaction left one control record
      // (its commit or abort marker) in each partition it wrote to: offsets the data records do not use.
      const all = await consumeWithKcat(kafka.bootstrap, 'txn', { partitions: PARTITIONS, isolationLevel: 'read_uncommitted' })
      const allValues = new Set(all.map((r) => r.value!.toString()))
      expect(all.length).toBe(TXNS * PER_TXN)
      for (const v of aborted) expect(allValues.has(v)).toBe(true)
      const hw = await kafka.highWatermarks('txn')
      const perPartition = new Map<number, number>()
      for (const r of all) perPartition.set(r.partition, (perPartition.get(r.partition) ?? 0) + 1)
      for (let p = 0; p < PARTITIONS; p++) {
        // 500 records over 60 keys reach every partition in every transaction: one marker per transaction each.
        expect(hw.get(p)).toBe(BigInt((perPartition.get(p) ?? 0) + TXNS))
      }
    }, 900_000)

    it('fences a zombie: after a second producer with the same transactional.id initializes, the first one cannot commit', async () => {
      const id = `zombie-${transactionVersion}`
      const zombie = new KafkaProducer({ bootstrapServers: kafka.bootstrap, transactionalId: id })
      const successor = new KafkaProducer({ bootstrapServers: kafka.bootstrap, transactionalId: id })
      try {
        await zombie.initTransactions()
        zombie.beginTransaction()
        await Promise.all(Array.from({ length: 10 }, (_, i) => zombie.send({ topic: 'zombie', key: `z${i}`, value: `before-fence-${i}` })))
        await successor.initTransactions() // bumps the epoch and aborts the zombie's open transaction

        const late = await zombie.send({ topic: 'zombie', key: 'z0', value: 'after-fence' }).then(
          () => null,
          (err: unknown) => err,
        )
        // Java: the send fails (fenced, or abortable with v2's epoch check), and the commit can never succeed.
        if (late !== null) expect(late).toBeInstanceOf(KafkaClientError)
        let commitError: unknown = null
        try {
          await zombie.commitTransaction()
        } catch (err) {
          commitError = err
        }
        expect(commitError).toBeInstanceOf(KafkaClientError)
        if (!(commitError instanceof KafkaFatalProducerError)) {
          // Abortable first (the late send failed): the abort then meets the fence.
          await expect(zombie.abortTransaction()).rejects.toBeInstanceOf(KafkaFatalProducerError)
        }
        expect(() => zombie.beginTransaction()).toThrow(KafkaFatalProducerError)
        await expect(zombie.send({ topic: 'zombie', value: 'x' })).rejects.toBeInstanceOf(KafkaFatalProducerError)

        successor.beginTransaction()
        await successor.send({ topic: 'zombie', key: 's', value: 'successor' })
        await successor.commitTransaction()
      } finally {
        await zombie.close({ timeoutMs: 5000 })
        await successor.close()
      }
      const visible = (await consumeWithKcat(kafka.bootstrap, 'zombie', { partitions: 2, isolationLevel: 'read_committed' })).map((r) => r.value!.toString())
      expect(visible).toEqual(['successor'])
    }, 180_000)

    it('sendOffsetsToTransaction commits the group offsets with the records, and an abort leaves them unchanged', async () => {
      const group = `group-${transactionVersion}`
      const producer = new KafkaProducer({ bootstrapServers: kafka.bootstrap, transactionalId: `offsets-${transactionVersion}` })
      try {
        await producer.initTransactions()
        await producer.transaction(async () => {
          await producer.send({ topic: 'offsets-out', value: 'processed-0-41' })
          await producer.sendOffsetsToTransaction(
            [
              { topic: 'offsets-in', partition: 0, offset: 42n },
              { topic: 'offsets-in', partition: 1, offset: 7 },
            ],
            group,
          )
        })
        expect(await committedGroupOffsets(kafka.bootstrap, group)).toEqual(new Map([['offsets-in-0', 42n], ['offsets-in-1', 7n]]))

        const boom = new Error('processing failed')
        await expect(
          producer.transaction(async () => {
            await producer.send({ topic: 'offsets-out', value: 'processed-42-99' })
            await producer.sendOffsetsToTransaction([{ topic: 'offsets-in', partition: 0, offset: 100n }], { groupId: group, generationId: -1, memberId: '' })
            throw boom
          }),
        ).rejects.toBe(boom)
        expect(await committedGroupOffsets(kafka.bootstrap, group)).toEqual(new Map([['offsets-in-0', 42n], ['offsets-in-1', 7n]]))
      } finally {
        await producer.close()
      }
      const out = await consumeWithKcat(kafka.bootstrap, 'offsets-out', { partitions: 1, isolationLevel: 'read_committed' })
      expect(out.map((r) => r.value!.toString())).toEqual(['processed-0-41'])
    }, 180_000)

    it('misuse gives typed errors; sends outside a transaction fail; close() aborts an open transaction', async () => {
      const producer = new KafkaProducer({ bootstrapServers: kafka.bootstrap, transactionalId: `misuse-${transactionVersion}` })
      expect(() => producer.beginTransaction()).toThrow(KafkaTransactionStateError)
      await producer.initTransactions()
      await expect(producer.send({ topic: 'zombie', value: 'outside' })).rejects.toBeInstanceOf(KafkaTransactionStateError)
      await expect(producer.commitTransaction()).rejects.toMatchObject({ name: 'KafkaTransactionStateError', state: 'READY' })
      producer.beginTransaction()
      expect(() => producer.beginTransaction()).toThrow(KafkaTransactionStateError)
      await producer.send({ topic: 'zombie', key: 'm', value: 'left-open' })
      await producer.close({ timeoutMs: 30_000 })
      const d = await describeTransaction(kafka.bootstrap, `misuse-${transactionVersion}`)
      expect(['CompleteAbort', 'PrepareAbort']).toContain(d.state)
    }, 120_000)

    it('survives kill -9 of the transaction coordinator during commitTransaction: all or nothing', async () => {
      const id = `failover-${transactionVersion}`
      const producer = new KafkaProducer({ bootstrapServers: kafka.bootstrap, transactionalId: id, requestTimeoutMs: 10_000 })
      const values = Array.from({ length: 300 }, (_, i) => `f${i}`)
      let victim = -1
      let outcome = 'committed'
      try {
        await producer.initTransactions()
        producer.beginTransaction()
        const sends = values.map((v, i) => producer.send({ topic: 'failover', key: `k${i % 30}`, value: v }))
        await Promise.all(sends)
        victim = (await describeTransaction(kafka.bootstrap, id)).coordinatorId
        const commit = producer.commitTransaction()
        await kafka.kill(victim, 'SIGKILL')
        try {
          await commit
        } catch (err) {
          expect(err).toBeInstanceOf(KafkaClientError)
          outcome = `commit failed (${(err as Error).name}), aborted`
          await producer.abortTransaction()
        }
      } finally {
        await producer.close({ timeoutMs: 30_000 })
        if (victim >= 0) await kafka.restart(victim)
      }
      await kafka.waitForFullIsr('failover')
      const seen = (await consumeWithKcat(kafka.bootstrap, 'failover', { partitions: 3, isolationLevel: 'read_committed' })).map((r) => r.value!.toString())
      console.log(`[txn] coordinator ${victim} killed during commit (transaction.version=${transactionVersion}): ${outcome}; read_committed sees ${seen.length} of ${values.length}`)
      if (outcome === 'committed') expect(seen.sort()).toEqual([...values].sort())
      else expect(seen).toEqual([])
    }, 240_000)

    it('a partition leader killed inside a transaction: the records move to the new leader and commit exactly once', async () => {
      const id = `leader-${transactionVersion}`
      const producer = new KafkaProducer({ bootstrapServers: kafka.bootstrap, transactionalId: id, requestTimeoutMs: 10_000 })
      const values = Array.from({ length: 600 }, (_, i) => `l${String(i).padStart(4, '0')}`)
      let victim = -1
      try {
        await producer.initTransactions()
        producer.beginTransaction()
        const first = values.slice(0, 300).map((v) => producer.send({ topic: 'leader', partition: 0, value: v }))
        await Promise.all(first)
        const coordinator = (await describeTransaction(kafka.bootstrap, id)).coordinatorId
        const leaders = await kafka.partitionLeaders('leader')
        victim = [0, 1, 2].map((p) => leaders.get(p)!.leader).find((l) => l !== coordinator) ?? -1
        if (victim < 0) victim = leaders.get(0)!.leader
        await kafka.kill(victim, 'SIGKILL')
        const partitionOfVictim = [0, 1, 2].find((p) => leaders.get(p)!.leader === victim)!
        const second = values.slice(300).map((v) => producer.send({ topic: 'leader', partition: partitionOfVictim, value: v }))
        await Promise.all(second)
        await producer.commitTransaction()
      } finally {
        await producer.close({ timeoutMs: 30_000 })
        if (victim >= 0) await kafka.restart(victim)
      }
      await kafka.waitForFullIsr('leader')
      const seen = (await consumeWithKcat(kafka.bootstrap, 'leader', { partitions: 3, isolationLevel: 'read_committed' })).map((r) => r.value!.toString())
      expect(seen.sort()).toEqual(values)
    }, 240_000)

    it('a transaction the coordinator times out (transaction.timeout.ms) fails typed, without hanging, and is never visible', async () => {
      const producer = new KafkaProducer({ bootstrapServers: kafka.bootstrap, transactionalId: `timeout-${transactionVersion}`, transactionTimeoutMs: 1000, maxBlockMs: 30_000 })
      let outcome = ''
      try {
        await producer.initTransactions()
        producer.beginTransaction()
        await producer.send({ topic: 'timeout', value: 'stalled' })
        // The application stalls past transaction.timeout.ms; the coordinator aborts (checked every
        // transaction.abort.timed.out.transaction.cleanup.interval.ms, 10 s by default).
        await new Promise((r) => setTimeout(r, 15_000))
        const started = Date.now()
        try {
          await producer.send({ topic: 'timeout', value: 'after-timeout' })
          await producer.commitTransaction()
          outcome = 'committed'
        } catch (err) {
          expect(err).toBeInstanceOf(KafkaClientError)
          outcome = `${(err as Error).name}: ${(err as KafkaClientError).code}`
          if (!(err instanceof KafkaFatalProducerError)) {
            // Abortable: the coordinator bumped the epoch when it aborted. With v2 it takes the abort of
            // the old epoch and the producer goes on; with v1 the abort meets the bumped epoch: fenced
            // (Java's clients behave the same; KIP-890 part 2 is what fixed it).
            try {
              await producer.abortTransaction()
              producer.beginTransaction()
              await producer.send({ topic: 'timeout', value: 'next' })
              await producer.commitTransaction()
              outcome += ', then aborted and committed a new transaction'
            } catch (abortErr) {
              expect(abortErr).toBeInstanceOf(KafkaFatalProducerError)
              outcome += `, then the abort was fenced: ${(abortErr as KafkaClientError).code}`
            }
            if (transactionVersion === 2) expect(outcome).toContain('committed a new transaction')
          }
        }
        expect(Date.now() - started).toBeLessThan(30_000)
      } finally {
        await producer.close({ timeoutMs: 10_000 })
      }
      console.log(`[txn] transaction timed out by the coordinator (transaction.version=${transactionVersion}): ${outcome}`)
      expect(outcome).not.toBe('committed')
      const seen = (await consumeWithKcat(kafka.bootstrap, 'timeout', { partitions: 1, isolationLevel: 'read_committed' })).map((r) => r.value!.toString())
      expect(seen.filter((v) => v !== 'next')).toEqual([])
    }, 120_000)
  })
}
