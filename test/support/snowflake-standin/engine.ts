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
  /**
   * CREATE TEMPORARY TABLE on the schema. A temporary table needs it or CREATE TABLE; the MERGE
   * mode's stage table is one, so a role with neither fails at start-up. @default true
   */
  createTemporaryTable: boolean;
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
  /** Session parameters (upper case names): TIMEZONE, STATEMENT_TIMEOUT_IN_SECONDS, LOCK_TIMEOUT... */
  params: Map<string, string>;
}

/** Session parameters ALTER SESSION may set here (others fail as Snowflake fails unknown ones). */
const SESSION_PARAMS = new Set(['TIMEZONE', 'STATEMENT_TIMEOUT_IN_SECONDS', 'LOCK_TIMEOUT']);

export interface ExecutedStatement {
  session: number;
  kind: string;
  sql: string;
  /** Rows of an array bind (1 otherwise). */
  rows: number;
  /** Bind values in the request (rows × columns for array binds). */
  binds: number;
  /** UTF-8 bytes of the SQL text plus every bound value as text: what one statement carries. */
  bytes: number;
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

  async openSession(timezone = 'UTC'): Promise<DuckDBConnection> {
    const conn = await this.db.connect();
    await conn.run(`SET TimeZone = '${timezone.replace(/'/g, "''")}'`);
    return conn;
  }

  /** `ALTER SESSION SET A = 1, B = 'x'`: remembered per session; TIMEZONE applies to DuckDB too. */
  private async alterSession(conn: DuckDBConnection, session: StandinSessionState, sql: string) {
    const body = /^\s*ALTER\s+SESSION\s+SET\s+([\s\S]*?);?\s*$/i.exec(sql)?.[1];
    if (!body) throw new SnowflakeSqlError('001003', '42000', `SQL compilation error:\nsyntax error: ${sql}`);
    for (const part of body.split(',')) {
      const m = /^\s*(\w+)\s*=\s*'?([^']*?)'?\s*$/.exec(part);
      const name = m?.[1]?.toUpperCase();
      if (!m || !name || !SESSION_PARAMS.has(name)) {
        throw new SnowflakeSqlError('001008', '22023', `invalid parameter '${part.trim()}'`);
      }
      if (name === 'TIMEZONE') await conn.run(`SET TimeZone = '${m[2]!.replace(/'/g, "''")}'`);
      session.params.set(name, m[2]!);
    }
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
      bytes: Buffer.byteLength(sqlText) + bindBytes(binds),
    });
    checkAccess(kind, sqlText, session);
    if (kind === 'ALTER SESSION') {
      await this.alterSession(conn, session, sqlText);
      return formatResult('ALTER', undefined, 'UTC');
    }
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
      return formatResult(kind, reader, session.params.get('TIMEZONE') ?? 'UTC');
    } catch (err) {
      throw toSnowflakeError(err);
    }
  }

  /** Runs DuckDB SQL directly (tests inspect what landed; text parameters `$1..`). */
  async query(sql: string, params: string[] = []): Promise<unknown[][]> {
    const conn = await this.db.connect();
    try {
      const reader = params.length
        ? await conn.runAndReadAll(
            sql,
            params,
            params.map(() => VARCHAR),
          )
        : await conn.runAndReadAll(sql);
      return reader.getRowsJS() as unknown[][];
    } finally {
      conn.closeSync();
    }
  }

  close(): void {
    this.db.closeSync();
  }
}

function bindBytes(binds: Binding[]): number {
  let n = 0;
  for (const b of binds) {
    const values = Array.isArray(b.value) ? (b.value as unknown[]) : [b.value];
    for (const v of values) n += v === null || v === undefined ? 0 : Buffer.byteLength(String(v));
  }
  return n;
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
  const temporary = /^\s*CREATE\s+(OR\s+REPLACE\s+)?TEMP(ORARY)?\b/i.test(sql);
  if (kind === 'CREATE' && !privileges.createTable && !(temporary && privileges.createTemporaryTable)) {
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
