/** The keys of one shard of the table (all under the table's prefix, all in one cluster slot). */
export interface ShardKeys {
  shard: number;
  /** HASH id → state JSON. */
  states: string;
  /** HASH id → `partition:offset` of the state. */
  versions: string;
  /** GEO set of the shard's vehicles. */
  geo: string;
  /** ZSET id → event ts. */
  seen: string;
  /** ZSET id (score 0), for id-ordered pages. */
  ids: string;
  /** Change feed of the shard (sharded pub/sub on a cluster). */
  channel: string;
}

/**
 * Shard `p` holds the vehicles whose key Kafka's partitioner puts in partition `p`. Its keys carry
 * `{p<p>}` as a hash tag, so a cluster keeps each shard in one slot (one Lua call per chunk
 * touches one slot) and spreads the shards over its primaries.
 */
export function shardKeys(prefix: string, shard: number): ShardKeys {
  const base = `${prefix}{p${shard}}:`;
  return {
    shard,
    states: `${base}states`,
    versions: `${base}versions`,
    geo: `${base}geo`,
    seen: `${base}seen`,
    ids: `${base}ids`,
    channel: `${base}changes`,
  };
}

/** The layout marker: the partition count the table was built for (a string key). */
export const layoutKey = (prefix: string) => `${prefix}layout`;

/** Keys of the unsharded layout (before issue 16): whole-table keys straight under the prefix. */
export const legacyKeys = (prefix: string) => [
  `${prefix}states`,
  `${prefix}versions`,
  `${prefix}geo`,
  `${prefix}seen`,
  `${prefix}ids`,
];
