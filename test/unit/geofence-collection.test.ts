import { describe, expect, it } from 'vitest';
import { compileConfig, readRawConfig } from '../../src/config/index.js';
import { parseGeofenceCollection } from '../../src/domain/geofence-collection.js';
import { GridIndex } from '../../src/domain/spatial-index.js';
import type { Geofence } from '../../src/domain/geofence.js';
import type { VehicleEvent } from '../../src/domain/vehicle-event.js';
import { onPosition } from '../../src/events/detect.js';
import { initialVehicleState, type VehicleState } from '../../src/events/vehicle-state.js';
import { AREA_PRESETS } from '../../src/ingest/simulator/area.js';
import { demoGeofences } from '../../src/ingest/simulator/demo-geofences.js';
import { Fleet } from '../../src/ingest/simulator/fleet.js';
import { steadyProfile } from '../../src/ingest/simulator/profile.js';
import { squareFeature } from '../support/events-env.js';

describe('parseGeofenceCollection', () => {
  it('takes ids from feature.id or properties.id, in order', () => {
    const { geofences, invalid } = parseGeofenceCollection({
      type: 'FeatureCollection',
      features: [
        { ...squareFeature('A'), id: 'a' },
        { ...squareFeature('B'), properties: { name: 'B', id: 7 } },
      ],
    });
    expect(invalid).toEqual([]);
    expect(geofences.map((g) => [g.id, g.name, g.feature.id])).toEqual([
      ['a', 'A', 'a'],
      ['7', 'B', '7'],
    ]);
  });

  it('reads one Feature as a collection of one', () => {
    expect(parseGeofenceCollection({ ...squareFeature('A'), id: 'a' }).geofences).toHaveLength(1);
  });

  it('names every invalid feature by index (and id) with the path of its problem', () => {
    const open = { ...squareFeature('Open'), id: 'open' };
    open.geometry = { ...open.geometry, coordinates: [open.geometry.coordinates[0]!.slice(0, 4)] };
    const { geofences, invalid } = parseGeofenceCollection({
      type: 'FeatureCollection',
      features: [
        { ...squareFeature('A'), id: 'a' },
        squareFeature('no id'),
        open,
        { ...squareFeature('A2'), id: 'a' },
      ],
    });
    expect(geofences.map((g) => g.id)).toEqual(['a']);
    expect(invalid).toEqual([
      { index: 1, message: 'id: missing (set feature.id or properties.id)' },
      {
        index: 2,
        id: 'open',
        message: expect.stringContaining('geometry.coordinates[0]: a linear ring must be closed'),
      },
      { index: 3, id: 'a', message: "id: 'a' is given twice" },
    ]);
  });

  it('refuses what is neither a FeatureCollection nor a Feature', () => {
    expect(() => parseGeofenceCollection({ type: 'Polygon', coordinates: [] })).toThrow(
      /type: must be a GeoJSON FeatureCollection/,
    );
    expect(() => parseGeofenceCollection([])).toThrow(/FeatureCollection/);
  });
});

describe('demo geofences', () => {
  const area = AREA_PRESETS.berlin!;

  it('are valid, lie in the area and three of them limit speed', () => {
    const demo = demoGeofences(area);
    expect(demo.map((g) => g.id)).toEqual([
      'demo-centre',
      'demo-corridor-west',
      'demo-corridor-east',
      'demo-corridor-north',
      'demo-depot',
    ]);
    for (const g of demo) {
      expect(g.bbox.minLat).toBeGreaterThanOrEqual(area.minLat - 1e-9);
      expect(g.bbox.maxLon).toBeLessThanOrEqual(area.maxLon + 1e-9);
    }
    expect(demo.filter((g) => g.speedLimitKmh !== undefined)).toHaveLength(3);
  });

  it('give the default 5-vehicle simulation geofence events within its first minute (the real detectors)', () => {
    const rules = compileConfig(readRawConfig({}, {}), {}).events.rules;
    const index = new GridIndex<Geofence>();
    for (const g of demoGeofences(area)) index.upsert(g);
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) {
      const startMs = Date.UTC(2024, 4, 1, 12);
      const fleet = new Fleet({
        seed,
        vehicles: 5,
        area,
        intervalMs: 5000,
        startMs,
        profile: steadyProfile,
        idPrefix: 'sim-',
      });
      const states = new Map<string, VehicleState>();
      const events: VehicleEvent[] = [];
      for (const p of fleet.advanceTo(startMs + 60_000 + rules.graceMs)) {
        const step = onPosition(states.get(p.vehicleId) ?? initialVehicleState(), p, { index, rules });
        states.set(p.vehicleId, step.state);
        events.push(...step.events.filter((e) => e.ts <= startMs + 60_000));
      }
      expect(events.filter((e) => e.type.startsWith('geofence_')).length, `seed ${seed}`).toBeGreaterThan(0);
    }
  });
});
