/**
 * Command-line flags of `kafka-producer-perf`, as Java's
 * `kafka-producer-perf-test` (org.apache.kafka.tools.ProducerPerformance,
 * argparse4j) accepts them, so a Java command line runs here unchanged:
 * `--flag value` or `--flag=value`, an unambiguous prefix of a flag
 * (argparse4j's abbreviations), `--producer-props k=v ...` taking every
 * following argument that is not a flag, negative numbers as values
 * (`--throughput -1`). Plus this tool's own `--report FILE`.
 *
 * Parsing never throws and never exits: it returns the options, a request
 * for help, or a usage error message (the caller prints it and exits 2).
 * Files (`--producer.config`, `--payload-file`) are read later, by the runner.
 */

export interface PerfOptions {
  readonly topic: string
  readonly numRecords: number
  /** Exactly one of recordSize, payloadFile, payloadMonotonic is set. */
  readonly recordSize: number | null
  readonly payloadFile: string | null
  readonly payloadMonotonic: boolean
  /** Already unescaped: Java's default is the two characters `\n`, meaning a newline. */
  readonly payloadDelimiter: string
  /** Records/s; negative: unthrottled. */
  readonly throughput: number
  /** --bootstrap-server (Java 4.1+): overrides bootstrap.servers from the props and the file. */
  readonly bootstrapServer: string | null
  /** --producer-props / --command-property, in order (later wins). */
  readonly producerProps: readonly (readonly [string, string])[]
  /** --producer.config / --command-config. */
  readonly producerConfigFile: string | null
  readonly printMetrics: boolean
  readonly transactionalId: string | null
  readonly transactionDurationMs: number | null
  /** This tool's: write an HTML report here. */
  readonly reportFile: string | null
}

export type ParseResult = { readonly kind: 'options'; readonly options: PerfOptions } | { readonly kind: 'help' } | { readonly kind: 'error'; readonly message: string }

type FlagKind = 'string' | 'long' | 'int' | 'double' | 'list' | 'true'

interface FlagSpec {
  readonly name: string
  readonly kind: FlagKind
  readonly metavar: string
  readonly help: string
  /** Another spelling of the same option (KIP-1147's --command-property / --command-config). */
  readonly sameAs?: string
}

export const PROGRAM = 'kafka-producer-perf'

/** Java's flags in Java's order, then the KIP-1147 aliases and this tool's own. */
const FLAGS: readonly FlagSpec[] = [
  { name: '--bootstrap-server', kind: 'string', metavar: 'BOOTSTRAP-SERVER', help: 'the server(s) to connect to; overrides bootstrap.servers from --producer-props or --producer.config' },
  { name: '--topic', kind: 'string', metavar: 'TOPIC', help: 'produce messages to this topic' },
  { name: '--num-records', kind: 'long', metavar: 'NUM-RECORDS', help: 'number of messages to produce' },
  { name: '--record-size', kind: 'int', metavar: 'RECORD-SIZE', help: 'message size in bytes (exactly one of --record-size, --payload-file, --payload-monotonic)' },
  { name: '--payload-file', kind: 'string', metavar: 'PAYLOAD-FILE', help: 'UTF-8 file of payloads; each message is one of them, picked at random' },
  { name: '--payload-monotonic', kind: 'true', metavar: '', help: 'payload is the record number, as text' },
  { name: '--payload-delimiter', kind: 'string', metavar: 'PAYLOAD-DELIMITER', help: 'delimiter of the payloads in --payload-file (default: \\n)' },
  { name: '--throughput', kind: 'double', metavar: 'THROUGHPUT', help: 'throttle to about THROUGHPUT messages/sec; -1 disables throttling' },
  { name: '--producer-props', kind: 'list', metavar: 'PROP-NAME=PROP-VALUE', help: 'producer properties (Java names, e.g. acks=1 linger.ms=5); they take precedence over --producer.config' },
  { name: '--producer.config', kind: 'string', metavar: 'CONFIG-FILE', help: 'producer config properties file (Java .properties format)' },
  { name: '--print-metrics', kind: 'true', metavar: '', help: 'print the producer metrics at the end' },
  { name: '--transactional-id', kind: 'string', metavar: 'TRANSACTIONAL-ID', help: 'send in transactions with this transactional.id' },
  { name: '--transaction-duration-ms', kind: 'long', metavar: 'TRANSACTION-DURATION', help: 'commit each transaction after this many ms (default 3000 when transactional)' },
  { name: '--command-property', kind: 'list', metavar: 'PROP-NAME=PROP-VALUE', help: 'same as --producer-props (Kafka 4.2 name)', sameAs: '--producer-props' },
  { name: '--command-config', kind: 'string', metavar: 'CONFIG-FILE', help: 'same as --producer.config (Kafka 4.2 name)', sameAs: '--producer.config' },
  { name: '--report', kind: 'string', metavar: 'REPORT.html', help: 'write a self-contained HTML report (throughput and latency over time, latency histogram)' },
]

const BY_NAME = new Map(FLAGS.map((f) => [f.name, f]))

export function usageLine(): string {
  return (
    `usage: ${PROGRAM} [-h] [--bootstrap-server BOOTSTRAP-SERVER] --topic TOPIC --num-records NUM-RECORDS ` +
    '(--record-size RECORD-SIZE | --payload-file PAYLOAD-FILE | --payload-monotonic) [--payload-delimiter PAYLOAD-DELIMITER] ' +
    '--throughput THROUGHPUT [--producer-props PROP-NAME=PROP-VALUE [PROP-NAME=PROP-VALUE ...]] [--producer.config CONFIG-FILE] ' +
    '[--print-metrics] [--transactional-id TRANSACTIONAL-ID] [--transaction-duration-ms TRANSACTION-DURATION] [--report REPORT.html]'
  )
}

export function helpText(): string {
  const rows = FLAGS.map((f) => [`${f.name}${f.metavar ? ` ${f.metavar}` : ''}`, f.help] as const)
  const w = Math.max(...rows.map(([a]) => a.length))
  return [
    usageLine(),
    '',
    'Measures producer throughput and latency; flags and output as Java\'s kafka-producer-perf-test.',
    'One of --bootstrap-server, --producer-props bootstrap.servers=... or --producer.config is required.',
    '',
    'named arguments:',
    `  ${'-h, --help'.padEnd(w)}  show this help message and exit`,
    ...rows.map(([a, b]) => `  ${a.padEnd(w)}  ${b}`),
  ].join('\n')
}

/** argparse's test for an argument that is a value although it starts with '-'. */
const NEGATIVE_NUMBER = /^-\d+$|^-\d*\.\d+$/

function looksLikeFlag(arg: string): boolean {
  return arg.startsWith('-') && arg.length > 1 && !NEGATIVE_NUMBER.test(arg)
}

/** The flag `given` names: exact, or the one flag it is a prefix of (argparse4j abbreviations). */
function resolveFlag(given: string): FlagSpec | string {
  const exact = BY_NAME.get(given)
  if (exact !== undefined) return exact
  const matches = FLAGS.filter((f) => f.name.startsWith(given))
  if (matches.length === 1) return matches[0]!
  if (matches.length > 1) return `ambiguous option: ${given} could match ${matches.map((f) => f.name).join(', ')}`
  return `unrecognized arguments: '${given}'`
}

export function parsePerfArgs(argv: readonly string[]): ParseResult {
  if (argv.length === 0 || argv.includes('-h') || argv.includes('--help')) return { kind: 'help' }
  const values = new Map<string, string>()
  const lists = new Map<string, string[]>()
  const flags = new Set<string>()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (!looksLikeFlag(arg) || !arg.startsWith('--')) return { kind: 'error', message: `unrecognized arguments: '${arg}'` }
    const eq = arg.indexOf('=')
    const name = eq > 0 ? arg.slice(0, eq) : arg
    const spec = resolveFlag(name)
    if (typeof spec === 'string') return { kind: 'error', message: spec }
    const key = spec.sameAs ?? spec.name
    if (spec.kind === 'true') {
      if (eq > 0) return { kind: 'error', message: `argument ${spec.name}: ignored explicit argument '${arg.slice(eq + 1)}'` }
      flags.add(key)
      continue
    }
    if (spec.kind === 'list') {
      const items = lists.get(key) ?? []
      lists.set(key, items)
      const before = items.length
      if (eq > 0) items.push(arg.slice(eq + 1))
      while (i + 1 < argv.length && !looksLikeFlag(argv[i + 1]!)) items.push(argv[++i]!)
      if (items.length === before) return { kind: 'error', message: `argument ${spec.name}: expected at least one argument` }
      continue
    }
    let value: string
    if (eq > 0) value = arg.slice(eq + 1)
    else {
      const next = argv[i + 1]
      if (next === undefined || looksLikeFlag(next)) return { kind: 'error', message: `argument ${spec.name}: expected one argument` }
      value = next
      i++
    }
    const problem = checkType(spec, value)
    if (problem !== null) return { kind: 'error', message: problem }
    values.set(key, value)
  }
  return finish(values, lists, flags)
}

function checkType(spec: FlagSpec, value: string): string | null {
  const javaType = spec.kind === 'long' ? 'Long' : spec.kind === 'int' ? 'Integer' : spec.kind === 'double' ? 'Double' : null
  if (javaType === null) return null
  const ok =
    spec.kind === 'double'
      ? /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value.trim())
      : /^[+-]?\d+$/.test(value) && Number.isSafeInteger(Number(value)) && (spec.kind === 'long' || Math.abs(Number(value)) <= 2147483647)
  return ok ? null : `argument ${spec.name}: could not convert '${value}' to ${javaType}`
}

function finish(values: Map<string, string>, lists: Map<string, string[]>, flags: Set<string>): ParseResult {
  const error = (message: string): ParseResult => ({ kind: 'error', message })
  const missing = ['--topic', '--num-records', '--throughput'].filter((f) => !values.has(f))
  if (missing.length > 0) return error(`argument(s) ${missing.join(', ')} are required`)
  const payloadChoices = ['--record-size', '--payload-file', '--payload-monotonic'].filter((f) => values.has(f) || flags.has(f))
  if (payloadChoices.length === 0) return error('one of the arguments --record-size --payload-file --payload-monotonic is required')
  if (payloadChoices.length > 1) return error(`argument ${payloadChoices[1]}: not allowed with argument ${payloadChoices[0]}`)

  const numRecords = Number(values.get('--num-records'))
  if (numRecords <= 0) return error('--num-records should be greater than zero')
  const recordSize = values.has('--record-size') ? Number(values.get('--record-size')) : null
  if (recordSize !== null && recordSize <= 0) return error('--record-size should be greater than zero')
  const throughput = Number(values.get('--throughput'))
  // Java's ThroughputThrottler blocks forever at 0 (it waits for a wakeup the tool never sends).
  if (throughput === 0) return error('--throughput 0 would never send; give records/sec, or -1 for no throttling')

  const producerProps: (readonly [string, string])[] = []
  for (const p of lists.get('--producer-props') ?? []) {
    // Split at the first '=': values such as sasl.jaas.config contain '=' (Java rejects those: "Invalid property").
    const eq = p.indexOf('=')
    if (eq <= 0) return error(`Invalid property: ${p} (expected PROP-NAME=PROP-VALUE)`)
    producerProps.push([p.slice(0, eq), p.slice(eq + 1)])
  }
  const bootstrapServer = values.get('--bootstrap-server') ?? null
  const producerConfigFile = values.get('--producer.config') ?? null
  if (bootstrapServer === null && producerProps.length === 0 && producerConfigFile === null) {
    return error('Either --bootstrap-server, --producer-props or --producer.config must be specified.')
  }
  const duration = values.has('--transaction-duration-ms') ? Number(values.get('--transaction-duration-ms')) : null
  if (duration !== null && duration <= 0) return error('--transaction-duration-ms should be greater than zero')
  const delimiter = values.get('--payload-delimiter') ?? '\\n'

  return {
    kind: 'options',
    options: {
      topic: values.get('--topic')!,
      numRecords,
      recordSize,
      payloadFile: values.get('--payload-file') ?? null,
      payloadMonotonic: flags.has('--payload-monotonic'),
      // As Java: the default is printed as the two characters \n and means a newline.
      payloadDelimiter: delimiter === '\\n' ? '\n' : delimiter,
      throughput,
      bootstrapServer,
      producerProps,
      producerConfigFile,
      printMetrics: flags.has('--print-metrics'),
      transactionalId: values.get('--transactional-id') ?? null,
      transactionDurationMs: duration,
      reportFile: values.get('--report') ?? null,
    },
  }
}
