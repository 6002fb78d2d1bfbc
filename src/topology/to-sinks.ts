import type { OperatorFunction } from 'rxjs';
import { jsonCodec } from '../domain/codec.js';
import type { DeadLetter, PositionRecord } from '../domain/records.js';
import { errorMessage } from '../errors.js';
import { LogEvents, silentLogger, type Logger } from '../logger.js';
import { retry } from '../retry.js';
import type { WarehouseSink } from '../sinks/warehouse-sink.js';
import type { LatestStateTable } from '../state/latest-state-table.js';
import type { Batch, DurableBatch } from '../stream/batch.js';
import type { ProcessorMetrics } from '../stream/processor-metrics.js';
import { writeToSink, type RetryPolicy, type SinkWriterHooks } from './sink-writer.js';

/** What the topology needs of the dead-letter sink (`DeadLetterSink` satisfies it). */
export interface DeadLetterWriter {
  write(letters: readonly DeadLetter[]): Promise<void>;
}

export interface SinkStageOptions {
  /** Merge queued batches up to this many records while the sink is busy. */
  maxCoalesce: number;
  retry?: RetryPolicy;
  metrics?: ProcessorMetrics;
  logger?: Logger;
  /** Where records a sink rejects alone (poison) go; without it such a rejection is fatal. */
  deadLetters?: DeadLetterWriter;
}

/**
 * Kafka-Streams `toTable`: upserts each batch into the latest-state table (forward-only in event
 * time) and emits it once Redis holds it. Observes event time → visible latency per record.
 */
export function toTable(
  table: Pick<LatestStateTable, 'upsert' | 'ping'>,
  options: SinkStageOptions & { observeLatency?: boolean; now?: () => number },
): OperatorFunction<Batch<PositionRecord>, DurableBatch<PositionRecord>> {
  const now = options.now ?? Date.now;
  const observe = options.observeLatency ?? true;
  return writeToSink<PositionRecord>({
    name: 'table',
    write: async (items) => {
      await table.upsert(items);
      const histogram = options.metrics?.eventToVisible;
      if (observe && histogram) {
        const t = now();
        for (const r of items) histogram.observe(Math.max(0, t - r.position.ts) / 1000);
      }
    },
    ping: () => table.ping(),
    ...isolation('table', options),
    ...hooks('table', options),
    maxCoalesce: options.maxCoalesce,
    ...(options.retry ? { retry: options.retry } : {}),
  });
}

/**
 * Appends each batch to the warehouse (idempotent on the record's coordinates and on the position,
 * vehicle and event time) and counts what it skipped.
 */
export function toWarehouse(
  warehouse: Pick<WarehouseSink, 'write' | 'ping'>,
  options: SinkStageOptions,
): OperatorFunction<Batch<PositionRecord>, DurableBatch<PositionRecord>> {
  return writeToSink<PositionRecord>({
    name: 'warehouse',
    write: async (items) => {
      const result = await warehouse.write(items);
      const counter = options.metrics?.warehouseDuplicates;
      if (counter && result.duplicates > 0) {
        counter.inc({ kind: 'record' }, result.duplicates - result.positionDuplicates);
        counter.inc({ kind: 'position' }, result.positionDuplicates);
      }
    },
    ping: () => warehouse.ping(),
    ...isolation('warehouse', options),
    ...hooks('warehouse', options),
    maxCoalesce: options.maxCoalesce,
    ...(options.retry ? { retry: options.retry } : {}),
  });
}

/** Writes dead letters to the DLQ topic. A DLQ that rejects a record non-retriably is fatal. */
export function toDeadLetters(
  dlq: DeadLetterWriter,
  options: Omit<SinkStageOptions, 'deadLetters'>,
): OperatorFunction<Batch<DeadLetter>, DurableBatch<DeadLetter>> {
  return writeToSink<DeadLetter>({
    name: 'dead-letters',
    write: async (letters) => {
      await dlq.write(letters);
      options.metrics?.deadLettered.inc({ stage: 'decode' }, letters.length);
    },
    ...hooks('dead-letters', options),
    maxCoalesce: options.maxCoalesce,
    ...(options.retry ? { retry: options.retry } : {}),
  });
}

function isolation(
  sink: string,
  options: SinkStageOptions,
): { isolate?: (items: readonly PositionRecord[], error: unknown) => Promise<void> } {
  const dlq = options.deadLetters;
  if (!dlq) return {};
  const logger = options.logger ?? silentLogger;
  return {
    isolate: async (items, error) => {
      const letters = items.map((r) => poisonLetter(sink, r, error));
      await retry(() => dlq.write(letters), { ...options.retry, retries: Infinity });
      options.metrics?.deadLettered.inc({ stage: sink }, letters.length);
      for (const l of letters) {
        logger.error(
          { event: LogEvents.deadLetter, sink, partition: l.partition, offset: l.offset },
          l.reason,
        );
      }
    },
  };
}

function poisonLetter(sink: string, record: PositionRecord, error: unknown): DeadLetter {
  return {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    key: Buffer.from(record.position.vehicleId),
    value: jsonCodec.encode(record.position),
    reason: `rejected by the ${sink}: ${errorMessage(error)}`,
    errorType: error instanceof Error ? error.name : 'Error',
  };
}

function hooks<T>(sink: string, options: Omit<SinkStageOptions, 'deadLetters'>): SinkWriterHooks<T> {
  const { metrics } = options;
  const logger = options.logger ?? silentLogger;
  return {
    onFlushed: (batch, seconds) => {
      if (!metrics) return;
      metrics.batchesFlushed.inc({ sink });
      metrics.recordsFlushed.inc({ sink }, batch.items.length);
      metrics.flushDuration.observe({ sink }, seconds);
      metrics.batchRecords.observe({ sink }, batch.items.length);
    },
    onRetry: ({ attempt, delayMs, error }) => {
      metrics?.sinkRetries.inc({ sink });
      logger.warn(
        { event: LogEvents.batchRetry, sink, attempt, delayMs, err: error },
        `${sink} write failed; retrying`,
      );
    },
  };
}
