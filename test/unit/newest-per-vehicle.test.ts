import { describe, expect, it } from 'vitest';
import { compareOffsets, type PositionRecord } from '../../src/domain/records.js';
import { newestPerVehicle } from '../../src/state/newest-per-vehicle.js';

function rec(vehicleId: string, ts: number, partition: number, offset: number): PositionRecord {
  return {
    topic: 't',
    topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
    partition,
    offset: String(offset),
    kafkaTs: ts,
    bytes: 1,
    position: { vehicleId, ts, lat: 0, lon: 0 },
  };
}

/** The table's rule, applied record by record: the reference the reduction must match. */
function applyAll(state: Map<string, PositionRecord>, records: readonly PositionRecord[]): number {
  let applied = 0;
  for (const r of records) {
    const cur = state.get(r.position.vehicleId);
    const newer =
      cur === undefined ||
      r.position.ts > cur.position.ts ||
      (r.position.ts === cur.position.ts &&
        r.partition === cur.partition &&
        compareOffsets(r.offset, cur.offset) > 0);
    if (newer) {
      state.set(r.position.vehicleId, r);
      applied++;
    }
  }
  return applied;
}

describe('newestPerVehicle', () => {
  it('keeps one record per vehicle: the newest ts, then the highest offset of its partition', () => {
    const batch = [
      rec('a', 5, 0, 10),
      rec('b', 1, 1, 3),
      rec('a', 9, 0, 11),
      rec('a', 9, 0, 12),
      rec('a', 2, 0, 13),
    ];
    expect(newestPerVehicle(batch)).toEqual([batch[3], batch[1]]);
  });

  it('keeps equal-ts records of different partitions, in batch order', () => {
    const batch = [rec('a', 9, 1, 50), rec('a', 9, 0, 7), rec('a', 9, 1, 51), rec('a', 3, 2, 1)];
    expect(newestPerVehicle(batch)).toEqual(batch.slice(0, 3));
  });

  it('leaves the same final states as applying the whole batch, from any starting state', () => {
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return Math.floor((seed / 2 ** 31) * n);
    };
    for (let round = 0; round < 500; round++) {
      const stored = new Map<string, PositionRecord>();
      for (const id of ['a', 'b', 'c']) {
        if (random(3) > 0) stored.set(id, rec(id, random(4), random(2), random(20)));
      }
      const batch = Array.from({ length: 1 + random(12) }, () =>
        rec(['a', 'b', 'c'][random(3)]!, random(4), random(2), random(20)),
      );
      const full = new Map(stored);
      applyAll(full, batch);
      const reduced = new Map(stored);
      applyAll(reduced, newestPerVehicle(batch));
      expect(reduced).toEqual(full);
    }
  });
});
