import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaReadiness, type KafkaReadiness } from '../../src/api/kafka-readiness.js';
import { startApiServer, type RunningApiServer } from '../../src/api/server.js';
import { EARTH_RADIUS_M, haversineM } from '../../src/domain/geo.js';
import type { Position } from '../../src/domain/position.js';
import { silentLogger } from '../../src/logger.js';
import { createWarehouse } from '../../src/sinks/create-warehouse.js';
import type { Warehouse } from '../../src/sinks/warehouse-sink.js';
import { createPublisher, type PositionPublisher } from '../../src/ingest/publisher.js';
import { createRedisStateTable, type RedisStateTable } from '../../src/state/redis-state-table.js';
import { startProcessor, type ProcessorHandle } from '../../src/processor/processor.js';
import {
  clearRedisPrefix,
  createTestTopics,
  deleteTestTopics,
  eventually,
  testConfig,
  testKafka,
} from '../support/env.js';
import { SseReader } from '../support/sse-client.js';

/**
 * The query API over real Redis and real DuckDB, both filled by the real pipeline: positions are
 * published to a test topic and the processor (in-process) writes them to the table and warehouse.
 */
const KEY = 'integration-key-7f3a-0123456789abcdef';
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers, checked field by field
type Json = Record<string, any>;
const MIN = 60_000;
const CENTRE = { lat: 48.8566, lon: 2.3522 };
/** Metres per degree of latitude along a meridian, with the project's Earth radius. */
const M_PER_DEG = (EARTH_RADIUS_M * Math.PI) / 180;

const config = testConfig({
  API_AUTH: 'required',
  API_KEYS: KEY,
  PORT: '0',
  BATCH_MAX_WAIT_MS: '200',
  STALE_AFTER_MS: '60000',
});

const now = Date.now();
const t0 = Math.floor((now - 60 * MIN) / 1000) * 1000;

/**
 * The hand-checked track of `trk-1`, one position a minute along the meridian 5°E (so each moving
 * minute is exactly 0.009° of latitude = 1001.04 m, at 60 km/h):
 *   t0+0..5 min   moving north (6 positions, 5 segments)
 *   t0+6..12 min  standing still at the t0+5 spot, speed 0 (7 positions: a 6-minute stop)
 *   t0+13..16 min moving north again (4 positions)
 */
function handCheckedTrack(): Position[] {
  const lat0 = 45;
  const track: Position[] = [];
  for (let k = 0; k <= 5; k++)
    track.push({ vehicleId: 'trk-1', ts: t0 + k * MIN, lat: lat0 + 0.009 * k, lon: 5, speed: 60 });
  const stopLat = lat0 + 0.009 * 5;
  for (let k = 6; k <= 12; k++)
    track.push({ vehicleId: 'trk-1', ts: t0 + k * MIN, lat: stopLat, lon: 5, speed: 0 });
  for (let j = 1; j <= 4; j++) {
    track.push({ vehicleId: 'trk-1', ts: t0 + (12 + j) * MIN, lat: stopLat + 0.009 * j, lon: 5, speed: 60 });
  }
  return track;
}

const fresh = (vehicleId: string, lat: number, lon: number, extra: Partial<Position> = {}): Position => ({
  vehicleId,
  ts: now - 2000,
  lat,
  lon,
  ...extra,
});

const around = [
  fresh('near-a', CENTRE.lat + 0.001, CENTRE.lon), // ~111 m north
  fresh('near-b', CENTRE.lat + 0.005, CENTRE.lon, { speed: 20 }), // ~556 m north
  fresh('near-c', CENTRE.lat, CENTRE.lon + 0.01), // ~733 m east
  fresh('far-d', CENTRE.lat + 0.05, CENTRE.lon), // ~5.6 km north
  { vehicleId: 'old-1', ts: now - 10 * MIN, lat: 51.5, lon: -0.12 }, // stale, London
];

describe('query API on the real pipeline (Kafka → processor → Redis + DuckDB)', () => {
  let table: RedisStateTable;
  let warehouse: Warehouse;
  let processor: ProcessorHandle;
  let publisher: PositionPublisher;
  let server: RunningApiServer;
  let kafka: KafkaReadiness;

  const get = (path: string, key: string | null = KEY) =>
    fetch(`${server.url}${path}`, { headers: key ? { 'x-api-key': key } : {} });
  const json = async (path: string) => {
    const res = await get(path);
    expect(res.status, `${path}: ${res.status}`).toBe(200);
    return (await res.json()) as Json;
  };

  beforeAll(async () => {
    await createTestTopics(config);
    const registry = new Registry();
    table = createRedisStateTable({
      partitions: config.topic.partitions,
      url: config.redis.url,
      prefix: config.redis.prefix,
      registry,
    });
    warehouse = await createWarehouse(config.warehouse, silentLogger);
    await warehouse.ready();
    processor = await startProcessor(config, {
      table,
      warehouse,
      registry,
      retry: { initialMs: 20, maxMs: 200 },
    });
    kafka = kafkaReadiness(testKafka(config));
    server = await startApiServer({ config, table, warehouse, registry, readiness: { kafka: kafka.check } });

    publisher = createPublisher(config, { logger: silentLogger, registry });
    await publisher.connect();
    await publisher.publish([...handCheckedTrack(), ...around]);
    // Visible in both stores: the last track point in Redis, every position in DuckDB.
    await eventually(async () => (await table.get('trk-1'))?.ts === t0 + 16 * MIN, 30_000);
    await eventually(
      async () => (await warehouse.count({ topic: config.topic.name })) === 17 + around.length,
      30_000,
    );
  });

  afterAll(async () => {
    await publisher?.close();
    await server?.close();
    await processor?.stop({ timeoutMs: 10_000 });
    await kafka?.close();
    await warehouse?.close();
    await table?.close();
    await clearRedisPrefix(config);
    await deleteTestTopics(config);
  });

  it('GET /v1/vehicles/:id answers the latest position; unknown ids are 404', async () => {
    const v = await json('/v1/vehicles/trk-1');
    expect(v).toMatchObject({ vehicleId: 'trk-1', ts: t0 + 16 * MIN, lon: 5, speed: 60, stale: true });
    expect(v.lat).toBeCloseTo(45 + 0.009 * 9, 9);
    const missing = await get('/v1/vehicles/nobody-here');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({
      code: 'not_found',
      message: "vehicle 'nobody-here' not found",
    });
  });

  it('GET /v1/vehicles/nearby orders by distance and respects the radius', async () => {
    const body = await json(`/v1/vehicles/nearby?lat=${CENTRE.lat}&lon=${CENTRE.lon}&radius_m=1000`);
    const ids = body.vehicles.map((v: { vehicleId: string }) => v.vehicleId);
    expect(ids).toEqual(['near-a', 'near-b', 'near-c']);
    for (const v of body.vehicles) {
      // Redis stores 52-bit geohashes (~0.6 m): distances agree with haversine to about a metre.
      expect(Math.abs(v.distanceM - haversineM(CENTRE.lat, CENTRE.lon, v.lat, v.lon))).toBeLessThan(1.5);
    }
    expect(body.vehicles[0].distanceM).toBeCloseTo(0.001 * M_PER_DEG, -1);
    const wide = await json(`/v1/vehicles/nearby?lat=${CENTRE.lat}&lon=${CENTRE.lon}&radius_m=10000&limit=2`);
    expect(wide.vehicles.map((v: { vehicleId: string }) => v.vehicleId)).toEqual(['near-a', 'near-b']);
  });

  it('GET /v1/vehicles filters by bounding box and by age, flags stale vehicles and pages', async () => {
    const box = `${CENTRE.lon - 0.02},${CENTRE.lat - 0.02},${CENTRE.lon + 0.02},${CENTRE.lat + 0.02}`;
    const inBox = await json(`/v1/vehicles?bbox=${box}`);
    expect(inBox.vehicles.map((v: { vehicleId: string }) => v.vehicleId).sort()).toEqual([
      'near-a',
      'near-b',
      'near-c',
    ]);

    const all = await json('/v1/vehicles?limit=1000');
    const stale = Object.fromEntries(
      all.vehicles.map((v: { vehicleId: string; stale: boolean }) => [v.vehicleId, v.stale]),
    );
    expect(stale).toEqual({
      'near-a': false,
      'near-b': false,
      'near-c': false,
      'far-d': false,
      'old-1': true,
      'trk-1': true,
    });

    const recent = await json('/v1/vehicles?max_age_s=300');
    expect(recent.vehicles.map((v: { vehicleId: string }) => v.vehicleId).sort()).toEqual([
      'far-d',
      'near-a',
      'near-b',
      'near-c',
    ]);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Json = await json(
        `/v1/vehicles?limit=4${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(page.vehicles.length).toBeLessThanOrEqual(4);
      seen.push(...page.vehicles.map((v: { vehicleId: string }) => v.vehicleId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['far-d', 'near-a', 'near-b', 'near-c', 'old-1', 'trk-1']);
  });

  it('GET /v1/vehicles/:id/history returns from <= ts < to, oldest first', async () => {
    const body = await json(`/v1/vehicles/trk-1/history?from=${t0 + 2 * MIN}&to=${t0 + 5 * MIN}`);
    expect(body.positions.map((p: { ts: number }) => p.ts)).toEqual([
      t0 + 2 * MIN,
      t0 + 3 * MIN,
      t0 + 4 * MIN,
    ]);
    expect(body.positions[0]).toMatchObject({ lon: 5, speed: 60 });
    const all = await json('/v1/vehicles/trk-1/history');
    expect(all.count).toBe(17);
    expect(all.positions[16].ts).toBe(t0 + 16 * MIN);
    const iso = await json(`/v1/vehicles/trk-1/history?from=${new Date(t0 + 15 * MIN).toISOString()}`);
    expect(iso.positions.map((p: { ts: number }) => p.ts)).toEqual([t0 + 15 * MIN, t0 + 16 * MIN]);
  });

  it('GET /v1/vehicles/:id/summary matches the hand-checked track', async () => {
    const window = `from=${t0}&to=${t0 + 17 * MIN}`;
    const s = await json(`/v1/vehicles/trk-1/summary?${window}`);
    const minute = 0.009 * M_PER_DEG; // 1001.04 m
    expect(minute).toBeCloseTo(1001.04, 1);
    expect(s.positions).toBe(17);
    expect(s.distanceM).toBeCloseTo(9 * minute, 3); // 5 + 4 moving minutes
    expect(s.movingS).toBe(600); // 10 segments: 5 + into the stop + out of it + 3
    expect(s.stoppedS).toBe(360); // t0+6 .. t0+12
    expect(s.avgSpeedKmh).toBeCloseTo(((9 * minute) / 600) * 3.6, 6); // 54.06 km/h
    expect(s.maxSpeedKmh).toBe(60);
    expect(s.stops).toBe(1);
    expect(s.trips).toBe(2);
    expect(s.rules).toEqual({ minDistanceM: 500, minStopDurationS: 300, movingMinSpeedKmh: 3 });

    // A 6-minute halt is no stop when stops must last 7 minutes: one trip, no stop.
    const longer = await json(`/v1/vehicles/trk-1/summary?${window}&min_stop_s=420`);
    expect(longer).toMatchObject({ stops: 0, trips: 1 });
    // Trips of at least 4.5 km: only the first leg (5.005 km) counts.
    expect(await json(`/v1/vehicles/trk-1/summary?${window}&min_trip_m=4500`)).toMatchObject({
      trips: 1,
      stops: 1,
    });
  });

  it('answers 400 naming the parameter and 401 without a valid key', async () => {
    for (const [path, parameter] of [
      ['/v1/vehicles/nearby?lat=48&lon=2&radius_m=-1', 'radius_m'],
      [`/v1/vehicles/trk-1/history?from=${t0 - 25 * 60 * MIN}&to=${t0}`, 'from'],
      ['/v1/vehicles?bbox=2,48,1,49', 'bbox'],
    ] as const) {
      const res = await get(path);
      expect(res.status, path).toBe(400);
      expect(await res.json()).toMatchObject({ parameter });
    }
    expect((await get('/v1/vehicles/trk-1', null)).status).toBe(401);
    expect((await get('/v1/vehicles/trk-1', 'wrong')).status).toBe(401);
    expect((await get('/healthz', null)).status).toBe(200);
  });

  it('/readyz checks Kafka, Redis and DuckDB; /metrics has request latency and processor metrics', async () => {
    const ready = await get('/readyz', null);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as Json).checks).toMatchObject({
      redis: { ok: true },
      warehouse: { ok: true },
      kafka: { ok: true },
    });
    const metrics = await (await get('/metrics')).text();
    expect(metrics).toContain('fleet_api_request_duration_seconds_bucket');
    expect(metrics).toMatch(/^fleet_processor_records_in_total\{[^}]*\} \d+/m);
  });

  it('GET /v1/stream pushes changes made by the pipeline, filtered per connection', async () => {
    const everything = new SseReader();
    const one = new SseReader();
    const box = new SseReader();
    try {
      // A browser's way in: a stream token (POST /v1/stream-tokens) instead of the key in the URL.
      const issued = await fetch(`${server.url}/v1/stream-tokens`, {
        method: 'POST',
        headers: { 'x-api-key': KEY },
      });
      expect(issued.status).toBe(201);
      const { token } = (await issued.json()) as { token: string };
      expect(await everything.open(`${server.url}/v1/stream?token=${encodeURIComponent(token)}`)).toBe(200);
      expect(await one.open(`${server.url}/v1/stream?vehicle=live-2`, { 'x-api-key': KEY })).toBe(200);
      expect(
        await box.open(`${server.url}/v1/stream?bbox=2,48,3,49&token=${encodeURIComponent(token)}`),
      ).toBe(200);
      await Promise.all([everything.waitFor('ready'), one.waitFor('ready'), box.waitFor('ready')]);

      const ts = Date.now();
      await publisher.publish([
        { vehicleId: 'live-1', ts, lat: 48.5, lon: 2.5, speed: 33 }, // inside the box
        { vehicleId: 'live-2', ts, lat: 40.4, lon: -3.7 }, // Madrid
      ]);
      const got = await everything.waitFor('position', 2, (d) =>
        String((d as { vehicleId: string }).vehicleId).startsWith('live-'),
      );
      expect(got.map((e) => e.vehicleId).sort()).toEqual(['live-1', 'live-2']);
      expect(got.find((e) => e.vehicleId === 'live-1')).toMatchObject({ ts, speed: 33, stale: false });
      expect((await one.waitFor('position')).map((e) => e.vehicleId)).toEqual(['live-2']);
      expect((await box.waitFor('position')).map((e) => e.vehicleId)).toEqual(['live-1']);
      // Nothing else arrived on the filtered streams.
      expect(one.events.filter((e) => e.event === 'position')).toHaveLength(1);
      expect(box.events.filter((e) => e.event === 'position')).toHaveLength(1);
    } finally {
      everything.close();
      one.close();
      box.close();
    }
  });
});
