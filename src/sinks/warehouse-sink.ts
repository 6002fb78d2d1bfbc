import type { PositionRecord } from '../domain/records.js';

/**
 * The warehouse port: every position, exactly once. Adapters: `duckdb-sink.ts` (embedded default)
 * and `snowflake-sink.ts`. Chosen in `create-warehouse.ts`.
 *
 * Idempotence is the contract: rows are unique on (topic, partition, offset), so writing the same
 * batch twice — or a batch overlapping an earlier one, as after a crash before the offset commit —
 * leaves exactly one row per record.
 */
export interface WarehouseSink {
  /** Adapter name for logs and metrics: `duckdb`, `snowflake`. */
  readonly name: string;
  /** Connects and creates (or verifies) the table. Call once before anything else. */
  ready(): Promise<void>;
  /**
   * Makes the batch durable. Resolves only when every record is stored (or was stored before).
   * Rejects with a SinkError whose `retriable` says whether trying again can help.
   */
  write(batch: readonly PositionRecord[]): Promise<WriteResult>;
  /** Cheap round trip for readiness probes. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface WriteResult {
  /** Rows newly inserted by this call. */
  inserted: number;
  /** Records already present (re-delivery), skipped. */
  duplicates: number;
}

/** One stored position as read back from the warehouse. */
export interface HistoryRow {
  vehicleId: string;
  ts: number;
  lat: number;
  lon: number;
  speed: number | null;
  heading: number | null;
  altitude: number | null;
  accuracy: number | null;
  battery: number | null;
  attributes: Record<string, unknown> | null;
  topic: string;
  partition: number;
  offset: string;
  ingestedAt: number;
}

/** Trip/stop detection rule, like Traccar's. */
export interface TripRules {
  /** A trip covers at least this many metres. @default 500 */
  minDistanceM: number;
  /** A stop lasts at least this many seconds. @default 300 */
  minStopDurationS: number;
  /** Below this speed (km/h) the vehicle counts as stopped. @default 3 */
  movingMinSpeedKmh: number;
}

export interface VehicleSummary {
  vehicleId: string;
  from: number;
  to: number;
  positions: number;
  distanceM: number;
  movingS: number;
  stoppedS: number;
  avgSpeedKmh: number | null;
  maxSpeedKmh: number | null;
  trips: number;
  stops: number;
}

/** Queries over the warehouse (history, summaries, counts). Implemented by the same adapters. */
export interface WarehouseReader {
  /** Positions of one vehicle with from <= ts < to, oldest first. */
  history(query: { vehicleId: string; from: number; to: number; limit?: number }): Promise<HistoryRow[]>;
  summary(query: { vehicleId: string; from: number; to: number; rules: TripRules }): Promise<VehicleSummary>;
  /** Row count, optionally of one topic (tests, benchmarks, fault checks). */
  count(filter?: { topic?: string }): Promise<number>;
}

export type Warehouse = WarehouseSink & WarehouseReader;
