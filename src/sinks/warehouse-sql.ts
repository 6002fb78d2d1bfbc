import type { PositionRecord } from '../domain/records.js';
import { ConfigError } from '../errors.js';

/**
 * What both warehouse adapters share: the SQL dialect fragments, the table-name check and the row
 * helpers of the write path. The reads' portable SQL (history, trip/stop summary, count) lives in
 * `warehouse-read-sql.ts` and is run as-is by DuckDB and Snowflake. The few dialect differences are the tiny fragments of
 * {@link SqlDialect}; everything else (window functions, haversine, the trip/stop rule) is shared
 * text. Every value is a bound parameter; only the table name (validated) is spliced in.
 */
export interface SqlDialect {
  name: 'duckdb' | 'snowflake';
  /** Placeholder of the n-th (1-based) bound parameter; reusable in the same statement. */
  param(n: number): string;
  /** Epoch milliseconds (integer) of a timestamp-with-time-zone expression. */
  epochMs(expr: string): string;
  /** A timestamp with time zone from epoch milliseconds. */
  tsFromMs(expr: string): string;
  /** The JSON text of a semi-structured column (DuckDB JSON, Snowflake VARIANT). */
  jsonText(expr: string): string;
}

export const duckdbDialect: SqlDialect = {
  name: 'duckdb',
  param: (n) => `$${n}`,
  epochMs: (e) => `epoch_ms(${e})`,
  tsFromMs: (e) => `make_timestamptz(CAST(${e} AS BIGINT) * 1000)`,
  jsonText: (e) => `CAST(${e} AS VARCHAR)`,
};

export const snowflakeDialect: SqlDialect = {
  name: 'snowflake',
  param: (n) => `:${n}`,
  // Explicitly in UTC: the results never depend on the session's TIMEZONE (an account default).
  epochMs: (e) => `DATE_PART(EPOCH_MILLISECOND, CONVERT_TIMEZONE('UTC', ${e}))`,
  tsFromMs: (e) => `CONVERT_TIMEZONE('UTC', TO_TIMESTAMP_TZ(${e}, 3))`,
  jsonText: (e) => `TO_JSON(${e})`,
};

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** Table names are spliced into SQL, so only plain identifiers pass. */
export function checkTableName(table: string): string {
  if (!TABLE_NAME.test(table)) {
    throw new ConfigError('WAREHOUSE_TABLE', `'${table}' is not a plain identifier ([A-Za-z_][A-Za-z0-9_]*)`);
  }
  return table;
}

/** A batch with its repeats removed, and how many records repeated a position of another. */
export interface UniqueBatch {
  records: PositionRecord[];
  /** Records dropped because an earlier record of the batch has their (vehicle id, event time). */
  positionDuplicates: number;
}

/**
 * Drops records repeated inside one batch, keeping the first: the same record twice (same topic
 * id, partition, offset: a re-delivery) and the same position twice (same vehicle id and event
 * time at another offset: a device's retry after a lost answer). The warehouse must never see two
 * rows for one record or one position, even from one write.
 */
export function uniqueRecords(batch: readonly PositionRecord[]): UniqueBatch {
  const records = new Set<string>();
  const positions = new Set<string>();
  const out: PositionRecord[] = [];
  let positionDuplicates = 0;
  for (const r of batch) {
    const record = `${r.partition}\u0000${r.offset}\u0000${r.topicId}\u0000${r.topic}`;
    if (records.has(record)) continue;
    records.add(record);
    const position = `${r.position.ts}\u0000${r.position.vehicleId}`;
    if (positions.has(position)) {
      positionDuplicates++;
      continue;
    }
    positions.add(position);
    out.push(r);
  }
  return { records: out, positionDuplicates };
}

/** Free attributes as JSON text for the warehouse, null when absent. */
export function attributesJson(record: PositionRecord): string | null {
  const a = record.position.attributes;
  return a === undefined ? null : JSON.stringify(a);
}

/**
 * Rows as JSON array texts (`[[...], ...]`) of at most `maxBytes` UTF-8 bytes each (one longer
 * row goes alone): a batch bound as one parameter per statement and expanded in SQL.
 */
export function jsonArrayChunks<T>(
  items: readonly T[],
  toRow: (item: T) => unknown[],
  maxBytes: number,
): string[] {
  const chunks: string[] = [];
  let parts: string[] = [];
  let bytes = 2;
  for (const item of items) {
    const row = JSON.stringify(toRow(item));
    const size = Buffer.byteLength(row) + 1;
    if (parts.length > 0 && bytes + size > maxBytes) {
      chunks.push(`[${parts.join(',')}]`);
      parts = [];
      bytes = 2;
    }
    parts.push(row);
    bytes += size;
  }
  if (parts.length > 0) chunks.push(`[${parts.join(',')}]`);
  return chunks;
}
