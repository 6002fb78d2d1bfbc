import { describe, expect, it } from 'vitest';
import type { DeadLetterEntry, LandedRow } from '../../../faults/checker.js';
import { AckLedger, Outcome } from '../../../faults/ledger.js';
import { checkTopicCoverage } from '../../../faults/topic-check.js';
import { classify, type TopicRecord } from '../../../faults/topic.js';
import { positionAt, workloadPlan } from '../../../faults/workload.js';

const plan = workloadPlan({ total: 60, vehicles: 6, t0: Date.UTC(2026, 0, 1) });

/** Position seq on partition seq % 2 at offset floor(seq / 2); then 3 invalid records on partition 1. */
function topic(): TopicRecord[] {
  const records: TopicRecord[] = [];
  for (let seq = 0; seq < plan.total; seq++)
    records.push({
      partition: seq % 2,
      offset: String(Math.floor(seq / 2)),
      position: positionAt(plan, seq),
    });
  for (let i = 0; i < 3; i++)
    records.push({ partition: 1, offset: String(30 + i), invalid: 'value is not valid JSON' });
  return records;
}

const rowsOf = (records: TopicRecord[]): LandedRow[] =>
  records
    .filter((r) => r.position)
    .map((r) => ({
      vehicleId: r.position!.vehicleId,
      ts: r.position!.ts,
      partition: r.partition,
      offset: r.offset,
    }));

const lettersOf = (records: TopicRecord[]): DeadLetterEntry[] =>
  records
    .filter((r) => r.invalid)
    .map((r) => ({ partition: r.partition, offset: r.offset, reason: r.invalid! }));

function acknowledgedLedger(): AckLedger {
  const ledger = new AckLedger(plan.total);
  ledger.mark(0, plan.total, Outcome.acknowledged);
  return ledger;
}

describe('warehouse and DLQ against the topic', () => {
  const records = topic();

  it('passes when every valid record is in the warehouse once and every invalid one in the DLQ', () => {
    const v = checkTopicCoverage(records, rowsOf(records), lettersOf(records), {
      plan,
      ledger: acknowledgedLedger(),
    });
    expect(v).toMatchObject({ ok: true, records: 63, valid: 60, invalid: 3, missing: 0, ackedNotOnTopic: 0 });
  });

  it('fails when the warehouse misses a record that is on the topic (planted), naming it', () => {
    const rows = rowsOf(records).filter((r) => !(r.partition === 1 && r.offset === '7'));
    const v = checkTopicCoverage(records, rows, lettersOf(records));
    expect(v).toMatchObject({ ok: false, missing: 1 });
    expect(v.sample[0]).toMatch(/^topic record 1:7 \(veh-00003 @ .*\) has no warehouse row/);
  });

  it('a device retry (the same position again at a later offset) stored once is no missing record', () => {
    const first = records.find((r) => r.partition === 0 && r.offset === '3')!;
    const retry: TopicRecord = { partition: 0, offset: '99', position: first.position! };
    const withRetry = [...records, retry];
    const v = checkTopicCoverage(withRetry, rowsOf(records), lettersOf(records));
    expect(v).toMatchObject({ ok: true, missing: 0, positionRepeats: 1 });
    // Neither copy stored: both count as missing.
    const rows = rowsOf(records).filter((r) => !(r.partition === 0 && r.offset === '3'));
    expect(checkTopicCoverage(withRetry, rows, lettersOf(records))).toMatchObject({ ok: false, missing: 2 });
  });

  it('fails on a record stored twice, a row of another position at its offset, and a row of no record', () => {
    const rows = rowsOf(records);
    rows.push({ ...rows[4]! });
    rows[5] = { ...rows[5]!, ts: rows[5]!.ts + 1 };
    rows.push({ vehicleId: 'veh-00001', ts: 1, partition: 0, offset: '999' });
    const v = checkTopicCoverage(records, rows, lettersOf(records));
    expect(v).toMatchObject({ ok: false, repeated: 1, missing: 1, strayRows: 2 });
  });

  it('fails when an invalid record has no dead letter, or a valid one was dead-lettered', () => {
    const letters = lettersOf(records).slice(1);
    letters.push({ partition: 0, offset: '0', reason: 'bogus' });
    const v = checkTopicCoverage(records, rowsOf(records), letters);
    expect(v).toMatchObject({ ok: false, undeadLettered: 1, wrongLetters: 1 });
  });

  it('counts repeated dead letters without failing (the DLQ is at-least-once)', () => {
    const letters = [...lettersOf(records), lettersOf(records)[0]!];
    expect(checkTopicCoverage(records, rowsOf(records), letters)).toMatchObject({
      ok: true,
      repeatedLetters: 1,
    });
  });

  it('fails when an acknowledged position is not on the topic at all', () => {
    const without = records.filter((r) => !(r.partition === 0 && r.offset === '2'));
    const v = checkTopicCoverage(without, rowsOf(without), lettersOf(without), {
      plan,
      ledger: acknowledgedLedger(),
    });
    expect(v).toMatchObject({ ok: false, ackedNotOnTopic: 1 });
    expect(v.sample).toContain('acknowledged position seq 4 is not on the topic');
  });

  it('accounts for positions whose publish failed but that landed: counted, and held to the warehouse', () => {
    const ledger = acknowledgedLedger();
    ledger.mark(10, 20, Outcome.failed);
    const v = checkTopicCoverage(records, rowsOf(records), lettersOf(records), { plan, ledger });
    expect(v).toMatchObject({ ok: true, failedButLanded: 10 });
    const rows = rowsOf(records).filter((r) => !(r.partition === 0 && r.offset === '5')); // seq 10
    expect(checkTopicCoverage(records, rows, lettersOf(records), { plan, ledger })).toMatchObject({
      ok: false,
      missing: 1,
    });
  });
});

describe('classify', () => {
  const message = (value: string, key: string | null, timestamp = Date.now()) => ({
    key: key === null ? null : Buffer.from(key),
    value: Buffer.from(value),
    timestamp: String(timestamp),
    attributes: 0,
    offset: '5',
    headers: { 'content-type': Buffer.from('application/json') },
  });
  const p = { vehicleId: 'truck-1', ts: Date.UTC(2026, 0, 1), lat: 52.5, lon: 13.4 };

  it('takes a valid position at the time it was appended', () => {
    const r = classify(2, message(JSON.stringify(p), 'truck-1', p.ts + 1000), { maxFutureMs: 30_000 });
    expect(r).toEqual({ partition: 2, offset: '5', position: p });
  });

  it('says why a record is invalid: bad JSON, key ≠ vehicle id, event time too far ahead of its append', () => {
    expect(classify(0, message('{', 'truck-1'), { maxFutureMs: 30_000 }).invalid).toMatch(/JSON/);
    expect(classify(0, message(JSON.stringify(p), 'truck-2', p.ts), { maxFutureMs: 30_000 }).invalid).toMatch(
      /key/,
    );
    expect(
      classify(0, message(JSON.stringify(p), 'truck-1', p.ts - 60_000), { maxFutureMs: 30_000 }).invalid,
    ).toMatch(/future/);
  });
});
