import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { drive, type AckingPublisher } from '../../../faults/driver.js';
import { AckLedger } from '../../../faults/ledger.js';
import { saveReport, summaryLine, type ScenarioOutcome } from '../../../faults/report.js';
import type { Scenario } from '../../../faults/scenario.js';
import { checkPublishFailures, FaultWindows, type PublishFailure } from '../../../faults/windows.js';
import { workloadPlan } from '../../../faults/workload.js';

const failure = (from: number, to: number, sentAt: number, failedAt: number): PublishFailure => ({
  from,
  to,
  sentAt,
  failedAt,
  error: 'timed out',
});

describe('fault windows', () => {
  it('records start and end on the given clock; closeAll ends what is still open', async () => {
    let t = 1000;
    const windows = new FaultWindows(0, () => t);
    const close = windows.open('broker down');
    t = 4000;
    close();
    t = 5000;
    close(); // a second close keeps the first end
    await windows.during('flush', async () => {
      t = 6000;
    });
    windows.open('left open');
    t = 9000;
    windows.closeAll();
    expect(windows.list()).toEqual([
      { name: 'broker down', start: 1000, end: 4000 },
      { name: 'flush', start: 5000, end: 6000 },
      { name: 'left open', start: 6000, end: 9000 },
    ]);
  });
});

describe('publish failures against fault windows', () => {
  const windows = [{ name: 'broker down', start: 10_000, end: 20_000 }];

  it('passes with no failure at all', () => {
    expect(checkPublishFailures([], windows, 0)).toMatchObject({
      ok: true,
      insideFailed: 0,
      outsideFailed: 0,
    });
  });

  it('counts failures of calls in flight during a window, within the bound', () => {
    // Sent before the fault, failed during it; sent during it, failed after it ended.
    const v = checkPublishFailures(
      [failure(0, 500, 9_000, 12_000), failure(500, 1000, 19_000, 25_000)],
      windows,
      1000,
    );
    expect(v).toMatchObject({ ok: true, insideFailed: 1000, outsideFailed: 0 });
  });

  it('fails when the failures inside the windows exceed the bound', () => {
    const v = checkPublishFailures([failure(0, 500, 11_000, 12_000)], windows, 499);
    expect(v.ok).toBe(false);
    expect(v.detail).toContain('500 positions inside fault windows (bound 499)');
  });

  it('fails on a publish that failed while no fault was active (planted), naming it', () => {
    const v = checkPublishFailures(
      [failure(0, 500, 11_000, 12_000), failure(700, 800, 21_000, 22_000)],
      windows,
      4000,
    );
    expect(v).toMatchObject({ ok: false, insideFailed: 500, outsideFailed: 100 });
    expect(v.detail).toContain('seq 700..799');
  });

  it('treats a call that failed before a window opened as outside', () => {
    expect(checkPublishFailures([failure(0, 10, 1_000, 9_999)], windows, 100).ok).toBe(false);
  });
});

describe('the driver records when a publish failed', () => {
  it('puts the failed call’s range and times in the ledger', async () => {
    const plan = workloadPlan({ total: 300, vehicles: 10 });
    const ledger = new AckLedger(plan.total);
    let calls = 0;
    let t = 100;
    const publisher: AckingPublisher = {
      async publish() {
        t += 10;
        if (calls++ === 1) throw new Error('broker gone');
      },
      async close() {},
    };
    await drive({ plan, publisher, ledger, batch: 100, maxInFlight: 1, now: () => t });
    expect(ledger.failures()).toEqual([
      { from: 100, to: 200, sentAt: 110, failedAt: 120, error: 'broker gone' },
    ]);
    expect(ledger.counts()).toMatchObject({ acknowledged: 200, failed: 100 });
  });
});

describe('report', () => {
  const scenario = (id: string, bound?: number): Scenario => ({
    id,
    number: 1,
    title: id,
    ...(bound !== undefined ? { publishFailureBound: bound } : {}),
    run: () => Promise.reject(new Error('not run')),
  });
  const outcome = (s: Scenario, failedInFaults: number): ScenarioOutcome => ({
    scenario: s,
    durationMs: 1,
    result: {
      figures: { produced: 10, acknowledged: 10, landed: 10, lost: 0, duplicated: 0, failedInFaults },
      checks: [],
      notes: [],
    },
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'faults-results-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('puts the failures inside fault windows and their bound on the summary line', () => {
    const line = summaryLine([outcome(scenario('a', 4000), 1500), outcome(scenario('b'), 0)]);
    expect(line).toBe('faults: scenarios=2 passed=2 lost=0 duplicated=0 failed-in-faults=1500/4000');
  });

  it('stores every run as <time>-<seed>.json and .txt, never overwriting one', () => {
    const run = {
      started: new Date(Date.UTC(2026, 11, 1, 18, 0, 0)),
      seed: 42,
      quick: true,
      table: 'the table\n',
      outcomes: [outcome(scenario('a'), 0)],
    };
    const first = saveReport(dir, run);
    const second = saveReport(dir, { ...run, table: 'another table\n' });
    expect(path.basename(first)).toBe('2026-12-01T18-00-00-000Z-42.json');
    expect(path.basename(second)).toBe('2026-12-01T18-00-00-000Z-42-2.json');
    expect(readdirSync(dir).sort()).toHaveLength(4);
    expect(readFileSync(first.replace(/json$/, 'txt'), 'utf8')).toBe('the table\n');
    expect(JSON.parse(readFileSync(first, 'utf8'))).toMatchObject({
      seed: 42,
      outcomes: [{ scenario: 'a' }],
    });
  });
});
