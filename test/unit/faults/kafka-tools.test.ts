import { describe, expect, it } from 'vitest';
import { parseTopicDescription } from '../../../faults/kafka-tools.js';

/** Output of `kafka-topics --describe` (Kafka 4.1.1) during the RF=2 second failure, as captured. */
const OUTPUT = [
  '[2026-12-01 21:34:51,021] WARN [AdminClient clientId=adminclient-1] Connection to node -2 (/127.0.0.1:38059) could not be established.',
  'Topic: t\tTopicId: DSXy8hAWTtOMYcM8ATv-Rg\tPartitionCount: 3\tReplicationFactor: 2\tConfigs: min.insync.replicas=1',
  '\tTopic: t\tPartition: 0\tLeader: none\tReplicas: 1,2\tIsr: \tElr: 2\tLastKnownElr: 2',
  '\tTopic: t\tPartition: 2\tLeader: 3\tReplicas: 3,1\tIsr: 3,1\tElr: \tLastKnownElr: ',
  '\tTopic: t\tPartition: 1\tLeader: 3\tReplicas: 2,3\tIsr: 3\tElr: \tLastKnownElr: ',
].join('\n');

describe('kafka-topics --describe, read where kafkajs cannot (a partition without a leader)', () => {
  it('gives every partition, a missing leader as -1, ISR and ELR as ids', () => {
    expect(parseTopicDescription(OUTPUT)).toEqual([
      { partition: 0, leader: -1, replicas: [1, 2], isr: [], elr: [2] },
      { partition: 1, leader: 3, replicas: [2, 3], isr: [3], elr: [] },
      { partition: 2, leader: 3, replicas: [3, 1], isr: [3, 1], elr: [] },
    ]);
  });
});
