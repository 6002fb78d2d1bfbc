import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import type { RouteContext } from '../route-context.js';
import { ErrorAnswer, NearbyAnswer, NearbyQuery } from '../schemas.js';
import { vehicleView } from '../views.js';

/** `GET /v1/vehicles/nearby`: vehicles within a radius, nearest first (Redis GEOSEARCH). */
export function registerNearbyRoute(app: FastifyInstance, ctx: RouteContext): void {
  app.get(
    '/v1/vehicles/nearby',
    {
      schema: {
        tags: ['vehicles'],
        summary: 'Vehicles within radius_m of a point, nearest first',
        querystring: NearbyQuery,
        response: { 200: NearbyAnswer, 400: ErrorAnswer },
      },
    },
    async (request) => {
      const q = request.query as z.output<typeof NearbyQuery>;
      const found = await ctx.table.nearby({ lat: q.lat, lon: q.lon, radiusM: q.radius_m, limit: q.limit });
      const now = ctx.now();
      return {
        lat: q.lat,
        lon: q.lon,
        radiusM: q.radius_m,
        vehicles: found.map((r) => ({
          ...vehicleView(r.vehicle, now, ctx.api.staleAfterMs),
          distanceM: r.distanceM,
        })),
      };
    },
  );
}
