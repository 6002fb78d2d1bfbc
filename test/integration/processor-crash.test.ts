import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import { createWarehouse } from '../../src/sinks/create-warehouse.js';
import { createRedisStateTable } from '../../src/state/redis-state-table.js';
import { cliEnv, runCli } from '../support/cli-process.js';
import {
  clearRedisPrefix,
  createTestTopics,
  deleteTestTopics,
  eventually,
  testConfig,
} from '../support/env.js';
import {
  committedOffsets,
  fleetPositions,
  fullyCommitted,
  newestPerVehicle,
  produce,
  testRegistry,
} from '../support/processor-env.js';

describe('fleet process killed with SIGKILL mid-stream', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fleet-crash-'));
  const config = testConfig({
    DUCKDB_PATH: path.join(dir, 'fleet.duckdb'),
    BATCH_MAX_RECORDS: '1000',
    BATCH_MAX_WAIT_MS: '300',
    MAX_POLL_RECORDS: '500',
  });
  const env = cliEnv(config, {
    BATCH_MAX_RECORDS: '1000',
    BATCH_MAX_WAIT_MS: '300',
    MAX_POLL_RECORDS: '500',
    HEARTBEAT_INTERVAL_MS: '500',
    // The killed member must leave the group quickly for the restart to get its partitions.
    SESSION_TIMEOUT_MS: '6000',
  });

  /** Opens the DuckDB file (only while no processor holds it) and counts our rows. */
  const warehouseRows = async () => {
    const warehouse = await createWarehouse(config.warehouse, silentLogger);
    await warehouse.ready();
    try {
      return await warehouse.count({ topic: config.topic.name });
    } finally {
      await warehouse.close();
    }
  };

  afterAll(async () => {
    await clearRedisPrefix(config);
    await deleteTestTopics(config);
    rmSync(dir, { recursive: true, force: true });
  });

  it('restarts from the last commit: exactly N rows, none missing; SIGTERM then drains and exits 0', async () => {
    await createTestTopics(config);
    const positions = fleetPositions(200, 150); // 30,000
    await produce(config, positions, { chunk: 2000 });

    const first = runCli(['process'], env);
    await eventually(
      async () => [...(await committedOffsets(config)).committed.values()].some((o) => o > 0n),
      60_000,
      50,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${first.output()}`);
    });
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    // The kill really happened mid-stream: not everything was committed or written.
    expect(await fullyCommitted(config)).toBe(false);
    const atKill = await warehouseRows();
    expect(atKill).toBeLessThan(positions.length);

    const second = runCli(['process'], env);
    await eventually(() => fullyCommitted(config), 90_000, 200).catch((err: Error) => {
      throw new Error(`${err.message}\n${second.output()}`);
    });
    const stopAsked = Date.now();
    second.child.kill('SIGTERM');
    expect(await second.exited, second.output()).toBe(0);
    expect(Date.now() - stopAsked).toBeLessThan(25_000);

    expect(await warehouseRows()).toBe(positions.length);
    const table = createRedisStateTable({
      partitions: config.topic.partitions,
      ...config.redis,
      registry: testRegistry(),
    });
    try {
      const newest = newestPerVehicle(positions);
      expect(await table.count()).toBe(newest.size);
      const sample = [...newest.values()].filter((_, i) => i % 17 === 0);
      const states = await table.getMany(sample.map((p) => p.vehicleId));
      states.forEach((s, i) => expect(s).toMatchObject({ ts: sample[i]!.ts, lat: sample[i]!.lat }));
    } finally {
      await table.close();
    }
  }, 180_000);
});
