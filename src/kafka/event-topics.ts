import type { TopicConfig } from '../config/config.js';
import type { TopicPlan } from './topic-admin.js';

const isr = (rf: number) => String(Math.max(1, rf - 1));

/**
 * The topics of the events processor: `vehicle_events` (7 days, plain delete), `geofences`
 * (compacted: the latest Feature per id, tombstones delete) and the state changelog (compacted,
 * as many partitions as the position topic: partition p restores task p).
 */
export function eventTopicPlans(
  topic: TopicConfig,
  names: { events: string; geofences: string; changelog: string },
  brokerCount: number,
): TopicPlan[] {
  const rf = topic.replicationFactor ?? Math.min(2, brokerCount);
  return [
    eventsTopicPlan(topic, names.events, brokerCount),
    geofencesTopicPlan(topic, names.geofences, brokerCount),
    {
      name: names.changelog,
      partitions: topic.partitions,
      replicationFactor: rf,
      configs: { 'cleanup.policy': 'compact', 'min.insync.replicas': isr(rf) },
    },
  ];
}

/** The compacted geofences topic (one partition: the latest Feature per id, tombstones delete). */
export function geofencesTopicPlan(topic: TopicConfig, name: string, brokerCount: number): TopicPlan {
  const rf = topic.replicationFactor ?? Math.min(2, brokerCount);
  return {
    name,
    partitions: 1,
    replicationFactor: rf,
    configs: { 'cleanup.policy': 'compact', 'min.insync.replicas': isr(rf) },
  };
}

/** `vehicle_events`: 7 days, plain delete, as many partitions as the position topic. */
export function eventsTopicPlan(topic: TopicConfig, name: string, brokerCount: number): TopicPlan {
  const rf = topic.replicationFactor ?? Math.min(2, brokerCount);
  return {
    name,
    partitions: topic.partitions,
    replicationFactor: rf,
    configs: {
      'cleanup.policy': 'delete',
      'retention.ms': String(7 * 24 * 3600_000),
      'min.insync.replicas': isr(rf),
    },
  };
}
