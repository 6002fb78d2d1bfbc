import type { Geofence } from '../domain/geofence.js';
import type { Position } from '../domain/position.js';
import type { GridIndex } from '../domain/spatial-index.js';
import type { VehicleEvent } from '../domain/vehicle-event.js';
import type { EventRules } from './event-rules.js';
import { detectGeofences } from './geofence-detector.js';
import { detectOverspeed, speedLimitAt } from './overspeed-detector.js';
import { detectBattery, detectPresence, markOffline } from './presence-detector.js';
import { closeIdleTrip, detectTrip } from './trip-detector.js';
import type { VehicleState } from './vehicle-state.js';

export interface DetectContext {
  index: GridIndex<Geofence>;
  rules: EventRules;
}

export interface Step {
  state: VehicleState;
  events: VehicleEvent[];
  /** The position was older than one already detected on (beyond grace) or a duplicate: ignored. */
  late: boolean;
}

const copy = (s: VehicleState): VehicleState => structuredClone(s);

/** Every detector on one position, in event-time order. */
function detectAll(state: VehicleState, p: Position, ctx: DetectContext): VehicleEvent[] {
  const events = detectPresence(state, p, ctx.rules);
  events.push(...detectGeofences(state, p, ctx.index, ctx.rules));
  events.push(
    ...detectOverspeed(state, p, speedLimitAt(state, ctx.index, ctx.rules.overspeedLimitKmh), ctx.rules),
  );
  events.push(...detectTrip(state, p, ctx.rules));
  events.push(...detectBattery(state, p, ctx.rules));
  state.last = p;
  return events;
}

function release(state: VehicleState, upTo: number, ctx: DetectContext): VehicleEvent[] {
  const events: VehicleEvent[] = [];
  while (state.pending.length > 0 && state.pending[0]!.ts <= upTo)
    events.push(...detectAll(state, state.pending.shift()!, ctx));
  return events;
}

/**
 * One position of one vehicle. Positions wait in `pending` until the vehicle's newest event time is
 * `graceMs` past them, and are detected on in event-time order — so positions that arrive out of
 * order within the grace period give exactly the events in-order ones give.
 */
export function onPosition(prev: VehicleState, p: Position, ctx: DetectContext): Step {
  const lastTs = prev.last?.ts ?? -Infinity;
  if (p.ts <= lastTs || prev.pending.some((q) => q.ts === p.ts))
    return { state: prev, events: [], late: true };
  const state = copy(prev);
  const at = state.pending.findIndex((q) => q.ts > p.ts);
  if (at === -1) state.pending.push(p);
  else state.pending.splice(at, 0, p);
  const newest = state.pending[state.pending.length - 1]!.ts;
  return { state, events: release(state, newest - ctx.rules.graceMs, ctx), late: false };
}

/**
 * The wall-clock sweep of one vehicle: positions pending for longer than the grace period (by
 * the wall clock) are detected on, an open trip of a silent vehicle is closed, and a vehicle not
 * heard from for OFFLINE_AFTER goes offline. `idleMs`: wall time since its last position was read.
 */
export function onClock(
  prev: VehicleState,
  now: number,
  idleMs: number,
  ctx: DetectContext,
): Step | undefined {
  const flush = prev.pending.length > 0 && idleMs >= ctx.rules.graceMs;
  const silent = idleMs >= ctx.rules.offlineAfterMs;
  const tripIdle = prev.trip !== undefined && idleMs >= ctx.rules.tripEndAfterMs;
  if (!flush && !silent && !tripIdle) return undefined;
  const state = copy(prev);
  const events = flush ? release(state, Infinity, ctx) : [];
  if (tripIdle) events.push(...closeIdleTrip(state, state.last?.vehicleId ?? '', ctx.rules, now));
  if (silent) events.push(...markOffline(state, now, ctx.rules));
  return events.length === 0 && !flush ? undefined : { state, events, late: false };
}
