import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Config } from '../../config/config.js';
import { LogEvents, silentLogger, type Logger } from '../../logger.js';
import { startServiceEmf, type EmfSettings } from '../../emf-services.js';
import { defaultRegistry } from '../../metrics.js';
import { errorBody } from '../../http/http-errors.js';
import { metricsAccess } from '../../http/metrics-access.js';
import type { GatewayConfig } from '../../config/gateway.js';
import type { DeviceLookup } from './device-cache.js';
import { GatewayGuard } from './guard.js';
import { gatewayRoutes, type GatewayRouteOptions } from './routes.js';

export interface GatewayServerOptions extends GatewayRouteOptions {
  /**
   * `config.api` (host, gatewayPort) and `config.metrics.key` (METRICS_KEY): `/metrics` needs that
   * bearer key, or without one is served only when HOST is loopback (403 otherwise).
   */
  config: Readonly<Pick<Config, 'api'>> & { readonly metrics?: { readonly key?: string | undefined } };
  /** @default silentLogger */
  logger?: Logger;
  /** CloudWatch EMF lines of the `gateway` service (METRICS_EMF). @default off */
  emf?: EmfSettings;
  /**
   * The device registry (cached) and the GATEWAY_* settings: unknown devices, tokens, rate limits.
   * Absent: every device and address is admitted (only tests and embedding callers leave it out).
   */
  security?: { gateway: GatewayConfig; devices: DeviceLookup };
}

/**
 * The device ingest gateway on its own (not listening yet): OsmAnd / Traccar Client on `/`,
 * `POST /v1/positions`, plus `/healthz` and `/metrics`.
 */
export async function createGatewayServer(options: GatewayServerOptions): Promise<FastifyInstance> {
  const logger = (options.logger ?? silentLogger).child({ component: 'gateway' });
  const registry: Registry = options.registry ?? defaultRegistry;
  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true },
  }) as unknown as FastifyInstance;
  const guard = options.security
    ? new GatewayGuard({
        config: options.security.gateway,
        devices: options.security.devices,
        registry,
        ...(options.now ? { now: options.now } : {}),
      })
    : undefined;
  await app.register(gatewayRoutes, { ...options, registry, ...(guard ? { guard } : {}) });
  app.get('/healthz', async () => ({ status: 'ok' }));
  const metricsAllowed = metricsAccess({ host: options.config.api.host, key: options.config.metrics?.key });
  app.get('/metrics', async (request, reply) => {
    const decision = metricsAllowed(request.headers.authorization);
    if (!decision.ok)
      return reply.code(decision.status).send(errorBody(decision.status, decision.code, decision.message));
    return reply.type(registry.contentType).send(await registry.metrics());
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send(errorBody(404, 'no_route', `no route ${request.method} ${request.url.split('?')[0]}`)),
  );
  const emf = options.emf ? startServiceEmf('gateway', { ...options.emf, registry, logger }) : null;
  if (emf) app.addHook('onClose', () => emf.stop());
  return app;
}

/** Builds the gateway and listens on HOST:GATEWAY_PORT; returns the server and its address. */
export async function startGatewayServer(
  options: GatewayServerOptions,
): Promise<{ app: FastifyInstance; address: string }> {
  const app = await createGatewayServer(options);
  const address = await app.listen({ host: options.config.api.host, port: options.config.api.gatewayPort });
  app.log.info({ event: LogEvents.serviceStarted, address }, 'ingest gateway listening');
  return { app, address };
}
