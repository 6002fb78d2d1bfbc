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

/** The one line CI greps: `faults: scenarios=<n> passed=<n> lost=<n> duplicated=<n>`. */
export function summaryLine(outcomes: readonly ScenarioOutcome[]): string {
  const ok = outcomes.filter((o) => o.result !== undefined && passed(o.result)).length;
  const lost = outcomes.reduce((sum, o) => sum + (o.result?.figures.lost ?? 0), 0);
  const duplicated = outcomes.reduce((sum, o) => sum + (o.result?.figures.duplicated ?? 0), 0);
  return `faults: scenarios=${outcomes.length} passed=${ok} lost=${lost} duplicated=${duplicated}`;
}
