import { describe, expect, it } from 'vitest';
import { formatFailures, formatTable, summaryLine, type ScenarioOutcome } from '../../../faults/report.js';
import type { Scenario, ScenarioResult } from '../../../faults/scenario.js';
import { positionsOf, rushHourRate } from '../../../faults/surge.js';

const scenario = (id: string, number: number): Scenario => ({
  id,
  number,
  title: id,
  run: () => Promise.reject(new Error('not run')),
});
const result = (lost: number, duplicated: number, ok = true): ScenarioResult => ({
  figures: { produced: 100, acknowledged: 90, landed: 90 - lost, lost, duplicated },
  checks: [{ name: 'x', ok, detail: '' }],
  notes: [],
});

describe('fault report', () => {
  it('sums lost and duplicated and counts a scenario passed only with clean figures and checks', () => {
    const outcomes: ScenarioOutcome[] = [
      { scenario: scenario('a', 1), result: result(0, 0), durationMs: 1000 },
      { scenario: scenario('b', 2), result: result(3, 0), durationMs: 1000 },
      { scenario: scenario('c', 3), result: result(0, 2), durationMs: 1000 },
      { scenario: scenario('d', 4), result: result(0, 0, false), durationMs: 1000 },
      { scenario: scenario('e', 5), error: 'boom', durationMs: 1000 },
    ];
    expect(summaryLine(outcomes)).toBe(
      'faults: scenarios=5 passed=1 lost=3 duplicated=2 failed-in-faults=0/0',
    );
    const table = formatTable(outcomes);
    expect(table.split('\n')).toHaveLength(7);
    expect(table).toMatch(/^1\s+a\s+100\s+90\s+90\s+0\s+0\s+pass\s+1s$/m);
    expect(table).toMatch(/^2\s+b\s+100\s+90\s+87\s+3\s+0\s+FAIL/m);
    expect(table).toMatch(/^5\s+e\s+-.*ERROR/m);
  });

  it('repeats each failed scenario with its error and failed checks, and nothing when all passed', () => {
    const bad: ScenarioResult = {
      figures: { produced: 1, acknowledged: 1, landed: 1, lost: 0, duplicated: 0 },
      checks: [
        { name: 'fine', ok: true, detail: 'yes' },
        { name: 'broken', ok: false, detail: '3 missing' },
      ],
      notes: [],
    };
    const outcomes: ScenarioOutcome[] = [
      { scenario: scenario('a', 1), result: result(0, 0), durationMs: 1000 },
      { scenario: scenario('b', 2), result: bad, durationMs: 1000 },
      { scenario: scenario('e', 5), error: 'boom', durationMs: 1000 },
    ];
    expect(formatFailures(outcomes).split('\n')).toEqual([
      'failed: 2 b',
      '   [FAIL] broken: 3 missing',
      'failed: 5 e',
      '   error: boom',
    ]);
    expect(formatFailures(outcomes.slice(0, 1))).toBe('');
  });
});

describe('rush-hour rate profile', () => {
  it('starts at the base rate, peaks at 5× at 08:00 (the middle) and falls back below half the peak', () => {
    const rate = rushHourRate(1000, 60_000);
    expect(rate(0)).toBeCloseTo(1000, -1);
    expect(rate(30_000)).toBeGreaterThan(4900);
    expect(rate(30_000)).toBeLessThanOrEqual(5000);
    expect(rate(60_000)).toBeLessThan(rate(30_000) / 2);
    const total = positionsOf(rate, 60_000);
    expect(total).toBeGreaterThan(60 * 1000);
    expect(total).toBeLessThan(60 * 5000);
  });
});
