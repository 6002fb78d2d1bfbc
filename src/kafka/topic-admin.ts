import type { Admin, ITopicConfig } from 'kafkajs';
import type { TopicConfig } from '../config/config.js';

/** DescribeConfigs resource type of a topic (kafkajs ConfigResourceTypes.TOPIC). */
const TOPIC_RESOURCE = 2;

/** The topic configs we manage, as Kafka names them. */
export type ManagedConfigs = Record<string, string>;

export interface TopicPlan {
  name: string;
  partitions: number;
  replicationFactor: number;
  configs: ManagedConfigs;
}

/**
 * The position topic's design: compaction (latest per vehicle survives) plus 24 h deletion (the
 * window the warehouse and replays rely on). `min.compaction.lag.ms` keeps every intermediate
 * position uncompacted for a while, so a processor that lags less than that never misses one;
 * `min.insync.replicas` is RF-1 (at least 1) so acks=all survives one broker loss.
 */
export function positionTopicPlan(topic: TopicConfig, brokerCount: number): TopicPlan {
  const replicationFactor = topic.replicationFactor ?? Math.min(2, brokerCount);
  return {
    name: topic.name,
    partitions: topic.partitions,
    replicationFactor,
    configs: {
      'cleanup.policy': 'compact,delete',
      'retention.ms': String(topic.retentionMs),
      'min.compaction.lag.ms': String(topic.minCompactionLagMs),
      'min.insync.replicas': String(Math.max(1, replicationFactor - 1)),
      'message.timestamp.type': 'CreateTime',
    },
  };
}

/** Dead letters are kept for a week, never compacted: each one is evidence. */
export function dlqTopicPlan(topic: TopicConfig, brokerCount: number): TopicPlan {
  const replicationFactor = topic.replicationFactor ?? Math.min(2, brokerCount);
  return {
    name: topic.dlq,
    partitions: 1,
    replicationFactor,
    configs: {
      'cleanup.policy': 'delete',
      'retention.ms': String(7 * 24 * 3600_000),
      'min.insync.replicas': String(Math.max(1, replicationFactor - 1)),
    },
  };
}

/**
 * The latest-state table's changelog (STATE_CHANGELOG_TOPIC): compacted only, never deleted by
 * age (it is the table: one record per vehicle), as many partitions as the position topic since
 * partition `p` logs shard `p`. `min.compaction.lag.ms` 0: no history is needed, only the newest.
 */
export function changelogTopicPlan(
  topic: TopicConfig & { changelog: string },
  brokerCount: number,
): TopicPlan {
  const replicationFactor = topic.replicationFactor ?? Math.min(2, brokerCount);
  return {
    name: topic.changelog,
    partitions: topic.partitions,
    replicationFactor,
    configs: {
      'cleanup.policy': 'compact',
      'min.compaction.lag.ms': '0',
      'min.insync.replicas': String(Math.max(1, replicationFactor - 1)),
    },
  };
}

/** Every topic the pipeline needs: positions, DLQ and (when on) the table's changelog. */
export function topicPlans(topic: TopicConfig, brokerCount: number): TopicPlan[] {
  const plans = [positionTopicPlan(topic, brokerCount), dlqTopicPlan(topic, brokerCount)];
  const { changelog } = topic;
  if (changelog !== undefined) plans.push(changelogTopicPlan({ ...topic, changelog }, brokerCount));
  return plans;
}

export interface TopicDescription {
  name: string;
  partitions: { partition: number; leader: number; replicas: number[]; isr: number[] }[];
  replicationFactor: number;
  configs: ManagedConfigs;
}

export interface Difference {
  setting: string;
  expected: string;
  actual: string;
}

export type EnsureOutcome =
  | { topic: string; action: 'created' }
  | { topic: string; action: 'unchanged' }
  | { topic: string; action: 'differs'; differences: Difference[] }
  | { topic: string; action: 'altered'; differences: Difference[] };

export async function describeTopic(
  admin: Admin,
  name: string,
  configNames: readonly string[],
): Promise<TopicDescription | null> {
  const existing = await admin.listTopics();
  if (!existing.includes(name)) return null;
  const meta = await admin.fetchTopicMetadata({ topics: [name] });
  const partitions = (meta.topics[0]?.partitions ?? [])
    .map((p) => ({ partition: p.partitionId, leader: p.leader, replicas: p.replicas, isr: p.isr }))
    .sort((a, b) => a.partition - b.partition);
  const described = await admin.describeConfigs({
    resources: [{ type: TOPIC_RESOURCE, name, configNames: [...configNames] }],
    includeSynonyms: false,
  });
  const configs: ManagedConfigs = {};
  for (const entry of described.resources[0]?.configEntries ?? [])
    configs[entry.configName] = entry.configValue;
  return { name, partitions, replicationFactor: partitions[0]?.replicas.length ?? 0, configs };
}

function differences(plan: TopicPlan, actual: TopicDescription): Difference[] {
  const out: Difference[] = [];
  if (actual.partitions.length !== plan.partitions) {
    out.push({
      setting: 'partitions',
      expected: String(plan.partitions),
      actual: String(actual.partitions.length),
    });
  }
  if (actual.replicationFactor !== plan.replicationFactor) {
    out.push({
      setting: 'replication.factor',
      expected: String(plan.replicationFactor),
      actual: String(actual.replicationFactor),
    });
  }
  for (const [key, value] of Object.entries(plan.configs)) {
    if (actual.configs[key] !== value)
      out.push({ setting: key, expected: value, actual: actual.configs[key] ?? '(unset)' });
  }
  return out;
}

/**
 * Creates the topic if missing. If it exists with other settings, reports them and changes nothing,
 * unless `alter`: then configs are altered and partitions increased (a replication factor change or
 * a partition decrease needs a reassignment and is only reported).
 */
export async function ensureTopic(
  admin: Admin,
  plan: TopicPlan,
  options: { alter?: boolean } = {},
): Promise<EnsureOutcome> {
  const actual = await describeTopic(admin, plan.name, Object.keys(plan.configs));
  if (!actual) {
    const spec: ITopicConfig = {
      topic: plan.name,
      numPartitions: plan.partitions,
      replicationFactor: plan.replicationFactor,
      configEntries: Object.entries(plan.configs).map(([name, value]) => ({ name, value })),
    };
    const created = await admin.createTopics({ topics: [spec], waitForLeaders: true });
    // false = someone else created it between our check and our call: compare with theirs.
    if (created) return { topic: plan.name, action: 'created' };
    return ensureTopic(admin, plan, options);
  }
  const diff = differences(plan, actual);
  if (diff.length === 0) return { topic: plan.name, action: 'unchanged' };
  if (!options.alter) return { topic: plan.name, action: 'differs', differences: diff };
  const configDiff = diff.filter((d) => d.setting in plan.configs);
  if (configDiff.length > 0) {
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: TOPIC_RESOURCE,
          name: plan.name,
          // AlterConfigs replaces the whole set: send every managed value, not only the changed ones.
          configEntries: Object.entries(plan.configs).map(([name, value]) => ({ name, value })),
        },
      ],
    });
  }
  if (actual.partitions.length < plan.partitions) {
    await admin.createPartitions({ topicPartitions: [{ topic: plan.name, count: plan.partitions }] });
  }
  return { topic: plan.name, action: 'altered', differences: diff };
}

export async function brokerCount(admin: Admin): Promise<number> {
  return (await admin.describeCluster()).brokers.length;
}
