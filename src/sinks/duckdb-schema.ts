import type { DuckDBConnection } from '@duckdb/node-api';
import { UNKNOWN_TOPIC_ID } from '../kafka/topic-id.js';
import type { Logger } from '../logger.js';
import { checkTableName } from './warehouse-sql.js';

/**
 * The positions table. Two keys make writes idempotent: the primary key names a record (its
 * topic, the topic's id, partition and offset), the unique key a position (vehicle, event time).
 */
export function duckdbTableDdl(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${checkTableName(table)} (
  vehicle_id VARCHAR NOT NULL,
  ts TIMESTAMPTZ NOT NULL,
  lat DOUBLE NOT NULL,
  lon DOUBLE NOT NULL,
  speed DOUBLE,
  heading DOUBLE,
  altitude DOUBLE,
  accuracy DOUBLE,
  battery DOUBLE,
  attributes JSON,
  kafka_topic VARCHAR NOT NULL,
  kafka_topic_id VARCHAR NOT NULL,
  kafka_partition INTEGER NOT NULL,
  kafka_offset BIGINT NOT NULL,
  kafka_ts TIMESTAMPTZ,
  ingested_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
  PRIMARY KEY (kafka_topic, kafka_topic_id, kafka_partition, kafka_offset),
  UNIQUE (vehicle_id, ts)
)`;
}

/** Columns a table of the first layout (before topic ids) shares with today's. */
const OLD_COLUMNS = `vehicle_id, ts, lat, lon, speed, heading, altitude, accuracy, battery, attributes,
  kafka_topic, kafka_partition, kafka_offset, kafka_ts, ingested_at`;

export interface Migration {
  rows: number;
  /** Rows of the old table dropped because an earlier row had their (vehicle, ts). */
  positionDuplicates: number;
}

/**
 * Brings a table of the first layout — unique on (topic, partition, offset) only — to today's.
 * DuckDB cannot drop or change a primary key in place (ALTER TABLE only adds columns and a key
 * where none is), so the table is rebuilt in one transaction: the new table is created, the old
 * rows copied with the marker topic id {@link UNKNOWN_TOPIC_ID} (which incarnation of the topic
 * they came from is not known), keeping the first row (by ingestion, then offset) of each
 * (vehicle, ts), then it takes the old name. Returns undefined when there was nothing to do.
 */
export async function migrateDuckDbTable(
  conn: DuckDBConnection,
  table: string,
  logger: Logger,
): Promise<Migration | undefined> {
  const columns = await conn.runAndReadAll(
    `SELECT column_name FROM duckdb_columns() WHERE table_name = $1 AND schema_name = current_schema()`,
    [table],
  );
  const names = columns.getRowsJS().map((r) => String(r[0]));
  if (names.length === 0 || names.includes('kafka_topic_id')) return undefined;
  const next = `${table}_v2`;
  await conn.run('BEGIN TRANSACTION');
  try {
    await conn.run(`DROP TABLE IF EXISTS ${next}`);
    await conn.run(duckdbTableDdl(next));
    const copied = await conn.run(
      `INSERT INTO ${next} (${OLD_COLUMNS}, kafka_topic_id)
       SELECT ${OLD_COLUMNS}, '${UNKNOWN_TOPIC_ID}' FROM ${table}
       QUALIFY row_number() OVER (PARTITION BY vehicle_id, ts ORDER BY ingested_at, kafka_partition, kafka_offset) = 1`,
    );
    const total = await conn.runAndReadAll(`SELECT count(*) FROM ${table}`);
    await conn.run(`DROP TABLE ${table}`);
    await conn.run(`ALTER TABLE ${next} RENAME TO ${table}`);
    await conn.run('COMMIT');
    const rows = Number(copied.rowsChanged);
    const migration = { rows, positionDuplicates: Number(total.getRowsJS()[0]![0]) - rows };
    logger.warn(
      { table, ...migration, topicId: UNKNOWN_TOPIC_ID },
      'warehouse table migrated: rows now keyed on (topic, topic id, partition, offset) and unique on (vehicle_id, ts); old rows carry the unknown topic id',
    );
    return migration;
  } catch (err) {
    await conn.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
