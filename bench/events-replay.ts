import type { Config } from '../src/config/index.js';
import { createKafka } from '../src/kafka/client.js';
import { eventTopicPlans } from '../src/kafka/event-topics.js';
import { ensureTopic } from '../src/kafka/topic-admin.js';
import { ServiceError } from '../src/errors.js';
import { silentLogger } from '../src/logger.js';
import { sleep } from '../src/retry.js';
import { eventIdCounts, expectedEventIds, verifyEvents, type EventsVerification } from './events-verify.js';
import { BENCH_CITIES } from './fleet-positions.js';
import { spawnFleet, waitWhileRunning } from './fleet-child.js';
import { committedTotal, endOffsetTotal, groupIsStable } from './offsets.js';
import { CpuMeter, MemorySampler } from './proc.js';
import { perSecond } from './stats.js';
import type { BenchServices } from './services.js';

export interface EventsReplayResult {
  records: number;
  geofences: number;
  /** From the events group turning Stable to every offset committed (by its transactions). */
  recordsPerS: number;
  elapsedMs: number;
  peakRssMb: number;
  cpuSeconds: number;
  /** End offsets of the events topic: events plus one transaction marker per commit. */
  eventsTopicOffsets: number;
  /** vehicle_events against the detectors' events for the topic (a failed check fails the step). */
  verified: EventsVerification;
}

/**
 * The wall-clock rules set beyond the run (the config of the step and its child): no offline and
 * no idle trip end, so every event follows from the positions and the output can be verified.
 */
export const EVENTS_REPLAY_ENV = { OFFLINE_AFTER: '24h', TRIP_END_AFTER_MS: '86400000' };

/**
 * `count` squares of ~300 m with a speed limit, spread on a grid over the bench fleet's cities
 * (±0.125° around each, where its vehicles drive), so positions really meet geofences.
 */
export function benchGeofences(count: number): { id: string; feature: unknown }[] {
  const perCity = Math.ceil(count / BENCH_CITIES.length);
  const side = Math.ceil(Math.sqrt(perCity));
  return Array.from({ length: count }, (_, i) => {
    const [lat0, lon0] = BENCH_CITIES[i % BENCH_CITIES.length]!;
    const k = Math.floor(i / BENCH_CITIES.length);
    const lat = lat0 - 0.125 + ((k % side) + 0.5) * (0.25 / side);
    const lon = lon0 - 0.125 + (Math.floor(k / side) + 0.5) * (0.25 / side);
    const d = 0.0015;
    const ring = [
      [lon - d, lat - d],
      [lon + d, lat - d],
      [lon + d, lat + d],
      [lon - d, lat + d],
      [lon - d, lat - d],
    ];
    return {
      id: `bench-${i}`,
      feature: {
        type: 'Feature',
        id: `bench-${i}`,
        geometry: { type: 'Polygon', coordinates: [ring] },
        properties: { name: `Zone ${i}`, speedLimitKmh: 30 + (i % 4) * 10 },
      },
    };
  });
}

/**
 * Times `fleet events-process` (transactions, state changelog) from the earliest offset of the
 * pre-loaded positions topic, with `geofences` geofences loaded, until its group has committed
 * every offset: the events pipeline's positions/s, beside the plain pipeline's replay.
 */
export async function eventsReplay(
  services: BenchServices,
  config: Readonly<Config>,
  options: { geofences: number; timeoutMs?: number },
): Promise<EventsReplayResult> {
  const { admin, logger } = services;
  const records = await endOffsetTotal(admin, config.topic.name);
  const group = config.events.applicationId;
  const env = {
    TOPIC: config.topic.name,
    EVENTS_TOPIC: config.events.topic,
    GEOFENCES_TOPIC: config.events.geofencesTopic,
    EVENTS_GROUP: group,
    AUTO_OFFSET_RESET: 'earliest',
    ...EVENTS_REPLAY_ENV,
  };
  if (config.events.rules.offlineAfterMs < 86_400_000 || config.events.rules.tripEndAfterMs < 86_400_000)
    throw new ServiceError('eventsReplay needs a config compiled with EVENTS_REPLAY_ENV');
  // The events processor's own topic plan; the geofences go in before it starts.
  const kafka = createKafka(config.kafka, { logger: silentLogger, role: 'bench' });
  const names = {
    events: config.events.topic,
    geofences: config.events.geofencesTopic,
    changelog: `${group}-vehicle-state-changelog`,
  };
  for (const plan of eventTopicPlans(config.topic, names, 1)) await ensureTopic(admin, plan);
  const producer = kafka.producer();
  await producer.connect();
  const zones = benchGeofences(options.geofences);
  await producer.send({
    topic: config.events.geofencesTopic,
    messages: zones.map((z) => ({ key: z.id, value: JSON.stringify(z.feature) })),
  });
  await producer.disconnect();

  const fleet = spawnFleet(services, ['events-process'], { name: 'events-replay', env });
  const memory = new MemorySampler(fleet.pid);
  const cpu = new CpuMeter({ events: fleet.pid }).start();
  let joinedAt: number;
  try {
    await waitWhileRunning(fleet, () => groupIsStable(admin, group), 'the events processor to join', 180_000);
    joinedAt = performance.now();
    logger.info({ records, geofences: zones.length }, 'events processor joined; replaying');
    await waitWhileRunning(
      fleet,
      async () => (await committedTotal(admin, group, config.topic.name)) >= records,
      `the events processor to commit ${records} records`,
      options.timeoutMs ?? 30 * 60_000,
      50,
    );
  } catch (err) {
    memory.stop();
    await fleet.stop();
    throw err;
  }
  const elapsedMs = performance.now() - joinedAt;
  const measured = { cpuSeconds: cpu.stop().events ?? 0, peakRssMb: memory.stop().peakRssMb };
  let verified: EventsVerification;
  try {
    // The last positions wait out the grace until the wall-clock sweep releases them: bounded wait.
    const expected = await expectedEventIds(kafka, config.topic.name, zones, config.events.rules);
    const deadline = Date.now() + 60_000;
    let counts = await eventIdCounts(kafka, config.events.topic);
    while (counts.size < expected.size && fleet.child.exitCode === null && Date.now() < deadline) {
      await sleep(1000);
      counts = await eventIdCounts(kafka, config.events.topic);
    }
    verified = verifyEvents(expected, counts);
  } finally {
    await fleet.stop();
  }
  logger.info({ verified }, 'events replay verified');
  return {
    records,
    geofences: zones.length,
    recordsPerS: perSecond(records, elapsedMs),
    elapsedMs: Math.round(elapsedMs),
    ...measured,
    eventsTopicOffsets: await endOffsetTotal(admin, config.events.topic),
    verified,
  };
}
