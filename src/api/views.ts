import type { HistoryRow } from '../sinks/warehouse-reader.js';
import type { VehicleState } from '../state/latest-state-table.js';

/** A vehicle as the API shows it: its latest state plus how old it is. */
export type VehicleView = VehicleState & { ageMs: number; stale: boolean };

export function vehicleView(state: VehicleState, now: number, staleAfterMs: number): VehicleView {
  const ageMs = Math.max(0, now - state.ts);
  return { ...state, ageMs, stale: ageMs > staleAfterMs };
}

/** One history point; vehicle id and Kafka coordinates are left out (they repeat on every row). */
export function historyPoint(row: HistoryRow) {
  return {
    ts: row.ts,
    lat: row.lat,
    lon: row.lon,
    speed: row.speed,
    heading: row.heading,
    altitude: row.altitude,
    accuracy: row.accuracy,
    battery: row.battery,
    attributes: row.attributes,
  };
}
