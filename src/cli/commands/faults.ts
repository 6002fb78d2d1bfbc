import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { logLevelFromEnv } from '../../config/index.js';
import { ConfigError, FleetError } from '../../errors.js';
import { createLogger, type Logger } from '../../logger.js';
import { action } from '../context.js';

/** The part of `faults/run.ts` this command uses (the suite lives outside `src/`: checkout only). */
interface FaultSuite {
  runFaults(options: {
    quick: boolean;
    only?: readonly string[];
    home: string;
    seed?: number;
    fuzzRuns?: number;
    keepServices?: boolean;
    logger: Logger;
    out: (line: string) => void;
  }): Promise<{ ok: boolean }>;
}

// Resolved at run time, so the production build (src/ only) neither compiles nor ships the suite.
const SUITE = new URL('../../../faults/run.ts', import.meta.url);

export function registerFaults(program: Command): void {
  program
    .command('faults')
    .description(
      'fault-injection suite: crashes, broker loss, Redis loss, warehouse outage, hostile input, surge; prints acknowledged vs landed figures (starts its own Kafka + Redis)',
    )
    .option('--quick', 'the CI form: smaller workloads and shorter faults (under 10 minutes)')
    .option('--only <ids>', 'comma-separated scenario ids or numbers (e.g. processor-crashes,2)')
    .option('--seed <n>', 'seed of the random kill moments and fuzz input (printed by every run)')
    .option(
      '--fuzz-runs <n>',
      'runs per property of the property-based fuzz (default 2000 quick, 20000 full)',
    )
    .option('--home <dir>', "the suite's services, logs and DuckDB files", '.cache/fleet-faults')
    .option('--keep-services', 'leave the suite’s Kafka and Redis running afterwards')
    .action(
      action(
        async (opts: {
          quick?: boolean;
          only?: string;
          seed?: string;
          fuzzRuns?: string;
          home: string;
          keepServices?: boolean;
        }) => {
          if (!existsSync(SUITE)) {
            throw new FleetError(
              'the fault suite runs from a source checkout (faults/ is not part of the build)',
            );
          }
          const seed = opts.seed === undefined ? undefined : Number(opts.seed);
          if (seed !== undefined && !Number.isInteger(seed))
            throw new ConfigError('--seed', 'expected an integer');
          const fuzzRuns = opts.fuzzRuns === undefined ? undefined : Number(opts.fuzzRuns);
          if (fuzzRuns !== undefined && !(Number.isInteger(fuzzRuns) && fuzzRuns > 0))
            throw new ConfigError('--fuzz-runs', 'expected a positive integer');
          const logger = createLogger({ level: logLevelFromEnv('warn'), destination: 2 });
          const suite = (await import(SUITE.href)) as FaultSuite;
          const result = await suite.runFaults({
            quick: opts.quick ?? false,
            only: (opts.only ?? '')
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean),
            home: opts.home,
            ...(seed !== undefined ? { seed } : {}),
            ...(fuzzRuns !== undefined ? { fuzzRuns } : {}),
            keepServices: opts.keepServices ?? false,
            logger,
            out: (line) => process.stdout.write(`${line}\n`),
          });
          // Exit now: a stray client handle of a scenario must not keep CI waiting.
          await new Promise<void>((resolve) => logger.flush(() => resolve()));
          process.exit(result.ok ? 0 : 1);
        },
      ),
    );
}
