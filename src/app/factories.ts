import { getHeapStatistics } from 'node:v8';
import { kafkaReadiness, type KafkaReadiness } from '../api/kafka-readiness.js';
import { startApiServer, type ApiServerOptions, type RunningApiServer } from '../api/server.js';
import type { Config } from '../config/config.js';
import { startGatewayServer, type GatewayServerOptions } from '../ingest/gateway/server.js';
import { openDeviceRegistry, type OpenDeviceRegistry } from '../ingest/gateway/device-registry.js';
import { createWirePublisher } from '../ingest/publisher.js';
import type { Publisher, PositionPublisherOptions } from '../ingest/publisher-types.js';
import { createKafka } from '../kafka/client.js';
import type { Logger } from '../logger.js';
import {
  startMetricsServer,
  type MetricsServer,
  type MetricsServerOptions,
} from '../processor/metrics-server.js';
import { startProcessor, type ProcessorDeps, type ProcessorHandle } from '../processor/processor.js';
import { createEventsWarehouse, createWarehouse } from '../sinks/create-warehouse.js';
import type { EventsWarehouse } from '../sinks/events-warehouse.js';
import {
  startEventsProcessor,
  type EventsProcessorDeps,
  type EventsProcessorHandle,
} from '../processor/events-processor.js';
import { startEventsSink, type EventsSinkDeps, type EventsSinkHandle } from '../processor/events-sink.js';
import { openKafkaGeofenceStore, type OpenGeofenceStore } from '../api/kafka-geofence-store.js';
import type { Warehouse } from '../sinks/warehouse-sink.js';
import type { LatestStateTable } from '../state/latest-state-table.js';
import { createRedisStateTable, RedisStateTable } from '../state/redis-state-table.js';
import { defaultReplicaMaxVehicles, ReplicatedStateTable } from '../state/replicated-state-table.js';
import { checkTableLayout } from '../state/table-layout.js';
import { topicPartitionCount } from '../kafka/topic-partitions.js';
import type { Subscribe } from '../api/live-stream.js';
import type { VehicleEvent } from '../domain/vehicle-event.js';
import { vehicleEventFeed } from '../sources/vehicle-event-feed.js';

/** A publisher the composition root owns: connected on start, flushed and closed on stop. */
export interface OwnedPublisher extends Publisher {
  connect(): Promise<void>;
  close(options?: { timeoutMs?: number }): Promise<void>;
}

export type PublisherOptions = Omit<PositionPublisherOptions, 'kafka' | 'topic' | 'logger' | 'codec'>;

/**
 * How each service is made: the real adapters by default; unit tests of the wiring pass fakes of
 * these ports (never of Kafka, Redis or DuckDB clients).
 */
export interface ServiceFactories {
  /** The table, its layout checked (sharded for the topic's partition count). */
  table(config: Readonly<Config>, logger: Logger): Promise<LatestStateTable>;
  /**
   * What the API reads the table through: an in-memory replica of `table` fed by its change feed
   * (API_STATE_REPLICA_MAX_VEHICLES, default on), started; or `table` itself. `close` closes only
   * the replica (the table has its own owner).
   */
  stateReader(
    config: Readonly<Config>,
    table: LatestStateTable,
    logger: Logger,
  ): Promise<{ table: LatestStateTable; close(): Promise<void> }>;
  /** A warehouse that is `ready()`. */
  warehouse(config: Readonly<Config>, logger: Logger): Promise<Warehouse>;
  kafkaReadiness(config: Readonly<Config>, logger: Logger): KafkaReadiness;
  processor(config: Readonly<Config>, deps: ProcessorDeps): Promise<ProcessorHandle>;
  /** A publisher in the configured wire format (JSON, or Avro with its schema registered). */
  publisher(config: Readonly<Config>, logger: Logger, options: PublisherOptions): Promise<OwnedPublisher>;
  apiServer(options: ApiServerOptions & { config: Readonly<Config> }): Promise<RunningApiServer>;
  gateway(options: GatewayServerOptions): Promise<{ address: string; close(): Promise<void> }>;
  metricsServer(options: MetricsServerOptions): Promise<MetricsServer>;
  /** The device registry in Redis: the gateway's checks and the API's `/v1/devices`. */
  devices(config: Readonly<Config>, logger: Logger): OpenDeviceRegistry;
  /** The live feed of the events topic (`/v1/events/stream`); it connects per subscription. */
  eventFeed(config: Readonly<Config>, logger: Logger): Subscribe<VehicleEvent>;
  /** The API's geofences: GEOFENCES_TOPIC followed as a table (loaded), writes through the publisher. */
  geofences(config: Readonly<Config>, logger: Logger): Promise<OpenGeofenceStore>;
  /** `fleet events-process`: positions → vehicle events, exactly once (and webhooks when configured). */
  eventsProcessor(config: Readonly<Config>, deps: EventsProcessorDeps): Promise<EventsProcessorHandle>;
  eventsSink(config: Readonly<Config>, deps: EventsSinkDeps): Promise<EventsSinkHandle>;
  /** The events table beside the positions in `warehouse` (ready), ready. */
  eventsWarehouse(config: Readonly<Config>, warehouse: Warehouse): Promise<EventsWarehouse>;
}

/** `ready()`, or closed again when that fails. */
async function readyOrClosed<T extends { ready(): Promise<void>; close(): Promise<void> }>(
  resource: T,
): Promise<T> {
  try {
    await resource.ready();
  } catch (err) {
    await resource.close().catch(() => undefined);
    throw err;
  }
  return resource;
}

export const realFactories: ServiceFactories = {
  table: async (config, logger) => {
    const table = createRedisStateTable({
      ...config.redis,
      partitions: topicPartitionCount(createKafka(config.kafka, { logger, role: 'api' }), config.topic.name),
      logger,
    });
    try {
      // A table sharded for another partition count (or the old layout) must be rebuilt first.
      await checkTableLayout(table, logger);
    } catch (err) {
      await table.close().catch(() => undefined);
      throw err;
    }
    return table;
  },
  stateReader: async (config, table, logger) => {
    const maxVehicles =
      config.api.stateReplicaMaxVehicles ?? defaultReplicaMaxVehicles(getHeapStatistics().heap_size_limit);
    if (maxVehicles === 0 || !(table instanceof RedisStateTable)) return { table, close: async () => {} };
    const replica = new ReplicatedStateTable({ table, feed: table.stateFeed(), maxVehicles, logger });
    await replica.start();
    return { table: replica, close: () => replica.close() };
  },
  warehouse: async (config, logger) => readyOrClosed(await createWarehouse(config.warehouse, logger)),
  kafkaReadiness: (config, logger) =>
    kafkaReadiness(
      createKafka(config.kafka, { logger, role: 'api', retry: { retries: 0 }, requestTimeout: 2000 }),
    ),
  processor: startProcessor,
  publisher: (config, logger, options) => createWirePublisher(config, { ...options, logger }),
  apiServer: startApiServer,
  devices: openDeviceRegistry,
  gateway: async (options) => {
    const { app, address } = await startGatewayServer(options);
    return { address, close: () => app.close() };
  },
  metricsServer: startMetricsServer,
  eventsProcessor: startEventsProcessor,
  eventsSink: startEventsSink,
  geofences: (config, logger) =>
    openKafkaGeofenceStore(createKafka(config.kafka, { logger, role: 'api' }), config, logger),
  eventsWarehouse: async (config, warehouse) =>
    readyOrClosed(await createEventsWarehouse(config.warehouse, warehouse)),
  eventFeed: (config, logger) =>
    vehicleEventFeed(createKafka(config.kafka, { logger, role: 'api' }), config.events.topic, logger),
};
