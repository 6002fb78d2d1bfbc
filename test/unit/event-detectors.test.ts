import { describe, expect, it } from 'vitest';
import { parseGeofence, type Geofence } from '../../src/domain/geofence.js';
import { signedDistanceM } from '../../src/domain/geofence-geometry.js';
import type { Position } from '../../src/domain/position.js';
import { GridIndex } from '../../src/domain/spatial-index.js';
import type { VehicleEvent } from '../../src/domain/vehicle-event.js';
import { onClock, onPosition, type DetectContext } from '../../src/events/detect.js';
import { defaultEventRules, type EventRules } from '../../src/events/event-rules.js';
import { initialVehicleState, type VehicleState } from '../../src/events/vehicle-state.js';
import { squareFeature } from '../support/events-env.js';

/** A square zone 0.01° (~1.1 km north-south) around (52.52, 13.40). */
const square = (id = 'zone', speedLimitKmh?: number): Geofence =>
  parseGeofence(squareFeature(`Zone ${id}`, speedLimitKmh), id);

function context(rules: Partial<EventRules> = {}, fences: Geofence[] = [square()]): DetectContext {
  const index = new GridIndex<Geofence>();
  for (const g of fences) index.upsert(g);
  return { index, rules: { ...defaultEventRules, graceMs: 0, ...rules } };
}

/** Runs positions through the detectors in arrival order; returns every event. */
function run(positions: Position[], ctx: DetectContext, state: VehicleState = initialVehicleState()) {
  const events: VehicleEvent[] = [];
  for (const p of positions) {
    const step = onPosition(state, p, ctx);
    state = step.state;
    events.push(...step.events);
  }
  return { events, state };
}

const at = (ts: number, lat: number, lon = 13.4, extra: Partial<Position> = {}): Position => ({
  vehicleId: 'v1',
  ts,
  lat,
  lon,
  ...extra,
});
const types = (events: VehicleEvent[], prefix = '') =>
  events.filter((e) => e.type.startsWith(prefix)).map((e) => `${e.type}@${e.ts}`);

describe('geofence detector', () => {
  it('enters and exits once, and GPS noise on the boundary does not flap', () => {
    // The south edge is at 52.515; 0.0001° ≈ 11 m, hysteresis 20 m: in at 52.5155 (55 m), out at 52.5148 (22 m).
    const path = [
      52.51, 52.5149, 52.5151, 52.5149, 52.5151, 52.5155, 52.52, 52.5152, 52.5148, 52.5145, 52.51,
    ];
    const { events } = run(
      path.map((lat, i) => at(i * 1000, lat)),
      context(),
    );
    expect(types(events, 'geofence')).toEqual(['geofence_enter@5000', 'geofence_exit@8000']);
    expect(events.find((e) => e.type === 'geofence_enter')).toMatchObject({
      geofenceId: 'zone',
      geofenceName: 'Zone zone',
      vehicleId: 'v1',
    });
  });

  it('circles: a Point with radius_m', () => {
    const circle = parseGeofence(
      {
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [13.4, 52.52] },
        properties: { name: 'c', radius_m: 100 },
      },
      'c',
    );
    expect(signedDistanceM(circle, 52.52, 13.4)).toBeCloseTo(-100, 0);
    const { events } = run([at(0, 52.53), at(1000, 52.52), at(2000, 52.53)], context({}, [circle]));
    expect(types(events, 'geofence')).toEqual(['geofence_enter@1000', 'geofence_exit@2000']);
  });
});

describe('overspeed detector', () => {
  it('reports once the minimum duration passed, then overspeed_end with max and duration', () => {
    const speeds = [100, 130, 125, 140, 110, 130, 100];
    const { events } = run(
      speeds.map((speed, i) => at(i * 5000, 52.4, 13.4, { speed })),
      context({ overspeedLimitKmh: 120, overspeedMinDurationMs: 10_000 }),
    );
    // 130@5000 starts; at 15000 (10 s) it is reported (ts = start); 110@20000 ends it.
    // 130@25000 is a new episode that ends at 30000 before the minimum: not reported.
    expect(types(events, 'overspeed')).toEqual(['overspeed@5000', 'overspeed_end@20000']);
    expect(events.find((e) => e.type === 'overspeed_end')).toMatchObject({
      maxSpeedKmh: 140,
      durationMs: 15_000,
      limitKmh: 120,
      startTs: 5000,
    });
  });

  it('takes the limit of the geofence the vehicle is in', () => {
    const { events } = run(
      [
        at(0, 52.52, 13.4, { speed: 60 }),
        at(5000, 52.52, 13.4, { speed: 60 }),
        at(10_000, 52.52, 13.4, { speed: 40 }),
      ],
      context({ overspeedMinDurationMs: 0 }, [square('slow', 50)]),
    );
    expect(types(events).filter((t) => !t.startsWith('trip'))).toEqual([
      'geofence_enter@0',
      'overspeed@0',
      'overspeed_end@10000',
    ]);
  });
});

describe('trip detector (a session window over moving positions)', () => {
  it('starts on the first moving position and ends after the stationary gap, with distance and speeds', () => {
    const ctx = context({ tripEndAfterMs: 60_000 }, []);
    const moving = [0, 10_000, 20_000].map((ts, i) => at(ts, 52.4 + i * 0.001, 13.4, { speed: 40 }));
    const parked = [30_000, 60_000, 79_999, 80_000, 90_000].map((ts) => at(ts, 52.402, 13.4, { speed: 0 }));
    const { events } = run([...moving, ...parked], ctx);
    expect(types(events)).toEqual(['trip_start@0', 'trip_end@20000']);
    expect(events[1]).toMatchObject({ startTs: 0, durationMs: 20_000, maxSpeedKmh: 40 });
    expect(events[1]!.distanceM).toBeGreaterThan(220);
    expect(events[1]!.distanceM).toBeLessThan(225);
  });
});

describe('presence and battery', () => {
  it('offline by the clock and offline seen in a replay are the same event', () => {
    const ctx = context({ offlineAfterMs: 600_000 }, []);
    const first = run([at(0, 52.4)], ctx);
    // Live: the wall clock passes 10 min without a report.
    const live = onClock(first.state, 600_000, 600_000, ctx)!;
    const liveOnline = run([at(900_000, 52.4)], ctx, live.state);
    // Replay: the same positions, read one right after the other.
    const replay = run([at(0, 52.4), at(900_000, 52.4)], ctx);
    const ids = (e: VehicleEvent[]) => e.map((x) => `${x.type}:${x.id}`);
    expect(ids([...live.events, ...liveOnline.events])).toEqual(ids(replay.events));
    expect(types(replay.events)).toEqual(['offline@600000', 'online@900000']);
  });

  it('battery_low once, until the battery recovers', () => {
    const levels = [50, 19, 15, 22, 26, 18];
    const { events } = run(
      levels.map((battery, i) => at(i * 1000, 52.4, 13.4, { battery })),
      context({}, []),
    );
    expect(types(events)).toEqual(['battery_low@1000', 'battery_low@5000']);
  });
});

describe('grace period', () => {
  it('out-of-order positions within the grace give the same events (same ids) as in-order ones', () => {
    const path = [52.51, 52.512, 52.516, 52.52, 52.524, 52.53, 52.54].map((lat, i) =>
      at(i * 2000, lat, 13.4, { speed: i === 3 ? 150 : 60 + i }),
    );
    const ctx = context({ graceMs: 5000, overspeedMinDurationMs: 0 });
    const inOrder = run(path, ctx);
    const shuffled = run([path[1]!, path[0]!, path[3]!, path[2]!, path[4]!, path[6]!, path[5]!], ctx);
    const flush = (s: VehicleState) => onClock(s, 1e9, 10_000, ctx)?.events ?? [];
    const a = [...inOrder.events, ...flush(inOrder.state)].map((e) => e.id).sort();
    const b = [...shuffled.events, ...flush(shuffled.state)].map((e) => e.id).sort();
    expect(a).toEqual(b);
    expect(a.length).toBeGreaterThanOrEqual(4); // enter, overspeed, overspeed_end, exit (+ trip_start)
  });

  it('a position older than one already detected on is late and ignored', () => {
    const ctx = context({ graceMs: 1000 });
    const { state } = run([at(0, 52.4), at(5000, 52.4), at(7000, 52.4)], ctx);
    expect(onPosition(state, at(1000, 52.52), ctx)).toMatchObject({ late: true, events: [] });
  });
});

describe('geofence GeoJSON', () => {
  it('names what is wrong', () => {
    expect(() =>
      parseGeofence(
        { type: 'Feature', geometry: { type: 'LineString', coordinates: [] }, properties: { name: 'x' } },
        'g',
      ),
    ).toThrow(/geometry.type: must be Polygon, MultiPolygon or Point/);
    expect(() =>
      parseGeofence(
        {
          type: 'Feature',
          geometry: {
            type: 'Polygon',
            coordinates: [
              [
                [0, 0],
                [1, 0],
                [1, 1],
                [0, 2],
              ],
            ],
          },
          properties: { name: 'x' },
        },
        'g',
      ),
    ).toThrow(/geometry.coordinates\[0\]: a linear ring must be closed/);
    expect(() =>
      parseGeofence(
        { type: 'Feature', geometry: { type: 'Point', coordinates: [0, 0] }, properties: { name: 'x' } },
        'g',
      ),
    ).toThrow(/properties.radius_m/);
    expect(() =>
      parseGeofence(
        { type: 'Feature', geometry: { type: 'Point', coordinates: [0, 95] }, properties: { radius_m: 5 } },
        'g',
      ),
    ).toThrow(/properties.name.*|latitude/);
  });

  it('the grid finds a zone among thousands by reading one cell', () => {
    const index = new GridIndex<Geofence>();
    for (let i = 0; i < 2000; i++) {
      const lat = 40 + (i % 50) * 0.1;
      const lon = 10 + Math.floor(i / 50) * 0.1;
      index.upsert(
        parseGeofence(
          {
            type: 'Feature',
            geometry: { type: 'Point', coordinates: [lon, lat] },
            properties: { name: `g${i}`, radius_m: 500 },
          },
          `g${i}`,
        ),
      );
    }
    const candidates = index.candidates(40.5, 10.5);
    expect(candidates.length).toBeLessThanOrEqual(2);
    expect(candidates.map((g) => g.id)).toContain('g255');
    index.remove('g255');
    expect(index.candidates(40.5, 10.5).map((g) => g.id)).not.toContain('g255');
  });
});
