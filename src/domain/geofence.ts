import { ValidationError, type ValidationIssue } from '../errors.js';
import type { BoundingBox } from './geo.js';

/** A linear ring of [lon, lat] positions, closed (first = last). */
export type Ring = readonly (readonly [number, number])[];
/** A polygon: the outer ring, then holes. */
export type PolygonRings = readonly Ring[];

export type GeofenceShape =
  | { kind: 'polygons'; polygons: readonly PolygonRings[] }
  | { kind: 'circle'; lat: number; lon: number; radiusM: number };

/** A named zone: a GeoJSON Polygon / MultiPolygon, or a Point with `radius_m` (a circle). */
export interface Geofence {
  id: string;
  name: string;
  /** Overrides OVERSPEED_LIMIT_KMH inside the zone. */
  speedLimitKmh?: number;
  shape: GeofenceShape;
  bbox: BoundingBox;
  /** The Feature as stored (id set), what GET answers. */
  feature: GeofenceFeature;
}

export interface GeofenceFeature {
  type: 'Feature';
  id: string;
  geometry: { type: 'Polygon' | 'MultiPolygon' | 'Point'; coordinates: unknown };
  properties: { name: string; speedLimitKmh?: number; radius_m?: number } & Record<string, unknown>;
}

export const GEOFENCE_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
/** Most vertices one geofence may have (all rings). */
export const MAX_GEOFENCE_VERTICES = 10_000;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

class Issues {
  readonly list: ValidationIssue[] = [];
  add(path: string, message: string): void {
    if (this.list.length < 20) this.list.push({ path, message });
  }
}

function position(v: unknown, path: string, issues: Issues): [number, number] | undefined {
  if (!Array.isArray(v) || v.length < 2 || !v.every((n) => typeof n === 'number' && Number.isFinite(n))) {
    issues.add(path, 'must be a position [lon, lat]');
    return undefined;
  }
  const [lon, lat] = v as number[];
  if (lon! < -180 || lon! > 180) issues.add(`${path}[0]`, 'longitude must be within [-180, 180]');
  if (lat! < -90 || lat! > 90) issues.add(`${path}[1]`, 'latitude must be within [-90, 90]');
  return [lon!, lat!];
}

function ring(v: unknown, path: string, issues: Issues): Ring {
  if (!Array.isArray(v)) {
    issues.add(path, 'a linear ring must be an array of positions');
    return [];
  }
  const points = v.map((p, i) => position(p, `${path}[${i}]`, issues)).filter((p) => p !== undefined);
  if (v.length < 4) issues.add(path, `a linear ring needs at least 4 positions, got ${v.length}`);
  else if (points.length === v.length) {
    const [a, b] = [points[0]!, points[points.length - 1]!];
    if (a[0] !== b[0] || a[1] !== b[1])
      issues.add(path, 'a linear ring must be closed (first position = last)');
  }
  return points;
}

function polygon(v: unknown, path: string, issues: Issues): PolygonRings {
  if (!Array.isArray(v) || v.length === 0) {
    issues.add(path, 'a Polygon needs at least one linear ring');
    return [];
  }
  return v.map((r, i) => ring(r, `${path}[${i}]`, issues));
}

/**
 * Validates a GeoJSON Feature as a geofence. Every problem is named with its path
 * (`geometry.coordinates[0][3]: ...`); throws {@link ValidationError}.
 */
export function parseGeofence(input: unknown, id: string): Geofence {
  const issues = new Issues();
  if (!GEOFENCE_ID_PATTERN.test(id)) issues.add('id', 'must be 1-128 of letters, digits and . _ : -');
  if (!isObject(input) || input.type !== 'Feature')
    throw new ValidationError([{ path: 'type', message: 'must be "Feature" (a GeoJSON Feature)' }]);
  const geometry = input.geometry;
  const props = isObject(input.properties) ? input.properties : undefined;
  if (!props) issues.add('properties', 'must be an object with at least "name"');
  const name = props?.name;
  if (props && (typeof name !== 'string' || name.trim() === '' || name.length > 200))
    issues.add('properties.name', 'must be a non-empty string of at most 200 characters');
  const limit = props?.speedLimitKmh;
  if (limit !== undefined && !(typeof limit === 'number' && limit > 0 && limit <= 1500))
    issues.add('properties.speedLimitKmh', 'must be a number in (0, 1500]');
  let shape: GeofenceShape | undefined;
  if (!isObject(geometry)) issues.add('geometry', 'must be a GeoJSON geometry object');
  else if (geometry.type === 'Polygon') {
    shape = { kind: 'polygons', polygons: [polygon(geometry.coordinates, 'geometry.coordinates', issues)] };
  } else if (geometry.type === 'MultiPolygon') {
    const c = geometry.coordinates;
    if (!Array.isArray(c) || c.length === 0)
      issues.add('geometry.coordinates', 'a MultiPolygon needs at least one Polygon');
    else
      shape = {
        kind: 'polygons',
        polygons: c.map((p, i) => polygon(p, `geometry.coordinates[${i}]`, issues)),
      };
  } else if (geometry.type === 'Point') {
    const center = position(geometry.coordinates, 'geometry.coordinates', issues);
    const radius = props?.radius_m;
    if (!(typeof radius === 'number' && radius > 0 && radius <= 1_000_000))
      issues.add(
        'properties.radius_m',
        'a Point geofence needs radius_m, a number of metres in (0, 1000000]',
      );
    else if (center) shape = { kind: 'circle', lon: center[0], lat: center[1], radiusM: radius };
  } else {
    issues.add(
      'geometry.type',
      `must be Polygon, MultiPolygon or Point (with properties.radius_m), got ${JSON.stringify(geometry.type)}`,
    );
  }
  if (shape?.kind === 'polygons') {
    const vertices = shape.polygons.flat().reduce((n, r) => n + r.length, 0);
    if (vertices > MAX_GEOFENCE_VERTICES)
      issues.add('geometry.coordinates', `at most ${MAX_GEOFENCE_VERTICES} positions`);
  }
  if (issues.list.length > 0 || !shape) throw new ValidationError(issues.list);
  const geo = geometry as Record<string, unknown>;
  const properties = { ...props!, name: (name as string).trim() };
  return {
    id,
    name: properties.name,
    ...(typeof limit === 'number' ? { speedLimitKmh: limit } : {}),
    shape,
    bbox: boundingBox(shape),
    feature: {
      type: 'Feature',
      id,
      geometry: { type: geo.type, coordinates: geo.coordinates } as GeofenceFeature['geometry'],
      properties,
    },
  };
}

const M_PER_DEG_LAT = 111_320;

function boundingBox(shape: GeofenceShape): BoundingBox {
  if (shape.kind === 'circle') {
    const dLat = shape.radiusM / M_PER_DEG_LAT;
    const dLon = shape.radiusM / (M_PER_DEG_LAT * Math.max(0.01, Math.cos((shape.lat * Math.PI) / 180)));
    return {
      minLat: shape.lat - dLat,
      maxLat: shape.lat + dLat,
      minLon: shape.lon - dLon,
      maxLon: shape.lon + dLon,
    };
  }
  const box = { minLat: 90, maxLat: -90, minLon: 180, maxLon: -180 };
  for (const poly of shape.polygons)
    for (const [lon, lat] of poly[0] ?? []) {
      box.minLat = Math.min(box.minLat, lat);
      box.maxLat = Math.max(box.maxLat, lat);
      box.minLon = Math.min(box.minLon, lon);
      box.maxLon = Math.max(box.maxLon, lon);
    }
  return box;
}

/** Record value of the geofences topic: the Feature (with its id), validated again when read. */
export const geofenceSerde = {
  serialize: (g: Geofence): Buffer => Buffer.from(JSON.stringify(g.feature)),
  deserialize: (b: Buffer): Geofence => {
    const feature = JSON.parse(b.toString('utf8')) as { id?: unknown };
    return parseGeofence(feature, String(feature.id));
  },
};
