import type { Position } from '../domain/position.js';
import { eventId, type VehicleEvent } from '../domain/vehicle-event.js';
import type { EventRules } from './event-rules.js';
import type { VehicleState } from './vehicle-state.js';

function offlineEvent(last: Position, rules: Pick<EventRules, 'offlineAfterMs'>): VehicleEvent {
  return {
    id: eventId(last.vehicleId, 'offline', last.ts),
    type: 'offline',
    vehicleId: last.vehicleId,
    ts: last.ts + rules.offlineAfterMs,
    lat: last.lat,
    lon: last.lon,
    lastSeenTs: last.ts,
  };
}

/**
 * `offline` when no position came for `offlineAfterMs`, `online` with the next one. The offline
 * event's time and id derive from the last position (ts = last + OFFLINE_AFTER), so whether the
 * wall clock ({@link markOffline}) or a later position (a replay) notices the gap, it is the same event.
 */
export function detectPresence(
  state: VehicleState,
  p: Position,
  rules: Pick<EventRules, 'offlineAfterMs'>,
): VehicleEvent[] {
  const events: VehicleEvent[] = [];
  if (!state.offline && state.last && p.ts - state.last.ts >= rules.offlineAfterMs) {
    events.push(offlineEvent(state.last, rules));
    state.offline = true;
  }
  if (state.offline) {
    events.push({
      id: eventId(p.vehicleId, 'online', p.ts),
      type: 'online',
      vehicleId: p.vehicleId,
      ts: p.ts,
      lat: p.lat,
      lon: p.lon,
      ...(state.last ? { lastSeenTs: state.last.ts } : {}),
    });
    state.offline = false;
  }
  return events;
}

/** The wall-clock side: `now` is past the last position + OFFLINE_AFTER. */
export function markOffline(
  state: VehicleState,
  now: number,
  rules: Pick<EventRules, 'offlineAfterMs'>,
): VehicleEvent[] {
  if (state.offline || !state.last || now - state.last.ts < rules.offlineAfterMs) return [];
  state.offline = true;
  return [offlineEvent(state.last, rules)];
}

/** `battery_low` once when the battery drops below the threshold; re-armed at threshold + 5. */
export function detectBattery(
  state: VehicleState,
  p: Position,
  rules: Pick<EventRules, 'batteryLowPct'>,
): VehicleEvent[] {
  if (p.battery === undefined) return [];
  if (state.batteryLow) {
    if (p.battery >= rules.batteryLowPct + 5) state.batteryLow = false;
    return [];
  }
  if (p.battery >= rules.batteryLowPct) return [];
  state.batteryLow = true;
  return [
    {
      id: eventId(p.vehicleId, 'battery_low', p.ts),
      type: 'battery_low',
      vehicleId: p.vehicleId,
      ts: p.ts,
      lat: p.lat,
      lon: p.lon,
      battery: p.battery,
    },
  ];
}
