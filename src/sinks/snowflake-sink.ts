import snowflake from 'snowflake-sdk';
import type { SnowflakeConfig } from '../config/config.js';
import type { PositionRecord } from '../domain/records.js';
import { ConfigError, SinkError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { retry, type RetryOptions } from '../retry.js';
import { SinkGuard } from './sink-guard.js';
import {
  configureDriverLogging,
  connectionOptions,
  execute,
  type Connection,
  type ConnectionOptions,
  type DriverOptions,
} from './snowflake/connection.js';
import { classifySnowflakeError, toSinkError, type Classified } from './snowflake/errors.js';
import { BINDS_PER_ROW, mergeSql, stageDdl, stageInsertSql, stageRow, stageTable } from './snowflake/sql.js';
import { checkAccount } from './snowflake/startup.js';
import type { HistoryRow, TripRules, VehicleSummary, Warehouse, WriteResult } from './warehouse-sink.js';
import {
  checkTableName,
  countSql,
  DEFAULT_HISTORY_LIMIT,
  historyParams,
  historySql,
  snowflakeDialect as dialect,
  summaryParams,
  summarySql,
  toHistoryRow,
  toNumberOrNull,
  toVehicleSummary,
  uniqueRecords,
} from './warehouse-sql.js';

export interface SnowflakeWarehouseOptions {
  config: SnowflakeConfig;
  /** @default 'positions' */
  table?: string;
  logger?: Logger;
  /** Sessions kept for writes and reads. @default 4 */
  poolSize?: number;
  /**
   * Bind values per INSERT. The driver uploads larger bind arrays to a stage (PUT), which needs
   * extra privileges and cloud storage access; staying below Snowflake's
   * CLIENT_STAGE_ARRAY_BINDING_THRESHOLD (65,280) keeps binds inline. @default 60_000
   */
  maxBindsPerStatement?: number;
  /** Retries of transient failures inside one write, before the processor's own retry. */
  retry?: RetryOptions;
  driver?: DriverOptions;
}

/** Messages of login failures (the pool hides the error code). */
const LOGIN_REJECTED =
  /Incorrect username or password|JWT token is invalid|not granted to this user|locked|disabled/i;

/**
 * The production warehouse: every batch becomes rows in Snowflake exactly once. A write runs on
 * one pooled session: BEGIN; clear the session's temporary stage table; array-bound INSERTs of at
 * most `maxBindsPerStatement` binds each; one MERGE on (topic, partition, offset); COMMIT. A batch
 * re-delivered after a crash merges nothing new.
 */
export class SnowflakeWarehouse implements Warehouse {
  readonly name = 'snowflake';
  private readonly table: string;
  private readonly logger: Logger;
  private readonly guard = new SinkGuard();
  private readonly options: ConnectionOptions;
  private readonly fingerprint: string | undefined;
  private readonly rowsPerInsert: number;
  private readonly staged = new WeakSet<Connection>();
  private pool: ReturnType<typeof snowflake.createPool> | undefined;

  constructor(private readonly settings: SnowflakeWarehouseOptions) {
    this.table = checkTableName(settings.table ?? 'positions');
    this.logger = (settings.logger ?? silentLogger).child({ component: 'warehouse', adapter: 'snowflake' });
    const built = connectionOptions(settings.config, settings.driver);
    this.options = built.options;
    this.fingerprint = built.fingerprint;
    this.rowsPerInsert = Math.max(1, Math.floor((settings.maxBindsPerStatement ?? 60_000) / BINDS_PER_ROW));
    configureDriverLogging(settings.logger ?? silentLogger);
    try {
      // Validates the options the driver's way (account format, key shape) without connecting.
      snowflake.createConnection({ ...this.options });
    } catch (err) {
      throw new ConfigError(
        'SNOWFLAKE_ACCOUNT',
        `the Snowflake driver refuses the settings: ${(err as Error).message}`,
      );
    }
  }

  /** Logs in once to check credentials, objects and grants, creates (or verifies) the table. */
  async ready(): Promise<void> {
    if (this.pool) return;
    const check = await checkAccount(this.options, this.settings.config, this.table, this.fingerprint);
    if (check.createSkipped) {
      this.logger.warn({ err: check.createSkipped }, 'cannot create the table, but it exists: using it');
    }
    const { database, schema, warehouse, role } = check;
    const { fingerprint, rowsPerInsert, table } = this;
    this.logger.info(
      { database, schema, warehouse, role, table, fingerprint, rowsPerInsert },
      'snowflake warehouse ready',
    );
    this.pool = snowflake.createPool(this.options, {
      max: this.settings.poolSize ?? 4,
      min: 0,
      acquireTimeoutMillis: 120_000,
      idleTimeoutMillis: 600_000,
      evictionRunIntervalMillis: 60_000,
    });
  }

  write(batch: readonly PositionRecord[]): Promise<WriteResult> {
    if (batch.length === 0) return Promise.resolve({ inserted: 0, duplicates: 0 });
    return this.guard.serial(async () => {
      const rows = uniqueRecords(batch);
      let minTs = Infinity;
      let maxTs = -Infinity;
      for (const r of rows) {
        minTs = Math.min(minTs, r.position.ts);
        maxTs = Math.max(maxTs, r.position.ts);
      }
      const inserted = await this.withRetry(`write of ${batch.length} records`, (conn) =>
        this.writeOnce(conn, rows, minTs, maxTs),
      );
      return { inserted, duplicates: batch.length - inserted };
    });
  }

  async ping(): Promise<void> {
    this.guard.throwIfFatal();
    await this.withConnection('ping', (conn) => this.run(conn, 'SELECT 1'), true);
  }

  async history(query: {
    vehicleId: string;
    from: number;
    to: number;
    limit?: number;
  }): Promise<HistoryRow[]> {
    const sql = historySql(dialect, this.table, query.limit ?? DEFAULT_HISTORY_LIMIT);
    const { rows } = await this.withConnection('history', (conn) =>
      this.run(conn, sql, historyParams(query)),
    );
    return rows.map(toHistoryRow);
  }

  async summary(query: {
    vehicleId: string;
    from: number;
    to: number;
    rules: TripRules;
  }): Promise<VehicleSummary> {
    const sql = summarySql(dialect, this.table);
    const { rows } = await this.withConnection('summary', (conn) =>
      this.run(conn, sql, summaryParams(query)),
    );
    return toVehicleSummary(rows[0], query);
  }

  async count(filter: { topic?: string } = {}): Promise<number> {
    const byTopic = filter.topic !== undefined;
    const sql = countSql(dialect, this.table, byTopic);
    const { rows } = await this.withConnection('count', (conn) =>
      this.run(conn, sql, byTopic ? [filter.topic!] : []),
    );
    return toNumberOrNull(rows[0]?.[0]) ?? 0;
  }

  async close(): Promise<void> {
    await this.guard.idle();
    const pool = this.pool;
    this.pool = undefined;
    if (pool) {
      await pool.drain();
      await pool.clear();
    }
  }

  private async writeOnce(
    conn: Connection,
    rows: readonly PositionRecord[],
    minTs: number,
    maxTs: number,
  ): Promise<number> {
    if (!this.staged.has(conn)) {
      await this.run(conn, stageDdl(this.table));
      this.staged.add(conn);
    }
    await this.run(conn, 'BEGIN TRANSACTION');
    try {
      await this.run(conn, `DELETE FROM ${stageTable(this.table)}`);
      const insert = stageInsertSql(this.table);
      for (let i = 0; i < rows.length; i += this.rowsPerInsert) {
        await this.run(conn, insert, rows.slice(i, i + this.rowsPerInsert).map(stageRow));
      }
      const merged = await this.run(conn, mergeSql(this.table), [minTs, maxTs]);
      await this.run(conn, 'COMMIT');
      return toNumberOrNull(merged.rows[0]?.[0]) ?? 0;
    } catch (err) {
      await this.run(conn, 'ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  private run(conn: Connection, sql: string, binds?: readonly unknown[]) {
    return execute(conn, sql, binds as snowflake.Binds | undefined);
  }

  /** Transient failures retry here (a few times, with backoff) before surfacing as retriable. */
  private withRetry<T>(what: string, fn: (conn: Connection) => Promise<T>): Promise<T> {
    return retry(() => this.withConnection(what, fn, true), {
      retries: 2,
      initialMs: 250,
      maxMs: 5_000,
      ...this.settings.retry,
      onRetry: ({ attempt, delayMs, error }) =>
        this.logger.warn({ attempt, delayMs, err: error }, `${what}: retrying`),
    });
  }

  /** Runs `fn` on a pooled session; drops the session when it is dead, latches fatal failures. */
  private async withConnection<T>(
    what: string,
    fn: (conn: Connection) => Promise<T>,
    latch = false,
  ): Promise<T> {
    const pool = this.pool;
    if (!pool) throw new SinkError(this.name, `${what} before ready()`);
    let conn: Connection;
    try {
      conn = await pool.acquire();
    } catch (err) {
      // The pool hides the driver's error code: only a rejected login is fatal here.
      const message = (err as Error).message;
      const failure = LOGIN_REJECTED.test(message) ? 'fatal' : 'transient';
      throw this.failed(what, { failure, code: 'login', message }, err, latch);
    }
    try {
      if (!conn.isUp()) throw Object.assign(new Error('session is down'), { code: 407002 });
      const result = await fn(conn);
      await pool.release(conn);
      return result;
    } catch (err) {
      const c = classifySnowflakeError(err);
      if (c.failure === 'reconnect' || c.failure === 'transient')
        await pool.destroy(conn).catch(() => undefined);
      else await pool.release(conn).catch(() => undefined);
      throw this.failed(what, c, err, latch);
    }
  }

  private failed(what: string, c: Classified, cause: unknown, latch: boolean): SinkError {
    const error = toSinkError(what, c, cause);
    if (c.failure === 'fatal' && latch) {
      this.guard.latch(error);
      this.logger.error({ err: error, code: c.code }, `${what}: fatal Snowflake failure, writes stop`);
    } else {
      this.logger.warn({ err: error, code: c.code, failure: c.failure }, `${what} failed`);
    }
    return error;
  }
}
