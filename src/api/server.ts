import { parse as parseQueryString } from 'node:querystring';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Config } from '../config/config.js';
import { LogEvents, silentLogger, type Logger } from '../logger.js';
import { defaultRegistry } from '../metrics.js';
import type { WarehouseReader, WarehouseSink } from '../sinks/warehouse-sink.js';
import type { Publisher } from '../sources/publisher.js';
import type { LatestStateTable } from '../state/latest-state-table.js';
import { apiMetrics } from './api-metrics.js';
import { apiKeyHook } from './auth.js';
import { registerIngestRoutes } from './gateway/routes.js';
import { installErrorHandler } from './http-errors.js';
import type { RouteContext } from './route-context.js';
import { registerHealthRoutes, type ReadinessCheck } from './routes/health.js';
import { registerHistoryRoute } from './routes/history.js';
import { registerMapRoutes } from './routes/map.js';
import { registerNearbyRoute } from './routes/nearby.js';
import { registerStreamRoute, type StreamOptions } from './routes/stream.js';
import { registerSummaryRoute } from './routes/summary.js';
import { registerVehicleRoutes } from './routes/vehicles.js';
import { swaggerTransform, useZodSchemas } from './validation.js';

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
  /** Served at /metrics; co-hosted components (the processor) register into the same one. @default defaultRegistry */
  registry?: Registry;
  /** @default silentLogger */
  logger?: Logger;
  /** Clock for ages and default windows. @default Date.now */
  now?: () => number;
  stream?: StreamOptions;
}

/** Paths anyone may fetch: probes, the docs, and the map's static files (they hold no data). */
const PUBLIC_PATHS = new Set(['/healthz', '/readyz', '/', '/map-config.json']);
const isPublic = (path: string) =>
  PUBLIC_PATHS.has(path) ||
  path === '/docs' ||
  path.startsWith('/docs/') ||
  /^\/[\w-]+\.(js|css|svg|png)$/.test(path);

/** Empty parameters (`?lat=`) count as absent, so they are reported as missing, not read as 0. */
function parseQuery(text: string): Record<string, unknown> {
  const parsed = parseQueryString(text) as Record<string, unknown>;
  for (const [key, value] of Object.entries(parsed)) if (value === '') delete parsed[key];
  return parsed;
}

/**
 * Builds the query API (not listening yet): vehicles, nearby, history, summary, the SSE stream,
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
  app.addHook(
    'onRequest',
    apiKeyHook({
      keys: api.apiKeys,
      required: api.authRequired,
      isPublic,
      acceptsQueryKey: (path) => path === '/v1/stream',
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
  registerStreamRoute(app, ctx, metrics, options.stream);
  registerMapRoutes(app, api);
  if (options.publisher) registerIngestRoutes(app, { publisher: options.publisher, registry });
  await app.ready();
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
