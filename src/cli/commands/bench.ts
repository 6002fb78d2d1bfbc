import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { ServiceError } from '../../errors.js';
import { action } from '../context.js';

/** The harness lives in bench/ (a dev tool, not part of dist/), loaded only when the command runs. */
const HARNESS = new URL('../../../bench/cli.ts', import.meta.url);

interface BenchHarness {
  runFromCli(flags: Record<string, string | boolean | undefined>): Promise<number>;
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description(
      'benchmark the pipeline side by side with Kafka ProducerPerformance/ConsumerPerformance, redis-benchmark and a raw kafkajs loop, on private local services',
    )
    .option('--quick', 'small sizes and short rates (under 2 minutes)')
    .option('--records <n>', 'positions pre-loaded and replayed (default 1,000,000; quick 100,000)')
    .option('--vehicles <n>', 'distinct vehicles among them (default 250,000; quick 25,000)')
    .option('--rates <list>', 'fixed produce rates of the latency runs, msg/s (default 1000,5000,20000)')
    .option('--duration <d>', 'how long each rate is sustained (default 60s; quick 8s)')
    .option('--partitions <n>', 'partitions of the bench topics (default 3)')
    .option('--cpu-prof', 'profile the processor replay (node --cpu-prof) and summarise where time goes')
    .option(
      '--only <steps>',
      'comma-separated subset of: ceilings, producer, replay (with fleet replay into Redis only), events, peer, latency, wire, scale',
    )
    .option(
      '--processors <list>',
      'also replay the pre-loaded topic with each count of `fleet process` children in one group (e.g. 1,2,3): throughput and CPU per record',
    )
    .option('--keep-services', 'leave the bench Kafka and Redis running afterwards')
    .option('--out <dir>', 'where results/, README.md and profiles go (default bench)')
    .option('--note <text>', 'free text stored with the results (e.g. machine load)')
    .option('--no-changelog', 'replay without the table changelog (STATE_CHANGELOG=false), to see its cost')
    .option(
      '--render <results.json>',
      'measure nothing: print (and for a full run keep in README.md) the table of a results file',
    )
    .action(
      action(async (flags: Record<string, string | boolean | undefined>) => {
        if (!existsSync(fileURLToPath(HARNESS))) {
          throw new ServiceError('fleet bench runs from a source checkout (bench/ is not part of the build)');
        }
        // A computed specifier keeps bench/ out of the build's program (rootDir is src/).
        const harness = (await import(HARNESS.href)) as BenchHarness;
        process.exitCode = await harness.runFromCli(flags);
      }),
    );
}
