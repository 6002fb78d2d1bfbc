import type { Kafka } from 'kafkajs';
import { readTopicToEnd } from '../../src/kafka/read-topic-to-end.js';
import type { TopicPlan } from '../../src/kafka/topic-admin.js';

/** DescribeConfigs/AlterConfigs resource type of a topic. */
const TOPIC_RESOURCE = 2;

/**
 * Makes the log cleaner compact these topics now and waits until it did: segments roll after
 * 100 ms (one tombstone per partition, for a key no vehicle has, is appended after that so the
 * segment holding the data closes), any dirt is worth cleaning, no compaction lag. Done when no key
 * occurs twice in any of the topics. Returns the records per topic afterwards.
 */
export async function forceCompaction(
  kafka: Kafka,
  plans: readonly TopicPlan[],
  options: { timeoutMs?: number } = {},
): Promise<Map<string, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (const plan of plans) {
      const configs = {
        ...plan.configs,
        'segment.ms': '100',
        'min.cleanable.dirty.ratio': '0.01',
        'min.compaction.lag.ms': '0',
      };
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: TOPIC_RESOURCE,
            name: plan.name,
            configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })),
          },
        ],
      });
    }
  } finally {
    await admin.disconnect();
  }
  await new Promise((r) => setTimeout(r, 200)); // the data's segments are now older than segment.ms
  const producer = kafka.producer();
  await producer.connect();
  try {
    for (const plan of plans) {
      const partitions = Array.from({ length: plan.partitions }, (_, p) => p);
      await producer.send({
        topic: plan.name,
        acks: -1,
        messages: partitions.map((partition) => ({ key: `roll-${partition}`, value: null, partition })),
      });
    }
  } finally {
    await producer.disconnect();
  }
  const deadline = Date.now() + (options.timeoutMs ?? 180_000);
  for (;;) {
    const counts = await Promise.all(plans.map((plan) => recordsPerKey(kafka, plan.name)));
    if (counts.every((perKey) => [...perKey.values()].every((n) => n === 1))) {
      return new Map(plans.map((plan, i) => [plan.name, counts[i]!.size]));
    }
    if (Date.now() > deadline)
      throw new Error(`the log cleaner did not compact ${plans.map((p) => p.name).join(', ')} in time`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Records per key of a topic (tombstones included). */
async function recordsPerKey(kafka: Kafka, topic: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  await readTopicToEnd(kafka, topic, (_, m) => {
    const key = m.key?.toString() ?? '';
    counts.set(key, (counts.get(key) ?? 0) + 1);
  });
  return counts;
}
