import { describe, expect, it } from 'vitest';
import { commitsWithinBounds, outageBounds } from '../../../faults/outage-bound.js';
import type { RawShard } from '../../../faults/redis-table.js';
import type { TopicRecord } from '../../../faults/topic.js';

const shard = (partition: number, held: Record<string, [ts: number, offset: number]>): RawShard => ({
  partition,
  states: {},
  versions: Object.fromEntries(Object.entries(held).map(([id, [, o]]) => [id, `${partition}:${o}`])),
  seen: new Map(Object.entries(held).map(([id, [ts]]) => [id, ts])),
  ids: new Set(Object.keys(held)),
  geo: new Map(),
});
const record = (partition: number, offset: number, vehicleId: string, ts: number): TopicRecord => ({
  partition,
  offset: String(offset),
  position: { vehicleId, ts, lat: 1, lon: 2 },
});

describe('commit bounds while Redis is down', () => {
  // Partition 0 held a@ts100 (offset 4) and b@ts200 (offset 6); after it: a late report of b
  // (offset 7, changes nothing), then a newer a (offset 8, Redis cannot have it), then c.
  const snapshot = [shard(0, { a: [100, 4], b: [200, 6] }), shard(1, {})];
  const records = [
    record(0, 3, 'a', 90),
    record(0, 8, 'a', 150),
    record(0, 7, 'b', 150),
    record(0, 9, 'c', 10),
    record(1, 0, 'z', 5),
    { partition: 1, offset: '1', invalid: 'not JSON' },
  ];

  it('bounds each partition by the first record after what Redis held that would change the table', () => {
    expect(outageBounds(snapshot, records)).toEqual([
      { partition: 0, held: 6n, bound: 8n },
      { partition: 1, held: -1n, bound: 0n },
    ]);
  });

  it('a report at the held event time from a later offset would change the table (higher offset wins)', () => {
    const [b] = outageBounds([shard(0, { a: [100, 4] })], [record(0, 5, 'a', 100)]);
    expect(b!.bound).toBe(5n);
    const [none] = outageBounds([shard(0, { a: [100, 9] })], [record(0, 5, 'a', 100)]);
    expect(none!.bound).toBeUndefined();
  });

  it('passes commits up to the bound and fails one past it', () => {
    const bounds = outageBounds(snapshot, records);
    expect(commitsWithinBounds('0:8,1:0', bounds).ok).toBe(true);
    const past = commitsWithinBounds('0:9,1:0', bounds);
    expect(past.ok).toBe(false);
    expect(past.detail).toMatch(/committed past what Redis held: p0/);
    expect(commitsWithinBounds('0:8,1:1', bounds).ok).toBe(false);
    // -1: nothing committed yet.
    expect(commitsWithinBounds('0:-1,1:-1', bounds).ok).toBe(true);
  });
});
