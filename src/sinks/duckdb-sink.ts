import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import {
  BIGINT,
  DOUBLE,
  DuckDBDataChunk,
  DuckDBInstance,
  INTEGER,
  VARCHAR,
  type DuckDBAppender,
  type DuckDBConnection,
  type DuckDBValue,
} from '@duckdb/node-api';
import type { PositionRecord } from '../domain/records.js';
import { errorMessage, SinkError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { SinkGuard } from './sink-guard.js';
import { duckdbTableDdl, migrateDuckDbTable } from './duckdb-schema.js';
import { NOTHING_WRITTEN, type Warehouse, type WriteResult } from './warehouse-sink.js';
import type { HistoryRow, TripRules, VehicleSummary } from './warehouse-reader.js';
import { attributesJson, checkTableName, duckdbDialect as dialect, uniqueRecords } from './warehouse-sql.js';
import {
  countSql,
  DEFAULT_HISTORY_LIMIT,
  historyParams,
  historySql,
  summaryParams,
  summarySql,
  toHistoryRow,
  toNumberOrNull,
  toVehicleSummary,
} from './warehouse-read-sql.js';

export interface DuckDbWarehouseOptions {
  /** Database file, created with its directory when missing; `:memory:` for none. */
  path: string;
  /** Table of every position. @default 'positions' */
  table?: string;
  /** DuckDB memory_limit (`128MB`); beyond it the buffer pool spills to the file. @default DuckDB's (80% of RAM) */
  memoryLimit?: string;
  /** DuckDB worker threads. @default DuckDB's (one per core) */
  threads?: number;
  /**
   * How far `memoryLimit` doubles when a write runs out of memory (the primary-key index cannot be
   * evicted, so it must fit). @default a quarter of the machine's memory
   */
  maxMemoryLimit?: string;
  logger?: Logger;
}

/**
 * Columns of the session-private staging table, in appender order. Epoch milliseconds travel as
 * DOUBLE (exact below 2^53) so the appender copies them as a typed array, with no BigInt per row.
 */
const STAGE_COLUMNS = `vehicle_id VARCHAR, ts_ms DOUBLE, lat DOUBLE, lon DOUBLE, speed DOUBLE, heading DOUBLE,
  altitude DOUBLE, accuracy DOUBLE, battery DOUBLE, attributes VARCHAR, kafka_topic VARCHAR,
  kafka_topic_id VARCHAR, kafka_partition INTEGER, kafka_offset BIGINT, kafka_ts_ms DOUBLE`;
const STAGE_TYPES = [
  VARCHAR,
  DOUBLE,
  DOUBLE,
  DOUBLE,
  DOUBLE,
  DOUBLE,
  DOUBLE,
  DOUBLE,
  DOUBLE,
  VARCHAR,
  VARCHAR,
  VARCHAR,
  INTEGER,
  BIGINT,
  DOUBLE,
];
/** Rows per appended data chunk: DuckDB's vector size. */
const CHUNK_ROWS = 2048;

/**
 * The embedded warehouse (default). Writes go through one connection, one at a time: the batch is
 * appended (DuckDB Appender, no SQL per row) to a connection-private temp table, then copied in
 * the same transaction except for records already stored (primary key: topic, topic id,
 * partition, offset) and positions already stored (unique: vehicle, ts), which are skipped and
 * counted as duplicates. Reads use a fresh connection each, so API queries neither
 * wait for nor block the writer.
 */
export class DuckDbWarehouse implements Warehouse {
  readonly name = 'duckdb';
  private readonly table: string;
  private readonly stage: string;
  private readonly logger: Logger;
  private readonly guard = new SinkGuard();
  private instance: DuckDBInstance | undefined;
  private limitBytes: number | undefined;
  private readonly maxLimitBytes: number;
  private writer: DuckDBConnection | undefined;

  constructor(private readonly options: DuckDbWarehouseOptions) {
    this.table = checkTableName(options.table ?? 'positions');
    this.stage = `${this.table}_stage`;
    this.logger = (options.logger ?? silentLogger).child({ component: 'warehouse', adapter: 'duckdb' });
    this.limitBytes = options.memoryLimit === undefined ? undefined : parseSize(options.memoryLimit);
    this.maxLimitBytes = Math.max(
      this.limitBytes ?? 0,
      options.maxMemoryLimit === undefined ? os.totalmem() / 4 : parseSize(options.maxMemoryLimit),
    );
  }

  async ready(): Promise<void> {
    if (this.instance) return;
    const file = this.options.path;
    try {
      if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      this.instance = await DuckDBInstance.create(file, {
        ...(this.options.memoryLimit ? { memory_limit: this.options.memoryLimit } : {}),
        ...(this.options.threads ? { threads: String(this.options.threads) } : {}),
      });
      this.writer = await this.instance.connect();
      await migrateDuckDbTable(this.writer, this.table, this.logger);
      await this.writer.run(duckdbTableDdl(this.table));
      await this.writer.run(`CREATE TEMP TABLE IF NOT EXISTS ${this.stage} (${STAGE_COLUMNS})`);
    } catch (err) {
      this.closeHandles();
      // Start-up problems (locked or unreadable file, bad table) are never worth retrying blindly.
      throw new SinkError(this.name, `cannot open ${file} (DUCKDB_PATH): ${errorMessage(err)}`, {
        cause: err,
      });
    }
    this.logger.info({ path: file, table: this.table }, 'duckdb warehouse ready');
  }

  /** The open database (after `ready()`): adapters of further tables share it, DuckDB allows one process per file. */
  get database(): DuckDBInstance | undefined {
    return this.instance;
  }

  /** The memory_limit now, bytes (grows when the primary-key index outgrows it); undefined: DuckDB's default. */
  get memoryLimitBytes(): number | undefined {
    return this.limitBytes;
  }

  write(batch: readonly PositionRecord[]): Promise<WriteResult> {
    if (batch.length === 0) return Promise.resolve(NOTHING_WRITTEN);
    return this.guard.serial(async () => {
      for (;;) {
        const limit = this.limitBytes;
        try {
          return await this.writeOnce(batch);
        } catch (err) {
          if (await this.growMemoryLimit(err, limit)) continue;
          if (isOutOfMemory(err)) {
            this.logger.warn(
              { err, limitMiB: Math.round((this.limitBytes ?? 0) / 1048576) },
              'duckdb is out of memory at its ceiling (DUCKDB_MEMORY_MAX): raise it, or use Snowflake',
            );
          }
          throw err;
        }
      }
    });
  }

  /**
   * DuckDB keeps the primary-key index (ART) in memory; once it outgrows memory_limit every write
   * fails with "Out of Memory" and would keep failing. Doubling the limit (up to the ceiling) lets
   * the write succeed; past the ceiling the error stands (retriable: freeing memory may help).
   * True when the write should be tried again: the limit was raised now, or by another table of
   * this file (the events table) since `limitAtFailure`. memory_limit belongs to the instance, so
   * every table's writer shares it; it is set on a connection of its own, beside running writes.
   */
  async growMemoryLimit(err: unknown, limitAtFailure: number | undefined): Promise<boolean> {
    const current = this.limitBytes;
    if (!isOutOfMemory(err) || current === undefined || !this.instance) return false;
    if (limitAtFailure !== undefined && current > limitAtFailure) return true;
    if (current >= this.maxLimitBytes) return false;
    const next = Math.min(current * 2, this.maxLimitBytes);
    const conn = await this.instance.connect();
    try {
      await conn.run(`SET memory_limit = '${Math.floor(next / 1024 / 1024)}MiB'`);
    } catch {
      return false;
    } finally {
      conn.closeSync();
    }
    if ((this.limitBytes ?? 0) >= next) return true;
    this.limitBytes = next;
    this.logger.warn(
      { fromMiB: Math.round(current / 1048576), toMiB: Math.round(next / 1048576) },
      'duckdb ran out of memory (its primary-key index grows with the table): memory_limit raised',
    );
    return true;
  }

  private async writeOnce(batch: readonly PositionRecord[]): Promise<WriteResult> {
    const conn = this.connection();
    const { records, positionDuplicates: repeated } = uniqueRecords(batch);
    try {
      await conn.run('BEGIN TRANSACTION');
      await conn.run(`DELETE FROM ${this.stage}`);
      const appender = await conn.createAppender(this.stage, null, 'temp');
      try {
        await appendRecords(appender, records);
      } catch (err) {
        // Closing an appender of an aborted transaction throws too: keep the error that matters.
        try {
          appender.closeSync();
        } catch {
          /* already failing */
        }
        throw err;
      }
      appender.closeSync();
      const result = await conn.run(
        `INSERT INTO ${this.table} (vehicle_id, ts, lat, lon, speed, heading, altitude, accuracy, battery,
           attributes, kafka_topic, kafka_topic_id, kafka_partition, kafka_offset, kafka_ts)
         SELECT vehicle_id, ${dialect.tsFromMs('ts_ms')}, lat, lon, speed, heading, altitude, accuracy, battery,
           CAST(attributes AS JSON), kafka_topic, kafka_topic_id, kafka_partition, kafka_offset,
           ${dialect.tsFromMs('kafka_ts_ms')}
         FROM ${this.stage} s
         WHERE NOT EXISTS (${this.storedPosition('s')}) AND NOT EXISTS (${this.storedRecord('s')})`,
      );
      const inserted = Number(result.rowsChanged);
      // Only when something was skipped: which of the skipped records lost to another record's
      // position (a device retry) rather than being stored themselves before (a re-delivery).
      const lost = inserted < records.length ? await this.positionsHeldByOthers(conn) : 0;
      await conn.run('COMMIT');
      return { inserted, duplicates: batch.length - inserted, positionDuplicates: repeated + lost };
    } catch (err) {
      await conn.run('ROLLBACK').catch(() => undefined);
      const error = classifyDuckDbError(err, `write of ${batch.length} records`);
      if (isSystemic(err)) this.guard.latch(error);
      if (!isOutOfMemory(err)) {
        this.logger.warn({ err: error, retriable: error.retriable }, 'duckdb write failed');
      }
      throw error;
    }
  }

  /**
   * A stored row with the staged row `s`'s position (vehicle, ts), looked for only in the batch's
   * event-time range so DuckDB's zone maps skip the rest of the table.
   *
   * Why not `ON CONFLICT DO NOTHING`: with two unique keys DuckDB 1.x checks conflicts at a cost
   * that grows with the table (measured: 100k rows in 9k batches took 31 s, the last batch 4.2 s;
   * with these anti-joins 1M rows take 5.7 s, 34 ms per batch at the end). One writer holds the
   * file and writes one batch at a time, so nothing can insert between the check and the insert;
   * the keys stay declared and would fail the write loudly if that ever changed.
   */
  private storedPosition(s: string): string {
    return `SELECT 1 FROM ${this.table} t
      WHERE t.ts BETWEEN (SELECT ${dialect.tsFromMs('min(ts_ms)')} FROM ${this.stage})
        AND (SELECT ${dialect.tsFromMs('max(ts_ms)')} FROM ${this.stage})
        AND t.vehicle_id = ${s}.vehicle_id AND t.ts = ${dialect.tsFromMs(`${s}.ts_ms`)}`;
  }

  /** A stored row with the staged row `s`'s record coordinates (a re-delivery), within the batch's offsets. */
  private storedRecord(s: string): string {
    return `SELECT 1 FROM ${this.table} t
      WHERE t.kafka_offset BETWEEN (SELECT min(kafka_offset) FROM ${this.stage})
        AND (SELECT max(kafka_offset) FROM ${this.stage})
        AND t.kafka_offset = ${s}.kafka_offset AND t.kafka_partition = ${s}.kafka_partition
        AND t.kafka_topic_id = ${s}.kafka_topic_id AND t.kafka_topic = ${s}.kafka_topic`;
  }

  /**
   * Staged records whose (vehicle, ts) is stored under other coordinates. Bounded to the batch's
   * event-time range, so DuckDB's zone maps skip row groups outside it.
   */
  private async positionsHeldByOthers(conn: DuckDBConnection): Promise<number> {
    const ts = dialect.tsFromMs('s.ts_ms');
    const reader = await conn.runAndReadAll(
      `WITH b AS (SELECT min(ts_ms) AS lo, max(ts_ms) AS hi FROM ${this.stage})
       SELECT count(*) FROM ${this.stage} s
       WHERE EXISTS (
         SELECT 1 FROM ${this.table} t, b
         WHERE t.ts BETWEEN ${dialect.tsFromMs('b.lo')} AND ${dialect.tsFromMs('b.hi')}
           AND t.vehicle_id = s.vehicle_id AND t.ts = ${ts}
           AND (t.kafka_offset <> s.kafka_offset OR t.kafka_partition <> s.kafka_partition
             OR t.kafka_topic_id <> s.kafka_topic_id OR t.kafka_topic <> s.kafka_topic))`,
    );
    return Number(reader.getRowsJS()[0]?.[0] ?? 0);
  }

  async ping(): Promise<void> {
    this.guard.throwIfFatal();
    await this.read('ping', 'SELECT 1', []);
  }

  async history(query: {
    vehicleId: string;
    from: number;
    to: number;
    limit?: number;
  }): Promise<HistoryRow[]> {
    const sql = historySql(dialect, this.table, query.limit ?? DEFAULT_HISTORY_LIMIT);
    return (await this.read('history', sql, historyParams(query))).map(toHistoryRow);
  }

  async summary(query: {
    vehicleId: string;
    from: number;
    to: number;
    rules: TripRules;
  }): Promise<VehicleSummary> {
    const rows = await this.read('summary', summarySql(dialect, this.table), summaryParams(query));
    return toVehicleSummary(rows[0], query);
  }

  async count(filter: { topic?: string } = {}): Promise<number> {
    const byTopic = filter.topic !== undefined;
    const rows = await this.read(
      'count',
      countSql(dialect, this.table, byTopic),
      byTopic ? [filter.topic] : [],
    );
    return toNumberOrNull(rows[0]?.[0]) ?? 0;
  }

  async close(): Promise<void> {
    await this.guard.idle();
    this.closeHandles();
  }

  private read(what: string, sql: string, params: unknown[]): Promise<unknown[][]> {
    if (!this.instance) throw new SinkError(this.name, `${what} before ready()`);
    return readRows(this.instance, what, sql, params);
  }

  private connection(): DuckDBConnection {
    if (!this.writer) throw new SinkError(this.name, 'write before ready()');
    return this.writer;
  }

  private closeHandles(): void {
    this.writer?.closeSync();
    this.instance?.closeSync();
    this.writer = undefined;
    this.instance = undefined;
  }
}

/** Runs one read on a fresh connection (reads neither wait for nor block the writer). */
export async function readRows(
  instance: DuckDBInstance,
  what: string,
  sql: string,
  params: unknown[],
): Promise<unknown[][]> {
  let conn: DuckDBConnection | undefined;
  try {
    conn = await instance.connect();
    return (await conn.runAndReadAll(sql, params as never[])).getRowsJS() as unknown[][];
  } catch (err) {
    throw classifyDuckDbError(err, what);
  } finally {
    conn?.closeSync();
  }
}

/**
 * Appends column-wise, one data chunk per 2048 rows: numbers are copied as typed arrays instead of
 * one native call per value (the row-by-row appender cost ~5 µs per record on the event loop).
 * The appender is synchronous, so the event loop is handed back between chunks: a 25k-record
 * batch otherwise stalled everything else on the thread (Kafka fetches, Redis upserts, the API)
 * for 35–80 ms (`bench/warehouse-write.ts` prints the longest stall).
 */
async function appendRecords(a: DuckDBAppender, records: readonly PositionRecord[]): Promise<void> {
  for (let start = 0; start < records.length; start += CHUNK_ROWS) {
    if (start > 0) await yieldToEventLoop();
    const n = Math.min(CHUNK_ROWS, records.length - start);
    const c = STAGE_TYPES.map(() => new Array<DuckDBValue>(n));
    for (let i = 0; i < n; i++) {
      const r = records[start + i]!;
      const p = r.position;
      c[0]![i] = p.vehicleId;
      c[1]![i] = p.ts;
      c[2]![i] = p.lat;
      c[3]![i] = p.lon;
      c[4]![i] = p.speed ?? null;
      c[5]![i] = p.heading ?? null;
      c[6]![i] = p.altitude ?? null;
      c[7]![i] = p.accuracy ?? null;
      c[8]![i] = p.battery ?? null;
      c[9]![i] = attributesJson(r);
      c[10]![i] = r.topic;
      c[11]![i] = r.topicId;
      c[12]![i] = r.partition;
      c[13]![i] = BigInt(r.offset);
      c[14]![i] = Math.trunc(r.kafkaTs);
    }
    const chunk = DuckDBDataChunk.create(STAGE_TYPES, n);
    chunk.setColumns(c);
    a.appendDataChunk(chunk);
    a.flushSync();
  }
}

/** DuckDB errors are plain Errors whose message starts with the error class ("IO Error: ..."). */
function errorClass(err: unknown): string {
  return /^([A-Za-z ]+?) Error:/.exec(errorMessage(err))?.[1] ?? '';
}

/** Disk, memory, lock and write-conflict trouble may pass; anything else will fail the same way. */
const TRANSIENT = new Set(['IO', 'Out of Memory', 'TransactionContext', 'Interrupt', 'Connection']);
/** The table itself is wrong or gone: every later write fails too. */
const SYSTEMIC = new Set(['Catalog', 'Binder', 'Parser', 'Permission']);

export function classifyDuckDbError(err: unknown, what: string): SinkError {
  if (err instanceof SinkError) return err;
  const retriable = TRANSIENT.has(errorClass(err)) || isOutOfMemory(err);
  return new SinkError('duckdb', `${what} failed: ${errorMessage(err)}`, { retriable, cause: err });
}

/**
 * DuckDB reports memory exhaustion as "Out of Memory Error: …", or, inside an appender, as
 * "Failed to append: could not allocate block …".
 */
function isOutOfMemory(err: unknown): boolean {
  const raw = err instanceof SinkError && err.cause !== undefined ? err.cause : err;
  return (
    errorClass(raw) === 'Out of Memory' || /could not allocate|failed to allocate/i.test(errorMessage(raw))
  );
}

function isSystemic(err: unknown): boolean {
  return SYSTEMIC.has(errorClass(err));
}

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** `128MB` → bytes, with DuckDB's meaning of the units (KB = 1000, KiB = 1024). */
export function parseSize(size: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]+)$/i.exec(size.trim());
  const unit = match ? UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) throw new RangeError(`not a size: ${size}`);
  return Number(match[1]) * unit;
}
