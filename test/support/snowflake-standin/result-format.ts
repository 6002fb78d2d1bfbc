import type { DuckDBResultReader, DuckDBType } from '@duckdb/node-api';

/**
 * DuckDB results and errors in Snowflake's JSON result format (`rowtype` + `rowset` of strings,
 * `statementTypeId`, GS error `code` + `sqlState`), as the real snowflake-sdk parses them.
 */
export interface RowType {
  name: string;
  type: string;
  scale: number | null;
  precision: number | null;
  length: number | null;
  byteLength: number | null;
  nullable: boolean;
  database: string;
  schema: string;
  table: string;
  collation: null;
}

export interface ResultData {
  rowtype: RowType[];
  rowset: (string | null)[][];
  statementTypeId: number;
}

/** Snowflake statement type ids the SDK inspects (DML ids drive getNumUpdatedRows()). */
const STATEMENT_TYPES: Record<string, number> = {
  SELECT: 0x1000,
  INSERT: 0x3100,
  UPDATE: 0x3200,
  DELETE: 0x3300,
  MERGE: 0x3400,
  BEGIN: 0x5000,
  START: 0x5000,
  COMMIT: 0x5001,
  ROLLBACK: 0x5002,
  CREATE: 0x6000,
  DROP: 0x6000,
  ALTER: 0x6000,
  TRUNCATE: 0x6000,
};

/** DML results: Snowflake answers one row of counts with these column names. */
const DML_COLUMNS: Record<string, string> = {
  INSERT: 'number of rows inserted',
  MERGE: 'number of rows inserted',
  UPDATE: 'number of rows updated',
  DELETE: 'number of rows deleted',
};

function column(name: string, type: string, extra: Partial<RowType> = {}): RowType {
  return {
    name,
    type,
    scale: null,
    precision: null,
    length: null,
    byteLength: null,
    nullable: true,
    database: '',
    schema: '',
    table: '',
    collation: null,
    ...extra,
  };
}

function rowType(name: string, t: DuckDBType): RowType {
  const id = t.typeId;
  if (t.alias === 'JSON') return column(name, 'variant');
  if (id === 1) return column(name, 'boolean');
  if ((id >= 2 && id <= 9) || id === 16 || id === 32)
    return column(name, 'fixed', { scale: 0, precision: 38 });
  if (id === 19) {
    const d = t as unknown as { width: number; scale: number };
    return column(name, 'fixed', { scale: d.scale, precision: d.width });
  }
  if (id === 10 || id === 11) return column(name, 'real');
  if (id === 31) return column(name, 'timestamp_tz', { scale: 9 });
  if (id === 12) return column(name, 'timestamp_ntz', { scale: 9 });
  return column(name, 'text', { length: 16_777_216, byteLength: 16_777_216 });
}

/** Minutes east of UTC of `timeZone` at the instant `ms`. */
export function offsetMinutes(timeZone: string, ms: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(ms));
  const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return Math.round((wall - Math.floor(ms / 1000) * 1000) / 60_000);
}

/**
 * Timestamps as Snowflake's JSON result sends them: `<epoch seconds>.<9 digits>`, and for
 * TIMESTAMP_TZ a space and the offset index (offset minutes + 1440) — here the session TIMEZONE's
 * offset at that instant, as Snowflake gives values built in the session's time zone.
 */
function cell(value: unknown, type: RowType, timeZone: string): string | null {
  if (value === null || value === undefined) return null;
  if (type.type === 'boolean') return value ? '1' : '0';
  if (type.type === 'timestamp_tz' || type.type === 'timestamp_ntz') {
    const micros = (value as { micros: bigint }).micros;
    const seconds = micros / 1_000_000n;
    const frac = micros % 1_000_000n;
    const text = `${seconds}.${String(frac < 0n ? -frac : frac).padStart(6, '0')}000`;
    if (type.type === 'timestamp_ntz') return text;
    return `${text} ${offsetMinutes(timeZone, Number(micros / 1000n)) + 1440}`;
  }
  return String(value);
}

/** A query result; DML and DDL get Snowflake's count/status rows instead of DuckDB's. */
export function formatResult(
  kind: string,
  reader: DuckDBResultReader | undefined,
  timeZone: string,
): ResultData {
  const statementTypeId = STATEMENT_TYPES[kind] ?? 0x1000;
  const dml = DML_COLUMNS[kind];
  if (dml) {
    const count = reader?.getRows()[0]?.[0];
    return {
      rowtype: [column(dml, 'fixed', { scale: 0, precision: 19 })],
      rowset: [[String(count ?? 0)]],
      statementTypeId,
    };
  }
  if (statementTypeId >= 0x5000 || !reader) {
    const status = kind === 'CREATE' ? 'Table successfully created.' : 'Statement executed successfully.';
    return { rowtype: [column('status', 'text')], rowset: [[status]], statementTypeId };
  }
  // Unquoted identifiers come back upper-cased from Snowflake.
  const types = reader.columnTypes();
  const rowtype = reader.columnNames().map((n, i) => rowType(n.toUpperCase(), types[i]!));
  const rowset = reader.getRows().map((row) => row.map((v, i) => cell(v, rowtype[i]!, timeZone)));
  return { rowtype, rowset, statementTypeId };
}

/** A Snowflake SQL error as GS reports it. */
export class SnowflakeSqlError extends Error {
  constructor(
    readonly code: string,
    readonly sqlState: string,
    message: string,
  ) {
    super(message);
  }
}

/** Maps DuckDB's error classes onto the Snowflake codes the same mistake produces there. */
export function toSnowflakeError(err: unknown): SnowflakeSqlError {
  if (err instanceof SnowflakeSqlError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const first = message.split('\n')[0] ?? message;
  const table = /Table with name (\S+) does not exist/.exec(first)?.[1];
  if (table) {
    return new SnowflakeSqlError(
      '002003',
      '42S02',
      `SQL compilation error:\nObject '${table.toUpperCase()}' does not exist or not authorized.`,
    );
  }
  const col = /column "?([^"\s]+)"? not found/i.exec(first)?.[1];
  if (col)
    return new SnowflakeSqlError(
      '000904',
      '42000',
      `SQL compilation error:\ninvalid identifier '${col.toUpperCase()}'`,
    );
  if (first.startsWith('Parser Error'))
    return new SnowflakeSqlError('001003', '42000', `SQL compilation error:\n${first}`);
  if (first.startsWith('Conversion Error')) return new SnowflakeSqlError('100038', '22018', first);
  if (first.startsWith('Constraint Error')) return new SnowflakeSqlError('100072', '22000', first);
  if (first.startsWith('Binder Error') || first.startsWith('Catalog Error')) {
    return new SnowflakeSqlError('002003', '42000', `SQL compilation error:\n${first}`);
  }
  return new SnowflakeSqlError('000603', 'XX000', `SQL execution internal error: ${first}`);
}

/** Snowflake's answer envelopes. */
export const ok = (data: unknown) => ({ data, code: null, message: null, success: true });
export const fail = (code: string, message: string, data: Record<string, unknown> = {}) => ({
  data: { errorCode: code, internalError: false, ...data },
  code,
  message,
  success: false,
});
