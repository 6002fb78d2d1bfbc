import { ValidationError } from '../errors.js';
import { parseGeofence, type Geofence } from './geofence.js';

/** A feature of a collection that is not a valid geofence: its index, id when it has one, why. */
export interface InvalidFeature {
  index: number;
  id?: string;
  message: string;
}

export interface ParsedCollection {
  geofences: Geofence[];
  invalid: InvalidFeature[];
}

/**
 * Reads a GeoJSON FeatureCollection — or one Feature — as geofences (`fleet geofences import`,
 * `fleet simulate --geofences`). The id of each comes from `feature.id` or `properties.id`; every
 * feature is checked with {@link parseGeofence}, so each problem is named by index and path.
 * An id given twice is an error of the later feature.
 */
export function parseGeofenceCollection(input: unknown): ParsedCollection {
  const doc = input as { type?: unknown; features?: unknown } | null;
  let features: unknown[];
  if (doc?.type === 'FeatureCollection' && Array.isArray(doc.features)) features = doc.features;
  else if (doc?.type === 'Feature') features = [doc];
  else
    throw new ValidationError([
      { path: 'type', message: 'must be a GeoJSON FeatureCollection (with "features") or a Feature' },
    ]);
  const geofences: Geofence[] = [];
  const invalid: InvalidFeature[] = [];
  const seen = new Set<string>();
  features.forEach((feature, index) => {
    const f = feature as { id?: unknown; properties?: { id?: unknown } } | null;
    const raw = f?.id ?? f?.properties?.id;
    const id = typeof raw === 'string' || typeof raw === 'number' ? String(raw) : undefined;
    if (id === undefined)
      return invalid.push({ index, message: 'id: missing (set feature.id or properties.id)' });
    if (seen.has(id)) return invalid.push({ index, id, message: `id: '${id}' is given twice` });
    seen.add(id);
    try {
      geofences.push(parseGeofence({ ...(f as object), id }, id));
    } catch (err) {
      invalid.push({ index, id, message: (err as Error).message });
    }
  });
  return { geofences, invalid };
}
