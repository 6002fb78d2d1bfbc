import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventId, type EventType, type VehicleEvent } from '../../src/domain/vehicle-event.js';
import { createEventsWarehouse } from '../../src/sinks/create-warehouse.js';
import type { EventsWarehouse } from '../../src/sinks/events-warehouse.js';
import type { Warehouse } from '../../src/sinks/warehouse-sink.js';
import type { WarehouseConfig } from '../../src/config/config.js';
import { id, T0 } from './warehouse-records.js';

/** One event of `vehicleId`, `s` seconds after T0 (ids as the detectors make them). */
export function testEvent(
  vehicleId: string,
  type: EventType,
  s: number,
  extra: Partial<VehicleEvent> = {},
): VehicleEvent {
  const ts = T0 + s * 1000;
  return { id: eventId(vehicleId, type, ts, extra.geofenceId ?? ''), type, vehicleId, ts, ...extra };
}

/**
 * The events-table conformance suite, run against every adapter (DuckDB, Snowflake through the
 * stand-in in both ingest modes): idempotence on the event id, newest-first queries and filters,
 * every field read back as written. Each test uses its own vehicle ids (a shared table is fine).
 */
export function eventsWarehouseConformance(
  name: string,
  open: () => Promise<{ config: WarehouseConfig; positions: Warehouse }>,
): void {
  describe(`events warehouse conformance: ${name}`, { timeout: 60_000 }, () => {
    let positions: Warehouse;
    let events: EventsWarehouse;

    beforeAll(async () => {
      const opened = await open();
      positions = opened.positions;
      await positions.ready();
      events = await createEventsWarehouse(opened.config, positions);
      await events.ready();
      await events.ready();
    }, 120_000);
    afterAll(async () => {
      await events?.close();
      await positions?.close();
    });

    it('is idempotent on the event id: the same events twice, and repeats in one batch, are one row each', async () => {
      const v = id('ev');
      const batch = [
        testEvent(v, 'trip_start', 1),
        testEvent(v, 'overspeed', 2),
        testEvent(v, 'trip_end', 3),
      ];
      expect(await events.write([])).toEqual({ inserted: 0, duplicates: 0 });
      expect(await events.write(batch)).toEqual({ inserted: 3, duplicates: 0 });
      expect(await events.write(batch)).toEqual({ inserted: 0, duplicates: 3 });
      const more = [testEvent(v, 'offline', 4), testEvent(v, 'offline', 4), batch[0]!];
      expect(await events.write(more)).toEqual({ inserted: 1, duplicates: 2 });
      expect(await events.count({ vehicleId: v })).toBe(4);
      expect(await events.count()).toBeGreaterThanOrEqual(4);
    });

    it('answers newest first (ts, then id), filtered by vehicle, types and window, up to the limit', async () => {
      const [a, b] = [id('ev-a'), id('ev-b')];
      await events.write([
        testEvent(a, 'geofence_enter', 10, { geofenceId: 'z1' }),
        testEvent(a, 'geofence_exit', 20, { geofenceId: 'z1' }),
        testEvent(a, 'overspeed', 30),
        testEvent(b, 'overspeed', 25),
      ]);
      const seconds = (list: VehicleEvent[]) => list.map((e) => (e.ts - T0) / 1000);
      expect(seconds(await events.query({ vehicleId: a, limit: 10 }))).toEqual([30, 20, 10]);
      expect(seconds(await events.query({ vehicleId: a, limit: 2 }))).toEqual([30, 20]);
      expect(
        seconds(await events.query({ vehicleId: a, types: ['geofence_enter', 'geofence_exit'], limit: 10 })),
      ).toEqual([20, 10]);
      expect(
        seconds(await events.query({ vehicleId: a, from: T0 + 10_000, to: T0 + 30_000, limit: 10 })),
      ).toEqual([20, 10]);
      const both = await events.query({
        types: ['overspeed'],
        from: T0 + 25_000,
        to: T0 + 31_000,
        limit: 10,
      });
      expect(both.filter((e) => e.vehicleId === a || e.vehicleId === b).map((e) => e.vehicleId)).toEqual([
        a,
        b,
      ]);
      expect(await events.query({ vehicleId: id('nobody'), limit: 10 })).toEqual([]);
    });

    it('reads every field back as written', async () => {
      const v = id('ev-fields');
      const e = testEvent(v, 'trip_end', 50, {
        startTs: T0,
        durationMs: 50_000,
        distanceM: 812.5,
        maxSpeedKmh: 61.2,
        avgSpeedKmh: 40,
        lat: 52.5,
        lon: 13.4,
        geofenceName: 'Zoné ü',
      });
      await events.write([e]);
      expect(await events.query({ vehicleId: v, limit: 1 })).toEqual([e]);
    });
  });
}
