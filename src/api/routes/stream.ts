import type { ApiMetrics } from '../api-metrics.js';
import { inBox, type BoundingBox } from '../../domain/geo.js';
import type { StateChange } from '../../state/latest-state-table.js';
import { LiveStream } from '../live-stream.js';
import type { RouteContext } from '../route-context.js';
import { StreamQuery } from '../schemas.js';
import type { SseRoutes } from '../sse-route.js';
import { vehicleView } from '../views.js';

/** What one client of /v1/stream wants to see. */
export interface StreamFilter {
  vehicleId?: string;
  bbox?: BoundingBox;
}

export function matches(filter: StreamFilter, change: StateChange): boolean {
  if (filter.vehicleId !== undefined && change.vehicleId !== filter.vehicleId) return false;
  if (filter.bbox && !inBox(change.lat, change.lon, filter.bbox)) return false;
  return true;
}

/**
 * `GET /v1/stream`: Server-Sent Events of position changes (`event: position`), optionally of one
 * vehicle or inside a box, from the table's change feed.
 */
export function registerStreamRoute(sse: SseRoutes, ctx: RouteContext, metrics: ApiMetrics): void {
  const live = new LiveStream<StateChange, StreamFilter>({
    subscribe: (onChange) => ctx.table.subscribe(onChange),
    source: 'state-table',
    eventName: 'position',
    view: (change) => vehicleView(change, ctx.now(), ctx.api.staleAfterMs),
    matches,
    keyOf: (change) => change.vehicleId,
    logger: ctx.logger,
    onEvent: (n) => metrics.sseEvents.inc({ stream: 'positions' }, n),
  });
  sse.register({
    path: '/v1/stream',
    stream: 'positions',
    summary: 'Server-Sent Events of position changes',
    description:
      'Each change is `event: position` with the vehicle JSON (as GET /v1/vehicles/:id). `: ping` comments every 15 s. Slow clients get the latest position per vehicle (older pending updates are coalesced). EventSource cannot send headers: get a short-lived token from `POST /v1/stream-tokens` and pass it as `token` (an API key is never accepted in the URL).',
    querystring: StreamQuery,
    live,
    filterOf: (q) => ({
      ...(q.vehicle ? { vehicleId: q.vehicle } : {}),
      ...(q.bbox ? { bbox: q.bbox } : {}),
    }),
    greeting: { staleAfterMs: ctx.api.staleAfterMs },
  });
}
