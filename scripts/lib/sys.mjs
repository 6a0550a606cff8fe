// Process and file helpers shared by the installers (scripts/ensure-deps.mjs,
// bench/ensure.mjs). Nothing here prints except aptInstall, through the
// caller's `log`; nothing exits the process.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: every command runs there unless told otherwise. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Modification time in ms, or -1 when the file does not exist. */
export function mtime(p) {
  try {
    return fs.statSync(p).mtimeMs;
  } catch {
    return -1;
  }
}

/** The executable `cmd` on PATH, or null. */
export function which(cmd) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return null;
}

/** Runs a command and captures its output; never throws. */
export function capture(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: ROOT, maxBuffer: 64 * 1024 * 1024, ...opts });
  return { ok: !r.error && r.status === 0, status: r.status, stdout: r.stdout || '', stderr: r.stderr || '', error: r.error };
}

let aptUpdated = false;

/**
 * apt-get install of Debian packages (through sudo when not root), after one
 * apt-get update per process. Throws an Error saying what failed.
 */
export function aptInstall(pkgs, why, log) {
  if (!which('apt-get') || !which('dpkg-query')) {
    throw new Error(`${why}: need Debian packages ${pkgs.join(' ')}, but apt-get/dpkg are not available; install them manually`);
  }
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot && !which('sudo')) throw new Error(`${why}: not root and no sudo; install ${pkgs.join(' ')} manually`);
  const prefix = isRoot ? [] : ['sudo'];
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (args) => {
    const [c, ...a] = [...prefix, 'apt-get', ...args];
    const r = spawnSync(c, a, { stdio: 'inherit', cwd: ROOT, env });
    if (r.error) throw new Error(`${c} ${a.join(' ')}: ${r.error.message}`);
    if (r.status !== 0) throw new Error(`${c} ${a.join(' ')} exited with ${r.status ?? r.signal}`);
  };
  if (!aptUpdated) {
    log('apt: running apt-get update ...');
    run(['update']);
    aptUpdated = true;
  }
  log(`apt: installing ${pkgs.join(' ')} ...`);
  run(['install', '-y', '--no-install-recommends', ...pkgs]);
}
