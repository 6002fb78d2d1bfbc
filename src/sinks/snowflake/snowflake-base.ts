import type { Registry } from 'prom-client';
import type { SnowflakeConfig } from '../../config/config.js';
import type { PositionRecord } from '../../domain/records.js';
import { silentLogger, type Logger } from '../../logger.js';
import type { RetryOptions } from '../../retry.js';
import { SinkGuard } from '../sink-guard.js';
import type { HistoryRow, TripRules, VehicleSummary } from '../warehouse-reader.js';
import type { Warehouse, WriteResult } from '../warehouse-sink.js';
import { checkTableName, snowflakeDialect as dialect } from '../warehouse-sql.js';
import {
  countSql,
  DEFAULT_HISTORY_LIMIT,
  historyParams,
  type ReadTable,
  historySql,
  summaryParams,
  summarySql,
  toHistoryRow,
  toNumberOrNull,
  toVehicleSummary,
} from '../warehouse-read-sql.js';
import type { DriverOptions } from './connection.js';
import { SnowflakeSessions } from './sessions.js';

/** Options both Snowflake write modes take. */
export interface SnowflakeAdapterOptions {
  config: SnowflakeConfig;
  /** @default 'positions' */
  table?: string;
  logger?: Logger;
  /** SQL sessions kept for writes (merge mode) and reads. @default 4 */
  poolSize?: number;
  /**
   * Client-side deadline of every statement and session borrow; also the sessions'
   * STATEMENT_TIMEOUT_IN_SECONDS and LOCK_TIMEOUT (SNOWFLAKE_STATEMENT_TIMEOUT_MS). @default 120_000
   */
  statementTimeoutMs?: number;
  /** Retries of transient failures inside one write, before the processor's own retry. */
  retry?: RetryOptions;
  driver?: DriverOptions;
  /** @default defaultRegistry */
  registry?: Registry;
}

/**
 * What the two Snowflake adapters share: the SQL sessions (start-up check, pool, deadlines,
 * classification), the serial-write guard and the read side (history, summary, count) through the
 * shared SQL. Subclasses implement the write mode.
 */
export abstract class SnowflakeBase implements Warehouse {
  readonly name = 'snowflake';
  protected readonly table: string;
  protected readonly logger: Logger;
  protected readonly guard = new SinkGuard();
  /** The SQL sessions; the events table's adapter shares them. */
  readonly sessions: SnowflakeSessions;
  /** What reads select from: append-only write modes read positions deduplicated. */
  protected readTable: ReadTable;

  constructor(settings: SnowflakeAdapterOptions, mode: string) {
    this.table = checkTableName(settings.table ?? 'positions');
    this.readTable = this.table;
    const logger = settings.logger ?? silentLogger;
    this.logger = logger.child({ component: 'warehouse', adapter: 'snowflake', mode });
    this.sessions = new SnowflakeSessions({
      config: settings.config,
      table: this.table,
      logger: this.logger,
      guard: this.guard,
      ...(settings.poolSize ? { poolSize: settings.poolSize } : {}),
      ...(settings.statementTimeoutMs ? { statementTimeoutMs: settings.statementTimeoutMs } : {}),
      ...(settings.retry ? { retry: settings.retry } : {}),
      ...(settings.driver ? { driver: settings.driver } : {}),
      ...(settings.registry ? { registry: settings.registry } : {}),
    });
  }

  abstract ready(): Promise<void>;
  abstract write(batch: readonly PositionRecord[]): Promise<WriteResult>;

  async ping(): Promise<void> {
    this.guard.throwIfFatal();
    await this.sessions.withConnection('ping', (conn) => this.sessions.run(conn, 'SELECT 1'), true);
  }

  async history(query: {
    vehicleId: string;
    from: number;
    to: number;
    limit?: number;
  }): Promise<HistoryRow[]> {
    const sql = historySql(dialect, this.readTable, query.limit ?? DEFAULT_HISTORY_LIMIT);
    const { rows } = await this.sessions.query('history', sql, historyParams(query));
    return rows.map(toHistoryRow);
  }

  async summary(query: {
    vehicleId: string;
    from: number;
    to: number;
    rules: TripRules;
  }): Promise<VehicleSummary> {
    const { rows } = await this.sessions.query(
      'summary',
      summarySql(dialect, this.readTable),
      summaryParams(query),
    );
    return toVehicleSummary(rows[0], query);
  }

  async count(filter: { topic?: string } = {}): Promise<number> {
    const byTopic = filter.topic !== undefined;
    const sql = countSql(dialect, this.readTable, byTopic);
    const { rows } = await this.sessions.query('count', sql, byTopic ? [filter.topic!] : []);
    return toNumberOrNull(rows[0]?.[0]) ?? 0;
  }

  async close(): Promise<void> {
    await this.guard.idle();
    await this.sessions.close();
  }
}
