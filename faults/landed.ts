import { DuckDBInstance } from '@duckdb/node-api';
import { checkTableName } from '../src/sinks/warehouse-sql.js';
import { createRedisStateTable } from '../src/state/redis-state-table.js';
import type { LandedRow } from './checker.js';

/**
 * Reads back what landed, straight from the stores (not through the code under test's readers):
 * every warehouse row of a topic from a DuckDB file, and the latest-state entries of vehicles.
 */

/**
 * All rows of `topic` in a DuckDB file, opened read-only. Call only after the processor that owns
 * the file stopped (DuckDB allows one read-write process per file).
 */
export async function readDuckDbRows(file: string, table: string, topic: string): Promise<LandedRow[]> {
  const instance = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(
      `SELECT vehicle_id, epoch_ms(ts), kafka_partition, CAST(kafka_offset AS VARCHAR)
       FROM ${checkTableName(table)} WHERE kafka_topic = $1`,
      [topic],
    );
    return reader.getRows().map((row) => ({
      vehicleId: String(row[0]),
      ts: Number(row[1]),
      partition: Number(row[2]),
      offset: String(row[3]),
    }));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/**
 * Event time the latest-state table holds for every vehicle it knows, plus null for each of
 * `expected` it does not know, read page by page through the table's own listing.
 */
export async function readLatestState(
  url: string,
  prefix: string,
  expected: Iterable<string>,
): Promise<Map<string, number | null>> {
  const table = createRedisStateTable({ url, prefix });
  try {
    const out = new Map<string, number | null>();
    let cursor: string | null = null;
    do {
      const page = await table.list({ limit: 1000, ...(cursor ? { cursor } : {}) });
      for (const v of page.vehicles) out.set(v.vehicleId, v.ts);
      cursor = page.nextCursor;
    } while (cursor !== null);
    for (const id of expected) if (!out.has(id)) out.set(id, null);
    return out;
  } finally {
    await table.close();
  }
}
