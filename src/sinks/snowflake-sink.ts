import type { PositionRecord } from '../domain/records.js';
import type { Connection } from './snowflake/connection.js';
import { SnowflakeBase, type SnowflakeAdapterOptions } from './snowflake/snowflake-base.js';
import {
  jsonChunks,
  mergeSql,
  positionsHeldByOthersSql,
  stageDdl,
  stageInsertSql,
  stageTableName,
  type MergeSource,
} from './snowflake/sql.js';
import { NOTHING_WRITTEN, type WriteResult } from './warehouse-sink.js';
import { toNumberOrNull } from './warehouse-read-sql.js';
import { uniqueRecords } from './warehouse-sql.js';

export interface SnowflakeWarehouseOptions extends SnowflakeAdapterOptions {
  /**
   * UTF-8 bytes of batch JSON bound to one statement. Snowflake recommends at most 1 MB of text
   * plus binds per statement (https://docs.snowflake.com/user-guide/query-size-limits). A batch
   * that fits is merged from the bound JSON in one statement; a larger one is staged chunk by
   * chunk. @default 1_000_000
   */
  maxStatementBytes?: number;
}

/**
 * The MERGE write mode (SNOWFLAKE_INGEST=merge, the default): every batch becomes rows exactly
 * once. A write runs on one pooled session: the batch travels as JSON text bound to one parameter
 * and expanded by FLATTEN; a batch within `maxStatementBytes` is one MERGE on (topic, partition,
 * offset), a larger one is staged first (DELETE the session's temporary stage table, one INSERT per
 * chunk, then the MERGE from the stage).
 *
 * No explicit transaction: the stage is session-private and the MERGE atomic on its own (its table
 * lock keeps deduplication safe while partitions move between processors), so autocommit saves
 * the BEGIN/COMMIT round trips and holds the lock only for the MERGE. A batch re-delivered after a
 * crash merges nothing new.
 */
export class SnowflakeWarehouse extends SnowflakeBase {
  private readonly maxStatementBytes: number;
  private readonly stage = stageTableName();
  private readonly staged = new WeakSet<Connection>();

  constructor(settings: SnowflakeWarehouseOptions) {
    super(settings, 'merge');
    this.maxStatementBytes = settings.maxStatementBytes ?? 1_000_000;
  }

  /** Logs in once to check credentials, objects and grants (incl. the temporary stage table). */
  async ready(): Promise<void> {
    if (this.sessions.isOpen) return;
    const check = await this.sessions.open(this.stage);
    if (check.createSkipped) {
      this.logger.warn({ err: check.createSkipped }, 'cannot create the table, but it exists: using it');
    }
    const { database, schema, warehouse, role } = check;
    const { table, maxStatementBytes, stage } = this;
    this.logger.info(
      {
        database,
        schema,
        warehouse,
        role,
        table,
        stage,
        maxStatementBytes,
        fingerprint: this.sessions.fingerprint,
        deadlineMs: this.sessions.deadlineMs,
      },
      'snowflake warehouse ready',
    );
  }

  write(batch: readonly PositionRecord[]): Promise<WriteResult> {
    if (batch.length === 0) return Promise.resolve(NOTHING_WRITTEN);
    return this.guard.serial(async () => {
      const { records: rows, positionDuplicates: repeated } = uniqueRecords(batch);
      let minTs = Infinity;
      let maxTs = -Infinity;
      for (const r of rows) {
        minTs = Math.min(minTs, r.position.ts);
        maxTs = Math.max(maxTs, r.position.ts);
      }
      // The statement's own text (~1.5 KB) counts towards the limit too.
      const chunks = jsonChunks(rows, this.maxStatementBytes - 4096);
      const { inserted, lost } = await this.sessions.withRetry(`write of ${batch.length} records`, (conn) =>
        this.writeOnce(conn, chunks, minTs, maxTs, rows.length),
      );
      return { inserted, duplicates: batch.length - inserted, positionDuplicates: repeated + lost };
    });
  }

  private async writeOnce(conn: Connection, chunks: string[], minTs: number, maxTs: number, rows: number) {
    const run = (sql: string, binds?: unknown[]) => this.sessions.run(conn, sql, binds);
    const count = (r: { rows: unknown[][] }) => toNumberOrNull(r.rows[0]?.[0]) ?? 0;
    let source: MergeSource = 'bound-json';
    let binds: unknown[] = [chunks[0], minTs, maxTs];
    if (chunks.length > 1) {
      if (!this.staged.has(conn)) {
        await run(stageDdl(this.stage));
        this.staged.add(conn);
      }
      await run(`DELETE FROM ${this.stage}`);
      for (const chunk of chunks) await run(stageInsertSql(this.stage), [chunk]);
      source = { stage: this.stage };
      binds = [minTs, maxTs];
    }
    const inserted = count(await run(mergeSql(this.table, source), binds));
    // Rare (a re-delivery or a device retry): one more statement tells the two apart.
    const lost = inserted < rows ? count(await run(positionsHeldByOthersSql(this.table, source), binds)) : 0;
    return { inserted, lost };
  }
}
