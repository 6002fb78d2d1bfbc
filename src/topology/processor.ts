import type { Kafka, RetryOptions } from 'kafkajs';
import type { Registry } from 'prom-client';
import { Subject, type Observable, type SchedulerLike, type Subscription } from 'rxjs';
import type { Config } from '../config/config.js';
import { errorMessage } from '../errors.js';
import { createKafka } from '../kafka/client.js';
import { LogEvents, silentLogger, type Logger } from '../logger.js';
import { defaultRegistry } from '../metrics.js';
import { createKafkaDeadLetterSink, type DeadLetterSink } from '../sinks/dead-letter-sink.js';
import { createWarehouse } from '../sinks/create-warehouse.js';
import type { WarehouseSink } from '../sinks/warehouse-sink.js';
import { KafkaSource } from '../sources/kafka-source.js';
import type { LatestStateTable } from '../state/latest-state-table.js';
import { createRedisStateTable } from '../state/redis-state-table.js';
import { OwnedResources, within } from './lifecycle.js';
import { processorMetrics } from './metrics.js';
import { positionsTopology } from './pipeline.js';
import type { RetryPolicy } from './sink-writer.js';

export type ProcessorState = 'RUNNING' | 'DRAINING' | 'STOPPED';

/** Shutdown budget: Fargate sends SIGKILL 30 s after SIGTERM. */
export const DEFAULT_STOP_TIMEOUT_MS = 25_000;
/**
 * Records in flight are also capped at this many warehouse batches: enough for one batch being
 * written, one filling and one queued, while keeping the heap bounded when records are small.
 */
const UNFLUSHED_RECORDS_PER_BATCH = 4;
/** Of the budget, what is kept for the final commit, leaving the group and closing. */
const STOP_RESERVE_MS = 4000;

export interface ProcessorDeps {
  logger?: Logger;
  /** @default defaultRegistry */
  registry?: Registry;
  kafka?: Kafka;
  /** Sinks passed in are used as they are and left open by `stop()`; missing ones come from config. */
  table?: LatestStateTable;
  /** `null`: no warehouse (replay without --warehouse). Passed in: must be `ready()`. */
  warehouse?: WarehouseSink | null;
  /** `null`: invalid records are counted and skipped (replay). */
  deadLetters?: DeadLetterSink | null;
  /** Time source of the micro-batch windows. @default asyncScheduler */
  scheduler?: SchedulerLike;
  /** Sink retry backoff (tests inject fast ones). Retries never give up while running. */
  retry?: Omit<RetryPolicy, 'signal'>;
  /** kafkajs retry of the consumer. */
  consumerRetry?: RetryOptions;
  /** Overrides of config.consumer (replay: a fresh group reading from the beginning). */
  groupId?: string;
  fromBeginning?: boolean;
  /** Observe event time → Redis-visible latency. @default true */
  observeLatency?: boolean;
}

export interface StopReport {
  /** Everything read was made durable and committed before the deadline. */
  clean: boolean;
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
  /** Resolves after a requested stop; rejects with the error that stopped the processor. */
  readonly done: Promise<void>;
  /** Stops fetching, flushes every window, commits what is durable, leaves the group. */
  stop(options?: { timeoutMs?: number }): Promise<StopReport>;
  health(): ProcessorHealth;
  /** The Kafka source (assignment, progress, commit tracker). */
  readonly source: KafkaSource;
}

/**
 * Starts `fleet process`: the Kafka source, the positions topology and its sinks (created from
 * config unless passed in). Resolves once the consumer has joined its group.
 */
export async function startProcessor(
  config: Readonly<Config>,
  deps: ProcessorDeps = {},
): Promise<ProcessorHandle> {
  const logger = (deps.logger ?? silentLogger).child({ component: 'processor' });
  const registry = deps.registry ?? defaultRegistry;
  const metrics = processorMetrics(registry);
  const kafka = deps.kafka ?? createKafka(config.kafka, { logger, role: 'processor' });
  const owned = new OwnedResources(logger);
  const closeOwned = () => owned.closeAll();

  try {
    const table =
      deps.table ?? owned.own('table', createRedisStateTable({ ...config.redis, logger, registry }));
    table.ping().catch((err: unknown) => {
      logger.warn({ err: errorMessage(err) }, 'latest-state table not reachable yet; writes will retry');
    });
    let warehouse = deps.warehouse;
    if (warehouse === undefined) {
      warehouse = owned.own('warehouse', await createWarehouse(config.warehouse, logger));
      await warehouse.ready();
    }
    const deadLetters =
      deps.deadLetters === undefined
        ? owned.own(
            'dead-letters',
            createKafkaDeadLetterSink({ kafka, topic: config.topic.dlq, logger, registry }),
          )
        : deps.deadLetters;

    const source = new KafkaSource({
      kafka,
      topic: config.topic.name,
      consumer: {
        ...config.consumer,
        ...(deps.groupId ? { groupId: deps.groupId } : {}),
        ...(deps.fromBeginning !== undefined ? { fromBeginning: deps.fromBeginning } : {}),
      },
      maxUnflushedBytes: config.batch.maxUnflushedBytes,
      maxUnflushedRecords: UNFLUSHED_RECORDS_PER_BATCH * config.batch.maxRecords,
      logger,
      metrics,
      ...(deps.consumerRetry ? { retry: deps.consumerRetry } : {}),
    });
    const processor = new Processor(source, logger, closeOwned);
    const abort = new AbortController();
    const topology$ = positionsTopology(
      source.chunks$,
      {
        table,
        ...(warehouse ? { warehouse } : {}),
        ...(deadLetters ? { deadLetters } : {}),
      },
      source,
      {
        batch: config.batch,
        retry: { ...deps.retry, signal: abort.signal },
        metrics,
        logger,
        flush$: source.rebalance$,
        observeLatency: deps.observeLatency ?? true,
        ...(deps.scheduler ? { scheduler: deps.scheduler } : {}),
      },
    );
    processor.run(topology$, abort);
    try {
      await source.start((err) => processor.fail(err));
    } catch (err) {
      await processor.stop({ timeoutMs: 5000 });
      throw err;
    }
    logger.info(
      {
        event: LogEvents.serviceStarted,
        topic: config.topic.name,
        group: deps.groupId ?? config.consumer.groupId,
      },
      'processor started',
    );
    return processor;
  } catch (err) {
    await closeOwned();
    throw err;
  }
}

class Processor implements ProcessorHandle {
  state: ProcessorState = 'RUNNING';
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private rejectDone!: (err: unknown) => void;
  private subscription: Subscription | null = null;
  private abort: AbortController | null = null;
  private readonly finished = new Subject<void>();
  private topologyEnded = false;
  private stopping: Promise<StopReport> | null = null;

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
        if (this.state === 'RUNNING') this.fail(err);
      },
      complete: () => this.ended(),
    });
  }

  /** A failure nothing can recover from: commit nothing more, say it loudly, stop. */
  fail(err: unknown): void {
    if (this.stopping) return;
    this.source.tracker.freeze();
    this.logger.fatal({ err: errorMessage(err) }, 'processor failed: stopped committing and shutting down');
    this.stopping = this.shutdown(DEFAULT_STOP_TIMEOUT_MS, err);
  }

  stop(options: { timeoutMs?: number } = {}): Promise<StopReport> {
    this.stopping ??= this.shutdown(options.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS, null);
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

  private async shutdown(timeoutMs: number, failure: unknown): Promise<StopReport> {
    const started = Date.now();
    const deadline = started + timeoutMs;
    const left = (reserve = 0) => Math.max(0, deadline - Date.now() - reserve);
    this.state = 'DRAINING';
    this.logger.info(
      { event: LogEvents.shutdown, timeoutMs },
      'draining: fetching stopped, flushing windows',
    );
    this.source.stopFetching();
    let clean = failure === null;
    if (failure === null) {
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
      this.source
        .disconnect()
        .catch((err) => this.logger.warn({ err: errorMessage(err) }, 'consumer disconnect failed')),
      left(500),
    );
    await within(this.closeOwned(), left());
    this.state = 'STOPPED';
    const durationMs = Date.now() - started;
    this.logger.info({ event: LogEvents.serviceStopped, durationMs, clean }, 'processor stopped');
    if (failure === null) this.resolveDone();
    else this.rejectDone(failure);
    return { clean, durationMs };
  }

  private whenEnded(): Promise<void> {
    if (this.topologyEnded) return Promise.resolve();
    return new Promise((resolve) => this.finished.subscribe({ complete: resolve }));
  }
}
