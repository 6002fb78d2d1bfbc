import type { Observable, Subscription } from 'rxjs';
import type { Geofence } from '../domain/geofence.js';
import { GridIndex } from '../domain/spatial-index.js';

/** A spatial index kept in step with the geofences table (built from its contents, then its changes). */
export function indexGeofences(table: {
  all(): IterableIterator<[string, Geofence]>;
  changes$: Observable<{ key: string; value: Geofence | null }>;
}): { index: GridIndex<Geofence>; subscription: Subscription } {
  const index = new GridIndex<Geofence>();
  for (const [, g] of table.all()) index.upsert(g);
  const subscription = table.changes$.subscribe(({ key, value }) =>
    value ? index.upsert(value) : index.remove(key),
  );
  return { index, subscription };
}
