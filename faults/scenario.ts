import type { Logger } from '../src/logger.js';
import type { SuiteServices } from './cluster.js';
import type { FaultWindows } from './windows.js';

/** The figures every scenario prints, Jepsen style. */
export interface Figures {
  /** Writes attempted (positions handed to the publisher, or records written raw). */
  produced: number;
  /** Writes Kafka acknowledged. */
  acknowledged: number;
  /** Distinct writes found where they must land (warehouse rows, dead letters). */
  landed: number;
  /** Acknowledged writes that did not land. */
  lost: number;
  /** Landed more than once. */
  duplicated: number;
  /** Positions whose publish failed while a fault was active (allowed up to the scenario's bound). */
  failedInFaults?: number;
}

/** One property the scenario verified, and what was seen. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface ScenarioResult {
  figures: Figures;
  checks: Check[];
  /** Measurements worth printing (kills, peak memory, lag, ...). */
  notes: string[];
}

export interface SuiteContext {
  quick: boolean;
  /** Where this run keeps its logs and DuckDB files. */
  runDir: string;
  logger: Logger;
  /** Seed of every random choice of the run (kill moments, fuzz). */
  seed: number;
  /** Runs per property of the property-based fuzz (`--fuzz-runs`); default by quick/full. */
  fuzzRuns?: number;
  /** The suite's own services with this many Kafka nodes (restarting Kafka when the size differs). */
  services(brokers: 1 | 3): Promise<SuiteServices>;
  /** A progress line on the console. */
  say(line: string): void;
}

/** What one scenario runs with: the suite's context plus the record of its own fault windows. */
export interface ScenarioContext extends SuiteContext {
  /** Record every injected fault here (`open`/`during`); publishes failing outside fail the scenario. */
  faults: FaultWindows;
}

export interface Scenario {
  /** Stable id for `--only`. */
  id: string;
  /** Number in the list. */
  number: number;
  /** Tells variants of one numbered scenario apart in the table ('b'). */
  variant?: string;
  title: string;
  /**
   * A measurement of a setting the project advises against (it loses data by design): run only when
   * named in `--only`, never part of the default or quick runs.
   */
  optIn?: boolean;
  /**
   * Left out of `--quick` (the CI run) for its length or its demands on the machine; part of every
   * full run and runnable alone with `--only`.
   */
  fullOnly?: boolean;
  /**
   * Positions whose publish may fail inside the fault windows (a failover can time out the calls in
   * flight). @default 0
   */
  publishFailureBound?: number;
  run(ctx: ScenarioContext): Promise<ScenarioResult>;
}

export function check(name: string, ok: boolean, detail: string): Check {
  return { name, ok, detail };
}

export function passed(result: ScenarioResult): boolean {
  return result.figures.lost === 0 && result.figures.duplicated === 0 && result.checks.every((c) => c.ok);
}

export const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
