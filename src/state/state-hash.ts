import type { StateChange, VehicleState } from './latest-state-table.js';

/**
 * The `state` field of a vehicle hash (`<prefix>v:<id>`, JSON built by `stateJson` and stored by
 * the upsert script) back to a state; null when the vehicle is absent (never seen, or cleared).
 */
export function parseState(json: string | null | undefined): VehicleState | null {
  if (json === null || json === undefined) return null;
  return JSON.parse(json) as VehicleState;
}

/** A message of the `<prefix>changes` channel: the same JSON as the stored state. */
export function parseChange(message: string): StateChange {
  return JSON.parse(message) as StateChange;
}
