import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { GEOFENCE_ID_PATTERN, parseGeofence } from '../../domain/geofence.js';
import type { GeofenceStore } from '../../domain/geofence-store.js';
import { NotFoundError, ValidationError } from '../../errors.js';
import { ErrorAnswer } from '../schemas.js';

const GeofenceParams = z.object({
  id: z
    .string()
    .regex(GEOFENCE_ID_PATTERN, 'must be 1-128 of letters, digits and . _ : -')
    .describe('Geofence id (the key in GEOFENCES_TOPIC)'),
});
const Feature = z
  .object({
    type: z.literal('Feature'),
    id: z.string(),
    geometry: z.object({ type: z.enum(['Polygon', 'MultiPolygon', 'Point']), coordinates: z.unknown() }),
    properties: z.object({
      name: z.string(),
      speedLimitKmh: z.number().optional(),
      radius_m: z.number().optional().describe('Point geofences: the circle radius in metres'),
    }),
  })
  .describe('A GeoJSON Feature');
/** Checked by `parseGeofence`, which names every problem by its path; the schema only documents it. */
const FeatureBody = z
  .record(z.string(), z.unknown())
  .describe(
    'GeoJSON Feature: a Polygon or MultiPolygon, or a Point with properties.radius_m (a circle); properties.name required, properties.speedLimitKmh optional',
  );

/**
 * Geofences: `GET /v1/geofences`, `GET|PUT|DELETE /v1/geofences/:id`. Stored in the compacted topic
 * (a DELETE is a tombstone) and read from the API's copy of it; a write is answered once that
 * copy holds it, so the next GET from this API sees it. Behind the API key like every /v1 route.
 */
export function registerGeofenceRoutes(app: FastifyInstance, store: GeofenceStore): void {
  const tags = ['geofences'];
  app.get(
    '/v1/geofences',
    {
      schema: {
        tags,
        summary: 'Every geofence, ordered by id',
        response: { 200: z.object({ geofences: z.array(Feature) }) },
      },
    },
    async () => ({ geofences: store.list().map((g) => g.feature) }),
  );
  app.get(
    '/v1/geofences/:id',
    {
      schema: {
        tags,
        summary: 'One geofence (its Feature)',
        params: GeofenceParams,
        response: { 200: Feature, 404: ErrorAnswer },
      },
    },
    async (request) => {
      const { id } = request.params as z.output<typeof GeofenceParams>;
      const geofence = store.get(id);
      if (!geofence) throw new NotFoundError('geofence', id);
      return geofence.feature;
    },
  );
  app.put(
    '/v1/geofences/:id',
    {
      schema: {
        tags,
        summary: 'Create or replace a geofence',
        description:
          '201 when new, 200 when replaced; the answer is the stored Feature. A 400 names the path of every problem (`geometry.coordinates[0]: a linear ring must be closed`). The events processors pick it up from GEOFENCES_TOPIC.',
        params: GeofenceParams,
        body: FeatureBody,
        response: { 200: Feature, 201: Feature, 400: ErrorAnswer },
      },
    },
    async (request, reply) => {
      const { id } = request.params as z.output<typeof GeofenceParams>;
      const body = request.body as Record<string, unknown>;
      if (body.id !== undefined && body.id !== id)
        throw new ValidationError([
          { path: 'id', message: `the Feature's id must match the path (${id}) or be absent` },
        ]);
      const geofence = parseGeofence(body, id);
      const { created } = await store.put(geofence);
      return reply.code(created ? 201 : 200).send(geofence.feature);
    },
  );
  app.delete(
    '/v1/geofences/:id',
    {
      schema: {
        tags,
        summary: 'Delete a geofence (a tombstone in GEOFENCES_TOPIC)',
        params: GeofenceParams,
        response: { 204: z.null().describe('Deleted'), 404: ErrorAnswer },
      },
    },
    async (request, reply) => {
      const { id } = request.params as z.output<typeof GeofenceParams>;
      if (!(await store.remove(id))) throw new NotFoundError('geofence', id);
      return reply.code(204).send();
    },
  );
}
