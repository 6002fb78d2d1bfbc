import { EMPTY, merge, type Observable, type SchedulerLike } from 'rxjs';
import type { BatchConfig } from '../config/config.js';
import type { PositionRecord } from '../domain/records.js';
import type { Logger } from '../logger.js';
import type { WarehouseSink } from '../sinks/warehouse-sink.js';
import type { SourceChunk } from '../sources/source-chunk.js';
import type { LatestStateTable } from '../state/latest-state-table.js';
import type { DurableBatch } from './batch.js';
import { commitWhenDurable, type Committer } from './commit-when-durable.js';
import {
  branchValid,
  deadLetterBytes,
  decodePositions,
  positionRecordBytes,
  type DecodeOptions,
} from './decode-positions.js';
import type { ProcessorMetrics } from './metrics.js';
import { microBatches } from './micro-batches.js';
import type { RetryPolicy } from './sink-writer.js';
import { toDeadLetters, toTable, toWarehouse, type DeadLetterWriter } from './to-sinks.js';

export interface TopologySinks {
  table: Pick<LatestStateTable, 'upsert' | 'ping'>;
  /** Absent: positions only go to the table (replay without --warehouse). */
  warehouse?: Pick<WarehouseSink, 'write' | 'ping'>;
  /** Absent: invalid records are counted and skipped (replay: they are in the DLQ already). */
  deadLetters?: DeadLetterWriter;
}

export interface TopologyOptions {
  batch: BatchConfig;
  scheduler?: SchedulerLike;
  retry?: RetryPolicy;
  metrics?: ProcessorMetrics;
  logger?: Logger;
  decode?: DecodeOptions;
  /** Each emission flushes every open window (rebalance). */
  flush$?: Observable<unknown>;
  /** Record event time → Redis-visible latency. @default true */
  observeLatency?: boolean;
}

/** Dead letters are rare: small, quick windows. */
const DLQ_WINDOW = { maxRecords: 500, maxBytes: 1024 * 1024, maxWaitMs: 100 };

/**
 * The production topology. Reads like the data flow: decode, branch valid / invalid, valid
 * positions into the Redis table in small fast windows (STATE_FLUSH_MAX_WAIT_MS) and into the
 * warehouse in 5 s / size-bounded micro-batches, invalid records into the DLQ; a source range is
 * committed once every one of those sinks made it durable.
 */
export function positionsTopology(
  chunks$: Observable<SourceChunk>,
  sinks: TopologySinks,
  committer: Committer | undefined,
  options: TopologyOptions,
): Observable<DurableBatch> {
  const { batch, scheduler, flush$ } = options;
  const stage = {
    maxCoalesce: batch.maxRecords,
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(sinks.deadLetters ? { deadLetters: sinks.deadLetters } : {}),
  };
  const window = (maxWaitMs: number, maxRecords = batch.maxRecords, maxBytes = batch.maxBytes) => ({
    maxRecords,
    maxBytes,
    maxWaitMs,
    ...(scheduler ? { scheduler } : {}),
    ...(flush$ ? { flush$ } : {}),
  });

  const [valid$, invalid$] = branchValid(
    chunks$.pipe(
      decodePositions({ ...options.decode, ...(options.metrics ? { metrics: options.metrics } : {}) }),
    ),
  );

  const table$ = valid$.pipe(
    microBatches<PositionRecord>({ ...window(batch.stateMaxWaitMs), sizeOf: positionRecordBytes }),
    toTable(sinks.table, { ...stage, observeLatency: options.observeLatency ?? true }),
  );
  const warehouse$ = sinks.warehouse
    ? valid$.pipe(
        microBatches<PositionRecord>({ ...window(batch.maxWaitMs), sizeOf: positionRecordBytes }),
        toWarehouse(sinks.warehouse, stage),
      )
    : EMPTY;
  const deadLetters$ = sinks.deadLetters
    ? invalid$.pipe(
        microBatches({
          ...window(DLQ_WINDOW.maxWaitMs, DLQ_WINDOW.maxRecords, DLQ_WINDOW.maxBytes),
          sizeOf: deadLetterBytes,
        }),
        toDeadLetters(sinks.deadLetters, { ...stage, maxCoalesce: DLQ_WINDOW.maxRecords }),
      )
    : EMPTY;

  return merge(table$, warehouse$, deadLetters$).pipe(commitWhenDurable(committer));
}
