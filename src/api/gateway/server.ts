import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Config } from '../../config/config.js';
import { LogEvents, silentLogger, type Logger } from '../../logger.js';
import { defaultRegistry } from '../../metrics.js';
import { errorBody } from '../http-errors.js';
import { gatewayRoutes, type GatewayRouteOptions } from './routes.js';

export interface GatewayServerOptions extends GatewayRouteOptions {
  /** Only `config.api` (host, gatewayPort) is read. */
  config: Readonly<Pick<Config, 'api'>>;
  /** @default silentLogger */
  logger?: Logger;
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
  await app.register(gatewayRoutes, { ...options, registry });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/metrics', async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send(errorBody(404, 'no_route', `no route ${request.method} ${request.url.split('?')[0]}`)),
  );
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
