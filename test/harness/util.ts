// Shared plumbing for the test harness: paths into .cache, child-process
// bookkeeping with an exit safety net, a line-oriented request/response
// channel over a child's stdio, and free-port discovery.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CACHE = path.join(ROOT, '.cache');
export const KAFKA_VERSION = '4.4.0';
export const KAFKA_DIR = path.join(CACHE, 'kafka', KAFKA_VERSION);
export const KAFKA_LIBS = path.join(KAFKA_DIR, 'libs');
export const JAVA_HELPERS = path.join(CACHE, 'javahelpers');
export const TOOLS_LOG4J2 = path.join(JAVA_HELPERS, 'log4j2-tools.xml');
export const MOCKCLUSTER_BIN = path.join(CACHE, 'mockcluster', 'mockcluster');

/** Classpath for our helper JVMs (AdminHelper, Murmur2Partitions): helpers + broker/client jars (KAFKA_VERSION). */
export const TOOLS_CLASSPATH = `${JAVA_HELPERS}${path.delimiter}${path.join(KAFKA_LIBS, '*')}`;

/**
 * Classpath for kafka-tools main classes (ConsoleConsumer, ProducerPerformance,
 * TopicCommand, GetOffsetShell, ...) plus our helpers (the console formatter).
 * When kafka-tools KAFKA_VERSION is not on Maven Central, ensure-deps puts the
 * newest available kafka-tools with its own client jars in tools-libs/ (see the
 * JSON marker .cache/kafka/<v>/.complete); `kafkaToolsVersion()` says which.
 */
export function kafkaToolsClasspath(): string {
  return `${JAVA_HELPERS}${path.delimiter}${path.join(KAFKA_DIR, kafkaMarker().toolsLibs, '*')}`;
}

export function kafkaToolsVersion(): string {
  return kafkaMarker().toolsVersion;
}

function kafkaMarker(): { toolsVersion: string; toolsLibs: string } {
  const file = path.join(KAFKA_DIR, '.complete');
  requireFile(file, `Kafka ${KAFKA_VERSION} jars`);
  try {
    const m = JSON.parse(fs.readFileSync(file, 'utf8')) as { toolsVersion?: string; toolsLibs?: string };
    return { toolsVersion: m.toolsVersion ?? KAFKA_VERSION, toolsLibs: m.toolsLibs ?? 'libs' };
  } catch {
    throw new Error(`${path.relative(ROOT, file)} is unreadable; rerun \`node scripts/ensure-deps.mjs --for test\``);
  }
}

/** JVM flags for short-lived helper / tool JVMs: small, single-tier JIT, quick to start. */
export const TOOL_JVM_FLAGS = [
  '-Xms32m',
  '-Xmx256m',
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-XX:-UsePerfData',
  '-Xshare:auto',
  '-Djava.awt.headless=true',
  `-Dlog4j2.configurationFile=${TOOLS_LOG4J2}`,
];

export function requireFile(file: string, what: string): void {
  if (!fs.existsSync(file)) {
    throw new Error(`${what} not found at ${path.relative(ROOT, file)}; run \`node scripts/ensure-deps.mjs --for test\` first`);
  }
}

export function requireJavaHelpers(): void {
  requireFile(path.join(KAFKA_DIR, '.complete'), `Kafka ${KAFKA_VERSION} jars`);
  requireFile(path.join(JAVA_HELPERS, '.complete'), 'compiled Java helpers');
}

// ------------------------------------------------------------------ children
// Every child we spawn is registered here; on process exit any that are still
// alive get SIGKILL.  (Processes that do not read stdin, like the Kafka JVMs,
// additionally get a watchdog so they die even if this process is SIGKILLed.)
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of live) {
      try {
        c.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });
}

export function track<T extends ChildProcess>(child: T): T {
  installExitHook();
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.once('error', () => live.delete(child));
  return child;
}

export function spawnTracked(cmd: string, args: string[], opts: SpawnOptions): ChildProcess {
  return track(spawn(cmd, args, opts));
}

/**
 * A tiny `sh` that SIGKILLs `pid` as soon as its stdin (a pipe from this
 * process) reaches EOF, i.e. when this Node process dies for whatever reason,
 * including SIGKILL.  On an orderly shutdown call `disarm()` first.
 */
export function watchdog(pid: number): { disarm(): void } {
  // `read` is a shell builtin, so this is a single process.
  const script = 'while read -r l; do [ "$l" = disarm ] && exit 0; done; kill -9 "$1" 2>/dev/null';
  const wd = spawnTracked('sh', ['-c', script, 'harness-watchdog', String(pid)], { stdio: ['pipe', 'ignore', 'ignore'] });
  wd.unref();
  const stdin = wd.stdin as (NodeJS.WritableStream & { unref?: () => void }) | null;
  stdin?.on('error', () => {});
  stdin?.unref?.();
  return {
    disarm() {
      if (isRunning(wd)) stdin?.end('disarm\n');
    },
  };
}

export function isRunning(child: ChildProcess | undefined | null): boolean {
  return !!child && child.exitCode === null && child.signalCode === null;
}

export function waitExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (!isRunning(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, timeoutMs);
    const onExit = () => {
      clearTimeout(t);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

/** Signal, wait up to graceMs, then SIGKILL and wait for the exit. */
export async function terminate(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<void> {
  if (!isRunning(child)) return;
  child.kill(signal);
  if (await waitExit(child, graceMs)) return;
  child.kill('SIGKILL');
  await waitExit(child, 10_000);
}

// ------------------------------------------------------------------ line channel
/** Keeps the last `max` lines written to a stream (for error messages). */
export class TailBuffer {
  private lines: string[] = [];
  private partial = '';
  constructor(private readonly max = 80) {}
  push(chunk: Buffer | string): void {
    const text = this.partial + chunk.toString();
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    for (const p of parts) {
      this.lines.push(p);
      if (this.lines.length > this.max) this.lines.shift();
    }
  }
  toString(): string {
    return [...this.lines, this.partial].filter((l) => l.length > 0).join('\n');
  }
}

/**
 * Request/response over a child's stdin/stdout: one request line, one reply
 * line ("OK [value]" | "ERR message"), strictly in order.  The first stdout
 * line is a greeting, available via `greeting`.
 */
export class LineChannel {
  readonly greeting: Promise<string>;
  readonly stderr = new TailBuffer(80);
  private pending: { resolve: (v: string) => void; reject: (e: Error) => void; line: string }[] = [];
  private greeted = false;
  private closedError: Error | null = null;
  private resolveGreeting!: (s: string) => void;
  private rejectGreeting!: (e: Error) => void;

  constructor(
    readonly child: ChildProcess,
    private readonly name: string,
  ) {
    this.greeting = new Promise((res, rej) => {
      this.resolveGreeting = res;
      this.rejectGreeting = rej;
    });
    this.greeting.catch(() => {});
    child.stderr?.on('data', (d: Buffer) => this.stderr.push(d));
    const rl = createInterface({ input: child.stdout!, crlfDelay: Infinity });
    rl.on('line', (line) => this.onLine(line));
    child.once('exit', (code, sig) => {
      // Let buffered stderr arrive before composing the message.
      setImmediate(() => this.fail(new Error(`${this.name} exited (${sig ?? `code ${code}`})${this.stderrSuffix()}`)));
    });
    child.once('error', (e) => this.fail(new Error(`${this.name}: ${e.message}`)));
    child.stdin?.on('error', () => {
      /* EPIPE after the child died: reported through 'exit' */
    });
  }

  private stderrSuffix(): string {
    const s = this.stderr.toString();
    return s ? `; stderr:\n${s}` : '';
  }

  private onLine(line: string): void {
    if (!this.greeted) {
      this.greeted = true;
      this.resolveGreeting(line);
      return;
    }
    const p = this.pending.shift();
    if (!p) return; // unsolicited output: ignore
    if (line === 'OK' || line.startsWith('OK ')) p.resolve(line.slice(3));
    else if (line.startsWith('ERR')) p.reject(new Error(`${this.name}: ${p.line}: ${line.slice(4)}`));
    else p.reject(new Error(`${this.name}: ${p.line}: unexpected reply: ${line}`));
  }

  private fail(e: Error): void {
    if (this.closedError) return;
    this.closedError = e;
    if (!this.greeted) this.rejectGreeting(e);
    for (const p of this.pending.splice(0)) p.reject(e);
  }

  get closed(): boolean {
    return this.closedError !== null;
  }

  /** Sends one line; resolves with the text after "OK " or rejects with the ERR text. */
  request(line: string): Promise<string> {
    if (line.includes('\n')) return Promise.reject(new Error(`${this.name}: command must be a single line`));
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject, line });
      this.child.stdin!.write(`${line}\n`);
    });
  }
}

// ------------------------------------------------------------------ ports
/** `count` distinct free TCP ports on 127.0.0.1 (bound to port 0 together, then released). */
export async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const srv = net.createServer();
      servers.push(srv);
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => resolve());
      });
      ports.push((srv.address() as net.AddressInfo).port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

/** True once something accepts a TCP connection on host:port. */
export function canConnect(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Rejects with `message` if `p` has not settled within `ms` (the timer never outlives `p`). */
export function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), Math.max(0, ms));
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Last `n` lines of a text file ('' if it does not exist). */
export function tailFile(file: string, n = 80): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    const lines = text.split('\n');
    if (lines.length && lines[lines.length - 1] === '') lines.pop();
    return lines.slice(-n).join('\n');
  } catch {
    return '';
  }
}
