/**
 * kafka-producer-perf's parts without a broker: Java-compatible flag parsing
 * and usage errors (exit 2), Java's ThroughputThrottler on a fake clock,
 * Java's percentile and summary arithmetic, .properties parsing, the
 * progress line and the report's markup. The built CLI against brokers is in
 * test/integration/perf-cli.test.ts.
 */
import { describe, expect, it } from 'vitest'
import { parsePerfArgs, type PerfOptions } from '../../src/cli/args.js'
import { EXIT_USAGE, formatMetrics, letterPayloads, producerProperties, reportCommand, runPerf, splitPayloads, type PerfIo } from '../../src/cli/perf.js'
import { progressLine } from '../../src/cli/progress.js'
import { parseProperties } from '../../src/cli/properties.js'
import { REPORT_COLORS, niceTicks, renderReport } from '../../src/cli/report.js'
import { PerfStats } from '../../src/cli/stats.js'
import { ThroughputThrottler } from '../../src/cli/throttler.js'

const BASE = ['--topic', 't', '--num-records', '100', '--throughput', '-1', '--record-size', '10', '--bootstrap-server', 'h:9092']

function options(argv: string[]): PerfOptions {
  const r = parsePerfArgs(argv)
  if (r.kind !== 'options') throw new Error(`expected options, got ${JSON.stringify(r)}`)
  return r.options
}

function errorOf(argv: string[]): string {
  const r = parsePerfArgs(argv)
  if (r.kind !== 'error') throw new Error(`expected an error, got ${JSON.stringify(r)}`)
  return r.message
}

describe('flags (Java kafka-producer-perf-test)', () => {
  it('parses a Java command line unchanged', () => {
    const o = options([
      '--topic', 'test1', '--num-records', '5000', '--record-size', '5000', '--throughput', '-1',
      '--producer.config', 'client.properties',
      '--producer-props', 'bootstrap.servers=localhost:9092', 'batch.size=200000', 'linger.ms=100', 'compression.type=lz4', 'acks=1',
      '--print-metrics',
    ])
    expect(o).toMatchObject({ topic: 'test1', numRecords: 5000, recordSize: 5000, throughput: -1, producerConfigFile: 'client.properties', printMetrics: true, payloadDelimiter: '\n', bootstrapServer: null })
    expect(o.producerProps).toEqual([['bootstrap.servers', 'localhost:9092'], ['batch.size', '200000'], ['linger.ms', '100'], ['compression.type', 'lz4'], ['acks', '1']])
  })

  it('takes --flag=value, fractional throughput, prefixes, payload options, the 4.2 aliases and --report', () => {
    expect(options(['--topic=a', '--num-records=7', '--throughput=0.5', '--payload-monotonic', '--bootstrap-server=b:1']).throughput).toBe(0.5)
    expect(options(['--top', 'a', '--num', '7', '--thr', '10', '--record', '3', '--boot', 'b:1']).recordSize).toBe(3)
    const o = options(['--topic', 'a', '--num-records', '7', '--throughput', '-1', '--payload-file', 'p.txt', '--payload-delimiter', ',', '--command-property', 'acks=0', '--command-config', 'c.properties', '--report', 'r.html'])
    expect(o).toMatchObject({ payloadFile: 'p.txt', payloadDelimiter: ',', producerProps: [['acks', '0']], producerConfigFile: 'c.properties', reportFile: 'r.html', recordSize: null })
    // A value may contain '=' (Java would reject it).
    expect(options([...BASE, '--producer-props', 'sasl.jaas.config=a b="c"']).producerProps).toEqual([['sasl.jaas.config', 'a b="c"']])
    expect(options([...BASE, '--transactional-id', 'tx', '--transaction-duration-ms', '500'])).toMatchObject({ transactionalId: 'tx', transactionDurationMs: 500 })
  })

  it('asks for help with no arguments or -h', () => {
    expect(parsePerfArgs([]).kind).toBe('help')
    expect(parsePerfArgs(['--topic', 'x', '-h']).kind).toBe('help')
  })

  it('rejects bad command lines with the message argparse4j / Java gives', () => {
    expect(errorOf(['--topic', 't', '--num-records', '1', '--record-size', '1', '--bootstrap-server', 'h:1'])).toMatch(/--throughput are required/)
    expect(errorOf(['--topic', 't', '--num-records', '1', '--throughput', '1', '--bootstrap-server', 'h:1'])).toMatch(/one of the arguments --record-size --payload-file --payload-monotonic is required/)
    expect(errorOf([...BASE, '--payload-file', 'x'])).toMatch(/not allowed with argument --record-size/)
    expect(errorOf(['--topic', 't', '--num-records', 'many', '--throughput', '1', '--record-size', '1'])).toMatch(/argument --num-records: could not convert 'many' to Long/)
    expect(errorOf(['--topic', 't', '--num-records', '1', '--throughput', 'fast', '--record-size', '1'])).toMatch(/could not convert 'fast' to Double/)
    expect(errorOf(['--topic', 't', '--num-records', '1', '--throughput', '1', '--record-size', '3000000000'])).toMatch(/to Integer/)
    expect(errorOf(['--topic', 't', '--num-records', '0', '--throughput', '1', '--record-size', '1', '--bootstrap-server', 'h:1'])).toBe('--num-records should be greater than zero')
    expect(errorOf(['--topic', 't', '--num-records', '1', '--throughput', '1', '--record-size', '-4', '--bootstrap-server', 'h:1'])).toBe('--record-size should be greater than zero')
    expect(errorOf(['--topic', 't', '--num-records', '1', '--throughput', '1', '--record-size', '1'])).toBe('Either --bootstrap-server, --producer-props or --producer.config must be specified.')
    expect(errorOf([...BASE, '--producer-props', 'acks'])).toMatch(/^Invalid property: acks/)
    expect(errorOf([...BASE, '--producer-props'])).toMatch(/--producer-props: expected at least one argument/)
    expect(errorOf([...BASE, '--topic'])).toMatch(/--topic: expected one argument/)
    expect(errorOf([...BASE, '--bogus', '1'])).toMatch(/unrecognized arguments: '--bogus'/)
    expect(errorOf([...BASE, 'stray'])).toMatch(/unrecognized arguments: 'stray'/)
    expect(errorOf([...BASE, '--producer', 'x'])).toMatch(/ambiguous option: --producer could match --producer-props, --producer.config/)
    expect(errorOf([...BASE, '--print-metrics=yes'])).toMatch(/ignored explicit argument/)
    expect(errorOf([...BASE, '--transaction-duration-ms', '0'])).toMatch(/should be greater than zero/)
    expect(errorOf([...BASE.slice(0, 4), '--throughput', '0', ...BASE.slice(6)])).toMatch(/--throughput 0 would never send/)
  })

  it('a usage error prints the usage line and the message on stderr and exits 2, before touching any broker or file', async () => {
    let out = ''
    let err = ''
    const io = {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (err += s) },
      readFile: () => {
        throw new Error('no file may be read')
      },
    } as unknown as PerfIo
    expect(await runPerf(['--topic', 't', '--num-records', 'x'], io)).toBe(EXIT_USAGE)
    expect(err).toMatch(/^usage: kafka-producer-perf .*\nkafka-producer-perf: error: argument --num-records: could not convert 'x' to Long\n$/)
    expect(out).toBe('')
    expect(await runPerf([], io)).toBe(0)
    expect(out).toMatch(/^usage: kafka-producer-perf/)
    expect(out).toMatch(/--producer-props PROP-NAME=PROP-VALUE/)
  })

  it('builds producer properties as Java: file, then --producer-props, then --bootstrap-server; serializers dropped; client.id defaulted', () => {
    const o = options(['--topic', 't', '--num-records', '1', '--throughput', '1', '--record-size', '1', '--producer.config', 'f', '--producer-props', 'acks=1', 'bootstrap.servers=p:1', '--bootstrap-server', 'b:2'])
    const file = 'bootstrap.servers=f:1\nacks=all\nlinger.ms=7\nkey.serializer=org.apache.kafka.common.serialization.ByteArraySerializer\n'
    const props = producerProperties(o, (p) => {
      expect(p).toBe('f')
      return Buffer.from(file)
    })
    expect(Object.fromEntries(props)).toEqual({ 'bootstrap.servers': 'b:2', acks: '1', 'linger.ms': '7', 'client.id': 'perf-producer-client' })
  })
})

describe('ThroughputThrottler (fake clock)', () => {
  /** Sends `n` records, each costing `costMs`, throttled; returns the elapsed ms and the number of sleeps. */
  async function run(target: number, n: number, costMs: number): Promise<{ elapsedMs: number; sleeps: number[] }> {
    let nowMs = 1_000
    const sleeps: number[] = []
    const clock = {
      nowNs: () => Math.round(nowMs * 1e6),
      sleep: async (ms: number) => {
        sleeps.push(ms)
        nowMs += ms
      },
    }
    const start = nowMs
    const t = new ThroughputThrottler(target, start, clock)
    for (let i = 0; i < n; i++) {
      const sendStart = nowMs
      nowMs += costMs
      if (t.shouldThrottle(i, sendStart)) await t.throttle()
    }
    return { elapsedMs: nowMs - start, sleeps }
  }

  it('holds the average rate to the target', async () => {
    const r = await run(1_000, 5_000, 0.01)
    expect(r.elapsedMs).toBeGreaterThan(4_900)
    expect(r.elapsedMs).toBeLessThan(5_100)
    // One record's share is 1 ms: the deficit reaches Java's 2 ms minimum every second throttled record.
    expect(Math.min(...r.sleeps)).toBeGreaterThanOrEqual(2)
    const fast = await run(250_000, 50_000, 0.0001)
    expect(fast.elapsedMs).toBeGreaterThan(195)
    expect(fast.elapsedMs).toBeLessThan(205)
  })

  it('never throttles below the target or with a negative target; fractional targets work', async () => {
    expect((await run(-1, 10_000, 0.01)).sleeps).toEqual([])
    expect((await run(1_000_000, 1_000, 0.01)).sleeps).toEqual([]) // 100k/s possible, 1M/s asked
    const slow = await run(0.5, 3, 0.01) // KAFKA-16724: fractional throughput
    expect(slow.elapsedMs).toBeGreaterThan(3_900)
  })

  it('does not throttle the first record (elapsed time 0), as Java', () => {
    const t = new ThroughputThrottler(1, 0, { nowNs: () => 0, sleep: async () => {} })
    expect(t.shouldThrottle(100, 0)).toBe(false)
    expect(t.shouldThrottle(100, 1)).toBe(true)
  })
})

describe('PerfStats (Java ProducerPerformance.Stats)', () => {
  it('computes percentiles as Java: sorted sample, element at floor(p * n)', () => {
    const s = new PerfStats(1_000, 5_000, 0, null)
    for (let i = 1; i <= 1_000; i++) s.record(1_001 - i, 10, 100) // latencies 1000 … 1, unsorted
    expect(s.percentiles(0.5, 0.95, 0.99, 0.999)).toEqual([501, 951, 991, 1000])
    const one = new PerfStats(1, 5_000, 0, null)
    one.record(7, 1, 1)
    expect(one.percentiles(0.5, 0.999)).toEqual([7, 7])
  })

  it('samples every (n / 500000)-th latency for large runs, as Java', () => {
    const s = new PerfStats(1_500_000, 5_000, 0, null) // sampling 3
    for (let i = 0; i < 1_500_000; i++) s.record(i % 3 === 0 ? 5 : 1_000, 1, 1)
    expect(s.percentiles(0.5, 0.999)).toEqual([5, 5]) // only every third record is sampled
    expect(s.maxLatency).toBe(1_000)
  })

  it('prints Java window lines every reporting interval and Java\'s summary line', () => {
    const lines: string[] = []
    const s = new PerfStats(10, 5_000, 0, (l) => lines.push(l))
    s.record(10, 100, 1_000)
    s.record(20, 100, 4_999)
    expect(lines).toEqual([])
    s.record(30, 100, 5_000)
    expect(lines).toEqual(['3 records sent, 0.6 records/sec (0.00 MB/sec), 20.0 ms avg latency, 30.0 ms max latency.'])
    s.record(4, 1_048_576, 6_000)
    expect(s.totalLine(10_000)).toBe('4 records sent, 0.4 records/sec (0.10 MB/sec), 16.00 ms avg latency, 30.00 ms max latency, 20 ms 50th, 30 ms 95th, 30 ms 99th, 30 ms 99.9th.')
    expect(new PerfStats(5, 5_000, 0, null).totalLine(1_000)).toBe('0 records sent, 0.0 records/sec (0.00 MB/sec), NaN ms avg latency, 0.00 ms max latency, 0 ms 50th, 0 ms 95th, 0 ms 99th, 0 ms 99.9th.')
  })

  it('keeps per-second totals and an exact histogram for the report', () => {
    const s = new PerfStats(10, 5_000, 1_000, null)
    s.record(3, 10, 1_100)
    s.record(5, 10, 1_900)
    s.record(40, 20, 3_500)
    expect(s.secCount).toEqual([2, 0, 1])
    expect(s.secBytes).toEqual([20, 0, 20])
    expect(s.secLatencySum).toEqual([8, 0, 40])
    expect(s.secLatencyMax).toEqual([5, 0, 40])
    const h = s.latencyHistogram()
    expect(h.length).toBe(41)
    expect([h[3], h[5], h[40], h[4]]).toEqual([1, 1, 1, 0])
    s.record(5_000, 1, 3_600) // beyond the initial histogram size
    expect(s.latencyHistogram()[5_000]).toBe(1)
  })
})

describe('.properties (java.util.Properties.load)', () => {
  it('parses separators, comments, continuations and escapes', () => {
    const text = [
      '# comment',
      '! also a comment',
      '   ',
      'bootstrap.servers=localhost:9092',
      'acks : all',
      'linger.ms 5',
      '  compression.type=lz4  ',
      'sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \\',
      '    username="u" \\',
      '    password="p=q";',
      'key\\=with\\:seps=v',
      'tab=a\\tb',
      'unicode=\\u00e9t\\u00E9',
      'empty=',
      'acks=1',
      'trailing=ends\\\\',
    ].join('\r\n')
    const p = parseProperties(text)
    expect(Object.fromEntries(p)).toEqual({
      'bootstrap.servers': 'localhost:9092',
      acks: '1', // a later key wins
      'linger.ms': '5',
      'compression.type': 'lz4  ', // trailing whitespace is part of the value, as in Java
      'sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p=q";',
      'key=with:seps': 'v',
      tab: 'a\tb',
      unicode: 'été',
      empty: '',
      trailing: 'ends\\',
    })
  })

  it('rejects a malformed \\u escape, as Java does', () => {
    expect(() => parseProperties('a=\\u12')).toThrow(/Malformed \\uxxxx/)
  })
})

describe('payloads, metrics and redaction', () => {
  it('splits a payload file at a literal delimiter and drops trailing empty entries (String.split)', () => {
    expect(splitPayloads('a\nb\n\nc\n\n', '\n').map(String)).toEqual(['a', 'b', '', 'c'])
    expect(splitPayloads('x|y', '|').map(String)).toEqual(['x', 'y'])
  })

  it('makes distinct random uppercase payloads of the record size', () => {
    const p = letterPayloads(100, 50)
    expect(p).toHaveLength(50)
    expect(p.every((b) => b.length === 100 && /^[A-Z]+$/.test(b.toString()))).toBe(true)
    expect(new Set(p.map(String)).size).toBe(50)
  })

  it('prints metrics in Java ToolsUtils.printMetrics layout', () => {
    const text = formatMetrics({ 'record-send-total': 5, 'request-latency-avg': NaN, compression: {}, nodes: { '1': { 'requests-in-flight': 0 } } } as never, 'perf-producer-client')
    const names = [
      'producer-metrics:record-send-total:{client-id=perf-producer-client}',
      'producer-metrics:request-latency-avg:{client-id=perf-producer-client}',
      'producer-node-metrics:requests-in-flight:{client-id=perf-producer-client, node-id=node-1}',
    ]
    const w = names[2]!.length // the longest name sets the column, as Java's maxLengthOfDisplayName
    expect(text.split('\n')).toEqual(['', `${'Metric Name'.padEnd(w)}   Value`, `${names[0]!.padEnd(w)} : 5.000`, `${names[1]!.padEnd(w)} : NaN`, `${names[2]} : 0.000`])
  })

  it('hides secrets in the command line shown in the report, however the props were spelled', () => {
    const secret = 's3cret-Value'
    const spellings = [
      ['--producer-props', `sasl.jaas.config=x password="${secret}"`, 'acks=1', `ssl.key.password=${secret}`],
      [`--producer-props=sasl.jaas.config=x password="${secret}"`, 'acks=1', `ssl.key.password=${secret}`],
      ['--command-property', `sasl.jaas.config=x password="${secret}"`, 'acks=1', `--command-property=ssl.key.password=${secret}`],
      [`--producer-p=sasl.jaas.config=${secret}`, `sasl.password=${secret}`, `sasl.oauthbearer.client.secret=${secret}`, 'acks=1', `ssl.key.pem=${secret}`],
    ]
    for (const props of spellings) {
      const command = reportCommand(options(['--topic', 't', '--num-records', '3', '--throughput', '-1', '--record-size', '10', ...props]))
      expect(command).not.toContain(secret)
      expect(command).toMatch(/^kafka-producer-perf --topic t --num-records 3 --record-size 10 --throughput -1 --producer-props /)
      expect(command).toContain(' acks=1')
      expect(command).toMatch(/(sasl\.jaas\.config|ssl\.key\.password)=\[hidden\]/)
    }
    // A URL setting (the OIDC token endpoint) keeps its origin and path, not user info or query.
    const url = reportCommand(options(['--topic', 't', '--num-records', '3', '--throughput', '-1', '--record-size', '10', '--producer-props', `sasl.oauthbearer.token.endpoint.url=https://app:${secret}@idp.example/token?client_secret=${secret}`]))
    expect(url).not.toContain(secret)
    expect(url).toContain('sasl.oauthbearer.token.endpoint.url=https://idp.example/token')
  })
})

describe('progress line and report markup', () => {
  const view = { acked: 500, total: 1_000, recordsPerSec: 123_456, mbPerSec: 11.77, avgLatencyMs: 3.14, maxLatencyMs: 42, requestsInFlight: 3, recordsInFlight: 2_500, bufferUsed: 0.25, elapsedMs: 4_000 }

  it('fits the terminal: bar and every field when wide, fewer fields when narrow', () => {
    const wide = progressLine(view, 200)
    expect(wide).toMatch(/^\[#+\.+\]  50% 500\/1000 \| 123\.5k rec\/s 11\.77 MB\/s \| lat avg 3\.1 max 42 ms \| in flight 3 req 2500 rec \| buffer 25% \| 4 s$/)
    const narrow = progressLine(view, 60)
    expect(narrow.length).toBeLessThanOrEqual(59)
    expect(narrow).toMatch(/50% 500\/1000/)
  })

  it('renders a self-contained page: inline SVG in fixed colours, no external resource, escaped text', () => {
    const html = renderReport({
      title: 'perf <t>',
      command: 'kafka-producer-perf --topic <t>',
      settings: [['acks', 'all']],
      summaryLine: '3 records sent',
      startedAt: '2025-01-01T00:00:00.000Z',
      toolVersion: '0.1.0',
      elapsedMs: 1_500,
      secCount: [1, 2],
      secBytes: [10, 20],
      secLatencySum: [5, 8],
      secLatencyMax: [5, 6],
      histogram: [0, 0, 0, 1, 1, 1],
      percentiles: [{ label: '50th', ms: 4 }],
      failed: 0,
    })
    expect(html).not.toMatch(/<script|<link|src=|url\(|https?:\/\/(?!www\.w3\.org\/2000\/svg)/)
    expect(html.match(/<svg /g)).toHaveLength(3)
    for (const c of Object.values(REPORT_COLORS)) expect(html).toContain(c)
    expect(html).toContain('perf &lt;t&gt;')
    expect(html).not.toContain('<t>')
  })

  it('draws the last, partial second at its rate, leaves out a last sliver, and keeps percentile labels inside the chart', () => {
    const base = { title: 't', command: 'c', settings: [], summaryLine: 's', startedAt: 'x', toolVersion: '0', secBytes: [100, 100, 25], secLatencySum: [1, 1, 1], secLatencyMax: [1, 1, 1], failed: 0 }
    const recordsLine = (html: string): number[] => {
      const svg = html.slice(html.indexOf('<figure id="throughput">'), html.indexOf('<figure id="latency">'))
      const line = svg.match(new RegExp(`<polyline points="([^"]+)" fill="none" stroke="${REPORT_COLORS.records}"`))![1]!
      return line.split(' ').map((p) => Number(p.split(',')[1]))
    }
    // 1,000 records/s throughout; the last second lasted 250 ms and holds 250: the same height as the others.
    const quarter = recordsLine(renderReport({ ...base, elapsedMs: 2_250, secCount: [1_000, 1_000, 250], histogram: [1], percentiles: [] }))
    expect(quarter).toHaveLength(3)
    expect(quarter[2]).toBeCloseTo(quarter[0]!, 1)
    // A last part of 50 ms is not drawn.
    expect(recordsLine(renderReport({ ...base, elapsedMs: 2_050, secCount: [1_000, 1_000, 50], histogram: [1], percentiles: [] }))).toHaveLength(2)
    // The 99.9th at the right edge: its label ends at its line instead of running out of the frame.
    const hist = renderReport({ ...base, elapsedMs: 3_000, secCount: [1, 1, 1], histogram: [5, 9, 1, 0, 0, 0, 0, 0, 0, 1], percentiles: [{ label: '50th', ms: 1 }, { label: '99.9th', ms: 9 }] })
    expect(hist).toMatch(/text-anchor="start"[^>]*>50th 1 ms</)
    expect(hist).toMatch(/text-anchor="end"[^>]*>99\.9th 9 ms</)
    expect(hist).toMatch(/paint-order="stroke">50th/)
  })

  it('picks round axis ticks', () => {
    expect(niceTicks(9_500)).toEqual([0, 2_000, 4_000, 6_000, 8_000, 10_000])
    expect(niceTicks(0)).toEqual([0, 1])
  })
})
