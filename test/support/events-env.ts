import type { Config, RawConfig } from '../../src/config/index.js';
import { parseGeofence } from '../../src/domain/geofence.js';
import type { Position } from '../../src/domain/position.js';
import type { VehicleEvent } from '../../src/domain/vehicle-event.js';
import { followTopic } from '../../src/kafka/follow-topic.js';
import { testConfig, testKafka, uniqueSuffix } from './env.js';

/** A test config with its own events topic, geofences topic and events group (application id). */
export function eventsTestConfig(overrides: RawConfig = {}): Readonly<Config> {
  const id = uniqueSuffix();
  return testConfig({
    EVENTS_TOPIC: `test_events_${id}`,
    GEOFENCES_TOPIC: `test_geofences_${id}`,
    EVENTS_GROUP: `test-events-${id}`,
    ...overrides,
  });
}

/** Writes a geofence (checked by parseGeofence) to the config's geofences topic. */
export async function publishGeofence(config: Readonly<Config>, id: string, feature: unknown): Promise<void> {
  const geofence = parseGeofence(feature, id);
  const producer = testKafka(config).producer();
  await producer.connect();
  try {
    await producer.send({
      topic: config.events.geofencesTopic,
      messages: [{ key: id, value: JSON.stringify(geofence.feature) }],
    });
  } finally {
    await producer.disconnect();
  }
}

/** A 0.01° square (~1.1 km) around (52.52, 13.40) as a GeoJSON Feature. */
export const squareFeature = (name = 'Mitte', speedLimitKmh?: number) => ({
  type: 'Feature',
  geometry: {
    type: 'Polygon',
    coordinates: [
      [
        [13.395, 52.515],
        [13.405, 52.515],
        [13.405, 52.525],
        [13.395, 52.525],
        [13.395, 52.515],
      ],
    ],
  },
  properties: { name, ...(speedLimitKmh ? { speedLimitKmh } : {}) },
});

/**
 * A drive from 1 km south of the square, through it northwards, to 1 km north of it: one position
 * every `stepMs`, `speed` km/h (the square holds positions 4..6).
 */
export function driveThrough(vehicleId: string, startTs: number, stepMs = 1000, speed = 50): Position[] {
  const lats = [52.5, 52.505, 52.51, 52.514, 52.517, 52.52, 52.523, 52.526, 52.53, 52.535];
  return lats.map((lat, i) => ({ vehicleId, ts: startTs + i * stepMs, lat, lon: 13.4, speed }));
}

/** A vehicle near Munich at `speeds` (km/h), one position a second from `startTs`, moving north. */
export function speedsOf(vehicleId: string, startTs: number, speeds: readonly number[]): Position[] {
  return speeds.map((speed, i) => ({
    vehicleId,
    ts: startTs + i * 1000,
    lat: 48.1 + i * 0.0003,
    lon: 11.5,
    speed,
  }));
}

/** Every committed event of the events topic (read_committed: aborted transactions are never seen). */
export async function readEvents(config: Readonly<Config>): Promise<VehicleEvent[]> {
  const out: VehicleEvent[] = [];
  const following = await followTopic(testKafka(config), config.events.topic, {
    stopWhenCaughtUp: true,
    onRecord: (_p, m) => out.push(JSON.parse(m.value!.toString()) as VehicleEvent),
  });
  await following.caughtUp;
  await following.stop().catch(() => undefined);
  return out;
}
