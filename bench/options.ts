import { ConfigError } from '../src/errors.js';

/** What one `fleet bench` run measures, and how big. */
export interface BenchOptions {
  /** Quick mode (under 2 minutes): small sizes, short rates. */
  quick: boolean;
  /** Positions pre-loaded into the replay topic (and produced by every throughput tool). */
  records: number;
  /** Distinct vehicles among those positions. */
  vehicles: number;
  /** Fixed produce rates of the latency runs, msg/s. */
  rates: number[];
  /** How long each rate is sustained, ms. */
  durationMs: number;
  /** How long the simulator's max-throughput run lasts, ms. */
  simulatorMs: number;
  /** Partitions of the bench topics. @default 3 (the project's default) */
  partitions: number;
  /** Run the processor replay with `node --cpu-prof` and summarise where its time goes. */
  cpuProf: boolean;
  /** The processor logs the table to its changelog (STATE_CHANGELOG). @default true */
  changelog: boolean;
  /** Steps to run (all by default): ceilings, clients (@platformatic/kafka A/B), producer, replay, peer (the Kafka Streams peer), latency, wire (JSON vs Avro). */
  steps: ReadonlySet<BenchStep>;
  /** Leave the bench's Kafka and Redis running afterwards (for poking at the data). */
  keepServices: boolean;
  /** Where results JSON, README table and profiles go. @default bench */
  outDir: string;
  /** Free text stored with the results (e.g. "other engineers' tests running"). */
  note?: string;
  /**
   * `--processors 1,2,3`: after the other steps, replay the pre-loaded topic once per count with
   * that many `fleet process` children in one group (throughput and CPU per record). @default none
   */
  processors: number[];
}

export const BENCH_STEPS = [
  'ceilings',
  'clients',
  'producer',
  'replay',
  'events',
  'peer',
  'latency',
  'wire',
] as const;
export type BenchStep = (typeof BENCH_STEPS)[number];

const FULL = {
  records: 1_000_000,
  vehicles: 250_000,
  rates: [1000, 5000, 20_000],
  durationMs: 60_000,
  simulatorMs: 30_000,
};
const QUICK = {
  records: 100_000,
  vehicles: 25_000,
  rates: [1000, 5000, 20_000],
  durationMs: 8_000,
  simulatorMs: 8_000,
};

export interface RawBenchFlags {
  quick?: boolean;
  records?: string;
  vehicles?: string;
  rates?: string;
  duration?: number;
  partitions?: string;
  cpuProf?: boolean;
  /** commander's `--no-changelog`: false when given. */
  changelog?: boolean;
  only?: string;
  processors?: string;
  keepServices?: boolean;
  out?: string;
  note?: string;
}

function positiveInt(flag: string, text: string): number {
  const value = Number(text.replace(/_/g, ''));
  if (!Number.isInteger(value) || value < 1)
    throw new ConfigError(flag, `'${text}' is not a positive integer`);
  return value;
}

/** Flags → complete options: quick or full defaults, then explicit flags win. */
export function resolveOptions(flags: RawBenchFlags): BenchOptions {
  const base = flags.quick ? QUICK : FULL;
  const records = flags.records ? positiveInt('--records', flags.records) : base.records;
  const vehicles = flags.vehicles
    ? positiveInt('--vehicles', flags.vehicles)
    : Math.min(base.vehicles, records);
  if (vehicles > records) throw new ConfigError('--vehicles', `must be <= --records (${records})`);
  const rates = flags.rates
    ? flags.rates.split(',').map((r) => positiveInt('--rates', r.trim()))
    : base.rates;
  // `scale` is no step of its own: `--only scale` runs nothing but the `--processors` replays.
  const only = flags.only?.split(',').map((s) => s.trim());
  const steps = only ? only.filter((s) => s !== 'scale') : [...BENCH_STEPS];
  for (const step of steps) {
    if (!(BENCH_STEPS as readonly string[]).includes(step))
      throw new ConfigError('--only', `unknown step '${step}' (steps: ${BENCH_STEPS.join(', ')}, scale)`);
  }
  const partitions = flags.partitions ? positiveInt('--partitions', flags.partitions) : 3;
  const processors = flags.processors
    ? flags.processors.split(',').map((n) => positiveInt('--processors', n.trim()))
    : [];
  if (only?.includes('scale') && processors.length === 0)
    throw new ConfigError('--only', "'scale' needs --processors (e.g. --processors 1,2,3)");
  if (processors.some((n) => n > partitions))
    throw new ConfigError(
      '--processors',
      `${Math.max(...processors)} processors need at least as many partitions (--partitions ${Math.max(...processors)}); ${partitions} would leave some idle`,
    );
  return {
    quick: Boolean(flags.quick),
    records,
    vehicles,
    rates,
    durationMs: flags.duration ?? base.durationMs,
    simulatorMs: base.simulatorMs,
    partitions,
    cpuProf: Boolean(flags.cpuProf),
    changelog: flags.changelog !== false,
    steps: new Set(steps as BenchStep[]),
    keepServices: Boolean(flags.keepServices),
    outDir: flags.out ?? 'bench',
    ...(flags.note ? { note: flags.note } : {}),
    processors,
  };
}
