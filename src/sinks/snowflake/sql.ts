import type { PositionRecord } from '../../domain/records.js';
import { attributesJson, checkTableName } from '../warehouse-sql.js';

/**
 * The Snowflake sink's own statements (the reads are the shared ones in warehouse-sql.ts).
 * Unquoted identifiers: Snowflake stores them upper-case (POSITIONS, KAFKA_OFFSET).
 */

/**
 * The positions table, typed for analytics. The primary key is informational in Snowflake (not
 * enforced): uniqueness comes from the MERGE. `partition` and `offset` are reserved words, hence
 * the `kafka_` prefix.
 */
export function snowflakeTableDdl(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${checkTableName(table)} (
  vehicle_id VARCHAR(128) NOT NULL,
  ts TIMESTAMP_TZ(3) NOT NULL,
  lat FLOAT NOT NULL,
  lon FLOAT NOT NULL,
  speed FLOAT,
  heading FLOAT,
  altitude FLOAT,
  accuracy FLOAT,
  battery FLOAT,
  attributes VARIANT,
  kafka_topic VARCHAR(249) NOT NULL,
  kafka_partition NUMBER(10,0) NOT NULL,
  kafka_offset NUMBER(20,0) NOT NULL,
  kafka_ts TIMESTAMP_TZ(3),
  ingested_at TIMESTAMP_TZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(),
  CONSTRAINT ${table}_pk PRIMARY KEY (kafka_topic, kafka_partition, kafka_offset)
)`;
}

/** Columns the sink writes and reads: verified at start when it may not create the table. */
export const TABLE_COLUMNS = [
  'vehicle_id',
  'ts',
  'lat',
  'lon',
  'speed',
  'heading',
  'altitude',
  'accuracy',
  'battery',
  'attributes',
  'kafka_topic',
  'kafka_partition',
  'kafka_offset',
  'kafka_ts',
  'ingested_at',
] as const;

export function verifyTableSql(table: string): string {
  return `SELECT ${TABLE_COLUMNS.join(', ')} FROM ${checkTableName(table)} LIMIT 0`;
}

export function stageTable(table: string): string {
  return `${checkTableName(table)}_stage`;
}

/** The columns bound per staged row, in order: every value travels as text. */
const STAGE_COLUMNS = [
  'vehicle_id',
  'ts_ms',
  'lat',
  'lon',
  'speed',
  'heading',
  'altitude',
  'accuracy',
  'battery',
  'attributes',
  'kafka_topic',
  'kafka_partition',
  'kafka_offset',
  'kafka_ts_ms',
] as const;

/** Binds per staged row: rows per INSERT = floor(max binds per statement / this). */
export const BINDS_PER_ROW = STAGE_COLUMNS.length;

/** Session-private staging table: array-bound INSERTs land here, then one MERGE moves them. */
export function stageDdl(table: string): string {
  return `CREATE TEMPORARY TABLE IF NOT EXISTS ${stageTable(table)} (
  vehicle_id VARCHAR, ts_ms NUMBER(18,0), lat FLOAT, lon FLOAT, speed FLOAT, heading FLOAT, altitude FLOAT,
  accuracy FLOAT, battery FLOAT, attributes VARCHAR, kafka_topic VARCHAR, kafka_partition NUMBER(10,0),
  kafka_offset NUMBER(20,0), kafka_ts_ms NUMBER(18,0)
)`;
}

export function stageInsertSql(table: string): string {
  return `INSERT INTO ${stageTable(table)} (${STAGE_COLUMNS.join(', ')}) VALUES (${STAGE_COLUMNS.map(() => '?').join(', ')})`;
}

/**
 * Moves the staged batch into the table, skipping records already there. Binds: 1 min ts ms,
 * 2 max ts ms of the batch. A re-delivered record is the same record, so its stored ts lies in the
 * batch's range: bounding the target by it lets Snowflake prune micro-partitions instead of
 * scanning the whole table for the key. The QUALIFY guards against a stage row sent twice.
 */
export function mergeSql(table: string): string {
  const t = checkTableName(table);
  return `MERGE INTO ${t} AS t
USING (
  SELECT vehicle_id, TO_TIMESTAMP_TZ(ts_ms, 3) AS ts, lat, lon, speed, heading, altitude, accuracy, battery,
    PARSE_JSON(attributes) AS attributes, kafka_topic, kafka_partition, kafka_offset,
    TO_TIMESTAMP_TZ(kafka_ts_ms, 3) AS kafka_ts
  FROM ${stageTable(table)}
  QUALIFY ROW_NUMBER() OVER (PARTITION BY kafka_topic, kafka_partition, kafka_offset ORDER BY ts_ms) = 1
) AS s
ON t.kafka_topic = s.kafka_topic AND t.kafka_partition = s.kafka_partition AND t.kafka_offset = s.kafka_offset
  AND t.ts >= TO_TIMESTAMP_TZ(:1, 3) AND t.ts <= TO_TIMESTAMP_TZ(:2, 3)
WHEN NOT MATCHED THEN INSERT
  (vehicle_id, ts, lat, lon, speed, heading, altitude, accuracy, battery, attributes, kafka_topic,
   kafka_partition, kafka_offset, kafka_ts, ingested_at)
VALUES
  (s.vehicle_id, s.ts, s.lat, s.lon, s.speed, s.heading, s.altitude, s.accuracy, s.battery, s.attributes,
   s.kafka_topic, s.kafka_partition, s.kafka_offset, s.kafka_ts, CURRENT_TIMESTAMP())`;
}

const text = (v: number | undefined) => (v === undefined ? null : String(v));

/**
 * One record as stage binds. Everything is sent as text: the driver types an array-bind column by
 * its first row, so a first integer speed would make "40.5" a bad FIXED; text lets the INSERT cast.
 */
export function stageRow(r: PositionRecord): (string | null)[] {
  const p = r.position;
  return [
    p.vehicleId,
    String(p.ts),
    String(p.lat),
    String(p.lon),
    text(p.speed),
    text(p.heading),
    text(p.altitude),
    text(p.accuracy),
    text(p.battery),
    attributesJson(r),
    r.topic,
    String(r.partition),
    r.offset,
    String(Math.trunc(r.kafkaTs)),
  ];
}
