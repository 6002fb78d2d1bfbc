import type { AttributeValue } from '../domain/position.js';
import type { StateChange, VehicleState } from './latest-state-table.js';

const OPTIONAL_NUMBERS = ['speed', 'heading', 'altitude', 'accuracy', 'battery'] as const;

/**
 * A vehicle hash (`<prefix>v:<id>`, as written by the upsert script) back to a state; null when
 * the hash is empty or missing its required fields (the vehicle was cleared meanwhile).
 */
export function stateFromHash(hash: Record<string, string>): VehicleState | null {
  const { vehicleId, ts, lat, lon, partition, offset, updatedAt } = hash;
  if (
    vehicleId === undefined ||
    ts === undefined ||
    lat === undefined ||
    lon === undefined ||
    partition === undefined ||
    offset === undefined
  ) {
    return null;
  }
  const state: VehicleState = {
    vehicleId,
    ts: Number(ts),
    lat: Number(lat),
    lon: Number(lon),
    partition: Number(partition),
    offset,
    updatedAt: Number(updatedAt ?? 0),
  };
  for (const field of OPTIONAL_NUMBERS) {
    const value = hash[field];
    if (value !== undefined) state[field] = Number(value);
  }
  if (hash.attributes !== undefined) {
    state.attributes = JSON.parse(hash.attributes) as Record<string, AttributeValue>;
  }
  return state;
}

/** A message of the `<prefix>changes` channel (JSON built by the upsert script). */
export function parseChange(message: string): StateChange {
  return JSON.parse(message) as StateChange;
}
