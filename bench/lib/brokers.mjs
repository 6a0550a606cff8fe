// The two brokers of the benchmark, both on 127.0.0.1 with random ports:
//  - librdkafka's mock cluster (1 broker), driven through the test harness's
//    mockcluster binary (.cache/mockcluster/mockcluster, a line protocol on stdin);
//  - a single-node Apache Kafka 4.4.0 (KRaft) from test/harness/kafka.ts,
//    imported through tsx.
// Each exposes: name, bootstrap, pid (the process whose CPU is the broker's),
// createTopic(name, partitions), deleteTopic(name), stop().
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT } from './paths.mjs';

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

export async function startMock() {
  if (!fs.existsSync(MOCKCLUSTER_BIN)) throw new Error(`mock cluster binary missing: ${MOCKCLUSTER_BIN} (node scripts/ensure-deps.mjs --for test builds it)`);
  const child = spawn(MOCKCLUSTER_BIN, ['1'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  child.stdin.on('error', () => {});
  const rl = createInterface({ input: child.stdout, crlfDelay: Infinity });
  const lines = [];
  const waiters = [];
  rl.on('line', (l) => (waiters.length ? waiters.shift()(l) : lines.push(l)));
  const exited = new Promise((r) => child.once('exit', (code, sig) => r(sig ?? code)));
  const nextLine = (ms) =>
    new Promise((resolve, reject) => {
      if (lines.length) return resolve(lines.shift());
      const t = setTimeout(() => reject(new Error(`mockcluster: no reply within ${ms} ms; stderr: ${stderr}`)), ms);
      waiters.push((l) => {
        clearTimeout(t);
        resolve(l);
      });
      exited.then((how) => reject(new Error(`mockcluster exited (${how}); stderr: ${stderr}`)));
    });
  const greeting = await nextLine(10_000);
  const m = /^BOOTSTRAP (\S+)$/.exec(greeting);
  if (!m) {
    child.kill('SIGKILL');
    throw new Error(`mockcluster: unexpected first line ${greeting}`);
  }
  let chain = Promise.resolve();
  const command = (line) => {
    const p = chain.then(async () => {
      child.stdin.write(`${line}\n`);
      const reply = await nextLine(10_000);
      if (reply === 'OK' || reply.startsWith('OK ')) return reply.slice(3);
      throw new Error(`mockcluster: ${line}: ${reply}`);
    });
    chain = p.catch(() => {});
    return p;
  };
  return {
    name: 'mock',
    label: 'librdkafka 2.0.2 mock cluster (1 broker)',
    bootstrap: m[1],
    pid: child.pid,
    pids: () => [child.pid],
    async createTopic(name, partitions) {
      await command(`topic ${name} ${partitions} 1`);
    },
    async deleteTopic() {
      /* the 2.0.2 mock cannot delete topics; each keeps at most 5 MB per partition */
    },
    async stop() {
      child.stdin.end();
      const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(t);
    },
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

export async function startKafka() {
  process.env.KAFKA_HARNESS_JVM_OPTS = KAFKA_BROKER_JVM_OPTS.join(' ');
  const { tsImport } = await import('tsx/esm/api');
  const harness = await tsImport(path.join(ROOT, 'test', 'harness', 'kafka.ts'), import.meta.url);
  const cluster = await harness.startKafka({ brokers: 1, startTimeoutMs: 120_000 });
  const pids = kafkaPids(cluster.dir);
  return {
    name: 'kafka',
    label: 'Apache Kafka 4.4.0, 1 node (KRaft)',
    bootstrap: cluster.bootstrap,
    pid: pids[0],
    pids: () => kafkaPids(cluster.dir),
    async createTopic(name, partitions) {
      await cluster.createTopic(name, partitions, 1);
    },
    async deleteTopic(name) {
      await cluster.deleteTopic(name);
    },
    async stop() {
      await cluster.stop();
    },
  };
}

/**
 * Sum of the end offsets (high-water marks) of partitions 0..n-1, through
 * `kcat -Q` (ListOffsets, timestamp -1).  Rejects when a partition is missing.
 */
export function highWatermarkSum(bootstrap, topic, partitions) {
  const args = ['-Q', '-J', '-b', bootstrap];
  for (let p = 0; p < partitions; p++) args.push('-t', `${topic}:${p}:-1`);
  const r = spawnSync('kcat', args, { encoding: 'utf8', timeout: 30_000 });
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
