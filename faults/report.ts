import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { passed, type Scenario, type ScenarioResult } from './scenario.js';

export interface ScenarioOutcome {
  scenario: Scenario;
  /** Undefined when the scenario could not run (error). */
  result?: ScenarioResult;
  error?: string;
  durationMs: number;
}

const pad = (s: string, n: number) => s.padEnd(n);
const num = (n: number, w: number) => String(n).padStart(w);

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** The figures table, one row per scenario, then each scenario's checks and notes. */
export function formatTable(outcomes: readonly ScenarioOutcome[]): string {
  const header = `${pad('#', 4)}${pad('scenario', 21)}${'produced'.padStart(10)}${'acked'.padStart(10)}${'landed'.padStart(10)}${'lost'.padStart(6)}${'dup'.padStart(6)}  ${pad('result', 7)}time`;
  const lines = [header, '-'.repeat(header.length)];
  for (const o of outcomes) {
    const f = o.result?.figures;
    const ok = o.result !== undefined && passed(o.result);
    lines.push(
      `${pad(`${o.scenario.number}${o.scenario.variant ?? ''}`, 4)}${pad(o.scenario.id, 21)}` +
        (f
          ? `${num(f.produced, 10)}${num(f.acknowledged, 10)}${num(f.landed, 10)}${num(f.lost, 6)}${num(f.duplicated, 6)}`
          : `${'-'.padStart(10)}${'-'.padStart(10)}${'-'.padStart(10)}${'-'.padStart(6)}${'-'.padStart(6)}`) +
        `  ${pad(o.result ? (ok ? 'pass' : 'FAIL') : 'ERROR', 7)}${duration(o.durationMs)}`,
    );
  }
  return lines.join('\n');
}

export function formatDetails(outcome: ScenarioOutcome): string {
  const lines = [`${outcome.scenario.number}${outcome.scenario.variant ?? ''}. ${outcome.scenario.title}`];
  if (outcome.error) lines.push(`   error: ${outcome.error}`);
  for (const c of outcome.result?.checks ?? [])
    lines.push(`   [${c.ok ? 'ok' : 'FAIL'}] ${c.name}: ${c.detail}`);
  for (const n of outcome.result?.notes ?? []) lines.push(`   - ${n}`);
  return lines.join('\n');
}

/**
 * What failed, repeated after the summary line so the tail of a long CI log always shows why
 * (the scenario's error and its failed checks); empty when every scenario passed.
 */
export function formatFailures(outcomes: readonly ScenarioOutcome[]): string {
  const lines: string[] = [];
  for (const o of outcomes) {
    if (o.result !== undefined && passed(o.result) && !o.error) continue;
    lines.push(`failed: ${o.scenario.number}${o.scenario.variant ?? ''} ${o.scenario.id}`);
    if (o.error) lines.push(`   error: ${o.error}`);
    for (const c of o.result?.checks ?? []) if (!c.ok) lines.push(`   [FAIL] ${c.name}: ${c.detail}`);
  }
  return lines.join('\n');
}

/**
 * The one line CI greps: `faults: scenarios=<n> passed=<n> lost=<n> duplicated=<n>
 * failed-in-faults=<n>/<bound>` (positions whose publish failed while a fault was active, and the
 * sum of the scenarios' bounds; a failure outside a fault window fails its scenario instead).
 */
export function summaryLine(outcomes: readonly ScenarioOutcome[]): string {
  const ok = outcomes.filter((o) => o.result !== undefined && passed(o.result)).length;
  const sum = (f: (o: ScenarioOutcome) => number | undefined) =>
    outcomes.reduce((n, o) => n + (f(o) ?? 0), 0);
  const lost = sum((o) => o.result?.figures.lost);
  const duplicated = sum((o) => o.result?.figures.duplicated);
  const failed = sum((o) => o.result?.figures.failedInFaults);
  const bound = sum((o) => o.scenario.publishFailureBound);
  return `faults: scenarios=${outcomes.length} passed=${ok} lost=${lost} duplicated=${duplicated} failed-in-faults=${failed}/${bound}`;
}

/**
 * Writes a run's report as `<dir>/<start time>-<seed>.json` and `.txt` (the printed table and
 * details), never overwriting one: a second run with the same name gets `-2`, `-3`, ...
 * Returns the JSON file's path.
 */
export function saveReport(
  dir: string,
  run: { started: Date; seed: number; quick: boolean; table: string; outcomes: readonly ScenarioOutcome[] },
): string {
  mkdirSync(dir, { recursive: true });
  const base = `${run.started.toISOString().replace(/[:.]/g, '-')}-${run.seed}`;
  const json = JSON.stringify(
    {
      started: run.started.toISOString(),
      quick: run.quick,
      seed: run.seed,
      summary: summaryLine(run.outcomes),
      outcomes: run.outcomes.map((o) => ({ ...o, scenario: o.scenario.id })),
    },
    null,
    2,
  );
  for (let n = 1; ; n++) {
    const name = path.join(dir, n === 1 ? base : `${base}-${n}`);
    try {
      writeFileSync(`${name}.json`, `${json}\n`, { flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
    writeFileSync(`${name}.txt`, run.table, { flag: 'wx' });
    return `${name}.json`;
  }
}
