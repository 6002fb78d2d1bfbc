import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/index.js';
import type { FastifyInstance } from 'fastify';
import { openKafkaGeofenceStore, type OpenGeofenceStore } from '../../src/api/kafka-geofence-store.js';
import { createApiServer } from '../../src/api/server.js';
import { createLogger, silentLogger } from '../../src/logger.js';
import { startEventsSink, type EventsSinkHandle } from '../../src/processor/events-sink.js';
import { createEventsWarehouse } from '../../src/sinks/create-warehouse.js';
import type { EventsWarehouse } from '../../src/sinks/events-warehouse.js';
import type { VehicleEvent } from '../../src/domain/vehicle-event.js';
import { startEventsProcessor, type EventsProcessorHandle } from '../../src/processor/events-processor.js';
import { createTestTopics, eventually, testConfig, testKafka, uniqueSuffix } from '../support/env.js';
import { driveThrough, readEvents, squareFeature } from '../support/events-env.js';
import { produce, startTestPipeline, testRegistry, type TestPipeline } from '../support/processor-env.js';

const debugLogger = process.env.DEBUG_EVENTS
  ? { logger: createLogger({ level: 'debug', destination: 2 }) }
  : {};

const count = (events: VehicleEvent[], type: string, vehicleId?: string) =>
  events.filter((e) => e.type === type && (!vehicleId || e.vehicleId === vehicleId)).length;

describe('events processor (real Kafka, transactions) with the geofence API, events sink and /v1/events', () => {
  let config: Readonly<Config>;
  let processor: EventsProcessorHandle | undefined;
  let pipeline: TestPipeline;
  let eventsWarehouse: EventsWarehouse;
  let sink: EventsSinkHandle;
  let geofenceStore: OpenGeofenceStore;
  let api: FastifyInstance;
  const apiEvents = async (query: string) =>
    (await api.inject({ method: 'GET', url: `/v1/events?${query}` })).json().events as VehicleEvent[];

  beforeAll(async () => {
    const id = uniqueSuffix();
    config = testConfig({
      EVENTS_TOPIC: `test_events_${id}`,
      GEOFENCES_TOPIC: `test_geofences_${id}`,
      EVENTS_GROUP: `test-events-${id}`,
      EVENTS_GRACE_MS: '1000',
      OVERSPEED_LIMIT_KMH: '80',
      OVERSPEED_MIN_DURATION_MS: '2000',
      OFFLINE_AFTER: '4s',
      TRIP_END_AFTER_MS: '3000',
    });
    await createTestTopics(config);
    pipeline = await startTestPipeline(config);
    eventsWarehouse = await createEventsWarehouse(config.warehouse, pipeline.warehouse);
    await eventsWarehouse.ready();
    sink = await startEventsSink(config, {
      warehouse: eventsWarehouse,
      kafka: testKafka(config),
      ...debugLogger,
    });
    geofenceStore = await openKafkaGeofenceStore(testKafka(config), config, silentLogger);
    api = await createApiServer({
      config,
      table: pipeline.table,
      warehouse: pipeline.warehouse,
      registry: testRegistry(),
      geofences: geofenceStore.store,
      events: eventsWarehouse,
    });
  }, 120_000);

  afterAll(async () => {
    await processor?.stop();
    await api?.close();
    await geofenceStore?.close();
    await sink?.stop();
    await eventsWarehouse?.close();
    await pipeline?.close();
  });

  it('a drive into and out of a geofence gives one enter and one exit; overspeed, trips and offline too; a restart restores state and duplicates nothing', async () => {
    processor = await startEventsProcessor(config, debugLogger);
    // Through the API: a GET right after the PUT sees it (read-your-writes on the followed topic).
    const put = await api.inject({
      method: 'PUT',
      url: '/v1/geofences/mitte',
      payload: squareFeature('Mitte'),
    });
    expect(put.statusCode).toBe(201);
    expect((await api.inject({ method: 'GET', url: '/v1/geofences/mitte' })).json()).toMatchObject({
      id: 'mitte',
      properties: { name: 'Mitte' },
    });
    await eventually(() => processor!.geofences.get('mitte') !== undefined);

    const t0 = Date.now() - 60_000;
    const drive = driveThrough('car-1', t0, 1000, 50);
    // A second vehicle speeds (100 km/h > 80 for 4 s), then slows down.
    const speeder = [100, 100, 100, 100, 100, 40].map((speed, i) => ({
      vehicleId: 'car-2',
      ts: t0 + i * 1000,
      lat: 48.1 + i * 0.0003,
      lon: 11.5,
      speed,
    }));
    // Out of order within the grace: positions 4 and 5 of car-1 swapped.
    await produce(config, [...drive.slice(0, 4), drive[5]!, drive[4]!, ...drive.slice(6), ...speeder]);

    await eventually(
      async () => {
        const events = await readEvents(config);
        if (process.env.DEBUG_EVENTS) console.log(events.map((e) => `${e.vehicleId} ${e.type}@${e.ts - t0}`));
        return (
          count(events, 'offline') >= 2 &&
          count(events, 'geofence_exit') >= 1 &&
          count(events, 'overspeed_end') >= 1
        );
      },
      60_000,
      500,
    );
    const first = await readEvents(config);
    expect(count(first, 'geofence_enter', 'car-1')).toBe(1);
    expect(count(first, 'geofence_exit', 'car-1')).toBe(1);
    expect(first.find((e) => e.type === 'geofence_enter')).toMatchObject({
      geofenceId: 'mitte',
      ts: t0 + 4000,
    });
    expect(count(first, 'overspeed', 'car-2')).toBe(1);
    expect(first.find((e) => e.type === 'overspeed_end')).toMatchObject({
      maxSpeedKmh: 100,
      durationMs: 5000,
    });
    expect(count(first, 'trip_start', 'car-1')).toBe(1);
    // Offline by the wall clock: nothing came for OFFLINE_AFTER (4 s).
    expect(first.find((e) => e.type === 'offline' && e.vehicleId === 'car-1')).toMatchObject({
      ts: drive[9]!.ts + 4000,
    });
    expect(new Set(first.map((e) => e.id)).size).toBe(first.length);
    expect(count(first, 'trip_end', 'car-1')).toBe(1);

    // The same events through the sink: in the warehouse table and at /v1/events, newest first.
    await eventually(async () => (await eventsWarehouse.count()) === first.length, 60_000, 500);
    const stored = await eventsWarehouse.query({ limit: 1000 });
    expect(new Set(stored.map((e) => e.id))).toEqual(new Set(first.map((e) => e.id)));
    const car1 = await apiEvents('vehicleId=car-1&type=geofence_enter,geofence_exit');
    expect(car1.map((e) => [e.type, e.geofenceId, e.ts - t0])).toEqual([
      ['geofence_exit', 'mitte', 7000],
      ['geofence_enter', 'mitte', 4000],
    ]);
    for (const type of ['overspeed', 'overspeed_end', 'trip_start', 'trip_end', 'offline'])
      expect((await apiEvents(`type=${type}`)).length, type).toBeGreaterThanOrEqual(1);
    const perVehicle = (
      await api.inject({ method: 'GET', url: '/v1/vehicles/car-2/events?type=overspeed' })
    ).json();
    expect(perVehicle.events).toEqual([first.find((e) => e.type === 'overspeed')]);

    // Restart: state comes back from the changelog. car-1 reports again (inside the square): it is
    // online again and enters once more; nothing already emitted is emitted twice.
    await processor.stop();
    processor = await startEventsProcessor(config);
    await produce(config, [
      { vehicleId: 'car-1', ts: t0 + 30_000, lat: 52.52, lon: 13.4, speed: 0 },
      { vehicleId: 'car-1', ts: t0 + 32_000, lat: 52.52, lon: 13.4, speed: 0 },
    ]);
    await eventually(async () => count(await readEvents(config), 'online') >= 1, 60_000, 500);
    const second = await readEvents(config);
    expect(new Set(second.map((e) => e.id)).size).toBe(second.length);
    expect(count(second, 'geofence_enter', 'car-1')).toBe(2);
    expect(count(second, 'geofence_exit', 'car-1')).toBe(1);
    expect(count(second, 'online', 'car-1')).toBe(1);
    expect(count(second, 'overspeed', 'car-2')).toBe(1);
    // The sink stores each once: as many rows as distinct ids in the topic.
    await eventually(async () => (await eventsWarehouse.count()) === second.length, 60_000, 500);
    expect((await apiEvents('vehicleId=car-1&type=geofence_enter')).length).toBe(2);

    // DELETE is a tombstone: gone from the API at once and from the processor's table.
    expect((await api.inject({ method: 'DELETE', url: '/v1/geofences/mitte' })).statusCode).toBe(204);
    expect((await api.inject({ method: 'GET', url: '/v1/geofences' })).json()).toEqual({ geofences: [] });
    await eventually(() => processor!.geofences.get('mitte') === undefined);
  }, 240_000);
});
