// Helpers for the secured-broker tests: N keyed records through the public
// API, and a byte-exact comparison with what an independent consumer read
// back; plus a capture of everything the process prints, to prove no secret
// leaks into any output.
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import type { KafkaProducer } from '../../src/index.js';
import type { ConsumedRecord } from './consume.js';

export interface SentRecord {
  key: Buffer;
  value: Buffer;
  partition: number;
  offset: bigint;
}

/**
 * Sends `n` keyed records (binary values of varying length, every byte value
 * represented) to `topic` and waits for every acknowledgement. Returns them
 * with the partition and offset the broker assigned.
 */
export async function produceKeyed(producer: KafkaProducer, topic: string, n: number, tag: string): Promise<SentRecord[]> {
  const out: SentRecord[] = new Array(n);
  const pending: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const key = Buffer.from(`${tag}-${i}`);
    const value = Buffer.concat([Buffer.from(`${i}:`), randomBytes(i % 97), Buffer.from([0, 255, i & 0xff])]);
    pending.push(
      producer.send({ topic, key, value }).then((md) => {
        out[i] = { key, value, partition: md.partition, offset: md.offset };
      }),
    );
  }
  await Promise.all(pending);
  return out;
}

/** Every sent record was read back byte-identical at its partition and offset, and nothing else was read. */
export function compareReadBack(sent: readonly SentRecord[], read: readonly ConsumedRecord[]): { missing: number; extra: number; different: number } {
  const at = new Map<string, ConsumedRecord>();
  for (const r of read) at.set(`${r.partition}/${r.offset}`, r);
  let missing = 0;
  let different = 0;
  for (const s of sent) {
    const r = at.get(`${s.partition}/${s.offset}`);
    if (r === undefined) missing++;
    else if (r.key === null || r.value === null || !r.key.equals(s.key) || !r.value.equals(s.value)) different++;
  }
  return { missing, extra: read.length - (sent.length - missing), different };
}

/**
 * Captures what the process writes to stdout/stderr and emits as warnings
 * while `fn` runs (it is still written through), so a test can assert that
 * no secret appears in any output.
 */
export class OutputCapture {
  readonly chunks: string[] = [];
  private restore: (() => void) | null = null;

  start(): this {
    const outWrite = process.stdout.write.bind(process.stdout);
    const errWrite = process.stderr.write.bind(process.stderr);
    const onWarning = (w: Error) => this.chunks.push(`${w.name}: ${w.message}\n${w.stack ?? ''}`);
    process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
      this.chunks.push(String(chunk));
      return (outWrite as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stdout.write;
    process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
      this.chunks.push(String(chunk));
      return (errWrite as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stderr.write;
    process.on('warning', onWarning);
    this.restore = () => {
      process.stdout.write = outWrite;
      process.stderr.write = errWrite;
      process.off('warning', onWarning);
    };
    return this;
  }

  stop(): string {
    this.restore?.();
    this.restore = null;
    return this.chunks.join('');
  }

  /** Adds text the test itself observed (error messages, inspect output) to what is scanned. */
  add(text: string): void {
    this.chunks.push(text);
  }

  /** The secrets (non-empty) that appear anywhere in what was captured. */
  leaked(secrets: readonly string[]): string[] {
    const all = this.chunks.join('\n');
    return secrets.filter((s) => s.length > 0 && all.includes(s));
  }
}

/** An error and its cause chain as text, for the secret scan. */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let i = 0; e !== undefined && e !== null && i < 8; i++) {
    parts.push(e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}\n${inspect(e, { depth: 3 })}` : String(e));
    e = (e as { cause?: unknown }).cause;
  }
  return parts.join('\n--- cause ---\n');
}
