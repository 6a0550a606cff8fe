#!/usr/bin/env node
// The unit and mock-cluster tests on each Node release of the matrix
// (scripts/lib/node-matrix.mjs), after `npm test` ran the whole suite on this
// machine's node.  The real-Kafka suites stay on the machine's node only: they
// spend their time in broker JVMs, and running them three times would triple
// CI time for little Node-specific coverage.
//
//   node scripts/test-matrix.mjs                # every matrix version
//   node scripts/test-matrix.mjs 24.22.3        # one of them
//
// Which files run is decided by the file, not a list here: everything under
// test/unit/, plus every other test file that imports the mock-cluster harness
// (test/harness/mock.js) and not the Kafka one (test/harness/kafka.js).  A new
// mock test joins the matrix by being written like the others.
//
// Prints one summary line per Node ("node v24.22.3: 312 passed ...") at the end
// and exits non-zero if any version failed or is not installed.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MATRIX_NODE_VERSIONS, nodeBin, nodePackageName } from './lib/node-matrix.mjs';
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
  return { unit, mock };
}

function runOn(version, files) {
  const bin = nodeBin(version);
  const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kpts-matrix-')), 'report.json');
  const t0 = Date.now();
  log(`node v${version}: running ${files.length} files ...`);
  // PATH first: anything the tests spawn as plain `node` (or npm's own shebang)
  // runs on the same release; vitest's forks already inherit process.execPath.
  // The fuzz test's million inputs exercise pure-JS decoders, the same on every
  // Node: the main run covers them; here a tenth checks they behave alike.
  const env = { FUZZ_INPUTS: '100000', ...process.env, PATH: `${path.dirname(bin)}${path.delimiter}${process.env.PATH ?? ''}` };
  const rels = files.map((f) => path.relative(ROOT, f));
  const r = spawnSync(bin, [VITEST, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...rels], {
    cwd: ROOT,
    stdio: 'inherit',
    env,
  });
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
  if (!j) return { ok: false, line: `node v${version}: FAILED, no results (vitest ${r.error ? r.error.message : `exited with ${r.status ?? r.signal}`}, ${secs} s)` };
  const skipped = j.numPendingTests + (j.numTodoTests ?? 0);
  const failedFiles = j.testResults.filter((t) => t.status === 'failed').length;
  const parts = [`${j.numPassedTests} passed`];
  if (j.numFailedTests) parts.push(`${j.numFailedTests} failed`);
  if (failedFiles) parts.push(`${failedFiles} of ${j.testResults.length} files failed`);
  if (skipped) parts.push(`${skipped} skipped`);
  // vitest fails a run whose tests all passed when it caught errors outside them.
  if (!j.numFailedTests && !failedFiles && !(ok && j.success)) parts.push('errors outside the tests (see vitest output above)');
  return { ok: ok && j.success, line: `node v${version}: ${parts.join(', ')} (${j.testResults.length} files, ${secs} s)${ok && j.success ? '' : ' FAILED'}` };
}

function main() {
  const args = process.argv.slice(2);
  const versions = args.length ? args : MATRIX_NODE_VERSIONS;
  const unknown = versions.filter((v) => !MATRIX_NODE_VERSIONS.includes(v));
  if (unknown.length) {
    console.error(`[matrix] not in the matrix: ${unknown.join(', ')} (scripts/lib/node-matrix.mjs has ${MATRIX_NODE_VERSIONS.join(', ')})`);
    return 1;
  }
  if (!nodePackageName()) {
    log(`skipped: Node ${versions.join(', ')} are only installed on Linux (see scripts/lib/node-matrix.mjs)`);
    return 0;
  }
  const { unit, mock } = selectFiles();
  log(`unit: ${unit.length} files; mock cluster: ${mock.map((f) => path.relative(ROOT, f)).join(', ')}`);
  const results = [];
  for (const v of versions) {
    if (!fs.existsSync(nodeBin(v))) {
      results.push({ ok: false, line: `node v${v}: NOT INSTALLED (${path.relative(ROOT, nodeBin(v))}; run node scripts/ensure-deps.mjs --for test)` });
      continue;
    }
    results.push(runOn(v, [...unit, ...mock]));
  }
  for (const r of results) log(r.line);
  return results.every((r) => r.ok) ? 0 : 1;
}

process.exitCode = main();
