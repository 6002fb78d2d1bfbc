import type { Kafka } from 'kafkajs';
import { parseGeofence, type Geofence } from '../src/domain/geofence.js';
import type { Position } from '../src/domain/position.js';
import { GridIndex } from '../src/domain/spatial-index.js';
import type { VehicleEvent } from '../src/domain/vehicle-event.js';
import { onClock, onPosition } from '../src/events/detect.js';
import type { EventRules } from '../src/events/event-rules.js';
import { initialVehicleState, type VehicleState } from '../src/events/vehicle-state.js';
import { followTopic } from '../src/kafka/follow-topic.js';

/**
 * The events scenario's workload: vehicles on parallel east-bound rows (0.01° apart) cross
 * north-south strip geofences, alternating 15 s at 50 km/h and 15 s at 150 km/h (phase shifted per
 * vehicle), one position a second in the past. Every event it causes follows from the positions
 * alone (geofences, overspeed, trip start), so the expected events are computed, not sampled.
 */
export const EVENTS_RULES_ENV = {
  EVENTS_GRACE_MS: '1000',
  OVERSPEED_LIMIT_KMH: '120',
  OVERSPEED_MIN_DURATION_MS: '3000',
  // Nothing may depend on the wall clock: no offline, no trip ends of silent vehicles.
  OFFLINE_AFTER: '1h',
  TRIP_END_AFTER_MS: '3600000',
};

const LON0 = 13;
const LAT0 = 50;
const STRIP_DEG = 0.01;
/** ° of longitude per metre at ~50–52°N. */
const DEG_PER_M = 1 / 70_000;

export interface EventsWorkload {
  vehicles: number;
  perVehicle: number;
  startTs: number;
  geofences: { id: string; feature: unknown }[];
}

export function eventsWorkload(vehicles: number, perVehicle: number, now = Date.now()): EventsWorkload {
  const north = LAT0 + vehicles * 0.01 + 0.05;
  const geofences = Array.from({ length: 6 }, (_, g) => {
    const [west, east] = [LON0 + 0.005 + g * 2 * STRIP_DEG, LON0 + 0.005 + (g * 2 + 1) * STRIP_DEG];
    return {
      id: `strip-${g}`,
      feature: {
        type: 'Feature',
        id: `strip-${g}`,
        geometry: {
          type: 'Polygon',
          coordinates: [
            [
              [west, LAT0 - 0.05],
              [east, LAT0 - 0.05],
              [east, north],
              [west, north],
              [west, LAT0 - 0.05],
            ],
          ],
        },
        properties: { name: `Strip ${g}` },
      },
    };
  });
  return { vehicles, perVehicle, startTs: now - (perVehicle + 120) * 1000, geofences };
}

/** Positions number `i` of every vehicle (step `i` of the drive). */
export function stepPositions(w: EventsWorkload, i: number): Position[] {
  const out: Position[] = [];
  for (let k = 0; k < w.vehicles; k++) {
    let lon = LON0;
    let speed = 50;
    for (let j = 0; j <= i; j++) {
      speed = Math.floor((j + k) / 15) % 2 === 1 ? 150 : 50;
      if (j > 0) lon += (speed / 3.6) * DEG_PER_M;
    }
    out.push({
      vehicleId: `ev-${String(k).padStart(4, '0')}`,
      ts: w.startTs + i * 1000,
      lat: LAT0 + k * 0.01,
      lon,
      speed,
    });
  }
  return out;
}

/**
 * The events the detectors give for `positions` (each vehicle's in the order given), and the
 * wall-clock sweep's release of what waits out the grace at the end.
 */
export function expectedEvents(
  w: EventsWorkload,
  positions: readonly Position[],
  rules: EventRules,
): VehicleEvent[] {
  const index = new GridIndex<Geofence>();
  for (const g of w.geofences) index.upsert(parseGeofence(g.feature, g.id));
  const ctx = { index, rules };
  const states = new Map<string, VehicleState>();
  const out: VehicleEvent[] = [];
  for (const p of positions) {
    const step = onPosition(states.get(p.vehicleId) ?? initialVehicleState(), p, ctx);
    states.set(p.vehicleId, step.state);
    out.push(...step.events);
  }
  for (const state of states.values())
    out.push(...(onClock(state, Date.now(), rules.graceMs, ctx)?.events ?? []));
  return out;
}

/** Every committed record of `topic` (read_committed), parsed, in partition order. */
export async function readCommitted<T>(kafka: Kafka, topic: string): Promise<T[]> {
  const out: T[] = [];
  const following = await followTopic(kafka, topic, {
    stopWhenCaughtUp: true,
    onRecord: (_p, m) => out.push(JSON.parse(m.value!.toString()) as T),
  });
  await following.caughtUp;
  await following.stop().catch(() => undefined);
  return out;
}
