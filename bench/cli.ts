import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDuration } from '../src/cli/context.js';
import { createLogger } from '../src/logger.js';
import { resolveOptions, type RawBenchFlags } from './options.js';
import { keepTableInReadme, markdownTable } from './report.js';
import type { BenchResults } from './results.js';
import { runBench } from './run.js';

/** Entry of `fleet bench`: flags → options → run → table on stdout. Returns the exit code. */
export async function runFromCli(flags: Record<string, string | boolean | undefined>): Promise<number> {
  const text = (name: string) => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined);
  const render = text('render');
  if (render) {
    // Re-renders a stored results file (after a change of the table's layout), nothing is measured.
    // The stored JSON is not rewritten; a full run's table goes back into the README.
    const results = JSON.parse(readFileSync(render, 'utf8')) as BenchResults;
    const table = markdownTable(results);
    if (results.mode === 'full')
      await keepTableInReadme(
        text('out') ?? path.dirname(path.dirname(render)),
        table,
        path.basename(render),
      );
    process.stdout.write(`${table}\n`);
    return 0;
  }
  const raw: RawBenchFlags = {
    quick: flags.quick === true,
    cpuProf: flags.cpuProf === true,
    keepServices: flags.keepServices === true,
    ...(text('records') ? { records: text('records') } : {}),
    ...(text('vehicles') ? { vehicles: text('vehicles') } : {}),
    ...(text('rates') ? { rates: text('rates') } : {}),
    ...(text('duration') ? { duration: parseDuration(text('duration')!, '--duration') } : {}),
    ...(text('partitions') ? { partitions: text('partitions') } : {}),
    ...(text('only') ? { only: text('only') } : {}),
    ...(text('processors') ? { processors: text('processors') } : {}),
    ...(text('out') ? { out: text('out') } : {}),
    ...(text('note') ? { note: text('note') } : {}),
  };
  const options = resolveOptions(raw);
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'info', destination: 2 });
  const started = performance.now();
  const { table, file, results } = await runBench(options, logger);
  const seconds = Math.round((performance.now() - started) / 1000);
  process.stdout.write(`\n${table}\n\nResults: ${file} (${seconds} s)\n`);
  const profile = results.details.replay?.profile;
  if (profile) {
    process.stdout.write(
      `\nProcessor CPU profile (${profile.file}), busy ${profile.busyMs} of ${profile.totalMs} ms:\n`,
    );
    for (const a of profile.areas)
      process.stdout.write(`  ${a.area.padEnd(30)} ${String(a.ms).padStart(9)} ms  ${a.pct}%\n`);
    process.stdout.write('Top functions (self time):\n');
    for (const f of profile.topFunctions)
      process.stdout.write(`  ${String(f.ms).padStart(9)} ms  ${f.pct}%  ${f.fn}\n`);
  }
  logger.flush();
  return Object.keys(results.details.errors).length > 0 ? 1 : 0;
}
