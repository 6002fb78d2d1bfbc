import { jsonCodec } from '../domain/codec.js';
import type { Position } from '../domain/position.js';
import { parseVehicleEvent, type VehicleEvent } from '../domain/vehicle-event.js';
import { jsonSerde, store, stringSerde, type Serde, type TopologyDefinition } from '../stream/dsl/index.js';
import { onClock, onPosition, type DetectContext } from './detect.js';
import type { VehicleState } from './vehicle-state.js';
import { initialVehicleState } from './vehicle-state.js';

/** Replays read positions of any age: the event-time bounds of ingest do not apply here. */
const anyTime = { maxAgeMs: Number.MAX_SAFE_INTEGER, maxFutureMs: Number.MAX_SAFE_INTEGER };

export const positionSerde: Serde<Position> = {
  serialize: (p) => jsonCodec.encode(p),
  deserialize: (b) => jsonCodec.decode(b, anyTime),
};
export const eventSerde: Serde<VehicleEvent> = jsonSerde(parseVehicleEvent);
export const vehicleStateStore = store<string, VehicleState>(
  'vehicle-state',
  stringSerde,
  jsonSerde<VehicleState>(),
);

export interface EventsTopologyOptions {
  positionsTopic: string;
  eventsTopic: string;
  /** Per position: the detectors' context (geofence index, rules). */
  context: DetectContext;
  /** Wall-clock sweep period (offline, idle trips, grace flush). @default 1000 */
  sweepEveryMs?: number;
  /** Wall clock for idle detection, epoch ms. */
  now: () => number;
  onLate?: () => void;
  /** Called at every sweep with the number of vehicles in the store (metrics, debugging). */
  onSweep?: (vehicles: number) => void;
}

/**
 * vehicle_positions → vehicle_events, per partition: each vehicle's positions go through the
 * detectors with its state in the logged store `vehicle-state`; a wall-clock punctuation sweeps
 * silent vehicles (offline, trips that ended without a later position, positions waiting out
 * the grace period).
 */
export function eventsTopology(options: EventsTopologyOptions): TopologyDefinition {
  const { context } = options;
  return (b) => {
    // Wall time each vehicle was last read (memory only: after a restart every vehicle counts as just read).
    const readAt = new Map<string, number>();
    const states = b.store(vehicleStateStore);
    b.stream<string, Position>(options.positionsTopic, {
      key: stringSerde,
      value: positionSerde,
      ts: (p) => p.ts,
    })
      .processValues(vehicleStateStore, (vehicleId, p, store) => {
        readAt.set(vehicleId, options.now());
        const step = onPosition(store.get(vehicleId) ?? initialVehicleState(), p, context);
        if (step.late) options.onLate?.();
        else store.put(vehicleId, step.state);
        return step.events;
      })
      .punctuate('wallClock', options.sweepEveryMs ?? 1000, () => {
        const now = options.now();
        const out = [];
        options.onSweep?.(states.size);
        for (const [vehicleId, state] of [...states.all()]) {
          const at = readAt.get(vehicleId) ?? now;
          readAt.set(vehicleId, at);
          const step = onClock(state, now, now - at, context);
          if (!step) continue;
          states.put(vehicleId, step.state);
          for (const e of step.events) out.push({ key: vehicleId, value: e, ts: e.ts });
        }
        return out;
      })
      .to(options.eventsTopic, { key: stringSerde, value: eventSerde });
  };
}
