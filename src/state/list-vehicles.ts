import { EARTH_RADIUS_M, inBox, type BoundingBox } from '../domain/geo.js';
import { VEHICLE_ID_PATTERN } from '../domain/position.js';
import { ValidationError } from '../errors.js';
import type { ListQuery } from './latest-state-table.js';
import type { RedisClient } from './redis-connection.js';
import type { ShardKeys } from './shard-keys.js';

export interface IdPage {
  ids: string[];
  nextCursor: string | null;
  total: number;
}

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

/** Cursors are the last id of the previous page, base64url-encoded (opaque to clients). */
export function encodeCursor(lastId: string): string {
  return Buffer.from(lastId, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!VEHICLE_ID_PATTERN.test(id)) {
    throw new ValidationError([{ path: 'cursor', message: 'is not a cursor returned by a previous page' }]);
  }
  return id;
}

/**
 * One page of vehicle ids ordered by id, over every shard. The cursor is the last id of the page,
 * so it needs no per-shard position: each shard continues after that id, and the merge of every
 * shard's next `limit + 1` ids in id order is the next page (stable under concurrent inserts).
 * Without filters each shard walks its `ids` ZSET by lex range (O(log n + page)). With filters every
 * match is found first (GEOSEARCH BYBOX, `seen` scores), because the page needs `total`.
 */
export async function listVehicles(
  redis: RedisClient,
  shards: readonly ShardKeys[],
  query: ListQuery,
): Promise<IdPage> {
  const limit = Math.max(1, Math.min(Math.trunc(query.limit ?? DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE));
  const after = query.cursor ? decodeCursor(query.cursor) : undefined;
  if (query.bbox === undefined && query.maxAgeMs === undefined) {
    const perShard = await Promise.all(
      shards.map((keys) =>
        Promise.all([
          redis.zcard(keys.ids),
          redis.zrange(
            keys.ids,
            after === undefined ? '-' : `(${after}`,
            '+',
            'BYLEX',
            'LIMIT',
            0,
            limit + 1,
          ),
        ]),
      ),
    );
    const ids = perShard.flatMap(([, page]) => page).sort();
    const total = perShard.reduce((sum, [n]) => sum + n, 0);
    const page = ids.slice(0, limit);
    return { ids: page, nextCursor: ids.length > limit ? encodeCursor(page.at(-1)!) : null, total };
  }
  const matches = (await Promise.all(shards.map((keys) => matchingIds(redis, keys, query)))).flat();
  matches.sort();
  const start = after === undefined ? 0 : firstAfter(matches, after);
  const page = matches.slice(start, start + limit);
  const more = start + limit < matches.length;
  return { ids: page, nextCursor: more ? encodeCursor(page.at(-1)!) : null, total: matches.length };
}

async function matchingIds(redis: RedisClient, keys: ShardKeys, query: ListQuery): Promise<string[]> {
  const minTs = query.maxAgeMs === undefined ? undefined : (query.now ?? Date.now()) - query.maxAgeMs;
  if (query.bbox === undefined) {
    return redis.zrange(keys.seen, minTs!, '+inf', 'BYSCORE');
  }
  const inside = await idsInBox(redis, keys.geo, query.bbox);
  if (minTs === undefined || inside.length === 0) return inside;
  const scores = await redis.zmscore(keys.seen, inside);
  return inside.filter((_, i) => scores[i] !== null && Number(scores[i]) >= minTs);
}

const M_PER_DEG = (Math.PI / 180) * EARTH_RADIUS_M;

/**
 * GEOSEARCH BYBOX measures a metric box around the centre (longitude distance at each point's own
 * latitude), so a box wide enough at the latitude nearest the equator covers the whole lat/lon
 * box; the exact test then runs on the returned coordinates.
 */
async function idsInBox(redis: RedisClient, geoKey: string, box: BoundingBox): Promise<string[]> {
  const centreLat = (box.minLat + box.maxLat) / 2;
  const centreLon = (box.minLon + box.maxLon) / 2;
  const nearestEquator =
    box.minLat <= 0 && box.maxLat >= 0 ? 0 : Math.min(Math.abs(box.minLat), Math.abs(box.maxLat));
  const widthM =
    (box.maxLon - box.minLon) * M_PER_DEG * Math.cos((nearestEquator * Math.PI) / 180) * 1.01 + 2;
  const heightM = (box.maxLat - box.minLat) * M_PER_DEG * 1.01 + 2;
  const hits = (await redis.call(
    'GEOSEARCH',
    geoKey,
    'FROMLONLAT',
    centreLon,
    clampGeoLat(centreLat),
    'BYBOX',
    widthM,
    heightM,
    'm',
    'WITHCOORD',
  )) as [string, [string, string]][];
  return hits.filter(([, [lon, lat]]) => inBox(Number(lat), Number(lon), box)).map(([id]) => id);
}

/** Redis GEO covers latitudes up to ±85.05112878 (Web Mercator); the polar caps are clamped. */
export const clampGeoLat = (lat: number) => Math.max(-85.05112877, Math.min(85.05112877, lat));

/** Index of the first id greater than `after` in a sorted array. */
function firstAfter(sorted: readonly string[], after: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
