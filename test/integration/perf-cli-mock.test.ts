/**
 * The built `kafka-producer-perf` against librdkafka's mock cluster: Java's
 * command line, Java's output, and a summary count that equals what the
 * topic holds (read back with kcat). Off a terminal (a pipe here) the tool
 * prints Java's window lines, never the progress bar; on one (a pseudo-terminal
 * from util-linux `script`) it redraws one progress line.
 */
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { consumeWithKcat } from '../harness/consume.js'
import { type MockCluster, startMockCluster } from '../harness/mock.js'
import { CLI, NODE, SUMMARY, ensureBuiltCli, runCli } from './perf-cli.js'

let mock: MockCluster
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-cli-'))

beforeAll(async () => {
  ensureBuiltCli()
  mock = await startMockCluster({ brokers: 3 })
  await mock.createTopic('perf', 4, 1)
  await mock.createTopic('perf-file', 2, 1)
  await mock.createTopic('perf-tty', 2, 1)
  await mock.createTopic('perf-txn', 2, 1)
  await mock.createTopic('perf-small-buffer', 3, 1)
}, 300_000)

afterAll(async () => {
  await mock?.stop()
  fs.rmSync(tmp, { recursive: true, force: true })
})

/** Per partition, the end offset: what kcat read, max offset + 1. */
function endOffsets(records: { partition: number; offset: bigint }[]): Map<number, bigint> {
  const m = new Map<number, bigint>()
  for (const r of records) if ((m.get(r.partition) ?? -1n) < r.offset + 1n) m.set(r.partition, r.offset + 1n)
  return m
}

describe('kafka-producer-perf (mock cluster)', () => {
  it('--num-records 20000 --record-size 100 --throughput -1: the summary counts what the topic holds', async () => {
    const report = path.join(tmp, 'report.html')
    const r = await runCli(['--bootstrap-server', mock.bootstrap, '--topic', 'perf', '--num-records', '20000', '--record-size', '100', '--throughput', '-1', '--report', report])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).not.toMatch(/\r|\x1b\[/) // no progress bar off a terminal
    const m = SUMMARY.exec(r.stdout)
    expect(m, r.stdout).not.toBeNull()
    expect(Number(m![1])).toBe(20_000)
    const p = m!.slice(6).map(Number)
    expect(p[0]! <= p[1]! && p[1]! <= p[2]! && p[2]! <= p[3]! && p[3]! <= Number(m![5])).toBe(true)
    const got = await consumeWithKcat(mock.bootstrap, 'perf', { partitions: 4 })
    expect(got).toHaveLength(20_000)
    const hwmSum = [...endOffsets(got).values()].reduce((a, b) => a + b, 0n)
    expect(hwmSum).toBe(BigInt(m![1]!))
    expect(got.every((x) => x.value!.length === 100 && /^[A-Z]+$/.test(x.value!.toString()) && x.key === null)).toBe(true)
    const html = fs.readFileSync(report, 'utf8')
    expect(html).toContain(m![0])
    expect(html.match(/<svg /g)).toHaveLength(3)
  }, 180_000)

  it('--producer.config, --producer-props, --payload-file, throttling, window lines and --print-metrics', async () => {
    const config = path.join(tmp, 'producer.properties')
    fs.writeFileSync(config, `# as for the Java tool\nbootstrap.servers=${mock.bootstrap}\nacks=all\nlinger.ms=1\nvalue.serializer=org.apache.kafka.common.serialization.ByteArraySerializer\n`)
    const payloads = path.join(tmp, 'payloads.txt')
    fs.writeFileSync(payloads, 'alpha,beta,gamma,')
    // 6 s at 100 records/s: at least one 5-second window line.
    const r = await runCli(['--topic', 'perf-file', '--num-records', '600', '--payload-file', payloads, '--payload-delimiter', ',', '--throughput', '100', '--producer.config', config, '--producer-props', 'client.id=perf-test', 'batch.size=1000', '--print-metrics'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`Reading payloads from: ${payloads}\nNumber of messages read: 3\n`)
    expect(r.stdout).toMatch(/^\d+ records sent, [\d.]+ records\/sec \([\d.]+ MB\/sec\), [\d.]+ ms avg latency, [\d.]+ ms max latency\.$/m)
    const m = SUMMARY.exec(r.stdout)!
    expect(Number(m[1])).toBe(600)
    // Throttled to about 100 records/s (Java's ThroughputThrottler: never above, a little below).
    expect(Number(m[2])).toBeGreaterThan(80)
    expect(Number(m[2])).toBeLessThan(102)
    expect(r.stdout).toMatch(/^Metric Name +Value$/m)
    expect(r.stdout).toMatch(/^producer-metrics:record-send-total:\{client-id=perf-test\} +: 600\.000$/m)
    const got = await consumeWithKcat(mock.bootstrap, 'perf-file', { partitions: 2 })
    expect(got).toHaveLength(600)
    expect(new Set(got.map((x) => x.value!.toString()))).toEqual(new Set(['alpha', 'beta', 'gamma']))
  }, 180_000)

  it('exits 2 with a usage error on bad flags and 1 on a producer setting this client rejects', async () => {
    const bad = await runCli(['--topic', 'perf', '--num-records', '10', '--record-size', '10', '--throughput', 'x', '--bootstrap-server', mock.bootstrap])
    expect(bad.code).toBe(2)
    expect(bad.stdout).toBe('')
    expect(bad.stderr).toMatch(/^usage: kafka-producer-perf .*\nkafka-producer-perf: error: argument --throughput: could not convert 'x' to Double\n$/)
    const config = await runCli(['--topic', 'perf', '--num-records', '10', '--record-size', '10', '--throughput', '-1', '--bootstrap-server', mock.bootstrap, '--producer-props', 'lingerr.ms=5'])
    expect(config.code).toBe(1)
    expect(config.stderr).toMatch(/Invalid producer config 'lingerr\.ms': unknown option; did you mean 'linger\.ms'\?/)
  }, 60_000)

  it('on a terminal: one progress line redrawn in place, then the summary', async () => {
    const cmd = `stty cols 160; '${NODE}' '${CLI}' --bootstrap-server ${mock.bootstrap} --topic perf-tty --num-records 6000 --record-size 200 --throughput 3000`
    const out = await new Promise<string>((resolve, reject) =>
      execFile('script', ['-qec', cmd, '/dev/null'], { timeout: 60_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
    )
    const frames = out.split('\r').filter((f) => f.startsWith('['))
    expect(frames.length).toBeGreaterThan(4) // 2 s at 4 redraws a second
    for (const f of frames) expect(f).toMatch(/^\[[#.]{30}\] +\d+% [\d.k]+\/6000 \| \d+ rec\/s [\d.]+ MB\/s \| lat avg [\d.-]+ max [\d-]+ ms \| in flight \d+ req \d+ rec \| buffer \d+% \| \d+ s\x1b\[K$/)
    expect(out).not.toMatch(/records sent, [\d.]+ records\/sec \([\d.]+ MB\/sec\), [\d.]+ ms avg latency, [\d.]+ ms max latency\.\s/) // no window lines
    // The line is erased (\r, ESC [K) before the summary is printed.
    expect(Number(SUMMARY.exec(out.replace(/\r\x1b\[K/g, '\n'))![1])).toBe(6000)
  }, 60_000)

  it('--transactional-id and --transaction-duration-ms: committed transactions hold every record', async () => {
    const r = await runCli(['--bootstrap-server', mock.bootstrap, '--topic', 'perf-txn', '--num-records', '3000', '--record-size', '50', '--throughput', '1500', '--transactional-id', 'perf-txn-1', '--transaction-duration-ms', '400'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(Number(SUMMARY.exec(r.stdout)![1])).toBe(3000)
    const got = await consumeWithKcat(mock.bootstrap, 'perf-txn', { partitions: 2, isolationLevel: 'read_committed' })
    expect(got).toHaveLength(3000)
    // The mock writes no transaction markers; perf-cli-kafka.test.ts counts the commits by them.
  }, 60_000)

  it('waits for acknowledgements where Java\'s send() would block: 3 MB through a 256 KiB buffer.memory, nothing lost', async () => {
    const r = await runCli(['--bootstrap-server', mock.bootstrap, '--topic', 'perf-small-buffer', '--num-records', '30000', '--record-size', '100', '--throughput', '-1', '--producer-props', 'buffer.memory=262144', 'batch.size=16384', '--print-metrics'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(Number(SUMMARY.exec(r.stdout)![1])).toBe(30_000)
    expect(r.stdout).toMatch(/^producer-metrics:buffer-total-bytes:\{client-id=perf-producer-client\} +: 262144\.000$/m)
    expect(await consumeWithKcat(mock.bootstrap, 'perf-small-buffer', { partitions: 3 })).toHaveLength(30_000)
  }, 120_000)
})
