import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { Partitioners, type Admin, type Kafka } from 'kafkajs';
import type { TopicConfig } from '../src/config/config.js';
import { createKafka } from '../src/kafka/client.js';
import { ensureTopic, topicPlans } from '../src/kafka/topic-admin.js';
import { isAlive, spawnDetached, waitFor } from '../src/local/processes.js';
import { readState, servicesDown, servicesUp, restartKafkaNode } from '../src/local/services.js';
import { silentLogger, type Logger } from '../src/logger.js';
import { errorMessage } from '../src/errors.js';
import { retry } from '../src/retry.js';
import { liveBrokers } from './kafka-tools.js';

/**
 * The suite's own services (never the shared development broker or Redis): a KRaft cluster of one
 * or three nodes and a redis-server, all under the suite's home, with the faults we inject.
 */
export interface SuiteServices {
  home: string;
  brokers: string[];
  redisUrl: string;
}

/** Starts (or reuses) `brokers` Kafka nodes and Redis under `home`; a different size restarts Kafka fresh. */
export async function ensureServices(home: string, brokers: number, logger: Logger): Promise<SuiteServices> {
  // A random KRaft cluster id starting with '-' is taken for an option by kafka-storage (1 in 64
  // starts): a new attempt draws a new id.
  const state = await retry(
    () => servicesUp({ home, brokers, kafkaPort: 0, redis: true, kafka: true, logger }),
    {
      retries: 2,
      initialMs: 100,
      shouldRetry: (err) => /formatting KRaft storage/.test(errorMessage(err)),
    },
  );
  return { home, brokers: state.kafka!.brokers, redisUrl: state.redis!.url };
}

export async function stopServices(home: string, logger: Logger): Promise<void> {
  await servicesDown(home, logger);
}

export function admin(services: SuiteServices): Admin {
  return suiteKafka(services).admin();
}

/** A Kafka client of the suite's brokers with patient retries. */
export function suiteKafka(services: SuiteServices): Kafka {
  return createKafka(
    { brokers: services.brokers, clientId: 'fleet-faults', ssl: false },
    { logger: silentLogger, retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 2000 } },
  );
}

/** Creates the scenario's position topic and DLQ with the project's topic plan. */
export async function createTopics(services: SuiteServices, topic: TopicConfig): Promise<void> {
  const client = admin(services);
  await client.connect();
  try {
    const brokers = services.brokers.length;
    for (const plan of topicPlans(topic, brokers)) {
      // A fresh KRaft cluster may answer UNKNOWN_TOPIC_OR_PARTITION while its brokers learn the
      // new topic (kafkajs only waits out LEADER_NOT_AVAILABLE): try again, ensureTopic is idempotent.
      await retry(() => ensureTopic(client, plan), {
        retries: 10,
        initialMs: 500,
        shouldRetry: (err) => (err as { retriable?: boolean }).retriable === true,
      });
    }
  } finally {
    await client.disconnect();
  }
}

// --- Kafka nodes -----------------------------------------------------------------------------

export function brokerPid(home: string, nodeId: number): number {
  const node = readState(home).kafka?.nodes.find((n) => n.nodeId === nodeId);
  if (!node) throw new Error(`no Kafka node ${nodeId} under ${home}`);
  return node.pid;
}

/** kill -9: SIGKILL (no SIGTERM first, so no shutdown hook runs), then wait until the pid is gone. */
export async function sigkill(pid: number): Promise<void> {
  process.kill(pid, 'SIGKILL');
  while (isAlive(pid)) await new Promise((r) => setTimeout(r, 50));
}

/** kill -9 of one Kafka node: no shutdown, no leadership hand-over. */
export async function killBroker(home: string, nodeId: number): Promise<void> {
  await sigkill(brokerPid(home, nodeId));
}

/** Starts a killed node again on its old ports and data; resolves once it is back in the cluster. */
export async function restartBroker(services: SuiteServices, nodeId: number): Promise<void> {
  await restartKafkaNode(services.home, nodeId);
  const client = admin(services);
  await waitFor(
    async () => {
      await client.connect();
      // kafkajs fails the whole Metadata answer while any partition has no leader (a second
      // failure under RF=2): then ask Kafka's own tool, which lists the brokers regardless.
      const brokers = await client
        .describeCluster()
        .then((c) => c.brokers.map((b) => b.nodeId))
        .catch(() => liveBrokers(services));
      return brokers.includes(nodeId);
    },
    `Kafka node ${nodeId} to rejoin`,
    // After two of three nodes died the quorum has to re-form first; slow on a loaded machine.
    300_000,
    500,
  ).finally(() => client.disconnect());
}

/** The partition a key lands on, as every Kafka client computes it (murmur2, like the publisher). */
export function partitionFor(topic: string, partitions: number): (key: string | Buffer) => number {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
    partitionId,
    leader: 0,
    partitionErrorCode: 0,
    replicas: [],
    isr: [],
  }));
  return (key) => partitioner({ topic, partitionMetadata, message: { key: Buffer.from(key), value: null } });
}

/** `partitionLeaders`' answer as one line for a check's detail. */
export const describeIsr = (isr: { partition: number; leader: number; isr: number[] }[]): string =>
  isr.map((p) => `p${p.partition}: leader ${p.leader} isr [${p.isr.join(',')}]`).join('; ');

/** Leader node of each partition of a topic, and its in-sync replicas. */
export async function partitionLeaders(
  client: Admin,
  topic: string,
): Promise<{ partition: number; leader: number; isr: number[] }[]> {
  const meta = await client.fetchTopicMetadata({ topics: [topic] });
  return (meta.topics[0]?.partitions ?? []).map((p) => ({
    partition: p.partitionId,
    leader: p.leader,
    isr: p.isr,
  }));
}

/** Sum over partitions of (end offset - committed offset) of a consumer group. */
export async function consumerLag(client: Admin, groupId: string, topic: string): Promise<number> {
  const [ends, committed] = await Promise.all([
    client.fetchTopicOffsets(topic),
    client.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  const done = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  let lag = 0;
  for (const p of ends) {
    const at = done.get(p.partition) ?? -1;
    lag += Number(p.high) - Math.max(at, Number(p.low));
  }
  return lag;
}

/** Committed offset per partition ("-1" = none yet), for "no commit during the outage" checks. */
export async function committedOffsets(client: Admin, groupId: string, topic: string): Promise<string> {
  // The coordinator may move or still be loading (NOT_COORDINATOR, retriable): ask again.
  const committed = await retry(() => client.fetchOffsets({ groupId, topics: [topic] }), {
    retries: 8,
    initialMs: 250,
    shouldRetry: (err) => (err as { retriable?: boolean }).retriable === true,
  });
  return (committed[0]?.partitions ?? [])
    .sort((a, b) => a.partition - b.partition)
    .map((p) => `${p.partition}:${p.offset}`)
    .join(',');
}

export async function endOffsets(client: Admin, topic: string): Promise<number> {
  return (await client.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
}

// --- Redis -----------------------------------------------------------------------------------

export async function redisCommand(
  url: string,
  ...command: [string, ...(string | number)[]]
): Promise<unknown> {
  const client = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.call(...command);
  } finally {
    client.disconnect();
  }
}

/**
 * kill -9 of the suite's redis-server: a real SIGKILL (a SIGTERM would let Redis shut down
 * cleanly: close clients, flush, log "Received SIGTERM").
 */
export async function killRedis(home: string): Promise<void> {
  const pid = readState(home).redis?.pid;
  if (pid === undefined) throw new Error(`no redis recorded under ${home}`);
  await sigkill(pid);
}

/**
 * Starts redis-server again on the same port (empty: no persistence, as in `services up`) and
 * records its pid where `services down` finds it.
 */
export async function restartRedis(home: string): Promise<void> {
  const state = readState(home);
  if (!state.redis) throw new Error(`no redis recorded under ${home}`);
  if (isAlive(state.redis.pid)) return;
  const dir = path.resolve(home, 'redis');
  mkdirSync(dir, { recursive: true });
  const port = String(state.redis.port);
  const pid = spawnDetached(
    'redis-server',
    ['--port', port, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    path.join(dir, 'redis.log'),
  );
  state.redis.pid = pid;
  // Same file `services up/down` use (src/local/services.ts keeps it under <home>/run).
  writeFileSync(path.resolve(home, 'run', 'services.json'), JSON.stringify(state, null, 2));
  await waitFor(
    async () => (await redisCommand(state.redis!.url, 'PING')) === 'PONG',
    'redis-server to restart',
    20_000,
    100,
  );
}
