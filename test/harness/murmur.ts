// Reference partitions from the Java client's own code:
//   Utils.toPositive(Utils.murmur2(key)) % numPartitions
// computed by test/harness/java/Murmur2Partitions.java in one JVM start.
import { spawn } from 'node:child_process';
import { TOOLS_CLASSPATH, TOOL_JVM_FLAGS, TailBuffer, requireJavaHelpers, track } from './util.js';

export interface JavaMurmurResult {
  /** toPositive(murmur2(key)) % numPartitions */
  partitions: number[];
  /** toPositive(murmur2(key)) */
  hashes: number[];
}

export function javaMurmur2(keys: Buffer[], numPartitions: number, timeoutMs = 120_000): Promise<JavaMurmurResult> {
  if (!Number.isInteger(numPartitions) || numPartitions <= 0) return Promise.reject(new Error('numPartitions must be a positive integer'));
  requireJavaHelpers();
  return new Promise((resolve, reject) => {
    const child = track(
      spawn('java', [...TOOL_JVM_FLAGS, '-cp', TOOLS_CLASSPATH, 'kafkaharness.Murmur2Partitions', String(numPartitions)], {
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    );
    const out: Buffer[] = [];
    const err = new TailBuffer(50);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const lines = Buffer.concat(out).toString('ascii').split('\n').filter(Boolean);
      if (code !== 0 || lines.length !== keys.length) {
        reject(new Error(`Murmur2Partitions: exit ${signal ?? code}, ${lines.length}/${keys.length} answers; stderr:\n${err}`));
        return;
      }
      const partitions: number[] = new Array(keys.length);
      const hashes: number[] = new Array(keys.length);
      lines.forEach((l, i) => {
        const sp = l.indexOf(' ');
        partitions[i] = Number(l.slice(0, sp));
        hashes[i] = Number(l.slice(sp + 1));
      });
      resolve({ partitions, hashes });
    });
    child.stdin!.on('error', () => {});
    // base64 of an empty key is an empty line, which the helper reads as a zero-length key
    child.stdin!.end(keys.map((k) => `${k.toString('base64')}\n`).join(''));
  });
}

/** Partition the Java client's default partitioner picks for each (non-null) key. */
export async function javaPartitionsForKeys(keys: Buffer[], numPartitions: number): Promise<number[]> {
  return (await javaMurmur2(keys, numPartitions)).partitions;
}
