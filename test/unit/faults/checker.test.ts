import { describe, expect, it } from 'vitest';
import { checkDeadLetters, checkWarehouse, type LandedRow } from '../../../faults/checker.js';
import { AckLedger, Outcome } from '../../../faults/ledger.js';
import { positionAt, seqOf, workloadPlan } from '../../../faults/workload.js';

const plan = workloadPlan({ total: 1000, vehicles: 10, t0: Date.UTC(2026, 0, 1) });

/** Rows as a sink would store them: position seq at partition seq % 3, a running offset. */
function rowsFor(seqs: number[]): LandedRow[] {
  return seqs.map((seq, i) => {
    const p = positionAt(plan, seq);
    return { vehicleId: p.vehicleId, ts: p.ts, partition: seq % 3, offset: String(i) };
  });
}

const all = Array.from({ length: plan.total }, (_, i) => i);

describe('workload plan', () => {
  it('maps every (vehicle, event time) back to its sequence number, and nothing else', () => {
    const seen = new Set<string>();
    for (const seq of all) {
      const p = positionAt(plan, seq);
      expect(seqOf(plan, p.vehicleId, p.ts)).toBe(seq);
      seen.add(`${p.vehicleId}@${p.ts}`);
    }
    expect(seen.size).toBe(plan.total);
    expect(seqOf(plan, 'veh-00003', plan.t0 + 1)).toBeUndefined();
    expect(seqOf(plan, 'stranger', plan.t0)).toBeUndefined();
    expect(seqOf(plan, 'veh-00099', plan.t0)).toBeUndefined();
  });

  it('sends some positions late, behind the vehicle’s newest', () => {
    let late = 0;
    const newest = new Map<string, number>();
    for (const seq of all) {
      const p = positionAt(plan, seq);
      if ((newest.get(p.vehicleId) ?? -Infinity) > p.ts) late++;
      else newest.set(p.vehicleId, p.ts);
    }
    expect(late).toBeGreaterThan(5);
    expect(late).toBeLessThan(100);
  });
});

describe('warehouse check', () => {
  it('counts nothing lost or duplicated when every acknowledged position landed once', () => {
    const ledger = new AckLedger(plan.total);
    ledger.mark(0, plan.total, Outcome.acknowledged);
    const v = checkWarehouse(plan, ledger, rowsFor(all));
    expect(v).toMatchObject({
      rows: 1000,
      landed: 1000,
      lost: 0,
      duplicated: 0,
      duplicateOffsets: 0,
      foreign: 0,
    });
  });

  it('finds lost, duplicated, redelivered-offset and foreign rows', () => {
    const ledger = new AckLedger(plan.total);
    ledger.mark(0, 900, Outcome.acknowledged);
    ledger.mark(900, 950, Outcome.failed);
    const rows = rowsFor(all.filter((s) => s !== 5 && s !== 17 && s < 940));
    rows.push({ ...rows[10]! }); // same record twice: idempotence failure
    rows.push({ ...rows[11]!, offset: '99999' }); // same position, second Kafka record
    rows.push({ vehicleId: 'intruder', ts: 1, partition: 0, offset: '123456' });
    const v = checkWarehouse(plan, ledger, rows);
    expect(v.lost).toBe(2);
    expect(v.lostSample).toEqual([5, 17]);
    expect(v.duplicated).toBe(2);
    expect(v.duplicateOffsets).toBe(1);
    expect(v.foreign).toBe(1);
    expect(v.unacknowledgedLanded).toBe(40);
    expect(v.landed).toBe(938);
  });

  it('never counts an indeterminate (failed or pending) write as lost', () => {
    const ledger = new AckLedger(plan.total);
    ledger.mark(0, 500, Outcome.failed);
    ledger.mark(500, 1000, Outcome.pending);
    expect(checkWarehouse(plan, ledger, []).lost).toBe(0);
    expect(ledger.counts()).toEqual({ produced: 1000, acknowledged: 0, failed: 500, pending: 500 });
  });
});

describe('dead-letter check', () => {
  const expected = new Map([
    ['0:1', 'truncated JSON'],
    ['1:4', 'NaN literal'],
    ['2:9', 'missing key'],
  ]);

  it('accepts one dead letter with a reason per bad record', () => {
    const v = checkDeadLetters(expected, [
      { partition: 0, offset: '1', reason: 'DecodeError: not JSON' },
      { partition: 1, offset: '4', reason: 'DecodeError: not JSON' },
      { partition: 2, offset: '9', reason: 'key mismatch' },
    ]);
    expect(v).toMatchObject({
      expected: 3,
      found: 3,
      missing: 0,
      unexpected: 0,
      withoutReason: 0,
      repeated: 0,
    });
  });

  it('reports missing, unexpected, reason-less and repeated dead letters', () => {
    const v = checkDeadLetters(expected, [
      { partition: 0, offset: '1', reason: '' },
      { partition: 0, offset: '1', reason: 'again' },
      { partition: 0, offset: '2', reason: 'valid record dead-lettered' },
    ]);
    expect(v).toMatchObject({ found: 3, missing: 2, unexpected: 1, withoutReason: 1, repeated: 1 });
  });
});
