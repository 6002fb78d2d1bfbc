import { Subject, type Observable, type Subscription } from 'rxjs';
import { LogEvents, type Logger } from '../logger.js';
import type { KafkaSource } from '../sources/kafka-source.js';
import { within } from './lifecycle.js';

/**
 * RUNNING → DRAINING → STOPPED after a requested stop; → FAILED when an error stopped the processor
 * or arrived while it was draining (the first error is kept and rejects `done`).
 */
export type ProcessorState = 'RUNNING' | 'DRAINING' | 'STOPPED' | 'FAILED';

/** Shutdown budget: Fargate sends SIGKILL 30 s after SIGTERM. */
export const DEFAULT_STOP_TIMEOUT_MS = 25_000;
/** Of the budget, what is kept for the final commit, leaving the group and closing. */
const STOP_RESERVE_MS = 4000;

export interface StopReport {
  /** Everything read was made durable and committed before the deadline, and nothing failed. */
  clean: boolean;
  /** The first error that stopped the processor or arrived while it drained. */
  error?: unknown;
  durationMs: number;
}

export interface ProcessorHealth {
  state: ProcessorState;
  partitions: readonly number[];
  unflushedBytes: number;
  paused: boolean;
  openChunks: number;
}

export interface ProcessorHandle {
  readonly state: ProcessorState;
  /** Resolves after a clean requested stop; rejects with the first error (state FAILED). */
  readonly done: Promise<void>;
  /** Stops fetching, flushes every window, commits what is durable, leaves the group. */
  stop(options?: { timeoutMs?: number }): Promise<StopReport>;
  health(): ProcessorHealth;
  /** The Kafka source (assignment, progress, commit tracker). */
  readonly source: KafkaSource;
}

/**
 * A running processor's lifecycle: it subscribes the topology, and on a stop (or the first
 * failure) stops fetching, drains the windows within the budget, commits what is durable, leaves
 * the group and closes what it owns.
 */
export class Processor implements ProcessorHandle {
  state: ProcessorState = 'RUNNING';
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private rejectDone!: (err: unknown) => void;
  private subscription: Subscription | null = null;
  private abort: AbortController | null = null;
  private readonly finished = new Subject<void>();
  private topologyEnded = false;
  private stopping: Promise<StopReport> | null = null;
  /** The first failure; set once, never cleared. */
  private failure: { error: unknown } | null = null;

  constructor(
    readonly source: KafkaSource,
    private readonly logger: Logger,
    private readonly closeOwned: () => Promise<void>,
  ) {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // Whoever stops the processor learns about failures from `done`; never an unhandled rejection.
    this.done.catch(() => undefined);
  }

  run(topology$: Observable<unknown>, abort: AbortController): void {
    this.abort = abort;
    this.subscription = topology$.subscribe({
      error: (err: unknown) => {
        this.ended();
        // The shutdown deadline aborted the sink retries: already reported as an unclean stop.
        if (abort.signal.aborted && err === abort.signal.reason) return;
        this.fail(err);
      },
      complete: () => this.ended(),
    });
  }

  /**
   * A failure nothing can recover from: commit nothing more, say it loudly, stop. While already
   * draining (or stopped), the first failure is still kept: the stop then ends FAILED, not clean.
   */
  fail(err: unknown): void {
    if (this.failure || this.state === 'STOPPED') {
      this.logger.error({ err }, 'further error while stopping or stopped');
      return;
    }
    this.failure = { error: err };
    this.source.tracker.freeze();
    this.logger.fatal({ err }, 'processor failed: stopped committing and shutting down');
    this.stopping ??= this.shutdown(DEFAULT_STOP_TIMEOUT_MS);
  }

  stop(options: { timeoutMs?: number } = {}): Promise<StopReport> {
    this.stopping ??= this.shutdown(options.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS);
    return this.stopping;
  }

  health(): ProcessorHealth {
    return {
      state: this.state,
      partitions: this.source.assigned(),
      unflushedBytes: this.source.backpressure.bytes,
      paused: this.source.isPaused,
      openChunks: this.source.tracker.openTickets,
    };
  }

  private ended(): void {
    this.topologyEnded = true;
    this.finished.next();
    this.finished.complete();
  }

  private async shutdown(timeoutMs: number): Promise<StopReport> {
    const started = Date.now();
    const deadline = started + timeoutMs;
    const left = (reserve = 0) => Math.max(0, deadline - Date.now() - reserve);
    this.state = 'DRAINING';
    this.logger.info(
      { event: LogEvents.shutdown, timeoutMs },
      'draining: fetching stopped, flushing windows',
    );
    this.source.stopFetching();
    let clean = true;
    if (this.failure === null) {
      const drained = await within(this.whenEnded(), left(STOP_RESERVE_MS));
      if (!drained) {
        clean = false;
        this.logger.warn(
          { unflushedBytes: this.source.backpressure.bytes },
          'shutdown deadline reached with unflushed records: they will be read again',
        );
        this.abort?.abort(new Error('shutdown deadline'));
      }
      await within(this.source.commitNow(), left(1000));
    }
    this.subscription?.unsubscribe();
    await within(
      this.source.disconnect().catch((err) => this.logger.warn({ err: err }, 'consumer disconnect failed')),
      left(500),
    );
    await within(this.closeOwned(), left());
    const unflushedBytes = this.source.backpressure.bytes;
    // A failure (also one that arrived while draining) or records read but not made durable.
    if (this.failure !== null || unflushedBytes > 0) clean = false;
    this.state = this.failure === null ? 'STOPPED' : 'FAILED';
    const durationMs = Date.now() - started;
    this.logger.info(
      { event: LogEvents.serviceStopped, durationMs, clean, unflushedBytes, state: this.state },
      'processor stopped',
    );
    if (this.failure === null) {
      this.resolveDone();
      return { clean, durationMs };
    }
    this.rejectDone(this.failure.error);
    return { clean, durationMs, error: this.failure.error };
  }

  private whenEnded(): Promise<void> {
    if (this.topologyEnded) return Promise.resolve();
    return new Promise((resolve) => this.finished.subscribe({ complete: resolve }));
  }
}
