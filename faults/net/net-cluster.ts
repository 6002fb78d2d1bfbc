import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { processEnv } from '../../src/config/environment.js';
import { createKafka } from '../../src/kafka/client.js';
import { ensureKafkaLibs } from '../../src/local/kafka-jars.js';
import { formatNode, newClusterId, startNode, type KafkaNodeSpec } from '../../src/local/kafka-node.js';
import { isAlive, spawnDetached, stopProcess, waitFor } from '../../src/local/processes.js';
import { silentLogger, type Logger } from '../../src/logger.js';
import type { SuiteServices } from '../cluster.js';
import { createTopology, HOSTS, removeTopology, type NetHost } from './topology.js';

const KAFKA_PORT = 9092;
const CONTROLLER_PORT = 9093;
const REDIS_PORT = 6379;
const BROKER_HOSTS: readonly NetHost[] = [HOSTS.k1, HOSTS.k2, HOSTS.k3];

/** Three KRaft nodes and a redis-server, each its own host (namespace); the suite reaches them over the bridge. */
export interface NetCluster extends SuiteServices {
  libs: string;
  nodes: (KafkaNodeSpec & { pid: number; host: string })[];
  redisPid: number;
}

const stateFile = (home: string) => path.join(home, 'net-cluster.json');

/** Kills what a previous (killed) run left running, then removes its namespaces. */
export async function removeLeftovers(home: string): Promise<void> {
  if (existsSync(stateFile(home))) {
    const pids = JSON.parse(readFileSync(stateFile(home), 'utf8')) as number[];
    await Promise.all(pids.filter(isAlive).map((pid) => stopProcess(pid, 2000)));
    rmSync(stateFile(home));
  }
  removeTopology();
}

export async function startNetCluster(home: string, logger: Logger): Promise<NetCluster> {
  await removeLeftovers(home);
  createTopology();
  const libs = ensureKafkaLibs(path.join(home, 'cache'), logger, processEnv());
  const base = path.join(home, 'net');
  rmSync(base, { recursive: true, force: true });
  const specs: (KafkaNodeSpec & { host: string })[] = BROKER_HOSTS.map((h, i) => ({
    nodeId: i + 1,
    port: KAFKA_PORT,
    controllerPort: CONTROLLER_PORT,
    dir: path.join(base, `node-${i + 1}`),
    host: h.ip,
    netns: h.ns,
  }));
  const layout = { clusterId: newClusterId(), nodes: specs };
  for (const node of specs) formatNode(libs, node, layout);
  const nodes = specs.map((node) => ({ ...node, pid: startNode(libs, node) }));
  const redisDir = path.join(base, 'redis');
  mkdirSync(redisDir, { recursive: true });
  const redisPid = spawnDetached(
    'ip',
    ['netns', 'exec', HOSTS.redis.ns, 'redis-server', '--port', String(REDIS_PORT), '--bind', HOSTS.redis.ip]
      // Protected mode refuses clients from other hosts when there is no password.
      .concat(['--protected-mode', 'no', '--save', '', '--appendonly', 'no', '--dir', redisDir]),
    path.join(redisDir, 'redis.log'),
  );
  writeFileSync(stateFile(home), JSON.stringify([...nodes.map((n) => n.pid), redisPid]));
  const cluster: NetCluster = {
    home: base,
    brokers: nodes.map((n) => `${n.host}:${KAFKA_PORT}`),
    redisUrl: `redis://${HOSTS.redis.ip}:${REDIS_PORT}`,
    libs,
    nodes,
    redisPid,
  };
  try {
    await waitFor(
      async () => {
        const dead = nodes.find((n) => !isAlive(n.pid));
        if (dead)
          throw new Error(`Kafka node ${dead.nodeId} exited; see ${path.join(dead.dir, 'server.log')}`);
        return (await describeBrokers(cluster.brokers)) === nodes.length;
      },
      'the namespaced Kafka cluster to accept metadata requests',
      120_000,
      500,
    );
  } catch (err) {
    await stopNetCluster(home, cluster);
    throw err;
  }
  return cluster;
}

/** Unfenced brokers the cluster reports (0 when it does not answer). */
export async function describeBrokers(brokers: string[]): Promise<number> {
  const admin = createKafka(
    { brokers, clientId: 'fleet-faults-net', ssl: false },
    { logger: silentLogger, retry: { retries: 0 }, connectionTimeout: 1000 },
  ).admin();
  try {
    await admin.connect();
    return (await admin.describeCluster()).brokers.length;
  } catch {
    return 0;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export async function stopNetCluster(home: string, cluster: NetCluster): Promise<void> {
  await Promise.all(
    [...cluster.nodes.map((n) => n.pid), cluster.redisPid].map((pid) => stopProcess(pid, 5000)),
  );
  rmSync(stateFile(home), { force: true });
  removeTopology();
}

/**
 * The KRaft quorum as one node last recorded it: leader and epoch from its `quorum-state` file
 * (written on every election; reading it costs nothing, unlike a kafka-metadata-quorum JVM).
 */
export function quorumStatus(
  cluster: NetCluster,
  via: NetHost,
): { leaderId: number; epoch: number } | undefined {
  const node = cluster.nodes.find((n) => n.host === via.ip)!;
  try {
    const state = JSON.parse(
      readFileSync(path.join(node.dir, 'data', '__cluster_metadata-0', 'quorum-state'), 'utf8'),
    ) as { leaderId: number; leaderEpoch: number };
    return state.leaderId >= 0 ? { leaderId: state.leaderId, epoch: state.leaderEpoch } : undefined;
  } catch {
    return undefined;
  }
}

export const brokerHost = (nodeId: number): NetHost => BROKER_HOSTS[nodeId - 1]!;
export const brokerHosts = BROKER_HOSTS;
