import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorMessage } from '../src/errors.js';
import type { Logger } from '../src/logger.js';
import { brokerLoss, brokerLossRf2 } from './broker-loss.js';
import { clusterFailover } from './cluster-failover.js';
import { warehouseDiskFull } from './disk-full.js';
import { killAllChildren } from './children.js';
import { deviceRetries } from './device-retries.js';
import { ensureServices, stopServices, type SuiteServices } from './cluster.js';
import { eventsCrashes } from './events-crashes.js';
import { hostileInput } from './hostile-input.js';
import { networkFaults } from './network-faults.js';
import { processorCrashes } from './processor-crashes.js';
import { propertyFuzz } from './property-fuzz.js';
import { redisLoss } from './redis-loss.js';
import { secondFailureRf2, secondFailureRf3 } from './second-failure.js';
import {
  formatDetails,
  formatFailures,
  formatTable,
  saveReport,
  summaryLine,
  type ScenarioOutcome,
} from './report.js';
import { check, passed, type Scenario, type SuiteContext } from './scenario.js';
import { surge } from './surge.js';
import { warehouseOutageSnowflake, warehouseOutageSnowpipe } from './snowflake-outage.js';
import { warehouseOutage } from './warehouse-outage.js';
import { describeWindows, FaultWindows } from './windows.js';

/** Where every run's report is kept (`<time>-<seed>.json` and `.txt`, never overwritten). */
export const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

/** Every scenario, in the order they run: the single-broker ones first, then the 3-broker one. */
export const scenarios: readonly Scenario[] = [
  processorCrashes,
  redisLoss,
  warehouseOutage,
  warehouseOutageSnowflake,
  warehouseOutageSnowpipe,
  warehouseDiskFull,
  hostileInput,
  propertyFuzz,
  surge,
  eventsCrashes,
  brokerLoss,
  brokerLossRf2,
  clusterFailover,
  secondFailureRf3,
  secondFailureRf2,
  networkFaults,
  deviceRetries,
];

export interface RunOptions {
  /** The CI form: smaller workloads, shorter faults (under 10 minutes in all). */
  quick: boolean;
  /** Scenario ids to run; all when empty. */
  only?: readonly string[];
  /** Root of the suite's services, logs and DuckDB files. @default .cache/fleet-faults */
  home: string;
  seed?: number;
  /** Runs per property of the property-based fuzz. @default 2000 quick, 20000 full */
  fuzzRuns?: number;
  /** Leave the services running afterwards (debugging). */
  keepServices?: boolean;
  logger: Logger;
  /** Where the table and progress lines go. */
  out: (line: string) => void;
  /** Where the run's report is written. @default faults/results */
  resultsDir?: string;
}

export interface RunResult {
  outcomes: ScenarioOutcome[];
  ok: boolean;
  runDir: string;
  /** The stored report (`.json`; the table is beside it as `.txt`). */
  report: string;
}

export function selectScenarios(only: readonly string[] = [], quick = false): Scenario[] {
  const unknown = only.filter((id) => !scenarios.some((s) => s.id === id || String(s.number) === id));
  if (unknown.length > 0) {
    throw new Error(
      `unknown scenario ${unknown.join(', ')}; known: ${scenarios.map((s) => s.id).join(', ')}`,
    );
  }
  return only.length === 0
    ? scenarios.filter((s) => !s.optIn && !(quick && s.fullOnly))
    : scenarios.filter((s) => only.includes(s.id) || (!s.optIn && only.includes(String(s.number))));
}

/**
 * Runs the chosen scenarios on the suite's own services, prints one table of figures and the
 * summary line, and stops the services (and every child) at the end, also after a failure.
 */
export async function runFaults(options: RunOptions): Promise<RunResult> {
  const chosen = selectScenarios(options.only, options.quick);
  const home = path.resolve(options.home);
  const runStarted = new Date();
  const runDir = path.join(home, 'runs', runStarted.toISOString().replace(/[:.]/g, '-'));
  mkdirSync(path.join(runDir, 'logs'), { recursive: true });
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  let current: { size: number; services: SuiteServices } | undefined;
  const ctx: SuiteContext = {
    quick: options.quick,
    runDir,
    logger: options.logger,
    seed,
    ...(options.fuzzRuns !== undefined ? { fuzzRuns: options.fuzzRuns } : {}),
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
      const outcome = await runScenario(scenario, ctx);
      if (outcome.error)
        options.logger.error({ scenario: scenario.id, error: outcome.error }, 'scenario failed to run');
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
  const failures = formatFailures(ordered);
  if (failures) options.out(`\n${failures}`);
  const report = saveReport(options.resultsDir ?? RESULTS_DIR, {
    started: runStarted,
    seed,
    quick: options.quick,
    table: `${table}\n\n${ordered.map(formatDetails).join('\n')}\n\n${summary}\n`,
    outcomes: ordered,
  });
  options.out(`report: ${report}`);
  const ok = ordered.length > 0 && ordered.every((o) => o.result !== undefined && passed(o.result));
  // A passing run keeps its table and logs; the DuckDB files (hundreds of MB) only as evidence of a failure.
  if (ok) {
    for (const file of readdirSync(runDir))
      if (/\.duckdb(\.wal)?$/.test(file)) rmSync(path.join(runDir, file));
  }
  return { outcomes: ordered, ok, runDir, report };
}

/**
 * Runs one scenario with its own record of fault windows; a scenario that recorded no fault window
 * fails (it injected nothing the harness could hold its publishes against).
 */
export async function runScenario(scenario: Scenario, suite: SuiteContext): Promise<ScenarioOutcome> {
  const started = Date.now();
  const faults = new FaultWindows(scenario.publishFailureBound ?? 0);
  try {
    const result = await scenario.run({ ...suite, faults });
    faults.closeAll();
    result.checks.push(
      check('fault window(s) recorded', faults.list().length > 0, describeWindows(faults.list())),
    );
    return { scenario, result, durationMs: Date.now() - started };
  } catch (err) {
    return { scenario, error: errorMessage(err), durationMs: Date.now() - started };
  } finally {
    killAllChildren();
  }
}
