// librdkafka's mock Kafka cluster (librdkafka 2.0.x as packaged by Debian),
// driven through the small C program test/harness/mock/mockcluster.c that
// `scripts/ensure-deps.mjs --for test` builds into .cache/mockcluster/.
// See test/harness/README.md for the command list and the mock's limits.
import { LineChannel, MOCKCLUSTER_BIN, isRunning, requireFile, spawnTracked, terminate, waitExit, withTimeout } from './util.js';

export interface MockCluster {
  /** "127.0.0.1:p1,127.0.0.1:p2,..." (broker ids are 1..n in this order) */
  bootstrap: string;
  brokers: number;
  /**
   * Send one command line (see `help` / README), e.g. `broker_down 2`,
   * `push_errors Produce NOT_LEADER_OR_FOLLOWER _TRANSPORT`,
   * `broker_push_errors 1 0 7:200`.  Resolves with the text after "OK"
   * ('' for most commands, a number for `error_stack_cnt`); rejects with the
   * ERR text.
   */
  command(line: string): Promise<string>;
  /** rf defaults to min(brokers, 3). */
  createTopic(name: string, partitions: number, rf?: number): Promise<void>;
  /** Last lines librdkafka wrote to stderr (set MOCKCLUSTER_DEBUG=mock,protocol for more). */
  stderr(): string;
  stop(): Promise<void>;
}

export async function startMockCluster(opts: { brokers: number }): Promise<MockCluster> {
  const n = opts.brokers;
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error('startMockCluster: brokers must be 1..64');
  requireFile(MOCKCLUSTER_BIN, 'mock cluster binary');
  const child = spawnTracked(MOCKCLUSTER_BIN, [String(n)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const chan = new LineChannel(child, 'mockcluster');
  let greeting: string;
  try {
    greeting = await withTimeout(chan.greeting, 10_000, 'mockcluster did not print BOOTSTRAP within 10 s');
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  const m = /^BOOTSTRAP (\S+)$/.exec(greeting);
  if (!m) {
    child.kill('SIGKILL');
    throw new Error(`mockcluster: unexpected first line: ${greeting}`);
  }
  let stopped = false;
  return {
    bootstrap: m[1]!,
    brokers: n,
    command(line: string) {
      if (stopped) return Promise.reject(new Error('mock cluster is stopped'));
      return chan.request(line.trim());
    },
    async createTopic(name, partitions, rf = Math.min(n, 3)) {
      if (!name || /\s/.test(name)) throw new Error(`invalid topic name ${JSON.stringify(name)}`);
      await chan.request(`topic ${name} ${partitions} ${rf}`);
    },
    stderr() {
      return chan.stderr.toString();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (isRunning(child)) child.stdin?.end(); // EOF: the program destroys the cluster and exits 0
      if (!(await waitExit(child, 3_000))) await terminate(child, 'SIGTERM', 2_000);
    },
  };
}
