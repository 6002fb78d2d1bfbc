import { afterEach, describe, expect, it } from 'vitest';
import { readGroupLag } from '../../src/processor/group-lag.js';
import {
  clearRedisPrefix,
  createTestTopics,
  deleteTestTopics,
  eventually,
  testConfig,
  testKafka,
} from '../support/env.js';
import { fleetPositions, produce, startTestPipeline } from '../support/processor-env.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

describe('group lag read by the processor', () => {
  it('counts every record before the group commits, then 0 per partition, also as the metric', async () => {
    const config = testConfig({ BATCH_MAX_WAIT_MS: '300', GROUP_LAG_INTERVAL_MS: '200' });
    await createTestTopics(config);
    cleanups.push(
      () => deleteTestTopics(config),
      () => clearRedisPrefix(config),
    );
    await produce(config, fleetPositions(10, 9)); // 90 records over 3 partitions
    const admin = testKafka(config).admin();
    await admin.connect();
    cleanups.push(() => admin.disconnect());
    const before = await readGroupLag(admin, config.consumer.groupId, config.topic.name);
    expect([...before.keys()].sort()).toEqual([0, 1, 2]);
    expect([...before.values()].reduce((a, b) => a + b, 0)).toBe(90);

    const { registry, close } = await startTestPipeline(config);
    cleanups.push(close);
    await eventually(async () => {
      const lag = await readGroupLag(admin, config.consumer.groupId, config.topic.name);
      return [...lag.values()].every((v) => v === 0);
    }, 30_000);
    await eventually(async () => {
      const metric = await registry.getSingleMetric('fleet_processor_group_lag')!.get();
      const values = metric.values.filter((v) => v.labels.topic === config.topic.name);
      return values.length === 3 && values.every((v) => v.value === 0);
    }, 10_000);
  }, 90_000);
});
