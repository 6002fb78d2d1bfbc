import type { BoundingBox } from '../../domain/geo.js';
import { parseGeofence, type Geofence } from '../../domain/geofence.js';

/** `[lon, lat]` at fractions (x east, y north) of the box. */
const at = (box: BoundingBox, x: number, y: number): [number, number] => [
  round6(box.minLon + x * (box.maxLon - box.minLon)),
  round6(box.minLat + y * (box.maxLat - box.minLat)),
];
const round6 = (v: number) => Math.round(v * 1e6) / 1e6;

const rect = (box: BoundingBox, x0: number, y0: number, x1: number, y1: number) => {
  const ring = [at(box, x0, y0), at(box, x1, y0), at(box, x1, y1), at(box, x0, y1), at(box, x0, y0)];
  return { type: 'Polygon', coordinates: [ring] };
};

/**
 * The built-in demo geofences (`fleet simulate --geofences demo`), laid out over the simulated
 * area so its vehicles cross them within a minute: corridors spanning the whole area (a vehicle
 * driving across meets one), a 30 km/h centre — the simulator's arterials are 60 km/h, so
 * overspeed events come too — and a depot circle. Together they cover about 45% of the area.
 */
export function demoGeofences(area: BoundingBox): Geofence[] {
  const features: [string, unknown, Record<string, unknown>][] = [
    ['demo-centre', rect(area, 0.3, 0.3, 0.7, 0.7), { name: 'Centre (30 km/h)', speedLimitKmh: 30 }],
    [
      'demo-corridor-west',
      rect(area, 0.12, 0, 0.2, 1),
      { name: 'Roadworks west (40 km/h)', speedLimitKmh: 40 },
    ],
    [
      'demo-corridor-east',
      rect(area, 0.8, 0, 0.88, 1),
      { name: 'Roadworks east (40 km/h)', speedLimitKmh: 40 },
    ],
    ['demo-corridor-north', rect(area, 0, 0.78, 1, 0.86), { name: 'Bus lane north' }],
    ['demo-depot', { type: 'Point', coordinates: at(area, 0.5, 0.1) }, { name: 'Depot', radius_m: 900 }],
  ];
  return features.map(([id, geometry, properties]) =>
    parseGeofence({ type: 'Feature', geometry, properties }, id),
  );
}
