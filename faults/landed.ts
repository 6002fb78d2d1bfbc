import { DuckDBInstance } from '@duckdb/node-api';
import { checkTableName } from '../src/sinks/warehouse-sql.js';
import type { LandedRow } from './checker.js';

/**
 * Reads back what landed in the warehouse straight from the DuckDB file (not through the code under
 * test's readers). The Redis table is read raw by redis-table.ts.
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

/** The rows of several warehouse files taken as one warehouse keyed by Kafka record. */
export interface LandedUnion {
  /** One row per (partition, offset): what a shared warehouse with the record key would hold. */
  rows: LandedRow[];
  /** Records stored in more than one file (redelivered to another processor after a kill). */
  inSeveralFiles: number;
  /** Records stored in several files as different positions: a sink wrote the wrong record. */
  conflicting: string[];
}

/**
 * One DuckDB file per processor (DuckDB allows one writing process per file): their union keyed
 * by (partition, offset), as the key of a shared warehouse (Snowflake MERGE) would store them. A
 * record another processor wrote again after a kill is stored once; a position stored under two
 * records still counts as a duplicate in the checks that follow.
 */
export function unionByRecord(files: readonly (readonly LandedRow[])[]): LandedUnion {
  const byRecord = new Map<string, { row: LandedRow; files: Set<number> }>();
  const conflicting: string[] = [];
  files.forEach((rows, file) => {
    for (const row of rows) {
      const key = `${row.partition}:${row.offset}`;
      const held = byRecord.get(key);
      if (!held) byRecord.set(key, { row, files: new Set([file]) });
      else {
        if (held.row.vehicleId !== row.vehicleId || held.row.ts !== row.ts) conflicting.push(key);
        held.files.add(file);
      }
    }
  });
  const all = [...byRecord.values()];
  // A record twice in one file is the sink's own idempotence failing: keep it visible to the checks.
  const repeatsInFile = files.flatMap((rows) => {
    const seen = new Set<string>();
    return rows.filter((row) => {
      const key = `${row.partition}:${row.offset}`;
      if (!seen.has(key)) return (seen.add(key), false);
      return true;
    });
  });
  return {
    rows: [...all.map((e) => e.row), ...repeatsInFile],
    inSeveralFiles: all.filter((e) => e.files.size > 1).length,
    conflicting,
  };
}
