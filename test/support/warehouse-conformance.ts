import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EARTH_RADIUS_M } from '../../src/domain/geo.js';
import type { Position } from '../../src/domain/position.js';
import type { PositionRecord } from '../../src/domain/records.js';
import type { Warehouse } from '../../src/sinks/warehouse-sink.js';
import { id, rec, T0, topicIdOf, track } from './warehouse-records.js';

/**
 * The one warehouse conformance suite, run against every adapter (DuckDB in memory and on disk,
 * Snowflake through the wire-level stand-in, a real Snowflake account when configured). Every test
 * uses its own topic and vehicle ids, so the suite also runs against a shared, persistent table.
 */
export interface ConformanceOptions {
  /** Records in the large-batch test. @default 50_000 */
  largeBatch?: number;
  /** Per-test timeout (remote warehouses are slower). @default 60_000 */
  timeoutMs?: number;
  /**
   * Append-only writes (Snowpipe Streaming): a position repeated in a later batch is stored again
   * and reported as inserted; reads must still show it once. @default false
   */
  appendOnly?: boolean;
}

export function warehouseConformance(
  name: string,
  factory: () => Promise<Warehouse> | Warehouse,
  options: ConformanceOptions = {},
): void {
  const largeBatch = options.largeBatch ?? 50_000;
  const timeout = options.timeoutMs ?? 60_000;

  const rules = { movingMinSpeedKmh: 3, minStopDurationS: 300, minDistanceM: 500 };

  describe(`warehouse conformance: ${name}`, { timeout }, () => {
    let wh: Warehouse;

    beforeAll(async () => {
      wh = await factory();
      await wh.ready();
    }, 120_000);
    afterAll(async () => {
      await wh?.close();
    });

    it('answers a ping and writes an empty batch as a no-op', async () => {
      const topic = id('t-empty');
      await wh.ping();
      expect(await wh.write([])).toEqual({ inserted: 0, duplicates: 0, positionDuplicates: 0 });
      expect(await wh.count({ topic })).toBe(0);
    });

    it('is idempotent: the same batch twice leaves one row per record', async () => {
      const topic = id('t-idem');
      const batch = track(topic, id('v'), 100);
      expect(await wh.write(batch)).toEqual({ inserted: 100, duplicates: 0, positionDuplicates: 0 });
      expect(await wh.write(batch)).toEqual({ inserted: 0, duplicates: 100, positionDuplicates: 0 });
      expect(await wh.count({ topic })).toBe(100);
      expect(await wh.count()).toBeGreaterThanOrEqual(100);
    });

    it('re-delivery: overlapping batches and repeats inside one batch are stored once', async () => {
      const topic = id('t-redeliver');
      const vehicle = id('v');
      const all = track(topic, vehicle, 150);
      expect(await wh.write(all.slice(0, 100))).toEqual({
        inserted: 100,
        duplicates: 0,
        positionDuplicates: 0,
      });
      // After a crash before the offset commit, 50..149 come again: 50 old, 50 new.
      expect(await wh.write(all.slice(50, 150))).toEqual({
        inserted: 50,
        duplicates: 50,
        positionDuplicates: 0,
      });
      const repeated = [all[0]!, all[149]!, all[149]!, ...track(topic, vehicle, 2, 150)];
      expect(await wh.write(repeated)).toEqual({ inserted: 2, duplicates: 3, positionDuplicates: 0 });
      expect(await wh.count({ topic })).toBe(152);
      // Same offsets on another partition are other records.
      const other = track(topic, id('v'), 3, 0, 1);
      expect((await wh.write(other)).inserted).toBe(3);
      expect(await wh.count({ topic })).toBe(155);
    });

    it('orders history by event time, whatever the write order', async () => {
      const topic = id('t-order');
      const vehicle = id('v');
      const at = (s: number) => T0 + s * 1000;
      const p = (ts: number): Position => ({ vehicleId: vehicle, ts, lat: 48.1, lon: 11.5 });
      // Event time runs against write order, spread over two batches and partitions. Offsets grow
      // per partition, as Kafka delivers them (an append-only adapter keyed on offsets may rely on
      // that). A vehicle's (vehicle, ts) is one position: no two rows share it.
      await wh.write([rec(topic, 1, 3, p(at(22))), rec(topic, 1, 7, p(at(30))), rec(topic, 0, 2, p(at(20)))]);
      await wh.write([rec(topic, 2, 1, p(at(40))), rec(topic, 0, 5, p(at(10))), rec(topic, 0, 9, p(at(21)))]);
      const rows = await wh.history({ vehicleId: vehicle, from: at(0), to: at(60) });
      expect(rows.map((r) => [r.ts, r.partition, r.offset])).toEqual([
        [at(10), 0, '5'],
        [at(20), 0, '2'],
        [at(21), 0, '9'],
        [at(22), 1, '3'],
        [at(30), 1, '7'],
        [at(40), 2, '1'],
      ]);
      const limited = await wh.history({ vehicleId: vehicle, from: at(0), to: at(60), limit: 2 });
      expect(limited.map((r) => r.offset)).toEqual(['5', '2']);
    });

    it('a position repeated at another offset (a device retry) is stored once: the first wins', async () => {
      const topic = id('t-retry');
      const vehicle = id('v');
      const p = (s: number, lat: number): Position => ({
        vehicleId: vehicle,
        ts: T0 + s * 1000,
        lat,
        lon: 2,
      });
      const first = [rec(topic, 0, 10, p(1, 1))];
      // The retry of (vehicle, 1 s) lands at offset 11 with other values; offset 12 is new.
      const second = [rec(topic, 0, 11, p(1, 9)), rec(topic, 0, 12, p(2, 1))];
      // Both copies inside one batch.
      const third = [rec(topic, 0, 13, p(3, 1)), rec(topic, 0, 14, p(3, 9))];
      expect(await wh.write(first)).toEqual({ inserted: 1, duplicates: 0, positionDuplicates: 0 });
      const wrote = await wh.write(second);
      if (!options.appendOnly) expect(wrote).toEqual({ inserted: 1, duplicates: 1, positionDuplicates: 1 });
      expect(await wh.write(third)).toEqual({ inserted: 1, duplicates: 1, positionDuplicates: 1 });
      // Re-delivered after a crash: 11 still loses to 10, 12 is itself.
      const again = await wh.write(second);
      if (!options.appendOnly) expect(again).toEqual({ inserted: 0, duplicates: 2, positionDuplicates: 1 });
      const rows = await wh.history({ vehicleId: vehicle, from: T0, to: T0 + 10_000 });
      expect(rows.map((r) => [r.ts - T0, r.lat, r.offset])).toEqual([
        [1000, 1, '10'],
        [2000, 1, '12'],
        [3000, 1, '13'],
      ]);
      expect(await wh.count({ topic })).toBe(3);
      expect((await wh.summary({ vehicleId: vehicle, from: T0, to: T0 + 10_000, rules })).positions).toBe(3);
    });

    it('a re-created topic (new topic id, offsets from 0 again) loses nothing', async () => {
      const topic = id('t-recreated');
      const vehicle = id('v');
      const old = track(topic, vehicle, 5);
      // Same name, same partition and offsets, a new id: later positions of the same vehicle.
      const reborn = track(topic, vehicle, 5, 0).map((r, i) =>
        rec(topic, 0, i, { ...r.position, ts: r.position.ts + 60_000 }, topicIdOf(`${topic}-reborn`)),
      );
      expect((await wh.write(old)).inserted).toBe(5);
      expect(await wh.write(reborn)).toEqual({ inserted: 5, duplicates: 0, positionDuplicates: 0 });
      expect(await wh.write(reborn)).toEqual({ inserted: 0, duplicates: 5, positionDuplicates: 0 });
      expect(await wh.count({ topic })).toBe(10);
    });

    it('history keeps [from, to): from included, to excluded, other vehicles out', async () => {
      const topic = id('t-bounds');
      const vehicle = id('v');
      const from = T0 + 3_600_000;
      const to = from + 600_000;
      const p = (v: string, ts: number): Position => ({ vehicleId: v, ts, lat: 1, lon: 2 });
      await wh.write([
        rec(topic, 0, 0, p(vehicle, from - 1)),
        rec(topic, 0, 1, p(vehicle, from)),
        rec(topic, 0, 2, p(vehicle, to - 1)),
        rec(topic, 0, 3, p(vehicle, to)),
        rec(topic, 0, 4, p(`${vehicle}-other`, from + 10)),
      ]);
      const rows = await wh.history({ vehicleId: vehicle, from, to });
      expect(rows.map((r) => r.ts)).toEqual([from, to - 1]);
      expect(await wh.history({ vehicleId: vehicle, from: to, to: to + 1 })).toHaveLength(1);
      expect(await wh.history({ vehicleId: id('nobody'), from, to })).toEqual([]);
    });

    it('round-trips every field; optional ones come back null', async () => {
      const topic = id('t-fields');
      const vehicle = id('veh.x:1@a_b');
      const full: Position = {
        vehicleId: vehicle,
        ts: T0 + 123,
        lat: -33.868820123456,
        lon: 151.209299123456,
        speed: 87.25,
        heading: 359.5,
        altitude: -12.75,
        accuracy: 3.2,
        battery: 99.9,
      };
      const bare: Position = { vehicleId: vehicle, ts: T0 + 456, lat: 0, lon: -180 };
      const before = Date.now();
      // Offsets beyond 2^53 must survive as exact strings.
      await wh.write([rec(topic, 2, '9007199254740993', full), rec(topic, 0, 0, bare)]);
      const after = Date.now();
      const [a, b] = await wh.history({ vehicleId: vehicle, from: T0, to: T0 + 1000 });
      expect(a).toMatchObject({ ...full, attributes: null, topic, partition: 2, offset: '9007199254740993' });
      expect(b).toEqual({
        vehicleId: vehicle,
        ts: T0 + 456,
        lat: 0,
        lon: -180,
        speed: null,
        heading: null,
        altitude: null,
        accuracy: null,
        battery: null,
        attributes: null,
        topic,
        partition: 0,
        offset: '0',
        ingestedAt: b!.ingestedAt,
      });
      // Ingestion time is the warehouse's clock: allow for skew against ours.
      expect(a!.ingestedAt).toBeGreaterThan(before - 120_000);
      expect(a!.ingestedAt).toBeLessThan(after + 120_000);
    });

    it('round-trips free attributes: unicode, quotes, numbers, booleans, null, nesting', async () => {
      const topic = id('t-attrs');
      const vehicle = id('v');
      const attributes = {
        driver: 'Zoë «Ω» 王小明 🚚',
        note: 'say "hi"\\ \n\ttab, comma',
        odometer: 123456.789,
        negative: -0.5,
        count: 42,
        ignition: true,
        door: false,
        trailer: null,
        empty: '',
        // Not allowed by today's position schema, but the warehouse must store any JSON object.
        nested: { fuel: { level: 0.42, unit: 'ratio' }, tags: ['a', 'ü', 3] },
      } as unknown as Position['attributes'];
      await wh.write([
        rec(topic, 0, 0, { vehicleId: vehicle, ts: T0 + 1, lat: 1, lon: 1, attributes }),
        rec(topic, 0, 1, { vehicleId: vehicle, ts: T0 + 2, lat: 1, lon: 1, attributes: {} }),
      ]);
      const rows = await wh.history({ vehicleId: vehicle, from: T0, to: T0 + 10 });
      expect(rows[0]!.attributes).toEqual(attributes);
      expect(rows[1]!.attributes).toEqual({});
    });

    it(`writes a large batch (${largeBatch} records) once, and again as all duplicates`, async () => {
      const topic = id('t-large');
      const vehicles = Array.from({ length: 50 }, () => id('v'));
      const batch: PositionRecord[] = [];
      for (let i = 0; i < largeBatch; i++) {
        batch.push(
          rec(topic, i % 3, Math.floor(i / 3), {
            vehicleId: vehicles[i % vehicles.length]!,
            ts: T0 + i * 100,
            lat: 40 + (i % 1000) * 1e-4,
            lon: -3 - (i % 997) * 1e-4,
            speed: i % 120,
            ...(i % 10 === 0 ? { attributes: { seq: i, tag: `n${i}` } } : {}),
          }),
        );
      }
      const started = performance.now();
      expect(await wh.write(batch)).toEqual({ inserted: largeBatch, duplicates: 0, positionDuplicates: 0 });
      const seconds = (performance.now() - started) / 1000;
      console.info(
        `[${name}] ${largeBatch} records in ${seconds.toFixed(2)} s (${Math.round(largeBatch / seconds)}/s)`,
      );
      expect(await wh.count({ topic })).toBe(largeBatch);
      expect(await wh.write(batch.slice(0, 1000))).toEqual({
        inserted: 0,
        duplicates: 1000,
        positionDuplicates: 0,
      });
      const one = await wh.history({ vehicleId: vehicles[7]!, from: T0, to: T0 + largeBatch * 100 });
      expect(one).toHaveLength(largeBatch / vehicles.length);
      expect(one.every((r, i) => i === 0 || r.ts > one[i - 1]!.ts)).toBe(true);
    });

    it('summarises a hand-checked track: distance, moving/stopped time, speeds, trips and stops', async () => {
      const topic = id('t-summary');
      const vehicle = id('v');
      const lat0 = 45;
      const lon = 7;
      // Along one meridian the haversine distance is exactly R·Δφ: 0.001° of latitude = u metres.
      const u = EARTH_RADIUS_M * ((0.001 * Math.PI) / 180);
      // [seconds after start, latitude steps of 0.001°, reported speed km/h]
      const points: [number, number, number][] = [
        [0, 0, 0], [60, 0, 0], [120, 0, 0], // parked 120 s: too short to be a stop
        [180, 2, 40], [240, 4, 40], [300, 6, 40], // driving
        [360, 8, 0], [480, 8, 0], [720, 8, 0], // stopped 360 s: a stop
        [780, 10, 30], [840, 12, 30], // driving
        [900, 12, 2], [960, 12, 0], // a 60 s halt below 5 km/h: part of the trip
        [1020, 13, 20],
      ]; // prettier-ignore
      const start = T0 + 7_200_000;
      await wh.write(
        points.map(([s, steps, speed], i) =>
          rec(topic, 0, i, {
            vehicleId: vehicle,
            ts: start + s * 1000,
            lat: lat0 + steps * 0.001,
            lon,
            speed,
          }),
        ),
      );
      const rules = { movingMinSpeedKmh: 5, minStopDurationS: 300, minDistanceM: 500 };
      const query = { vehicleId: vehicle, from: start, to: start + 1_021_000, rules };
      const summary = await wh.summary(query);
      // Segments: 13 steps of distance; still segments (both ends stopped): 60+60+120+240+60 s.
      expect(summary).toMatchObject({ vehicleId: vehicle, from: query.from, to: query.to, positions: 14 });
      expect(summary.distanceM).toBeCloseTo(13 * u, 3);
      expect(summary.stoppedS).toBeCloseTo(540, 6);
      expect(summary.movingS).toBeCloseTo(480, 6);
      expect(summary.avgSpeedKmh!).toBeCloseTo(((13 * u) / 480) * 3.6, 6);
      expect(summary.maxSpeedKmh).toBe(40);
      // One stop (the 360 s one) splits two trips: 8u = 890 m before it, 5u = 556 m after.
      expect(summary.stops).toBe(1);
      expect(summary.trips).toBe(2);
      // A longer min trip keeps only the first; a longer min stop leaves one trip and no stop.
      expect((await wh.summary({ ...query, rules: { ...rules, minDistanceM: 600 } })).trips).toBe(1);
      expect(await wh.summary({ ...query, rules: { ...rules, minStopDurationS: 400 } })).toMatchObject({
        stops: 0,
        trips: 1,
      });
      // The window end is exclusive: without the last point one segment (u, 60 s) is gone.
      const shorter = await wh.summary({ ...query, to: start + 1_020_000 });
      expect(shorter.positions).toBe(13);
      expect(shorter.distanceM).toBeCloseTo(12 * u, 3);
      expect(shorter.movingS).toBeCloseTo(420, 6);
    });

    it('summarises an empty window as zeros without averages', async () => {
      const summary = await wh.summary({
        vehicleId: id('nobody'),
        from: T0,
        to: T0 + 3_600_000,
        rules: { movingMinSpeedKmh: 3, minStopDurationS: 300, minDistanceM: 500 },
      });
      expect(summary).toMatchObject({
        positions: 0,
        distanceM: 0,
        movingS: 0,
        stoppedS: 0,
        avgSpeedKmh: null,
        maxSpeedKmh: null,
        trips: 0,
        stops: 0,
      });
    });
  });
}
