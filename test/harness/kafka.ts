// Real Apache Kafka (KRaft, combined broker+controller nodes) for integration
// tests, run straight from the jars that `scripts/ensure-deps.mjs` puts in
// .cache/kafka/<version>/libs.  See test/harness/README.md.
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  KAFKA_DIR,
  KAFKA_LIBS,
  KAFKA_VERSION,
  LineChannel,
  TOOLS_CLASSPATH,
  TOOL_JVM_FLAGS,
  canConnect,
  freePorts,
  isRunning,
  requireJavaHelpers,
  sleep,
  spawnTracked,
  tailFile,
  terminate,
  waitExit,
  watchdog,
  withTimeout,
} from './util.js';

export interface KafkaBroker {
  nodeId: number;
  host: string;
  port: number;
}

export interface PartitionState {
  leader: number; // -1 when the partition has no leader
  isr: number[];
}

export interface KafkaCluster {
  /** "127.0.0.1:p1,127.0.0.1:p2,..." (the PLAINTEXT listener) */
  bootstrap: string;
  /** Bootstrap list of each listener by name: PLAINTEXT and every extraListeners entry. */
  listeners: Record<string, string>;
  brokers: KafkaBroker[];
  /** Per-run directory (data, configs, logs); removed by stop() unless KAFKA_HARNESS_KEEP=1. */
  dir: string;
  clusterId: string;
  /** replicationFactor defaults to the number of brokers. Resolves once every partition has a leader and a full ISR. */
  createTopic(name: string, partitions: number, replicationFactor?: number, configs?: Record<string, string>): Promise<void>;
  deleteTopic(name: string): Promise<void>;
  /** Signal one node (default SIGKILL) and wait for its process to exit. */
  kill(nodeId: number, signal?: NodeJS.Signals): Promise<void>;
  /** Start a stopped node again with the same dirs/ports; resolves once it is registered and unfenced. */
  restart(nodeId: number): Promise<void>;
  isRunning(nodeId: number): boolean;
  /** Log end offsets (high watermarks, read_uncommitted) per partition. */
  highWatermarks(topic: string): Promise<Map<number, bigint>>;
  /** Leader and ISR per partition, as the cluster metadata currently says. */
  partitionLeaders(topic: string): Promise<Map<number, PartitionState>>;
  /** Wait (default up to 60 s) until every partition has a leader and its ISR equals its replica set, e.g. after restart(). */
  waitForFullIsr(topic: string, timeoutMs?: number): Promise<void>;
  /** Full text of the node's server.log ('' once the run dir is gone). */
  logOf(nodeId: number): string;
  logPath(nodeId: number): string;
  stop(): Promise<void>;
}

export interface StartKafkaOptions {
  brokers: 1 | 3;
  /** Extra / overriding server.properties entries for every node. */
  serverProperties?: Record<string, string>;
  /** Feature levels for `kafka-storage format --feature name=level`, e.g. { 'transaction.version': 1 }. */
  features?: Record<string, number>;
  /** Default 90 000. */
  startTimeoutMs?: number;
  /**
   * More listeners besides PLAINTEXT (inter-broker, admin) and CONTROLLER, each
   * on its own free 127.0.0.1 port and advertised; their per-listener settings
   * (listener.name.<name>.…) go into serverProperties.  Names are upper case.
   */
  extraListeners?: { name: string; securityProtocol: 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL' }[];
  /** JVM system properties for the broker JVMs (-Dk=v), e.g. org.apache.kafka.sasl.oauthbearer.allowed.urls. */
  jvmSystemProperties?: Record<string, string>;
  /**
   * Extra `kafka-storage format` arguments, e.g. ['--add-scram', 'SCRAM-SHA-256=[name=alice,password=…]'].
   * Storage is then formatted for this run only (never cached in .cache: the arguments may hold credentials).
   */
  formatArgs?: string[];
}

const HOST = '127.0.0.1';
const CLUSTER_ID = 'a2Fma2EtcHJvZHVjZXItdA'; // any 22-char base64url id; shared by all runs
// Keep the first five in sync with BROKER_JVM_FLAGS in scripts/ensure-deps.mjs,
// which records the class-data-sharing archive (.cache/kafka/<v>/broker-cds.jsa)
// with them; a mismatch only costs start-up time (-Xshare:auto ignores it).
const DEFAULT_JVM_FLAGS = [
  '-Xms256m',
  '-Xmx512m',
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1', // C1 only: roughly halves start-up CPU; plenty fast for tests
  '-XX:-UsePerfData',
  '-XX:+ExitOnOutOfMemoryError',
  '-Djava.awt.headless=true',
  '-Djava.net.preferIPv4Stack=true',
];
const CDS_ARCHIVE = path.join(KAFKA_DIR, 'broker-cds.jsa');

function jvmFlags(): string[] {
  const env = process.env.KAFKA_HARNESS_JVM_OPTS;
  const flags = env && env.trim() ? env.trim().split(/\s+/) : [...DEFAULT_JVM_FLAGS];
  if (fs.existsSync(CDS_ARCHIVE) && !flags.some((f) => f.startsWith('-XX:SharedArchiveFile'))) {
    flags.push('-Xshare:auto', `-XX:SharedArchiveFile=${CDS_ARCHIVE}`);
  }
  return flags;
}

function brokerLog4j2(logFile: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <File name="SERVER" fileName="${logFile}" append="true" immediateFlush="true">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </File>
  </Appenders>
  <Loggers>
    <Root level="INFO"><AppenderRef ref="SERVER"/></Root>
    <Logger name="kafka.request.logger" level="WARN"/>
    <Logger name="kafka.authorizer.logger" level="WARN"/>
    <Logger name="org.apache.kafka.clients.NetworkClient" level="WARN"/>
    <Logger name="org.apache.kafka.common.config.AbstractConfig" level="WARN"/>
    <Logger name="org.apache.kafka.common.utils.AppInfoParser" level="WARN"/>
  </Loggers>
</Configuration>
`;
}

interface NodeSpec {
  nodeId: number;
  port: number;
  controllerPort: number;
  /** Ports of StartKafkaOptions.extraListeners, in order. */
  extraPorts: number[];
  dir: string;
}

function serverProperties(
  node: NodeSpec,
  all: NodeSpec[],
  extra: Record<string, string>,
  extraListeners: NonNullable<StartKafkaOptions['extraListeners']>,
): string {
  const n = all.length;
  const minIsr = n >= 3 ? 2 : 1;
  const more = extraListeners.map((l, i) => `${l.name}://${HOST}:${node.extraPorts[i]}`);
  const props: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': node.nodeId,
    listeners: [`PLAINTEXT://${HOST}:${node.port}`, `CONTROLLER://${HOST}:${node.controllerPort}`, ...more].join(','),
    'advertised.listeners': [`PLAINTEXT://${HOST}:${node.port}`, ...more].join(','),
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': ['PLAINTEXT:PLAINTEXT', 'CONTROLLER:PLAINTEXT', ...extraListeners.map((l) => `${l.name}:${l.securityProtocol}`)].join(','),
    'controller.quorum.voters': all.map((x) => `${x.nodeId}@${HOST}:${x.controllerPort}`).join(','),
    'log.dirs': path.join(node.dir, 'data'),
    // replication sized for the node count
    'default.replication.factor': n,
    'num.partitions': 1,
    'min.insync.replicas': minIsr,
    'offsets.topic.replication.factor': n,
    'offsets.topic.num.partitions': 3,
    'transaction.state.log.replication.factor': n,
    'transaction.state.log.min.isr': minIsr,
    'transaction.state.log.num.partitions': 3,
    'share.coordinator.state.topic.replication.factor': n,
    'share.coordinator.state.topic.min.isr': minIsr,
    'share.coordinator.state.topic.num.partitions': 3,
    'auto.create.topics.enable': false,
    'group.initial.rebalance.delay.ms': 0,
    // light on a 2-core machine
    'num.network.threads': 2,
    'num.io.threads': 4,
    'num.replica.fetchers': 1,
    'background.threads': 4,
    'num.recovery.threads.per.data.dir': 1,
    'log.cleaner.threads': 1,
    'log.cleaner.dedupe.buffer.size': 8 * 1024 * 1024, // default 128 MiB would eat a quarter of the heap
    // quick first election and reaction to killed nodes (defaults: 1000 / 2000 / 9000 / 30000 ms)
    'controller.quorum.election.timeout.ms': 500,
    'broker.heartbeat.interval.ms': 500,
    'broker.session.timeout.ms': 4000,
    'replica.lag.time.max.ms': 10000,
    ...extra,
  };
  return `${Object.entries(props)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')}\n`;
}

// ------------------------------------------------------------------ formatted storage templates
// `kafka-storage format` costs a JVM start (~1 s) per node.  With a static
// quorum (controller.quorum.voters) the formatted directory does not depend on
// ports or paths, only on node id, cluster id and features, so we format nodes
// 1..3 once into .cache/kafka/<v>/formatted/<key>/ and copy them per run.
async function formattedTemplate(features: Record<string, number>): Promise<string> {
  const key = createHash('sha256')
    .update(JSON.stringify({ KAFKA_VERSION, CLUSTER_ID, features, v: 1 }))
    .digest('hex')
    .slice(0, 16);
  const final = path.join(KAFKA_DIR, 'formatted', key);
  if (fs.existsSync(path.join(final, '.complete'))) return final;

  fs.mkdirSync(path.dirname(final), { recursive: true });
  const staging = fs.mkdtempSync(`${final}.tmp-`);
  try {
    await formatNodes(staging, [1, 2, 3], features, []);
    fs.writeFileSync(path.join(staging, '.complete'), `${CLUSTER_ID}\n`);
    try {
      fs.renameSync(staging, final);
    } catch (e) {
      // Another worker won the race; use its template.
      if (!fs.existsSync(path.join(final, '.complete'))) throw e;
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return final;
}

/** Formats node<id>/ under `into` for each id, in parallel JVMs. */
async function formatNodes(into: string, ids: number[], features: Record<string, number>, extraArgs: string[]): Promise<void> {
  const voters = [1, 2, 3].map((id) => `${id}@${HOST}:${9000 + id}`).join(',');
  await Promise.all(
    ids.map(async (id) => {
      const cfg = path.join(into, `format-${id}.properties`);
      fs.writeFileSync(
        cfg,
        [
          'process.roles=broker,controller',
          `node.id=${id}`,
          `listeners=PLAINTEXT://${HOST}:${9100 + id},CONTROLLER://${HOST}:${9000 + id}`,
          'controller.listener.names=CONTROLLER',
          'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
          `controller.quorum.voters=${voters}`,
          `log.dirs=${path.join(into, `node${id}`)}`,
          '',
        ].join('\n'),
      );
      const args = [
        ...TOOL_JVM_FLAGS,
        '-cp',
        TOOLS_CLASSPATH,
        'kafka.tools.StorageTool',
        'format',
        '--config',
        cfg,
        '--cluster-id',
        CLUSTER_ID,
        ...Object.entries(features).flatMap(([f, lvl]) => ['--feature', `${f}=${lvl}`]),
        ...extraArgs,
      ];
      const child = spawnTracked('java', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      child.stderr!.on('data', (d) => (out += d));
      const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      // The arguments are not quoted: --add-scram carries passwords.
      if (code !== 0) throw new Error(`kafka-storage format for node ${id} failed (exit ${code}):\n${out}`);
      fs.rmSync(cfg);
    }),
  );
}

// ------------------------------------------------------------------ cluster
class PortInUse extends Error {}

interface RunningNode extends NodeSpec {
  systemProperties: Record<string, string>;
  child: ChildProcess | null;
  disarm: (() => void) | null;
  propsFile: string;
  log4jFile: string;
  logFile: string;
  outFile: string;
}

function nodeTail(node: RunningNode, lines = 80): string {
  const log = tailFile(node.logFile, lines);
  const out = tailFile(node.outFile, 20);
  return (
    `----- node ${node.nodeId} (${node.logFile}), last ${lines} lines -----\n${log || '(empty)'}` +
    (out ? `\n----- node ${node.nodeId} stdout/stderr -----\n${out}` : '')
  );
}

function spawnNode(node: RunningNode): void {
  const fd = fs.openSync(node.outFile, 'a');
  try {
    const child = spawnTracked(
      'java',
      [
        ...jvmFlags(),
        ...Object.entries(node.systemProperties).map(([k, v]) => `-D${k}=${v}`),
        `-Dkafka.logs.dir=${node.dir}`,
        `-Dlog4j2.configurationFile=${node.log4jFile}`,
        '-cp',
        path.join(KAFKA_LIBS, '*'),
        'kafka.Kafka',
        node.propsFile,
      ],
      { stdio: ['ignore', fd, fd], cwd: node.dir },
    );
    node.child = child;
    node.disarm = child.pid ? watchdog(child.pid).disarm : null;
    child.once('exit', () => {
      node.disarm?.();
      node.disarm = null;
    });
  } finally {
    fs.closeSync(fd);
  }
}

function deathError(node: RunningNode): Error {
  const child = node.child!;
  const tail = tailFile(node.logFile, 200) + tailFile(node.outFile, 50);
  if (/BindException|Address already in use/.test(tail)) return new PortInUse(`node ${node.nodeId}: port in use`);
  return new Error(`Kafka node ${node.nodeId} exited during startup (${child.signalCode ?? `code ${child.exitCode}`})`);
}

/** Resolves when the node's broker port accepts connections; throws if the process dies first. */
async function waitListening(node: RunningNode, deadline: number): Promise<void> {
  for (;;) {
    const child = node.child!;
    if (!isRunning(child)) throw deathError(node);
    if (await canConnect(HOST, node.port, 500)) return;
    if (Date.now() > deadline) throw new Error(`Kafka node ${node.nodeId} did not open ${HOST}:${node.port} in time`);
    await sleep(100);
  }
}

/** Last `bytes` of a file as text ('' if missing). */
function readTail(file: string, bytes = 64 * 1024): string {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const size = fs.fstatSync(fd).size;
    const len = Math.min(bytes, size);
    const buf = Buffer.alloc(len);
    fs.readSync(fd, buf, 0, len, size - len);
    return buf.toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * SIGTERM all nodes at once, wait up to 15 s, then SIGKILL.  When the whole
 * cluster goes down together, the last Raft leader spends 5 s in a graceful
 * resignation nobody is left to acknowledge, and a node whose controlled
 * shutdown was not committed before the quorum went away waits for minutes;
 * so once every node's broker side has logged "shut down completed", or the
 * quorum has been lost for a second, the rest gets SIGKILL.
 */
async function stopNodes(nodes: RunningNode[]): Promise<void> {
  const running = nodes.filter((x) => isRunning(x.child));
  for (const node of running) node.child!.kill('SIGTERM');
  const deadline = Date.now() + 15_000;
  const majority = Math.floor(nodes.length / 2) + 1;
  let quorumLostAt = 0;
  while (running.some((x) => isRunning(x.child)) && Date.now() < deadline) {
    const alive = running.filter((x) => isRunning(x.child));
    if (alive.every((x) => readTail(x.logFile).includes(`[BrokerServer id=${x.nodeId}] shut down completed`))) break;
    // Without a Raft majority the survivors' controlled shutdown can never be
    // committed (they would wait minutes): give them a moment, then kill.
    if (nodes.length > 1 && nodes.filter((x) => isRunning(x.child)).length < majority) {
      quorumLostAt ||= Date.now();
      if (Date.now() - quorumLostAt > 1000) break;
    }
    await sleep(100);
  }
  await Promise.all(running.map((x) => terminate(x.child!, 'SIGKILL', 10_000)));
}

function startAdmin(bootstrap: string): LineChannel {
  const child = spawnTracked('java', [...TOOL_JVM_FLAGS, '-cp', TOOLS_CLASSPATH, 'kafkaharness.AdminHelper', bootstrap], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return new LineChannel(child, 'AdminHelper');
}

function checkToken(what: string, s: string): void {
  if (!s || /\s/.test(s)) throw new Error(`${what} must be non-empty and contain no whitespace: ${JSON.stringify(s)}`);
}

const RUN_DIR_PREFIX = 'kafka-harness-';

/** Remove run dirs left behind by test processes that were killed (their owner pid is gone). */
function removeStaleRunDirs(): void {
  if (process.env.KAFKA_HARNESS_KEEP) return;
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(os.tmpdir()).filter((e) => e.startsWith(RUN_DIR_PREFIX));
  } catch {
    return;
  }
  for (const e of entries) {
    const dir = path.join(os.tmpdir(), e);
    try {
      const pid = Number(fs.readFileSync(path.join(dir, 'owner.pid'), 'utf8'));
      if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) continue;
      try {
        process.kill(pid, 0);
        continue; // owner alive
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EPERM') continue;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      /* no owner file (yet) or already gone */
    }
  }
}

async function startOnce(opts: StartKafkaOptions, template: string, deadline: number): Promise<KafkaCluster> {
  const n = opts.brokers;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), RUN_DIR_PREFIX));
  fs.writeFileSync(path.join(dir, 'owner.pid'), String(process.pid));
  const extraListeners = opts.extraListeners ?? [];
  const perNode = 2 + extraListeners.length;
  const ports = await freePorts(perNode * n);
  const specs: NodeSpec[] = Array.from({ length: n }, (_, i) => ({
    nodeId: i + 1,
    port: ports[perNode * i]!,
    controllerPort: ports[perNode * i + 1]!,
    extraPorts: extraListeners.map((_, j) => ports[perNode * i + 2 + j]!),
    dir: path.join(dir, `node${i + 1}`),
  }));
  const nodes: RunningNode[] = specs.map((s) => ({
    ...s,
    systemProperties: opts.jvmSystemProperties ?? {},
    child: null,
    disarm: null,
    propsFile: path.join(s.dir, 'server.properties'),
    log4jFile: path.join(s.dir, 'log4j2.xml'),
    logFile: path.join(s.dir, 'server.log'),
    outFile: path.join(s.dir, 'stdout.log'),
  }));
  for (const node of nodes) {
    fs.mkdirSync(node.dir, { recursive: true });
    fs.cpSync(path.join(template, `node${node.nodeId}`), path.join(node.dir, 'data'), { recursive: true });
    fs.writeFileSync(node.propsFile, serverProperties(node, specs, opts.serverProperties ?? {}, extraListeners), { mode: 0o600 });
    fs.writeFileSync(node.log4jFile, brokerLog4j2(node.logFile));
  }
  const bootstrap = nodes.map((x) => `${HOST}:${x.port}`).join(',');
  const byId = (id: number): RunningNode => {
    const node = nodes.find((x) => x.nodeId === id);
    if (!node) throw new Error(`no Kafka node ${id} (nodes are 1..${n})`);
    return node;
  };

  let admin: LineChannel | null = null;
  let stopped = false;
  const stopAll = async (): Promise<void> => {
    const a = admin;
    admin = null;
    if (a && !a.closed) {
      a.child.stdin?.end();
    }
    await Promise.all([stopNodes(nodes), a ? terminate(a.child, 'SIGTERM', 3_000) : Promise.resolve()]);
    if (!process.env.KAFKA_HARNESS_KEEP) fs.rmSync(dir, { recursive: true, force: true });
  };

  try {
    for (const node of nodes) spawnNode(node);
    admin = startAdmin(bootstrap); // its JVM starts while the brokers do
    // Fail fast if a node dies while we wait for the cluster as a whole.
    let onDeath: (() => void) | undefined;
    const died = new Promise<never>((_, reject) => {
      onDeath = () => {
        const dead = nodes.find((x) => !isRunning(x.child));
        // Give log4j's last lines a moment to land before classifying the death.
        if (dead) setTimeout(() => reject(deathError(dead)), 200);
      };
      for (const node of nodes) node.child!.once('exit', onDeath);
    });
    died.catch(() => {});
    try {
      await Promise.race([
        died,
        (async () => {
          await Promise.all(nodes.map((node) => waitListening(node, deadline)));
          await withTimeout(admin!.greeting, deadline - Date.now(), 'AdminHelper did not start in time');
          await admin!.request(`ready ${n} ${Math.max(1000, deadline - Date.now())}`);
        })(),
      ]);
    } finally {
      for (const node of nodes) node.child!.off('exit', onDeath!);
    }
  } catch (e) {
    const tails = nodes.map((x) => nodeTail(x)).join('\n');
    const adminErr = admin ? admin.stderr.toString() : '';
    await stopAll();
    const err = new (e instanceof PortInUse ? PortInUse : Error)(
      `Kafka ${KAFKA_VERSION} (${n} node${n > 1 ? 's' : ''}) failed to start: ${(e as Error).message}\n${tails}` +
        (adminErr ? `\n----- AdminHelper stderr -----\n${adminErr}` : ''),
    );
    throw err;
  }

  const adminReq = (line: string): Promise<string> => {
    if (stopped || !admin) return Promise.reject(new Error('Kafka cluster is stopped'));
    return admin.request(line);
  };

  const listeners: Record<string, string> = { PLAINTEXT: bootstrap };
  extraListeners.forEach((l, j) => {
    listeners[l.name] = nodes.map((x) => `${HOST}:${x.extraPorts[j]}`).join(',');
  });

  const cluster: KafkaCluster = {
    bootstrap,
    listeners,
    brokers: nodes.map((x) => ({ nodeId: x.nodeId, host: HOST, port: x.port })),
    dir,
    clusterId: CLUSTER_ID,

    async createTopic(name, partitions, replicationFactor = n, configs = {}) {
      checkToken('topic name', name);
      const cfg = Object.entries(configs).map(([k, v]) => {
        checkToken('config key', k);
        checkToken(`config ${k}`, String(v));
        return `${k}=${v}`;
      });
      await adminReq(['create', name, partitions, replicationFactor, 60_000, ...cfg].join(' '));
    },

    async deleteTopic(name) {
      checkToken('topic name', name);
      await adminReq(`delete ${name} 30000`);
    },

    async kill(nodeId, signal = 'SIGKILL') {
      const node = byId(nodeId);
      const child = node.child;
      if (!child || !isRunning(child)) return;
      child.kill(signal);
      if (!(await waitExit(child, signal === 'SIGKILL' ? 10_000 : 60_000))) {
        child.kill('SIGKILL');
        await waitExit(child, 10_000);
      }
    },

    async restart(nodeId) {
      const node = byId(nodeId);
      if (stopped) throw new Error('Kafka cluster is stopped');
      if (isRunning(node.child)) throw new Error(`Kafka node ${nodeId} is still running; kill() it first`);
      spawnNode(node);
      const dl = Date.now() + (opts.startTimeoutMs ?? 90_000);
      try {
        await waitListening(node, dl);
        await adminReq(`waitbroker ${nodeId} ${Math.max(1000, dl - Date.now())}`);
      } catch (e) {
        throw new Error(`restart of Kafka node ${nodeId} failed: ${(e as Error).message}\n${nodeTail(node)}`);
      }
    },

    isRunning(nodeId) {
      return isRunning(byId(nodeId).child);
    },

    async highWatermarks(topic) {
      checkToken('topic name', topic);
      const reply = await adminReq(`hwm ${topic} 30000`);
      const m = new Map<number, bigint>();
      for (const tok of reply.split(' ').filter(Boolean)) {
        const [p, off] = tok.split(':');
        m.set(Number(p), BigInt(off!));
      }
      return m;
    },

    async partitionLeaders(topic) {
      checkToken('topic name', topic);
      const reply = await adminReq(`leaders ${topic} 30000`);
      const m = new Map<number, PartitionState>();
      for (const tok of reply.split(' ').filter(Boolean)) {
        const [p, leader, isr] = tok.split(':');
        m.set(Number(p), { leader: Number(leader), isr: isr ? isr.split('/').map(Number) : [] });
      }
      return m;
    },

    async waitForFullIsr(topic, timeoutMs = 60_000) {
      checkToken('topic name', topic);
      await adminReq(`fullisr ${topic} ${timeoutMs}`);
    },

    logOf(nodeId) {
      try {
        return fs.readFileSync(byId(nodeId).logFile, 'utf8');
      } catch {
        return '';
      }
    },

    logPath(nodeId) {
      return byId(nodeId).logFile;
    },

    async stop() {
      if (stopped) return;
      stopped = true;
      await stopAll();
    },
  };
  return cluster;
}

/**
 * Start a KRaft cluster of 1 or 3 combined broker+controller nodes (ids 1..n)
 * on 127.0.0.1 with random free ports.  Rejects (after cleaning up) with the
 * tail of every node's log if the cluster is not ready within startTimeoutMs.
 */
export async function startKafka(opts: StartKafkaOptions): Promise<KafkaCluster> {
  if (opts.brokers !== 1 && opts.brokers !== 3) throw new Error('startKafka: brokers must be 1 or 3');
  requireJavaHelpers();
  removeStaleRunDirs();
  const deadline = Date.now() + (opts.startTimeoutMs ?? 90_000);
  let template: string;
  let ownTemplate = false;
  if (opts.formatArgs && opts.formatArgs.length > 0) {
    template = fs.mkdtempSync(path.join(os.tmpdir(), `${RUN_DIR_PREFIX}format-`));
    fs.writeFileSync(path.join(template, 'owner.pid'), String(process.pid));
    ownTemplate = true;
    try {
      await formatNodes(template, Array.from({ length: opts.brokers }, (_, i) => i + 1), opts.features ?? {}, opts.formatArgs);
    } catch (e) {
      fs.rmSync(template, { recursive: true, force: true });
      throw e;
    }
  } else {
    template = await formattedTemplate(opts.features ?? {});
  }
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        return await startOnce(opts, template, deadline);
      } catch (e) {
        // A port picked as free was grabbed by someone else before Kafka bound it: new ports, new dir.
        if (e instanceof PortInUse && attempt < 3 && Date.now() < deadline) continue;
        throw e;
      }
    }
  } finally {
    if (ownTemplate) fs.rmSync(template, { recursive: true, force: true });
  }
}

