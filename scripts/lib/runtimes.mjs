// Bun and Deno, the other runtimes `npm test` runs the unit, mock-cluster and
// one real-Kafka test on (scripts/test-matrix.mjs), installed by
// scripts/ensure-deps.mjs --for test.  Shared so the installer, the matrix and
// the benchmark cannot disagree on versions or paths.
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './sys.mjs';

// Exact versions, so every run tests the same binaries; bump them here
// (`npm view bun version`, `npm view deno version`).
export const BUN_VERSION = '1.4.5';
export const DENO_VERSION = '2.9.6';

const CACHE = path.join(ROOT, '.cache');

/**
 * name: the matrix/bench id; version; dir: .cache/<name>/<version>;
 * bin: the executable inside it; member: its path inside the npm tarball.
 */
export const RUNTIMES = [
  { name: 'bun', version: BUN_VERSION, member: 'package/bin/bun', file: 'bun' },
  { name: 'deno', version: DENO_VERSION, member: 'package/deno', file: 'deno' },
].map((r) => {
  const dir = path.join(CACHE, r.name, r.version);
  return { ...r, dir, bin: path.join(dir, r.file), marker: path.join(dir, '.complete') };
});

export const runtime = (name) => RUNTIMES.find((r) => r.name === name) ?? null;

function hasAvx2() {
  try {
    return /\bavx2\b/.test(fs.readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return true;
  }
}

/**
 * The npm package with the official binary of runtime `name` for this
 * machine, or null where the tests do not install one (anything but Linux
 * x64/arm64 with glibc; the registry's musl builds are not tested here).
 * These are the packages the `bun` and `deno` npm packages pull in as
 * optional dependencies; fetching the platform package directly skips their
 * postinstall scripts.
 */
export function runtimePackage(name) {
  if (process.platform !== 'linux' || !['x64', 'arm64'].includes(process.arch)) return null;
  // process.report says which libc node was linked against; a musl node means a musl system.
  const glibc = Boolean(process.report?.getReport?.().header?.glibcVersionRuntime);
  if (!glibc) return null;
  if (name === 'bun') {
    if (process.arch === 'arm64') return '@oven/bun-linux-aarch64';
    // Bun's regular x64 build needs AVX2 and dies with SIGILL without it; bun's own installer picks "baseline" then.
    return hasAvx2() ? '@oven/bun-linux-x64' : '@oven/bun-linux-x64-baseline';
  }
  if (name === 'deno') return process.arch === 'arm64' ? '@deno/linux-arm64-glibc' : '@deno/linux-x64-glibc';
  return null;
}

/**
 * How to run a Node-style entry script under `r`: argv prefix for spawn.
 * Deno needs `run` and permissions; -A because the tests and the producer use
 * the network, files, env and subprocesses.  --node-modules-dir=manual makes
 * Deno resolve packages from the existing node_modules (installed by npm) and
 * never install into it: in a git worktree that directory is shared.
 * --no-lock keeps it from writing a deno.lock into the repository.
 */
export function runtimeArgv(r, script, args = []) {
  if (r.name === 'deno') return [r.bin, 'run', '-A', '--node-modules-dir=manual', '--no-lock', script, ...args];
  return [r.bin, script, ...args];
}

/** Environment for runtime processes: no update checks or telemetry on CI. */
export function runtimeEnv(env = process.env) {
  return { ...env, DENO_NO_UPDATE_CHECK: '1', DENO_NO_PROMPT: '1', DO_NOT_TRACK: '1' };
}
