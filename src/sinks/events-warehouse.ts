import type { EventType, VehicleEvent } from '../domain/vehicle-event.js';
import type { WriteResult } from './warehouse-sink.js';

/** What an events write did: events are unique on their id only, so no position duplicates. */
export type EventsWriteResult = Pick<WriteResult, 'inserted' | 'duplicates'>;

/** Filters of an events query; every one is optional but `limit`. */
export interface EventQuery {
  vehicleId?: string;
  /** Any of these types. @default all */
  types?: readonly EventType[];
  /** from <= ts (event time, epoch ms). */
  from?: number;
  /** ts < to. */
  to?: number;
  /** Most events returned. */
  limit: number;
}

/**
 * The events table of the warehouse (`vehicle_events`), beside the positions table in the same
 * database. Adapters: `duckdb-events-warehouse.ts` and `snowflake-events-warehouse.ts`, built on
 * the positions adapter's connection (one DuckDB instance per file, one Snowflake session pool) in
 * `create-warehouse.ts`.
 *
 * Idempotence is the contract: rows are unique on the event id, so writing the same events twice
 * (a replay, a sink restarted before its offset commit) leaves one row per event.
 */
export interface EventsWarehouse {
  /** Creates (or verifies) the table. Call once before anything else. */
  ready(): Promise<void>;
  /**
   * Stores the events; resolves once every one is stored (or was before). Rejects with a SinkError
   * whose `retriable` says whether trying again can help.
   */
  write(events: readonly VehicleEvent[]): Promise<EventsWriteResult>;
  /** Events matching the query, newest first (by event time, then id). */
  query(query: EventQuery): Promise<VehicleEvent[]>;
  /** Rows of the table, optionally of one vehicle (tests, fault checks). */
  count(filter?: { vehicleId?: string }): Promise<number>;
  /** Releases what this adapter holds (the connection it shares stays with its owner). */
  close(): Promise<void>;
}

/** Default name of the events table. */
export const EVENTS_TABLE = 'vehicle_events';
