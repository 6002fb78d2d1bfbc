import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  DuckDBInstance,
  LIST,
  listValue,
  VARCHAR,
  type DuckDBConnection,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import { formatResult, SnowflakeSqlError, toSnowflakeError, type ResultData } from './result-format.js';
import { arrayInsert, MACROS, statementKind, translate, type SessionNames } from './translate.js';

/** One bind as the SDK sends it: `{ "1": { type: "TEXT", value: "x" | ["x", ...] } }`. */
export interface Binding {
  type: string;
  value: unknown;
}

/** What a session may do; tests revoke privileges to provoke Snowflake's access errors. */
export interface Privileges {
  createTable: boolean;
  /** INSERT / MERGE / DELETE / UPDATE on permanent tables. */
  write: boolean;
}

/** What the engine needs to know about the Snowflake session running a statement. */
export interface StandinSessionState {
  id: number;
  names: SessionNames;
  privileges: Privileges;
  /** Temporary tables of this session (upper case): writable whatever the privileges. */
  temps: Set<string>;
}

export interface ExecutedStatement {
  session: number;
  kind: string;
  sql: string;
  /** Rows of an array bind (1 otherwise). */
  rows: number;
  /** Bind values in the request (rows × columns for array binds). */
  binds: number;
}

/**
 * The embedded engine behind the stand-in: one DuckDB database, one connection per Snowflake
 * session (so temporary tables and transactions are per session, as in Snowflake).
 */
export class StandinEngine {
  readonly executed: ExecutedStatement[] = [];
  private constructor(private readonly db: DuckDBInstance) {}

  static async create(): Promise<StandinEngine> {
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    for (const macro of MACROS) await conn.run(macro);
    conn.closeSync();
    return new StandinEngine(db);
  }

  async openSession(): Promise<DuckDBConnection> {
    const conn = await this.db.connect();
    await conn.run(`SET TimeZone = 'UTC'`);
    return conn;
  }

  async execute(
    conn: DuckDBConnection,
    session: StandinSessionState,
    sqlText: string,
    bindings: Record<string, Binding> | undefined,
  ): Promise<ResultData> {
    const kind = statementKind(sqlText);
    const binds = Object.keys(bindings ?? {})
      .sort((a, b) => Number(a) - Number(b))
      .map((k) => bindings![k]!);
    const isArray = binds.length > 0 && Array.isArray(binds[0]!.value);
    const rows = isArray ? (binds[0]!.value as unknown[]).length : 1;
    this.executed.push({
      session: session.id,
      kind,
      sql: sqlText,
      rows,
      binds: isArray ? rows * binds.length : binds.length,
    });
    checkAccess(kind, sqlText, session);
    let sql = translate(sqlText, session.names);
    if (isArray) {
      const rewritten = arrayInsert(sql);
      if (!rewritten)
        throw new SnowflakeSqlError(
          '002014',
          '0A000',
          'Array binding is only supported for INSERT ... VALUES',
        );
      sql = rewritten;
    }
    const values: DuckDBValue[] = [];
    const types: DuckDBType[] = [];
    for (const b of binds) {
      const [value, type] = isArray ? arrayBind(b) : scalarBind(b);
      values.push(value);
      types.push(type);
    }
    try {
      const reader = await conn.runAndReadAll(sql, values, types);
      const temp =
        /^\s*CREATE\s+(?:OR\s+REPLACE\s+)?TEMP(?:ORARY)?\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)/i.exec(
          sqlText,
        );
      if (temp) session.temps.add(temp[1]!.toUpperCase());
      return formatResult(kind, reader);
    } catch (err) {
      throw toSnowflakeError(err);
    }
  }

  /** Runs DuckDB SQL directly (tests inspect what landed). */
  async query(sql: string): Promise<unknown[][]> {
    const conn = await this.db.connect();
    try {
      return (await conn.runAndReadAll(sql)).getRowsJS() as unknown[][];
    } finally {
      conn.closeSync();
    }
  }

  close(): void {
    this.db.closeSync();
  }
}

function scalarBind(b: Binding): [DuckDBValue, DuckDBType] {
  if (b.value === null || b.value === undefined) return [null, VARCHAR];
  const text = String(b.value);
  switch (b.type) {
    case 'FIXED':
      return /^-?\d+$/.test(text) ? [BigInt(text), BIGINT] : [Number(text), DOUBLE];
    case 'REAL':
      return [Number(text), DOUBLE];
    case 'BOOLEAN':
      return [text === 'true' || text === '1', BOOLEAN];
    default:
      return [text, VARCHAR];
  }
}

/** Array binds arrive as strings (the SDK stringifies every value); the INSERT casts them. */
function arrayBind(b: Binding): [DuckDBValue, DuckDBType] {
  const items = (b.value as unknown[]).map((v) => (v === null || v === undefined ? null : String(v)));
  return [listValue(items), LIST(VARCHAR)];
}

const DML = new Set(['INSERT', 'MERGE', 'UPDATE', 'DELETE']);

/** Snowflake's session checks: database/schema set, a warehouse for compute, privileges. */
function checkAccess(kind: string, sql: string, session: StandinSessionState): void {
  const { names, privileges } = session;
  const touchesTable = DML.has(kind) || (kind === 'SELECT' && /\bFROM\s+[A-Za-z_]/i.test(sql));
  if ((touchesTable || kind === 'CREATE') && names.database === null) {
    throw new SnowflakeSqlError(
      '090105',
      '22000',
      `Cannot perform ${kind}. This session does not have a current database. Call 'USE DATABASE', or use a qualified name.`,
    );
  }
  if ((touchesTable || kind === 'CREATE') && names.schema === null) {
    throw new SnowflakeSqlError(
      '090106',
      '22000',
      `Cannot perform ${kind}. This session does not have a current schema. Call 'USE SCHEMA', or use a qualified name.`,
    );
  }
  if (touchesTable && names.warehouse === null) {
    throw new SnowflakeSqlError(
      '000606',
      '57P03',
      "No active warehouse selected in the current session.  Select an active warehouse with the 'use warehouse' command.",
    );
  }
  if (
    kind === 'CREATE' &&
    !/^\s*CREATE\s+(OR\s+REPLACE\s+)?TEMP(ORARY)?\b/i.test(sql) &&
    !privileges.createTable
  ) {
    throw new SnowflakeSqlError(
      '003001',
      '42501',
      `SQL access control error:\nInsufficient privileges to operate on schema '${names.schema}'`,
    );
  }
  const target = /^\s*(?:INSERT\s+INTO|MERGE\s+INTO|DELETE\s+FROM|UPDATE)\s+(\w+)/i
    .exec(sql)?.[1]
    ?.toUpperCase();
  if (DML.has(kind) && target && !session.temps.has(target) && !privileges.write) {
    throw new SnowflakeSqlError(
      '003001',
      '42501',
      `SQL access control error:\nInsufficient privileges to operate on table '${target}'`,
    );
  }
}
