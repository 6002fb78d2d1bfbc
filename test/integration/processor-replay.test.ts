import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import { createWarehouse } from '../../src/sinks/create-warehouse.js';
import { cliEnv, runCli } from '../support/cli-process.js';
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
  produce,
  startTestPipeline,
} from '../support/processor-env.js';

describe('fleet replay --from earliest', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fleet-replay-'));
  const config = testConfig({ DUCKDB_PATH: path.join(dir, 'fleet.duckdb'), BATCH_MAX_WAIT_MS: '200' });

  afterAll(async () => {
    await clearRedisPrefix(config);
    await deleteTestTopics(config);
    rmSync(dir, { recursive: true, force: true });
  });

  it('restores every vehicle’s latest position after the table was wiped, warehouse unchanged', async () => {
    await createTestTopics(config);
    const positions = fleetPositions(300, 20); // 6000 positions, 300 vehicles
    await produce(config, positions, { chunk: 1000 });

    // The normal processor fills Redis and the warehouse first.
    const { table, warehouse: first, processor } = await startTestPipeline(config);
    await eventually(() => fullyCommitted(config), 60_000);
    await processor.stop();
    // The replay opens the same DuckDB file: one writer at a time.
    await first.close();
    expect(await table.count()).toBe(300);

    // FLUSHDB, on our prefix only (the Redis is shared).
    await clearRedisPrefix(config);
    expect(await table.count()).toBe(0);

    const replay = runCli(
      ['replay', '--from', 'earliest', '--warehouse'],
      cliEnv(config, { BATCH_MAX_WAIT_MS: '200' }),
    );
    expect(await replay.exited, replay.output()).toBe(0);
    expect(replay.output()).toMatch(/replayed 6000 records/);

    const newest = newestPerVehicle(positions);
    const ids = [...newest.keys()];
    const states = await table.getMany(ids);
    states.forEach((state, i) => {
      const want = newest.get(ids[i]!)!;
      expect(state, ids[i]).toMatchObject({ ts: want.ts, lat: want.lat, lon: want.lon, speed: want.speed });
    });
    await table.close();

    // The replay re-loaded the warehouse idempotently: still one row per record.
    const warehouse = await createWarehouse(config.warehouse, silentLogger);
    await warehouse.ready();
    try {
      expect(await warehouse.count({ topic: config.topic.name })).toBe(positions.length);
    } finally {
      await warehouse.close();
    }
    // The normal group's offsets are untouched by the replay (it used a fresh group).
    expect(await fullyCommitted(config)).toBe(true);
  }, 120_000);
});
