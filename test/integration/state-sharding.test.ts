import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { haversineM, inBox } from '../../src/domain/geo.js';
import type { PositionRecord } from '../../src/domain/records.js';
import { partitionForKey } from '../../src/kafka/partitioner.js';
import type { VehicleState } from '../../src/state/latest-state-table.js';
import { createRedisStateTable, type RedisStateTable } from '../../src/state/redis-state-table.js';
import { layoutKey, legacyKeys, shardKeys } from '../../src/state/shard-keys.js';
import { REBUILD_COMMAND, TableLayoutError } from '../../src/state/table-layout.js';
import { testConfig, testRedis, uniqueSuffix } from '../support/env.js';

const T0 = Date.UTC(2030, 0, 1);
const opened: RedisStateTable[] = [];

function openTable(prefix: string, partitions: number): RedisStateTable {
  const config = testConfig();
  const table = createRedisStateTable({ ...config.redis, prefix, partitions, registry: new Registry() });
  opened.push(table);
  return table;
}

afterEach(async () => {
  for (const table of opened.splice(0)) {
    await table.clear().catch(() => undefined);
    await table.close();
  }
});

/** `n` vehicles on a grid around Berlin, each with a few reports; the last one is the newest. */
function fleet(n: number): { records: PositionRecord[]; newest: Map<string, PositionRecord> } {
  const records: PositionRecord[] = [];
  const newest = new Map<string, PositionRecord>();
  let offset = 0;
  for (let round = 0; round < 3; round++) {
    for (let v = 0; v < n; v++) {
      const id = `car-${v}`;
      const r: PositionRecord = {
        topic: 't',
        topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
        partition: partitionForKey(id, 4),
        offset: String(offset++),
        kafkaTs: T0,
        bytes: 1,
        position: {
          vehicleId: id,
          ts: T0 + round * 1000 + (v % 7),
          lat: 52.3 + (v % 20) * 0.01 + round * 0.001,
          lon: 13.2 + Math.floor(v / 20) * 0.01 - round * 0.001,
        },
      };
      records.push(r);
      newest.set(id, r);
    }
  }
  return { records, newest };
}

async function allPages(table: RedisStateTable, query: Parameters<RedisStateTable['list']>[0]) {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await table.list({ ...query, ...(cursor ? { cursor } : {}) });
    ids.push(...page.vehicles.map((v) => v.vehicleId));
    if (page.nextCursor === null) return { ids, total: page.total };
    cursor = page.nextCursor;
  }
}

describe('partition-sharded latest-state table', () => {
  it('keeps every key under a partition hash tag, each vehicle in its partition’s shard', async () => {
    const prefix = `shard:${uniqueSuffix()}:`;
    const table = openTable(prefix, 4);
    const { records, newest } = fleet(200);
    await table.upsert(records);
    await table.verifyLayout();
    const redis = testRedis(testConfig());
    try {
      const keys = await redis.keys(`${prefix}*`);
      const untagged = keys.filter((k) => !/\{p[0-3]\}:/.test(k) && k !== layoutKey(prefix));
      expect(untagged).toEqual([]);
      for (let p = 0; p < 4; p++) {
        const ids = await redis.zrange(shardKeys(prefix, p).ids, '0', '-1');
        expect(ids.length).toBeGreaterThan(20); // 200 vehicles spread over every shard
        for (const id of ids) expect(partitionForKey(id, 4)).toBe(p);
      }
      expect(await redis.get(layoutKey(prefix))).toBe('4');
    } finally {
      redis.disconnect();
    }
    for (const [id, want] of newest) expect((await table.get(id))?.ts).toBe(want.position.ts);
    expect(await table.count()).toBe(200);
  });

  it('list, bbox, nearby and stale over all shards equal a brute-force answer', async () => {
    const table = openTable(`shard:${uniqueSuffix()}:`, 4);
    const { records, newest } = fleet(230);
    // Batches of mixed vehicles, in an order that mixes rounds: forward-only keeps the newest.
    for (let i = records.length; i > 0; i -= 97) await table.upsert(records.slice(Math.max(0, i - 97), i));
    const expected = [...newest.values()].map((r) => r.position);
    const sortedIds = expected.map((p) => p.vehicleId).sort();

    const listed = await allPages(table, { limit: 17 });
    expect(listed).toEqual({ ids: sortedIds, total: 230 });

    const box = { minLat: 52.33, maxLat: 52.42, minLon: 13.25, maxLon: 13.31 };
    const inside = expected
      .filter((p) => inBox(p.lat, p.lon, box))
      .map((p) => p.vehicleId)
      .sort();
    expect(inside.length).toBeGreaterThan(10);
    expect(await allPages(table, { bbox: box, limit: 7 })).toEqual({ ids: inside, total: inside.length });

    const centre = { lat: 52.4, lon: 13.3 };
    const byDistance = expected
      .map((p) => ({ id: p.vehicleId, d: haversineM(centre.lat, centre.lon, p.lat, p.lon) }))
      .filter((e) => e.d <= 5000)
      .sort((a, b) => a.d - b.d);
    const hits = await table.nearby({ ...centre, radiusM: 5000, limit: 25 });
    expect(hits.map((h) => h.vehicle.vehicleId)).toEqual(byDistance.slice(0, 25).map((e) => e.id));
    hits.forEach((h, i) => expect(Math.abs(h.distanceM - byDistance[i]!.d)).toBeLessThan(1));

    const cutoff = T0 + 2000 + 3;
    const stale = expected
      .filter((p) => p.ts < cutoff)
      .sort((a, b) => a.ts - b.ts || (a.vehicleId < b.vehicleId ? -1 : 1))
      .map((p) => p.vehicleId);
    expect(stale.length).toBeGreaterThan(30);
    expect((await table.stale(cutoff, 30)).map((v: VehicleState) => v.vehicleId)).toEqual(stale.slice(0, 30));
  });

  it('refuses the old unsharded layout and another partition count, naming the rebuild command', async () => {
    const config = testConfig();
    const prefix = `shard:${uniqueSuffix()}:`;
    const redis = testRedis(config);
    try {
      await redis.hset(legacyKeys(prefix)[0]!, 'v', '{}');
      const legacy = openTable(prefix, 3);
      const err = await legacy.verifyLayout().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TableLayoutError);
      expect(String((err as Error).message)).toContain(REBUILD_COMMAND);
      expect(await legacy.layout()).toEqual({ kind: 'legacy' });
      await legacy.clear();
      expect(await redis.exists(legacyKeys(prefix)[0]!)).toBe(0);

      await legacy.verifyLayout(); // empty: marked for 3 partitions
      await legacy.upsert(fleet(30).records);
      const grown = openTable(prefix, 6);
      await expect(grown.verifyLayout()).rejects.toThrow(/built for 3 partitions but the topic has 6/);
      // A clear removes every shard of the old count; the new count then starts empty.
      await grown.clear();
      expect(await redis.keys(`${prefix}*`)).toEqual([]);
      await grown.verifyLayout();
      expect(await grown.layout()).toEqual({ kind: 'current', partitions: 6 });
    } finally {
      redis.disconnect();
    }
  });
});
