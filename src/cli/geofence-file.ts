import { readFileSync } from 'node:fs';
import type { BoundingBox } from '../domain/geo.js';
import {
  parseGeofenceCollection,
  type InvalidFeature,
  type ParsedCollection,
} from '../domain/geofence-collection.js';
import { FleetError } from '../errors.js';
import { demoGeofences } from '../ingest/simulator/demo-geofences.js';

/** Reads a .geojson file (a FeatureCollection or one Feature) as geofences; `demo`: the built-in set over `area`. */
export function readGeofenceFile(file: string, area?: BoundingBox): ParsedCollection {
  if (file === 'demo') {
    if (!area) throw new FleetError('the demo geofences need an area');
    return { geofences: demoGeofences(area), invalid: [] };
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new FleetError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new FleetError(`${file} is not JSON: ${(err as Error).message}`);
  }
  try {
    return parseGeofenceCollection(json);
  } catch (err) {
    throw new FleetError(`${file}: ${(err as Error).message}`);
  }
}

/** One line per invalid feature: `features[3] (id zone-7): geometry.coordinates[0]: ...`. */
export function describeInvalid(file: string, invalid: readonly InvalidFeature[]): string {
  return invalid
    .map((f) => `${file}: features[${f.index}]${f.id !== undefined ? ` (id ${f.id})` : ''}: ${f.message}`)
    .join('\n');
}
