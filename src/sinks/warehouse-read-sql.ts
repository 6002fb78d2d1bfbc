import { EARTH_RADIUS_M } from '../domain/geo.js';
import type { HistoryRow, TripRules, VehicleSummary } from './warehouse-reader.js';
import { checkTableName, type SqlDialect } from './warehouse-sql.js';

/*
 * The one portable SQL definition of the warehouse reads (history, trip/stop summary, count), run
 * as-is by DuckDB and Snowflake: every value is a bound parameter, only the (validated) table name
 * is spliced in.
 */

/**
 * What the reads select from: a table name, or a table whose rows may repeat a position (the
 * append-only Snowpipe Streaming mode), read through a window that keeps the first row stored per
 * (vehicle_id, ts) — the same rule the MERGE applies when writing.
 */
export type ReadTable = string | { name: string; dedupePositions: boolean };

/** The FROM item of a read. Filters on vehicle_id and ts pass through the window (its keys). */
export function readRelation(table: ReadTable): string {
  const t = typeof table === 'string' ? { name: table, dedupePositions: false } : table;
  const name = checkTableName(t.name);
  if (!t.dedupePositions) return name;
  return `(SELECT * FROM ${name} QUALIFY ROW_NUMBER() OVER (PARTITION BY vehicle_id, ts ORDER BY ingested_at, kafka_partition, kafka_offset) = 1) AS ${name}`;
}

/** Largest history page when the caller gives no limit (a busy vehicle for 24 h at 1 Hz). */
export const DEFAULT_HISTORY_LIMIT = 100_000;

/** Great-circle metres between two points, NULL when the first point is missing. */
function haversineSql(lat1: string, lon1: string, lat2: string, lon2: string): string {
  const a =
    `POWER(SIN(RADIANS(${lat2} - ${lat1}) / 2), 2) + ` +
    `COS(RADIANS(${lat1})) * COS(RADIANS(${lat2})) * POWER(SIN(RADIANS(${lon2} - ${lon1}) / 2), 2)`;
  // The CASE matters: DuckDB's LEAST skips NULLs, which would turn "no previous point" into πR.
  return `CASE WHEN ${lat1} IS NULL THEN NULL ELSE 2 * ${EARTH_RADIUS_M} * ASIN(LEAST(1, SQRT(${a}))) END`;
}

/** Columns of {@link historySql}, in order; {@link toHistoryRow} reads them by position. */
export function historySql(d: SqlDialect, table: ReadTable, limit: number): string {
  if (!Number.isSafeInteger(limit) || limit < 1)
    throw new RangeError(`history limit ${limit} is not a positive integer`);
  // LIMIT is a validated integer literal: Snowflake wants a constant there.
  return `SELECT vehicle_id, ${d.epochMs('ts')} AS ts_ms, lat, lon, speed, heading, altitude, accuracy, battery,
  ${d.jsonText('attributes')} AS attributes_json, kafka_topic, kafka_partition,
  CAST(kafka_offset AS VARCHAR) AS kafka_offset, ${d.epochMs('ingested_at')} AS ingested_ms
FROM ${readRelation(table)}
WHERE vehicle_id = ${d.param(1)} AND ts >= ${d.tsFromMs(d.param(2))} AND ts < ${d.tsFromMs(d.param(3))}
ORDER BY ts, kafka_partition, kafka_offset
LIMIT ${limit}`;
}

export function historyParams(q: { vehicleId: string; from: number; to: number }): unknown[] {
  return [q.vehicleId, q.from, q.to];
}

/**
 * The trip/stop summary (Traccar-like), parameters: 1 vehicle id, 2 from ms, 3 to ms, 4 moving
 * speed km/h, 5 min stop seconds, 6 min trip metres.
 *
 * - Positions with from <= ts < to, ordered by (ts, partition, offset); each consecutive pair is a
 *   segment with its haversine distance and duration.
 * - A position's speed is the reported one, else the speed implied by the segment ending at it,
 *   else 0. It is *stopped* when that speed is below the moving threshold.
 * - A segment between two stopped positions is stopped time; every other segment is moving time.
 *   Distance counts every segment.
 * - A *stop* is a maximal run of stopped positions lasting at least the min stop duration (first
 *   to last position of the run). Shorter halts stay part of the surrounding trip.
 * - The stops split the track; each part outside the stops (segments into and out of a stop
 *   included) is a *trip* when its distance reaches the min trip distance.
 * - avg speed = moving distance / moving time; max speed = highest position speed.
 */
export function summarySql(d: SqlDialect, table: ReadTable): string {
  const p = d.param;
  const order = 'ORDER BY t, kp, ko';
  return `WITH pts AS (
  SELECT ${d.epochMs('ts')} AS t, lat, lon, speed, kafka_partition AS kp, kafka_offset AS ko
  FROM ${readRelation(table)}
  WHERE vehicle_id = ${p(1)} AND ts >= ${d.tsFromMs(p(2))} AND ts < ${d.tsFromMs(p(3))}
), prev AS (
  SELECT t, lat, lon, speed, kp, ko,
    LAG(t) OVER (${order}) AS pt, LAG(lat) OVER (${order}) AS plat, LAG(lon) OVER (${order}) AS plon
  FROM pts
), seg AS (
  SELECT t, kp, ko, speed, (t - pt) / 1000.0 AS dt, ${haversineSql('plat', 'plon', 'lat', 'lon')} AS dist
  FROM prev
), st AS (
  SELECT t, kp, ko, dt, dist, v, CASE WHEN v < ${p(4)} THEN 1 ELSE 0 END AS stopped
  FROM (SELECT seg.*, COALESCE(speed, CASE WHEN dt > 0 THEN dist / dt * 3.6 END, 0) AS v FROM seg) s
), runs AS (
  SELECT c.*, SUM(chg) OVER (${order} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS run
  FROM (SELECT st.*, CASE WHEN stopped = LAG(stopped) OVER (${order}) THEN 0 ELSE 1 END AS chg FROM st) c
), stops AS (
  SELECT r.*, CASE WHEN stopped = 1 AND run_ms >= ${p(5)} * 1000 THEN 1 ELSE 0 END AS in_stop
  FROM (
    SELECT runs.*, MAX(t) OVER (PARTITION BY run) - MIN(t) OVER (PARTITION BY run) AS run_ms,
      ROW_NUMBER() OVER (PARTITION BY run ${order}) AS run_pos
    FROM runs
  ) r
), parts AS (
  SELECT g.*,
    CASE WHEN stopped = 1 AND run_pos > 1 THEN 1 ELSE 0 END AS still_seg,
    CASE WHEN in_stop = 1 AND run_pos > 1 THEN 1 ELSE 0 END AS stop_seg,
    part - CASE WHEN in_stop = 1 AND run_pos = 1 THEN 1 ELSE 0 END AS seg_part
  FROM (
    SELECT stops.*,
      SUM(CASE WHEN in_stop = 1 AND run_pos = 1 THEN 1 ELSE 0 END) OVER (${order} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS part
    FROM stops
  ) g
), trips AS (
  SELECT seg_part, SUM(dist) AS metres FROM parts WHERE dt IS NOT NULL AND stop_seg = 0 GROUP BY seg_part
)
SELECT
  (SELECT COUNT(*) FROM pts) AS positions,
  (SELECT COALESCE(SUM(dist), 0) FROM parts) AS distance_m,
  (SELECT COALESCE(SUM(dt), 0) FROM parts WHERE dt IS NOT NULL AND still_seg = 0) AS moving_s,
  (SELECT COALESCE(SUM(dt), 0) FROM parts WHERE dt IS NOT NULL AND still_seg = 1) AS stopped_s,
  (SELECT COALESCE(SUM(dist), 0) FROM parts WHERE dt IS NOT NULL AND still_seg = 0) AS moving_m,
  (SELECT MAX(v) FROM parts) AS max_speed,
  (SELECT COUNT(*) FROM trips WHERE metres >= ${p(6)}) AS trips,
  (SELECT COUNT(DISTINCT run) FROM stops WHERE in_stop = 1) AS stop_count`;
}

export function summaryParams(q: {
  vehicleId: string;
  from: number;
  to: number;
  rules: TripRules;
}): unknown[] {
  const { rules } = q;
  return [q.vehicleId, q.from, q.to, rules.movingMinSpeedKmh, rules.minStopDurationS, rules.minDistanceM];
}

export function countSql(d: SqlDialect, table: ReadTable, byTopic: boolean): string {
  const base = `SELECT COUNT(*) AS n FROM ${readRelation(table)}`;
  return byTopic ? `${base} WHERE kafka_topic = ${d.param(1)}` : base;
}

/** Numbers come back as number, bigint (DuckDB) or numeric strings; NULL stays null. */
export function toNumberOrNull(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const n = typeof value === 'number' ? value : Number(value);
  if (Number.isNaN(n)) throw new TypeError(`expected a number from the warehouse, got ${String(value)}`);
  return n;
}

function toNumber(value: unknown): number {
  return toNumberOrNull(value) ?? 0;
}

/** One row of {@link historySql} (positional) → {@link HistoryRow}. */
export function toHistoryRow(row: readonly unknown[]): HistoryRow {
  const attributes = row[9];
  return {
    vehicleId: String(row[0]),
    ts: toNumber(row[1]),
    lat: toNumber(row[2]),
    lon: toNumber(row[3]),
    speed: toNumberOrNull(row[4]),
    heading: toNumberOrNull(row[5]),
    altitude: toNumberOrNull(row[6]),
    accuracy: toNumberOrNull(row[7]),
    battery: toNumberOrNull(row[8]),
    attributes:
      attributes === null || attributes === undefined || attributes === 'null'
        ? null
        : (JSON.parse(String(attributes)) as Record<string, unknown>),
    topic: String(row[10]),
    partition: toNumber(row[11]),
    offset: String(row[12]),
    ingestedAt: toNumber(row[13]),
  };
}

/** The single row of {@link summarySql} (positional) → {@link VehicleSummary}. */
export function toVehicleSummary(
  row: readonly unknown[] | undefined,
  q: { vehicleId: string; from: number; to: number },
): VehicleSummary {
  const movingS = toNumber(row?.[2]);
  const positions = toNumber(row?.[0]);
  return {
    vehicleId: q.vehicleId,
    from: q.from,
    to: q.to,
    positions,
    distanceM: toNumber(row?.[1]),
    movingS,
    stoppedS: toNumber(row?.[3]),
    avgSpeedKmh: movingS > 0 ? (toNumber(row?.[4]) / movingS) * 3.6 : null,
    maxSpeedKmh: positions > 0 ? toNumberOrNull(row?.[5]) : null,
    trips: toNumber(row?.[6]),
    stops: toNumber(row?.[7]),
  };
}
