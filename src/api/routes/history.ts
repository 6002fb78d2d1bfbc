import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import type { RouteContext } from '../route-context.js';
import { ErrorAnswer, HistoryAnswer, HistoryQuery, queryWindow, VehicleParams } from '../schemas.js';
import { historyPoint } from '../views.js';

/** `GET /v1/vehicles/:id/history`: positions from the warehouse, at most 24 h per query. */
export function registerHistoryRoute(app: FastifyInstance, ctx: RouteContext): void {
  app.get(
    '/v1/vehicles/:id/history',
    {
      schema: {
        tags: ['history'],
        summary: 'Positions of one vehicle from the warehouse, oldest first (window at most 24 h)',
        description: 'from <= ts < to. Defaults: the last 24 h. Unknown vehicles answer an empty list.',
        params: VehicleParams,
        querystring: HistoryQuery,
        response: { 200: HistoryAnswer, 400: ErrorAnswer },
      },
    },
    async (request) => {
      const { id } = request.params as z.output<typeof VehicleParams>;
      const q = request.query as z.output<typeof HistoryQuery>;
      const { from, to } = queryWindow(q, ctx.now());
      // One extra row tells whether the limit cut the answer short.
      const rows = await ctx.warehouse.history({ vehicleId: id, from, to, limit: q.limit + 1 });
      const truncated = rows.length > q.limit;
      const positions = (truncated ? rows.slice(0, q.limit) : rows).map(historyPoint);
      return { vehicleId: id, from, to, count: positions.length, truncated, positions };
    },
  );
}
