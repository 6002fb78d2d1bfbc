import { z } from 'zod';
import type { ApiMetrics } from '../api-metrics.js';
import { VehicleIdSchema } from '../../domain/position.js';
import { EVENT_TYPES, isEventType, type EventType, type VehicleEvent } from '../../domain/vehicle-event.js';
import { LiveStream, type Subscribe } from '../live-stream.js';
import type { RouteContext } from '../route-context.js';
import type { SseRoutes } from '../sse-route.js';
import { StreamTokenParam } from '../schemas.js';

/** `type=overspeed,geofence_enter`: a comma-separated list of event types, each checked. */
export const EventTypesParam = z.string().transform((text, ctx) => {
  const types = text
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const unknown = types.filter((t) => !isEventType(t));
  if (unknown.length > 0 || types.length === 0)
    ctx.addIssue({
      code: 'custom',
      message: `unknown event type ${unknown.map((t) => `'${t}'`).join(', ') || "''"} (one of ${EVENT_TYPES.join(', ')})`,
    });
  return types as EventType[];
});

export const EventStreamQuery = z
  .object({
    vehicleId: VehicleIdSchema.optional().describe('Only events of this vehicle'),
    type: EventTypesParam.optional().describe(
      `Only these types, comma-separated (${EVENT_TYPES.join(', ')})`,
    ),
    token: StreamTokenParam,
  })
  .strict();

/** What one client of /v1/events/stream wants to see. */
export interface EventFilter {
  vehicleId?: string;
  types?: ReadonlySet<EventType>;
}

export function eventMatches(filter: EventFilter, event: VehicleEvent): boolean {
  if (filter.vehicleId !== undefined && event.vehicleId !== filter.vehicleId) return false;
  return !filter.types || filter.types.has(event.type);
}

/**
 * `GET /v1/events/stream`: Server-Sent Events of vehicle events (`event: vehicle_event`) as they
 * are committed to the events topic, optionally of one vehicle and some types. A slow client's
 * pending events are keyed by event id, so none is coalesced away; beyond the per-client bound the
 * oldest is dropped (counted).
 */
export function registerEventStreamRoute(
  sse: SseRoutes,
  ctx: RouteContext,
  metrics: ApiMetrics,
  subscribe: Subscribe<VehicleEvent>,
): void {
  const live = new LiveStream<VehicleEvent, EventFilter>({
    subscribe,
    source: 'events-topic',
    eventName: 'vehicle_event',
    view: (event) => event,
    matches: eventMatches,
    keyOf: (event) => event.id,
    logger: ctx.logger,
    onEvent: (n) => metrics.sseEvents.inc({ stream: 'events' }, n),
  });
  sse.register({
    path: '/v1/events/stream',
    stream: 'events',
    summary: 'Server-Sent Events of vehicle events',
    description:
      'Each event committed to the events topic from now on is `event: vehicle_event` with the event JSON (`id`, `type`, `vehicleId`, `ts`, type-specific fields). Filters: `vehicleId`, `type` (comma-separated). `: ping` comments every 15 s. EventSource cannot send headers: get a short-lived token from `POST /v1/stream-tokens` and pass it as `token` (an API key is never accepted in the URL).',
    querystring: EventStreamQuery,
    live,
    filterOf: (q) => ({
      ...(q.vehicleId ? { vehicleId: q.vehicleId } : {}),
      ...(q.type ? { types: new Set(q.type) } : {}),
    }),
    greeting: {},
  });
}
