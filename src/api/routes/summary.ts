import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import type { RouteContext } from '../route-context.js';
import { ErrorAnswer, queryWindow, SummaryAnswer, SummaryQuery, VehicleParams } from '../schemas.js';

/**
 * `GET /v1/vehicles/:id/summary`: distance, moving/stopped time, speeds, trips and stops. The
 * figures come from the warehouse's one summary SQL; this route only picks the window and rules.
 */
export function registerSummaryRoute(app: FastifyInstance, ctx: RouteContext): void {
  app.get(
    '/v1/vehicles/:id/summary',
    {
      schema: {
        tags: ['history'],
        summary: 'Distance, moving/stopped time, speeds, trips and stops over a window (at most 24 h)',
        description:
          'Trip/stop rules come from TRIP_MIN_DISTANCE_M, STOP_MIN_DURATION_S and MOVING_MIN_SPEED_KMH; min_trip_m, min_stop_s and moving_kmh override them per request.',
        params: VehicleParams,
        querystring: SummaryQuery,
        response: { 200: SummaryAnswer, 400: ErrorAnswer },
      },
    },
    async (request) => {
      const { id } = request.params as z.output<typeof VehicleParams>;
      const q = request.query as z.output<typeof SummaryQuery>;
      const { from, to } = queryWindow(q, ctx.now());
      const rules = {
        minDistanceM: q.min_trip_m ?? ctx.api.trips.minDistanceM,
        minStopDurationS: q.min_stop_s ?? ctx.api.trips.minStopDurationS,
        movingMinSpeedKmh: q.moving_kmh ?? ctx.api.trips.movingMinSpeedKmh,
      };
      const summary = await ctx.warehouse.summary({ vehicleId: id, from, to, rules });
      return { ...summary, rules };
    },
  );
}
