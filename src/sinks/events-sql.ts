import { parseVehicleEvent, type VehicleEvent } from '../domain/vehicle-event.js';
import type { EventQuery } from './events-warehouse.js';
import { checkTableName, jsonArrayChunks, type SqlDialect } from './warehouse-sql.js';

/*
 * The SQL of the events table, shared by both adapters: the table (typed per dialect), the batch
 * as one bound JSON text, the query and the count. Only the validated table name is spliced in.
 */

/**
 * One row per event id (the primary key: enforced by DuckDB, informational in Snowflake, where
 * the MERGE keeps it unique). `payload` is the whole event as JSON, what the API answers; the
 * typed columns are what queries filter on.
 */
export function eventsTableDdl(d: SqlDialect, table: string): string {
  const [text, ts, json] =
    d.name === 'snowflake'
      ? ['VARCHAR(128)', 'TIMESTAMP_TZ(3)', 'VARIANT']
      : ['VARCHAR', 'TIMESTAMPTZ', 'JSON'];
  const t = checkTableName(table);
  return `CREATE TABLE IF NOT EXISTS ${t} (
  event_id ${text} NOT NULL,
  event_type ${text} NOT NULL,
  vehicle_id ${text} NOT NULL,
  ts ${ts} NOT NULL,
  geofence_id ${text},
  payload ${json} NOT NULL,
  ingested_at ${ts} NOT NULL DEFAULT ${d.name === 'snowflake' ? 'CURRENT_TIMESTAMP()' : 'current_timestamp'},
  PRIMARY KEY (event_id)
)`;
}

/** Reads every column: the start-up check of a table the role may not create. */
export function verifyEventsTableSql(table: string): string {
  return `SELECT event_id, event_type, vehicle_id, ts, geofence_id, payload, ingested_at FROM ${checkTableName(table)} LIMIT 0`;
}

/** Drops events repeated inside one batch (same id), keeping the first. */
export function uniqueEvents(events: readonly VehicleEvent[]): VehicleEvent[] {
  const seen = new Set<string>();
  return events.filter((e) => !seen.has(e.id) && Boolean(seen.add(e.id)));
}

/**
 * Events as JSON array texts of at most `maxBytes` each (one longer event goes alone):
 * `[[id, type, vehicleId, ts, geofenceId, payloadText], ...]`, bound as one parameter.
 */
export function eventChunks(events: readonly VehicleEvent[], maxBytes = 800_000): string[] {
  return jsonArrayChunks(
    events,
    (e) => [e.id, e.type, e.vehicleId, e.ts, e.geofenceId ?? null, JSON.stringify(e)],
    maxBytes,
  );
}

/** Events of a query, newest first; parameters in the order of `params`. */
export function eventsQuerySql(
  d: SqlDialect,
  table: string,
  q: EventQuery,
): { sql: string; params: unknown[] } {
  if (!Number.isSafeInteger(q.limit) || q.limit < 1)
    throw new RangeError(`limit ${q.limit} is not a positive integer`);
  const params: unknown[] = [];
  const bind = (v: unknown) => d.param(params.push(v));
  const where: string[] = [];
  if (q.vehicleId !== undefined) where.push(`vehicle_id = ${bind(q.vehicleId)}`);
  if (q.types && q.types.length > 0) where.push(`event_type IN (${q.types.map(bind).join(', ')})`);
  if (q.from !== undefined) where.push(`ts >= ${d.tsFromMs(bind(q.from))}`);
  if (q.to !== undefined) where.push(`ts < ${d.tsFromMs(bind(q.to))}`);
  // LIMIT is a validated integer literal: Snowflake wants a constant there.
  const sql = `SELECT ${d.jsonText('payload')} AS payload_json FROM ${checkTableName(table)}
${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
ORDER BY ts DESC, event_id DESC
LIMIT ${q.limit}`;
  return { sql, params };
}

export function eventsCountSql(d: SqlDialect, table: string, byVehicle: boolean): string {
  const base = `SELECT COUNT(*) AS n FROM ${checkTableName(table)}`;
  return byVehicle ? `${base} WHERE vehicle_id = ${d.param(1)}` : base;
}

/** One row of {@link eventsQuerySql} → the event (the JSON text, or the parsed VARIANT). */
export function toEvent(row: readonly unknown[]): VehicleEvent {
  const v = row[0];
  return parseVehicleEvent(typeof v === 'string' ? JSON.parse(v) : v);
}
