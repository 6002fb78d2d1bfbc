import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { errorBody } from '../http/http-errors.js';
import { assertMetricsExposure, metricsAccess } from '../http/metrics-access.js';

export interface MetricsServerOptions {
  /** METRICS_HOST; anything but loopback needs `key` (refused at start otherwise). */
  host: string;
  /** METRICS_KEY: bearer key `/metrics` requires; `/healthz` stays open for health checks. */
  key?: string | undefined;
  /** 0 picks a free port (tests); callers skip the server entirely when METRICS_PORT=0. */
  port: number;
  registry: Registry;
  /** Health document; `ok: false` answers 503 (load balancers, Fargate health checks). */
  health: () => { ok: boolean } & Record<string, unknown>;
}

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

/** `GET /metrics` (Prometheus text format) and `GET /healthz` (JSON) of a worker process. */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  assertMetricsExposure(options);
  const access = metricsAccess(options);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      const decision = access(req.headers.authorization);
      if (!decision.ok) {
        res
          .writeHead(decision.status, { 'content-type': 'application/json' })
          .end(JSON.stringify(errorBody(decision.status, decision.code, decision.message)));
        return;
      }
      options.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': options.registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err)),
      );
      return;
    }
    if (path === '/healthz') {
      const health = options.health();
      res
        .writeHead(health.ok ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify(health));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics or /healthz\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
