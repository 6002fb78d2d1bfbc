import { parse as parseQueryString } from 'node:querystring';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Config } from '../config/config.js';
import { LogEvents, silentLogger, type Logger } from '../logger.js';
import { startServiceEmf, type EmfSettings } from '../emf-services.js';
import { defaultRegistry } from '../metrics.js';
import type { WarehouseSink } from '../sinks/warehouse-sink.js';
import type { WarehouseReader } from '../sinks/warehouse-reader.js';
import type { Publisher } from '../ingest/publisher.js';
import type { LatestStateTable } from '../state/latest-state-table.js';
import { apiMetrics } from './api-metrics.js';
import { registerCors } from './cors.js';
import { apiKeyHook } from '../http/auth.js';
import { StreamTokens } from '../http/stream-tokens.js';
import { registerIngestRoutes } from '../ingest/gateway/routes.js';
import type { DeviceStore } from '../domain/device.js';
import { registerDeviceRoutes } from './routes/devices.js';
import type { GeofenceStore } from '../domain/geofence-store.js';
import type { EventsWarehouse } from '../sinks/events-warehouse.js';
import { registerEventRoutes } from './routes/events.js';
import { registerGeofenceRoutes } from './routes/geofences.js';
import { installErrorHandler } from '../http/http-errors.js';
import type { RouteContext } from './route-context.js';
import { registerHealthRoutes, type ReadinessCheck } from './routes/health.js';
import { registerHistoryRoute } from './routes/history.js';
import { registerMapRoutes } from './routes/map.js';
import { registerNearbyRoute } from './routes/nearby.js';
import { registerStreamTokenRoute } from './routes/stream-tokens.js';
import { registerEventStreamRoute } from './routes/event-stream.js';
import { registerStreamRoute } from './routes/stream.js';
import type { Subscribe } from './live-stream.js';
import { SseRoutes, type StreamOptions } from './sse-route.js';
import type { VehicleEvent } from '../domain/vehicle-event.js';
import { registerSummaryRoute } from './routes/summary.js';
import { registerVehicleRoutes } from './routes/vehicles.js';
import { swaggerTransform, useZodSchemas } from '../http/validation.js';

export interface ApiServerOptions {
  /** Only `config.api` is read (host/port are used by {@link startApiServer}). */
  config: Readonly<Pick<Config, 'api'>>;
  /** Where vehicles are now. */
  table: LatestStateTable;
  /** What they did (history, summaries); `ping` feeds /readyz. */
  warehouse: WarehouseReader & Pick<WarehouseSink, 'ping'>;
  /**
   * Further /readyz checks by name, e.g. `{ kafka: () => admin.describeCluster() }`. Redis and the
   * warehouse are always checked.
   */
  readiness?: Record<string, ReadinessCheck>;
  /**
   * When given, the ingest gateway's `POST /v1/positions` is served too (behind the same API key),
   * publishing to Kafka through it.
   */
  publisher?: Publisher;
  /** When given, the device registry is managed at `/v1/devices` (behind the API key). */
  devices?: DeviceStore;
  /** When given, geofences are managed at `/v1/geofences` (behind the API key). */
  geofences?: GeofenceStore;
  /** When given, stored events are served at `/v1/events` and `/v1/vehicles/:id/events`. */
  events?: Pick<EventsWarehouse, 'query'>;
  /** Served at /metrics; co-hosted components (the processor) register into the same one. @default defaultRegistry */
  registry?: Registry;
  /** CloudWatch EMF lines of the `api` service (METRICS_EMF). @default off */
  emf?: EmfSettings;
  /** @default silentLogger */
  logger?: Logger;
  /** Clock for ages and default windows. @default Date.now */
  now?: () => number;
  stream?: StreamOptions;
  /**
   * The events topic's live feed (read_committed, from the end); when given, `/v1/events/stream`
   * serves it. Subscribed when the first client arrives, unsubscribed when the server closes.
   */
  eventFeed?: Subscribe<VehicleEvent>;
}

/** Paths anyone may fetch: probes, the docs, the map's static and vendored files (they hold no data). */
const PUBLIC_PATHS = new Set(['/healthz', '/readyz', '/', '/map-config.json']);
const isPublic = (path: string) =>
  PUBLIC_PATHS.has(path) ||
  path === '/docs' ||
  path.startsWith('/docs/') ||
  path.startsWith('/vendor/') ||
  /^\/[\w-]+\.(js|css|svg|png)$/.test(path);

/** Empty parameters (`?lat=`) count as absent, so they are reported as missing, not read as 0. */
function parseQuery(text: string): Record<string, unknown> {
  const parsed = parseQueryString(text) as Record<string, unknown>;
  for (const [key, value] of Object.entries(parsed)) if (value === '') delete parsed[key];
  return parsed;
}

/**
 * Builds the query API (not listening yet): vehicles, nearby, history, summary, the SSE streams,
 * health, metrics, the OpenAPI document at /docs and the live map at /.
 */
export async function createApiServer(options: ApiServerOptions): Promise<FastifyInstance> {
  const api = options.config.api;
  const logger = (options.logger ?? silentLogger).child({ component: 'api' });
  const registry = options.registry ?? defaultRegistry;
  const metrics = apiMetrics(registry);
  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { querystringParser: parseQuery, ignoreTrailingSlash: true, maxParamLength: 256 },
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
  }) as unknown as FastifyInstance;

  useZodSchemas(app);
  installErrorHandler(app);
  const streamTokens = StreamTokens.fromApiKeys(api.apiKeys, api.streamTokenTtlMs, options.now);
  await registerCors(app, api.corsOrigins);
  app.addHook(
    'onRequest',
    apiKeyHook({
      keys: api.apiKeys,
      required: api.authRequired,
      isPublic,
      acceptsStreamToken: (path) => path === '/v1/stream' || path === '/v1/events/stream',
      streamTokens,
    }),
  );
  app.addHook('onResponse', async (request, reply) => {
    metrics.requestDuration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'fleet-tracker API',
        version: '1',
        description:
          'Where vehicles are now (Redis), what they did in the last 24 h (warehouse), live updates (SSE).',
      },
      components: {
        securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' } },
      },
      security: api.authRequired ? [{ apiKey: [] }] : [],
    },
    transform: swaggerTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const ctx: RouteContext = {
    table: options.table,
    warehouse: options.warehouse,
    api,
    now: options.now ?? Date.now,
    logger,
  };
  registerHealthRoutes(app, {
    registry,
    checks: {
      redis: () => options.table.ping(),
      warehouse: () => options.warehouse.ping(),
      ...options.readiness,
    },
  });
  // The static /v1/vehicles/nearby must be known before /v1/vehicles/:id (find-my-way prefers it anyway).
  registerNearbyRoute(app, ctx);
  registerVehicleRoutes(app, ctx);
  registerHistoryRoute(app, ctx);
  registerSummaryRoute(app, ctx);
  registerStreamTokenRoute(app, streamTokens);
  const sse = new SseRoutes(app, ctx, metrics, options.stream);
  registerStreamRoute(sse, ctx, metrics);
  if (options.eventFeed) registerEventStreamRoute(sse, ctx, metrics, options.eventFeed);
  registerMapRoutes(app, api);
  if (options.devices) registerDeviceRoutes(app, options.devices);
  if (options.geofences) registerGeofenceRoutes(app, options.geofences);
  if (options.events) registerEventRoutes(app, options.events);
  if (options.publisher) registerIngestRoutes(app, { publisher: options.publisher, registry });
  await app.ready();
  const emf = options.emf ? startServiceEmf('api', { ...options.emf, registry, logger }) : null;
  if (emf) app.addHook('onClose', () => emf.stop());
  return app;
}

export interface RunningApiServer {
  app: FastifyInstance;
  /** http://host:port it listens on. */
  url: string;
  close(): Promise<void>;
}

/** Creates the server and listens on `config.api.host:port` (port 0 = any free port). */
export async function startApiServer(
  options: ApiServerOptions & { config: Readonly<Pick<Config, 'api'>> },
): Promise<RunningApiServer> {
  const app = await createApiServer(options);
  const { host, port } = options.config.api;
  await app.listen({ host, port });
  const address = app.server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
  (options.logger ?? silentLogger).info({ event: LogEvents.serviceStarted, url }, 'query API listening');
  return {
    app,
    url,
    close: async () => {
      await app.close();
      (options.logger ?? silentLogger).info({ event: LogEvents.serviceStopped }, 'query API stopped');
    },
  };
}
