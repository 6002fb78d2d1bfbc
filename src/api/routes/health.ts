import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { errorMessage } from '../../errors.js';

/** A readiness check: resolves when the dependency answers. */
export type ReadinessCheck = () => Promise<unknown>;

export interface HealthOptions {
  /** Named checks run in parallel by /readyz (redis, warehouse, kafka...). */
  checks: Record<string, ReadinessCheck>;
  registry: Registry;
  /** Each check fails after this long. @default 2000 (ms) */
  checkTimeoutMs?: number;
}

async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** `/healthz` (the process answers), `/readyz` (dependencies answer), `/metrics` (Prometheus). */
export function registerHealthRoutes(app: FastifyInstance, options: HealthOptions): void {
  const timeoutMs = options.checkTimeoutMs ?? 2000;

  app.get('/healthz', { schema: { tags: ['ops'], summary: 'Liveness: the process is up' } }, async () => ({
    status: 'ok',
  }));

  app.get(
    '/readyz',
    {
      schema: { tags: ['ops'], summary: 'Readiness: Kafka, Redis and the warehouse answer (503 otherwise)' },
    },
    async (_request, reply) => {
      const names = Object.keys(options.checks);
      const results = await Promise.all(
        names.map(async (name) => {
          const started = performance.now();
          try {
            await within(Promise.resolve().then(options.checks[name]!), timeoutMs);
            return [name, { ok: true, ms: Math.round(performance.now() - started) }] as const;
          } catch (err) {
            return [name, { ok: false, error: errorMessage(err) }] as const;
          }
        }),
      );
      const ready = results.every(([, r]) => r.ok);
      return reply
        .code(ready ? 200 : 503)
        .send({ status: ready ? 'ready' : 'not_ready', checks: Object.fromEntries(results) });
    },
  );

  app.get(
    '/metrics',
    { schema: { tags: ['ops'], summary: 'Prometheus metrics' } },
    async (_request, reply) => {
      const text = await options.registry.metrics();
      return reply.type(options.registry.contentType).send(text);
    },
  );
}
