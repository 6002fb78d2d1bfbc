import { describe, expect, it } from 'vitest';
import {
  checkRawTable,
  newestPerVehicle,
  type ExpectedState,
  type RawShard,
} from '../../../faults/redis-table.js';
import type { Position } from '../../../src/domain/position.js';

const at = (vehicleId: string, ts: number, lat = 52.5, lon = 13.4): Position => ({
  vehicleId,
  ts,
  lat,
  lon,
  speed: 30,
});

describe('newest position per vehicle (the table’s forward-only rule)', () => {
  it('keeps the latest event time; at an equal one the higher offset of the same partition', () => {
    const newest = newestPerVehicle([
      { partition: 0, offset: '1', position: at('a', 2000) },
      { partition: 0, offset: '2', position: at('a', 1000) }, // late: older event time
      { partition: 1, offset: '7', position: at('b', 5000, 1) },
      { partition: 1, offset: '9', position: at('b', 5000, 2) }, // same ts, same partition, higher offset
      { partition: 1, offset: '8', position: at('b', 5000, 3) },
      { partition: 1, offset: '10' }, // invalid record
    ]);
    expect(newest.get('a')).toMatchObject({ offset: '1', position: { ts: 2000 } });
    expect(newest.get('b')).toMatchObject({ offset: '9', position: { lat: 2 } });
    expect(newest.size).toBe(2);
  });
});

/** The table exactly as the processor should leave it for `expected`. */
function tableFor(expected: Map<string, ExpectedState>, partitions = 2): RawShard[] {
  const shards: RawShard[] = Array.from({ length: partitions }, (_, partition) => ({
    partition,
    states: {},
    versions: {},
    seen: new Map(),
    ids: new Set(),
    geo: new Map(),
  }));
  for (const [id, e] of expected) {
    const s = shards[e.partition]!;
    s.states[id] = JSON.stringify({ ...e.position, partition: e.partition, offset: e.offset, updatedAt: 1 });
    s.versions[id] = `${e.partition}:${e.offset}`;
    s.seen.set(id, e.position.ts);
    s.ids.add(id);
    // GEO returns coordinates off by up to ~0.6 m (52-bit geohash).
    s.geo.set(id, [e.position.lon + 3e-6, Math.min(e.position.lat, 85.05112878) - 3e-6]);
  }
  return shards;
}

describe('Redis table against the newest position on the topic', () => {
  const expected = newestPerVehicle([
    { partition: 0, offset: '3', position: at('veh-1', 1000, 52.1, 13.1) },
    { partition: 1, offset: '4', position: at('veh-2', 2000, 52.2, 13.2) },
    { partition: 1, offset: '5', position: at('veh-3', 3000, 89.9, 13.3) },
  ]);

  it('passes when states, GEO, last-seen, ids and versions all agree', () => {
    // veh-3 is at 89.9°: GEO indexes it at 85.05° (its state keeps the exact latitude).
    const shards = tableFor(expected);
    expect(checkRawTable(expected, shards)).toMatchObject({ ok: true, vehicles: 3 });
  });

  it('fails when a stored state differs from the newest position (planted raw HSET), naming the vehicle', () => {
    const shards = tableFor(expected);
    const state = JSON.parse(shards[1]!.states['veh-2']!) as Record<string, unknown>;
    shards[1]!.states['veh-2'] = JSON.stringify({ ...state, lat: 48.1 });
    const v = checkRawTable(expected, shards);
    expect(v).toMatchObject({ ok: false, wrong: 1 });
    expect(v.sample).toEqual(['veh-2: state lat 48.1 ≠ 52.2']);
  });

  it('fails on a state from another record (offset), an older event time, or a missing one', () => {
    const shards = tableFor(expected);
    const s1 = JSON.parse(shards[1]!.states['veh-2']!) as Record<string, unknown>;
    shards[1]!.states['veh-2'] = JSON.stringify({ ...s1, offset: '3' });
    const s0 = JSON.parse(shards[0]!.states['veh-1']!) as Record<string, unknown>;
    shards[0]!.states['veh-1'] = JSON.stringify({ ...s0, ts: 999 });
    delete shards[1]!.states['veh-3'];
    const v = checkRawTable(expected, shards);
    expect(v).toMatchObject({ ok: false, wrong: 2, missing: 1 });
  });

  it('fails when the GEO or last-seen index disagrees with the state', () => {
    const shards = tableFor(expected);
    shards[0]!.geo.set('veh-1', [13.1, 52.2]);
    shards[1]!.seen.set('veh-2', 1500);
    shards[1]!.geo.delete('veh-3');
    const v = checkRawTable(expected, shards);
    expect(v).toMatchObject({ ok: false, indexes: 3, wrong: 0 });
    expect(v.sample.join('; ')).toMatch(/veh-1: GEO 52.2,13.1 ≠ 52.1,13.1.*veh-2: last-seen 1500 ≠ ts 2000/);
  });

  it('fails on entries of vehicles with no position on the topic, or in the wrong shard', () => {
    const shards = tableFor(expected);
    shards[0]!.seen.set('ghost', 5);
    shards[0]!.states['veh-2'] = shards[1]!.states['veh-2']!;
    expect(checkRawTable(expected, shards)).toMatchObject({ ok: false, stray: 2 });
  });
});
