import { compareOffsets, type PositionRecord } from '../domain/records.js';

interface Candidates {
  ts: number;
  records: PositionRecord[];
}

/**
 * Cuts a batch down to the records that can still decide each vehicle's final state, so the Lua
 * script sees (almost always) one record per vehicle. The result, applied in order, leaves the
 * table exactly as applying the whole batch record by record would:
 *
 * - only records with a vehicle's highest ts in the batch can end up as its state (an older one
 *   could only be overwritten by the newer one afterwards);
 * - among those, one partition's records are ordered by offset, so only the highest offset stays;
 * - records with that same ts from different partitions are not comparable, so all of them are
 *   kept in batch order and the script decides (this only happens while a key moves partition).
 */
export function newestPerVehicle(batch: readonly PositionRecord[]): PositionRecord[] {
  const byVehicle = new Map<string, Candidates>();
  for (const record of batch) {
    const id = record.position.vehicleId;
    const ts = record.position.ts;
    const entry = byVehicle.get(id);
    if (entry === undefined || ts > entry.ts) {
      byVehicle.set(id, { ts, records: [record] });
    } else if (ts === entry.ts) {
      const only = entry.records.length === 1 ? entry.records[0]! : undefined;
      if (only !== undefined && only.partition === record.partition) {
        if (compareOffsets(record.offset, only.offset) > 0) entry.records[0] = record;
      } else {
        entry.records.push(record);
      }
    }
  }
  const out: PositionRecord[] = [];
  for (const entry of byVehicle.values()) {
    if (entry.records.length === 1) out.push(entry.records[0]!);
    else out.push(...entry.records);
  }
  return out;
}
