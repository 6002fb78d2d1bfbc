import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type RunningApiServer } from '../../src/api/server.js';
import type { VehicleEvent } from '../../src/domain/vehicle-event.js';
import { createGatewayServer } from '../../src/ingest/gateway/server.js';
import { createPublisher, type PositionPublisher } from '../../src/ingest/publisher.js';
import { silentLogger } from '../../src/logger.js';
import { startEventsProcessor, type EventsProcessorHandle } from '../../src/processor/events-processor.js';
import { startEventsSink, type EventsSinkHandle } from '../../src/processor/events-sink.js';
import { createEventsWarehouse, createWarehouse } from '../../src/sinks/create-warehouse.js';
import type { EventsWarehouse } from '../../src/sinks/events-warehouse.js';
import type { Warehouse } from '../../src/sinks/warehouse-sink.js';
import { vehicleEventFeed } from '../../src/sources/vehicle-event-feed.js';
import { createRedisStateTable, type RedisStateTable } from '../../src/state/redis-state-table.js';
import { clearRedisPrefix, createTestTopics, eventually, testKafka, uniqueSuffix } from '../support/env.js';
import { eventsTestConfig, publishGeofence, readEvents } from '../support/events-env.js';
import { SseReader } from '../support/sse-client.js';

/*
 * One vehicle driven through the real ingest gateway (Traccar Client's OsmAnd requests, speed in
 * knots, battery in percent) on real Kafka and Redis: every event type once, the same events in
 * the topic, the SSE stream, the warehouse table and /v1/events, with the fields worked out here.
 *
 * The drive, due north along 13.3°E from 52.4°N, event time t0 + s (t0 90 s ago):
 *   i      0  1  2  3  4  5  6  7  8  9  10 11 12 13 | silence (offline) | 14
 *   s      0  1  2  3  4  5  6  7  8  9  14 19 24 27 |                   | 50
 *   knots 27 27 54 54 54 54 27 27 27 27  0  0  0  0 |                   |  0
 *   batt  60 55 50 45 19 18 17 16 15 14 13 12 12 12 |                   | 12
 * 27 kn = 50.004 km/h (13.89 m/s), 54 kn = 100.008 km/h; each position is as far from the last as
 * its speed says. Cumulative metres: 0, 13.9, 41.7, 69.5, 97.2, 125.0, 138.9, 152.8, 166.7, 180.6,
 * then still. A circle of 40 m around position 4 with the default 20 m hysteresis: enter at 4 (the
 * only one < 20 m from its centre), exit at 8 (69.5 m > 60 m; 7 is 55.6 m). Overspeed (> 80 km/h
 * for >= 2 s) from 2, reported at 4, ends at 6. Trip from 0, last moving at 9, ended by 12 (15 s
 * still >= TRIP_END_AFTER 15 s). Battery low at 4 (19 < 20), once. Offline after 15 s of silence
 * (wall clock) after 13, online with 14. The wall-clock rules are 15 s and the gateway's publisher
 * is warmed up first, so that a loaded machine's pauses between the drive's positions end no trip
 * and take no vehicle offline (a 10 s pause did, before the first publish had connected).
 */
const KNOTS = [27, 27, 54, 54, 54, 54, 27, 27, 27, 27, 0, 0, 0, 0, 0];
const BATT = [60, 55, 50, 45, 19, 18, 17, 16, 15, 14, 13, 12, 12, 12, 12];
const SECONDS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 14, 19, 24, 27, 50];
const KMH = (knots: number) => knots * 1.852;
/** Metres per degree of latitude on the project's sphere (EARTH_RADIUS_M). */
const M_PER_DEG = (6_372_797.560856 * Math.PI) / 180;
const LAT0 = 52.4;
const LON = 13.3;

const metres: number[] = [];
KNOTS.forEach((k, i) => metres.push(i === 0 ? 0 : metres[i - 1]! + KMH(k) / 3.6));
const latAt = (i: number) => LAT0 + metres[i]! / M_PER_DEG;

describe('events of a vehicle driven through the gateway (real Kafka, Redis, DuckDB): topic, SSE, warehouse, /v1/events', () => {
  const config = eventsTestConfig({
    EVENTS_GRACE_MS: '1000',
    OVERSPEED_LIMIT_KMH: '80',
    OVERSPEED_MIN_DURATION_MS: '2000',
    OFFLINE_AFTER: '15s',
    TRIP_END_AFTER_MS: '15000',
    BATTERY_LOW_PCT: '20',
    PORT: '0',
  });
  const vehicle = `gw-${uniqueSuffix()}`;
  let processor: EventsProcessorHandle;
  let sink: EventsSinkHandle;
  let publisher: PositionPublisher;
  let gateway: FastifyInstance;
  let gatewayUrl: string;
  let table: RedisStateTable;
  let warehouse: Warehouse;
  let events: EventsWarehouse;
  let api: RunningApiServer | null = null;
  const readers: SseReader[] = [];

  beforeAll(async () => {
    await createTestTopics(config);
    processor = await startEventsProcessor(config, { registry: new Registry() });
    await publishGeofence(config, 'depot', {
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [LON, latAt(4)] },
      properties: { name: 'Depot', radius_m: 40 },
    });
    await eventually(() => processor.geofences.get('depot') !== undefined);
    warehouse = await createWarehouse(config.warehouse, silentLogger);
    await warehouse.ready();
    events = await createEventsWarehouse(config.warehouse, warehouse);
    await events.ready();
    sink = await startEventsSink(config, { warehouse: events, kafka: testKafka(config) });
    table = createRedisStateTable({ partitions: 3, url: config.redis.url, prefix: config.redis.prefix });
    api = await startApiServer({
      config,
      table,
      warehouse,
      events,
      registry: new Registry(),
      eventFeed: vehicleEventFeed(testKafka(config), config.events.topic, silentLogger),
    });
    publisher = createPublisher(config, { logger: silentLogger, registry: new Registry() });
    gateway = await createGatewayServer({ config, publisher, registry: new Registry() });
    gatewayUrl = await gateway.listen({ host: '127.0.0.1', port: 0 });
  }, 120_000);

  afterAll(async () => {
    for (const r of readers) r.close();
    await gateway?.close();
    await publisher?.close();
    await api?.close();
    await processor?.stop();
    await sink?.stop();
    await events?.close();
    await warehouse?.close();
    await table?.close();
    await clearRedisPrefix(config);
  });

  const sse = async (query: string) => {
    const reader = new SseReader();
    readers.push(reader);
    expect(await reader.open(`${api!.url}/v1/events/stream${query}`)).toBe(200);
    await reader.waitFor('ready');
    return reader;
  };
  const streamed = (r: SseReader) =>
    r.events.filter((e) => e.event === 'vehicle_event').map((e) => JSON.parse(e.data) as VehicleEvent);
  /** Sends position `i` (OsmAnd: timestamp in s, speed in knots) of the drive starting at `t0S` (s). */
  const send = async (i: number, t0S: number) => {
    const q = `id=${vehicle}&timestamp=${t0S + SECONDS[i]!}&lat=${latAt(i)}&lon=${LON}&speed=${KNOTS[i]}&batt=${BATT[i]}`;
    const res = await fetch(`${gatewayUrl}/?${q}`);
    expect(res.status, await res.text()).toBe(200);
  };

  it('gives each event once, with its fields, in the topic, the SSE stream, the warehouse and /v1/events', async () => {
    const all = await sse(`?vehicleId=${vehicle}`);
    const presence = await sse(`?vehicleId=${vehicle}&type=offline,online,battery_low`);
    // Warm-up: the publisher connects on its first publish (seconds on a loaded machine).
    const warm = await fetch(
      `${gatewayUrl}/?id=${vehicle}-warmup&timestamp=${Math.floor(Date.now() / 1000)}&lat=48&lon=11`,
    );
    expect(warm.status).toBe(200);
    const t0 = Math.floor(Date.now() / 1000) - 90;
    const ts = (i: number) => (t0 + SECONDS[i]!) * 1000;
    for (let i = 0; i <= 13; i++) await send(i, t0);
    // Silent for OFFLINE_AFTER by the wall clock, then back 23 s (event time) after the last.
    await all.waitFor('vehicle_event', 1, (e) => (e as VehicleEvent).type === 'offline', 30_000);
    await send(14, t0);
    await all.waitFor('vehicle_event', 1, (e) => (e as VehicleEvent).type === 'online', 30_000);

    const topic = (await readEvents(config)).filter((e) => e.vehicleId === vehicle);
    const byType = (type: string) => topic.filter((e) => e.type === type);
    const types = topic.map((e) => e.type).sort();
    const seen = topic.map((e) => `${e.type}@${(e.ts - t0 * 1000) / 1000}s ${e.id.slice(0, 6)}`);
    expect(types, seen.join(', ')).toEqual([
      'battery_low',
      'geofence_enter',
      'geofence_exit',
      'offline',
      'online',
      'overspeed',
      'overspeed_end',
      'trip_end',
      'trip_start',
    ]);
    expect(byType('geofence_enter')[0]).toMatchObject({
      geofenceId: 'depot',
      geofenceName: 'Depot',
      ts: ts(4),
    });
    expect(byType('geofence_exit')[0]).toMatchObject({ geofenceId: 'depot', ts: ts(8) });
    expect(byType('overspeed')[0]).toMatchObject({ ts: ts(2), limitKmh: 80 });
    expect(byType('overspeed_end')[0]).toMatchObject({ ts: ts(6), durationMs: 4000 });
    expect(byType('overspeed_end')[0]!.maxSpeedKmh).toBeCloseTo(KMH(54), 6);
    expect(byType('trip_start')[0]).toMatchObject({ ts: ts(0) });
    const tripEnd = byType('trip_end')[0]!;
    expect(tripEnd).toMatchObject({ ts: ts(9), startTs: ts(0), durationMs: 9000 });
    expect(tripEnd.distanceM).toBe(Math.round(metres[9]!)); // 181 m
    expect(tripEnd.maxSpeedKmh).toBeCloseTo(KMH(54), 1);
    // 180.6 m in 9 s = 72.2 km/h, to 0.1.
    expect(tripEnd.avgSpeedKmh).toBeCloseTo(Math.round((metres[9]! / 9000) * 3600 * 10) / 10, 6);
    expect(byType('battery_low')[0]).toMatchObject({ ts: ts(4), battery: 19 });
    expect(byType('offline')[0]).toMatchObject({ ts: ts(13) + 15_000, lastSeenTs: ts(13) });
    expect(byType('online')[0]).toMatchObject({ ts: ts(14), lastSeenTs: ts(13) });

    const ids = topic.map((e) => e.id).sort();
    // SSE: the vehicle's stream got exactly the topic's events, the filtered one only its types.
    expect(
      streamed(all)
        .map((e) => e.id)
        .sort(),
    ).toEqual(ids);
    expect(
      streamed(presence)
        .map((e) => e.type)
        .sort(),
    ).toEqual(['battery_low', 'offline', 'online']);
    // The warehouse (through the events sink) and /v1/events (newest first) hold the same, once.
    await eventually(async () => (await events.count({ vehicleId: vehicle })) === ids.length, 30_000, 250);
    const stored = await events.query({ vehicleId: vehicle, limit: 100 });
    expect(stored.map((e) => e.id).sort()).toEqual(ids);
    const served = (await (await fetch(`${api!.url}/v1/events?vehicleId=${vehicle}`)).json()) as {
      events: VehicleEvent[];
    };
    expect(served.events.map((e) => e.id).sort()).toEqual(ids);
    expect(served.events[0]!.type).toBe('online');
    const trips = (await (await fetch(`${api!.url}/v1/vehicles/${vehicle}/events?type=trip_end`)).json()) as {
      events: VehicleEvent[];
    };
    expect(trips.events).toEqual([tripEnd]);
  }, 90_000);
});
