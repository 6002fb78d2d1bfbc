import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DuckDbWarehouse } from '../../src/sinks/duckdb-sink.js';
import { track } from '../support/warehouse-records.js';
import { warehouseConformance } from '../support/warehouse-conformance.js';

const dir = mkdtempSync(path.join(tmpdir(), 'fleet-duckdb-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

warehouseConformance('duckdb in memory', () => new DuckDbWarehouse({ path: ':memory:' }));
warehouseConformance(
  'duckdb file',
  () => new DuckDbWarehouse({ path: path.join(dir, 'nested', 'fleet.duckdb'), table: 'positions_conf' }),
);

describe('duckdb warehouse on disk', () => {
  it('keeps rows across reopen, and re-delivery after reopen writes nothing twice', async () => {
    const file = path.join(dir, 'reopen.duckdb');
    const batch = track('t-reopen', 'v-1', 500);
    const first = new DuckDbWarehouse({ path: file });
    await first.ready();
    expect(await first.write(batch.slice(0, 300))).toEqual({ inserted: 300, duplicates: 0 });
    await first.close();

    const second = new DuckDbWarehouse({ path: file });
    await second.ready();
    expect(await second.count()).toBe(300);
    expect(await second.write(batch)).toEqual({ inserted: 200, duplicates: 300 });
    expect(await second.count({ topic: 't-reopen' })).toBe(500);
    await second.close();
  });

  it('raises memory_limit when the table outgrows it (up to the ceiling) instead of failing every write', async () => {
    const file = path.join(dir, 'grow.duckdb');
    const grown = new DuckDbWarehouse({ path: file, memoryLimit: '8MB', maxMemoryLimit: '1GB' });
    await grown.ready();
    for (let first = 0; first < 300_000; first += 100_000) {
      expect(await grown.write(track('t-grow', 'v-1', 100_000, first))).toEqual({
        inserted: 100_000,
        duplicates: 0,
      });
    }
    expect(await grown.count({ topic: 't-grow' })).toBe(300_000);
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
