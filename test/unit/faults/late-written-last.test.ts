import { describe, expect, it } from 'vitest';
import { lateWrittenLast } from '../../../faults/redis-table.js';
import { positionAt, workloadPlan } from '../../../faults/workload.js';

const at = (offset: number, vehicleId: string, ts: number) => ({
  partition: 0,
  offset: String(offset),
  position: { vehicleId, ts, lat: 1, lon: 2 },
});

describe('lateWrittenLast', () => {
  it('names the vehicles whose last-written record is older than their newest', () => {
    const records = [at(0, 'a', 10), at(1, 'b', 10), at(2, 'a', 20), at(3, 'b', 20), at(4, 'b', 5)];
    expect(lateWrittenLast(records)).toEqual(['b']);
  });

  it('finds some in the workload redis-loss runs (quick and full), written in sequence order', () => {
    for (const [total, vehicles] of [
      [60_000, 300],
      [300_000, 1000],
    ] as const) {
      const plan = workloadPlan({ total, vehicles, t0: 1_000_000 });
      const records = Array.from({ length: total }, (_, seq) => ({
        partition: 0,
        offset: String(seq),
        position: positionAt(plan, seq),
      }));
      expect(lateWrittenLast(records).length).toBeGreaterThan(0);
    }
  });
});
