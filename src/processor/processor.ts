import type { Kafka, RetryOptions } from 'kafkajs';
import type { Registry } from 'prom-client';
import type { SchedulerLike } from 'rxjs';
import type { Config } from '../config/config.js';
import { createKafka } from '../kafka/client.js';
import { topicPartitionCount } from '../kafka/topic-partitions.js';
import { checkKafkaAccess } from '../kafka/preflight.js';
import { LogEvents, silentLogger, type Logger } from '../logger.js';
import { defaultRegistry } from '../metrics.js';
import { createKafkaDeadLetterSink, type DeadLetterSink } from '../sinks/dead-letter-sink.js';
import { createWarehouse } from '../sinks/create-warehouse.js';
import type { WarehouseSink } from '../sinks/warehouse-sink.js';
import { KafkaSource } from '../sources/kafka-source.js';
import type { LatestStateTable } from '../state/latest-state-table.js';
import { createRedisStateTable } from '../state/redis-state-table.js';
import { checkTableLayout } from '../state/table-layout.js';
import { openKafkaStateChangelog } from '../state/kafka-state-changelog.js';
import { loggedTable } from '../state/logged-state-table.js';
import type { StateChangelog } from '../state/state-changelog.js';
import { startServiceEmf } from '../emf-services.js';
import { watchGroupLag } from './group-lag.js';
import { OwnedResources } from './lifecycle.js';
import { Processor, type ProcessorHandle } from './processor-handle.js';
import { processorMetrics } from '../stream/processor-metrics.js';
import { positionsTopology } from '../topology/pipeline.js';
import { WriterSchemas, type SchemaSource } from '../topology/writer-schemas.js';
import { SchemaRegistryClient } from '../kafka/schema-registry.js';
import type { RetryPolicy } from '../topology/sink-writer.js';

export {
  DEFAULT_STOP_TIMEOUT_MS,
  type ProcessorHandle,
  type ProcessorHealth,
  type ProcessorState,
  type StopReport,
} from './processor-handle.js';

/**
 * Records in flight are also capped at this many warehouse batches: enough for one batch being
 * written, one filling and one queued, while keeping the heap bounded when records are small.
 */
const UNFLUSHED_RECORDS_PER_BATCH = 4;
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
  /** `null`: the table's updates are not logged (replay). @default the configured changelog */
  changelog?: StateChangelog | null;
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
  /** Where Avro writer schemas come from. @default the SCHEMA_REGISTRY_URL client, if set */
  schemaSource?: SchemaSource;
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
  if (!deps.kafka) await checkKafkaAccess(config.kafka);
  const kafka = deps.kafka ?? createKafka(config.kafka, { logger, role: 'processor' });
  const owned = new OwnedResources(logger);
  const closeOwned = () => owned.closeAll();

  try {
    const table =
      deps.table ??
      owned.own(
        'table',
        createRedisStateTable({
          ...config.redis,
          partitions: topicPartitionCount(kafka, config.topic.name),
          logger,
          registry,
        }),
      );
    // A table sharded for another partition count (or the old layout) must be rebuilt first.
    await checkTableLayout(table, logger);
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

    let changelog = deps.changelog;
    if (changelog === undefined) {
      changelog = await openKafkaStateChangelog(kafka, config.topic);
      if (changelog) owned.own('changelog', changelog);
    }

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
      ...(warehouse?.committedOffsets ? { resumeFrom: warehouse.committedOffsets.bind(warehouse) } : {}),
    });
    const processor = new Processor(source, logger, closeOwned);
    const abort = new AbortController();
    const schemaSource =
      deps.schemaSource ??
      (config.schemaRegistry ? new SchemaRegistryClient(config.schemaRegistry) : undefined);
    const writerSchemas = schemaSource
      ? new WriterSchemas(schemaSource, { logger, signal: abort.signal })
      : undefined;
    const topology$ = positionsTopology(
      source.chunks$,
      {
        table: changelog ? loggedTable(table, changelog) : table,
        ...(warehouse ? { warehouse } : {}),
        ...(deadLetters ? { deadLetters } : {}),
      },
      source,
      {
        batch: config.batch,
        // The gateway's rule too: a future-dated record produced straight to the topic is dead-lettered.
        decode: { bounds: { maxFutureMs: config.maxFutureSkewMs } },
        retry: { ...deps.retry, signal: abort.signal },
        metrics,
        logger,
        flush$: source.rebalance$,
        observeLatency: deps.observeLatency ?? true,
        ...(writerSchemas ? { writerSchemas } : {}),
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
    const emf = startServiceEmf('processor', {
      enabled: config.metrics.emf,
      intervalMs: config.metrics.emfIntervalMs,
      topic: config.topic.name,
      registry,
      logger,
    });
    if (emf) owned.own('emf', { close: () => emf.stop() });
    if (config.metrics.groupLagIntervalMs > 0) {
      const lag = watchGroupLag({
        admin: kafka.admin(),
        groupId: deps.groupId ?? config.consumer.groupId,
        topic: config.topic.name,
        gauge: metrics.groupLag,
        intervalMs: config.metrics.groupLagIntervalMs,
        logger,
      });
      owned.own('group-lag', { close: () => lag.stop() });
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
