import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ServiceError } from '../errors.js';
import { spawnDetached } from './processes.js';

export interface KafkaNodeSpec {
  nodeId: number;
  port: number;
  controllerPort: number;
  dir: string;
}

export interface ClusterLayout {
  clusterId: string;
  nodes: KafkaNodeSpec[];
}

/**
 * A KRaft cluster id: 16 random bytes, base64url without padding (what `random-uuid` prints).
 * Like Kafka's own Uuid, never one starting with '-': the storage tool would read it as an option.
 */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

const LOG4J2 = [
  'status = warn',
  'appender.console.type = Console',
  'appender.console.name = STDOUT',
  'appender.console.layout.type = PatternLayout',
  'appender.console.layout.pattern = [%d] %p %m (%c)%n',
  'rootLogger.level = warn',
  'rootLogger.appenderRef.stdout.ref = STDOUT',
  'logger.raft.name = kafka.server.KafkaRaftServer',
  'logger.raft.level = info',
  '',
].join('\n');

function serverProperties(node: KafkaNodeSpec, layout: ClusterLayout): string {
  const single = layout.nodes.length === 1;
  const rf = Math.min(3, layout.nodes.length);
  const voters = layout.nodes.map((n) => `${n.nodeId}@127.0.0.1:${n.controllerPort}`).join(',');
  return [
    'process.roles=broker,controller',
    `node.id=${node.nodeId}`,
    single
      ? `controller.quorum.bootstrap.servers=127.0.0.1:${node.controllerPort}`
      : `controller.quorum.voters=${voters}`,
    `listeners=PLAINTEXT://127.0.0.1:${node.port},CONTROLLER://127.0.0.1:${node.controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${node.port},CONTROLLER://127.0.0.1:${node.controllerPort}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${path.join(node.dir, 'data')}`,
    'num.partitions=3',
    'auto.create.topics.enable=false',
    `offsets.topic.replication.factor=${rf}`,
    `transaction.state.log.replication.factor=${rf}`,
    `transaction.state.log.min.isr=${Math.min(2, rf)}`,
    'offsets.topic.num.partitions=10',
    // Local/test broker: consumer groups form at once instead of after 3 s.
    'group.initial.rebalance.delay.ms=0',
    'log.cleaner.backoff.ms=5000',
    'log.segment.bytes=67108864',
    'message.max.bytes=2097152',
    'num.network.threads=2',
    'num.io.threads=4',
    '',
  ].join('\n');
}

function java(libs: string, mainClass: string, args: string[], log4jFile: string, heap: string): string[] {
  return [
    `-Xms${heap}`,
    `-Xmx${heap}`,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${log4jFile}`,
    '-cp',
    `${libs}/*`,
    mainClass,
    ...args,
  ];
}

/** Writes server.properties and formats the node's KRaft storage. */
export function formatNode(libs: string, node: KafkaNodeSpec, layout: ClusterLayout): string {
  mkdirSync(node.dir, { recursive: true });
  const props = path.join(node.dir, 'server.properties');
  const log4j = path.join(node.dir, 'log4j2.properties');
  writeFileSync(props, serverProperties(node, layout));
  writeFileSync(log4j, LOG4J2);
  const args = ['format', '-t', layout.clusterId, '-c', props, '--ignore-formatted'];
  if (layout.nodes.length === 1) args.push('--standalone');
  const result = spawnSync('java', java(libs, 'kafka.tools.StorageTool', args, log4j, '256m'), {
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    throw new ServiceError(
      `formatting KRaft storage of node ${node.nodeId} failed:\n${(result.stdout + result.stderr).slice(-2000)}`,
    );
  }
  return props;
}

/** Starts one formatted node detached; returns its pid. */
export function startNode(libs: string, node: KafkaNodeSpec, heap = '768m'): number {
  const props = path.join(node.dir, 'server.properties');
  const log4j = path.join(node.dir, 'log4j2.properties');
  return spawnDetached(
    'java',
    java(libs, 'kafka.Kafka', [props], log4j, heap),
    path.join(node.dir, 'server.log'),
  );
}
