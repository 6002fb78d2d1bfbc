import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admin } from 'kafkajs';
import { describeTopic, ensureTopic, positionTopicPlan } from '../../src/kafka/topic-admin.js';
import { deleteTestTopics, testConfig, testKafka } from '../support/env.js';

describe('topic admin on the real broker', () => {
  const config = testConfig();
  let admin: Admin;

  beforeAll(async () => {
    admin = testKafka(config).admin();
    await admin.connect();
  });
  afterAll(async () => {
    await admin.disconnect();
    await deleteTestTopics(config);
  });

  it('creates the position topic with 3 partitions, compaction + 24 h retention', async () => {
    const brokers = (await admin.describeCluster()).brokers.length;
    const plan = positionTopicPlan(config.topic, brokers);
    expect(await ensureTopic(admin, plan)).toEqual({ topic: config.topic.name, action: 'created' });

    const meta = await admin.fetchTopicMetadata({ topics: [config.topic.name] });
    expect(meta.topics[0]!.partitions).toHaveLength(3);
    const actual = await describeTopic(admin, config.topic.name, Object.keys(plan.configs));
    expect(actual!.replicationFactor).toBe(Math.min(2, brokers));
    expect(actual!.configs['cleanup.policy']).toBe('compact,delete');
    expect(actual!.configs['retention.ms']).toBe('86400000');
    expect(actual!.configs['min.compaction.lag.ms']).toBe(String(config.topic.minCompactionLagMs));
    expect(actual!.configs['min.insync.replicas']).toBe(String(Math.max(1, Math.min(2, brokers) - 1)));
  });

  it('is idempotent, and reports but does not change different settings unless asked', async () => {
    const brokers = (await admin.describeCluster()).brokers.length;
    const plan = positionTopicPlan(config.topic, brokers);
    expect((await ensureTopic(admin, plan)).action).toBe('unchanged');

    const wanted = { ...plan, configs: { ...plan.configs, 'retention.ms': '43200000' } };
    const outcome = await ensureTopic(admin, wanted);
    expect(outcome).toMatchObject({
      action: 'differs',
      differences: [{ setting: 'retention.ms', expected: '43200000', actual: '86400000' }],
    });
    expect((await describeTopic(admin, plan.name, ['retention.ms']))!.configs['retention.ms']).toBe(
      '86400000',
    );

    expect((await ensureTopic(admin, wanted, { alter: true })).action).toBe('altered');
    const after = await describeTopic(admin, plan.name, Object.keys(plan.configs));
    expect(after!.configs['retention.ms']).toBe('43200000');
    expect(after!.configs['cleanup.policy']).toBe('compact,delete');
  });
});
