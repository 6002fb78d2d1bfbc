import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import type { ApiMetrics } from '../api-metrics.js';
import { errorBody } from '../http-errors.js';
import { LiveStream } from '../live-stream.js';
import type { RouteContext } from '../route-context.js';
import { ErrorAnswer, StreamQuery } from '../schemas.js';
import { SseConnection } from '../sse-connection.js';
import { vehicleView } from '../views.js';

export interface StreamOptions {
  /** Interval of `: ping` comments that keep proxies from closing idle streams. @default 15_000 (ms) */
  heartbeatMs?: number;
  /** Distinct vehicles that may wait for one slow client. @default 10_000 */
  maxPendingPerClient?: number;
}

/**
 * `GET /v1/stream`: Server-Sent Events of position changes (`event: position`), optionally of one
 * vehicle or inside a box. At most MAX_SSE_CLIENTS at once (then 503).
 */
export function registerStreamRoute(
  app: FastifyInstance,
  ctx: RouteContext,
  metrics: ApiMetrics,
  options: StreamOptions = {},
): LiveStream {
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const live = new LiveStream(
    ctx.table,
    (change) => vehicleView(change, ctx.now(), ctx.api.staleAfterMs),
    ctx.logger,
    (n) => metrics.sseEvents.inc(n),
  );
  let open = 0;
  // End the streams before the server waits for its connections to close.
  app.addHook('preClose', async () => live.close());

  app.get(
    '/v1/stream',
    {
      exposeHeadRoute: false,
      schema: {
        tags: ['live'],
        summary: 'Server-Sent Events of position changes',
        description:
          'Each change is `event: position` with the vehicle JSON (as GET /v1/vehicles/:id). `: ping` comments every 15 s. Slow clients get the latest position per vehicle (older pending updates are coalesced). EventSource cannot send headers: pass the key as `api_key`.',
        querystring: StreamQuery,
        response: { 400: ErrorAnswer, 401: ErrorAnswer, 503: ErrorAnswer },
      },
    },
    async (request, reply) => {
      const q = request.query as z.output<typeof StreamQuery>;
      if (open >= ctx.api.maxSseClients) {
        metrics.sseRejected.inc();
        return reply
          .code(503)
          .header('retry-after', '5')
          .send(
            errorBody(
              503,
              'too_many_streams',
              `at most ${ctx.api.maxSseClients} live streams (MAX_SSE_CLIENTS)`,
            ),
          );
      }
      open++;
      let release: (() => void) | null = null;
      const connection = new SseConnection({
        out: reply.raw,
        onLoss: (kind) => (kind === 'coalesced' ? metrics.sseCoalesced : metrics.sseDropped).inc(),
        ...(options.maxPendingPerClient ? { maxPending: options.maxPendingPerClient } : {}),
      });
      try {
        release = await live.add(connection, {
          ...(q.vehicle ? { vehicleId: q.vehicle } : {}),
          ...(q.bbox ? { bbox: q.bbox } : {}),
        });
      } catch (err) {
        open--;
        throw err;
      }
      metrics.sseClients.inc();
      reply.hijack();
      reply.raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      reply.raw.write('retry: 3000\n\n');
      connection.event('ready', { staleAfterMs: ctx.api.staleAfterMs, heartbeatMs });
      const heartbeat = setInterval(() => connection.comment('ping'), heartbeatMs);
      heartbeat.unref();
      reply.raw.once('close', () => {
        clearInterval(heartbeat);
        release?.();
        open--;
        metrics.sseClients.dec();
        connection.close();
      });
    },
  );
  return live;
}
