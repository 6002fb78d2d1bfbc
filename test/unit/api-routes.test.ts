import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createApiServer } from '../../src/api/server.js';
import { compileConfig, readRawConfig } from '../../src/config/index.js';
import { haversineM } from '../../src/domain/geo.js';
import { FakeStateTable, FakeWarehouse, historyRow, vehicle } from '../support/api-fakes.js';

const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);
const HOUR = 3600_000;
const config = compileConfig(readRawConfig({}, { API_AUTH: 'off', STALE_AFTER_MS: '60000' }), {});

describe('query API routes (fake ports)', () => {
  const table = new FakeStateTable();
  const warehouse = new FakeWarehouse();
  let app: FastifyInstance;

  beforeAll(async () => {
    // Paris: three vehicles at known spots, one of them stale.
    table.put(
      vehicle('v-eiffel', 48.8584, 2.2945, NOW - 5_000, { speed: 12 }),
      vehicle('v-louvre', 48.8606, 2.3376, NOW - 10_000),
      vehicle('v-orly', 48.7262, 2.3652, NOW - 10 * 60_000),
    );
    for (let i = 0; i < 30; i++)
      warehouse.rows.push(historyRow('v-eiffel', NOW - 30 * HOUR + i * HOUR, 48.85, 2.29));
    app = await createApiServer({ config, table, warehouse, registry: new Registry(), now: () => NOW });
  });
  afterAll(() => app.close());

  const get = (url: string) => app.inject({ method: 'GET', url });

  it('GET /v1/vehicles/:id answers the latest position with its age and staleness', async () => {
    const res = await get('/v1/vehicles/v-eiffel');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      vehicleId: 'v-eiffel',
      lat: 48.8584,
      speed: 12,
      ageMs: 5000,
      stale: false,
    });
    expect((await get('/v1/vehicles/v-orly')).json()).toMatchObject({ stale: true, ageMs: 600_000 });
  });

  it('GET /v1/vehicles/:id is 404 with a clear body for an unknown vehicle', async () => {
    const res = await get('/v1/vehicles/nope-1');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      statusCode: 404,
      error: 'Not Found',
      code: 'not_found',
      message: "vehicle 'nope-1' not found",
    });
  });

  it('rejects a malformed vehicle id naming the parameter', async () => {
    const res = await get(`/v1/vehicles/${encodeURIComponent('bad id!')}`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ parameter: 'id', code: 'invalid_parameter' });
  });

  it('GET /v1/vehicles pages through every vehicle by id with a cursor', async () => {
    const first = (await get('/v1/vehicles?limit=2')).json();
    expect(first.vehicles.map((v: { vehicleId: string }) => v.vehicleId)).toEqual(['v-eiffel', 'v-louvre']);
    expect(first.total).toBe(3);
    expect(first.nextCursor).toBeTruthy();
    const second = (await get(`/v1/vehicles?limit=2&cursor=${encodeURIComponent(first.nextCursor)}`)).json();
    expect(second.vehicles.map((v: { vehicleId: string }) => v.vehicleId)).toEqual(['v-orly']);
    expect(second.nextCursor).toBeNull();
    expect(second.vehicles[0].stale).toBe(true);
  });

  it('passes the bbox and age filters to the table', async () => {
    const res = await get('/v1/vehicles?bbox=2.25,48.85,2.35,48.87&max_age_s=60');
    expect(res.statusCode).toBe(200);
    expect(table.listCalls.at(-1)).toMatchObject({
      bbox: { minLon: 2.25, minLat: 48.85, maxLon: 2.35, maxLat: 48.87 },
      maxAgeMs: 60_000,
      now: NOW,
      limit: 100,
    });
    expect(res.json().vehicles.map((v: { vehicleId: string }) => v.vehicleId)).toEqual([
      'v-eiffel',
      'v-louvre',
    ]);
  });

  it.each([
    ['/v1/vehicles?limit=0', 'limit'],
    ['/v1/vehicles?limit=1001', 'limit'],
    ['/v1/vehicles?limit=ten', 'limit'],
    ['/v1/vehicles?bbox=1,2,3', 'bbox'],
    ['/v1/vehicles?bbox=3,2,1,4', 'bbox'],
    ['/v1/vehicles?bbox=0,-95,1,1', 'bbox'],
    ['/v1/vehicles?max_age_s=-5', 'max_age_s'],
    ['/v1/vehicles?color=red', 'color'],
    ['/v1/vehicles/nearby?lat=91&lon=2&radius_m=100', 'lat'],
    ['/v1/vehicles/nearby?lat=48&lon=2', 'radius_m'],
    ['/v1/vehicles/nearby?lat=&lon=2&radius_m=100', 'lat'],
    ['/v1/vehicles/nearby?lat=48&lon=200&radius_m=100', 'lon'],
    ['/v1/vehicles/nearby?lat=48&lon=2&radius_m=0', 'radius_m'],
    ['/v1/vehicles/nearby?lat=48&lon=2&radius_m=600000', 'radius_m'],
    ['/v1/vehicles/nearby?lat=48&lon=2&radius_m=10&limit=5000', 'limit'],
    ['/v1/vehicles/nearby?lat=48&lon=2&radius=10', 'radius_m'],
    ['/v1/vehicles/v-eiffel/history?from=yesterday', 'from'],
    [`/v1/vehicles/v-eiffel/history?from=${NOW - 25 * HOUR}&to=${NOW}`, 'from'],
    [`/v1/vehicles/v-eiffel/history?from=${NOW}&to=${NOW - HOUR}`, 'from'],
    [`/v1/vehicles/v-eiffel/history?from=${NOW + HOUR}`, 'from'],
    ['/v1/vehicles/v-eiffel/history?limit=50001', 'limit'],
    ['/v1/vehicles/v-eiffel/summary?min_trip_m=-1', 'min_trip_m'],
    ['/v1/vehicles/v-eiffel/summary?to=2024-13-45T00:00:00Z', 'to'],
  ])('GET %s is 400 naming %s', async (url, parameter) => {
    const res = await get(url);
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body).toMatchObject({ statusCode: 400, code: 'invalid_parameter' });
    expect(body.parameter).toContain(parameter);
    expect(body.message).toContain(parameter);
  });

  it('GET /v1/vehicles/nearby answers nearest first with distances', async () => {
    // From Notre-Dame: the Louvre (~1.2 km) is nearer than the Eiffel tower (~4 km); Orly is 15 km away.
    const res = await get('/v1/vehicles/nearby?lat=48.8530&lon=2.3499&radius_m=5000');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.vehicles.map((v: { vehicleId: string }) => v.vehicleId)).toEqual(['v-louvre', 'v-eiffel']);
    expect(body.vehicles[0].distanceM).toBeCloseTo(haversineM(48.853, 2.3499, 48.8606, 2.3376), 3);
    expect(body).toMatchObject({ lat: 48.853, lon: 2.3499, radiusM: 5000 });
  });

  it('GET /v1/vehicles/:id/history defaults to the last 24 h and reports truncation', async () => {
    const res = await get('/v1/vehicles/v-eiffel/history');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ vehicleId: 'v-eiffel', from: NOW - 24 * HOUR, to: NOW, truncated: false });
    // Rows at NOW-30h .. NOW-1h hourly: those with ts >= NOW-24h are the last 24.
    expect(body.count).toBe(24);
    expect(body.positions[0].ts).toBe(NOW - 24 * HOUR);
    expect(body.positions.at(-1).ts).toBe(NOW - HOUR);

    const cut = (await get('/v1/vehicles/v-eiffel/history?limit=5')).json();
    expect(cut).toMatchObject({ count: 5, truncated: true });
    expect(warehouse.historyCalls.at(-1)).toMatchObject({ limit: 6 });
  });

  it('accepts ISO-8601 and epoch-ms bounds and caps an open window at 24 h', async () => {
    const iso = new Date(NOW - 3 * HOUR).toISOString();
    const res = await get(`/v1/vehicles/v-eiffel/history?from=${iso}&to=${NOW - HOUR}`);
    expect(res.json()).toMatchObject({ from: NOW - 3 * HOUR, to: NOW - HOUR, count: 2 });
    const open = (await get(`/v1/vehicles/v-eiffel/history?from=${NOW - 30 * HOUR}`)).json();
    expect(open).toMatchObject({ from: NOW - 30 * HOUR, to: NOW - 6 * HOUR });
  });

  it('GET /v1/vehicles/:id/summary passes the configured trip rules, overridable per request', async () => {
    const res = await get('/v1/vehicles/v-eiffel/summary');
    expect(res.statusCode).toBe(200);
    expect(warehouse.summaryCalls.at(-1)).toEqual({
      vehicleId: 'v-eiffel',
      from: NOW - 24 * HOUR,
      to: NOW,
      rules: { minDistanceM: 500, minStopDurationS: 300, movingMinSpeedKmh: 3 },
    });
    expect(res.json()).toMatchObject({ positions: 24, rules: { minDistanceM: 500 } });
    await get('/v1/vehicles/v-eiffel/summary?min_trip_m=50&min_stop_s=60&moving_kmh=1.5');
    expect(warehouse.summaryCalls.at(-1)!.rules).toEqual({
      minDistanceM: 50,
      minStopDurationS: 60,
      movingMinSpeedKmh: 1.5,
    });
  });

  it('unknown routes are 404 JSON', async () => {
    const res = await get('/v2/nothing');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'no_route' });
  });
});
