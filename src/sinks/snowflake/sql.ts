import { randomBytes } from 'node:crypto';
import type { PositionRecord } from '../../domain/records.js';
import { UNKNOWN_TOPIC_ID } from '../../kafka/topic-id.js';
import { attributesJson, checkTableName, jsonArrayChunks } from '../warehouse-sql.js';

/**
 * The Snowflake sink's own statements (the reads are the shared ones in warehouse-sql.ts).
 * Unquoted identifiers: Snowflake stores them upper-case (POSITIONS, KAFKA_OFFSET).
 */

/**
 * The positions table, typed for analytics. The keys are informational in Snowflake (not
 * enforced): uniqueness comes from the MERGE, on the position (vehicle_id, ts), which also makes a
 * re-delivered record (same coordinates, so same position) a no-op. `partition` and `offset` are
 * reserved words, hence the `kafka_` prefix. `kafka_topic_id` is the topic's id in Kafka's text
 * form (22 characters).
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
  kafka_topic_id VARCHAR(22) NOT NULL,
  kafka_partition NUMBER(10,0) NOT NULL,
  kafka_offset NUMBER(20,0) NOT NULL,
  kafka_ts TIMESTAMP_TZ(3),
  ingested_at TIMESTAMP_TZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(),
  CONSTRAINT ${table}_pk PRIMARY KEY (kafka_topic, kafka_topic_id, kafka_partition, kafka_offset),
  CONSTRAINT ${table}_position UNIQUE (vehicle_id, ts)
)`;
}

/**
 * Brings a table of the first layout (before topic ids) up to date, when the role may: existing
 * rows get the unknown-topic-id marker (which incarnation of the topic they came from is not
 * known). Idempotent. The informational keys are left as they are (docs/snowflake.md).
 */
export function migrateTableSql(table: string): string {
  return `ALTER TABLE ${checkTableName(table)} ADD COLUMN IF NOT EXISTS kafka_topic_id VARCHAR(22) DEFAULT '${UNKNOWN_TOPIC_ID}'`;
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
  'kafka_topic_id',
  'kafka_partition',
  'kafka_offset',
  'kafka_ts',
  'ingested_at',
] as const;

export function verifyTableSql(table: string): string {
  return `SELECT ${TABLE_COLUMNS.join(', ')} FROM ${checkTableName(table)} LIMIT 0`;
}

/**
 * The session-private staging table of one sink instance. The name carries a random suffix, so it
 * never collides with (or, as a temporary table would, shadows) a permanent table of the schema.
 */
export function stageTableName(suffix = randomBytes(6).toString('hex')): string {
  return `fleet_stage_${suffix}`;
}

/**
 * Created once per pooled session, and once in the start-up check (where a role without the
 * schema privilege CREATE TEMPORARY TABLE or CREATE TABLE fails naming the privilege). No
 * IF NOT EXISTS: reusing some other table of that name must fail, never write into it.
 */
export function stageDdl(stage: string): string {
  return `CREATE TEMPORARY TABLE ${stage} (
  vehicle_id VARCHAR, ts_ms NUMBER(18,0), lat FLOAT, lon FLOAT, speed FLOAT, heading FLOAT, altitude FLOAT,
  accuracy FLOAT, battery FLOAT, attributes VARCHAR, kafka_topic VARCHAR, kafka_topic_id VARCHAR,
  kafka_partition NUMBER(10,0), kafka_offset NUMBER(20,0), kafka_ts_ms NUMBER(18,0)
)`;
}

/**
 * One batch chunk as rows of the bound JSON text: `[[vehicle, ts, lat, ...], ...]`, expanded by
 * FLATTEN. One bind per statement instead of 14 per row; offsets travel as strings (exact beyond
 * 2^53), free attributes as their JSON text. Numeric placeholders only: Snowflake does not
 * mix `?` and `:n` in one statement.
 */
const flattened = (
  json: string,
) => `SELECT f.value[0]::VARCHAR AS vehicle_id, f.value[1]::NUMBER(18,0) AS ts_ms,
    f.value[2]::FLOAT AS lat, f.value[3]::FLOAT AS lon, f.value[4]::FLOAT AS speed, f.value[5]::FLOAT AS heading,
    f.value[6]::FLOAT AS altitude, f.value[7]::FLOAT AS accuracy, f.value[8]::FLOAT AS battery,
    f.value[9]::VARCHAR AS attributes, f.value[10]::VARCHAR AS kafka_topic,
    f.value[11]::VARCHAR AS kafka_topic_id, f.value[12]::NUMBER(10,0) AS kafka_partition,
    f.value[13]::NUMBER(20,0) AS kafka_offset, f.value[14]::NUMBER(18,0) AS kafka_ts_ms
  FROM TABLE(FLATTEN(INPUT => PARSE_JSON(${json}))) f`;

/** Appends one bound JSON chunk to the stage. */
export function stageInsertSql(stage: string): string {
  return `INSERT INTO ${stage} (vehicle_id, ts_ms, lat, lon, speed, heading, altitude, accuracy, battery,
  attributes, kafka_topic, kafka_topic_id, kafka_partition, kafka_offset, kafka_ts_ms)
${flattened(':1')}`;
}

/** Where the MERGE reads the batch: the stage table, or (one chunk) the bound JSON itself. */
export type MergeSource = { stage: string } | 'bound-json';

const sourceOf = (source: MergeSource) => ({
  from: source === 'bound-json' ? `(${flattened(':1')})` : source.stage,
  range: (source === 'bound-json' ? [':2', ':3'] : [':1', ':2']) as [string, string],
});

/**
 * Moves the batch into the table, skipping positions already there: the match is on (vehicle_id,
 * ts), so a re-delivered record (same coordinates, hence same position) and a device's retry at
 * another offset are both skipped. Binds, in order: the bound JSON (source 'bound-json' only),
 * then min and max ts ms of the batch. A matching row has the same ts, so it lies in the batch's
 * range: bounding the target by it lets Snowflake prune micro-partitions instead of scanning the
 * whole table. The QUALIFY guards against a position sent twice in one batch (the first offset
 * wins). Timestamps are built in UTC explicitly: the stored instant and offset never depend on the
 * session's TIMEZONE.
 */
export function mergeSql(table: string, source: MergeSource): string {
  const t = checkTableName(table);
  const { from, range } = sourceOf(source);
  const [min, max] = range;
  return `MERGE INTO ${t} AS t
USING (
  SELECT vehicle_id, ${utcFromMs('ts_ms')} AS ts, lat, lon, speed, heading, altitude, accuracy, battery,
    PARSE_JSON(attributes) AS attributes, kafka_topic, kafka_topic_id, kafka_partition, kafka_offset,
    ${utcFromMs('kafka_ts_ms')} AS kafka_ts
  FROM ${from} AS b
  QUALIFY ROW_NUMBER() OVER (PARTITION BY vehicle_id, ts_ms ORDER BY kafka_partition, kafka_offset) = 1
) AS s
ON t.vehicle_id = s.vehicle_id AND t.ts = s.ts
  AND t.ts >= ${utcFromMs(min)} AND t.ts <= ${utcFromMs(max)}
WHEN NOT MATCHED THEN INSERT
  (vehicle_id, ts, lat, lon, speed, heading, altitude, accuracy, battery, attributes, kafka_topic,
   kafka_topic_id, kafka_partition, kafka_offset, kafka_ts, ingested_at)
VALUES
  (s.vehicle_id, s.ts, s.lat, s.lon, s.speed, s.heading, s.altitude, s.accuracy, s.battery, s.attributes,
   s.kafka_topic, s.kafka_topic_id, s.kafka_partition, s.kafka_offset, s.kafka_ts,
   CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()))`;
}

/**
 * After a MERGE that skipped records: how many of the batch's records find their position stored
 * under other coordinates (device retries), as opposed to themselves (re-deliveries). Same binds
 * and source as {@link mergeSql}.
 */
export function positionsHeldByOthersSql(table: string, source: MergeSource): string {
  const { from, range } = sourceOf(source);
  const [min, max] = range;
  return `SELECT COUNT(*) FROM ${from} AS s
WHERE EXISTS (
  SELECT 1 FROM ${checkTableName(table)} AS t
  WHERE t.ts >= ${utcFromMs(min)} AND t.ts <= ${utcFromMs(max)}
    AND t.vehicle_id = s.vehicle_id AND t.ts = ${utcFromMs('s.ts_ms')}
    AND (t.kafka_offset <> s.kafka_offset OR t.kafka_partition <> s.kafka_partition
      OR t.kafka_topic_id <> s.kafka_topic_id OR t.kafka_topic <> s.kafka_topic))`;
}

const utcFromMs = (e: string) => `CONVERT_TIMEZONE('UTC', TO_TIMESTAMP_TZ(${e}, 3))`;

const num = (v: number | undefined) => (v === undefined ? null : v);

/** One record as a row of the bound JSON (the order `flattened` reads). */
export function stageRow(r: PositionRecord): unknown[] {
  const p = r.position;
  return [
    p.vehicleId,
    p.ts,
    p.lat,
    p.lon,
    num(p.speed),
    num(p.heading),
    num(p.altitude),
    num(p.accuracy),
    num(p.battery),
    attributesJson(r),
    r.topic,
    r.topicId,
    r.partition,
    r.offset,
    Math.trunc(r.kafkaTs),
  ];
}

/**
 * Splits a batch into JSON array texts of at most `maxBytes` UTF-8 bytes each (one row more than
 * that is sent alone). Snowflake recommends at most 1 MB of statement text plus binds per
 * statement (https://docs.snowflake.com/user-guide/query-size-limits): larger ones run, but cannot
 * be retried or re-run from history.
 */
export function jsonChunks(rows: readonly PositionRecord[], maxBytes: number): string[] {
  return jsonArrayChunks(rows, stageRow, maxBytes);
}
