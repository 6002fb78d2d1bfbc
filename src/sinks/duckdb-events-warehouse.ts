import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { VehicleEvent } from '../domain/vehicle-event.js';
import { SinkError } from '../errors.js';
import { classifyDuckDbError, readRows } from './duckdb-sink.js';
import {
  eventChunks,
  eventsCountSql,
  eventsQuerySql,
  eventsTableDdl,
  toEvent,
  uniqueEvents,
} from './events-sql.js';
import {
  EVENTS_TABLE,
  type EventQuery,
  type EventsWarehouse,
  type EventsWriteResult,
} from './events-warehouse.js';
import { SinkGuard } from './sink-guard.js';
import { checkTableName, duckdbDialect as dialect } from './warehouse-sql.js';
import { toNumberOrNull } from './warehouse-read-sql.js';

/** The memory_limit of the DuckDB instance, owned by the positions warehouse. */
export interface DuckDbMemory {
  readonly memoryLimitBytes: number | undefined;
  /** True when a write that failed under `limitAtFailure` should be tried again (see DuckDbWarehouse). */
  growMemoryLimit(err: unknown, limitAtFailure: number | undefined): Promise<boolean>;
}

/**
 * The events table in the DuckDB file of the positions warehouse (one process owns a file, so
 * both tables share its instance, and its memory_limit: a write that runs out of memory has the
 * limit raised, as a positions write does). A batch is one statement over the bound JSON text with
 * `ON CONFLICT DO NOTHING` on the event id; reads use a fresh connection each.
 */
export class DuckDbEventsWarehouse implements EventsWarehouse {
  private readonly table: string;
  private readonly guard = new SinkGuard();
  private writer: DuckDBConnection | undefined;

  constructor(
    /** The positions warehouse's instance, once it is ready. */
    private readonly database: () => DuckDBInstance | undefined,
    table = EVENTS_TABLE,
    private readonly memory?: DuckDbMemory,
  ) {
    this.table = checkTableName(table);
  }

  async ready(): Promise<void> {
    if (this.writer) return;
    const conn = await this.instance().connect();
    try {
      await conn.run(eventsTableDdl(dialect, this.table));
    } catch (err) {
      conn.closeSync();
      throw classifyDuckDbError(err, `create table ${this.table}`);
    }
    this.writer = conn;
  }

  write(events: readonly VehicleEvent[]): Promise<EventsWriteResult> {
    if (events.length === 0) return Promise.resolve({ inserted: 0, duplicates: 0 });
    return this.guard.serial(async () => {
      for (;;) {
        const limit = this.memory?.memoryLimitBytes;
        try {
          return await this.writeOnce(events);
        } catch (err) {
          if (this.memory && (await this.memory.growMemoryLimit(err, limit))) continue;
          throw err;
        }
      }
    });
  }

  private async writeOnce(events: readonly VehicleEvent[]): Promise<EventsWriteResult> {
    const conn = this.writer;
    if (!conn) throw new SinkError('duckdb', 'events write before ready()');
    let inserted = 0;
    try {
      await conn.run('BEGIN TRANSACTION');
      for (const chunk of eventChunks(uniqueEvents(events))) {
        const result = await conn.run(
          `INSERT INTO ${this.table} (event_id, event_type, vehicle_id, ts, geofence_id, payload)
           SELECT value->>0, value->>1, value->>2, ${dialect.tsFromMs('CAST(value->>3 AS BIGINT)')},
             value->>4, CAST(value->>5 AS JSON)
           FROM (SELECT unnest(CAST(CAST($1 AS JSON) AS JSON[])) AS value)
           ON CONFLICT DO NOTHING`,
          [chunk],
        );
        inserted += Number(result.rowsChanged);
      }
      await conn.run('COMMIT');
    } catch (err) {
      await conn.run('ROLLBACK').catch(() => undefined);
      throw classifyDuckDbError(err, `events write of ${events.length}`);
    }
    return { inserted, duplicates: events.length - inserted };
  }

  async query(q: EventQuery): Promise<VehicleEvent[]> {
    const { sql, params } = eventsQuerySql(dialect, this.table, q);
    return (await this.read('events query', sql, params)).map(toEvent);
  }

  async count(filter: { vehicleId?: string } = {}): Promise<number> {
    const byVehicle = filter.vehicleId !== undefined;
    const rows = await this.read(
      'events count',
      eventsCountSql(dialect, this.table, byVehicle),
      byVehicle ? [filter.vehicleId] : [],
    );
    return toNumberOrNull(rows[0]?.[0]) ?? 0;
  }

  async close(): Promise<void> {
    await this.guard.idle();
    this.writer?.closeSync();
    this.writer = undefined;
  }

  private instance(): DuckDBInstance {
    const db = this.database();
    if (!db) throw new SinkError('duckdb', 'the events table needs the positions warehouse ready first');
    return db;
  }

  private read(what: string, sql: string, params: unknown[]): Promise<unknown[][]> {
    return readRows(this.instance(), what, sql, params);
  }
}
