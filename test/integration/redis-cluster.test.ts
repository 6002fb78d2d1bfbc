import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haversineM, inBox } from '../../src/domain/geo.js';
import type { Position } from '../../src/domain/position.js';
import { partitionForKey } from '../../src/kafka/partitioner.js';
import {
  startRedisCluster,
  stopRedisCluster,
  type LocalRedisCluster,
} from '../../src/local/redis-cluster.js';
import type { StateChange } from '../../src/state/latest-state-table.js';
import type { RedisStateTable } from '../../src/state/redis-state-table.js';
import { shardKeys } from '../../src/state/shard-keys.js';
import { createTestTopics, deleteTestTopics, eventually, testConfig } from '../support/env.js';
import {
  fleetPositions,
  fullyCommitted,
  newestPerVehicle,
  openTestStores,
  produce,
  type TestStores,
} from '../support/processor-env.js';

const PARTITIONS = 6;

describe('latest-state table on a local Redis Cluster (3 primaries) with two processors', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fleet-redis-cluster-'));
  let cluster: LocalRedisCluster;
  let config: ReturnType<typeof testConfig>;
  let stores: TestStores;
  let table: RedisStateTable;

  beforeAll(async () => {
    cluster = await startRedisCluster({ dir, primaries: 3 });
    config = testConfig({
      REDIS_CLUSTER_NODES: cluster.nodes.join(','),
      TOPIC_PARTITIONS: String(PARTITIONS),
      BATCH_MAX_WAIT_MS: '200',
    });
    await createTestTopics(config);
    // State only: the processors write no warehouse and no dead letters.
    stores = await openTestStores(config, {
      table: { partitions: PARTITIONS },
      processor: { warehouse: null, deadLetters: null },
    });
    table = stores.table;
  }, 120_000);

  afterAll(async () => {
    await table?.clear().catch(() => undefined);
    await stores?.close();
    await deleteTestTopics(config);
    if (cluster) await stopRedisCluster(cluster);
    rmSync(dir, { recursive: true, force: true });
  });

  it('every vehicle readable by id; list, bbox and nearby equal a brute-force answer; changes from every shard', async () => {
    // Shards are spread over the primaries: the six {p<n>} slots are served by more than one node.
    const admin = new Cluster(
      cluster.nodes.slice(0, 1).map((n) => ({ host: '127.0.0.1', port: Number(n.split(':')[1]) })),
    );
    try {
      await admin.ping();
      const owners = new Set<string>();
      for (let p = 0; p < PARTITIONS; p++) {
        const slot = Number(await admin.call('CLUSTER', 'KEYSLOT', shardKeys(config.redis.prefix, p).states));
        const node = admin.slots[slot]?.[0];
        if (node) owners.add(node);
      }
      expect(owners.size).toBeGreaterThan(1);
    } finally {
      admin.disconnect();
    }

    const changes: StateChange[] = [];
    const unsubscribe = await table.subscribe((c) => changes.push(c));
    const processors = stores.processors;
    let produced: Position[];
    try {
      await stores.startProcessor();
      await stores.startProcessor();
      const positions = fleetPositions(300, 4);
      // A late report per vehicle arrives last: forward-only must keep the newer one.
      const late = positions.slice(0, 300).map((p) => ({ ...p, ts: p.ts - 60_000, lat: 0, lon: 0 }));
      produced = [...positions, ...late];
      await produce(config, produced, { chunk: 400 });
      await eventually(() => fullyCommitted(config), 60_000);
      expect(processors.every((p) => p.source.recordsRead > 0)).toBe(true);
    } finally {
      for (const p of processors) await p.stop();
    }

    const expected = newestPerVehicle(produced);
    const ids = [...expected.keys()].sort();
    expect(ids.length).toBe(300);
    expect(new Set(ids.map((id) => partitionForKey(id, PARTITIONS))).size).toBe(PARTITIONS);

    const states = await table.getMany(ids);
    states.forEach((s, i) => expect(s, ids[i]).toMatchObject(pick(expected.get(ids[i]!)!)));
    for (const id of ids.slice(0, 20)) expect(await table.get(id)).toMatchObject(pick(expected.get(id)!));
    expect(await table.count()).toBe(300);

    const listed: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await table.list({ limit: 41, ...(cursor ? { cursor } : {}) });
      expect(page.total).toBe(300);
      listed.push(...page.vehicles.map((v) => v.vehicleId));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(listed).toEqual(ids);

    const all = [...expected.values()];
    const box = { minLat: 48.5, maxLat: 49.5, minLon: 11.5, maxLon: 12.5 };
    const inside = all
      .filter((p) => inBox(p.lat, p.lon, box))
      .map((p) => p.vehicleId)
      .sort();
    expect(inside.length).toBeGreaterThan(20);
    const boxed = await table.list({ bbox: box, limit: 1000 });
    expect(boxed.vehicles.map((v) => v.vehicleId)).toEqual(inside);

    const centre = { lat: 49.2, lon: 11.9 };
    const nearest = all
      .map((p) => ({ id: p.vehicleId, d: haversineM(centre.lat, centre.lon, p.lat, p.lon) }))
      .filter((e) => e.d <= 60_000)
      .sort((a, b) => a.d - b.d)
      .slice(0, 40);
    expect(nearest.length).toBe(40);
    const hits = await table.nearby({ ...centre, radiusM: 60_000, limit: 40 });
    expect(hits.map((h) => h.vehicle.vehicleId)).toEqual(nearest.map((e) => e.id));

    await unsubscribe();
    const changedShards = new Set(changes.map((c) => partitionForKey(c.vehicleId, PARTITIONS)));
    expect(changedShards.size).toBe(PARTITIONS);
  }, 180_000);
});

function pick(p: Position) {
  return { vehicleId: p.vehicleId, ts: p.ts, lat: p.lat, lon: p.lon };
}
