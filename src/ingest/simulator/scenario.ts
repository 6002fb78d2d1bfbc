import type { Position } from '../../domain/position.js';
import { ConfigError } from '../../errors.js';

/**
 * What the simulator does on purpose so the events processor has something to report: the first
 * `speeders` vehicles report `speedKmh` for the first half of every minute they drive (overspeed,
 * then overspeed_end); the next `silent` vehicles stop reporting `silentAfterMs` after the start
 * (offline). The positions still move at the street speed: only the reported speed is raised.
 */
export interface Scenario {
  name: string;
  speeders: number;
  silent: number;
  /** @default 150 (above OVERSPEED_LIMIT_KMH's default 120) */
  speedKmh: number;
  /** @default 20_000 */
  silentAfterMs: number;
}

/** Named presets of `--scenario`. */
export const SCENARIO_PRESETS: Record<string, string> = {
  none: 'speeders=0,silent=0',
  demo: 'speeders=1,silent=1',
  busy: 'speeders=3,silent=2',
};

const KEYS = ['speeders', 'silent', 'speedKmh', 'silentAfterMs'] as const;
/** Half of each minute a speeder drives too fast. */
const CYCLE_MS = 60_000;
/** Below this a vehicle is standing: it does not "speed" at a red light. */
const MOVING_KMH = 5;

/** `demo`, `none`, or `speeders=N,silent=M[,speedKmh=K,silentAfterMs=T]`; errors name `--scenario`. */
export function parseScenario(text: string): Scenario {
  const spec = SCENARIO_PRESETS[text] ?? text;
  const out: Scenario = { name: text, speeders: 0, silent: 0, speedKmh: 150, silentAfterMs: 20_000 };
  for (const part of spec.split(',').filter(Boolean)) {
    const [key, value] = part.split('=');
    const n = Number(value);
    if (!(KEYS as readonly string[]).includes(key!) || value === undefined || !Number.isInteger(n) || n < 0)
      throw new ConfigError(
        '--scenario',
        `'${part}' is not a preset (${Object.keys(SCENARIO_PRESETS).join(', ')}) nor key=integer with key one of ${KEYS.join(', ')}`,
      );
    out[key as (typeof KEYS)[number]] = n;
  }
  return out;
}

/**
 * The report of vehicle `k` at `at` under the scenario: `p` itself, `p` with its speed raised, or
 * `null` (the vehicle has gone silent). A pure function of its inputs, like the fleet itself.
 */
export function scenarioReport(scenario: Scenario, k: number, startMs: number, p: Position): Position | null {
  if (k < scenario.speeders) {
    const speeding = (p.ts - startMs) % CYCLE_MS < CYCLE_MS / 2 && (p.speed ?? 0) >= MOVING_KMH;
    return speeding ? { ...p, speed: scenario.speedKmh } : p;
  }
  if (k < scenario.speeders + scenario.silent && p.ts >= startMs + scenario.silentAfterMs) return null;
  return p;
}
