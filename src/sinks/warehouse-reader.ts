/**
 * The warehouse's read side: stored history, trip/stop summaries and counts, as the query API and the
 * checks read them. The SQL is shared by both adapters (`warehouse-read-sql.ts`).
 */

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
