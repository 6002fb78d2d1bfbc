import { signedDistanceM } from '../domain/geofence-geometry.js';
import type { Geofence } from '../domain/geofence.js';
import type { Position } from '../domain/position.js';
import type { GridIndex } from '../domain/spatial-index.js';
import { eventId, type VehicleEvent } from '../domain/vehicle-event.js';
import type { EventRules } from './event-rules.js';
import type { VehicleState } from './vehicle-state.js';

/**
 * geofence_enter / geofence_exit with hysteresis: a vehicle enters once it is `hysteresisM` inside
 * the boundary and leaves once it is that far outside, so GPS noise on the edge does not flap.
 * Only the geofences near the position (the grid's candidates) and those it is inside are measured.
 */
export function detectGeofences(
  state: VehicleState,
  p: Position,
  index: GridIndex<Geofence>,
  rules: Pick<EventRules, 'geofenceHysteresisM'>,
): VehicleEvent[] {
  const events: VehicleEvent[] = [];
  const h = rules.geofenceHysteresisM;
  const inside = new Set(state.inside);
  const seen = new Set<string>();
  const event = (type: 'geofence_enter' | 'geofence_exit', g: Geofence): VehicleEvent => ({
    id: eventId(p.vehicleId, type, p.ts, g.id),
    type,
    vehicleId: p.vehicleId,
    ts: p.ts,
    lat: p.lat,
    lon: p.lon,
    geofenceId: g.id,
    geofenceName: g.name,
  });
  for (const g of index.candidates(p.lat, p.lon)) {
    seen.add(g.id);
    const d = signedDistanceM(g, p.lat, p.lon);
    if (!inside.has(g.id) && d < -h) {
      inside.add(g.id);
      events.push(event('geofence_enter', g));
    } else if (inside.has(g.id) && d > h) {
      inside.delete(g.id);
      events.push(event('geofence_exit', g));
    }
  }
  for (const id of state.inside) {
    if (seen.has(id)) continue;
    const g = index.get(id);
    // A deleted geofence is forgotten silently; one that is no candidate is far away: left.
    inside.delete(id);
    if (g) events.push(event('geofence_exit', g));
  }
  state.inside = [...inside].sort();
  return events;
}
