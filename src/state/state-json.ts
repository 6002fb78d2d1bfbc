import type { StateChange, VehicleState } from './latest-state-table.js';

/**
 * A vehicle's entry of the `<prefix>states` hash (JSON built by `stateJson`, stored by the upsert
 * script) back to a state; null when the vehicle is absent (never seen, or cleared).
 */
export function parseState(json: string | null | undefined): VehicleState | null {
  if (json === null || json === undefined) return null;
  return JSON.parse(json) as VehicleState;
}

/** A message of the `<prefix>changes` channel: a JSON array of applied states (one chunk's). */
export function parseChanges(message: string): StateChange[] {
  const changes: unknown = JSON.parse(message);
  if (!Array.isArray(changes)) throw new TypeError('a state change message is a JSON array');
  return changes as StateChange[];
}
