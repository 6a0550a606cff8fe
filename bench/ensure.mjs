#!/usr/bin/env node
// Idempotent installer for the benchmark (run by bench/run.mjs, or alone:
// `node bench/ensure.mjs`).  Each step prints one or more `[bench] ...` lines
// and is skipped when its result is present and up to date.
//
//  1. scripts/ensure-deps.mjs --for test: Debian librdkafka-dev, kcat,
//     pkg-config; the mock-cluster binary; Java, Maven, Kafka jars.
//  2. GNU time (/usr/bin/time), and g++/make/python3 for node-gyp, via apt.
//  3. The built SDK (dist/index.js; `npm run bench` runs tsup first).
//  4. npm install in bench/ (kafkajs, @platformatic/kafka, node-rdkafka) into
//     bench/node_modules — never into the root project — with scripts off.
//  5. node-rdkafka's native addon, built with BUILD_LIBRDKAFKA=0 against
//     Debian's librdkafka.  A failed build is reported and recorded; the
//     other clients still run and node-rdkafka is marked unavailable.
//  6. bench/c/producer.c compiled with `pkg-config rdkafka`.
//  7. The Java producer: kafka-tools jars (ProducerPerformance) and
//     bench/java/BenchProducer.java compiled against them.
//  8. bench/c/mock-nodelay.c, the mock cluster's TCP_NODELAY shim (LD_PRELOAD).
//  9. bench/kfake/, franz-go's in-memory broker, built with `go build`.  No Go
//     toolchain or a failed build marks the kfake broker unavailable.
// The outcome per client and per broker part goes to .cache/bench/status.json,
// which run.mjs reads.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { aptInstall as aptInstallWith, capture, mtime, which } from '../scripts/lib/sys.mjs';
import { BENCH, BUILD, C_PRODUCER, JAVA_CLASSES, KAFKA_DIR, KFAKE_BIN, KFAKE_SRC, MOCK_NODELAY_SO, ROOT, STATUS_FILE } from './lib/paths.mjs';

const log = (m) => console.log(`[bench] ${m}`);
const rel = (p) => path.relative(ROOT, p) || '.';
const lastLines = (text, n = 6) =>
  text
    .trim()
    .split('\n')
    .filter((l) => l.trim())
    .slice(-n)
    .join(' | ');

export class EnsureError extends Error {}

const status = { clients: {}, brokers: {}, checkedAt: new Date().toISOString() };
const mark = (id, available, detail) => {
  status.clients[id] = { available, ...detail };
};
const markBroker = (id, available, detail) => {
  status.brokers[id] = { available, ...detail };
};

// ------------------------------------------------------------------ 1. project deps
function projectDeps() {
  log('project test deps: node scripts/ensure-deps.mjs --for test (librdkafka-dev, kcat, mock cluster, Kafka jars) ...');
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'ensure-deps.mjs'), '--for', 'test'], { stdio: 'inherit', cwd: ROOT });
  if (r.status !== 0) throw new EnsureError('scripts/ensure-deps.mjs --for test failed (output above)');
}

// ------------------------------------------------------------------ 2. apt tools
function aptInstall(pkgs) {
  try {
    aptInstallWith(pkgs, 'bench tools', log);
    return true;
  } catch (e) {
    log(e.message);
    return false;
  }
}

function ensureTools() {
  const need = [];
  if (!fs.existsSync('/usr/bin/time')) need.push('time');
  if (!which('g++')) need.push('g++');
  if (!which('make')) need.push('make');
  if (!which('python3')) need.push('python3');
  if (need.length === 0) {
    log('tools: present (/usr/bin/time, g++, make, python3)');
    return;
  }
  log(`tools: missing ${need.join(' ')}, installing with apt ...`);
  if (!aptInstall(need)) log(`tools: apt-get install ${need.join(' ')} failed`);
  if (!fs.existsSync('/usr/bin/time')) throw new EnsureError('GNU time (/usr/bin/time) is required to measure CPU and peak RSS: apt-get install time');
}

// ------------------------------------------------------------------ 3. dist
function ensureDist() {
  const dist = path.join(ROOT, 'dist', 'index.js');
  if (!fs.existsSync(dist)) {
    log('kafka-producer-ts: dist/index.js missing, building with tsup ...');
    const r = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'tsup'), [], { stdio: 'inherit', cwd: ROOT });
    if (r.status !== 0 || !fs.existsSync(dist)) {
      mark('dist', false, { reason: 'tsup build failed' });
      log('kafka-producer-ts: build FAILED; its runs will be reported as failed');
      return;
    }
  }
  const age = (Date.now() - mtime(dist)) / 60_000;
  mark('dist', true, { version: readJson(path.join(ROOT, 'package.json')).version, builtMinutesAgo: Math.round(age) });
  log(`kafka-producer-ts: ${rel(dist)} (built ${age < 1 ? 'just now' : `${Math.round(age)} min ago`}; \`npm run bench\` rebuilds it)`);
}

function readJson(p) {
  return JSON.parse(fs.readFileSync(p, 'utf8'));
}

// ------------------------------------------------------------------ 4. npm install in bench/
function ensureBenchModules() {
  const pkg = path.join(BENCH, 'package.json');
  const stamp = path.join(BENCH, 'node_modules', '.package-lock.json');
  if (mtime(stamp) >= mtime(pkg)) {
    log('bench/node_modules: present (newer than bench/package.json)');
    return;
  }
  log('bench/node_modules: missing or older than bench/package.json, running npm install --ignore-scripts in bench/ ...');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['install', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: BENCH, stdio: 'inherit' });
  if (r.status !== 0) throw new EnsureError('npm install in bench/ failed (output above)');
  const now = new Date();
  if (fs.existsSync(stamp)) fs.utimesSync(stamp, now, now);
  // A fresh install may have replaced node-rdkafka: rebuild it below.
  fs.rmSync(path.join(BUILD, 'node-rdkafka.ok'), { force: true });
  log('bench/node_modules: installed');
}

function checkJsClient(id, pkgName) {
  const pj = path.join(BENCH, 'node_modules', ...pkgName.split('/'), 'package.json');
  if (!fs.existsSync(pj)) {
    mark(id, false, { reason: `${pkgName} not installed in bench/node_modules` });
    log(`${pkgName}: NOT AVAILABLE (not installed)`);
    return;
  }
  const v = readJson(pj).version;
  const r = capture(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(pkgName)})`], { cwd: BENCH });
  if (!r.ok) {
    mark(id, false, { version: v, reason: `import failed: ${lastLines(r.stderr, 3)}` });
    log(`${pkgName} ${v}: NOT AVAILABLE (import failed: ${lastLines(r.stderr, 2)})`);
    return;
  }
  mark(id, true, { version: v });
  log(`${pkgName} ${v}: ok`);
}

// ------------------------------------------------------------------ 5. node-rdkafka
function nodeDir() {
  // node-gyp needs Node's headers; this machine has no nodejs.org, so point it at the installed ones.
  for (const d of [path.resolve(path.dirname(process.execPath), '..'), '/usr', '/usr/local']) {
    if (fs.existsSync(path.join(d, 'include', 'node', 'common.gypi'))) return d;
  }
  return null;
}

function ensureNodeRdkafka() {
  const dir = path.join(BENCH, 'node_modules', 'node-rdkafka');
  const addon = path.join(dir, 'build', 'Release', 'node-librdkafka.node');
  const okFile = path.join(BUILD, 'node-rdkafka.ok');
  const logFile = path.join(BUILD, 'node-rdkafka-build.log');
  if (!fs.existsSync(dir)) {
    mark('node-rdkafka', false, { reason: 'node-rdkafka not installed in bench/node_modules' });
    log('node-rdkafka: NOT AVAILABLE (not installed)');
    return;
  }
  const version = readJson(path.join(dir, 'package.json')).version;
  const probe = () =>
    capture(process.execPath, ['-e', "const k=require('node-rdkafka'); console.log(k.librdkafkaVersion)"], { cwd: BENCH });
  if (fs.existsSync(okFile) && fs.existsSync(addon) && mtime(okFile) >= mtime(addon)) {
    const p = probe();
    if (p.ok) {
      mark('node-rdkafka', true, { version, librdkafka: p.stdout.trim() });
      log(`node-rdkafka ${version}: present (librdkafka ${p.stdout.trim()}, system library)`);
      return;
    }
  }
  // Preconditions of a BUILD_LIBRDKAFKA=0 build.
  const missing = [];
  const pc = capture('pkg-config', ['--modversion', 'rdkafka++']);
  if (!pc.ok) missing.push('librdkafka-dev (pkg-config rdkafka++)');
  if (!fs.existsSync('/usr/include/librdkafka/rdkafkacpp.h')) missing.push('/usr/include/librdkafka/rdkafkacpp.h');
  for (const t of ['g++', 'make', 'python3']) if (!which(t)) missing.push(t);
  const nd = nodeDir();
  if (!nd) missing.push('Node headers (include/node/common.gypi)');
  if (missing.length) {
    const reason = `cannot build (BUILD_LIBRDKAFKA=0): missing ${missing.join(', ')}`;
    mark('node-rdkafka', false, { version, reason });
    log(`node-rdkafka ${version}: NOT AVAILABLE, ${reason}`);
    return;
  }
  log(`node-rdkafka ${version}: building the addon against Debian's librdkafka ${pc.stdout.trim()} (BUILD_LIBRDKAFKA=0, node-gyp, ~1 min; log: ${rel(logFile)}) ...`);
  fs.mkdirSync(BUILD, { recursive: true });
  const env = { ...process.env, BUILD_LIBRDKAFKA: '0', npm_config_nodedir: nd };
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = capture(npm, ['rebuild', 'node-rdkafka', '--foreground-scripts'], { cwd: BENCH, env });
  fs.writeFileSync(logFile, `${r.stdout}\n${r.stderr}`);
  const p = fs.existsSync(addon) ? probe() : null;
  if (!r.ok || !p?.ok) {
    const firstErrors = `${r.stdout}\n${r.stderr}`
      .split('\n')
      .filter((l) => /(error:|\*\*\*|gyp ERR! (stack Error|configure error|find Python))/.test(l) && !/^npm error/.test(l))
      .slice(0, 3)
      .map((l) => l.trim().slice(0, 200));
    const why = !r.ok
      ? `npm rebuild (node-gyp) exited ${r.status ?? r.error?.message}: ${firstErrors.join(' | ') || lastLines(r.stderr || r.stdout, 3)}`
      : !fs.existsSync(addon)
        ? 'npm rebuild ran no install script (no build/Release/node-librdkafka.node; check allowScripts in bench/package.json)'
        : `the addon does not load: ${lastLines(p.stderr, 2)}`;
    mark('node-rdkafka', false, { version, reason: `build failed: ${why}` });
    log(`node-rdkafka ${version}: BUILD FAILED, marked unavailable (${why}); full log: ${rel(logFile)}`);
    return;
  }
  fs.writeFileSync(okFile, `${new Date().toISOString()}\n`);
  mark('node-rdkafka', true, { version, librdkafka: p.stdout.trim() });
  log(`node-rdkafka ${version}: built (librdkafka ${p.stdout.trim()}, system library)`);
}

// ------------------------------------------------------------------ 6. C producer
function ensureC() {
  const src = path.join(BENCH, 'c', 'producer.c');
  const pc = capture('pkg-config', ['--modversion', 'rdkafka']);
  const version = pc.stdout.trim();
  if (mtime(C_PRODUCER) >= mtime(src) && mtime(C_PRODUCER) > 0) {
    mark('c', true, { version });
    log(`C producer: present (${rel(C_PRODUCER)}, librdkafka ${version})`);
    return;
  }
  const cc = which('gcc') ?? which('cc');
  const flags = capture('pkg-config', ['--cflags', '--libs', 'rdkafka']);
  if (!cc || !flags.ok) {
    const reason = !cc ? 'no C compiler' : `pkg-config rdkafka failed: ${flags.stderr.trim()}`;
    mark('c', false, { reason });
    log(`C producer: NOT AVAILABLE (${reason})`);
    return;
  }
  log(`C producer: compiling ${rel(src)} ...`);
  fs.mkdirSync(BUILD, { recursive: true });
  const tmp = `${C_PRODUCER}.tmp${process.pid}`;
  const r = capture(cc, ['-O2', '-Wall', '-Wextra', '-o', tmp, src, ...flags.stdout.trim().split(/\s+/)]);
  if (!r.ok) {
    mark('c', false, { reason: `compile failed: ${lastLines(r.stderr, 3)}` });
    log(`C producer: COMPILE FAILED: ${lastLines(r.stderr, 3)}`);
    return;
  }
  fs.renameSync(tmp, C_PRODUCER);
  mark('c', true, { version });
  log(`C producer: built ${rel(C_PRODUCER)} (librdkafka ${version})`);
}

// ------------------------------------------------------------------ 7. Java
function ensureJava() {
  let marker;
  try {
    marker = readJson(path.join(KAFKA_DIR, '.complete'));
  } catch {
    mark('java', false, { reason: 'Kafka jars missing (.cache/kafka/4.4.0/.complete)' });
    log('Java producer: NOT AVAILABLE (Kafka jars missing)');
    return;
  }
  const toolsVersion = marker.toolsVersion ?? '4.4.0';
  const libs = path.join(KAFKA_DIR, marker.toolsLibs ?? 'libs');
  const toolsJar = path.join(libs, `kafka-tools-${toolsVersion}.jar`);
  const clientsJar = path.join(libs, `kafka-clients-${toolsVersion}.jar`);
  if (!fs.existsSync(toolsJar) || !fs.existsSync(clientsJar)) {
    mark('java', false, { reason: `missing ${rel(toolsJar)} or ${rel(clientsJar)}` });
    log(`Java producer: NOT AVAILABLE (missing ${rel(toolsJar)})`);
    return;
  }
  const src = path.join(BENCH, 'java', 'BenchProducer.java');
  const cls = path.join(JAVA_CLASSES, 'BenchProducer.class');
  if (mtime(cls) < Math.max(mtime(src), mtime(clientsJar))) {
    log(`Java producer: compiling ${rel(src)} against kafka-clients ${toolsVersion} ...`);
    fs.rmSync(JAVA_CLASSES, { recursive: true, force: true });
    fs.mkdirSync(JAVA_CLASSES, { recursive: true });
    const r = capture('javac', ['--release', '17', '-nowarn', '-d', JAVA_CLASSES, '-cp', path.join(libs, '*'), src]);
    if (!r.ok) {
      mark('java', false, { version: toolsVersion, reason: `javac failed: ${lastLines(r.stderr, 3)}` });
      log(`Java producer: COMPILE FAILED: ${lastLines(r.stderr, 3)}`);
      return;
    }
  }
  mark('java', true, { version: toolsVersion, classpath: rel(libs) });
  log(
    `Java producer: kafka-tools ${toolsVersion} in ${rel(libs)}/ (ProducerPerformance)${toolsVersion !== '4.4.0' ? ' — kafka-tools 4.4.0 is not on Maven Central' : ''}; BenchProducer in ${rel(JAVA_CLASSES)}`,
  );
}

// ------------------------------------------------------------------ 8. mock TCP_NODELAY shim
function ensureMockShim() {
  const src = path.join(BENCH, 'c', 'mock-nodelay.c');
  if (mtime(MOCK_NODELAY_SO) >= mtime(src) && mtime(MOCK_NODELAY_SO) > 0) {
    markBroker('mock-nodelay', true, { so: rel(MOCK_NODELAY_SO) });
    log(`mock TCP_NODELAY shim: present (${rel(MOCK_NODELAY_SO)})`);
    return;
  }
  const cc = which('gcc') ?? which('cc');
  if (!cc) {
    markBroker('mock-nodelay', false, { reason: 'no C compiler' });
    log('mock TCP_NODELAY shim: NOT AVAILABLE (no C compiler); the mock runs only with --mock-nagle');
    return;
  }
  log(`mock TCP_NODELAY shim: compiling ${rel(src)} ...`);
  fs.mkdirSync(BUILD, { recursive: true });
  const tmp = `${MOCK_NODELAY_SO}.tmp${process.pid}`;
  const r = capture(cc, ['-shared', '-fPIC', '-O2', '-Wall', '-o', tmp, src, '-ldl']);
  if (!r.ok) {
    fs.rmSync(tmp, { force: true });
    markBroker('mock-nodelay', false, { reason: `compile failed: ${lastLines(r.stderr, 3)}` });
    log(`mock TCP_NODELAY shim: COMPILE FAILED: ${lastLines(r.stderr, 3)}; the mock runs only with --mock-nagle`);
    return;
  }
  fs.renameSync(tmp, MOCK_NODELAY_SO);
  markBroker('mock-nodelay', true, { so: rel(MOCK_NODELAY_SO) });
  log(`mock TCP_NODELAY shim: built ${rel(MOCK_NODELAY_SO)}`);
}

// ------------------------------------------------------------------ 9. kfake
/** The kfake module version the binary was built with, asked through its `version` command (also a smoke test). */
function kfakeVersion() {
  const r = capture(KFAKE_BIN, [], { input: 'version\n', timeout: 15_000 });
  const m = /^OK (\S+)$/m.exec(r.stdout);
  if (!/^BOOTSTRAP /m.test(r.stdout) || !m) return { ok: false, why: `no BOOTSTRAP/version reply: ${lastLines(r.stdout + r.stderr, 3) || r.error?.message}` };
  return { ok: true, version: m[1] };
}

function ensureKfake() {
  const srcs = ['main.go', 'go.mod', 'go.sum'].map((f) => path.join(KFAKE_SRC, f));
  const newest = Math.max(...srcs.map(mtime));
  if (mtime(KFAKE_BIN) >= newest && mtime(KFAKE_BIN) > 0) {
    const v = kfakeVersion();
    if (v.ok) {
      markBroker('kfake', true, { version: v.version, bin: rel(KFAKE_BIN) });
      log(`kfake broker: present (${rel(KFAKE_BIN)}, franz-go kfake ${v.version})`);
      return;
    }
  }
  const go = which('go');
  if (!go) {
    markBroker('kfake', false, { reason: 'no Go toolchain (go) on PATH' });
    log('kfake broker: NOT AVAILABLE (no Go toolchain on PATH); its runs will be reported as failed');
    return;
  }
  const gv = capture(go, ['env', 'GOVERSION']).stdout.trim();
  log(`kfake broker: go build in ${rel(KFAKE_SRC)} with ${gv} (downloads franz-go through the module proxy the first time) ...`);
  fs.mkdirSync(BUILD, { recursive: true });
  const tmp = `${KFAKE_BIN}.tmp${process.pid}`;
  // GOTOOLCHAIN=local: use the installed Go, never download another toolchain.
  const env = { ...process.env, GOTOOLCHAIN: 'local' };
  const r = capture(go, ['build', '-trimpath', '-o', tmp, '.'], { cwd: KFAKE_SRC, env, timeout: 600_000 });
  if (!r.ok) {
    fs.rmSync(tmp, { force: true });
    const why = `go build failed (${gv}): ${lastLines(r.stderr || r.error?.message || '', 3)}`;
    markBroker('kfake', false, { reason: why });
    log(`kfake broker: NOT AVAILABLE, ${why}`);
    return;
  }
  fs.renameSync(tmp, KFAKE_BIN);
  const v = kfakeVersion();
  if (!v.ok) {
    markBroker('kfake', false, { reason: `built, but it does not start: ${v.why}` });
    log(`kfake broker: NOT AVAILABLE, built but it does not start: ${v.why}`);
    return;
  }
  markBroker('kfake', true, { version: v.version, bin: rel(KFAKE_BIN), go: gv });
  log(`kfake broker: built ${rel(KFAKE_BIN)} (franz-go kfake ${v.version}, ${gv})`);
}

// ------------------------------------------------------------------ main
export async function ensure({ skipProjectDeps = false } = {}) {
  const t0 = Date.now();
  fs.mkdirSync(BUILD, { recursive: true });
  if (!skipProjectDeps) projectDeps();
  ensureTools();
  ensureDist();
  ensureBenchModules();
  checkJsClient('kafkajs', 'kafkajs');
  checkJsClient('platformatic', '@platformatic/kafka');
  ensureNodeRdkafka();
  ensureC();
  ensureJava();
  ensureMockShim();
  ensureKfake();
  status.durationSec = (Date.now() - t0) / 1000;
  fs.writeFileSync(STATUS_FILE, `${JSON.stringify(status, null, 2)}\n`);
  const down = [...Object.entries(status.clients), ...Object.entries(status.brokers)].filter(([, v]) => !v.available);
  log(`ready in ${status.durationSec.toFixed(1)} s${down.length ? `; unavailable: ${down.map(([k, v]) => `${k} (${v.reason})`).join('; ')}` : ''}`);
  return status;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    await ensure({ skipProjectDeps: process.argv.includes('--skip-project-deps') });
  } catch (e) {
    if (e instanceof EnsureError) {
      console.error(`[bench] FAILED: ${e.message}`);
      process.exit(1);
    }
    throw e;
  }
}
