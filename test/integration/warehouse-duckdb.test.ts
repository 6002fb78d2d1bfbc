import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { UNKNOWN_TOPIC_ID } from '../../src/kafka/topic-id.js';
import { DuckDbWarehouse } from '../../src/sinks/duckdb-sink.js';
import { rec, track } from '../support/warehouse-records.js';
import { warehouseConformance } from '../support/warehouse-conformance.js';
import { eventsWarehouseConformance, testEvent } from '../support/events-warehouse-conformance.js';
import { DuckDbEventsWarehouse } from '../../src/sinks/duckdb-events-warehouse.js';
import { testConfig } from '../support/env.js';

const dir = mkdtempSync(path.join(tmpdir(), 'fleet-duckdb-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

warehouseConformance('duckdb in memory', () => new DuckDbWarehouse({ path: ':memory:' }));
warehouseConformance(
  'duckdb file',
  () => new DuckDbWarehouse({ path: path.join(dir, 'nested', 'fleet.duckdb'), table: 'positions_conf' }),
);

eventsWarehouseConformance('duckdb file', async () => {
  const config = testConfig({ DUCKDB_PATH: path.join(dir, 'events.duckdb') }).warehouse;
  return { config, positions: new DuckDbWarehouse({ path: config.duckdbPath }) };
});

describe('duckdb warehouse on disk', () => {
  it('migrates a table of the first layout: marker topic id, one row per position, old rows still dedupe', async () => {
    const file = path.join(dir, 'old-layout.duckdb');
    const old = await DuckDBInstance.create(file);
    const conn = await old.connect();
    // The layout before topic ids, as the sink created it; two rows repeat one position.
    await conn.run(`CREATE TABLE positions (vehicle_id VARCHAR NOT NULL, ts TIMESTAMPTZ NOT NULL,
      lat DOUBLE NOT NULL, lon DOUBLE NOT NULL, speed DOUBLE, heading DOUBLE, altitude DOUBLE, accuracy DOUBLE,
      battery DOUBLE, attributes JSON, kafka_topic VARCHAR NOT NULL, kafka_partition INTEGER NOT NULL,
      kafka_offset BIGINT NOT NULL, kafka_ts TIMESTAMPTZ,
      ingested_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
      PRIMARY KEY (kafka_topic, kafka_partition, kafka_offset))`);
    await conn.run(`INSERT INTO positions (vehicle_id, ts, lat, lon, kafka_topic, kafka_partition, kafka_offset, ingested_at)
      SELECT 'v-old', make_timestamptz(1735718400000000 + i * 1000000), 1, 2, 't-old', 0, i,
        make_timestamptz(1735718400000000 + i) FROM range(10) t(i)`);
    await conn.run(`INSERT INTO positions (vehicle_id, ts, lat, lon, kafka_topic, kafka_partition, kafka_offset, ingested_at)
      VALUES ('v-old', make_timestamptz(1735718400000000), 9, 9, 't-old', 0, 10, make_timestamptz(1735718500000000))`);
    conn.closeSync();
    old.closeSync();

    const wh = new DuckDbWarehouse({ path: file });
    await wh.ready();
    expect(await wh.count({ topic: 't-old' })).toBe(10);
    const rows = await wh.history({ vehicleId: 'v-old', from: 0, to: Date.UTC(2030, 0, 1) });
    expect(rows[0]).toMatchObject({ lat: 1, offset: '0' }); // the first stored of the repeated position
    // A record re-read after the upgrade carries the real topic id: its position is already stored.
    const reread = rec(
      't-old',
      0,
      9,
      { vehicleId: 'v-old', ts: 1735718400000 + 9000, lat: 1, lon: 2 },
      'AbCdEfGhIjKlMnOpQrStUw',
    );
    expect(await wh.write([reread])).toEqual({ inserted: 0, duplicates: 1, positionDuplicates: 1 });
    await wh.close();
    const check = await DuckDBInstance.create(file);
    const c = await check.connect();
    const ids = (await c.runAndReadAll(`SELECT DISTINCT kafka_topic_id FROM positions`)).getRowsJS();
    expect(ids).toEqual([[UNKNOWN_TOPIC_ID]]);
    c.closeSync();
    check.closeSync();
  });

  it('keeps rows across reopen, and re-delivery after reopen writes nothing twice', async () => {
    const file = path.join(dir, 'reopen.duckdb');
    const batch = track('t-reopen', 'v-1', 500);
    const first = new DuckDbWarehouse({ path: file });
    await first.ready();
    expect(await first.write(batch.slice(0, 300))).toEqual({
      inserted: 300,
      duplicates: 0,
      positionDuplicates: 0,
    });
    await first.close();

    const second = new DuckDbWarehouse({ path: file });
    await second.ready();
    expect(await second.count()).toBe(300);
    expect(await second.write(batch)).toEqual({ inserted: 200, duplicates: 300, positionDuplicates: 0 });
    expect(await second.count({ topic: 't-reopen' })).toBe(500);
    await second.close();
  });

  it('raises memory_limit when the table outgrows it (up to the ceiling) instead of failing every write', async () => {
    const file = path.join(dir, 'grow.duckdb');
    const grown = new DuckDbWarehouse({ path: file, memoryLimit: '8MB', maxMemoryLimit: '1GB' });
    await grown.ready();
    for (let first = 0; first < 90_000; first += 30_000) {
      expect(await grown.write(track('t-grow', 'v-1', 30_000, first))).toEqual({
        inserted: 30_000,
        duplicates: 0,
        positionDuplicates: 0,
      });
    }
    expect(await grown.count({ topic: 't-grow' })).toBe(90_000);
    expect(grown.memoryLimitBytes).toBeGreaterThan(8e6);
    await grown.close();

    // At the ceiling the error stands, retriable (no record is dead-lettered for it), naming memory.
    const capped = new DuckDbWarehouse({
      path: path.join(dir, 'capped.duckdb'),
      memoryLimit: '8MB',
      maxMemoryLimit: '8MB',
    });
    await capped.ready();
    const err = await capped.write(track('t-capped', 'v-1', 200_000)).catch((e: unknown) => e);
    expect(err).toMatchObject({ retriable: true });
    expect(String(err)).toMatch(/allocate|Out of Memory/i);
    await capped.close();
    // Two indexes (record and position) to build under an 8 MB limit: slow, not stuck.
  }, 180_000);

  it('the events table raises the shared memory_limit too, where without it its writes fail for good', async () => {
    // 40k events per write, ids of 32 hex: the event-id index outgrows 8 MB within a few writes.
    const events = (from: number) =>
      Array.from({ length: 40_000 }, (_, i) => testEvent(`ev-${(from + i) % 500}`, 'overspeed', from + i));
    const open = async (file: string, shareMemory: boolean) => {
      const positions = new DuckDbWarehouse({
        path: path.join(dir, file),
        memoryLimit: '8MB',
        maxMemoryLimit: '1GB',
      });
      await positions.ready();
      const table = new DuckDbEventsWarehouse(
        () => positions.database,
        undefined,
        shareMemory ? positions : undefined,
      );
      await table.ready();
      return { positions, table };
    };
    const grown = await open('events-grow.duckdb', true);
    for (let from = 0; from < 160_000; from += 40_000) {
      expect(await grown.table.write(events(from))).toEqual({ inserted: 40_000, duplicates: 0 });
    }
    expect(await grown.table.count()).toBe(160_000);
    expect(grown.positions.memoryLimitBytes).toBeGreaterThan(8e6);
    await grown.table.close();
    await grown.positions.close();

    // The same writes without the shared limit: the table runs out of memory (what the bench's
    // events replay hit at 1M positions with the 48MB default).
    const fixed = await open('events-fixed.duckdb', false);
    let failure: unknown;
    for (let from = 0; from < 160_000 && failure === undefined; from += 40_000) {
      failure = await fixed.table.write(events(from)).then(
        () => undefined,
        (e: unknown) => e,
      );
    }
    expect(String(failure)).toMatch(/allocate|Out of Memory/i);
    await fixed.table.close();
    await fixed.positions.close();
  }, 180_000);

  it('runs DuckDB with the configured number of threads (DUCKDB_THREADS)', async () => {
    const wh = new DuckDbWarehouse({ path: ':memory:', threads: 3 }); // not the core count here
    await wh.ready();
    const conn = await wh.database!.connect();
    const rows = (await conn.runAndReadAll("SELECT current_setting('threads')")).getRowsJS();
    conn.closeSync();
    expect(Number(rows[0]![0])).toBe(3);
    await wh.close();
  });

  it('refuses a second writer on the same file with a non-retriable error naming DUCKDB_PATH', async () => {
    const file = path.join(dir, 'locked.duckdb');
    const owner = new DuckDbWarehouse({ path: file });
    await owner.ready();
    // A second instance in the same process shares DuckDB's file lock; open it from a child instead.
    const { execFileSync } = await import('node:child_process');
    const script = `
      import { DuckDbWarehouse } from './src/sinks/duckdb-sink.ts';
      const w = new DuckDbWarehouse({ path: ${JSON.stringify(file)} });
      try { await w.ready(); console.log('opened'); } catch (e) { console.log(JSON.stringify({ m: e.message, r: e.retriable })); }
    `;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: process.cwd(),
      encoding: 'utf8',
    });
    const answer = JSON.parse(out.trim().split('\n').pop()!) as { m: string; r: boolean };
    expect(answer.r).toBe(false);
    expect(answer.m).toMatch(/DUCKDB_PATH/);
    expect(answer.m).toMatch(/lock/i);
    await owner.close();
  });

  it('serialises concurrent writes and reports each one exactly', async () => {
    const wh = new DuckDbWarehouse({ path: ':memory:' });
    await wh.ready();
    const batch = track('t-concurrent', 'v-2', 2000);
    const results = await Promise.all([wh.write(batch), wh.write(batch), wh.write(batch.slice(1000))]);
    expect(results.reduce((n, r) => n + r.inserted, 0)).toBe(2000);
    expect(results.reduce((n, r) => n + r.duplicates, 0)).toBe(3000);
    expect(await wh.count()).toBe(2000);
    await wh.close();
  });
});
