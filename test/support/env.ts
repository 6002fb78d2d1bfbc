import { randomBytes } from 'node:crypto';
import type { Admin } from 'kafkajs';
import { Redis } from 'ioredis';
import { compileConfig, readRawConfig, type Config, type RawConfig } from '../../src/config/index.js';
import { createKafka } from '../../src/kafka/client.js';
import { ensureTopic, topicPlans } from '../../src/kafka/topic-admin.js';
import { silentLogger } from '../../src/logger.js';

/** A short random suffix: every test gets its own topic, group and Redis prefix. */
export function uniqueSuffix(): string {
  return randomBytes(4).toString('hex');
}

/**
 * A complete config pointed at the test services (KAFKA_BROKERS / REDIS_URL from the global setup)
 * with a unique topic, DLQ, consumer group and Redis key prefix, DuckDB in memory.
 */
export function testConfig(overrides: RawConfig = {}): Readonly<Config> {
  const id = uniqueSuffix();
  return compileConfig(
    readRawConfig(process.env, {
      TOPIC: `test_positions_${id}`,
      CONSUMER_GROUP: `test-group-${id}`,
      REDIS_PREFIX: `test:${id}:`,
      DUCKDB_PATH: ':memory:',
      LOG_LEVEL: 'silent',
      API_AUTH: 'off',
      ...overrides,
    }),
    { ...process.env, NODE_ENV: 'test' },
  );
}

export function testKafka(config: Readonly<Config>) {
  return createKafka(config.kafka, {
    logger: silentLogger,
    role: 'test',
    retry: { initialRetryTime: 100, retries: 10, maxRetryTime: 2000 },
  });
}

/** Creates the config's position topic (and DLQ) on the real broker with our topic plan. */
export async function createTestTopics(config: Readonly<Config>, admin?: Admin, attempts = 4): Promise<void> {
  // A freshly created topic's metadata can lag behind on a loaded machine ("This server does not
  // host this topic-partition"): try again, ensureTopic is idempotent.
  for (let attempt = 1; ; attempt++) {
    try {
      return await createTestTopicsOnce(config, admin);
    } catch (err) {
      if (attempt >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 250 * attempt));
    }
  }
}

async function createTestTopicsOnce(config: Readonly<Config>, admin?: Admin): Promise<void> {
  const own = admin ?? testKafka(config).admin();
  if (!admin) await own.connect();
  try {
    const brokers = (await own.describeCluster()).brokers.length;
    for (const plan of topicPlans(config.topic, brokers)) await ensureTopic(own, plan);
  } finally {
    if (!admin) await own.disconnect();
  }
}

export async function deleteTestTopics(config: Readonly<Config>): Promise<void> {
  const admin = testKafka(config).admin();
  await admin.connect();
  try {
    const { name, dlq, changelog } = config.topic;
    const topics = changelog === undefined ? [name, dlq] : [name, dlq, changelog];
    await admin.deleteTopics({ topics }).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
}

export function testRedis(config: Readonly<Config>): Redis {
  return new Redis(config.redis.url, { maxRetriesPerRequest: 3 });
}

/** Deletes every Redis key under the config's prefix. */
export async function clearRedisPrefix(config: Readonly<Config>): Promise<void> {
  const redis = testRedis(config);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${config.redis.prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Polls `check` until it returns true or `timeoutMs` passes (for asynchronous pipelines). */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
