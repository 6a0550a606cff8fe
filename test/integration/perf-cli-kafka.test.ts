/**
 * The built `kafka-producer-perf` against a real single-node Apache Kafka:
 * the summary's record count equals the sum of the topic's high watermarks,
 * a transactional run's records all read back with read_committed (kcat),
 * and the `--report` page renders in headless Chromium (Debian's `chromium`,
 * installed by ensure-deps --for test) with all three charts drawn: the
 * screenshot is decoded and each chart's colour counted.
 */
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPORT_COLORS } from '../../src/cli/report.js'
import { consumeWithKcat } from '../harness/consume.js'
import { type KafkaCluster, startKafka } from '../harness/kafka.js'
import { countColor, decodePng } from '../harness/png.js'
import { SUMMARY, ensureBuiltCli, runCli } from './perf-cli.js'

let kafka: KafkaCluster
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-cli-kafka-'))

beforeAll(async () => {
  ensureBuiltCli()
  kafka = await startKafka({ brokers: 1 })
  await kafka.createTopic('perf', 3, 1)
  await kafka.createTopic('perf-txn', 2, 1)
}, 300_000)

afterAll(async () => {
  await kafka?.stop()
  if (process.env.PERF_CLI_KEEP !== '1') fs.rmSync(tmp, { recursive: true, force: true })
})

function screenshot(html: string, png: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      'chromium',
      ['--headless', '--disable-gpu', '--no-sandbox', '--hide-scrollbars', `--screenshot=${png}`, '--window-size=1200,1900', pathToFileURL(html).href],
      { timeout: 90_000 },
      (err, _stdout, stderr) => (err ? reject(new Error(`chromium failed: ${err.message}\n${stderr}`)) : resolve()),
    )
  })
}

describe('kafka-producer-perf (real Kafka)', () => {
  it('summary count = sum of high watermarks; the HTML report renders with non-empty charts', async () => {
    const report = path.join(tmp, 'report.html')
    const r = await runCli(['--bootstrap-server', kafka.bootstrap, '--topic', 'perf', '--num-records', '20000', '--record-size', '100', '--throughput', '-1', '--producer-props', 'acks=all', 'linger.ms=5', '--report', report])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const m = SUMMARY.exec(r.stdout)
    expect(m, r.stdout).not.toBeNull()
    const hwm = await kafka.highWatermarks('perf')
    expect(hwm.size).toBe(3)
    expect([...hwm.values()].reduce((a, b) => a + b, 0n)).toBe(BigInt(m![1]!))
    expect(Number(m![1])).toBe(20_000)

    const png = path.join(tmp, 'report.png')
    await screenshot(report, png)
    const img = decodePng(fs.readFileSync(png))
    expect(img.width).toBe(1200)
    // Each chart's own colour, drawn as 2.5 px lines or filled bars: hundreds of pixels at least.
    const counts = Object.fromEntries(Object.entries(REPORT_COLORS).map(([name, hex]) => [name, countColor(img, hex)]))
    for (const [name, n] of Object.entries(counts)) expect(n, `${name} pixels in ${png}: ${JSON.stringify(counts)}`).toBeGreaterThan(150)
  }, 300_000)

  it('--transaction-duration-ms: a transaction per interval, every record committed', async () => {
    const r = await runCli(['--bootstrap-server', kafka.bootstrap, '--topic', 'perf-txn', '--num-records', '3000', '--record-size', '50', '--throughput', '1500', '--transaction-duration-ms', '400'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(Number(SUMMARY.exec(r.stdout)![1])).toBe(3000)
    // Each commit appends a control marker to every partition its transaction wrote to (one or both,
    // the sticky partitioner decides): about 2 s in transactions of 400 ms makes about 5 commits, so
    // at least 3 markers however slow the machine; one transaction for the whole run would make 1 or 2.
    const hwm = await kafka.highWatermarks('perf-txn')
    const markers = [...hwm.values()].reduce((a, b) => a + b, 0n) - 3000n
    expect(markers).toBeGreaterThanOrEqual(3n)
    // The watermarks count aborted records too: only a read_committed consumer tells that each was committed.
    const committed = await consumeWithKcat(kafka.bootstrap, 'perf-txn', { partitions: 2, isolationLevel: 'read_committed' })
    expect(committed.length).toBe(3000)
  }, 120_000)
})
