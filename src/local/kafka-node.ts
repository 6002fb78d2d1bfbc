import { randomBytes } from 'node:crypto';
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ServiceError } from '../errors.js';
import { spawnDetached } from './processes.js';

export interface KafkaNodeSpec {
  nodeId: number;
  port: number;
  controllerPort: number;
  /** Port of the SASL_SSL client listener, when the cluster is secure. */
  securePort?: number;
  dir: string;
  /** Address its listeners bind and advertise. @default '127.0.0.1' */
  host?: string;
  /** Network namespace the node runs in (`ip netns exec`; the fault suite's network hosts). */
  netns?: string;
}

/** A SASL_SSL client listener beside the plaintext one (`fleet services up --secure`). */
export interface SecureListener {
  keystoreFile: string;
  keystorePassword: string;
  /** The SCRAM-SHA-512 user created at format time. */
  username: string;
  password: string;
  /** `connections.max.reauth.ms`: sessions end (or re-authenticate) after this long. @default 3_600_000 */
  reauthMs?: number;
}

export interface ClusterLayout {
  clusterId: string;
  nodes: KafkaNodeSpec[];
  secure?: SecureListener;
}

/**
 * The SASL_SSL listener's lines: TLS with the broker's keystore, SCRAM-SHA-512 (the users created at
 * format time) and OAUTHBEARER with Kafka's unsecured-JWT validator, so the token refresh path of
 * MSK IAM can be exercised locally with tokens that expire. Brokers talk to each other and to the
 * controllers over the loopback plaintext listeners.
 */
function secureLines(secure: SecureListener): string[] {
  const l = 'listener.name.sasl_ssl';
  return [
    'sasl.enabled.mechanisms=SCRAM-SHA-512,OAUTHBEARER',
    `${l}.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`,
    `${l}.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="broker";`,
    'ssl.keystore.type=PKCS12',
    `ssl.keystore.location=${secure.keystoreFile}`,
    `ssl.keystore.password=${secure.keystorePassword}`,
    `ssl.key.password=${secure.keystorePassword}`,
    'ssl.client.auth=none',
    `connections.max.reauth.ms=${secure.reauthMs ?? 3_600_000}`,
  ];
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
  const host = (n: KafkaNodeSpec) => n.host ?? '127.0.0.1';
  const voters = layout.nodes.map((n) => `${n.nodeId}@${host(n)}:${n.controllerPort}`).join(',');
  const secure = layout.secure && node.securePort !== undefined ? layout.secure : undefined;
  const listeners = `PLAINTEXT://${host(node)}:${node.port},CONTROLLER://${host(node)}:${node.controllerPort}`;
  const saslSsl = secure ? `,SASL_SSL://${host(node)}:${node.securePort}` : '';
  return [
    'process.roles=broker,controller',
    `node.id=${node.nodeId}`,
    single
      ? `controller.quorum.bootstrap.servers=${host(node)}:${node.controllerPort}`
      : `controller.quorum.voters=${voters}`,
    `listeners=${listeners}${saslSsl}`,
    `advertised.listeners=${listeners}${saslSsl}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT${secure ? ',SASL_SSL:SASL_SSL' : ''}`,
    ...(secure ? secureLines(secure) : []),
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
  if (layout.secure) {
    args.push(
      '--add-scram',
      `SCRAM-SHA-512=[name=${layout.secure.username},password=${layout.secure.password}]`,
    );
  }
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

/** Starts one formatted node detached (inside its network namespace, if any); returns its pid. */
export function startNode(libs: string, node: KafkaNodeSpec, heap = '768m'): number {
  const props = path.join(node.dir, 'server.properties');
  const log4j = path.join(node.dir, 'log4j2.properties');
  const command = ['java', ...java(libs, 'kafka.Kafka', [props], log4j, heap)];
  // `ip netns exec` execs the command: the pid is the JVM's own.
  if (node.netns) command.unshift('ip', 'netns', 'exec', node.netns);
  return spawnDetached(command[0]!, command.slice(1), path.join(node.dir, 'server.log'));
}

/** A Kafka command-line tool class (e.g. `org.apache.kafka.tools.MetadataQuorumCommand`), run to completion. */
export function runKafkaTool(
  libs: string,
  mainClass: string,
  args: string[],
  log4jFile: string,
): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    execFile(
      'java',
      java(libs, mainClass, args, log4jFile, '128m'),
      { encoding: 'utf8', timeout: 60_000 },
      (err, stdout, stderr) => {
        const status = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ status, output: `${stdout}${stderr}` });
      },
    );
  });
}
