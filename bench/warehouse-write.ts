/**
 * Micro-benchmark of the warehouse write path (not a test):
 *   npx tsx bench/warehouse-write.ts [records] [batch] [path]
 * Writes `records` positions (default 500k) in batches of `batch` (default 50k) to a DuckDB
 * warehouse at `path` (default a temp file; `:memory:` allowed), then re-delivers every batch
 * (all duplicates). Prints records/s per batch so growth with table size shows, the longest
 * event-loop stall of each write (what live traffic on the same thread would wait), and the totals.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { PositionRecord } from '../src/domain/records.js';
import { DuckDbWarehouse } from '../src/sinks/duckdb-sink.js';

const [records = 500_000, batchSize = 50_000] = process.argv.slice(2, 4).map(Number);
const dir = mkdtempSync(path.join(os.tmpdir(), 'fleet-wh-bench-'));
const file = process.argv[4] ?? path.join(dir, 'bench.duckdb');
const t0 = Date.now() - 3_600_000;

function batch(start: number, n: number): PositionRecord[] {
  return Array.from({ length: n }, (_, j) => {
    const i = start + j;
    return {
      topic: 'vehicle_positions',
      topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
      partition: i % 3,
      offset: String(Math.floor(i / 3)),
      kafkaTs: t0 + i,
      bytes: 180,
      position: {
        vehicleId: `veh-${i % 50_000}`,
        ts: t0 + i,
        lat: 48 + (i % 1000) * 1e-4,
        lon: 11 + (i % 997) * 1e-4,
        speed: i % 130,
        heading: i % 360,
        ...(i % 10 === 0 ? { attributes: { ignition: true, odometer: i } } : {}),
      },
    };
  });
}

async function pass(wh: DuckDbWarehouse, label: string): Promise<number> {
  let total = 0;
  const started = performance.now();
  for (let start = 0; start < records; start += batchSize) {
    const items = batch(start, Math.min(batchSize, records - start));
    const lag = monitorEventLoopDelay({ resolution: 1 });
    lag.enable();
    const t = performance.now();
    const r = await wh.write(items);
    const s = (performance.now() - t) / 1000;
    lag.disable();
    total += r.inserted;
    console.log(
      `${label} batch@${start}: ${items.length} in ${(s * 1000).toFixed(0)} ms = ${Math.round(items.length / s)}/s (inserted ${r.inserted}; longest event-loop stall ${(lag.max / 1e6).toFixed(1)} ms)`,
    );
  }
  const s = (performance.now() - started) / 1000;
  console.log(`${label} total: ${records} in ${s.toFixed(2)} s = ${Math.round(records / s)}/s`);
  return total;
}

const wh = new DuckDbWarehouse({
  path: file,
  ...(process.env.DUCKDB_MEMORY_LIMIT ? { memoryLimit: process.env.DUCKDB_MEMORY_LIMIT } : {}),
});
await wh.ready();
console.log(`duckdb ${file}, ${records} records, batches of ${batchSize}, ${os.cpus().length} cpus`);
const inserted = await pass(wh, 'fresh');
const again = await pass(wh, 'redelivered');
console.log(
  `rows: ${await wh.count()} (inserted ${inserted}, then ${again} on re-delivery); memory_limit now ${Math.round((wh.memoryLimitBytes ?? 0) / 1048576)} MiB`,
);
await wh.close();
rmSync(dir, { recursive: true, force: true });
