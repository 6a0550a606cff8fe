// Kafka's own admin tools (kafka-tools), run as the scripts would run them,
// for reading state the producer under test claims to have changed:
// kafka-consumer-groups.sh --describe (committed offsets) and
// kafka-transactions.sh describe (transaction coordinator and state).
import { execFile } from 'node:child_process';
import { TOOL_JVM_FLAGS, kafkaToolsClasspath, requireJavaHelpers } from './util.js';

function runTool(mainClass: string, args: string[], timeoutMs = 60_000): Promise<string> {
  requireJavaHelpers();
  return new Promise((resolve, reject) => {
    execFile(
      'java',
      [...TOOL_JVM_FLAGS, '-cp', kafkaToolsClasspath(), mainClass, ...args],
      { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${mainClass} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

/** A table printed by a Kafka tool: header row, then rows; columns split on runs of whitespace. */
function parseTable(text: string, firstHeader: string): Record<string, string>[] {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  const h = lines.findIndex((l) => l.split(/\s+/)[0] === firstHeader);
  if (h < 0) return [];
  const header = lines[h]!.split(/\s+/);
  return lines.slice(h + 1).map((l) => {
    const cells = l.split(/\s+/);
    return Object.fromEntries(header.map((name, i) => [name, cells[i] ?? '']));
  });
}

/**
 * The offsets `group` has committed, per "topic-partition", as
 * `kafka-consumer-groups.sh --describe --offsets` prints them ('-' → absent).
 */
export async function committedGroupOffsets(bootstrap: string, group: string): Promise<Map<string, bigint>> {
  const out = await runTool('org.apache.kafka.tools.consumer.group.ConsumerGroupCommand', [
    '--bootstrap-server',
    bootstrap,
    '--describe',
    '--offsets',
    '--group',
    group,
  ]);
  const offsets = new Map<string, bigint>();
  for (const row of parseTable(out, 'GROUP')) {
    if (row['GROUP'] !== group || row['CURRENT-OFFSET'] === '-' || row['CURRENT-OFFSET'] === undefined) continue;
    offsets.set(`${row['TOPIC']}-${row['PARTITION']}`, BigInt(row['CURRENT-OFFSET']!));
  }
  return offsets;
}

/** `kafka-transactions.sh describe --transactional-id`: coordinator id, producer id/epoch and state. */
export async function describeTransaction(
  bootstrap: string,
  transactionalId: string,
): Promise<{ coordinatorId: number; producerId: bigint; producerEpoch: number; state: string }> {
  const out = await runTool('org.apache.kafka.tools.TransactionsCommand', ['--bootstrap-server', bootstrap, 'describe', '--transactional-id', transactionalId]);
  const row = parseTable(out, 'CoordinatorId')[0];
  if (row === undefined) throw new Error(`kafka-transactions describe printed no transaction:\n${out}`);
  return {
    coordinatorId: Number(row['CoordinatorId']),
    producerId: BigInt(row['ProducerId']!),
    producerEpoch: Number(row['ProducerEpoch']),
    state: row['TransactionState']!,
  };
}

/**
 * `kafka-configs.sh --alter --add-config <config> --entity-type clients`
 * for one client id (or, with null, the default of every client): e.g. a
 * produce quota, `producer_byte_rate=102400`.
 */
export async function alterClientQuota(bootstrap: string, config: string, clientId: string | null): Promise<void> {
  const entity = clientId === null ? ['--entity-default'] : ['--entity-name', clientId];
  await runTool('org.apache.kafka.tools.ConfigCommand', [
    '--bootstrap-server',
    bootstrap,
    '--alter',
    '--add-config',
    config,
    '--entity-type',
    'clients',
    ...entity,
  ]);
}
