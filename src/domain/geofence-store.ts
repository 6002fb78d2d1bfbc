import type { Geofence } from './geofence.js';

/**
 * The geofences as the API manages them (port; adapter: `src/api/kafka-geofence-store.ts`, the
 * compacted topic followed as a table). Reads come from memory; a write resolves once this store
 * reads it back (read-your-writes), so a GET after an answered PUT or DELETE sees it.
 */
export interface GeofenceStore {
  /** Every geofence, ordered by id. */
  list(): Geofence[];
  get(id: string): Geofence | undefined;
  /** Stores (or replaces) the geofence; `created` is false when its id existed. */
  put(geofence: Geofence): Promise<{ created: boolean }>;
  /** Deletes (a tombstone); false when there was no such geofence. */
  remove(id: string): Promise<boolean>;
}
