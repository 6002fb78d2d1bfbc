import type { RawShard } from './redis-table.js';
import type { TopicRecord } from './topic.js';

/**
 * How far each partition's committed offset may move while Redis is down, derived from Redis itself
 * rather than from timing. The processor is paused (SIGSTOP) and the raw table read just before
 * Redis is killed: each shard then holds records up to some offset `held` of its partition (the
 * highest offset in its `versions` hash; a partition's chunks are written in offset order). A record
 * after `held` whose upsert would have changed the table (a newer event time than the state held
 * for its vehicle, or a vehicle the table did not hold) cannot be in Redis, so no commit may pass
 * it until Redis is back: the bound is its offset. Records after `held` that are late for their
 * vehicle change nothing and may be committed (their chunk reached Redis and was refused as old).
 */
export interface OutageBound {
  partition: number;
  /** Highest offset the shard held when Redis was killed (-1: none). */
  held: bigint;
  /** The committed offset must stay ≤ this (the first record Redis cannot have); undefined: none after `held`. */
  bound: bigint | undefined;
}

export function outageBounds(snapshot: readonly RawShard[], records: readonly TopicRecord[]): OutageBound[] {
  const bounds: OutageBound[] = [];
  for (const shard of snapshot) {
    let held = -1n;
    for (const version of Object.values(shard.versions)) {
      const [partition, offset] = version.split(':');
      if (Number(partition) === shard.partition && BigInt(offset!) > held) held = BigInt(offset!);
    }
    let bound: bigint | undefined;
    for (const r of records) {
      if (r.partition !== shard.partition || !r.position) continue;
      const offset = BigInt(r.offset);
      if (offset <= held || (bound !== undefined && offset >= bound)) continue;
      const seen = shard.seen.get(r.position.vehicleId);
      const version = shard.versions[r.position.vehicleId];
      const heldOffset = version?.startsWith(`${shard.partition}:`) ? BigInt(version.split(':')[1]!) : -1n;
      const changes =
        seen === undefined || r.position.ts > seen || (r.position.ts === seen && offset > heldOffset);
      if (changes) bound = offset;
    }
    bounds.push({ partition: shard.partition, held, bound });
  }
  return bounds;
}

/** `committed` as `committedOffsets` prints it (`0:120,1:98`), checked against the bounds. */
export function commitsWithinBounds(
  committed: string,
  bounds: readonly OutageBound[],
): { ok: boolean; detail: string } {
  const at = new Map(
    committed
      .split(',')
      .filter(Boolean)
      .map((entry) => {
        const [p, o] = entry.split(':');
        return [Number(p), BigInt(o!)] as const;
      }),
  );
  const over: string[] = [];
  const parts: string[] = [];
  for (const b of bounds) {
    const c = at.get(b.partition);
    parts.push(`p${b.partition} held ≤${b.held}, committed ${c ?? 'none'}, bound ${b.bound ?? 'none'}`);
    if (c !== undefined && c >= 0n && b.bound !== undefined && c > b.bound) over.push(`p${b.partition}`);
  }
  return {
    ok: over.length === 0,
    detail: `${over.length ? `committed past what Redis held: ${over.join(', ')}; ` : ''}${parts.join('; ')}`,
  };
}
