import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/index.js';
import { MAX_RECORD_BYTES } from '../../src/domain/codec.js';
import type { Position } from '../../src/domain/position.js';
import type { RedisStateTable } from '../../src/state/redis-state-table.js';
import type { ProcessorHandle } from '../../src/processor/processor.js';
import {
  clearRedisPrefix,
  createTestTopics,
  deleteTestTopics,
  eventually,
  testConfig,
} from '../support/env.js';
import {
  fleetPositions,
  fullyCommitted,
  newestPerVehicle,
  openTestStores,
  produce,
  type TestStores,
} from '../support/processor-env.js';
import { readTopic } from '../support/read-topic.js';

/** Short windows so a test does not wait 5 s per warehouse flush. */
const fastWindows = { BATCH_MAX_WAIT_MS: '300', STATE_FLUSH_MAX_WAIT_MS: '20', HEARTBEAT_INTERVAL_MS: '500' };

interface Running extends TestStores {
  config: Readonly<Config>;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function setUp(overrides: Record<string, string> = {}): Promise<Running> {
  const config = testConfig({ ...fastWindows, ...overrides });
  await createTestTopics(config);
  const stores = await openTestStores(config);
  cleanups.push(async () => {
    await stores.close();
    await clearRedisPrefix(config);
    await deleteTestTopics(config);
  });
  return { ...stores, config };
}

const start = (r: Running): Promise<ProcessorHandle> => r.startProcessor();

async function expectNewest(table: RedisStateTable, positions: readonly Position[]): Promise<void> {
  const newest = newestPerVehicle(positions);
  const ids = [...newest.keys()];
  const states = await table.getMany(ids);
  states.forEach((state, i) => {
    const want = newest.get(ids[i]!)!;
    expect(state, ids[i]).toMatchObject({
      vehicleId: want.vehicleId,
      ts: want.ts,
      lat: want.lat,
      lon: want.lon,
    });
  });
}

describe('processor on real Kafka + Redis + DuckDB', () => {
  it('N positions → exactly N warehouse rows, the newest per vehicle in Redis, offsets committed', async () => {
    const r = await setUp();
    const positions = fleetPositions(50, 60); // 3000
    await produce(r.config, positions.slice(0, 1000));
    await start(r);
    await produce(r.config, positions.slice(1000));

    await eventually(
      async () => (await r.warehouse.count({ topic: r.config.topic.name })) >= positions.length,
    );
    await eventually(() => fullyCommitted(r.config), 15_000);
    expect(await r.warehouse.count({ topic: r.config.topic.name })).toBe(positions.length);
    expect(await r.table.count()).toBe(50);
    await expectNewest(r.table, positions);

    const processor = r.processors[0]!;
    expect(processor.state).toBe('RUNNING');
    const stopping = processor.stop();
    expect(processor.state).toBe('DRAINING');
    const report = await stopping;
    expect(report.clean).toBe(true);
    expect(processor.state).toBe('STOPPED');
    await expect(processor.done).resolves.toBeUndefined();
  });

  it('keeps the newest position by event time when one vehicle’s records arrive out of order', async () => {
    const r = await setUp();
    await start(r);
    const t = Date.now() - 10_000;
    const at = (dt: number, lat: number): Position => ({ vehicleId: 'late-1', ts: t + dt, lat, lon: 10 });
    // Newest first, applied; then older ones in a later batch must not move it back. The second
    // record with the newest ts comes later in the partition: the tie goes to the higher offset.
    await produce(r.config, [at(500, 1), at(900, 2), at(100, 3)]);
    await eventually(async () => (await r.table.get('late-1'))?.ts === t + 900);
    await produce(r.config, [at(300, 4), at(200, 5), at(900, 6), at(800, 7)]);
    await eventually(() => fullyCommitted(r.config), 15_000);
    const state = await r.table.get('late-1');
    expect(state).toMatchObject({ ts: t + 900, lat: 6 });
    // The warehouse holds one row per position (vehicle, ts): the first stored of the two at
    // t + 900 (lat 2) wins there (docs/warehouse.md), while the table breaks the tie by offset.
    expect(await r.warehouse.count({ topic: r.config.topic.name })).toBe(6);
    const rows = await r.warehouse.history({ vehicleId: 'late-1', from: t, to: t + 1000 });
    expect(rows.find((row) => row.ts === t + 900)).toMatchObject({ lat: 2 });
  });

  it('dead-letters malformed, mistyped, out-of-range and oversize records with reasons, and keeps going', async () => {
    const r = await setUp();
    const processor = await start(r);
    const now = Date.now();
    const ok = (i: number): Position => ({ vehicleId: `ok-${i}`, ts: now - 1000 + i, lat: 40 + i, lon: 2 });
    const bad = [
      { key: 'bad-json', value: '{"vehicleId": "bad-json", "ts": ' },
      { key: 'bad-type', value: JSON.stringify({ vehicleId: 'bad-type', ts: 'yesterday', lat: 1, lon: 2 }) },
      { key: 'bad-range', value: JSON.stringify({ vehicleId: 'bad-range', ts: now, lat: 91.5, lon: 2 }) },
      {
        key: 'bad-size',
        value: JSON.stringify({ ...ok(99), vehicleId: 'bad-size', pad: 'x'.repeat(MAX_RECORD_BYTES) }),
      },
      { key: 'bad-empty', value: null },
    ];
    await produce(r.config, [ok(1), bad[0]!, ok(2), bad[1]!, bad[2]!, ok(3), bad[3]!, bad[4]!, ok(4)], {
      chunk: 2,
    });

    const dlqConfig = { ...r.config, topic: { ...r.config.topic, name: r.config.topic.dlq } };
    const letters = await readTopic(dlqConfig, { expected: bad.length });
    const byKey = new Map(letters.map((l) => [l.key, l]));
    expect(byKey.get('bad-json')!.headers['x-dlq-error-type']).toBe('DecodeError');
    expect(byKey.get('bad-json')!.headers['x-dlq-reason']).toMatch(/JSON/);
    expect(byKey.get('bad-type')!.headers['x-dlq-error-type']).toBe('ValidationError');
    expect(byKey.get('bad-type')!.headers['x-dlq-reason']).toMatch(/^ts:/);
    expect(byKey.get('bad-range')!.headers['x-dlq-reason']).toMatch(/lat: must be <= 90/);
    expect(byKey.get('bad-size')!.headers['x-dlq-reason']).toMatch(/exceeds the 16384 byte limit/);
    expect(byKey.get('bad-empty')!.headers['x-dlq-reason']).toMatch(/empty record value/);
    for (const l of letters) {
      expect(l.headers['x-dlq-source-topic']).toBe(r.config.topic.name);
      expect(Number(l.headers['x-dlq-source-offset'])).toBeGreaterThanOrEqual(0);
    }
    expect(byKey.get('bad-type')!.value).toBe(bad[1]!.value);

    await eventually(() => fullyCommitted(r.config), 15_000);
    expect(await r.warehouse.count({ topic: r.config.topic.name })).toBe(4);
    expect(processor.state).toBe('RUNNING');
    // Still alive and processing after the bad data.
    await produce(r.config, [ok(5)]);
    await eventually(async () => (await r.table.get('ok-5')) !== null);
    expect(await r.table.count()).toBe(5);
  });

  it('two processors in one group split the partitions and write exactly N rows, across a rebalance', async () => {
    // A 3 s warehouse window keeps the first member's records in flight when the second joins.
    const r = await setUp({ TOPIC_PARTITIONS: '4', BATCH_MAX_WAIT_MS: '3000' });
    const positions = fleetPositions(40, 100); // 4000
    await produce(r.config, positions.slice(0, 2000), { chunk: 200 });
    const a = await start(r);
    await eventually(() => a.source.recordsRead >= 2000, 30_000, 20);
    const b = await start(r);
    const settled = () => {
      const [pa, pb] = [a.source.assigned(), b.source.assigned()];
      return (
        pa.length > 0 && pb.length > 0 && new Set([...pa, ...pb]).size === 4 && pa.length + pb.length === 4
      );
    };
    await eventually(settled, 30_000, 100);
    await produce(r.config, positions.slice(2000), { chunk: 200 });

    await eventually(() => fullyCommitted(r.config), 30_000);
    expect(await r.warehouse.count({ topic: r.config.topic.name })).toBe(positions.length);
    await expectNewest(r.table, positions);
    expect(b.source.recordsRead).toBeGreaterThan(0);
  });
});
