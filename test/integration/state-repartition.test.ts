import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import { runReplay } from '../../src/processor/replay.js';
import { partitionForKey } from '../../src/kafka/partitioner.js';
import { createRedisStateTable } from '../../src/state/redis-state-table.js';
import { TableLayoutError } from '../../src/state/table-layout.js';
import {
  clearRedisPrefix,
  createTestTopics,
  deleteTestTopics,
  eventually,
  testConfig,
  testKafka,
  testRedis,
} from '../support/env.js';
import {
  fastConsumerRetry,
  fastRetry,
  fleetPositions,
  fullyCommitted,
  newestPerVehicle,
  produce,
  startTestPipeline,
  testRegistry,
} from '../support/processor-env.js';

describe('partition count change', () => {
  const config = testConfig({ TOPIC_PARTITIONS: '2', BATCH_MAX_WAIT_MS: '200' });

  afterAll(async () => {
    await clearRedisPrefix(config);
    await deleteTestTopics(config);
  });

  it('a grown topic stops the processor until `fleet replay --rebuild` re-shards the table', async () => {
    await createTestTopics(config);
    const before = fleetPositions(120, 4);
    await produce(config, before);
    // State only: no warehouse, no dead letters.
    const first = await startTestPipeline(config, { processor: { warehouse: null, deadLetters: null } });
    await eventually(() => fullyCommitted(config), 60_000);
    await first.processor.stop();

    const admin = testKafka(config).admin();
    await admin.connect();
    await admin.createPartitions({ topicPartitions: [{ topic: config.topic.name, count: 4 }] });
    await admin.disconnect();
    // Newer positions of the same vehicles; about half of them now hash to another partition.
    // (+50 s keeps them in the past: MAX_FUTURE_SKEW_MS would dead-letter future-dated records.)
    const after = fleetPositions(120, 2).map((p) => ({ ...p, ts: p.ts + 50_000 }));
    const moved = [...newestPerVehicle(after).keys()].filter(
      (id) => partitionForKey(id, 2) !== partitionForKey(id, 4),
    );
    expect(moved.length).toBeGreaterThan(20);
    await produce(config, after);

    // A processor building its own table, as `fleet process` does: sized from the topic (now 4).
    const refused = await first.startProcessor({ table: undefined }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TableLayoutError);
    expect(String(refused)).toMatch(
      /built for 2 partitions but the topic has 4.*fleet replay --from earliest --rebuild/,
    );
    await first.close();

    const result = await runReplay(
      config,
      { from: 'earliest', rebuild: true },
      {
        logger: silentLogger,
        registry: testRegistry(),
        warehouse: null,
        deadLetters: null,
        retry: fastRetry,
        consumerRetry: fastConsumerRetry,
      },
    );
    expect(result.complete).toBe(true);

    const table = createRedisStateTable({ ...config.redis, partitions: 4, registry: testRegistry() });
    const redis = testRedis(config);
    try {
      expect(await table.layout()).toEqual({ kind: 'current', partitions: 4 });
      const newest = newestPerVehicle([...before, ...after]);
      expect(await table.count()).toBe(newest.size); // no vehicle left behind in an old shard
      const ids = [...newest.keys()];
      const states = await table.getMany(ids);
      states.forEach((s, i) => expect(s?.ts, ids[i]).toBe(newest.get(ids[i]!)!.ts));
      const listed = await table.list({ limit: 1000 });
      expect(listed.vehicles.map((v) => v.vehicleId).sort()).toEqual(ids.sort());
      for (const key of await redis.keys(`${config.redis.prefix}*`)) {
        expect(key).toMatch(/\{p[0-3]\}:|layout$/);
      }
    } finally {
      redis.disconnect();
      await table.close();
    }
  }, 180_000);
});
