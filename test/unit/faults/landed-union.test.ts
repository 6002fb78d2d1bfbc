import { describe, expect, it } from 'vitest';
import type { LandedRow } from '../../../faults/checker.js';
import { unionByRecord } from '../../../faults/landed.js';

const row = (partition: number, offset: number, vehicleId = `v${offset}`, ts = 1000 + offset): LandedRow => ({
  vehicleId,
  ts,
  partition,
  offset: String(offset),
});

describe('unionByRecord (one DuckDB file per processor)', () => {
  it('stores a record written by two processors once and counts it', () => {
    const u = unionByRecord([[row(0, 1), row(0, 2)], [row(0, 2), row(1, 2)], []]);
    expect(u.rows).toHaveLength(3);
    expect(u.inSeveralFiles).toBe(1);
    expect(u.conflicting).toEqual([]);
  });

  it('keeps a record twice in one file visible (the sink is idempotent per file)', () => {
    const u = unionByRecord([[row(0, 1), row(0, 1)], [row(0, 1)]]);
    expect(u.rows).toHaveLength(2);
    expect(u.inSeveralFiles).toBe(1);
  });

  it('reports a record stored as different positions', () => {
    const u = unionByRecord([[row(0, 1)], [row(0, 1, 'other')]]);
    expect(u.conflicting).toEqual(['0:1']);
  });
});
