import type { NearbyResult, VehicleState } from './latest-state-table.js';
import { clampGeoLat } from './list-vehicles.js';
import type { RedisClient } from './redis-connection.js';
import type { ShardKeys } from './shard-keys.js';
import { parseState } from './state-json.js';

/** Where each vehicle's state lives: its shard's keys. */
export type ShardOf = (vehicleId: string) => ShardKeys;

/**
 * The states of `ids`, in order (null where missing): one HMGET per shard involved, in parallel,
 * so any number of vehicles costs one round trip per shard.
 */
export async function fetchStates(
  redis: RedisClient,
  shardOf: ShardOf,
  ids: readonly string[],
): Promise<(VehicleState | null)[]> {
  if (ids.length === 0) return [];
  const groups = new Map<ShardKeys, number[]>();
  ids.forEach((id, i) => {
    const keys = shardOf(id);
    const group = groups.get(keys);
    if (group) group.push(i);
    else groups.set(keys, [i]);
  });
  const out: (VehicleState | null)[] = new Array<VehicleState | null>(ids.length).fill(null);
  await Promise.all(
    [...groups].map(async ([keys, indexes]) => {
      const states = await redis.hmget(keys.states, ...indexes.map((i) => ids[i]!));
      indexes.forEach((at, j) => (out[at] = parseState(states[j] ?? null)));
    }),
  );
  return out;
}

/**
 * Nearest first over every shard: each shard returns its own `limit` nearest (GEOSEARCH … ASC
 * COUNT), so the global `limit` nearest are among them; ties in distance are ordered by id.
 */
export async function nearbyAcrossShards(
  redis: RedisClient,
  shards: readonly ShardKeys[],
  shardOf: ShardOf,
  query: { lat: number; lon: number; radiusM: number; limit: number },
): Promise<NearbyResult[]> {
  const perShard = await Promise.all(
    shards.map(
      (keys) =>
        redis.call(
          'GEOSEARCH',
          keys.geo,
          'FROMLONLAT',
          query.lon,
          clampGeoLat(query.lat),
          'BYRADIUS',
          query.radiusM,
          'm',
          'ASC',
          'COUNT',
          query.limit,
          'WITHDIST',
        ) as Promise<[string, string][]>,
    ),
  );
  const hits = perShard
    .flat()
    .map(([id, dist]) => ({ id, distanceM: Number(dist) }))
    .sort((a, b) => a.distanceM - b.distanceM || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .slice(0, query.limit);
  const states = await fetchStates(
    redis,
    shardOf,
    hits.map((h) => h.id),
  );
  const out: NearbyResult[] = [];
  hits.forEach(({ distanceM }, i) => {
    const vehicle = states[i];
    if (vehicle) out.push({ vehicle, distanceM });
  });
  return out;
}

/** Stalest first over every shard: each shard's `limit` stalest, merged by event time, then id. */
export async function staleAcrossShards(
  redis: RedisClient,
  shards: readonly ShardKeys[],
  shardOf: ShardOf,
  olderThan: number,
  limit: number,
): Promise<VehicleState[]> {
  const perShard = await Promise.all(
    shards.map((keys) =>
      redis.zrange(keys.seen, '-inf', `(${olderThan}`, 'BYSCORE', 'LIMIT', 0, limit, 'WITHSCORES'),
    ),
  );
  const entries: { id: string; ts: number }[] = [];
  for (const flat of perShard) {
    for (let i = 0; i < flat.length; i += 2) entries.push({ id: flat[i]!, ts: Number(flat[i + 1]) });
  }
  entries.sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const ids = entries.slice(0, limit).map((e) => e.id);
  return (await fetchStates(redis, shardOf, ids)).filter((s) => s !== null);
}
