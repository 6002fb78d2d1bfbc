import type { VehicleEvent } from '../domain/vehicle-event.js';
import { ConfigError, isRetriable } from '../errors.js';
import {
  eventChunks,
  eventsCountSql,
  eventsQuerySql,
  eventsTableDdl,
  toEvent,
  uniqueEvents,
  verifyEventsTableSql,
} from './events-sql.js';
import {
  EVENTS_TABLE,
  type EventQuery,
  type EventsWarehouse,
  type EventsWriteResult,
} from './events-warehouse.js';
import { SinkGuard } from './sink-guard.js';
import type { SnowflakeSessions } from './snowflake/sessions.js';
import { checkTableName, snowflakeDialect as dialect } from './warehouse-sql.js';
import { toNumberOrNull } from './warehouse-read-sql.js';

const utcFromMs = (e: string) => `CONVERT_TIMEZONE('UTC', TO_TIMESTAMP_TZ(${e}, 3))`;

/**
 * Moves one bound JSON chunk (`eventChunks`) into the table, skipping ids already there. Binds:
 * 1 the JSON, 2 and 3 min and max ts ms of the chunk — a re-delivered event has the same ts, so
 * bounding the target by them lets Snowflake prune micro-partitions instead of scanning for ids.
 */
export function eventsMergeSql(table: string): string {
  const t = checkTableName(table);
  return `MERGE INTO ${t} AS t
USING (
  SELECT f.value[0]::VARCHAR AS event_id, f.value[1]::VARCHAR AS event_type, f.value[2]::VARCHAR AS vehicle_id,
    f.value[3]::NUMBER(18,0) AS ts_ms, f.value[4]::VARCHAR AS geofence_id, f.value[5]::VARCHAR AS payload
  FROM TABLE(FLATTEN(INPUT => PARSE_JSON(:1))) f
) AS s
ON t.event_id = s.event_id AND t.ts >= ${utcFromMs(':2')} AND t.ts <= ${utcFromMs(':3')}
WHEN NOT MATCHED THEN INSERT (event_id, event_type, vehicle_id, ts, geofence_id, payload, ingested_at)
VALUES (s.event_id, s.event_type, s.vehicle_id, ${utcFromMs('s.ts_ms')}, s.geofence_id, PARSE_JSON(s.payload),
  CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()))`;
}

/**
 * The events table in Snowflake, on the positions adapter's session pool. Both write modes of the
 * positions (SNOWFLAKE_INGEST=merge and streaming) store events with this MERGE on the event id:
 * events are few (a handful per vehicle and hour), and the id, not a Kafka offset, is what makes
 * them unique — a Snowpipe Streaming channel's offset token would dedupe only per partition of
 * one consumer, not a replay from a new group.
 */
export class SnowflakeEventsWarehouse implements EventsWarehouse {
  private readonly table: string;
  private readonly guard = new SinkGuard();

  constructor(
    private readonly sessions: SnowflakeSessions,
    private readonly createTable: boolean,
    table = EVENTS_TABLE,
  ) {
    this.table = checkTableName(table);
  }

  async ready(): Promise<void> {
    await this.sessions
      .withConnection(`check table ${this.table}`, async (conn) => {
        if (this.createTable) await this.sessions.run(conn, eventsTableDdl(dialect, this.table));
        await this.sessions.run(conn, verifyEventsTableSql(this.table));
      })
      .catch((err: unknown) => {
        if (isRetriable(err)) throw err;
        throw new ConfigError(
          'SNOWFLAKE_CREATE_TABLE',
          `cannot ${this.createTable ? 'create or ' : ''}read the events table ${this.table}: ${(err as Error).message}`,
          { cause: err },
        );
      });
  }

  write(events: readonly VehicleEvent[]): Promise<EventsWriteResult> {
    if (events.length === 0) return Promise.resolve({ inserted: 0, duplicates: 0 });
    return this.guard.serial(async () => {
      let inserted = 0;
      for (const chunk of eventChunks(uniqueEvents(events))) {
        const ts = (JSON.parse(chunk) as unknown[][]).map((row) => row[3] as number);
        const merged = await this.sessions.withRetry(`events write of ${events.length}`, (conn) =>
          this.sessions.run(conn, eventsMergeSql(this.table), [chunk, Math.min(...ts), Math.max(...ts)]),
        );
        inserted += toNumberOrNull(merged.rows[0]?.[0]) ?? 0;
      }
      return { inserted, duplicates: events.length - inserted };
    });
  }

  async query(q: EventQuery): Promise<VehicleEvent[]> {
    const { sql, params } = eventsQuerySql(dialect, this.table, q);
    return (await this.sessions.query('events query', sql, params)).rows.map(toEvent);
  }

  async count(filter: { vehicleId?: string } = {}): Promise<number> {
    const byVehicle = filter.vehicleId !== undefined;
    const sql = eventsCountSql(dialect, this.table, byVehicle);
    const { rows } = await this.sessions.query('events count', sql, byVehicle ? [filter.vehicleId] : []);
    return toNumberOrNull(rows[0]?.[0]) ?? 0;
  }

  async close(): Promise<void> {
    await this.guard.idle();
  }
}
