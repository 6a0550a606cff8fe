#!/usr/bin/env node
// The unit and mock-cluster tests on each Node release of the matrix
// (scripts/lib/node-matrix.mjs) and on Bun and Deno (scripts/lib/runtimes.mjs),
// after `npm test` ran the whole suite on this machine's node.  The real-Kafka
// suites stay on the machine's node only: they spend their time in broker
// JVMs, and running them on every release would multiply CI time for little
// runtime-specific coverage.  Bun and Deno get one real-Kafka end-to-end test
// besides (test/runtimes/*.runtime.ts: the built package, 20,000 records,
// kcat readback), since they are not Node and their net/Buffer/timer
// implementations are their own.
//
// vitest itself runs under each runtime (its forks inherit the runtime's
// process.execPath), so the same test files run everywhere; no separate smoke
// suite is needed.
//
//   node scripts/test-matrix.mjs                # every Node version, Bun and Deno
//   node scripts/test-matrix.mjs 24.22.3 bun    # some of them
//
// Which files run is decided by the file, not a list here: everything under
// test/unit/, plus every other test file that imports the mock-cluster harness
// (test/harness/mock.js) and not the Kafka one (test/harness/kafka.js).  A new
// mock test joins the matrix by being written like the others.
//
// Prints one summary line per Node and runtime ("node v24.22.3: 312 passed ...",
// "bun 1.4.5: 867 passed ...") at the end and exits non-zero if any failed or
// is not installed.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MATRIX_NODE_VERSIONS, nodeBin, nodePackageName } from './lib/node-matrix.mjs';
import { RUNTIMES, runtime, runtimeArgv, runtimeEnv, runtimePackage } from './lib/runtimes.mjs';
import { ROOT } from './lib/sys.mjs';

const log = (msg) => console.log(`[matrix] ${msg}`);
const VITEST = path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');

const MOCK_IMPORT = /from\s+['"][^'"]*\/(?:harness\/)?mock\.js['"]/;
const KAFKA_IMPORT = /from\s+['"][^'"]*\/(?:harness\/)?kafka\.js['"]/;

function testFiles(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...testFiles(p));
    else if (e.name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

function selectFiles() {
  const unitDir = path.join(ROOT, 'test', 'unit') + path.sep;
  const unit = [];
  const mock = [];
  for (const f of testFiles(path.join(ROOT, 'test')).sort()) {
    if (f.startsWith(unitDir)) unit.push(f);
    else {
      const src = fs.readFileSync(f, 'utf8');
      if (MOCK_IMPORT.test(src) && !KAFKA_IMPORT.test(src)) mock.push(f);
    }
  }
  const runtimes = fs
    .readdirSync(path.join(ROOT, 'test', 'runtimes'))
    .filter((f) => f.endsWith('.runtime.ts'))
    .sort()
    .map((f) => path.join(ROOT, 'test', 'runtimes', f));
  return { unit, mock, runtimes };
}

const RUNTIME_CONFIG = path.join('test', 'runtimes', 'vitest.config.ts');

/**
 * Runs vitest on `files` with `argvFor(vitestArgs)`; one summary line
 * "<label>: N passed ..." from vitest's JSON report.
 */
function runVitest(label, argvFor, env, files, extraArgs = []) {
  const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kpts-matrix-')), 'report.json');
  const t0 = Date.now();
  log(`${label}: running ${files.length} files ...`);
  const rels = files.map((f) => path.relative(ROOT, f));
  const [cmd, ...args] = argvFor(['run', ...extraArgs, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...rels]);
  // The fuzz test's million inputs exercise pure-JS decoders, the same on every
  // runtime: the main run covers them; here a tenth checks they behave alike.
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', env: { FUZZ_INPUTS: '100000', ...env } });
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  let j = null;
  try {
    j = JSON.parse(fs.readFileSync(report, 'utf8'));
  } catch {
    /* vitest died before writing it */
  } finally {
    fs.rmSync(path.dirname(report), { recursive: true, force: true });
  }
  const ok = !r.error && r.status === 0;
  if (!j) return { ok: false, line: `${label}: FAILED, no results (vitest ${r.error ? r.error.message : `exited with ${r.status ?? r.signal}`}, ${secs} s)` };
  const skipped = j.numPendingTests + (j.numTodoTests ?? 0);
  const failedFiles = j.testResults.filter((t) => t.status === 'failed').length;
  const parts = [`${j.numPassedTests} passed`];
  if (j.numFailedTests) parts.push(`${j.numFailedTests} failed`);
  if (failedFiles) parts.push(`${failedFiles} of ${j.testResults.length} files failed`);
  if (skipped) parts.push(`${skipped} skipped`);
  // vitest fails a run whose tests all passed when it caught errors outside them.
  if (!j.numFailedTests && !failedFiles && !(ok && j.success)) parts.push('errors outside the tests (see vitest output above)');
  return { ok: ok && j.success, line: `${label}: ${parts.join(', ')} (${j.testResults.length} files, ${secs} s)${ok && j.success ? '' : ' FAILED'}` };
}

function runOnNode(version, files) {
  const bin = nodeBin(version);
  // PATH first: anything the tests spawn as plain `node` (or npm's own shebang)
  // runs on the same release; vitest's forks already inherit process.execPath.
  const env = { ...process.env, PATH: `${path.dirname(bin)}${path.delimiter}${process.env.PATH ?? ''}` };
  return runVitest(`node v${version}`, (args) => [bin, VITEST, ...args], env, files);
}

/**
 * Bun or Deno: vitest's forks run on process.execPath, i.e. the runtime.  PATH
 * is left alone: what the tests spawn by name (npm, kcat, java) is not the
 * code under test.  KPTS_RUNTIME lets test/runtimes/*.runtime.ts fail a run
 * that silently ended up on Node.
 */
function runOnRuntime(r, files) {
  const label = `${r.name} ${r.version}`;
  const env = runtimeEnv({ ...process.env, KPTS_RUNTIME: label });
  return runVitest(label, (args) => runtimeArgv(r, VITEST, args), env, files, ['--config', RUNTIME_CONFIG]);
}

function main() {
  const args = process.argv.slice(2);
  const names = new Set(RUNTIMES.map((r) => r.name));
  const versions = args.length ? args.filter((a) => !names.has(a)) : MATRIX_NODE_VERSIONS;
  const runtimes = args.length ? args.filter((a) => names.has(a)).map(runtime) : RUNTIMES;
  const unknown = versions.filter((v) => !MATRIX_NODE_VERSIONS.includes(v));
  if (unknown.length) {
    console.error(
      `[matrix] not in the matrix: ${unknown.join(', ')} (Node ${MATRIX_NODE_VERSIONS.join(', ')} in scripts/lib/node-matrix.mjs; ${[...names].join(', ')})`,
    );
    return 1;
  }
  const { unit, mock, runtimes: runtimeFiles } = selectFiles();
  log(`unit: ${unit.length} files; mock cluster: ${mock.map((f) => path.relative(ROOT, f)).join(', ')}`);
  if (runtimes.length) log(`Bun/Deno also: ${runtimeFiles.map((f) => path.relative(ROOT, f)).join(', ')}`);
  const results = [];
  if (versions.length && !nodePackageName()) {
    results.push({ ok: true, line: `node ${versions.join(', ')}: skipped (only installed on Linux, see scripts/lib/node-matrix.mjs)` });
  } else {
    for (const v of versions) {
      if (!fs.existsSync(nodeBin(v))) {
        results.push({ ok: false, line: `node v${v}: NOT INSTALLED (${path.relative(ROOT, nodeBin(v))}; run node scripts/ensure-deps.mjs --for test)` });
        continue;
      }
      results.push(runOnNode(v, [...unit, ...mock]));
    }
  }
  for (const r of runtimes) {
    if (!runtimePackage(r.name)) {
      results.push({ ok: true, line: `${r.name} ${r.version}: skipped (only installed on Linux x64/arm64 with glibc, see scripts/lib/runtimes.mjs)` });
      continue;
    }
    if (!fs.existsSync(r.marker) || !fs.existsSync(r.bin)) {
      results.push({ ok: false, line: `${r.name} ${r.version}: NOT INSTALLED (${path.relative(ROOT, r.bin)}; run node scripts/ensure-deps.mjs --for test)` });
      continue;
    }
    results.push(runOnRuntime(r, [...unit, ...mock, ...runtimeFiles]));
  }
  for (const r of results) log(r.line);
  return results.every((r) => r.ok) ? 0 : 1;
}

process.exitCode = main();
