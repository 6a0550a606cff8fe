// Process measurement: every client runs under GNU time (`/usr/bin/time -f`),
// which reports the child's user and system CPU seconds and peak RSS
// (ru_maxrss, i.e. VmHWM) from wait4() — the same for Node, Java and C.
// Broker CPU comes from /proc/<pid>/stat before and after each run.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const TIME_BIN = '/usr/bin/time';
const CLK_TCK = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

/** user+system CPU seconds of a live process (all its threads), or NaN. */
export function cpuSecondsOf(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // fields after the comm: state(3) ... utime(14) stime(15) => indexes 11, 12
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** Resident set size (VmRSS) of a live process in MB, or NaN. */
export function rssMbOf(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Peak resident set (VmHWM) of a live process in MB, or NaN. */
export function hwmMbOf(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Machine-wide busy CPU seconds (all cores, everything but idle and iowait) since boot. */
export function machineBusySeconds() {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest* are included in user/nice)
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return (total - v[3] - v[4]) / CLK_TCK;
}

/**
 * Machine-wide CPU seconds since boot, split: `task` (user, nice, system: what
 * processes ran), `irq` (irq + softirq: mostly loopback networking here),
 * `steal` (taken by the hypervisor).
 */
export function machineCpu() {
  const v = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { task: (v[0] + v[1] + v[2]) / CLK_TCK, irq: (v[5] + v[6]) / CLK_TCK, steal: (v[7] ?? 0) / CLK_TCK };
}

/** Cores busy over the next `ms` milliseconds, machine-wide. */
export async function busyCores(ms = 500) {
  const a = machineBusySeconds();
  const t = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, ms));
  const secs = Number(process.hrtime.bigint() - t) / 1e9;
  return (machineBusySeconds() - a) / secs;
}

/**
 * Run argv under /usr/bin/time in its own process group with a timeout.
 * Resolves (never rejects) with exit status, output, and the child's
 * wall/user/sys seconds and peak RSS (MB) when it exited by itself.
 */
export function runMeasured(argv, { timeoutMs, env, cwd, maxOutput = 8 * 1024 * 1024 }) {
  const timeFile = path.join(os.tmpdir(), `bench-time-${process.pid}-${Math.random().toString(36).slice(2)}.txt`);
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const child = spawn(TIME_BIN, ['-o', timeFile, '-f', 'BENCHTIME %e %U %S %M', ...argv], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: env ?? process.env,
      cwd,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      if (stdout.length < maxOutput) stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr = (stderr + d).slice(-64 * 1024);
    });
    let timedOut = false;
    const killGroup = () => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    // If the orchestrator dies, take the run's process group with it.
    const onExit = () => killGroup();
    process.once('exit', onExit);
    child.once('error', (e) => {
      stderr += `\nspawn error: ${e.message}`;
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      process.off('exit', onExit);
      const hostWallSec = Number(process.hrtime.bigint() - started) / 1e9;
      let t = null;
      let timeText = '';
      try {
        timeText = fs.readFileSync(timeFile, 'utf8');
        fs.rmSync(timeFile, { force: true });
      } catch {
        /* killed before time wrote anything */
      }
      const m = /BENCHTIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(timeText);
      if (m) t = { wallSec: Number(m[1]), userSec: Number(m[2]), sysSec: Number(m[3]), peakRssMB: Number(m[4]) / 1024 };
      // GNU time exits with the child's status; "Command terminated by signal N" goes to the -o file.
      const sig = /terminated by signal (\d+)/.exec(timeText);
      resolve({
        code,
        signal: signal ?? (sig ? `signal ${sig[1]}` : null),
        timedOut,
        stdout,
        stderr,
        hostWallSec,
        time: t,
      });
    });
  });
}
