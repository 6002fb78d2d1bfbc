import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type RunningApiServer } from '../../src/api/server.js';
import type { Config } from '../../src/config/index.js';
import type { Position } from '../../src/domain/position.js';
import { partitionForKey } from '../../src/kafka/partitioner.js';
import {
  startRedisCluster,
  stopRedisCluster,
  type LocalRedisCluster,
} from '../../src/local/redis-cluster.js';
import type { VehicleState } from '../../src/state/latest-state-table.js';
import { createRedisStateTable, type RedisStateTable } from '../../src/state/redis-state-table.js';
import { ReplicatedStateTable } from '../../src/state/replicated-state-table.js';
import {
  clearRedisPrefix,
  createTestTopics,
  deleteTestTopics,
  eventually,
  testConfig,
} from '../support/env.js';
import {
  fleetPositions,
  newestPerVehicle,
  openTestStores,
  produce,
  type TestStores,
} from '../support/processor-env.js';

const PARTITIONS = 3;
const VEHICLES = 20;

/**
 * `fleet serve`'s read path with the in-memory replica, on the real pipeline (Kafka → processor →
 * Redis), on one Redis and on a Redis Cluster: the API's answers by id must equal what Redis holds,
 * through new positions, a late (older) one, and a killed subscriber connection whose changes are
 * lost on the wire.
 */
describe.each(['redis', 'cluster'] as const)('state replica behind GET /v1/vehicles/:id (%s)', (target) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fleet-replica-'));
  let cluster: LocalRedisCluster | undefined;
  let config: Readonly<Config>;
  let stores: TestStores;
  let apiTable: RedisStateTable;
  let replica: ReplicatedStateTable;
  let server: RunningApiServer;
  let registry: Registry;

  const apiGet = async (id: string): Promise<VehicleState | null> => {
    const res = await fetch(`${server.url}/v1/vehicles/${id}`);
    if (res.status === 404) return null;
    expect(res.status).toBe(200);
    const {
      ageMs: _age,
      stale: _stale,
      ...state
    } = (await res.json()) as VehicleState & {
      ageMs: number;
      stale: boolean;
    };
    return state;
  };
  /** Every vehicle's API answer equals Redis's state. */
  const apiEqualsRedis = async (ids: readonly string[]) => {
    for (const id of ids) {
      const [api, redis] = [await apiGet(id), await stores.table.get(id)];
      if (JSON.stringify(api) !== JSON.stringify(redis)) return false;
    }
    return true;
  };
  /** Clients of every node of the test's Redis (one, or each cluster node). */
  const nodes = () =>
    cluster
      ? cluster.processes.map((p) => new Redis(p.port, { maxRetriesPerRequest: 1 }))
      : [new Redis(config.redis.url, { maxRetriesPerRequest: 1 })];
  const losses = async () =>
    (await registry.getSingleMetric('fleet_state_replica_feed_losses_total')!.get()).values[0]?.value ?? 0;

  beforeAll(async () => {
    if (target === 'cluster') cluster = await startRedisCluster({ dir, primaries: 3 });
    config = testConfig({
      ...(cluster ? { REDIS_CLUSTER_NODES: cluster.nodes.join(',') } : {}),
      TOPIC_PARTITIONS: String(PARTITIONS),
      BATCH_MAX_WAIT_MS: '200',
      PORT: '0',
    });
    await createTestTopics(config);
    stores = await openTestStores(config, {
      table: { partitions: PARTITIONS },
      processor: { deadLetters: null },
    });
    await stores.startProcessor();
    // Before the replica starts: what it must load by scanning.
    const first = fleetPositions(VEHICLES, 3, `rep-${target}`);
    await produce(config, first);
    const newest = newestPerVehicle(first);
    await eventually(async () => (await stores.table.count()) === VEHICLES, 30_000);
    await eventually(
      async () => (await stores.table.get(`rep-${target}-0`))?.ts === newest.get(`rep-${target}-0`)!.ts,
    );

    registry = new Registry();
    apiTable = createRedisStateTable({ ...config.redis, partitions: PARTITIONS, registry });
    replica = new ReplicatedStateTable({
      table: apiTable,
      feed: apiTable.stateFeed(),
      maxVehicles: 10_000,
      registry,
      retryDelayMs: 50,
    });
    await replica.start();
    await replica.synced();
    server = await startApiServer({ config, table: replica, warehouse: stores.warehouse, registry });
  }, 180_000);

  afterAll(async () => {
    await server?.close();
    await replica?.close();
    await apiTable?.close();
    if (cluster) await stores?.table.clear().catch(() => undefined);
    await stores?.close();
    if (!cluster && config) await clearRedisPrefix(config);
    if (config) await deleteTestTopics(config);
    if (cluster) await stopRedisCluster(cluster);
    rmSync(dir, { recursive: true, force: true });
  });

  const ids = () => Array.from({ length: VEHICLES }, (_, v) => `rep-${target}-${v}`);

  it('loads the table by scanning, then follows new and late positions through the feed', async () => {
    expect(replica.phase).toBe('ready');
    expect(replica.size).toBe(VEHICLES);
    expect(await apiEqualsRedis(ids())).toBe(true);

    // Every vehicle moves on; then a late position (older than the one just written) for vehicle 0.
    const now = Date.now();
    const moved: Position[] = ids().map((id, v) => ({
      vehicleId: id,
      ts: now + v,
      lat: 50 + v / 100,
      lon: 8,
    }));
    await produce(config, moved);
    await produce(config, [{ vehicleId: `rep-${target}-0`, ts: now - 5_000, lat: 1, lon: 1 }]);
    await eventually(
      async () => (await stores.table.get(`rep-${target}-${VEHICLES - 1}`))?.ts === now + VEHICLES - 1,
    );
    await eventually(() => apiEqualsRedis(ids()), 10_000);
    expect((await apiGet(`rep-${target}-0`))?.lat).toBe(50);
    // Answered from memory: Redis moved behind the replica's back is not seen (only the feed is).
    expect(replica.phase).toBe('ready');
  });

  it('change-feed delay: from the upsert acknowledged by Redis to the replica holding it', async () => {
    const delays: number[] = [];
    for (let i = 0; i < 30; i++) {
      const id = `rep-${target}-${i % VEHICLES}`;
      const position: Position = { vehicleId: id, ts: Date.now() + 60_000 + i, lat: 10, lon: 10 };
      const partition = partitionForKey(id, PARTITIONS);
      await stores.table.upsert([
        {
          topic: config.topic.name,
          topicId: 't',
          position,
          partition,
          offset: String(10_000_000 + i),
          kafkaTs: 0,
          bytes: 1,
        },
      ]);
      const acked = performance.now();
      while ((await replica.get(id))?.ts !== position.ts) await new Promise((r) => setImmediate(r));
      delays.push(performance.now() - acked);
    }
    delays.sort((a, b) => a - b);
    console.log(
      `[${target}] feed delay after ack: p50 ${delays[15]!.toFixed(2)} ms, max ${delays.at(-1)!.toFixed(2)} ms`,
    );
    expect(delays.at(-1)!).toBeLessThan(1000);
  });

  it('a killed subscriber connection loses changes on the wire: the replica resyncs, the API never stays stale', async () => {
    const before = await losses();
    const admins = nodes();
    try {
      await Promise.all(admins.map((a) => a.call('CLIENT', 'KILL', 'TYPE', 'pubsub')));
    } finally {
      for (const a of admins) a.disconnect();
    }
    // Written while the subscriber is gone: Redis publishes to nobody.
    const gapTs = Date.now() + 120_000;
    const gap = ids().map((id, v) => ({
      topic: config.topic.name,
      topicId: 't',
      position: { vehicleId: id, ts: gapTs + v, lat: 20, lon: 20 },
      partition: partitionForKey(id, PARTITIONS),
      offset: String(20_000_000 + v),
      kafkaTs: 0,
      bytes: 1,
    }));
    await stores.table.upsert(gap);
    await eventually(async () => (await losses()) > before, 10_000, 20);
    await eventually(() => apiEqualsRedis(ids()), 15_000);
    await replica.synced();
    await eventually(() => replica.phase === 'ready', 15_000);
    expect(await apiEqualsRedis(ids())).toBe(true);
    expect((await apiGet(`rep-${target}-3`))?.ts).toBe(gapTs + 3);
  });
});
