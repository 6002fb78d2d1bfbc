import type { Observable, SchedulerLike } from 'rxjs';
import type { BatchConfig } from '../config/config.js';
import type { Logger } from '../logger.js';
import type { WarehouseSink } from '../sinks/warehouse-sink.js';
import type { SourceChunk } from '../stream/source-chunk.js';
import type { LatestStateTable } from '../state/latest-state-table.js';
import type { DurableBatch } from '../stream/batch.js';
import { commitWhenDurable, type Committer } from '../stream/commit-when-durable.js';
import { ChunkTopology } from '../stream/dsl/chunk-stream.js';
import {
  deadLetterBytes,
  decodePositions,
  positionRecordBytes,
  type DecodeOptions,
} from './decode-positions.js';
import type { ProcessorMetrics } from '../stream/processor-metrics.js';
import type { RetryPolicy } from './sink-writer.js';
import { loadWriterSchemas, type WriterSchemas } from './writer-schemas.js';
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
  decode?: Omit<DecodeOptions, 'writerSchemas'>;
  /** Writer schemas of Avro records (SCHEMA_REGISTRY_URL); absent: Avro records are dead-lettered. */
  writerSchemas?: WriterSchemas;
  /** Each emission flushes every open window (rebalance). */
  flush$?: Observable<unknown>;
  /** Record event time → Redis-visible latency. @default true */
  observeLatency?: boolean;
}

/** Dead letters are rare: small, quick windows. */
const DLQ_WINDOW = { maxRecords: 500, maxBytes: 1024 * 1024, maxWaitMs: 100 };

/**
 * The production topology, written with the chunked DSL ({@link ChunkTopology}: Kafka Streams'
 * verbs, one emission per fetch). Reads like the data flow: decode, branch valid / invalid, valid
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

  const topology = new ChunkTopology<DurableBatch>();
  const [valid, invalid] = topology
    .stream(chunks$)
    .process(loadWriterSchemas(options.writerSchemas))
    .process(
      decodePositions({
        ...options.decode,
        ...(options.writerSchemas ? { writerSchemas: options.writerSchemas } : {}),
        ...(options.metrics ? { metrics: options.metrics } : {}),
      }),
    )
    .split(
      (decoded) => decoded.valid,
      (decoded) => decoded.invalid,
    );

  valid
    .windowedBy({ ...window(batch.stateMaxWaitMs), sizeOf: positionRecordBytes })
    .to(toTable(sinks.table, { ...stage, observeLatency: options.observeLatency ?? true }));
  if (sinks.warehouse) {
    valid
      .windowedBy({ ...window(batch.maxWaitMs), sizeOf: positionRecordBytes })
      .to(toWarehouse(sinks.warehouse, stage));
  }
  if (sinks.deadLetters) {
    invalid
      .windowedBy({
        ...window(DLQ_WINDOW.maxWaitMs, DLQ_WINDOW.maxRecords, DLQ_WINDOW.maxBytes),
        sizeOf: deadLetterBytes,
      })
      .to(toDeadLetters(sinks.deadLetters, { ...stage, maxCoalesce: DLQ_WINDOW.maxRecords }));
  }

  return topology.build().pipe(commitWhenDurable(committer));
}
