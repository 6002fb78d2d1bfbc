import { haversineM } from '../domain/geo.js';
import type { Position } from '../domain/position.js';
import { eventId, type VehicleEvent } from '../domain/vehicle-event.js';
import type { EventRules } from './event-rules.js';
import type { TripSession, VehicleState } from './vehicle-state.js';

/** Speed of the position, or derived from the previous one when the device sent none (km/h). */
export function speedOf(p: Position, prev: Position | undefined): number {
  if (p.speed !== undefined) return p.speed;
  if (!prev || p.ts <= prev.ts) return 0;
  return (haversineM(prev.lat, prev.lon, p.lat, p.lon) / (p.ts - prev.ts)) * 3600;
}

function tripEnd(vehicleId: string, trip: TripSession, at: Position | undefined): VehicleEvent {
  const durationMs = trip.lastMovingTs - trip.startTs;
  return {
    id: eventId(vehicleId, 'trip_end', trip.lastMovingTs, String(trip.startTs)),
    type: 'trip_end',
    vehicleId,
    ts: trip.lastMovingTs,
    ...(at ? { lat: at.lat, lon: at.lon } : {}),
    startTs: trip.startTs,
    durationMs,
    distanceM: Math.round(trip.distanceM),
    maxSpeedKmh: trip.maxSpeedKmh,
    avgSpeedKmh: durationMs > 0 ? Math.round((trip.distanceM / durationMs) * 3600 * 10) / 10 : 0,
  };
}

/**
 * Trips are session windows over moving positions: the first moving position opens one
 * (`trip_start`), and it closes (`trip_end`, at the last moving position) once the vehicle has not
 * moved for `tripEndAfterMs` — seen on a later position, or by {@link closeIdleTrip} on the clock.
 */
export function detectTrip(
  state: VehicleState,
  p: Position,
  rules: Pick<EventRules, 'movingMinSpeedKmh' | 'tripEndAfterMs'>,
): VehicleEvent[] {
  const events: VehicleEvent[] = [];
  const speed = speedOf(p, state.last);
  const moving = speed >= rules.movingMinSpeedKmh;
  let trip = state.trip;
  if (trip && p.ts - trip.lastMovingTs >= rules.tripEndAfterMs) {
    events.push(tripEnd(p.vehicleId, trip, state.last));
    trip = undefined;
  }
  if (trip && state.last) trip.distanceM += haversineM(state.last.lat, state.last.lon, p.lat, p.lon);
  if (moving) {
    if (!trip) {
      trip = { startTs: p.ts, lastMovingTs: p.ts, distanceM: 0, maxSpeedKmh: speed };
      events.push({
        id: eventId(p.vehicleId, 'trip_start', p.ts),
        type: 'trip_start',
        vehicleId: p.vehicleId,
        ts: p.ts,
        lat: p.lat,
        lon: p.lon,
        speedKmh: speed,
      });
    }
    trip.lastMovingTs = p.ts;
    trip.maxSpeedKmh = Math.max(trip.maxSpeedKmh, Math.round(speed * 10) / 10);
  }
  if (trip) state.trip = trip;
  else delete state.trip;
  return events;
}

/** Ends a trip whose vehicle went silent (no position to see the gap on). */
export function closeIdleTrip(
  state: VehicleState,
  vehicleId: string,
  rules: Pick<EventRules, 'tripEndAfterMs'>,
  eventNow: number,
): VehicleEvent[] {
  const trip = state.trip;
  if (!trip || eventNow - trip.lastMovingTs < rules.tripEndAfterMs) return [];
  delete state.trip;
  return [tripEnd(vehicleId, trip, state.last)];
}
