import type { Kafka } from 'kafkajs';
import { parseGeofence, type Geofence } from '../src/domain/geofence.js';
import { GridIndex } from '../src/domain/spatial-index.js';
import { onClock, onPosition } from '../src/events/detect.js';
import type { EventRules } from '../src/events/event-rules.js';
import { positionSerde } from '../src/events/events-topology.js';
import { initialVehicleState, type VehicleState } from '../src/events/vehicle-state.js';
import { followTopic } from '../src/kafka/follow-topic.js';

/**
 * The events replay's output check: the events the detectors give for the positions topic (each
 * vehicle's positions in partition order, the last ones released as the wall-clock sweep does)
 * against what `vehicle_events` holds, read committed. With the wall-clock rules (offline, idle
 * trip end) set far beyond the run, every event follows from the positions alone.
 */

export interface EventsVerification {
  expected: number;
  /** Committed records of the events topic. */
  records: number;
  lost: number;
  duplicated: number;
  foreign: number;
  ok: boolean;
}

/** The ids of the events the detectors give for every position of `positionsTopic`. */
export async function expectedEventIds(
  kafka: Kafka,
  positionsTopic: string,
  geofences: readonly { id: string; feature: unknown }[],
  rules: EventRules,
): Promise<Set<string>> {
  const index = new GridIndex<Geofence>();
  for (const g of geofences) index.upsert(parseGeofence(g.feature, g.id));
  const ctx = { index, rules };
  const states = new Map<string, VehicleState>();
  const ids = new Set<string>();
  const following = await followTopic(kafka, positionsTopic, {
    stopWhenCaughtUp: true,
    onRecord: (_p, m) => {
      if (!m.value) return;
      let p;
      try {
        p = positionSerde.deserialize(m.value);
      } catch {
        return; // the processor skips what does not deserialize too
      }
      const step = onPosition(states.get(p.vehicleId) ?? initialVehicleState(), p, ctx);
      states.set(p.vehicleId, step.state);
      for (const e of step.events) ids.add(e.id);
    },
  });
  await following.caughtUp;
  await following.stop().catch(() => undefined);
  const now = Date.now();
  for (const state of states.values())
    for (const e of onClock(state, now, rules.graceMs, ctx)?.events ?? []) ids.add(e.id);
  return ids;
}

/** How many times each event id occurs in `eventsTopic` (read_committed). */
export async function eventIdCounts(kafka: Kafka, eventsTopic: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const following = await followTopic(kafka, eventsTopic, {
    stopWhenCaughtUp: true,
    onRecord: (_p, m) => {
      const id = (JSON.parse(m.value!.toString()) as { id: string }).id;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    },
  });
  await following.caughtUp;
  await following.stop().catch(() => undefined);
  return counts;
}

export function verifyEvents(
  expected: ReadonlySet<string>,
  counts: ReadonlyMap<string, number>,
): EventsVerification {
  let records = 0;
  let duplicated = 0;
  let foreign = 0;
  for (const [id, n] of counts) {
    records += n;
    if (n > 1) duplicated++;
    if (!expected.has(id)) foreign++;
  }
  const lost = [...expected].filter((id) => !counts.has(id)).length;
  return {
    expected: expected.size,
    records,
    lost,
    duplicated,
    foreign,
    ok: lost === 0 && duplicated === 0 && foreign === 0,
  };
}
