import { Partitioners, type PartitionerArgs } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { murmur2, partitionForKey } from '../../src/kafka/partitioner.js';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('murmur2 (Java-compatible)', () => {
  // Values of org.apache.kafka.common.utils.Utils.murmur2, as listed in Kafka's UtilsTest.
  it.each([
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ])('hashes %j to %d', (key, expected) => {
    expect(murmur2(bytes(key))).toBe(expected);
  });

  it('gives the partition kafkajs DefaultPartitioner gives every key', () => {
    const partitioner = Partitioners.DefaultPartitioner();
    for (const partitions of [1, 3, 6, 7, 64]) {
      const partitionMetadata = Array.from({ length: partitions }, (_, i) => ({
        partitionId: i,
        leader: 1,
      })) as PartitionerArgs['partitionMetadata'];
      for (let i = 0; i < 500; i += 1) {
        const key = `veh-${i.toString(36)}-${'x'.repeat(i % 7)}é`;
        const expected = partitioner({ topic: 't', partitionMetadata, message: { key, value: null } });
        expect(partitionForKey(key, partitions)).toBe(expected);
      }
    }
  });

  it('rejects a partition count that is not a positive integer', () => {
    expect(() => partitionForKey('a', 0)).toThrow(/positive integer/);
  });
});
