// Independent decoders of what the producer under test wrote: librdkafka's
// kcat and the Java ConsoleConsumer from kafka-tools.  Both verify record
// batch CRCs (check.crcs=true) and fail loudly on any error.
import { spawn } from 'node:child_process';
import { TOOL_JVM_FLAGS, TailBuffer, kafkaToolsClasspath, requireJavaHelpers, track } from './util.js';

export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: [string, Buffer][];
  /** ms since epoch as stored in the record (-1 if none) */
  timestamp: number;
}

export interface KcatOptions {
  /**
   * Expected partition count.  When given, first wait (up to 30 s) until
   * kcat's metadata shows that many partitions, each with a leader, so a
   * consume right after topic creation or a leader change cannot silently
   * skip partitions.
   */
  partitions?: number;
  /** Only consume this partition (kcat -p). */
  partition?: number;
  /** Kill kcat and reject after this long (default 120 000 ms). */
  timeoutMs?: number;
  /**
   * Default read_uncommitted (like the Java consumer here; librdkafka's own
   * default would be read_committed, which also stops at the LSO of an open
   * transaction).
   */
  isolationLevel?: 'read_committed' | 'read_uncommitted';
  /**
   * Extra librdkafka properties (-X), also used for the metadata wait: e.g. the
   * security settings of a secured listener (SecureKafka.kcatConfig()).
   */
  config?: Record<string, string>;
}

// Settings whose values must never reach an error message or a log.
const SECRET_KEY = /password|secret|\.pem$|jaas|token|key\.location$/i;

/** argv with the value of every secret-bearing `-X k=v` / `--command-property k=v` replaced by [hidden]. */
export function redactArgs(args: string[]): string {
  return args
    .map((a, i) => {
      const prev = args[i - 1];
      if ((prev === '-X' || prev === '--command-property' || prev === '--producer-property' || prev === '--consumer-property') && a.includes('=')) {
        const k = a.slice(0, a.indexOf('='));
        if (SECRET_KEY.test(k)) return `${k}=[hidden]`;
      }
      if (/^-D.*(password|secret)/i.test(a)) return `${a.split('=')[0]}=[hidden]`;
      return a;
    })
    .join(' ');
}

function xArgs(config: Record<string, string> | undefined): string[] {
  return Object.entries(config ?? {}).flatMap(([k, v]) => ['-X', `${k}=${v}`]);
}

// Record framing for kcat -f (binary safe except for header text, see below):
//   MAGIC %p %o %T %K %S <space> %h SEP %k %s \n
// The numeric fields come first; %K / %S are the key / value lengths (-1 for
// null), so key and value bytes are sliced by length and may contain any
// bytes, including '\n' and NUL.  %h has no length: kcat prints headers as
// `k1=v1,k2=v2` (raw bytes, no escaping), so header parsing is only exact for
// keys without '=' or ',' and values without ',', and a null header value reads
// back as an empty buffer.  SEP (an unlikely control-byte sequence) ends the
// header text.  Use consumeWithJavaConsoleConsumer for exact header checks.
const MAGIC = Buffer.from('\x1d\x1eKCR ', 'latin1');
const SEP = Buffer.from('\x1e\x1fKCH\x1f\x1e', 'latin1');
const toEscapes = (b: Buffer) => [...b].map((c) => `\\x${c.toString(16).padStart(2, '0')}`).join('');
const KCAT_FORMAT = `${toEscapes(MAGIC)}%p %o %T %K %S %h${toEscapes(SEP)}%k%s\\n`;

const KCAT_LIMITS = {
  // values up to ~1 MiB (and then some) must come through in one piece
  'fetch.message.max.bytes': '8388608',
  'message.max.bytes': '8388608',
  'fetch.max.bytes': '67108864',
  'receive.message.max.bytes': '67110000',
};

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  timedOut: boolean;
}

function runCollect(cmd: string, args: string[], timeoutMs: number, stdin?: string | Buffer): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = track(spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] }));
    const out: Buffer[] = [];
    const err = new TailBuffer(200);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${cmd}: ${e.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: err.toString(), timedOut });
    });
    child.stdin!.on('error', () => {});
    child.stdin!.end(stdin ?? '');
  });
}

function parseKcat(buf: Buffer, topic: string): ConsumedRecord[] {
  const records: ConsumedRecord[] = [];
  let pos = 0;
  const bad = (why: string): never => {
    const ctx = buf.subarray(pos, pos + 80).toString('latin1');
    throw new Error(`kcat output unparseable at byte ${pos} (${why}): ${JSON.stringify(ctx)}`);
  };
  while (pos < buf.length) {
    if (buf.compare(MAGIC, 0, MAGIC.length, pos, pos + MAGIC.length) !== 0) bad('no record marker');
    pos += MAGIC.length;
    const nums: string[] = [];
    for (let i = 0; i < 5; i++) {
      const sp = buf.indexOf(0x20, pos);
      if (sp < 0 || sp - pos > 24) bad('bad numeric field');
      nums.push(buf.toString('latin1', pos, sp));
      pos = sp + 1;
    }
    const [p, o, ts, klen, vlen] = nums as [string, string, string, string, string];
    const sepAt = buf.indexOf(SEP, pos);
    if (sepAt < 0) bad('no header terminator');
    const headerText = buf.subarray(pos, sepAt);
    pos = sepAt + SEP.length;
    const kl = Number(klen);
    const vl = Number(vlen);
    if (!Number.isInteger(kl) || !Number.isInteger(vl) || kl < -1 || vl < -1) bad('bad lengths');
    if (pos + Math.max(kl, 0) + Math.max(vl, 0) + 1 > buf.length) bad('truncated record');
    const key = kl < 0 ? null : Buffer.from(buf.subarray(pos, pos + kl));
    pos += Math.max(kl, 0);
    const value = vl < 0 ? null : Buffer.from(buf.subarray(pos, pos + vl));
    pos += Math.max(vl, 0);
    if (buf[pos] !== 0x0a) bad('missing record terminator');
    pos += 1;
    records.push({
      topic,
      partition: Number(p),
      offset: BigInt(o),
      key,
      value,
      headers: parseKcatHeaders(headerText),
      timestamp: Number(ts),
    });
  }
  return records;
}

function parseKcatHeaders(text: Buffer): [string, Buffer][] {
  if (text.length === 0) return [];
  const out: [string, Buffer][] = [];
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf(0x2c /* , */, start);
    if (end < 0) end = text.length;
    const part = text.subarray(start, end);
    const eq = part.indexOf(0x3d /* = */);
    if (eq < 0) out.push([part.toString('utf8'), Buffer.alloc(0)]);
    else out.push([part.subarray(0, eq).toString('utf8'), Buffer.from(part.subarray(eq + 1))]);
    start = end + 1;
  }
  return out;
}

const sortRecords = (a: ConsumedRecord, b: ConsumedRecord) =>
  a.partition - b.partition || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0);

async function waitKcatMetadata(
  bootstrap: string,
  topic: string,
  partitions: number,
  deadline: number,
  config?: Record<string, string>,
): Promise<void> {
  let last = '';
  for (;;) {
    const r = await runCollect('kcat', ['-L', '-J', '-b', bootstrap, '-t', topic, '-m', '10', ...xArgs(config)], 15_000);
    if (r.code === 0) {
      try {
        const md = JSON.parse(r.stdout.toString('utf8')) as {
          topics?: { topic: string; partitions?: { partition: number; leader: number }[]; error?: string }[];
        };
        const t = md.topics?.find((x) => x.topic === topic);
        const ps = t?.partitions ?? [];
        if (!t?.error && ps.length === partitions && ps.every((x) => x.leader >= 0)) return;
        last = JSON.stringify(t ?? md);
      } catch (e) {
        last = `unparseable kcat -L output: ${(e as Error).message}`;
      }
    } else {
      last = r.stderr;
    }
    if (Date.now() > deadline) throw new Error(`kcat metadata for ${topic} never showed ${partitions} partitions with leaders: ${last}`);
    await new Promise((res) => setTimeout(res, 250));
  }
}

/**
 * Read a whole topic (every partition from the beginning to the current end)
 * with kcat, verifying CRCs.  Records are returned sorted by (partition, offset).
 */
export async function consumeWithKcat(bootstrap: string, topic: string, opts: KcatOptions = {}): Promise<ConsumedRecord[]> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const deadline = Date.now() + timeoutMs;
  if (opts.partitions !== undefined) {
    await waitKcatMetadata(bootstrap, topic, opts.partitions, Math.min(deadline, Date.now() + 30_000), opts.config);
  }
  const props = {
    'check.crcs': 'true',
    'isolation.level': opts.isolationLevel ?? 'read_uncommitted',
    ...KCAT_LIMITS,
    ...(opts.config ?? {}),
  };
  const args = ['-C', '-b', bootstrap, '-t', topic, '-o', 'beginning', '-e', '-q', '-f', KCAT_FORMAT];
  if (opts.partition !== undefined) args.push('-p', String(opts.partition));
  for (const [k, v] of Object.entries(props)) args.push('-X', `${k}=${v}`);
  const r = await runCollect('kcat', args, Math.max(1000, deadline - Date.now()));
  const describe = () => `kcat ${redactArgs(args)}\nexit ${r.signal ?? r.code}${r.timedOut ? ' (killed after timeout)' : ''}; stderr:\n${r.stderr}`;
  if (r.timedOut) throw new Error(`kcat did not reach the end of ${topic} within ${timeoutMs} ms: ${describe()}`);
  if (r.code !== 0) throw new Error(`kcat failed: ${describe()}`);
  // -q hides kcat's informational lines; its own errors ("% ERROR: ...", e.g.
  // "MessageSet at offset 0 failed CRC32C check") fail the read.  librdkafka's
  // connection-refused logs while a broker is down are not errors here.
  if (/% ERROR|CRC|[Cc]orrupt/.test(r.stderr)) throw new Error(`kcat reported errors: ${describe()}`);
  return parseKcat(r.stdout, topic).sort(sortRecords);
}

export interface ConsoleConsumerOptions {
  /** Max wait for the next record (ConsoleConsumer --timeout-ms), default 30 000. */
  idleTimeoutMs?: number;
  /** Kill the JVM and reject after this long, default 180 000. */
  timeoutMs?: number;
  /** Default read_uncommitted. */
  isolationLevel?: 'read_committed' | 'read_uncommitted';
  /** Extra consumer properties (--command-property). */
  config?: Record<string, string>;
  /** JVM system properties (-Dk=v), e.g. org.apache.kafka.sasl.oauthbearer.allowed.urls for an OIDC token endpoint. */
  jvmSystemProperties?: Record<string, string>;
}

function parseFormatterLine(line: string): ConsumedRecord {
  // R topic partition offset timestamp timestampType key value headers
  const f = line.split(' ');
  if (f.length !== 9 || f[0] !== 'R') throw new Error(`unexpected ConsoleConsumer output line: ${line.slice(0, 200)}`);
  const b64 = (s: string): Buffer | null => (s === '-' ? null : Buffer.from(s, 'base64'));
  const headers: [string, Buffer][] =
    f[8] === '-'
      ? []
      : f[8]!.split(',').map((h) => {
          const [k, v] = h.split(':') as [string, string];
          return [Buffer.from(k, 'base64').toString('utf8'), b64(v) ?? Buffer.alloc(0)];
        });
  return {
    topic: f[1]!,
    partition: Number(f[2]),
    offset: BigInt(f[3]!),
    timestamp: Number(f[4]),
    key: b64(f[6]!),
    value: b64(f[7]!),
    headers,
  };
}

/**
 * Read `expectedCount` records from the beginning of a topic with the real
 * Java ConsoleConsumer (kafka-tools) and our binary-safe formatter
 * (test/harness/java/Base64RecordFormatter.java), with check.crcs=true.
 * Rejects unless exactly `expectedCount` records arrive.  Records are sorted
 * by (partition, offset).  A null header value reads back as an empty buffer.
 */
export async function consumeWithJavaConsoleConsumer(
  bootstrap: string,
  topic: string,
  expectedCount: number,
  opts: ConsoleConsumerOptions = {},
): Promise<ConsumedRecord[]> {
  requireJavaHelpers();
  const idle = opts.idleTimeoutMs ?? (expectedCount === 0 ? 5_000 : 30_000);
  const props: Record<string, string> = {
    'check.crcs': 'true',
    'max.partition.fetch.bytes': '8388608',
    'fetch.max.bytes': '67108864',
    ...(opts.config ?? {}),
  };
  const args = [
    ...TOOL_JVM_FLAGS,
    ...Object.entries(opts.jvmSystemProperties ?? {}).map(([k, v]) => `-D${k}=${v}`),
    '-cp',
    kafkaToolsClasspath(),
    'org.apache.kafka.tools.consumer.ConsoleConsumer',
    '--bootstrap-server',
    bootstrap,
    '--topic',
    topic,
    '--from-beginning',
    '--timeout-ms',
    String(idle),
    '--formatter',
    'kafkaharness.Base64RecordFormatter',
    '--isolation-level',
    opts.isolationLevel ?? 'read_uncommitted',
  ];
  if (expectedCount > 0) args.push('--max-messages', String(expectedCount));
  for (const [k, v] of Object.entries(props)) args.push('--command-property', `${k}=${v}`);
  const r = await runCollect('java', args, opts.timeoutMs ?? 180_000);
  const lines = r.stdout
    .toString('utf8')
    .split('\n')
    .filter((l) => l.length > 0);
  const describe = () =>
    `ConsoleConsumer on ${topic}: exit ${r.signal ?? r.code}${r.timedOut ? ' (killed after timeout)' : ''}, ` +
    `${lines.length}/${expectedCount} records; stderr:\n${r.stderr}`;
  if (r.timedOut) throw new Error(`timed out: ${describe()}`);
  const records = lines.map(parseFormatterLine);
  if (records.length !== expectedCount) throw new Error(`wrong record count: ${describe()}`);
  // With --max-messages the tool exits 0; with expectedCount 0 it ends through --timeout-ms.
  if (expectedCount > 0 && r.code !== 0) throw new Error(`ConsoleConsumer failed: ${describe()}`);
  // ERROR-level log lines (format "[time] ERROR ...") or uncaught exceptions; WARNs such as
  // LEADER_NOT_AVAILABLE during leader changes are fine.
  if (/\] ERROR |Exception in thread|CorruptRecord|CRC/.test(r.stderr)) throw new Error(`ConsoleConsumer reported errors: ${describe()}`);
  return records.sort(sortRecords);
}

export interface KcatProduceOptions {
  /** Produce to this partition (kcat -p); default: librdkafka's partitioner. */
  partition?: number;
  /** Extra librdkafka properties (-X), e.g. SecureKafka.kcatConfig(). */
  config?: Record<string, string>;
  /** Default 60 000. */
  timeoutMs?: number;
}

/**
 * Produce `messages` as `key:value` lines with kcat -P (acks=all, delivery
 * reports checked: kcat exits non-zero when a message fails).
 */
export async function produceWithKcat(
  bootstrap: string,
  topic: string,
  messages: { key: string; value: string }[],
  opts: KcatProduceOptions = {},
): Promise<void> {
  for (const m of messages) {
    if (/[\n:]/.test(m.key) || m.value.includes('\n')) throw new Error('produceWithKcat: keys without ":" or newlines, values without newlines');
  }
  const args = ['-P', '-b', bootstrap, '-t', topic, '-K', ':', '-X', 'acks=all', ...xArgs(opts.config)];
  if (opts.partition !== undefined) args.push('-p', String(opts.partition));
  const input = messages.map((m) => `${m.key}:${m.value}\n`).join('');
  const r = await runCollect('kcat', args, opts.timeoutMs ?? 60_000, input);
  if (r.timedOut || r.code !== 0 || /% ERROR|Delivery failed/i.test(r.stderr)) {
    throw new Error(`kcat ${redactArgs(args)} failed: exit ${r.signal ?? r.code}${r.timedOut ? ' (killed after timeout)' : ''}; stderr:\n${r.stderr}`);
  }
}

export interface ConsoleProducerOptions {
  /** Producer properties (--command-property), e.g. SecureKafka.javaClientConfig(). */
  config?: Record<string, string>;
  /** JVM system properties (-Dk=v). */
  jvmSystemProperties?: Record<string, string>;
  /** Default 90 000. */
  timeoutMs?: number;
}

/**
 * Produce `key:value` lines with Kafka's own ConsoleProducer (kafka-tools),
 * acks=all and --sync, so a failed send fails the call.  The Java client is
 * the reference for mechanisms librdkafka 2.0.2 cannot do against Kafka 4.x:
 * its SCRAM client-final repeats the client nonce (fixed in librdkafka
 * 2.6.1, confluentinc/librdkafka#4895), which 4.x brokers reject, and kcat's
 * build lacks the libcurl-based OIDC token retrieval.
 */
export async function produceWithJavaConsoleProducer(
  bootstrap: string,
  topic: string,
  messages: { key: string; value: string }[],
  opts: ConsoleProducerOptions = {},
): Promise<void> {
  requireJavaHelpers();
  for (const m of messages) {
    if (/[\n:]/.test(m.key) || m.value.includes('\n')) throw new Error('produceWithJavaConsoleProducer: keys without ":" or newlines, values without newlines');
  }
  const props: Record<string, string> = { acks: 'all', 'max.block.ms': '30000', 'delivery.timeout.ms': '30000', 'request.timeout.ms': '20000', ...(opts.config ?? {}) };
  const args = [
    ...TOOL_JVM_FLAGS,
    ...Object.entries(opts.jvmSystemProperties ?? {}).map(([k, v]) => `-D${k}=${v}`),
    '-cp',
    kafkaToolsClasspath(),
    'org.apache.kafka.tools.ConsoleProducer',
    '--bootstrap-server',
    bootstrap,
    '--topic',
    topic,
    '--sync',
    '--reader-property',
    'parse.key=true',
    '--reader-property',
    'key.separator=:',
  ];
  for (const [k, v] of Object.entries(props)) args.push('--command-property', `${k}=${v}`);
  const input = messages.map((m) => `${m.key}:${m.value}\n`).join('');
  const r = await runCollect('java', args, opts.timeoutMs ?? 90_000, input);
  if (r.timedOut || r.code !== 0 || /\] ERROR |Exception in thread/.test(r.stderr)) {
    throw new Error(
      `ConsoleProducer ${redactArgs(args.slice(args.indexOf('--bootstrap-server')))} failed: exit ${r.signal ?? r.code}${r.timedOut ? ' (killed after timeout)' : ''}; stderr:\n${r.stderr}`,
    );
  }
}
