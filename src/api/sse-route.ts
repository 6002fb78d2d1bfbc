import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import type { ApiMetrics } from './api-metrics.js';
import { errorBody } from '../http/http-errors.js';
import type { LiveStream } from './live-stream.js';
import type { RouteContext } from './route-context.js';
import { ErrorAnswer } from './schemas.js';
import { SseConnection } from './sse-connection.js';

export interface StreamOptions {
  /** Interval of `: ping` comments that keep proxies from closing idle streams. @default 15_000 (ms) */
  heartbeatMs?: number;
  /** Items (distinct vehicles, or events) that may wait for one slow client. @default 10_000 */
  maxPendingPerClient?: number;
}

export interface SseRouteSpec<Q extends z.ZodType, F> {
  path: string;
  /** The `stream` label of the SSE metrics. */
  stream: 'positions' | 'events';
  summary: string;
  description: string;
  querystring: Q;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any item type
  live: LiveStream<any, F>;
  filterOf: (query: z.output<Q>) => F;
  /** The `ready` event's data, sent first. */
  greeting: Record<string, unknown>;
}

/**
 * The live (SSE) endpoints of one server. They share MAX_SSE_CLIENTS (then 503), heartbeats,
 * backpressure (one {@link SseConnection} per client) and a clean end when the server closes.
 */
export class SseRoutes {
  private open = 0;
  private readonly heartbeatMs: number;

  constructor(
    private readonly app: FastifyInstance,
    private readonly ctx: RouteContext,
    private readonly metrics: ApiMetrics,
    private readonly options: StreamOptions = {},
  ) {
    this.heartbeatMs = options.heartbeatMs ?? 15_000;
  }

  register<Q extends z.ZodType, F>(spec: SseRouteSpec<Q, F>): void {
    const { ctx, metrics, heartbeatMs } = this;
    const labels = { stream: spec.stream };
    // End the streams before the server waits for its connections to close.
    this.app.addHook('preClose', async () => spec.live.close());
    this.app.get(
      spec.path,
      {
        exposeHeadRoute: false,
        schema: {
          tags: ['live'],
          summary: spec.summary,
          description: spec.description,
          querystring: spec.querystring,
          response: { 400: ErrorAnswer, 401: ErrorAnswer, 503: ErrorAnswer },
        },
      },
      async (request, reply) => {
        if (this.open >= ctx.api.maxSseClients) {
          metrics.sseRejected.inc(labels);
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
        this.open++;
        let release: (() => void) | null = null;
        const connection = new SseConnection({
          out: reply.raw,
          onLoss: (kind) => (kind === 'coalesced' ? metrics.sseCoalesced : metrics.sseDropped).inc(labels),
          ...(this.options.maxPendingPerClient ? { maxPending: this.options.maxPendingPerClient } : {}),
        });
        try {
          release = await spec.live.add(connection, spec.filterOf(request.query as z.output<Q>));
        } catch (err) {
          this.open--;
          throw err;
        }
        metrics.sseClients.inc(labels);
        reply.hijack();
        // Headers hooks set before the hijack (CORS) still go out with the stream's own.
        for (const [name, value] of Object.entries(reply.getHeaders())) {
          if (value !== undefined) reply.raw.setHeader(name, value);
        }
        reply.raw.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
        });
        reply.raw.write('retry: 3000\n\n');
        connection.event('ready', { ...spec.greeting, heartbeatMs });
        const heartbeat = setInterval(() => connection.comment('ping'), heartbeatMs);
        heartbeat.unref();
        reply.raw.once('close', () => {
          clearInterval(heartbeat);
          release?.();
          this.open--;
          metrics.sseClients.dec(labels);
          connection.close();
        });
      },
    );
  }
}
