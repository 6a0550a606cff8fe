// Smoke test of the test harness itself (not of the SDK): real Kafka, the
// librdkafka mock cluster, both independent consumers and the murmur2 helper.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumeWithJavaConsoleConsumer, consumeWithKcat, type ConsumedRecord } from './consume.js';
import { startKafka, type KafkaCluster } from './kafka.js';
import { startMockCluster } from './mock.js';
import { javaMurmur2, javaPartitionsForKeys } from './murmur.js';

const STARTUP_TIMEOUT = 120_000;
/** Utils.toPositive(Utils.murmur2("key".getBytes(UTF_8))) from kafka-clients 4.4.0 */
const KEY_HASH = 1067546281;

function run(cmd: string, args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

async function kcatProduce(args: string[], input?: string): Promise<void> {
  const r = await run('kcat', ['-P', ...args], input);
  if (r.code !== 0) throw new Error(`kcat -P ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
}

const strip = (r: ConsumedRecord) => ({
  partition: r.partition,
  offset: r.offset,
  key: r.key?.toString('hex') ?? null,
  value: r.value?.toString('hex') ?? null,
  headers: r.headers.map(([k, v]) => [k, v.toString('hex')]),
  timestamp: r.timestamp,
});

describe('real Kafka 4.4 (single node)', () => {
  let kafka: KafkaCluster;
  let tmp: string;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'harness-test-'));
    const t0 = Date.now();
    kafka = await startKafka({ brokers: 1 });
    console.log(`single-node Kafka ready in ${Date.now() - t0} ms at ${kafka.bootstrap}`);
  }, STARTUP_TIMEOUT);

  afterAll(async () => {
    await kafka?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }, 60_000);

  it('exposes one 127.0.0.1 broker and its log', () => {
    expect(kafka.brokers).toHaveLength(1);
    expect(kafka.brokers[0]).toMatchObject({ nodeId: 1, host: '127.0.0.1' });
    expect(kafka.bootstrap).toBe(`127.0.0.1:${kafka.brokers[0]!.port}`);
    expect(kafka.logOf(1)).toContain('Kafka Server started');
  });

  it('kcat -P records read back identically with kcat and the Java ConsoleConsumer', async () => {
    const topic = 'harness-smoke';
    await kafka.createTopic(topic, 1);
    const bs = kafka.bootstrap;
    await kcatProduce(['-b', bs, '-t', topic, '-p', '0', '-K', '\t', '-H', 'trace=abc123'], 'k1\tvalue-1\nk2\tvalue-2\nk3\tvalue-3\n');

    const hw = await kafka.highWatermarks(topic);
    expect(hw).toEqual(new Map([[0, 3n]]));

    const viaKcat = await consumeWithKcat(bs, topic, { partitions: 1 });
    const viaJava = await consumeWithJavaConsoleConsumer(bs, topic, 3);
    expect(viaKcat.map((r) => [r.key?.toString(), r.value?.toString(), r.offset])).toEqual([
      ['k1', 'value-1', 0n],
      ['k2', 'value-2', 1n],
      ['k3', 'value-3', 2n],
    ]);
    for (const r of [...viaKcat, ...viaJava]) {
      expect(r.topic).toBe(topic);
      expect(r.headers.map(([k, v]) => [k, v.toString()])).toEqual([['trace', 'abc123']]);
      expect(r.timestamp).toBeGreaterThan(Date.now() - 600_000);
    }
    expect(viaJava.map(strip)).toEqual(viaKcat.map(strip));
  }, 120_000);

  it('both consumers are binary safe (NUL, newlines, null key, 900 KiB value) across partitions', async () => {
    const topic = 'harness-binary';
    await kafka.createTopic(topic, 3, 1, { 'max.message.bytes': '2097152' });
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const big = randomBytes(900 * 1024);
    big[0] = 0x0a;
    big[big.length - 1] = 0x00;
    const f1 = path.join(tmp, 'all-bytes');
    const f2 = path.join(tmp, 'big');
    fs.writeFileSync(f1, Buffer.concat([all, Buffer.from('\n\n\0\r\n')]));
    fs.writeFileSync(f2, big);
    const bs = kafka.bootstrap;
    // kcat -P with file arguments sends each file as one message, byte for byte.
    await kcatProduce(['-b', bs, '-t', topic, '-p', '1', '-k', 'bin\nkey', f1]);
    await kcatProduce(['-b', bs, '-t', topic, '-p', '2', f2]); // no key: null
    await kcatProduce(['-b', bs, '-t', topic, '-p', '0', '-K', ':'], 'a:1\nb:2\n');

    const hw = await kafka.highWatermarks(topic);
    expect(hw).toEqual(new Map([[0, 2n], [1, 1n], [2, 1n]]));

    const viaKcat = await consumeWithKcat(bs, topic, { partitions: 3 });
    const viaJava = await consumeWithJavaConsoleConsumer(bs, topic, 4);
    for (const recs of [viaKcat, viaJava]) {
      expect(recs.map((r) => [r.partition, r.offset])).toEqual([
        [0, 0n],
        [0, 1n],
        [1, 0n],
        [2, 0n],
      ]);
      expect(recs[2]!.key?.toString()).toBe('bin\nkey');
      expect(recs[2]!.value?.equals(fs.readFileSync(f1))).toBe(true);
      expect(recs[3]!.key).toBeNull();
      expect(recs[3]!.value?.equals(big)).toBe(true);
      expect(recs[0]!.headers).toEqual([]);
    }
    expect(viaJava.map(strip)).toEqual(viaKcat.map(strip));
  }, 120_000);

  it('reports partition leaders and rejects duplicate topics', async () => {
    await kafka.createTopic('harness-leaders', 2);
    const leaders = await kafka.partitionLeaders('harness-leaders');
    expect([...leaders.keys()]).toEqual([0, 1]);
    for (const s of leaders.values()) expect(s).toEqual({ leader: 1, isr: [1] });
    await expect(kafka.createTopic('harness-leaders', 2)).rejects.toThrow(/already exists/);
  }, 60_000);
});

describe('real Kafka 4.4 (3 nodes)', () => {
  let kafka: KafkaCluster;

  beforeAll(async () => {
    const t0 = Date.now();
    kafka = await startKafka({ brokers: 3 });
    console.log(`3-node Kafka ready in ${Date.now() - t0} ms at ${kafka.bootstrap}`);
  }, STARTUP_TIMEOUT);

  afterAll(async () => {
    const t0 = Date.now();
    await kafka?.stop();
    console.log(`3-node Kafka stopped in ${Date.now() - t0} ms`);
  }, 60_000);

  it('survives SIGKILL of a partition leader and restarts it', async () => {
    const topic = 'harness-repl';
    await kafka.createTopic(topic, 3); // replication factor defaults to 3
    const bs = kafka.bootstrap;
    const lines = (from: number) => Array.from({ length: 10 }, (_, i) => `k${from + i}:v${from + i}\n`).join('');
    await kcatProduce(['-b', bs, '-t', topic, '-p', '0', '-K', ':'], lines(0));

    const before = await kafka.partitionLeaders(topic);
    expect(before.get(0)!.isr.sort()).toEqual([1, 2, 3]);
    const victim = before.get(0)!.leader;
    let t0 = Date.now();
    await kafka.kill(victim);
    expect(kafka.isRunning(victim)).toBe(false);
    for (;;) {
      const now = await kafka.partitionLeaders(topic);
      if (now.get(0)!.leader !== victim && now.get(0)!.leader >= 0) break;
      if (Date.now() - t0 > 30_000) throw new Error(`leadership of ${topic}-0 never moved off node ${victim}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    console.log(`leader ${victim} of ${topic}-0 replaced ${Date.now() - t0} ms after SIGKILL`);

    await kcatProduce(['-b', bs, '-t', topic, '-p', '0', '-K', ':'], lines(10));
    expect((await kafka.highWatermarks(topic)).get(0)).toBe(20n);

    t0 = Date.now();
    await kafka.restart(victim);
    console.log(`node ${victim} serving again ${Date.now() - t0} ms after restart()`);
    expect(kafka.isRunning(victim)).toBe(true);
    await kafka.waitForFullIsr(topic);
    console.log(`full ISR ${Date.now() - t0} ms after restart()`);

    const viaKcat = await consumeWithKcat(bs, topic, { partitions: 3 });
    const viaJava = await consumeWithJavaConsoleConsumer(bs, topic, 20);
    expect(viaKcat.map((r) => `${r.partition}/${r.offset}/${r.key}=${r.value}`)).toEqual(
      Array.from({ length: 20 }, (_, i) => `0/${i}/k${i}=v${i}`),
    );
    expect(viaJava.map(strip)).toEqual(viaKcat.map(strip));
    expect(kafka.logOf(victim)).toContain('Kafka Server started');
  }, 180_000);
});

describe('librdkafka mock cluster', () => {
  it('starts 3 brokers on 127.0.0.1, takes fault commands and rejects bad ones', async () => {
    const mock = await startMockCluster({ brokers: 3 });
    try {
      const hosts = mock.bootstrap.split(',');
      expect(hosts).toHaveLength(3);
      for (const h of hosts) expect(h).toMatch(/^127\.0\.0\.1:\d+$/);

      await mock.createTopic('mock-topic', 4, 3);
      await mock.command('broker_down 2');
      await mock.command('broker_up 2');
      await mock.command('push_errors 0 7 7');
      await mock.command('broker_push_errors 1 Produce NOT_LEADER_OR_FOLLOWER:50 0:20');
      expect(await mock.command('error_stack_cnt 1 0')).toBe('2');
      await mock.command('leader mock-topic 0 3');
      await mock.command('rtt 3 5');
      await mock.command('clear_errors');

      await expect(mock.command('no_such_command 1')).rejects.toThrow(/unknown command/);
      await expect(mock.command('broker_down 9')).rejects.toThrow(/invalid broker id/);
      await expect(mock.command('push_errors 0 NOT_AN_ERROR')).rejects.toThrow(/invalid error code/);
      await mock.command('ping'); // still in sync after errors

      // The mock really serves the topic.
      const md = await run('kcat', ['-L', '-J', '-b', mock.bootstrap, '-t', 'mock-topic']);
      expect(md.code).toBe(0);
      const topic = JSON.parse(md.stdout).topics[0];
      expect(topic.partitions).toHaveLength(4);
      expect(topic.partitions.find((p: { partition: number }) => p.partition === 0).leader).toBe(3);
    } finally {
      await mock.stop();
    }
    await expect(mock.command('ping')).rejects.toThrow(/stopped/);
  }, 60_000);
});

// Independent implementation of Kafka's Utils.murmur2 (seed 0x9747b28c).
function murmur2(data: Buffer): number {
  const len = data.length;
  const m = 0x5bd1e995;
  let h = (0x9747b28c ^ len) | 0;
  const len4 = len >>> 2;
  for (let i = 0; i < len4; i++) {
    const o = i * 4;
    let k = data[o]! | (data[o + 1]! << 8) | (data[o + 2]! << 16) | (data[o + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const tail = len & ~3;
  const rest = len & 3;
  if (rest === 3) h ^= data[tail + 2]! << 16;
  if (rest >= 2) h ^= data[tail + 1]! << 8;
  if (rest >= 1) {
    h ^= data[tail]!;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}
const toPositive = (n: number) => n & 0x7fffffff;

describe('Java murmur2 reference', () => {
  it('matches Utils.murmur2 for known keys and an independent JS murmur2', async () => {
    const keys = ['key', '', 'a', 'ab', 'abc', 'abcd', 'abcde', 'kafka-producer-ts'].map((s) => Buffer.from(s));
    keys.push(Buffer.from([0xff, 0x00, 0x80, 0x7f, 0x0a]));
    const { partitions, hashes } = await javaMurmur2(keys, 12);
    // Utils.toPositive(Utils.murmur2("key".getBytes())), as computed by the Java client
    expect(hashes[0]).toBe(KEY_HASH);
    keys.forEach((k, i) => {
      expect(hashes[i], `hash of ${k.toString('hex')}`).toBe(toPositive(murmur2(k)));
      expect(partitions[i]).toBe(hashes[i]! % 12);
    });
  }, 60_000);

  it('handles 100,000 keys in one JVM start', async () => {
    const keys = Array.from({ length: 100_000 }, (_, i) => (i % 10 === 0 ? randomBytes(i % 37) : Buffer.from(`user-${i}`)));
    const t0 = Date.now();
    const parts = await javaPartitionsForKeys(keys, 7);
    console.log(`murmur2 helper: 100k keys in ${Date.now() - t0} ms`);
    expect(parts).toHaveLength(keys.length);
    keys.forEach((k, i) => {
      if (parts[i] !== toPositive(murmur2(k)) % 7) throw new Error(`mismatch for key ${k.toString('hex')}`);
    });
  }, 60_000);
});
