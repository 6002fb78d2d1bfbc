import { Registry } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiServer } from '../../src/api/server.js';
import { compileConfig, readRawConfig } from '../../src/config/index.js';
import { eventId, type VehicleEvent } from '../../src/domain/vehicle-event.js';
import {
  FakeEventsWarehouse,
  FakeGeofenceStore,
  FakeStateTable,
  FakeWarehouse,
} from '../support/api-fakes.js';
import { squareFeature } from '../support/events-env.js';

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);
const event = (vehicleId: string, type: VehicleEvent['type'], ts: number): VehicleEvent => ({
  id: eventId(vehicleId, type, ts),
  type,
  vehicleId,
  ts,
});

describe('geofence and event routes (fake ports)', () => {
  const geofences = new FakeGeofenceStore();
  const events = new FakeEventsWarehouse();
  let app: FastifyInstance;

  beforeAll(async () => {
    await events.write([
      event('car-1', 'geofence_enter', T0 + 1000),
      event('car-1', 'geofence_exit', T0 + 5000),
      event('car-2', 'overspeed', T0 + 3000),
      event('car-2', 'offline', T0 + 9000),
    ]);
    const config = compileConfig(readRawConfig({}, { API_AUTH: 'required', API_KEYS: 'k'.repeat(32) }), {});
    app = await createApiServer({
      config,
      table: new FakeStateTable(),
      warehouse: new FakeWarehouse(),
      registry: new Registry(),
      geofences,
      events,
    });
  });
  afterAll(() => app.close());

  const call = (method: 'GET' | 'PUT' | 'DELETE', url: string, payload?: unknown) =>
    app.inject({ method, url, headers: { 'x-api-key': 'k'.repeat(32) }, ...(payload ? { payload } : {}) });

  it('PUT creates (201) then replaces (200); GET lists by id and answers one Feature; DELETE then 404', async () => {
    const created = await call('PUT', '/v1/geofences/zone-b', squareFeature('B', 30));
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      type: 'Feature',
      id: 'zone-b',
      properties: { name: 'B', speedLimitKmh: 30 },
    });
    expect((await call('PUT', '/v1/geofences/zone-b', squareFeature('B2'))).statusCode).toBe(200);
    const circle = {
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [13.4, 52.5] },
      properties: { name: 'A', radius_m: 300 },
    };
    expect((await call('PUT', '/v1/geofences/zone-a', circle)).statusCode).toBe(201);

    const list = await call('GET', '/v1/geofences');
    expect(list.json().geofences.map((f: { id: string }) => f.id)).toEqual(['zone-a', 'zone-b']);
    expect((await call('GET', '/v1/geofences/zone-b')).json().properties).toEqual({ name: 'B2' });

    expect((await call('DELETE', '/v1/geofences/zone-b')).statusCode).toBe(204);
    expect((await call('GET', '/v1/geofences/zone-b')).statusCode).toBe(404);
    const again = await call('DELETE', '/v1/geofences/zone-b');
    expect(again.statusCode).toBe(404);
    expect(again.json().message).toBe("geofence 'zone-b' not found");
  });

  it('invalid GeoJSON is a 400 naming the path and the problem', async () => {
    const open = squareFeature('Open');
    open.geometry.coordinates[0]!.pop();
    const res = await call('PUT', '/v1/geofences/zone-c', open);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'invalid_parameter', parameter: 'geometry.coordinates[0]' });
    expect(res.json().message).toContain('geometry.coordinates[0]: a linear ring must be closed');

    const point = {
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [13.4, 52.5] },
      properties: { name: 'P' },
    };
    expect((await call('PUT', '/v1/geofences/zone-c', point)).json()).toMatchObject({
      parameter: 'properties.radius_m',
    });
    const line = {
      type: 'Feature',
      geometry: { type: 'LineString', coordinates: [] },
      properties: { name: 'L' },
    };
    expect((await call('PUT', '/v1/geofences/zone-c', line)).json().message).toContain(
      'geometry.type: must be Polygon',
    );
    expect(
      (await call('PUT', '/v1/geofences/zone-c', { ...squareFeature(), id: 'other' })).json(),
    ).toMatchObject({ parameter: 'id' });
    expect(
      (await call('PUT', `/v1/geofences/${encodeURIComponent('bad id!')}`, squareFeature())).json(),
    ).toMatchObject({ parameter: 'id' });
    expect(geofences.get('zone-c')).toBeUndefined();
  });

  it('geofences need the API key like every /v1 route', async () => {
    expect((await app.inject({ method: 'GET', url: '/v1/geofences' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/v1/events' })).statusCode).toBe(401);
  });

  it('GET /v1/events answers newest first, filtered by vehicle, type list and window', async () => {
    const all = (await call('GET', '/v1/events')).json().events as VehicleEvent[];
    expect(all.map((e) => e.ts - T0)).toEqual([9000, 5000, 3000, 1000]);
    const ids = (url: string) =>
      call('GET', url).then((r) =>
        (r.json().events as VehicleEvent[]).map((e) => `${e.vehicleId}:${e.type}`),
      );
    expect(await ids('/v1/events?vehicleId=car-1')).toEqual(['car-1:geofence_exit', 'car-1:geofence_enter']);
    expect(await ids('/v1/events?type=overspeed,geofence_enter')).toEqual([
      'car-2:overspeed',
      'car-1:geofence_enter',
    ]);
    expect(await ids(`/v1/events?from=${T0 + 3000}&to=${new Date(T0 + 9000).toISOString()}&limit=1`)).toEqual(
      ['car-1:geofence_exit'],
    );
    expect(await ids('/v1/vehicles/car-2/events?type=offline')).toEqual(['car-2:offline']);
    expect(events.queries.at(-1)).toEqual({ vehicleId: 'car-2', types: ['offline'], limit: 100 });
  });

  it('bad event query parameters are a 400 naming them', async () => {
    const param = async (url: string) => (await call('GET', url)).json();
    expect(await param('/v1/events?type=speeding')).toMatchObject({ statusCode: 400, parameter: 'type' });
    expect((await param('/v1/events?type=speeding')).message).toContain('unknown event type speeding');
    expect(await param('/v1/events?limit=0')).toMatchObject({ parameter: 'limit' });
    expect(await param('/v1/events?limit=5000')).toMatchObject({ parameter: 'limit' });
    expect(await param('/v1/events?from=yesterday')).toMatchObject({ parameter: 'from' });
    expect(await param(`/v1/events?from=${T0}&to=${T0}`)).toMatchObject({ parameter: 'from' });
    expect(await param('/v1/events?vehicle=car-1')).toMatchObject({ parameter: 'vehicle' });
    expect(await param('/v1/vehicles/car-1/events?vehicleId=car-2')).toMatchObject({
      parameter: 'vehicleId',
    });
  });
});
