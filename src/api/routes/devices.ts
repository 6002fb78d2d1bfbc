import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { newDevice, publicDevice, type DeviceStore } from '../../domain/device.js';
import { VehicleIdSchema } from '../../domain/position.js';
import { NotFoundError } from '../../errors.js';
import { ErrorAnswer } from '../schemas.js';

const DeviceParams = z.object({ id: VehicleIdSchema.describe('Device id (the vehicleId it reports under)') });
const DeviceBody = z
  .object({
    name: z.string().max(256).optional().describe('Free label'),
    token: z
      .string()
      .min(16)
      .max(512)
      .optional()
      .describe('Device token (stored as its sha256); the device then sends it on every request'),
  })
  .strict();
const DeviceView = z.object({
  id: z.string(),
  name: z.string().optional(),
  hasToken: z.boolean(),
  createdAt: z.string(),
});

/**
 * The device registry of the ingest gateway: `GET /v1/devices`, `GET|PUT|DELETE /v1/devices/:id`.
 * Behind the API key like every /v1 route; tokens are never shown, only whether one is set.
 */
export function registerDeviceRoutes(app: FastifyInstance, store: DeviceStore): void {
  const tags = ['devices'];
  app.get(
    '/v1/devices',
    {
      schema: {
        tags,
        summary: 'Registered devices, ordered by id',
        response: { 200: z.object({ devices: z.array(DeviceView) }) },
      },
    },
    async () => ({ devices: (await store.list()).map(publicDevice) }),
  );
  app.get(
    '/v1/devices/:id',
    {
      schema: {
        tags,
        summary: 'One device',
        params: DeviceParams,
        response: { 200: DeviceView, 404: ErrorAnswer },
      },
    },
    async (request) => {
      const { id } = request.params as z.output<typeof DeviceParams>;
      const device = await store.get(id);
      if (!device) throw new NotFoundError('device', id);
      return publicDevice(device);
    },
  );
  app.put(
    '/v1/devices/:id',
    {
      schema: {
        tags,
        summary: 'Register a device, or replace its entry (name, token)',
        description:
          '201 when new, 200 when replaced. Without `token` the device needs none; the gateway sees the change within GATEWAY_DEVICE_CACHE_MS.',
        params: DeviceParams,
        body: DeviceBody.optional(),
        response: { 200: DeviceView, 201: DeviceView, 400: ErrorAnswer },
      },
    },
    async (request, reply) => {
      const { id } = request.params as z.output<typeof DeviceParams>;
      const body = (request.body ?? {}) as z.output<typeof DeviceBody>;
      const existed = (await store.get(id)) !== undefined;
      const device = newDevice(id, body);
      await store.put(device);
      return reply.code(existed ? 200 : 201).send(publicDevice(device));
    },
  );
  app.delete(
    '/v1/devices/:id',
    {
      schema: {
        tags,
        summary: 'Unregister a device',
        params: DeviceParams,
        response: { 204: z.null().describe('Removed'), 404: ErrorAnswer },
      },
    },
    async (request, reply) => {
      const { id } = request.params as z.output<typeof DeviceParams>;
      if (!(await store.remove(id))) throw new NotFoundError('device', id);
      return reply.code(204).send();
    },
  );
}
