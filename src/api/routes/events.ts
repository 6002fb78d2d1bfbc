import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { EVENT_TYPES } from '../../domain/vehicle-event.js';
import type { EventQuery, EventsWarehouse } from '../../sinks/events-warehouse.js';
import { ErrorAnswer, eventsQuery, VehicleParams } from '../schemas.js';

const EventsQuery = eventsQuery(true);
const VehicleEventsQuery = eventsQuery(false);
const EventView = z
  .object({
    id: z.string().describe('Deterministic: the same event detected twice has the same id'),
    type: z.enum(EVENT_TYPES),
    vehicleId: z.string(),
    ts: z.number().describe('Event time, epoch ms'),
  })
  .catchall(z.unknown())
  .describe('A vehicle event; type-specific fields beside the common ones (docs/events.md)');
const EventsAnswer = z.object({ events: z.array(EventView) });

type Query = Omit<z.output<typeof VehicleEventsQuery>, 'vehicleId'> & { vehicleId?: string };
const toQuery = (q: Query, vehicleId = q.vehicleId): EventQuery => ({
  limit: q.limit,
  ...(vehicleId !== undefined ? { vehicleId } : {}),
  ...(q.type ? { types: q.type } : {}),
  ...(q.from !== undefined ? { from: q.from } : {}),
  ...(q.to !== undefined ? { to: q.to } : {}),
});

/** `GET /v1/events` and `GET /v1/vehicles/:id/events`: stored events from the warehouse, newest first. */
export function registerEventRoutes(app: FastifyInstance, events: Pick<EventsWarehouse, 'query'>): void {
  const tags = ['events'];
  const description =
    'From the warehouse table vehicle_events (written by the events sink, seconds behind the stream). from <= ts < to by event time; `type` takes a comma-separated list.';
  app.get(
    '/v1/events',
    {
      schema: {
        tags,
        summary: 'Vehicle events, newest first',
        description,
        querystring: EventsQuery,
        response: { 200: EventsAnswer, 400: ErrorAnswer },
      },
    },
    async (request) => ({ events: await events.query(toQuery(request.query as Query)) }),
  );
  app.get(
    '/v1/vehicles/:id/events',
    {
      schema: {
        tags,
        summary: 'Events of one vehicle, newest first',
        description,
        params: VehicleParams,
        querystring: VehicleEventsQuery,
        response: { 200: EventsAnswer, 400: ErrorAnswer },
      },
    },
    async (request) => {
      const { id } = request.params as z.output<typeof VehicleParams>;
      return { events: await events.query(toQuery(request.query as Query, id)) };
    },
  );
}
