import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runKafkaTool, type KafkaNodeSpec } from '../src/local/kafka-node.js';
import { isAlive } from '../src/local/processes.js';
import { readState } from '../src/local/services.js';

/**
 * Kafka's own command-line tools (Java AdminClient) for the moments kafkajs cannot see: kafkajs
 * fails a whole Metadata answer when any partition has an error, so while a partition has no
 * leader (the second broker failure under RF=2) `describeCluster` and `fetchTopicMetadata` throw
 * LEADER_NOT_AVAILABLE — also for a broker that rejoined long ago. These read the cluster as an
 * operator would. Each call starts a JVM (seconds on a loaded machine): not for tight loops.
 */
interface ToolCluster {
  home: string;
  brokers: string[];
}

export interface PartitionState {
  partition: number;
  /** -1: no leader. */
  leader: number;
  replicas: number[];
  isr: number[];
  /** Eligible leader replicas (KIP-966): may be elected cleanly once back. */
  elr: number[];
}

async function tool(services: ToolCluster, mainClass: string, args: string[]): Promise<string> {
  const kafka = readState(services.home).kafka;
  if (!kafka) throw new Error(`no Kafka recorded under ${services.home}`);
  const { status, output } = await runKafkaTool(
    kafka.libs,
    mainClass,
    // Only the nodes that run: the Java client would spend the tool's minute on a dead bootstrap.
    ['--bootstrap-server', live(kafka.nodes).join(',') || services.brokers.join(','), ...args],
    path.join(kafka.nodes[0]!.dir, 'log4j2.properties'),
  );
  if (status !== 0)
    throw Object.assign(new Error(`${mainClass} exit ${status}: ${reason(output)}`), {
      output: `exit ${status}: ${output}`,
    });
  return output;
}

const live = (nodes: readonly (KafkaNodeSpec & { pid: number })[]) =>
  nodes.filter((n) => isAlive(n.pid)).map((n) => `${n.host ?? '127.0.0.1'}:${n.port}`);

const ids = (s: string | undefined) =>
  (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '')
    .map(Number);

/** `kafka-topics --describe` lines → partition states (`Leader: none` → -1). */
export function parseTopicDescription(output: string): PartitionState[] {
  const states: PartitionState[] = [];
  for (const line of output.split('\n')) {
    const field = (name: string) => new RegExp(`\\b${name}: ?([^\\t]*)`).exec(line)?.[1]?.trim();
    const partition = field('Partition');
    if (partition === undefined) continue;
    const leader = field('Leader');
    states.push({
      partition: Number(partition),
      leader: leader === undefined || leader === 'none' ? -1 : Number(leader),
      replicas: ids(field('Replicas')),
      isr: ids(field('Isr')),
      elr: ids(field('Elr')),
    });
  }
  return states.sort((a, b) => a.partition - b.partition);
}

/** Every partition of a topic, leaderless ones included. */
export async function describeTopic(services: ToolCluster, topic: string): Promise<PartitionState[]> {
  const states = parseTopicDescription(
    await tool(services, 'org.apache.kafka.tools.TopicCommand', ['--describe', '--topic', topic]),
  );
  if (states.length === 0) throw new Error(`kafka-topics --describe listed no partition of ${topic}`);
  return states;
}

/** Ids of the live, registered brokers (`kafka-broker-api-versions`: the cluster's broker list). */
export async function liveBrokers(services: ToolCluster): Promise<number[]> {
  const output = await tool(services, 'org.apache.kafka.tools.BrokerApiVersionsCommand', []);
  return [...output.matchAll(/\(id: (\d+) rack: [^)]*?(isFenced: (true|false))?\) ->/g)]
    .filter((m) => m[3] !== 'true')
    .map((m) => Number(m[1]));
}

/** `kafka-leader-election --election-type unclean` on every partition of a topic: the operator's last resort. */
export async function uncleanElection(
  services: ToolCluster,
  topic: string,
  partitions: readonly number[],
): Promise<string> {
  // `--topic` names one partition with `--partition`; several go in a JSON file.
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'fleet-election-')), 'partitions.json');
  writeFileSync(file, JSON.stringify({ partitions: partitions.map((partition) => ({ topic, partition })) }));
  const output = await tool(services, 'org.apache.kafka.tools.LeaderElectionCommand', [
    '--election-type',
    'unclean',
    '--path-to-json-file',
    file,
  ])
    .catch((err: Error) => (err as { output?: string }).output ?? err.message)
    .finally(() => rmSync(path.dirname(file), { recursive: true, force: true }));
  return reason(output);
}

/**
 * `kafka-configs --alter` of one topic setting (e.g. `unclean.leader.election.enable=true`, which
 * lets the controller elect an out-of-sync replica by itself).
 */
export async function alterTopicConfig(
  services: ToolCluster,
  topic: string,
  setting: string,
): Promise<string> {
  const output = await tool(services, 'kafka.admin.ConfigCommand', [
    '--alter',
    '--entity-type',
    'topics',
    '--entity-name',
    topic,
    '--add-config',
    setting,
  ]).catch((err: Error) => (err as { output?: string }).output ?? err.message);
  return reason(output);
}

/** A tool's output without log lines and stack frames: what it says happened. */
const reason = (output: string) =>
  output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^at /.test(l) && !/^\[\d{4}-/.test(l))
    .slice(0, 4)
    .join(' ');

export const describePartitions = (ps: readonly PartitionState[]) =>
  ps
    .map(
      (p) =>
        `p${p.partition}: leader ${p.leader < 0 ? 'none' : p.leader} isr [${p.isr.join(',')}]${p.elr.length ? ` elr [${p.elr.join(',')}]` : ''}`,
    )
    .join('; ');
