import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { NotFoundError } from '../../errors.js';
import type { RouteContext } from '../route-context.js';
import { ErrorAnswer, ListQuery, VehicleParams, VehiclePage, VehicleView } from '../schemas.js';
import { vehicleView } from '../views.js';

/** `GET /v1/vehicles` (paginated, bbox and age filters) and `GET /v1/vehicles/:id`. */
export function registerVehicleRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get(
    '/v1/vehicles',
    {
      schema: {
        tags: ['vehicles'],
        summary: 'Current position of every vehicle, ordered by id, paginated',
        description:
          'Filter by bounding box and by last-seen age; every vehicle carries `stale` (older than STALE_AFTER_MS). Follow `nextCursor` for the next page.',
        querystring: ListQuery,
        response: { 200: VehiclePage, 400: ErrorAnswer },
      },
    },
    async (request) => {
      const q = request.query as z.output<typeof ListQuery>;
      const now = ctx.now();
      const page = await ctx.table.list({
        limit: q.limit,
        now,
        ...(q.cursor ? { cursor: q.cursor } : {}),
        ...(q.bbox ? { bbox: q.bbox } : {}),
        ...(q.max_age_s !== undefined ? { maxAgeMs: q.max_age_s * 1000 } : {}),
      });
      return {
        vehicles: page.vehicles.map((v) => vehicleView(v, now, ctx.api.staleAfterMs)),
        nextCursor: page.nextCursor,
        total: page.total,
        staleAfterMs: ctx.api.staleAfterMs,
      };
    },
  );

  app.get(
    '/v1/vehicles/:id',
    {
      schema: {
        tags: ['vehicles'],
        summary: 'Latest position of one vehicle',
        params: VehicleParams,
        response: { 200: VehicleView, 404: ErrorAnswer },
      },
    },
    async (request) => {
      const { id } = request.params as z.output<typeof VehicleParams>;
      const state = await ctx.table.get(id);
      if (!state) throw new NotFoundError('vehicle', id);
      return vehicleView(state, ctx.now(), ctx.api.staleAfterMs);
    },
  );
}
