#!/usr/bin/env node
// Fails when package-lock.json does not match package.json, so CI stops with
// the fix spelled out instead of at `npm ci` deep inside `npm test` (or, worse,
// testing a tree nobody committed).  Plain Node ESM, builtins only; ~0.5 s.
//
// The check is `npm ci --dry-run`: npm's own rule for whether the lock can be
// installed as is (every dependency in package.json satisfied by a locked
// version, nothing the platform needs missing from the lock), without npm
// version noise in a byte diff of a regenerated lock.  It runs on a copy of
// the two files in a temp directory, so it reads and touches no node_modules.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './lib/sys.mjs';

const log = (msg) => console.log(`[lock] ${msg}`);
const FIX = 'Run `npm install` and commit package-lock.json.';

function main() {
  const t0 = Date.now();
  const lock = path.join(ROOT, 'package-lock.json');
  if (!fs.existsSync(lock)) {
    console.error(`[lock] FAILED: no package-lock.json. ${FIX}`);
    return 1;
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kpts-lock-'));
  try {
    for (const f of ['package.json', 'package-lock.json', '.npmrc']) {
      if (fs.existsSync(path.join(ROOT, f))) fs.copyFileSync(path.join(ROOT, f), path.join(tmp, f));
    }
    const r = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['ci', '--dry-run', '--ignore-scripts', '--no-audit', '--no-fund'], {
      cwd: tmp,
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
    });
    if (!r.error && r.status === 0) {
      log(`package-lock.json matches package.json (npm ci --dry-run, ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      return 0;
    }
    const out = `${r.stdout || ''}${r.stderr || ''}`;
    // npm follows the reason with its whole `npm ci` usage text; keep the reason.
    const lines = out.split('\n').filter((l) => l.startsWith('npm error') && !/^npm error\s*$/.test(l));
    const usage = lines.findIndex((l) => /Clean install a project/.test(l));
    for (const l of (usage >= 0 ? lines.slice(0, usage) : lines).slice(0, 20)) console.error(l);
    if (r.error) console.error(`[lock] FAILED: could not run npm: ${r.error.message}`);
    else if (/EUSAGE|in sync/.test(out)) console.error(`[lock] FAILED: package-lock.json is out of sync with package.json. ${FIX}`);
    else if (/E404/.test(out)) console.error(`[lock] FAILED: package.json names a package or version the registry does not have (above). Fix it, then: ${FIX}`);
    else console.error('[lock] FAILED: npm ci --dry-run failed (output above); if it is not a network problem, the lock is the likely cause: ' + FIX);
    return 1;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

process.exitCode = main();
