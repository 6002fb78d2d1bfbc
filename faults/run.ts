import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { errorMessage } from '../src/errors.js';
import type { Logger } from '../src/logger.js';
import { brokerLoss, brokerLossRf2 } from './broker-loss.js';
import { killAllChildren } from './children.js';
import { ensureServices, stopServices, type SuiteServices } from './cluster.js';
import { hostileInput } from './hostile-input.js';
import { processorCrashes } from './processor-crashes.js';
import { redisLoss } from './redis-loss.js';
import { formatDetails, formatTable, summaryLine, type ScenarioOutcome } from './report.js';
import { passed, type Scenario, type SuiteContext } from './scenario.js';
import { surge } from './surge.js';
import { warehouseOutage, warehouseOutageSnowflake } from './warehouse-outage.js';

/** Every scenario, in the order they run: the single-broker ones first, then the 3-broker one. */
export const scenarios: readonly Scenario[] = [
  processorCrashes,
  redisLoss,
  warehouseOutage,
  warehouseOutageSnowflake,
  hostileInput,
  surge,
  brokerLoss,
  brokerLossRf2,
];

export interface RunOptions {
  /** The CI form: smaller workloads, shorter faults (under 10 minutes in all). */
  quick: boolean;
  /** Scenario ids to run; all when empty. */
  only?: readonly string[];
  /** Root of the suite's services, logs and DuckDB files. @default .cache/fleet-faults */
  home: string;
  seed?: number;
  /** Leave the services running afterwards (debugging). */
  keepServices?: boolean;
  logger: Logger;
  /** Where the table and progress lines go. */
  out: (line: string) => void;
}

export interface RunResult {
  outcomes: ScenarioOutcome[];
  ok: boolean;
  runDir: string;
}

export function selectScenarios(only: readonly string[] = []): Scenario[] {
  const unknown = only.filter((id) => !scenarios.some((s) => s.id === id || String(s.number) === id));
  if (unknown.length > 0) {
    throw new Error(
      `unknown scenario ${unknown.join(', ')}; known: ${scenarios.map((s) => s.id).join(', ')}`,
    );
  }
  return only.length === 0
    ? [...scenarios]
    : scenarios.filter((s) => only.includes(s.id) || only.includes(String(s.number)));
}

/**
 * Runs the chosen scenarios on the suite's own services, prints one table of figures and the
 * summary line, and stops the services (and every child) at the end, also after a failure.
 */
export async function runFaults(options: RunOptions): Promise<RunResult> {
  const chosen = selectScenarios(options.only);
  const home = path.resolve(options.home);
  const runDir = path.join(home, 'runs', new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(path.join(runDir, 'logs'), { recursive: true });
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  let current: { size: number; services: SuiteServices } | undefined;
  const ctx: SuiteContext = {
    quick: options.quick,
    runDir,
    logger: options.logger,
    seed,
    say: (line) => options.out(`  ${line}`),
    services: async (brokers) => {
      if (current?.size !== brokers) {
        options.out(`  starting ${brokers} Kafka node(s) + Redis under ${home}`);
        current = { size: brokers, services: await ensureServices(home, brokers, options.logger) };
      }
      return current.services;
    },
  };
  options.out(
    `faults: ${chosen.length} scenario(s), ${options.quick ? 'quick' : 'full'} run, seed ${seed}, logs in ${runDir}`,
  );
  const outcomes: ScenarioOutcome[] = [];
  // Ctrl-C / SIGTERM: no broker, Redis or processor of the suite may outlive it.
  const onSignal = () => {
    killAllChildren();
    void stopServices(home, options.logger).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    for (const scenario of chosen) {
      options.out(`\n${scenario.number}${scenario.variant ?? ''}. ${scenario.title}`);
      const started = Date.now();
      let outcome: ScenarioOutcome;
      try {
        const result = await scenario.run(ctx);
        outcome = { scenario, result, durationMs: Date.now() - started };
      } catch (err) {
        options.logger.error({ err, scenario: scenario.id }, 'scenario failed to run');
        outcome = { scenario, error: errorMessage(err), durationMs: Date.now() - started };
      } finally {
        killAllChildren();
      }
      outcomes.push(outcome);
      options.out(formatDetails(outcome));
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    killAllChildren();
    if (!options.keepServices) await stopServices(home, options.logger);
  }
  const ordered = [...outcomes].sort((a, b) => a.scenario.number - b.scenario.number);
  const table = formatTable(ordered);
  const summary = summaryLine(ordered);
  options.out(`\n${table}\n\n${summary}`);
  writeFileSync(
    path.join(runDir, 'table.txt'),
    `${table}\n\n${ordered.map(formatDetails).join('\n')}\n\n${summary}\n`,
  );
  writeFileSync(
    path.join(runDir, 'results.json'),
    JSON.stringify(
      { quick: options.quick, seed, outcomes: ordered.map((o) => ({ ...o, scenario: o.scenario.id })) },
      null,
      2,
    ),
  );
  const ok = ordered.length > 0 && ordered.every((o) => o.result !== undefined && passed(o.result));
  // A passing run keeps its table and logs; the DuckDB files (hundreds of MB) only as evidence of a failure.
  if (ok) {
    for (const file of readdirSync(runDir))
      if (/\.duckdb(\.wal)?$/.test(file)) rmSync(path.join(runDir, file));
  }
  return { outcomes: ordered, ok, runDir };
}
