import { asyncScheduler, interval, type SchedulerLike, type Subscription } from 'rxjs';
import { errorMessage } from '../../errors.js';
import { silentLogger, type Logger } from '../../logger.js';
import type { Publisher } from '../publisher.js';
import type { Fleet } from './fleet.js';

export interface SimulationOptions {
  fleet: Fleet;
  publisher: Publisher;
  /** Clock and ticks. @default asyncScheduler */
  scheduler?: SchedulerLike;
  /** Simulated time = scheduler.now() + this (lets `--start` pick another day). @default 0 */
  clockOffsetMs?: number;
  /** How often due reports are collected and published together. @default 100 (ms) */
  tickMs?: number;
  /** Stop after this much time (reports due before it are published unless throttled); undefined = until stop(). */
  durationMs?: number;
  /** Positions published but not yet acknowledged before the simulation waits. @default 100_000 */
  maxOutstanding?: number;
  logger?: Logger;
}

export interface SimulationProgress {
  /** Simulated ms since the start. */
  elapsedMs: number;
  generated: number;
  acked: number;
  failed: number;
  outstanding: number;
  /** Vehicles driving (not parked). */
  active: number;
  vehicles: number;
  /** Ticks skipped because too many positions waited for Kafka. */
  throttledTicks: number;
  lastError?: string;
}

/**
 * Drives a {@link Fleet} in real time: every tick, the reports due by the simulated clock are
 * published as one call (never one call per position). When the publisher falls behind by
 * `maxOutstanding` positions the simulation waits, so a slow broker lowers the rate instead of
 * filling memory.
 */
export class Simulation {
  private readonly scheduler: SchedulerLike;
  private readonly logger: Logger;
  private readonly startSim: number;
  private readonly maxOutstanding: number;
  private readonly stats: SimulationProgress;
  private ticks: Subscription | undefined;
  private done: (() => void) | undefined;
  private stopped = false;
  private lastErrorLog = 0;

  constructor(private readonly options: SimulationOptions) {
    this.scheduler = options.scheduler ?? asyncScheduler;
    this.logger = (options.logger ?? silentLogger).child({ component: 'simulator' });
    this.startSim = this.simNow();
    this.maxOutstanding = options.maxOutstanding ?? 100_000;
    this.stats = {
      elapsedMs: 0,
      generated: 0,
      acked: 0,
      failed: 0,
      outstanding: 0,
      active: 0,
      vehicles: options.fleet.vehicles.length,
      throttledTicks: 0,
    };
  }

  /** Runs until the duration is over or stop() is called, then waits for every publish to settle. */
  run(): Promise<SimulationProgress> {
    return new Promise((resolve) => {
      this.done = () => resolve(this.progress());
      this.ticks = interval(this.options.tickMs ?? 100, this.scheduler).subscribe(() => this.tick());
    });
  }

  /** Stops generating; run() resolves once outstanding publishes have settled. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.ticks?.unsubscribe();
    this.settleIfIdle();
  }

  progress(): SimulationProgress {
    return { ...this.stats, active: this.options.fleet.activeCount };
  }

  private simNow(): number {
    return this.scheduler.now() + (this.options.clockOffsetMs ?? 0);
  }

  private tick(): void {
    if (this.stopped) return;
    const now = this.simNow();
    const end = this.options.durationMs === undefined ? Infinity : this.startSim + this.options.durationMs;
    const until = Math.min(now, end - 1);
    const room = this.maxOutstanding - this.stats.outstanding;
    if (room <= 0) {
      this.stats.throttledTicks++;
    } else {
      const positions = this.options.fleet.advanceTo(until, room);
      this.stats.elapsedMs = Math.max(0, Math.min(until, now) - this.startSim);
      if (positions.length > 0) this.send(positions.length, positions);
    }
    // The duration is real time: a throttled run stops with its backlog unpublished.
    if (now >= end) this.stop();
  }

  private send(n: number, positions: Parameters<Publisher['publish']>[0]): void {
    this.stats.generated += n;
    this.stats.outstanding += n;
    this.options.publisher.publish(positions).then(
      () => {
        this.stats.acked += n;
        this.stats.outstanding -= n;
        this.settleIfIdle();
      },
      (err: unknown) => {
        this.stats.failed += n;
        this.stats.outstanding -= n;
        this.stats.lastError = errorMessage(err);
        const now = this.scheduler.now();
        if (now - this.lastErrorLog > 5000) {
          this.lastErrorLog = now;
          this.logger.warn(
            { err: this.stats.lastError, failed: this.stats.failed },
            'positions not published',
          );
        }
        this.settleIfIdle();
      },
    );
  }

  private settleIfIdle(): void {
    if (this.stopped && this.stats.outstanding === 0 && this.done) {
      const done = this.done;
      this.done = undefined;
      done();
    }
  }
}
