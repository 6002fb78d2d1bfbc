import type { KafkaReadiness } from '../api/kafka-readiness.js';
import type { RunningApiServer } from '../api/server.js';
import { emfSettings, type Config } from '../config/config.js';
import type { Logger } from '../logger.js';
import { defaultRegistry } from '../metrics.js';
import type { MetricsServer } from '../processor/metrics-server.js';
import type { ProcessorDeps, ProcessorHandle } from '../processor/processor.js';
import type { EventsProcessorDeps } from '../processor/events-processor.js';
import type { Warehouse } from '../sinks/warehouse-sink.js';
import type { LatestStateTable } from '../state/latest-state-table.js';
import {
  realFactories,
  type OwnedPublisher,
  type PublisherOptions,
  type ServiceFactories,
} from './factories.js';
import type { OpenDeviceRegistry } from '../ingest/gateway/device-registry.js';
import type { Scope } from './scope.js';
import type { OpenGeofenceStore } from '../api/kafka-geofence-store.js';
import type { EventsWarehouse } from '../sinks/events-warehouse.js';
import type { EventsProcessorHandle } from '../processor/events-processor.js';
import type { EventsSinkHandle } from '../processor/events-sink.js';
import { withScope } from './scope.js';

/**
 * The composition root: builds the services a command asks for, each once, in the order asked,
 * and registers each with the scope, which closes them in reverse order. Services share what they
 * can: the API and a co-hosted processor use one Redis table and one warehouse.
 */
export class App {
  private tableInstance: Promise<LatestStateTable> | undefined;
  private warehouseInstance: Promise<Warehouse> | undefined;
  private readinessInstance: KafkaReadiness | undefined;
  private devicesInstance: OpenDeviceRegistry | undefined;
  private geofencesInstance: Promise<OpenGeofenceStore> | undefined;
  private eventsWarehouseInstance: Promise<EventsWarehouse> | undefined;

  constructor(
    readonly config: Readonly<Config>,
    readonly logger: Logger,
    private readonly scope: Scope,
    private readonly make: ServiceFactories = realFactories,
  ) {}

  /** The Redis latest-state table, its layout checked. */
  table(): Promise<LatestStateTable> {
    this.tableInstance ??= this.scope.acquire(
      'redis table',
      () => this.make.table(this.config, this.logger),
      (t) => t.close(),
    );
    return this.tableInstance;
  }

  /** The warehouse (DuckDB or Snowflake), ready. */
  warehouse(): Promise<Warehouse> {
    this.warehouseInstance ??= this.scope.acquire(
      'warehouse',
      () => this.make.warehouse(this.config, this.logger),
      (w) => w.close(),
    );
    return this.warehouseInstance;
  }

  /** The events table (`vehicle_events`) in this app's warehouse: the events sink writes it, the API reads it. */
  eventsWarehouse(): Promise<EventsWarehouse> {
    this.eventsWarehouseInstance ??= this.warehouse().then((warehouse) =>
      this.scope.acquire(
        'events warehouse',
        () => this.make.eventsWarehouse(this.config, warehouse),
        (w) => w.close(),
      ),
    );
    return this.eventsWarehouseInstance;
  }

  /** The geofences (GEOFENCES_TOPIC followed as a table) the API manages at /v1/geofences. */
  geofences(): Promise<OpenGeofenceStore> {
    this.geofencesInstance ??= this.scope.acquire(
      'geofences',
      () => this.make.geofences(this.config, this.logger),
      (g) => g.close(),
    );
    return this.geofencesInstance;
  }

  /**
   * The events processor (`vehicle_positions` → `vehicle_events`, exactly once) and, with
   * `sink` (default), the events sink writing `vehicle_events` into this app's warehouse.
   */
  async eventsProcessor(
    options: { sink?: boolean } & EventsProcessorDeps = {},
  ): Promise<{ processor: EventsProcessorHandle; sink: EventsSinkHandle | null }> {
    const { sink: withSink, ...deps } = options;
    const processor = await this.scope.acquire(
      'events processor',
      () => this.make.eventsProcessor(this.config, { logger: this.logger, ...deps }),
      (p) => p.stop(),
    );
    if (!(withSink ?? true)) return { processor, sink: null };
    const warehouse = await this.eventsWarehouse();
    const sink = await this.scope.acquire(
      'events sink',
      () => this.make.eventsSink(this.config, { warehouse, logger: this.logger }),
      (s) => s.stop(),
    );
    return { processor, sink };
  }

  /** The device registry (Redis): the gateway's device checks and the API's /v1/devices. */
  devices(): OpenDeviceRegistry {
    this.devicesInstance ??= this.scope.add(
      'device registry',
      this.make.devices(this.config, this.logger),
      (d) => d.close(),
    );
    return this.devicesInstance;
  }

  /** A lazily connected Kafka admin answering the API's /readyz. */
  kafkaReadiness(): KafkaReadiness {
    this.readinessInstance ??= this.scope.add(
      'kafka readiness',
      this.make.kafkaReadiness(this.config, this.logger),
      (k) => k.close(),
    );
    return this.readinessInstance;
  }

  /**
   * The stream processor. `shareSinks`: write to this app's table and warehouse (co-hosted with
   * the API); otherwise it owns its sinks. Closing it drains and commits; a stop that ends FAILED
   * makes the shutdown fail.
   */
  async processor(options: { shareSinks?: boolean } & ProcessorDeps = {}): Promise<ProcessorHandle> {
    const { shareSinks = false, ...deps } = options;
    const shared = shareSinks ? { table: await this.table(), warehouse: await this.warehouse() } : {};
    return this.scope.acquire(
      'processor',
      () => this.make.processor(this.config, { logger: this.logger, ...shared, ...deps }),
      async (processor) => {
        const report = await processor.stop();
        if (report.error !== undefined) throw report.error;
      },
    );
  }

  /** A position publisher, connected unless `connect: false` (the gateway listens first). */
  async publisher(
    options: PublisherOptions & { connect?: boolean; closeTimeoutMs?: number } = {},
  ): Promise<OwnedPublisher> {
    const { connect = true, closeTimeoutMs, ...publisherOptions } = options;
    const publisher = await this.scope.acquire(
      'publisher',
      () => this.make.publisher(this.config, this.logger, publisherOptions),
      (p) => p.close(closeTimeoutMs === undefined ? {} : { timeoutMs: closeTimeoutMs }),
    );
    if (connect) await publisher.connect();
    return publisher;
  }

  /** The query API, SSE stream and live map on HOST:PORT, over this app's table and warehouse. */
  async apiServer(options: { publisher?: OwnedPublisher } = {}): Promise<RunningApiServer> {
    const inner = await this.table();
    const { table } = await this.scope.acquire(
      'state replica',
      () => this.make.stateReader(this.config, inner, this.logger),
      (reader) => reader.close(),
    );
    const warehouse = await this.warehouse();
    const kafka = this.kafkaReadiness();
    const devices = this.devices();
    const geofences = await this.geofences();
    const events = await this.eventsWarehouse();
    return this.scope.acquire(
      'query API',
      () =>
        this.make.apiServer({
          config: this.config,
          table,
          warehouse,
          readiness: { kafka: kafka.check },
          devices: devices.store,
          geofences: geofences.store,
          events,
          eventFeed: this.make.eventFeed(this.config, this.logger),
          logger: this.logger,
          emf: emfSettings(this.config),
          ...(options.publisher ? { publisher: options.publisher } : {}),
        }),
      (server) => server.close(),
    );
  }

  /** The device ingest gateway on HOST:GATEWAY_PORT. */
  async gateway(publisher: OwnedPublisher, options: { publishTimeoutMs?: number } = {}) {
    const devices = this.devices();
    return this.scope.acquire(
      'ingest gateway',
      () =>
        this.make.gateway({
          config: this.config,
          publisher,
          logger: this.logger,
          emf: emfSettings(this.config),
          maxFutureMs: this.config.maxFutureSkewMs,
          security: devices.security,
          ...options,
        }),
      (gateway) => gateway.close(),
    );
  }

  /** `/metrics` (METRICS_KEY) and `/healthz` of a worker process on METRICS_HOST:METRICS_PORT. */
  async metricsServer(health: () => { ok: boolean } & Record<string, unknown>): Promise<MetricsServer> {
    return this.scope.acquire(
      'metrics server',
      () =>
        this.make.metricsServer({
          host: this.config.metrics.host,
          key: this.config.metrics.key,
          port: this.config.metrics.port,
          registry: defaultRegistry,
          health,
        }),
      (server) => server.close(),
    );
  }

  /** Registers something else the command started (a simulation), stopped before what it uses. */
  own<T>(name: string, resource: T, release: (resource: T) => Promise<unknown> | unknown): T {
    return this.scope.add(name, resource, release);
  }
}

/**
 * Runs a command's body with an {@link App}; every service it built is closed afterwards in
 * reverse order, also when the body throws. A failed close rejects (the command exits non-zero).
 */
export function runApp<T>(
  config: Readonly<Config>,
  logger: Logger,
  body: (app: App) => Promise<T>,
  factories: ServiceFactories = realFactories,
): Promise<T> {
  return withScope(logger, (scope) => body(new App(config, logger, scope, factories)));
}
