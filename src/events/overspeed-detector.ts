import type { Geofence } from '../domain/geofence.js';
import type { Position } from '../domain/position.js';
import type { GridIndex } from '../domain/spatial-index.js';
import { eventId, type VehicleEvent } from '../domain/vehicle-event.js';
import type { EventRules } from './event-rules.js';
import type { VehicleState } from './vehicle-state.js';

/** The limit where the vehicle is: the lowest speedLimitKmh of the geofences it is inside, else the global one. */
export function speedLimitAt(state: VehicleState, index: GridIndex<Geofence>, globalKmh: number): number {
  let limit = Infinity;
  for (const id of state.inside) limit = Math.min(limit, index.get(id)?.speedLimitKmh ?? Infinity);
  return limit === Infinity ? globalKmh : limit;
}

/**
 * `overspeed` once the speed stayed above the limit for the minimum duration (ts = when it
 * started), `overspeed_end` at the first position back at or under the limit, with the maximum
 * speed and the duration. Episodes shorter than the minimum are not reported at all.
 */
export function detectOverspeed(
  state: VehicleState,
  p: Position,
  limitKmh: number,
  rules: Pick<EventRules, 'overspeedMinDurationMs'>,
): VehicleEvent[] {
  if (p.speed === undefined) return [];
  const base = { vehicleId: p.vehicleId, lat: p.lat, lon: p.lon };
  const episode = state.overspeed;
  if (p.speed > limitKmh) {
    const e = episode ?? { startTs: p.ts, lastTs: p.ts, maxSpeedKmh: p.speed, limitKmh, reported: false };
    e.lastTs = p.ts;
    e.maxSpeedKmh = Math.max(e.maxSpeedKmh, p.speed);
    state.overspeed = e;
    if (e.reported || p.ts - e.startTs < rules.overspeedMinDurationMs) return [];
    e.reported = true;
    return [
      {
        id: eventId(p.vehicleId, 'overspeed', e.startTs),
        type: 'overspeed',
        ts: e.startTs,
        ...base,
        speedKmh: p.speed,
        maxSpeedKmh: e.maxSpeedKmh,
        limitKmh: e.limitKmh,
        durationMs: p.ts - e.startTs,
      },
    ];
  }
  delete state.overspeed;
  if (!episode?.reported) return [];
  return [
    {
      id: eventId(p.vehicleId, 'overspeed_end', p.ts, String(episode.startTs)),
      type: 'overspeed_end',
      ts: p.ts,
      ...base,
      speedKmh: p.speed,
      startTs: episode.startTs,
      maxSpeedKmh: episode.maxSpeedKmh,
      limitKmh: episode.limitKmh,
      durationMs: p.ts - episode.startTs,
    },
  ];
}
