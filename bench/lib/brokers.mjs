// The three brokers of the benchmark, all on 127.0.0.1 with random ports:
//  - librdkafka's mock cluster (1 broker, or --mock-brokers N), driven through the test harness's
//    mockcluster binary (.cache/mockcluster/mockcluster, a line protocol on
//    stdin), with TCP_NODELAY preloaded (bench/c/mock-nodelay.c);
//  - franz-go's kfake (1 broker, in memory), bench/kfake/, the same line protocol;
//  - a single-node Apache Kafka 4.4.0 (KRaft) from test/harness/kafka.ts,
//    imported through tsx; with --broker kafka-ssl / kafka-sasl-ssl the same
//    node also has SSL and SASL_SSL (SCRAM-SHA-512) listeners, certificates
//    made per run by test/harness/certs.ts.
// Each exposes: name, bootstrap, pid (the process whose CPU is the broker's),
// createTopic(name, partitions), deleteTopic(name), stop().
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { KFAKE_BIN, MOCK_NODELAY_SO, ROOT } from './paths.mjs';

export const MOCKCLUSTER_BIN = path.join(ROOT, '.cache', 'mockcluster', 'mockcluster');

/**
 * JVM flags for the Kafka broker: those of Kafka's own bin/kafka-server-start.sh
 * (KAFKA_HEAP_OPTS + KAFKA_JVM_PERFORMANCE_OPTS), instead of the test
 * harness's quick-start flags (SerialGC, C1 only), which would slow the broker down.
 */
export const KAFKA_BROKER_JVM_OPTS = [
  '-Xms1g',
  '-Xmx1g',
  '-server',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent',
  '-XX:+ExitOnOutOfMemoryError',
  '-Djava.awt.headless=true',
  '-Djava.net.preferIPv4Stack=true',
];

/**
 * Start a broker process that speaks the mockcluster line protocol: first
 * line "BOOTSTRAP host:port,...", then one reply line ("OK [value]" or
 * "ERR ...") per command line on stdin; it exits when stdin closes.
 */
async function startLineBroker(what, bin, args, env = process.env) {
  const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  child.stdin.on('error', () => {});
  const rl = createInterface({ input: child.stdout, crlfDelay: Infinity });
  const lines = [];
  const waiters = [];
  rl.on('line', (l) => (waiters.length ? waiters.shift()(l) : lines.push(l)));
  const exited = new Promise((r) => {
    child.once('exit', (code, sig) => r(sig ?? code));
    child.once('error', (e) => r(e.message));
  });
  const nextLine = (ms) =>
    new Promise((resolve, reject) => {
      if (lines.length) return resolve(lines.shift());
      const t = setTimeout(() => reject(new Error(`${what}: no reply within ${ms} ms; stderr: ${stderr}`)), ms);
      waiters.push((l) => {
        clearTimeout(t);
        resolve(l);
      });
      exited.then((how) => reject(new Error(`${what} exited (${how}); stderr: ${stderr}`)));
    });
  const greeting = await nextLine(10_000);
  const m = /^BOOTSTRAP (\S+)$/.exec(greeting);
  if (!m) {
    child.kill('SIGKILL');
    throw new Error(`${what}: unexpected first line ${greeting}`);
  }
  let chain = Promise.resolve();
  const command = (line) => {
    const p = chain.then(async () => {
      child.stdin.write(`${line}\n`);
      const reply = await nextLine(30_000);
      if (reply === 'OK' || reply.startsWith('OK ')) return reply.slice(3);
      throw new Error(`${what}: ${line}: ${reply}`);
    });
    chain = p.catch(() => {});
    return p;
  };
  return {
    bootstrap: m[1],
    pid: child.pid,
    command,
    kill: () => child.kill('SIGKILL'),
    async stop() {
      child.stdin.end();
      const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/**
 * librdkafka 2.0.2's mock cluster, `brokers` brokers (1 by default; a topic's
 * partition leaders are spread over them).  By default it runs with
 * bench/c/mock-nodelay.c preloaded, which sets TCP_NODELAY on every socket it
 * accepts, as a real Kafka broker does (SocketServer setTcpNoDelay(true)); the
 * stock mock leaves Nagle's algorithm on, which delays small responses written
 * while the previous one is unacknowledged.  `nagle: true` runs it stock.
 */
export async function startMock({ nagle = false, brokers = 1 } = {}) {
  if (!fs.existsSync(MOCKCLUSTER_BIN)) throw new Error(`mock cluster binary missing: ${MOCKCLUSTER_BIN} (node scripts/ensure-deps.mjs --for test builds it)`);
  let env = process.env;
  if (!nagle) {
    if (!fs.existsSync(MOCK_NODELAY_SO)) throw new Error(`TCP_NODELAY shim missing: ${MOCK_NODELAY_SO} (bench/ensure.mjs builds it from bench/c/mock-nodelay.c); --mock-nagle runs the mock without it`);
    env = { ...process.env, LD_PRELOAD: [MOCK_NODELAY_SO, process.env.LD_PRELOAD].filter(Boolean).join(' ') };
  }
  const b = await startLineBroker('mockcluster', MOCKCLUSTER_BIN, [String(brokers)], env);
  if (!nagle) {
    // The shim only works if the dynamic loader mapped it.
    let maps = '';
    try {
      maps = fs.readFileSync(`/proc/${b.pid}/maps`, 'utf8');
    } catch {
      /* checked below */
    }
    if (!maps.includes(MOCK_NODELAY_SO)) {
      b.kill();
      throw new Error(`mockcluster started without ${MOCK_NODELAY_SO} mapped: LD_PRELOAD did not take`);
    }
  }
  return {
    name: 'mock',
    label: nagle
      ? `librdkafka 2.0.2 mock cluster (${brokers} broker${brokers > 1 ? 's' : ''}), stock: Nagle on (--mock-nagle)`
      : `librdkafka 2.0.2 mock cluster (${brokers} broker${brokers > 1 ? 's' : ''}), with TCP_NODELAY, as a real broker sets it`,
    nodelay: !nagle,
    bootstrap: b.bootstrap,
    pid: b.pid,
    pids: () => [b.pid],
    async createTopic(name, partitions) {
      await b.command(`topic ${name} ${partitions} 1`);
    },
    async deleteTopic() {
      /* the 2.0.2 mock cannot delete topics; each keeps at most 5 MB per partition */
    },
    stop: b.stop,
  };
}

/**
 * franz-go's kfake (bench/kfake/main.go, built by bench/ensure.mjs): an
 * in-memory Kafka broker with current protocol versions, 1 broker.  It keeps
 * every record in memory until its topic is deleted, which the bench does
 * after each run.  Go sets TCP_NODELAY on every connection by default.
 */
export async function startKfake() {
  if (!fs.existsSync(KFAKE_BIN)) throw new Error(`kfake unavailable: ${KFAKE_BIN} missing (bench/ensure.mjs builds it from bench/kfake/ with Go)`);
  const b = await startLineBroker('kfake', KFAKE_BIN, ['-brokers', '1']);
  const version = await b.command('version');
  return {
    name: 'kfake',
    label: `franz-go kfake ${version} (in-memory, 1 broker)`,
    version,
    bootstrap: b.bootstrap,
    pid: b.pid,
    pids: () => [b.pid],
    async createTopic(name, partitions) {
      await b.command(`topic ${name} ${partitions} 1`);
    },
    async deleteTopic(name) {
      await b.command(`delete ${name}`);
    },
    stop: b.stop,
  };
}

/** Pids of the Kafka broker JVM(s) of a harness cluster (found by their run dir on the command line). */
function kafkaPids(dir) {
  const pids = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8');
      if (cmd.includes('kafka.Kafka') && cmd.includes(dir)) pids.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return pids;
}

/** The broker kinds that are a secured listener of the same Kafka node, and the listener each uses. */
export const KAFKA_SECURE_KINDS = { 'kafka-ssl': 'SSL', 'kafka-sasl-ssl': 'SASL_SSL' };
const KAFKA_KIND_LABEL = {
  kafka: 'Apache Kafka 4.4.0, 1 node (KRaft)',
  'kafka-ssl': 'Apache Kafka 4.4.0, 1 node (KRaft), SSL listener (TLS, server certificate verified, no client certificate)',
  'kafka-sasl-ssl': 'Apache Kafka 4.4.0, 1 node (KRaft), SASL_SSL listener (TLS + SCRAM-SHA-512; PLAIN for librdkafka C 2.0.2)',
};

/**
 * A single-node Kafka 4.4.0.  `secure`: the node also gets an SSL listener
 * (server certificate only, ssl.client.auth=none) and a SASL_SSL listener with
 * SCRAM-SHA-512, with a CA and broker certificate made for this run by the test
 * harness's certs.ts (openssl) and one SCRAM user with a random password.  The
 * result holds one broker view per kind (`kafka`, and with `secure` also
 * `kafka-ssl`, `kafka-sasl-ssl`): same process, same topics, different listener,
 * so the TLS cost is measured against the same broker.  Each view's `security`
 * is the client side in librdkafka's property names; topic admin and the
 * delivery check (kcat) always use PLAINTEXT (`adminBootstrap`).
 */
export async function startKafka({ secure = false } = {}) {
  process.env.KAFKA_HARNESS_JVM_OPTS = KAFKA_BROKER_JVM_OPTS.join(' ');
  const { tsImport } = await import('tsx/esm/api');
  const harness = await tsImport(path.join(ROOT, 'test', 'harness', 'kafka.ts'), import.meta.url);
  const extra = {};
  let certDir = null;
  let certs = null;
  let scram = null;
  if (secure) {
    const { makeTestCertificates } = await tsImport(path.join(ROOT, 'test', 'harness', 'certs.ts'), import.meta.url);
    certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-kafka-certs-'));
    certs = makeTestCertificates(certDir);
    // Hex: no character that needs escaping in SCRAM's saslname, JAAS or librdkafka config.
    scram = { username: 'bench', password: randomBytes(16).toString('hex') };
    const serverProperties = {};
    for (const l of ['ssl', 'sasl_ssl']) {
      serverProperties[`listener.name.${l}.ssl.keystore.type`] = 'PEM';
      serverProperties[`listener.name.${l}.ssl.keystore.location`] = certs.broker.keystoreFile;
      serverProperties[`listener.name.${l}.ssl.key.password`] = certs.broker.keyPassword;
      serverProperties[`listener.name.${l}.ssl.client.auth`] = 'none';
    }
    // PLAIN beside SCRAM only for librdkafka before 2.6.1 (Debian's 2.0.2), whose SCRAM Kafka 4 rejects (see clients.mjs).
    serverProperties['listener.name.sasl_ssl.sasl.enabled.mechanisms'] = 'SCRAM-SHA-512,PLAIN';
    serverProperties['listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config'] = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
    serverProperties['listener.name.sasl_ssl.plain.sasl.jaas.config'] = `org.apache.kafka.common.security.plain.PlainLoginModule required user_${scram.username}="${scram.password}";`;
    Object.assign(extra, {
      extraListeners: [
        { name: 'SSL', securityProtocol: 'SSL' },
        { name: 'SASL_SSL', securityProtocol: 'SASL_SSL' },
      ],
      serverProperties,
      formatArgs: ['--add-scram', `SCRAM-SHA-512=[name=${scram.username},password=${scram.password}]`],
    });
  }
  let cluster;
  try {
    cluster = await harness.startKafka({ brokers: 1, startTimeoutMs: 120_000, ...extra });
  } catch (e) {
    if (certDir) fs.rmSync(certDir, { recursive: true, force: true });
    throw e;
  }
  const pids = kafkaPids(cluster.dir);
  const securityOf = {
    kafka: null,
    'kafka-ssl': certs && { 'security.protocol': 'ssl', 'ssl.ca.location': certs.caFile },
    'kafka-sasl-ssl': certs && {
      'security.protocol': 'sasl_ssl',
      'ssl.ca.location': certs.caFile,
      'sasl.mechanisms': 'SCRAM-SHA-512',
      'sasl.username': scram.username,
      'sasl.password': scram.password,
    },
  };
  const listenerOf = { kafka: 'PLAINTEXT', ...KAFKA_SECURE_KINDS };
  let stopped = null;
  const stop = () =>
    (stopped ??= (async () => {
      await cluster.stop();
      if (certDir) fs.rmSync(certDir, { recursive: true, force: true });
    })());
  const views = {};
  for (const kind of secure ? ['kafka', ...Object.keys(KAFKA_SECURE_KINDS)] : ['kafka']) {
    views[kind] = {
      name: kind,
      label: KAFKA_KIND_LABEL[kind],
      bootstrap: cluster.listeners[listenerOf[kind]],
      adminBootstrap: cluster.bootstrap,
      security: securityOf[kind],
      pid: pids[0],
      pids: () => kafkaPids(cluster.dir),
      async createTopic(name, partitions) {
        await cluster.createTopic(name, partitions, 1);
      },
      async deleteTopic(name) {
        await cluster.deleteTopic(name);
      },
      stop,
    };
  }
  return { views, stop };
}

/**
 * Sum of the end offsets (high-water marks) of partitions 0..n-1, through
 * `kcat -Q` (ListOffsets, timestamp -1).  Rejects when a partition is missing.
 */
export function highWatermarkSum(bootstrap, topic, partitions) {
  const args = ['-Q', '-J', '-b', bootstrap];
  for (let p = 0; p < partitions; p++) args.push('-t', `${topic}:${p}:-1`);
  // 30 s, plus time for topics of thousands of partitions (S6) on a loaded machine.
  const r = spawnSync('kcat', args, { encoding: 'utf8', timeout: 30_000 + 30 * partitions, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new Error(`kcat -Q: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`kcat -Q exited ${r.status}: ${r.stderr.trim()}`);
  const j = JSON.parse(r.stdout);
  const t = j[topic];
  if (!t) throw new Error(`kcat -Q: no offsets for ${topic}: ${r.stdout.slice(0, 300)}`);
  const perPartition = [];
  for (let p = 0; p < partitions; p++) {
    const e = t[String(p)];
    if (!e || typeof e.offset !== 'number' || e.offset < 0) throw new Error(`kcat -Q: bad offset for ${topic}[${p}]: ${JSON.stringify(e)}`);
    perPartition.push(e.offset);
  }
  return { sum: perPartition.reduce((a, b) => a + b, 0), perPartition };
}

/**
 * Records of partitions 0..n-1 that a read_committed consumer sees, per partition: `kcat -C` from the
 * beginning to the end of each partition with isolation.level=read_committed, one line per record
 * (its partition, '%p'), counted here.  For transactional runs (S7), where the end offsets also count
 * the commit markers (one per partition a transaction wrote to) and would count aborted records.
 * With every transaction completed the last stable offset equals the high-water mark, so `-e`
 * (exit at each partition's end) stops after the last committed record.
 */
export function committedCount(bootstrap, topic, partitions) {
  const args = ['-C', '-b', bootstrap, '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%p\\n', '-X', 'isolation.level=read_committed'];
  const r = spawnSync('kcat', args, { encoding: 'utf8', timeout: 180_000, maxBuffer: 256 * 1024 * 1024 });
  if (r.error) throw new Error(`kcat -C read_committed: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`kcat -C read_committed exited ${r.status}: ${r.stderr.trim().slice(0, 300)}`);
  const perPartition = new Array(partitions).fill(0);
  let start = 0;
  const out = r.stdout;
  for (let nl = out.indexOf('\n'); nl >= 0; start = nl + 1, nl = out.indexOf('\n', start)) {
    const p = Number(out.slice(start, nl));
    if (!Number.isInteger(p) || p < 0 || p >= partitions) throw new Error(`kcat -C read_committed: unexpected line ${JSON.stringify(out.slice(start, nl))}`);
    perPartition[p]++;
  }
  return { sum: perPartition.reduce((a, b) => a + b, 0), perPartition };
}
