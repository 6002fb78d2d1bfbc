import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Logger } from '../src/logger.js';
import { runCaptured } from './child-process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** How the bench runs `fleet` children. */
export interface FleetRuntime {
  /** `compiled`: dist/ as deployed (no TypeScript loader); `tsx`: from source (build failed). */
  kind: 'compiled' | 'tsx';
  /** Script node runs, followed by the command and its flags. */
  entry: string;
}

/**
 * Builds dist/ (`npm run build`) so the processor, API and simulator are measured as they are
 * deployed: compiled JavaScript, without tsx's loader thread, transpiling and its ~40 MB of RSS.
 * Falls back to running from source when the build emits nothing.
 */
export async function prepareFleetRuntime(workDir: string, logger: Logger): Promise<FleetRuntime> {
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const started = performance.now();
  // A/B experiments: BENCH_DIST=<dir> measures another compiled tree, BENCH_SKIP_BUILD=1 the dist/ there.
  const dist = process.env.BENCH_DIST ? path.resolve(process.env.BENCH_DIST) : path.join(ROOT, 'dist');
  const out =
    process.env.BENCH_SKIP_BUILD || process.env.BENCH_DIST
      ? { code: 0, stdout: '' }
      : await runCaptured(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json')], {
          timeoutMs: 5 * 60_000,
        });
  const main = path.join(dist, 'cli', 'main.js');
  if (!existsSync(main)) {
    logger.warn(
      { output: out.stdout.slice(-1000) },
      'build produced no dist/: running fleet from source (tsx)',
    );
    return { kind: 'tsx', entry: path.join(ROOT, 'bin', 'fleet.js') };
  }
  // tsc emits despite type errors (a teammate's file mid-edit): note them, measure what was emitted.
  if (out.code !== 0) logger.warn({ output: out.stdout.slice(-1000) }, 'build reported type errors');
  const entry = path.join(workDir, 'fleet-compiled.mjs');
  writeFileSync(
    entry,
    `import { main } from ${JSON.stringify(pathToFileURL(main).href)};\nawait main(process.argv);\n`,
  );
  logger.info({ s: Math.round((performance.now() - started) / 100) / 10 }, 'built dist/ for the bench');
  return { kind: 'compiled', entry };
}
