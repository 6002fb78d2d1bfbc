import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import { compileConfig, readRawConfig, variables, type Config, type RawConfig } from '../src/config/index.js';
import { createKafka } from '../src/kafka/client.js';
import { ensureTopic, topicPlans } from '../src/kafka/topic-admin.js';
import type { Logger } from '../src/logger.js';
import { servicesDown, servicesUp } from '../src/local/services.js';
import { commandExists } from '../src/local/processes.js';
import { ServiceError } from '../src/errors.js';
import { retry } from '../src/retry.js';
import { prepareFleetRuntime, type FleetRuntime } from './build.js';

/** The bench's own services live here, never the shared dev broker / Redis. */
export const BENCH_HOME = '.cache/fleet-bench';

/** The bench's running Kafka + Redis and the clients every step shares. */
export interface BenchServices {
  brokers: string[];
  redisUrl: string;
  /** Kafka jars dir (ProducerPerformance, ConsumerPerformance). */
  libs: string;
  pids: { kafka: number; redis: number };
  kafka: Kafka;
  admin: Admin;
  /** Scratch dir of this run (DuckDB files, child logs). */
  workDir: string;
  /** How `fleet` children run (compiled dist/ unless the build failed). */
  runtime: FleetRuntime;
  logger: Logger;
}

export async function startBenchServices(logger: Logger): Promise<BenchServices> {
  if (!commandExists('redis-benchmark')) {
    throw new ServiceError(
      'redis-benchmark not found: install it (Debian: apt-get install -y redis-tools) to measure the Redis ceiling.',
    );
  }
  // Never inherit a user's KAFKA_BROKERS / REDIS_URL: the bench always owns its services.
  const state = await servicesUp({ home: BENCH_HOME, logger, kafkaPort: 0, fresh: true });
  if (!state.kafka || !state.redis) throw new ServiceError('bench services did not start');
  const workDir = path.resolve(BENCH_HOME, 'work');
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  const kafka = createKafka(
    { brokers: state.kafka.brokers, clientId: 'fleet-bench', ssl: false },
    { logger, role: 'bench' },
  );
  const admin = kafka.admin();
  await admin.connect();
  const runtime = await prepareFleetRuntime(workDir, logger);
  return {
    brokers: state.kafka.brokers,
    redisUrl: state.redis.url,
    libs: state.kafka.libs,
    pids: { kafka: state.kafka.nodes[0]?.pid ?? 0, redis: state.redis.pid },
    kafka,
    admin,
    workDir,
    runtime,
    logger,
  };
}

export async function stopBenchServices(services: BenchServices, keep: boolean): Promise<void> {
  await services.admin.disconnect().catch(() => undefined);
  if (!keep) await servicesDown(BENCH_HOME, services.logger);
}

/**
 * Config for the bench's services, built from defaults plus `overrides` only: the caller's
 * environment (e.g. tuning variables) must not silently change what the bench measures.
 */
export function benchConfig(services: BenchServices, overrides: RawConfig = {}): Readonly<Config> {
  return compileConfig(readRawConfig({}, { ...benchVariables(services), ...overrides }), {});
}

function benchVariables(services: BenchServices): RawConfig {
  return {
    KAFKA_BROKERS: services.brokers.join(','),
    REDIS_URL: services.redisUrl,
    LOG_LEVEL: 'warn',
    API_AUTH: 'off',
    FLEET_HOME: BENCH_HOME,
  };
}

/** Environment of a `fleet` child: ours only, every project variable of the caller removed. */
export function childEnv(services: BenchServices, overrides: RawConfig = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const v of variables) delete env[v.name];
  delete env.NODE_OPTIONS;
  // Experiments without editing code: V8 flags (heap, GC) and config variables of the `fleet` children.
  if (process.env.BENCH_NODE_OPTIONS) env.NODE_OPTIONS = process.env.BENCH_NODE_OPTIONS;
  const extra = process.env.BENCH_FLEET_ENV ? (JSON.parse(process.env.BENCH_FLEET_ENV) as RawConfig) : {};
  return {
    ...env,
    ...benchVariables(services),
    ...overrides,
    ...extra,
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
  };
}

/** Creates a position topic (and its DLQ) with the project's own topic plan. */
export async function createPositionTopic(services: BenchServices, config: Readonly<Config>): Promise<void> {
  for (const plan of topicPlans(config.topic, 1)) await settled(() => ensureTopic(services.admin, plan));
}

/** A fresh (or busy) broker may not know a just-created topic yet: idempotent calls are retried. */
function settled<T>(fn: () => Promise<T>): Promise<T> {
  return retry(fn, { retries: 8, initialMs: 250, maxMs: 2000, shouldRetry: () => true });
}

/** A plain (delete-policy) topic: Kafka's perf tools write records without keys. */
export async function createPlainTopic(
  services: BenchServices,
  name: string,
  partitions: number,
): Promise<void> {
  await settled(async () => {
    if ((await services.admin.listTopics()).includes(name)) return;
    await services.admin.createTopics({
      topics: [{ topic: name, numPartitions: partitions, replicationFactor: 1 }],
      waitForLeaders: true,
    });
  });
}
