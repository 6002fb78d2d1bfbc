import type { Kafka } from 'kafkajs';
import type { Config } from '../config/config.js';
import type { Geofence } from '../domain/geofence.js';
import type { GeofenceStore } from '../domain/geofence-store.js';
import { GeofencePublisher, type GeofenceChange } from '../ingest/geofence-publisher.js';
import type { Logger } from '../logger.js';
import { followGeofences } from '../processor/geofence-table.js';

export interface OpenGeofenceStore {
  store: GeofenceStore;
  close(): Promise<void>;
}

/**
 * The API's geofences: the compacted GEOFENCES_TOPIC followed as a table (loaded before the store
 * is returned), writes through the {@link GeofencePublisher}. A write waits until the table has
 * applied its own offset (`readYourWritesMs`, then a retriable error: 503).
 */
export async function openKafkaGeofenceStore(
  kafka: Kafka,
  config: Readonly<Pick<Config, 'topic' | 'events'>>,
  logger: Logger,
  options: { readYourWritesMs?: number } = {},
): Promise<OpenGeofenceStore> {
  const publisher = new GeofencePublisher(kafka, { topic: config.topic, name: config.events.geofencesTopic });
  // Creates the topic when missing, so the table below has something to follow.
  await publisher.connect();
  const followed = await followGeofences(kafka, config.events.geofencesTopic, { logger }).catch(
    async (err: unknown) => {
      await publisher.close();
      throw err;
    },
  );
  const { table } = followed;
  const write = async (change: GeofenceChange) =>
    followed.reached(await publisher.publish([change]), options.readYourWritesMs);
  const store: GeofenceStore = {
    list: () => [...table.all()].map(([, g]) => g).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    get: (id) => table.get(id),
    async put(geofence: Geofence) {
      const created = table.get(geofence.id) === undefined;
      await write({ id: geofence.id, geofence });
      return { created };
    },
    async remove(id) {
      if (table.get(id) === undefined) return false;
      await write({ id, geofence: null });
      return true;
    },
  };
  return {
    store,
    async close() {
      await followed.stop();
      await publisher.close();
    },
  };
}
