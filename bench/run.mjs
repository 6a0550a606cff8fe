#!/usr/bin/env node
// Side-by-side benchmark of kafka-producer-ts and peer Kafka producers.
//
//   npm run bench                       # ensure-deps + tsup + this script (full run)
//   node bench/run.mjs [--quick] [--broker mock|kfake|kafka|both|all] [--clients a,b]
//                      [--scenarios 1,2] [--repeats 3] [--mock-nagle] [--no-ensure]
//
// Every client runs in its own process (under /usr/bin/time) against the same
// broker; each scenario is repeated, runs alternate between clients, and the
// median is reported.  Each run produces to a fresh topic and passes only if
// the sum of the topic's high-water marks equals the records sent (S7, transactional:
// if a read_committed consumer sees exactly the records sent).  See
// bench/README.md.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EnsureError, ensure } from './ensure.mjs';
import { KAFKA_SECURE_KINDS, committedCount, highWatermarkSum, startKafka, startKfake, startMock } from './lib/brokers.mjs';
import { CLIENTS, parseResult } from './lib/clients.mjs';
import { BENCH, RESULTS, ROOT, STATUS_FILE } from './lib/paths.mjs';
import { busyCores, cpuSecondsOf, hwmMbOf, machineCpu, rssMbOf, runMeasured } from './lib/proc.mjs';
import { writeReports } from './lib/report.mjs';
import { expectedPlacement } from './lib/keys.mjs';
import { SCENARIOS, partitionsOf, scaled } from './lib/scenarios.mjs';

const log = (m) => console.log(`[bench] ${m}`);

const USAGE = `usage: node bench/run.mjs [options]
  --quick                 10x fewer records (a smoke run)
  --broker B              mock, kfake, kafka, kafka-ssl, kafka-sasl-ssl, a list such as mock,kfake,
                          both (= mock,kafka) or all (= mock,kfake,kafka; the default). kafka-ssl and
                          kafka-sasl-ssl are the SSL and SASL_SSL (SCRAM-SHA-512) listeners of the same
                          Kafka node as kafka (the TLS cost); only ours, c and java (S1/S2) are wired for them
  --mock-nagle            run the mock cluster stock, with Nagle on (default: with TCP_NODELAY, as a real broker)
  --mock-brokers N        brokers in the mock cluster (default 1); topic partitions' leaders spread over them
  --clients a,b           ${CLIENTS.map((c) => c.id).join(', ')} (default all but the -bun/-deno ones; "ours" = both of ours)
  --runtime bun,deno      also run the selected forms of ours under Bun / Deno (clients ours-cb-bun, ours-promise-deno, ...;
                          binaries from scripts/ensure-deps.mjs --for test)
  --scenarios 1,2         1 (1a acks=1, 1b acks=all), 2 (2a, 2b), 3, 4, 5 (compression: 5-gzip, 5-snappy,
                          5-lz4, 5-zstd), 6 (keyed, many partitions: 6-4, 6-1024, 6-4096), 7 (transactional),
                          or ids like 1a
                          (default all)
  --repeats N             runs per scenario and client (default 3; medians need >= 3)
  --quiet-wait S          wait up to S seconds before a run while other processes keep the CPUs busy (default 15; 600 s in all)
  --noise-retries N       redo a passing run up to N times (default 2; 40 in all) when other processes used
                          > 0.25 cores during it; the noisy run is kept in the JSON as "discarded"
  --no-ensure             skip bench/ensure.mjs
  --out NAME              basename of the result files in bench/results/ (default: results, quick, or custom)
  --rerender NAME         only regenerate NAME.md, the chart and the docs section from bench/results/NAME.json
                          (NAME results: also the measured part of docs/performance.md)`;

function parseArgs(argv) {
  const o = { quick: false, broker: 'all', mockNagle: false, mockBrokers: 1, clients: null, runtimes: [], scenarios: null, repeats: 3, ensure: true, quietWait: 15, noiseRetries: 2, out: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const key = a.split('=')[0];
    if (key === '--quick') o.quick = true;
    else if (key === '--broker' || key === '--brokers') o.broker = val();
    else if (key === '--clients') o.clients = val().split(',').map((s) => s.trim()).filter(Boolean);
    else if (key === '--runtime' || key === '--runtimes') o.runtimes = val().split(',').map((s) => s.trim()).filter(Boolean);
    else if (key === '--scenarios') o.scenarios = val().split(',').map((s) => s.trim()).filter(Boolean);
    else if (key === '--repeats') o.repeats = Number(val());
    else if (key === '--quiet-wait') o.quietWait = Number(val());
    else if (key === '--noise-retries') o.noiseRetries = Number(val());
    else if (key === '--no-ensure') o.ensure = false;
    else if (key === '--mock-nagle') o.mockNagle = true;
    else if (key === '--mock-brokers') o.mockBrokers = Number(val());
    else if (key === '--out') o.out = val();
    else if (key === '-h' || key === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown option ${a}\n${USAGE}`);
  }
  o.brokers = BROKER_SETS[o.broker] ?? o.broker.split(',').map((s) => s.trim()).filter(Boolean);
  for (const b of o.brokers) if (!BROKERS.includes(b)) throw new Error(`--broker must be ${BROKERS.join(', ')}, a comma list of them, both or all`);
  // Always in the same order: the light brokers first.
  o.brokers = BROKERS.filter((b) => o.brokers.includes(b));
  if (!Number.isInteger(o.repeats) || o.repeats < 1) throw new Error('--repeats must be a positive integer');
  if (!Number.isInteger(o.mockBrokers) || o.mockBrokers < 1) throw new Error('--mock-brokers must be a positive integer');
  const ids = new Set(CLIENTS.map((c) => c.id));
  if (o.clients) {
    o.clients = o.clients.flatMap((c) => (c === 'ours' ? ['ours-cb', 'ours-promise'] : [c]));
    for (const c of o.clients) if (!ids.has(c)) throw new Error(`unknown client ${c} (${[...ids].join(', ')})`);
  }
  for (const rt of o.runtimes) if (!CLIENTS.some((c) => c.runtime?.name === rt)) throw new Error(`--runtime: unknown runtime ${rt}`);
  // --runtime R: every selected form of ours (both by default) also as ours-<form>-R.
  const base = o.clients ?? CLIENTS.filter((c) => !c.optIn).map((c) => c.id);
  const variants = base.flatMap((id) => o.runtimes.map((rt) => `${id}-${rt}`)).filter((id) => ids.has(id));
  o.clients = o.clients || variants.length ? [...new Set([...base, ...variants])] : null;
  if (o.scenarios) {
    for (const s of o.scenarios) {
      if (!SCENARIOS.some((x) => x.id === s || String(x.group) === s)) throw new Error(`unknown scenario ${s}`);
    }
  }
  return o;
}

const BROKERS = ['mock', 'kfake', 'kafka', ...Object.keys(KAFKA_SECURE_KINDS)];
const BROKER_SETS = { all: ['mock', 'kfake', 'kafka'], both: ['mock', 'kafka'] };
const KAFKA_KINDS = ['kafka', ...Object.keys(KAFKA_SECURE_KINDS)];

/**
 * The Kafka kinds share one node (started once, with the secured listeners if
 * any secured kind was asked for), so PLAINTEXT and TLS runs hit the same broker;
 * it is stopped after the last Kafka kind of the run.
 */
let kafkaNode = null;
function kafkaKind(kind, opts) {
  const kinds = opts.brokers.filter((b) => KAFKA_KINDS.includes(b));
  kafkaNode ??= startKafka({ secure: kinds.some((b) => b in KAFKA_SECURE_KINDS) });
  return kafkaNode.then((node) => {
    const view = node.views[kind];
    return { ...view, stop: () => (kind === kinds[kinds.length - 1] ? node.stop() : Promise.resolve()) };
  });
}
const STARTERS = {
  mock: (opts) => startMock({ nagle: opts.mockNagle, brokers: opts.mockBrokers }),
  kfake: () => startKfake(),
  ...Object.fromEntries(KAFKA_KINDS.map((k) => [k, (opts) => kafkaKind(k, opts)])),
};

function machineInfo() {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
  const sh = (cmd, args) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  };
  return {
    nproc: Number(sh('nproc', [])) || os.cpus().length,
    cpuModel: model,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    os: sh('sh', ['-c', '. /etc/os-release && echo "$PRETTY_NAME"']),
    node: process.version,
    java: sh('java', ['-version']).split('\n')[0],
    librdkafka: sh('pkg-config', ['--modversion', 'rdkafka']),
    // src/ changes while people work: record what was measured.
    git: `${sh('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'])}${sh('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src']) ? ' + uncommitted src/ changes' : ''}`,
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Wait (bounded) until the machine is quiet, so other work does not skew a
 * run: up to `maxSec` per run while more than half a core is busy, and at most
 * QUIET_BUDGET_SEC over the whole benchmark.
 */
const QUIET_BUDGET_SEC = 600;
let quietSpentSec = 0;
async function waitQuiet(maxSec) {
  const t0 = Date.now();
  const limit = Math.min(maxSec, Math.max(0, QUIET_BUDGET_SEC - quietSpentSec));
  let busy = await busyCores(300);
  while (busy > 0.5 && (Date.now() - t0) / 1000 < limit) {
    await sleep(2000);
    busy = await busyCores(300);
  }
  const waitedSec = Math.round((Date.now() - t0) / 100) / 10;
  quietSpentSec += Math.max(0, waitedSec - 0.3);
  return { busyCoresBefore: Math.round(busy * 100) / 100, waitedSec };
}

function brokerCpu(broker) {
  return broker.pids().reduce((a, pid) => a + (cpuSecondsOf(pid) || 0), 0);
}

let topicSeq = 0;
let noiseRetriesLeft = 40;
function topicName(brokerName, scenarioId, clientId) {
  return `bench-${brokerName}-${scenarioId}-${clientId}-${Date.now().toString(36)}-${topicSeq++}`.replace(/[^a-zA-Z0-9._-]/g, '_');
}

async function runOne({ broker, scenario, client, repeat, opts, probe = false }) {
  const topic = topicName(broker.name, probe ? 'probe' : scenario.id, client.id);
  const partitions = partitionsOf(scenario);
  const rec = {
    broker: broker.name,
    scenario: scenario.id,
    client: client.id,
    repeat,
    probe,
    topic,
    records: scenario.records,
    warmupRecords: scenario.warmupRecords ?? 0,
    valueBytes: scenario.valueBytes,
    partitions,
    status: 'failed',
    reason: null,
  };
  const tc = Date.now();
  try {
    await broker.createTopic(topic, partitions);
    // Thousands of partitions (S6) take a real broker a while; the JSON keeps how long.
    rec.topicCreateSec = round((Date.now() - tc) / 1000, 2);
  } catch (e) {
    rec.reason = `topic creation failed: ${e.message.split('\n')[0]}`;
    return rec;
  }
  Object.assign(rec, await waitQuiet(probe ? 0 : opts.quietWait));
  const b0 = brokerCpu(broker);
  const m0 = machineCpu();
  const self0 = process.cpuUsage();
  const run = { bootstrap: broker.bootstrap, topic, scenario, security: broker.security ?? null };
  const argv = client.command(run);
  const timeoutMs = (probe ? 45 : scenario.timeoutSec) * 1000;
  const res = await runMeasured(argv, { timeoutMs, cwd: BENCH, env: client.env?.() });
  const b1 = brokerCpu(broker);
  const m1 = machineCpu();
  const self = process.cpuUsage(self0);
  const selfSec = (self.user + self.system) / 1e6;
  rec.brokerCpuSec = round(b1 - b0, 3);
  rec.brokerRssMB = round(rssMbOf(broker.pid), 1);
  if (res.time) {
    rec.cpuSec = round(res.time.userSec + res.time.sysSec, 3);
    rec.userSec = res.time.userSec;
    rec.sysSec = res.time.sysSec;
    rec.processWallSec = res.time.wallSec;
    rec.peakRssMB = round(res.time.peakRssMB, 1);
    // CPU of every other process on the machine during the run: the noise indicator.
    rec.otherCpuSec = round(m1.task - m0.task - rec.cpuSec - rec.brokerCpuSec - selfSec, 2);
    rec.irqCpuSec = round(m1.irq - m0.irq, 2);
    rec.stealCpuSec = round(m1.steal - m0.steal, 2);
    rec.noisy = rec.otherCpuSec > Math.max(NOISE_MIN_SEC, NOISE_CORES * res.time.wallSec);
  }
  const stderrTail = res.stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 400);
  let r = null;
  if (res.timedOut) rec.reason = `timeout: killed after ${timeoutMs / 1000} s`;
  else if (res.code !== 0) rec.reason = `exited ${res.signal ?? `with code ${res.code}`}: ${stderrTail}`;
  if (!res.timedOut) {
    try {
      r = parseResult(client, run, res.stdout, res.stderr);
    } catch (e) {
      rec.reason ??= `${e.message}; stderr: ${stderrTail}`;
    }
  }
  if (r) {
    rec.clientVersion = r.version;
    rec.sent = r.sent;
    rec.acked = r.acked;
    rec.errors = r.errors;
    rec.firstError = r.firstError ?? null;
    rec.elapsedMs = round(r.elapsedMs, 1);
    rec.msgsPerSec = Math.round(scenario.records / (r.elapsedMs / 1000));
    rec.mbPerSec = round((scenario.records * scenario.valueBytes) / (r.elapsedMs / 1000) / 1e6, 2);
    if (r.latency) rec.latency = r.latency;
    if (r.eventLoopDelayP99Ms !== undefined) rec.eventLoopDelayP99Ms = round(r.eventLoopDelayP99Ms, 2);
    if (r.retries !== undefined) rec.retries = r.retries;
    if (r.connectionCloses !== undefined) rec.connectionCloses = r.connectionCloses;
    if (r.compressedBytes !== undefined) {
      rec.compressionRatio = round(r.compressedBytes / r.uncompressedBytes, 3);
      rec.compressedMbPerSec = round(r.compressedBytes / (r.elapsedMs / 1000) / 1e6, 2);
    }
  }
  // Delivery check: the broker holds exactly the records sent (fresh topic, so the sum of end offsets).
  const expected = scenario.records + (scenario.warmupRecords ?? 0);
  rec.expected = expected;
  try {
    const hw = highWatermarkSum(broker.adminBootstrap ?? broker.bootstrap, topic, partitions);
    rec.hwmSum = hw.sum;
    rec.hwmPerPartition = hw.perPartition;
  } catch (e) {
    rec.reason ??= `delivery check failed: ${e.message}`;
  }
  // S7: the end offsets also count one commit marker per partition per transaction that wrote to it (the
  // partitioner decides which, so their number is not known up front), and an aborted transaction's records
  // would count too. The check counts what a read_committed consumer sees instead, and the markers are then
  // hwmSum - committed: at least one and at most `partitions` per transaction.
  const txns = scenario.transactionRecords ? Math.ceil(expected / scenario.transactionRecords) : 0;
  if (txns && !rec.reason) {
    try {
      // kcat speaks PLAINTEXT only: the secured kinds' records are read through the node's PLAINTEXT listener.
      const c = committedCount(broker.adminBootstrap ?? broker.bootstrap, topic, partitions);
      rec.committed = c.sum;
      rec.committedPerPartition = c.perPartition;
      rec.markers = rec.hwmSum - c.sum;
    } catch (e) {
      rec.reason = `delivery check failed: ${e.message}`;
    }
  }
  if (!rec.reason && r) {
    if (r.errors > 0) rec.reason = `${r.errors} send errors, first: ${r.firstError}`;
    else if (r.sent !== expected || r.acked !== expected) rec.reason = `sent ${r.sent}, acked ${r.acked}, expected ${expected}`;
    else if (txns) {
      if (rec.committed !== expected) rec.reason = `delivery check: a read_committed consumer sees ${rec.committed} records, ${expected} were sent`;
      else if (rec.markers < txns || rec.markers > txns * partitions)
        rec.reason = `delivery check: end offsets exceed the committed records by ${rec.markers}, not by ${txns}-${txns * partitions} commit markers (${txns} transactions)`;
      else rec.status = 'ok';
    } else if (rec.hwmSum !== expected) rec.reason = `delivery check: broker has ${rec.hwmSum} records, ${expected} were sent`;
    else if (scenario.keys) {
      // Keyed: every partition holds exactly the records Java's murmur2 placement gives it.
      const want = expectedPlacement(expected, scenario.keys, partitions);
      const p = want.findIndex((n, i) => rec.hwmPerPartition[i] !== n);
      if (p >= 0) rec.reason = `placement check: partition ${p} has ${rec.hwmPerPartition[p]} records, murmur2 placement gives ${want[p]}`;
      else rec.status = 'ok';
    } else rec.status = 'ok';
  }
  try {
    await broker.deleteTopic(topic);
  } catch {
    /* a leftover topic does not change results */
  }
  return rec;
}

// A run is noisy when other processes used more than 0.25 cores on average (and 0.5 s) while it ran.
const NOISE_CORES = 0.25;
const NOISE_MIN_SEC = 0.5;

const round = (x, d) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : null);

function describe(rec) {
  if (rec.status === 'failed') return `FAILED (${rec.reason})`;
  const parts = [];
  if (rec.latency) parts.push(`p50 ${rec.latency.p50.toFixed(3)} ms, p99 ${rec.latency.p99.toFixed(3)} ms, max ${rec.latency.max.toFixed(2)} ms`);
  else parts.push(`${rec.msgsPerSec.toLocaleString('en-US')} msg/s, ${rec.mbPerSec} MB/s`);
  if (rec.compressionRatio != null) parts.push(`ratio ${rec.compressionRatio}, compressed ${rec.compressedMbPerSec} MB/s`);
  if (rec.eventLoopDelayP99Ms != null) parts.push(`event-loop delay p99 ${rec.eventLoopDelayP99Ms} ms`);
  if (rec.retries) parts.push(`${rec.retries} batches retried, ${rec.connectionCloses} connections closed`);
  parts.push(`CPU ${rec.cpuSec} s`, `RSS ${Math.round(rec.peakRssMB)} MB`, `broker CPU ${rec.brokerCpuSec} s`);
  if (rec.otherCpuSec > NOISE_MIN_SEC) parts.push(`other CPU ${rec.otherCpuSec} s`);
  if (rec.status === 'discarded') parts.push('DISCARDED (noisy)');
  return parts.join(', ');
}

async function main() {
  const rerender = process.argv.indexOf('--rerender');
  if (rerender >= 0) {
    // Regenerate the Markdown, SVG and docs section from a results JSON (no runs).
    const name = process.argv[rerender + 1] ?? 'results';
    const j = JSON.parse(fs.readFileSync(path.join(RESULTS, `${name}.json`), 'utf8'));
    const files = writeReports({ meta: j.meta, runs: j.runs, probes: j.probes, outName: name, dir: RESULTS });
    log(`re-rendered ${files.map((f) => path.relative(ROOT, f)).join(', ')}`);
    return;
  }
  const opts = parseArgs(process.argv.slice(2));
  const started = new Date();
  const tStart = Date.now();
  if (opts.ensure) {
    try {
      await ensure();
    } catch (e) {
      if (e instanceof EnsureError) {
        console.error(`[bench] FAILED: ${e.message}`);
        process.exit(1);
      }
      throw e;
    }
  }
  const status = JSON.parse(fs.readFileSync(STATUS_FILE, 'utf8'));
  const clients = CLIENTS.filter((c) => (opts.clients ? opts.clients.includes(c.id) : !c.optIn));
  const scenarios = SCENARIOS.filter((s) => !opts.scenarios || opts.scenarios.includes(s.id) || opts.scenarios.includes(String(s.group))).map((s) =>
    scaled(s, opts.quick),
  );
  const brokers = opts.brokers;
  const full = !opts.quick && !opts.clients && !opts.scenarios && !opts.mockNagle && opts.mockBrokers === 1 && brokers.join() === BROKER_SETS.all.join() && opts.repeats >= 3;
  const outName = opts.out ?? (opts.quick ? 'quick' : full ? 'results' : 'custom');
  const machine = machineInfo();
  const needsOf = { dist: 'dist', kafkajs: 'kafkajs', '@platformatic/kafka': 'platformatic', 'node-rdkafka': 'node-rdkafka', java: 'java', c: 'c' };
  const availability = Object.fromEntries(
    clients.map((c) => {
      const st = status.clients[needsOf[c.needs]] ?? { available: false, reason: 'not checked' };
      if (st.available && c.runtime && !fs.existsSync(c.runtime.bin)) {
        return [c.id, { available: false, reason: `${c.runtime.name} ${c.runtime.version} not installed (node scripts/ensure-deps.mjs --for test)` }];
      }
      return [c.id, c.runtime ? { ...st, runtime: `${c.runtime.name} ${c.runtime.version}` } : st];
    }),
  );
  for (const c of clients) {
    if (!availability[c.id].available) log(`PEER MISSING: ${c.id} will not run: ${availability[c.id].reason}`);
  }
  log(
    `run: ${opts.quick ? 'QUICK (10x fewer records)' : 'full'}; brokers ${brokers.join(', ')}; scenarios ${scenarios.map((s) => s.id).join(', ')}; ` +
      `clients ${clients.map((c) => c.id).join(', ')}; ${opts.repeats} repeats`,
  );
  log(`machine: ${machine.nproc} x ${machine.cpuModel}, ${machine.memGiB} GiB, Node ${machine.node}, ${machine.java}`);

  const runs = [];
  const probes = [];
  const brokerInfo = {};
  for (const bname of brokers) {
    log(`---- broker: ${bname} ----`);
    let broker;
    const tb = Date.now();
    try {
      const st = status.brokers?.[bname === 'mock' && !opts.mockNagle ? 'mock-nodelay' : bname];
      if (st && !st.available) throw new Error(`unavailable: ${st.reason}`);
      broker = await STARTERS[bname](opts);
    } catch (e) {
      const reason = `broker ${bname} failed to start: ${e.message.split('\n')[0]}`;
      log(reason);
      brokerInfo[bname] = { startError: reason };
      for (const s of scenarios) for (let r = 0; r < opts.repeats; r++) for (const c of clients) runs.push({ broker: bname, scenario: s.id, client: c.id, repeat: r + 1, status: 'failed', reason });
      continue;
    }
    const cpuStart = brokerCpu(broker);
    brokerInfo[bname] = { label: broker.label, bootstrap: broker.bootstrap, pid: broker.pid, startSec: (Date.now() - tb) / 1000 };
    if (broker.nodelay !== undefined) brokerInfo[bname].nodelay = broker.nodelay;
    // The protocol only: the security map also holds the SCRAM password.
    if (broker.security) brokerInfo[bname].securityProtocol = broker.security['security.protocol'].toUpperCase();
    if (broker.version) brokerInfo[bname].version = broker.version;
    log(`${broker.label} at ${broker.bootstrap} (pid ${broker.pid}), started in ${((Date.now() - tb) / 1000).toFixed(1)} s`);
    try {
      // Warm the broker up (JIT, page cache, allocator) with an unmeasured run.
      const warmClient = clients.find((c) => c.id === 'c' && availability.c?.available) ?? CLIENTS.find((c) => c.id === 'c');
      if (status.clients.c?.available) {
        const w = await runOne({
          broker,
          scenario: { ...SCENARIOS[0], id: 'warmup', records: opts.quick ? 100_000 : 500_000 },
          client: warmClient,
          repeat: 0,
          opts,
          probe: true,
        });
        log(`broker warm-up (C producer, ${opts.quick ? '100,000' : '500,000'} records, unmeasured): ${w.status === 'ok' ? 'ok' : w.reason}`);
      }
      // Probe: can this client talk to this broker at all?  One small run; a
      // client that fails it is reported as failed for every run on this broker.
      const probeFailed = {};
      // A secured listener: only the clients the bench passes security settings to.
      const notWired = (c, s) => broker.security && !(typeof c.security === 'function' ? c.security(s) : c.security);
      for (const c of clients) {
        if (!availability[c.id].available || notWired(c, SCENARIOS[0])) continue;
        const p = await runOne({
          broker,
          scenario: { ...SCENARIOS[0], id: 'probe', records: 10_000 },
          client: c,
          repeat: 0,
          opts,
          probe: true,
        });
        probes.push(p);
        if (p.status !== 'ok') {
          const note = c.brokerNotes?.[bname];
          probeFailed[c.id] = note ? `${p.reason} (known: ${note})` : p.reason;
          p.reason = probeFailed[c.id];
        }
        log(`probe ${bname} ${c.id}: ${p.status === 'ok' ? 'ok' : `FAILED: ${p.reason}`}`);
      }
      for (const s of scenarios) {
        for (let r = 0; r < opts.repeats; r++) {
          // Alternate clients, rotating the order each repeat.
          const order = clients.map((_, i) => clients[(i + r) % clients.length]);
          for (const c of order) {
            const tag = `${bname} ${s.id} r${r + 1}/${opts.repeats} ${c.id}`;
            if (!availability[c.id].available) {
              runs.push({ broker: bname, scenario: s.id, client: c.id, repeat: r + 1, status: 'failed', reason: `unavailable: ${availability[c.id].reason}` });
              continue;
            }
            if (s.clients && !s.clients.includes(c.id)) {
              runs.push({ broker: bname, scenario: s.id, client: c.id, repeat: r + 1, status: 'failed', reason: `not run: ${c.id} is not wired for scenario ${s.id} yet` });
              continue;
            }
            if (notWired(c, s)) {
              runs.push({ broker: bname, scenario: s.id, client: c.id, repeat: r + 1, status: 'failed', reason: `not run: the bench passes no ${bname} security settings to ${c.id} in scenario ${s.id}` });
              continue;
            }
            if (s.notOn?.[bname]) {
              runs.push({ broker: bname, scenario: s.id, client: c.id, repeat: r + 1, status: 'failed', reason: `not run on ${bname}: ${s.notOn[bname]}` });
              continue;
            }
            if (probeFailed[c.id]) {
              runs.push({ broker: bname, scenario: s.id, client: c.id, repeat: r + 1, status: 'failed', reason: `not run, probe failed: ${probeFailed[c.id]}` });
              continue;
            }
            let rec = await runOne({ broker, scenario: s, client: c, repeat: r + 1, opts });
            for (let retry = 0; rec.status === 'ok' && rec.noisy && retry < opts.noiseRetries && noiseRetriesLeft > 0; retry++) {
              noiseRetriesLeft--;
              rec.status = 'discarded';
              rec.reason = `noisy: other processes used ${rec.otherCpuSec} s of CPU during the run`;
              runs.push(rec);
              log(`${tag}: ${describe(rec)}; redoing it`);
              await waitQuiet(60);
              rec = await runOne({ broker, scenario: s, client: c, repeat: r + 1, opts });
            }
            runs.push(rec);
            log(`${tag}: ${describe(rec)}${rec.noisy ? ' (noisy, kept)' : ''}`);
          }
        }
      }
    } finally {
      brokerInfo[bname].cpuSecTotal = round(brokerCpu(broker) - cpuStart, 2);
      brokerInfo[bname].rssMBAtEnd = round(rssMbOf(broker.pid), 1);
      brokerInfo[bname].peakRssMB = round(hwmMbOf(broker.pid), 1);
      await broker.stop();
      log(`${bname} stopped`);
    }
  }
  const wallSec = (Date.now() - tStart) / 1000;
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const meta = {
    started: started.toISOString(),
    wallSec,
    command,
    quick: opts.quick,
    full,
    mockNagle: opts.mockNagle,
    mockBrokers: opts.mockBrokers,
    repeats: opts.repeats,
    noiseRetries: opts.noiseRetries,
    machine,
    brokers: brokerInfo,
    availability,
    scenarios,
    clients: clients.map((c) => ({ id: c.id, label: c.label, settings: c.settings, idempotence: c.idempotence })),
  };
  meta.quietWaitSec = Math.round(quietSpentSec);
  const files = writeReports({ meta, runs, probes, outName, dir: RESULTS });
  log(`done in ${(wallSec / 60).toFixed(1)} min; wrote ${files.map((f) => path.relative(ROOT, f)).join(', ')}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
