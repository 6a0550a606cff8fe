#!/usr/bin/env node
// Idempotent installer for everything the tests / demo need outside npm's
// own tree.  Plain Node ESM, builtins only.
//
//   node scripts/ensure-deps.mjs --for test   # npm deps, apt (librdkafka-dev, kcat,
//                                             # pkg-config, chromium), mock cluster binary,
//                                             # Node 22/24, Bun and Deno for the test matrix,
//                                             # Kafka jars, Java helpers
//   node scripts/ensure-deps.mjs --for demo   # npm deps, Kafka jars, Java helpers
//
// Every step prints one "[deps] ..." line and is skipped when its result is
// already present and up to date, so a second run takes well under a second.
// Nothing is exported; the process exits non-zero with a message on failure.

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MATRIX_NODE_VERSIONS, NODE_CACHE, nodeBin, nodeDir, nodeMarker, nodePackageName } from './lib/node-matrix.mjs';
import { RUNTIMES, runtimePackage } from './lib/runtimes.mjs';
import { aptInstall as aptInstallWith, capture, mtime, which } from './lib/sys.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CACHE = path.join(ROOT, '.cache');

export const KAFKA_VERSION = '4.4.0';
const LOG4J_VERSION = '2.24.3';
const SLF4J_VERSION = '2.0.17';
const DEP_PLUGIN_VERSION = '3.6.1';

const KAFKA_DIR = path.join(CACHE, 'kafka', KAFKA_VERSION);
const KAFKA_LIBS = path.join(KAFKA_DIR, 'libs');
const KAFKA_MARKER = path.join(KAFKA_DIR, '.complete');
const MOCK_SRC = path.join(ROOT, 'test', 'harness', 'mock', 'mockcluster.c');
const MOCK_BIN = path.join(CACHE, 'mockcluster', 'mockcluster');
const JAVA_SRC_DIR = path.join(ROOT, 'test', 'harness', 'java');
const JAVA_OUT = path.join(CACHE, 'javahelpers');
const JAVA_MARKER = path.join(JAVA_OUT, '.complete');

// chromium: renders kafka-producer-perf's --report page headless for a screenshot test.
const APT_TEST_PACKAGES = ['librdkafka-dev', 'kcat', 'pkg-config', 'chromium'];
// Commands the tests and generators run, with the Debian package that brings
// each: installed only when the command is missing (python3 may come from
// elsewhere, e.g. pyenv). unzip: gen-protocol reads the schemas out of the
// kafka-clients jar; python3: an independent SCRAM-SHA-512 vector; ps: the
// fault tests find broker processes; openssl: certificates for TLS tests.
const TEST_COMMANDS = { unzip: 'unzip', python3: 'python3', ps: 'procps', openssl: 'openssl' };

const rel = (p) => path.relative(ROOT, p) || '.';
const log = (msg) => console.log(`[deps] ${msg}`);

class DepsError extends Error {}
function fail(msg) {
  throw new DepsError(msg);
}

function parseArgs(argv) {
  let mode = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--for') mode = argv[++i];
    else if (a.startsWith('--for=')) mode = a.slice('--for='.length);
    else if (a === '-h' || a === '--help') {
      console.log('usage: node scripts/ensure-deps.mjs --for test|demo');
      process.exit(0);
    } else fail(`unknown argument: ${a} (usage: --for test|demo)`);
  }
  if (mode !== 'test' && mode !== 'demo') fail('usage: node scripts/ensure-deps.mjs --for test|demo');
  return mode;
}

/** Run a command with inherited stdio; throws on failure. */
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: ROOT, ...opts });
  if (r.error) fail(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}`);
  return r;
}

// ---------------------------------------------------------------- npm
// With a lock, `npm ci`: exactly the locked tree, the same on every machine,
// and an error instead of a silent re-resolve when package.json and the lock
// disagree (.ci/run checks that first, with the fix spelled out).
function ensureNodeModules() {
  const modules = path.join(ROOT, 'node_modules');
  const installed = path.join(modules, '.package-lock.json');
  const pkg = path.join(ROOT, 'package.json');
  const lock = path.join(ROOT, 'package-lock.json');
  const hasLock = fs.existsSync(lock);
  const installedM = mtime(installed);
  const inputsM = Math.max(mtime(pkg), hasLock ? mtime(lock) : -1);
  if (installedM >= 0 && installedM >= inputsM) {
    log(`node_modules: present (node_modules/.package-lock.json is newer than package.json${hasLock ? ' and package-lock.json' : ''})`);
    return;
  }
  const why = installedM < 0 ? 'missing' : `older than package.json${hasLock ? '/package-lock.json' : ''}`;
  // npm ci empties node_modules first; through a symlink (a git worktree sharing
  // another checkout's install) that would delete the other checkout's packages.
  if (fs.lstatSync(modules, { throwIfNoEntry: false })?.isSymbolicLink()) {
    log(`node_modules: ${why}, but it is a symlink to ${fs.realpathSync(modules)}; not reinstalling through it (run the install there)`);
    return;
  }
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  if (hasLock) {
    log(`node_modules: ${why}, running npm ci (exactly package-lock.json) ...`);
    const r = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { stdio: 'inherit', cwd: ROOT });
    if (r.error || r.status !== 0) {
      fail(
        `npm ci ${r.error ? r.error.message : `exited with ${r.status ?? r.signal}`}; if it says package.json and ` +
          'package-lock.json are not in sync, run `npm install` and commit package-lock.json',
      );
    }
  } else {
    log(`node_modules: ${why}, no package-lock.json, running npm install ...`);
    run(npm, ['install', '--no-audit', '--no-fund']);
  }
  // npm install leaves the file alone when nothing changed; mark it fresh so the next run skips this step.
  const now = new Date();
  if (fs.existsSync(installed)) fs.utimesSync(installed, now, now);
  log(`node_modules: installed (${hasLock ? 'npm ci' : 'npm install'})`);
}

// ---------------------------------------------------------------- Node.js releases for the test matrix
// Official binaries from the npm registry (the only Node.js source CI can
// reach; nodejs.org is not), one directory per exact version.
function ensureMatrixNodes() {
  const pkgName = nodePackageName();
  if (!pkgName) {
    log(`node ${MATRIX_NODE_VERSIONS.join(', ')}: skipped (fetched for Linux only; the matrix runs on this node alone)`);
    return;
  }
  for (const version of MATRIX_NODE_VERSIONS) {
    const dir = nodeDir(version);
    const bin = nodeBin(version);
    if (fs.existsSync(nodeMarker(version)) && fs.existsSync(bin)) {
      log(`node ${version}: present (${rel(bin)})`);
      continue;
    }
    const spec = `${pkgName}@${version}`;
    log(`node ${version}: missing, fetching ${spec} from the npm registry ...`);
    fs.mkdirSync(NODE_CACHE, { recursive: true });
    // Staged beside the target so the final rename is atomic: an interrupted
    // fetch never leaves a half-written bin/node that looks installed.
    const tmp = fs.mkdtempSync(path.join(NODE_CACHE, `.tmp-${version}-`));
    try {
      // npm pack checks the tarball against the registry's sha512 integrity.
      const packed = capture('npm', ['pack', spec, '--json', '--pack-destination', tmp]);
      if (!packed.ok) fail(`node ${version}: npm pack ${spec} failed: ${(packed.stderr || packed.error?.message || '').trim().split('\n').slice(0, 3).join(' ')}`);
      const [info] = JSON.parse(packed.stdout);
      const out = path.join(tmp, 'node');
      fs.mkdirSync(out);
      // bin/node is all the matrix needs; headers and man pages would triple the size.
      run('tar', ['-xzf', path.join(tmp, info.filename), '-C', out, '--strip-components=1', 'package/bin/node', 'package/LICENSE']);
      const got = capture(path.join(out, 'bin', 'node'), ['--version']);
      if (!got.ok || got.stdout.trim() !== `v${version}`) {
        fail(`node ${version}: the binary from ${spec} reports ${JSON.stringify(got.stdout.trim() || got.stderr.trim())}`);
      }
      fs.writeFileSync(path.join(out, '.complete'), `${JSON.stringify({ package: spec, integrity: info.integrity })}\n`);
      fs.rmSync(dir, { recursive: true, force: true });
      fs.renameSync(out, dir);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    log(`node ${version}: installed (${rel(bin)}, ${(fs.statSync(bin).size / 1048576).toFixed(0)} MiB)`);
  }
}

// ---------------------------------------------------------------- Bun and Deno for the test matrix
// Their official binaries, as the `bun` and `deno` npm packages install them
// (each pulls the binary in through a per-platform optional dependency; we
// fetch that package directly, with no install scripts), one directory per
// exact version: .cache/bun/<v>/bun, .cache/deno/<v>/deno.
function ensureRuntimes() {
  for (const r of RUNTIMES) {
    const pkgName = runtimePackage(r.name);
    if (!pkgName) {
      log(`${r.name} ${r.version}: skipped (fetched for Linux x64/arm64 with glibc only; the matrix runs without it)`);
      continue;
    }
    if (fs.existsSync(r.marker) && fs.existsSync(r.bin)) {
      log(`${r.name} ${r.version}: present (${rel(r.bin)})`);
      continue;
    }
    const spec = `${pkgName}@${r.version}`;
    log(`${r.name} ${r.version}: missing, fetching ${spec} from the npm registry ...`);
    const parent = path.dirname(r.dir);
    fs.mkdirSync(parent, { recursive: true });
    // Staged beside the target and renamed into place, as for the Node releases above.
    const tmp = fs.mkdtempSync(path.join(parent, `.tmp-${r.version}-`));
    try {
      const packed = capture('npm', ['pack', spec, '--json', '--pack-destination', tmp]);
      if (!packed.ok) fail(`${r.name} ${r.version}: npm pack ${spec} failed: ${(packed.stderr || packed.error?.message || '').trim().split('\n').slice(0, 3).join(' ')}`);
      const [info] = JSON.parse(packed.stdout);
      const out = path.join(tmp, 'out');
      fs.mkdirSync(out);
      const depth = r.member.split('/').length - 1;
      run('tar', ['-xzf', path.join(tmp, info.filename), '-C', out, `--strip-components=${depth}`, r.member]);
      const bin = path.join(out, r.file);
      const got = capture(bin, ['--version']);
      // bun prints "1.4.5", deno "deno 2.9.6 (stable, ...)" and then its V8/TypeScript versions.
      const reported = got.stdout.trim().split('\n')[0].replace(/^deno /, '').split(' ')[0];
      if (!got.ok || reported !== r.version) {
        fail(`${r.name} ${r.version}: the binary from ${spec} reports ${JSON.stringify(got.stdout.trim() || got.stderr.trim() || String(got.error?.message ?? got.status))}`);
      }
      fs.writeFileSync(path.join(out, '.complete'), `${JSON.stringify({ package: spec, integrity: info.integrity })}\n`);
      fs.rmSync(r.dir, { recursive: true, force: true });
      fs.renameSync(out, r.dir);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    log(`${r.name} ${r.version}: installed (${rel(r.bin)}, ${(fs.statSync(r.bin).size / 1048576).toFixed(0)} MiB)`);
  }
}

// ---------------------------------------------------------------- apt
function dpkgInstalled(pkg) {
  const r = capture('dpkg-query', ['-W', '-f=${Status}', pkg]);
  return r.ok && r.stdout.trim() === 'install ok installed';
}

function aptInstall(pkgs, why) {
  try {
    aptInstallWith(pkgs, why, log);
  } catch (e) {
    fail(e.message);
  }
}

function ensureAptPackages(pkgs, why) {
  const missing = pkgs.filter((p) => !dpkgInstalled(p));
  if (missing.length === 0) {
    log(`apt ${pkgs.join(' ')}: present`);
    return;
  }
  log(`apt ${missing.join(' ')}: missing`);
  aptInstall(missing, why);
  const still = missing.filter((p) => !dpkgInstalled(p));
  if (still.length) fail(`apt: ${still.join(' ')} still not installed after apt-get install`);
  log(`apt ${missing.join(' ')}: installed`);
}

function ensureCommands(commands, why) {
  const missing = Object.entries(commands).filter(([cmd]) => !which(cmd));
  if (missing.length === 0) {
    log(`commands ${Object.keys(commands).join(' ')}: present`);
    return;
  }
  ensureAptPackages([...new Set(missing.map(([, pkg]) => pkg))], why);
  const still = missing.filter(([cmd]) => !which(cmd)).map(([cmd]) => cmd);
  if (still.length) fail(`commands ${still.join(' ')} still not on PATH after apt-get install`);
}

/** java/javac/mvn are expected on the machine; install Debian's if missing. */
function ensureJavaToolchain() {
  const need = [];
  if (!which('javac') || !which('java')) need.push('openjdk-17-jdk-headless');
  if (!which('mvn')) need.push('maven');
  if (need.length === 0) {
    log('java toolchain: present (java, javac, mvn on PATH)');
    return;
  }
  log(`java toolchain: missing ${need.join(' ')}`);
  aptInstall(need, 'java toolchain');
  if (!which('javac') || !which('mvn')) fail('java toolchain: javac/mvn still not on PATH after install');
}

// ---------------------------------------------------------------- mock cluster
function ensureMockCluster() {
  if (!fs.existsSync(MOCK_SRC)) fail(`mock cluster: source ${rel(MOCK_SRC)} not found`);
  const binM = mtime(MOCK_BIN);
  if (binM >= 0 && binM >= mtime(MOCK_SRC)) {
    log(`mock cluster: present (${rel(MOCK_BIN)})`);
    return;
  }
  log(`mock cluster: ${binM < 0 ? 'missing' : 'outdated'}, compiling ${rel(MOCK_SRC)} ...`);
  if (!which('gcc') && !which('cc')) ensureAptPackages(['gcc', 'libc6-dev'], 'C compiler');
  const cc = which('gcc') || which('cc');
  const pc = capture('pkg-config', ['--cflags', '--libs', 'rdkafka']);
  if (!pc.ok) fail(`mock cluster: pkg-config --cflags --libs rdkafka failed: ${pc.stderr.trim() || pc.error?.message}`);
  fs.mkdirSync(path.dirname(MOCK_BIN), { recursive: true });
  const tmp = `${MOCK_BIN}.tmp${process.pid}`;
  run(cc, ['-O2', '-g', '-Wall', '-Wextra', '-Wno-unused-parameter', '-o', tmp, MOCK_SRC, ...pc.stdout.trim().split(/\s+/)]);
  fs.renameSync(tmp, MOCK_BIN);
  log(`mock cluster: built ${rel(MOCK_BIN)}`);
}

// ---------------------------------------------------------------- Kafka jars
// libs/        the broker: kafka_2.13 (KAFKA_VERSION) + runtime deps + a log4j2
//              binding, and kafka-tools of the same version when available.
// tools-libs/  only when kafka-tools KAFKA_VERSION is not on Maven Central (as
//              reachable here: kafka_2.13 4.4.0 is, kafka-tools{,-api} top out
//              at 4.3.1): the newest listed kafka-tools release with its own,
//              consistent Kafka client jars.  Tools and clients of different
//              minor versions cannot share a classpath (4.3 tools need
//              org.apache.kafka.common.utils.Exit, which 4.4 clients moved).
// The marker (.complete, JSON) records which layout was fetched; the harness
// reads it to build the tools classpath.
const TOOLS_FALLBACK_VERSIONS = ['4.3.1'];
const KAFKA_MODULES = [
  'kafka_2.13', 'kafka-clients', 'kafka-server', 'kafka-server-common', 'kafka-metadata', 'kafka-raft',
  'kafka-storage', 'kafka-storage-api', 'kafka-group-coordinator', 'kafka-group-coordinator-api',
  'kafka-transaction-coordinator', 'kafka-coordinator-common', 'kafka-share-coordinator',
];

/**
 * @param {{broker: boolean, tools: string | null, toolsApi: string}} o
 *   broker: include kafka_2.13 KAFKA_VERSION; tools: kafka-tools version or null;
 *   toolsApi: version of kafka-tools-api (a runtime dependency of kafka_2.13)
 */
function kafkaPom(o) {
  const dep = (g, a, v) =>
    `      <dependency><groupId>${g}</groupId><artifactId>${a}</artifactId><version>${v}</version></dependency>`;
  const managed = [
    ...(o.broker ? KAFKA_MODULES.map((a) => dep('org.apache.kafka', a, KAFKA_VERSION)) : []),
    dep('org.apache.kafka', 'kafka-tools-api', o.toolsApi),
    dep('org.slf4j', 'slf4j-api', SLF4J_VERSION),
  ];
  const deps = [
    ...(o.broker ? [dep('org.apache.kafka', 'kafka_2.13', KAFKA_VERSION)] : []),
    ...(o.tools ? [dep('org.apache.kafka', 'kafka-tools', o.tools)] : []),
    dep('org.slf4j', 'slf4j-api', SLF4J_VERSION),
    dep('org.apache.logging.log4j', 'log4j-slf4j2-impl', LOG4J_VERSION),
    dep('org.apache.logging.log4j', 'log4j-core', LOG4J_VERSION),
    dep('org.apache.logging.log4j', 'log4j-api', LOG4J_VERSION),
  ];
  return `<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by scripts/ensure-deps.mjs; only used to fetch jars -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>kafka-producer-ts.harness</groupId>
  <artifactId>kafka-libs</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencyManagement>
    <dependencies>
${managed.join('\n')}
    </dependencies>
  </dependencyManagement>
  <dependencies>
${deps.join('\n')}
  </dependencies>
  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-dependency-plugin</artifactId>
        <version>${DEP_PLUGIN_VERSION}</version>
      </plugin>
    </plugins>
  </build>
</project>
`;
}

function listJars(dir) {
  try {
    return fs.readdirSync(dir).filter((f) => f.endsWith('.jar'));
  } catch {
    return [];
  }
}

function readMarker(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

/** mvn copy-dependencies of `pom` into KAFKA_DIR/<outDir>; returns null or the failure output. */
function mvnCopy(name, pom, outDir) {
  const work = path.join(KAFKA_DIR, 'maven', name);
  fs.mkdirSync(work, { recursive: true });
  fs.writeFileSync(path.join(work, 'pom.xml'), pom);
  const out = path.join(KAFKA_DIR, outDir);
  fs.rmSync(out, { recursive: true, force: true });
  const r = capture('mvn', ['-q', '-B', 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${out}`], {
    cwd: work,
  });
  return r.ok ? null : `${r.stdout}${r.stderr}`.trim() || String(r.error?.message);
}

const toolsMissing = (out) => /Could not (find|resolve)[^\n]*kafka-tools/.test(out);

function ensureKafkaJars() {
  // The marker records the pom recipe's hash; changing versions above refetches.
  const recipe = createHash('sha256')
    .update(kafkaPom({ broker: true, tools: KAFKA_VERSION, toolsApi: KAFKA_VERSION }))
    .update(TOOLS_FALLBACK_VERSIONS.map((v) => kafkaPom({ broker: true, tools: v, toolsApi: v })).join(''))
    .digest('hex');
  const marker = readMarker(KAFKA_MARKER);
  const jars = listJars(KAFKA_LIBS);
  if (marker && marker.recipe === recipe && jars.length > 0) {
    const tools = marker.toolsVersion === KAFKA_VERSION ? '' : `; kafka-tools ${marker.toolsVersion} in ${marker.toolsLibs}/`;
    log(`kafka ${KAFKA_VERSION} jars: present (${rel(KAFKA_LIBS)}, ${jars.length} jars${tools})`);
    return;
  }
  log(`kafka ${KAFKA_VERSION} jars: ${marker ? 'outdated' : 'missing'}, fetching with Maven into ${rel(KAFKA_LIBS)} ...`);
  fs.mkdirSync(KAFKA_DIR, { recursive: true });
  fs.rmSync(KAFKA_MARKER, { force: true });
  fs.rmSync(path.join(KAFKA_DIR, 'tools-libs'), { recursive: true, force: true });

  let toolsVersion = KAFKA_VERSION;
  let toolsLibs = 'libs';
  let err = mvnCopy('all', kafkaPom({ broker: true, tools: KAFKA_VERSION, toolsApi: KAFKA_VERSION }), 'libs');
  if (err && toolsMissing(err)) {
    const failures = [err];
    err = 'no fallback kafka-tools version resolved';
    for (const tv of TOOLS_FALLBACK_VERSIONS) {
      log(`kafka-tools ${toolsVersion}: not available from Maven Central, using kafka-tools ${tv} on its own classpath ...`);
      const brokerErr = mvnCopy('broker', kafkaPom({ broker: true, tools: null, toolsApi: tv }), 'libs');
      if (brokerErr) {
        err = brokerErr;
        break;
      }
      const toolsErr = mvnCopy('tools', kafkaPom({ broker: false, tools: tv, toolsApi: tv }), 'tools-libs');
      if (!toolsErr) {
        err = null;
        toolsVersion = tv;
        toolsLibs = 'tools-libs';
        break;
      }
      failures.push(toolsErr);
      err = toolsErr;
      toolsVersion = tv;
      if (!toolsMissing(toolsErr)) break;
    }
    if (err) console.error(failures.join('\n'));
  }
  if (err) {
    console.error(err);
    fail(`kafka jars: mvn dependency:copy-dependencies failed under ${rel(path.join(KAFKA_DIR, 'maven'))} (output above)`);
  }
  const got = listJars(KAFKA_LIBS);
  const toolJars = listJars(path.join(KAFKA_DIR, toolsLibs));
  const absent = [`kafka_2.13-${KAFKA_VERSION}.jar`, `kafka-clients-${KAFKA_VERSION}.jar`].filter((j) => !got.includes(j));
  if (!toolJars.includes(`kafka-tools-${toolsVersion}.jar`)) absent.push(`${toolsLibs}/kafka-tools-${toolsVersion}.jar`);
  if (absent.length) fail(`kafka jars: Maven finished but ${absent.join(', ')} missing under ${rel(KAFKA_DIR)}`);
  fs.writeFileSync(KAFKA_MARKER, `${JSON.stringify({ recipe, kafkaVersion: KAFKA_VERSION, toolsVersion, toolsLibs })}\n`);
  const tools =
    toolsVersion === KAFKA_VERSION ? '' : `; kafka-tools ${toolsVersion} (newest on Maven Central) in ${toolsLibs}/, ${toolJars.length} jars`;
  log(`kafka ${KAFKA_VERSION} jars: fetched (${rel(KAFKA_LIBS)}, ${got.length} jars${tools})`);
}

// ---------------------------------------------------------------- Java helpers
// log4j2 config for short-lived / helper JVMs (admin helper, console consumer,
// murmur helper): warnings to stderr only, so stdout stays pure data.
const TOOLS_LOG4J2 = `<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <Console name="STDERR" target="SYSTEM_ERR">
      <PatternLayout pattern="[%d{HH:mm:ss,SSS}] %p %m (%c)%n"/>
    </Console>
  </Appenders>
  <Loggers>
    <Root level="WARN"><AppenderRef ref="STDERR"/></Root>
  </Loggers>
</Configuration>
`;

function ensureJavaHelpers() {
  const sources = fs.existsSync(JAVA_SRC_DIR)
    ? fs.readdirSync(JAVA_SRC_DIR).filter((f) => f.endsWith('.java')).map((f) => path.join(JAVA_SRC_DIR, f))
    : [];
  if (sources.length === 0) fail(`java helpers: no sources in ${rel(JAVA_SRC_DIR)}`);
  // Outdated if any source, the jar set or the config text changed since the marker.
  const stamp = createHash('sha256')
    .update(TOOLS_LOG4J2)
    .update(fs.readFileSync(KAFKA_MARKER))
    .update(sources.map((s) => path.basename(s)).join(','))
    .digest('hex');
  let have = null;
  try {
    have = fs.readFileSync(JAVA_MARKER, 'utf8').trim();
  } catch {
    /* missing */
  }
  const markerM = mtime(JAVA_MARKER);
  const newest = Math.max(...sources.map(mtime));
  if (have === stamp && markerM >= newest) {
    log(`java helpers: present (${rel(JAVA_OUT)}, ${sources.length} sources)`);
    return;
  }
  log(`java helpers: ${have ? 'outdated' : 'missing'}, compiling ${sources.length} sources with javac ...`);
  fs.rmSync(JAVA_OUT, { recursive: true, force: true });
  fs.mkdirSync(JAVA_OUT, { recursive: true });
  run('javac', ['--release', '17', '-nowarn', '-encoding', 'UTF-8', '-d', JAVA_OUT, '-cp', path.join(KAFKA_LIBS, '*'), ...sources]);
  fs.writeFileSync(path.join(JAVA_OUT, 'log4j2-tools.xml'), TOOLS_LOG4J2);
  fs.writeFileSync(JAVA_MARKER, `${stamp}\n`);
  log(`java helpers: compiled into ${rel(JAVA_OUT)}`);
}

// ---------------------------------------------------------------- broker class-data-sharing archive
// A dynamic AppCDS archive of the classes a broker loads while starting cuts
// each broker JVM's start by ~0.5 s of CPU (a lot when three nodes start at
// once on two cores).  test/harness/kafka.ts passes -XX:SharedArchiveFile=
// when the archive exists; with -Xshare:auto a stale/mismatched archive is
// simply ignored by the JVM.  Flags must match BROKER_JVM_FLAGS in kafka.ts
// (GC and classpath matter).
const CDS_ARCHIVE = path.join(KAFKA_DIR, 'broker-cds.jsa');
const CDS_STAMP = path.join(KAFKA_DIR, 'broker-cds.stamp');
const BROKER_JVM_FLAGS = ['-Xms256m', '-Xmx512m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-XX:-UsePerfData'];

async function freePorts(n) {
  const servers = [];
  try {
    for (let i = 0; i < n; i++) {
      const srv = net.createServer();
      servers.push(srv);
      await new Promise((res, rej) => {
        srv.once('error', rej);
        srv.listen({ host: '127.0.0.1', port: 0, exclusive: true }, res);
      });
    }
    return servers.map((s) => s.address().port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

async function ensureBrokerCds() {
  const javaVersion = capture('java', ['-version']);
  const stamp = createHash('sha256')
    .update(javaVersion.stderr + javaVersion.stdout)
    .update(fs.readFileSync(KAFKA_MARKER))
    .update(BROKER_JVM_FLAGS.join(' '))
    .digest('hex');
  let have = null;
  try {
    have = fs.readFileSync(CDS_STAMP, 'utf8').trim();
  } catch {
    /* missing */
  }
  if (have === stamp && fs.existsSync(CDS_ARCHIVE)) {
    log(`kafka broker CDS archive: present (${rel(CDS_ARCHIVE)})`);
    return;
  }
  log(`kafka broker CDS archive: ${have ? 'outdated' : 'missing'}, recording one from a throw-away broker start ...`);
  fs.rmSync(CDS_ARCHIVE, { force: true });
  fs.rmSync(CDS_STAMP, { force: true });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kafka-cds-'));
  const tmpArchive = `${CDS_ARCHIVE}.tmp${process.pid}`;
  try {
    const [port, cport] = await freePorts(2);
    const props = path.join(work, 'server.properties');
    const logFile = path.join(work, 'server.log');
    const l4j = path.join(work, 'log4j2.xml');
    fs.writeFileSync(
      props,
      [
        'process.roles=broker,controller',
        'node.id=1',
        `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${cport}`,
        `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
        'controller.listener.names=CONTROLLER',
        'inter.broker.listener.name=PLAINTEXT',
        'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
        `controller.quorum.voters=1@127.0.0.1:${cport}`,
        `log.dirs=${path.join(work, 'data')}`,
        'offsets.topic.replication.factor=1',
        'transaction.state.log.replication.factor=1',
        'transaction.state.log.min.isr=1',
        'log.cleaner.dedupe.buffer.size=8388608',
        '',
      ].join('\n'),
    );
    fs.writeFileSync(
      l4j,
      `<Configuration status="WARN"><Appenders><File name="F" fileName="${logFile}"><PatternLayout pattern="[%d] %p %m (%c)%n"/></File></Appenders><Loggers><Root level="INFO"><AppenderRef ref="F"/></Root></Loggers></Configuration>\n`,
    );
    const cp = path.join(KAFKA_LIBS, '*');
    const common = [`-Dlog4j2.configurationFile=${l4j}`, '-cp', cp];
    run('java', [...BROKER_JVM_FLAGS, ...common, 'kafka.tools.StorageTool', 'format', '-c', props, '-t', 'Y2RzLXRyYWluaW5nLXJ1bg'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const child = spawn('java', [...BROKER_JVM_FLAGS, `-XX:ArchiveClassesAtExit=${tmpArchive}`, ...common, 'kafka.Kafka', props], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise((res) => child.once('exit', (code, sig) => res(sig ?? code)));
    const deadline = Date.now() + 120_000;
    let started = false;
    while (Date.now() < deadline && child.exitCode === null) {
      const text = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
      if (text.includes('Kafka Server started')) {
        started = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    if (!started) {
      child.kill('SIGKILL');
      await exited;
      log(`kafka broker CDS archive: skipped, training broker did not start (${stderr.trim().split('\n').pop() || 'see log'})`);
      return;
    }
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 60_000);
    await exited;
    clearTimeout(t);
    if (!fs.existsSync(tmpArchive)) {
      log(`kafka broker CDS archive: skipped, JVM wrote no archive (${stderr.trim().split('\n').pop() || 'no output'})`);
      return;
    }
    fs.renameSync(tmpArchive, CDS_ARCHIVE);
    fs.writeFileSync(CDS_STAMP, `${stamp}\n`);
    log(`kafka broker CDS archive: recorded (${rel(CDS_ARCHIVE)}, ${(fs.statSync(CDS_ARCHIVE).size / 1048576).toFixed(0)} MiB)`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
    fs.rmSync(tmpArchive, { force: true });
  }
}

// ---------------------------------------------------------------- main
async function main() {
  const mode = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  ensureNodeModules();
  if (mode === 'test') {
    ensureAptPackages(APT_TEST_PACKAGES, 'test tools');
    ensureCommands(TEST_COMMANDS, 'test commands');
    ensureMockCluster();
    ensureMatrixNodes();
    ensureRuntimes();
  }
  ensureJavaToolchain();
  ensureKafkaJars();
  ensureJavaHelpers();
  await ensureBrokerCds();
  log(`all dependencies for --for ${mode} present (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

try {
  await main();
} catch (e) {
  if (e instanceof DepsError) {
    console.error(`[deps] FAILED: ${e.message}`);
    process.exit(1);
  }
  throw e;
}
