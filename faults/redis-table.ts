import { Cluster, Redis } from 'ioredis';
import type { Position } from '../src/domain/position.js';
import { POSITION_FIELDS } from '../src/domain/position-avro.js';

/**
 * The latest-state table read with raw Redis commands on the key layout of docs/state.md (not
 * through src/state), and compared with the newest position of every vehicle on the topic.
 */

/** One shard (`<prefix>{p<n>}:…`) as stored. */
export interface RawShard {
  partition: number;
  /** `states` hash: vehicle id → state JSON. */
  states: Record<string, string>;
  /** `versions` hash: vehicle id → `partition:offset`. */
  versions: Record<string, string>;
  /** `seen` sorted set: vehicle id → event time. */
  seen: Map<string, number>;
  /** `ids` sorted set members. */
  ids: Set<string>;
  /** `geo` set: vehicle id → [lon, lat] as Redis returns it. */
  geo: Map<string, [number, number] | null>;
}

/**
 * Every shard of the table, read raw: from the single Redis at `url`, or (with `clusterNodes`, as
 * REDIS_CLUSTER_NODES lists them) from the Redis Cluster's primaries, each key where its slot lives.
 */
export async function readRawTable(
  url: string,
  prefix: string,
  partitions: number,
  clusterNodes: readonly string[] = [],
): Promise<RawShard[]> {
  const redis =
    clusterNodes.length === 0
      ? new Redis(url, { maxRetriesPerRequest: 2, lazyConnect: true })
      : new Cluster(
          clusterNodes.map((node) => {
            const at = node.lastIndexOf(':');
            return { host: node.slice(0, at), port: Number(node.slice(at + 1)) };
          }),
          { lazyConnect: true, redisOptions: { maxRetriesPerRequest: 2 } },
        );
  redis.on('error', () => undefined);
  await redis.connect();
  try {
    const shards: RawShard[] = [];
    for (let partition = 0; partition < partitions; partition++) {
      const base = `${prefix}{p${partition}}:`;
      const [states, versions, seen, ids, geoMembers] = await Promise.all([
        redis.hgetall(`${base}states`),
        redis.hgetall(`${base}versions`),
        redis.zrange(`${base}seen`, '0', '-1', 'WITHSCORES'),
        redis.zrange(`${base}ids`, '0', '-1'),
        redis.zrange(`${base}geo`, '0', '-1'),
      ]);
      const positions = geoMembers.length ? await redis.geopos(`${base}geo`, ...geoMembers) : [];
      const seenMap = new Map<string, number>();
      for (let i = 0; i < seen.length; i += 2) seenMap.set(seen[i]!, Number(seen[i + 1]));
      const geo = new Map<string, [number, number] | null>();
      geoMembers.forEach((id, i) => {
        const at = positions[i];
        geo.set(id, at ? [Number(at[0]), Number(at[1])] : null);
      });
      shards.push({ partition, states, versions, seen: seenMap, ids: new Set(ids), geo });
    }
    return shards;
  } finally {
    redis.disconnect();
  }
}

/** The position a vehicle's table entry must hold, and the Kafka record it came from. */
export interface ExpectedState {
  position: Position;
  partition: number;
  offset: string;
}

/**
 * Newest position per vehicle by the table's forward-only rule: later event time wins; at an
 * equal event time a higher offset of the same partition wins.
 */
export function newestPerVehicle(
  records: Iterable<{ partition: number; offset: string; position?: Position }>,
): Map<string, ExpectedState> {
  const out = new Map<string, ExpectedState>();
  for (const r of records) {
    if (!r.position) continue;
    const held = out.get(r.position.vehicleId);
    const newer =
      !held ||
      r.position.ts > held.position.ts ||
      (r.position.ts === held.position.ts &&
        r.partition === held.partition &&
        BigInt(r.offset) > BigInt(held.offset));
    if (newer)
      out.set(r.position.vehicleId, { position: r.position, partition: r.partition, offset: r.offset });
  }
  return out;
}

/**
 * Vehicles whose last-written record is not their newest position (a late report written last):
 * what compaction of the topic keeps for them is older than what the table must hold, so only a
 * restore from the changelog can be right for them.
 */
export function lateWrittenLast(
  records: readonly { partition: number; offset: string; position?: Position }[],
): string[] {
  const last = new Map<string, { offset: bigint; ts: number }>();
  for (const r of records) {
    if (!r.position) continue;
    const held = last.get(r.position.vehicleId);
    const offset = BigInt(r.offset);
    if (!held || offset > held.offset) last.set(r.position.vehicleId, { offset, ts: r.position.ts });
  }
  const newest = newestPerVehicle(records);
  return [...last].filter(([id, l]) => l.ts < newest.get(id)!.position.ts).map(([id]) => id);
}

export interface TableVerdict {
  vehicles: number;
  /** Vehicles whose state is absent (from its shard). */
  missing: number;
  /** Vehicles whose state differs from the newest position (any field, or its offset). */
  wrong: number;
  /** Entries of vehicles with no valid record on the topic (or in another shard). */
  stray: number;
  /** Vehicles whose GEO, last-seen, ids or versions entry disagrees with its state. */
  indexes: number;
  ok: boolean;
  sample: string[];
}

// GEO stores 52-bit geohashes: about 0.6 m of error; latitudes beyond ±85.05° are clamped.
const GEO_TOLERANCE_DEG = 1e-4;
const GEO_MAX_LAT = 85.05112878;

function stateDiff(expected: ExpectedState, json: string): string | undefined {
  let state: Record<string, unknown>;
  try {
    state = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return 'state is not JSON';
  }
  const p = expected.position as unknown as Record<string, unknown>;
  for (const field of POSITION_FIELDS) {
    const [held, want] = [JSON.stringify(state[field]), JSON.stringify(p[field])];
    if (held !== want) return `${field} ${held} ≠ ${want}`;
  }
  if (Number(state.partition) !== expected.partition || String(state.offset) !== expected.offset)
    return `record ${String(state.partition)}:${String(state.offset)} ≠ ${expected.partition}:${expected.offset}`;
  return undefined;
}

function indexDiff(shard: RawShard, id: string, e: ExpectedState): string | undefined {
  const { lat, lon, ts } = e.position;
  if (shard.seen.get(id) !== ts) return `last-seen ${shard.seen.get(id)} ≠ ts ${ts}`;
  if (!shard.ids.has(id)) return 'not in ids';
  if (shard.versions[id] !== `${e.partition}:${e.offset}`)
    return `version ${shard.versions[id]} ≠ ${e.partition}:${e.offset}`;
  const at = shard.geo.get(id);
  const indexedLat = Math.max(-GEO_MAX_LAT, Math.min(GEO_MAX_LAT, lat));
  if (!at || Math.abs(at[0] - lon) > GEO_TOLERANCE_DEG || Math.abs(at[1] - indexedLat) > GEO_TOLERANCE_DEG)
    return `GEO ${at ? `${at[1]},${at[0]}` : 'absent'} ≠ ${lat},${lon}`;
  return undefined;
}

/** Every vehicle's state, GEO, last-seen, ids and versions entry against its newest position. */
export function checkRawTable(
  expected: ReadonlyMap<string, ExpectedState>,
  shards: readonly RawShard[],
): TableVerdict {
  let missing = 0;
  let wrong = 0;
  let stray = 0;
  let indexes = 0;
  const sample: string[] = [];
  const note = (line: string) => sample.length < 6 && sample.push(line);
  const byPartition = new Map(shards.map((s) => [s.partition, s]));
  for (const [id, e] of expected) {
    const shard = byPartition.get(e.partition);
    const json = shard?.states[id];
    if (!shard || json === undefined) {
      missing++;
      note(
        `${id}: no state in shard ${e.partition}, newest is ${e.partition}:${e.offset} @ ${e.position.ts}`,
      );
      continue;
    }
    const diff = stateDiff(e, json);
    if (diff) {
      wrong++;
      note(`${id}: state ${diff}`);
    }
    const index = indexDiff(shard, id, e);
    if (index) {
      indexes++;
      note(`${id}: ${index}`);
    }
  }
  for (const shard of shards) {
    const ids = new Set([
      ...Object.keys(shard.states),
      ...shard.seen.keys(),
      ...shard.ids,
      ...shard.geo.keys(),
      ...Object.keys(shard.versions),
    ]);
    for (const id of ids) {
      if (expected.get(id)?.partition === shard.partition) continue;
      stray++;
      note(`${id}: entry in shard ${shard.partition} but no newest position there`);
    }
  }
  const ok = missing === 0 && wrong === 0 && stray === 0 && indexes === 0;
  return { vehicles: expected.size, missing, wrong, stray, indexes, ok, sample };
}

export function describeTable(v: TableVerdict): string {
  return `${v.vehicles} vehicles: missing ${v.missing}, state ≠ newest ${v.wrong}, indexes disagree ${v.indexes}, stray ${v.stray}${v.sample.length ? `; ${v.sample.join('; ')}` : ''}`;
}
