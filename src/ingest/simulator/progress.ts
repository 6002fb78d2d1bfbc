import { asyncScheduler, interval, type SchedulerLike, type Subscription } from 'rxjs';
import type { Logger } from '../../logger.js';
import type { SimulationProgress } from './simulation.js';

export interface ProgressReporterOptions {
  progress: () => SimulationProgress;
  /** TTY: a live status line on `stream`; otherwise a JSON log line every `logEveryMs`. */
  tty: boolean;
  stream?: NodeJS.WritableStream;
  logger: Logger;
  scheduler?: SchedulerLike;
  /** @default 1000 */
  refreshMs?: number;
  /** @default 10_000 */
  logEveryMs?: number;
}

/** One human line: `12.0s  sent 1,234  acked 1,230 (4,980/s)  errors 0  active 45/50`. */
export function formatProgress(p: SimulationProgress, ratePerSec: number): string {
  const n = (x: number) => Math.round(x).toLocaleString('en-US');
  const parts = [
    `${(p.elapsedMs / 1000).toFixed(1)}s`,
    `sent ${n(p.generated)}`,
    `acked ${n(p.acked)} (${n(ratePerSec)}/s)`,
    `errors ${n(p.failed)}`,
    `queued ${n(p.outstanding)}`,
    `active ${p.active}/${p.vehicles}`,
  ];
  if (p.lastError && p.failed > 0) parts.push(`last error: ${p.lastError.slice(0, 80)}`);
  return parts.join('  ');
}

/** Shows live progress while a simulation runs; returns a function that stops it. */
export function reportProgress(options: ProgressReporterOptions): () => void {
  const scheduler = options.scheduler ?? asyncScheduler;
  const every = options.tty ? (options.refreshMs ?? 1000) : (options.logEveryMs ?? 10_000);
  const stream = options.stream ?? process.stderr;
  let last = { at: scheduler.now(), acked: 0 };
  const sub: Subscription = interval(every, scheduler).subscribe(() => {
    const p = options.progress();
    const now = scheduler.now();
    const rate = ((p.acked - last.acked) * 1000) / Math.max(1, now - last.at);
    last = { at: now, acked: p.acked };
    if (options.tty) stream.write(`\r\x1b[2K${formatProgress(p, rate)}`);
    else options.logger.info({ ...p, ratePerSec: Math.round(rate) }, 'simulation progress');
  });
  return () => {
    sub.unsubscribe();
    if (options.tty) stream.write('\n');
  };
}
