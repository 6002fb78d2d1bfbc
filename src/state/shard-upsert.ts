import type { ChainableCommander } from 'ioredis';
import { VEHICLE_ID_PATTERN } from '../domain/position.js';
import type { PositionRecord } from '../domain/records.js';
import { SinkError } from '../errors.js';
import { partitionForKey } from '../kafka/partitioner.js';
import { newestPerVehicle } from './newest-per-vehicle.js';
import type { RedisClient } from './redis-connection.js';
import type { ShardKeys } from './shard-keys.js';
import { encodeRecord, stateJson } from './upsert-script.js';

interface UpsertCommander {
  upsertLatest(numKeys: number, args: string[]): unknown;
}

export interface ShardUpsert {
  /** Records per Lua call. */
  chunkSize: number;
  /** `updatedAt` of every state written. */
  updatedAt: number;
  /** Publish with SPUBLISH (a cluster). */
  sharded: boolean;
  /** Ask the script which records are current (see `UPSERT_LUA`). */
  current: boolean;
}

/** What `upsertShards` hands to the caller's pipeline runner. */
export type RunPipelines = (pipelines: readonly ChainableCommander[]) => Promise<unknown[][]>;

/**
 * The batch's newest record per vehicle, grouped by shard, in chunks of one Lua call each: one
 * pipeline on one Redis, one per shard on a cluster (a pipeline may not span nodes). Resolves to
 * the applied count and, with `current`, the records that are their vehicle's state afterwards and
 * their state JSON as written (`states[i]` is `current[i]`'s).
 */
export async function upsertShards(
  client: RedisClient,
  shards: readonly ShardKeys[],
  batch: readonly PositionRecord[],
  options: ShardUpsert,
  run: RunPipelines,
): Promise<{ applied: number; current: PositionRecord[]; states: string[] }> {
  const byShard = new Map<ShardKeys, PositionRecord[]>();
  for (const record of newestPerVehicle(batch)) {
    const keys = shards[partitionForKey(storableId(record), shards.length)]!;
    const group = byShard.get(keys);
    if (group) group.push(record);
    else byShard.set(keys, [record]);
  }
  const one = options.sharded ? undefined : client.pipeline();
  const pipelines: ChainableCommander[] = one ? [one] : [];
  const chunks: PositionRecord[][] = [];
  // With `current`, each record's state JSON is kept for the changelog (one stringify per record).
  const chunkStates: string[][] = [];
  for (const [keys, records] of byShard) {
    const pipeline = one ?? client.pipeline();
    if (!one) pipelines.push(pipeline);
    for (let start = 0; start < records.length; start += options.chunkSize) {
      const chunk = records.slice(start, start + options.chunkSize);
      chunks.push(chunk);
      let fields = '';
      if (options.current) {
        const states = chunk.map((record) => stateJson(record, options.updatedAt));
        chunkStates.push(states);
        chunk.forEach((record, i) => (fields += encodeRecord(record, options.updatedAt, states[i])));
      } else {
        for (const record of chunk) fields += encodeRecord(record, options.updatedAt);
      }
      const args = [keys.geo, keys.seen, keys.ids, keys.states, keys.versions, keys.channel, fields];
      args.push(options.sharded ? '1' : '0', options.current ? '1' : '0');
      (pipeline as ChainableCommander & UpsertCommander).upsertLatest(5, args);
    }
  }
  // Pipelines answer in the order their calls were queued, and `chunks` follows that order.
  const replies = (await run(pipelines)).flat();
  let applied = 0;
  const current: PositionRecord[] = [];
  const states: string[] = [];
  replies.forEach((reply, c) => {
    if (!Array.isArray(reply)) {
      applied += Number(reply);
      return;
    }
    applied += Number(reply[0]);
    for (const index of reply.slice(1)) {
      current.push(chunks[c]![Number(index) - 1]!);
      states.push(chunkStates[c]![Number(index) - 1]!);
    }
  });
  return { applied, current, states };
}

/** Ids become key suffixes, GEO members and hand-built JSON: only the validated alphabet is safe. */
function storableId(record: PositionRecord): string {
  const id = record.position.vehicleId;
  if (!VEHICLE_ID_PATTERN.test(id)) {
    throw new SinkError('redis', `vehicle id ${JSON.stringify(id.slice(0, 64))} is not storable`, {
      retriable: false,
    });
  }
  return id;
}
