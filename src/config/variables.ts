import { z } from 'zod';

/**
 * Every environment variable the project reads, with its default and meaning. The README's
 * configuration table is printed from this list (`fleet config --markdown`), so the two agree.
 */
export interface VariableSpec {
  name: string;
  schema: z.ZodType;
  default?: string;
  doc: string;
  secret?: boolean;
}

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => ['true', '1', 'yes'].includes(v));
const list = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);
const hostPort = z.string().regex(/^[^\s:,]+:\d{1,5}$/, 'expected host:port');
const brokers = list.pipe(z.array(hostPort).min(1, 'at least one broker host:port'));
/** A DuckDB size setting, e.g. `128MB` or `1GB`. */
const size = z
  .string()
  .regex(/^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, 'a size such as 128MB or 1GB');
const topicName = z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, 'letters, digits, ".", "_" or "-" (max 249)');

export const variables = [
  // Kafka
  {
    name: 'KAFKA_BROKERS',
    schema: brokers,
    default: 'localhost:9092',
    doc: 'Comma-separated bootstrap brokers (host:port).',
  },
  {
    name: 'KAFKA_CLIENT_ID',
    schema: z.string().min(1),
    default: 'fleet-tracker',
    doc: 'Kafka client id prefix.',
  },
  { name: 'KAFKA_SSL', schema: bool, default: 'false', doc: 'Use TLS to the brokers (MSK: true).' },
  {
    name: 'KAFKA_SASL_MECHANISM',
    schema: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
    doc: 'SASL mechanism; unset = no SASL.',
  },
  { name: 'KAFKA_SASL_USERNAME', schema: z.string().optional(), doc: 'SASL user name.' },
  { name: 'KAFKA_SASL_PASSWORD', schema: z.string().optional(), doc: 'SASL password.', secret: true },
  {
    name: 'TOPIC',
    schema: topicName,
    default: 'vehicle_positions',
    doc: 'Position topic (key = vehicle id).',
  },
  { name: 'DLQ_TOPIC', schema: topicName.optional(), doc: 'Dead-letter topic. Default: `<TOPIC>.dlq`.' },
  {
    name: 'TOPIC_PARTITIONS',
    schema: int(1, 10_000),
    default: '3',
    doc: 'Partitions when `fleet topics create` creates the topic.',
  },
  {
    name: 'TOPIC_REPLICATION_FACTOR',
    schema: int(1, 7).optional(),
    doc: 'Replication factor; default min(2, brokers).',
  },
  {
    name: 'TOPIC_RETENTION_MS',
    schema: int(60_000),
    default: '86400000',
    doc: 'retention.ms (24 h) alongside compaction.',
  },
  {
    name: 'TOPIC_MIN_COMPACTION_LAG_MS',
    schema: int(0),
    default: '3600000',
    doc: 'min.compaction.lag.ms: how long every intermediate position is kept before compaction may drop it (1 h).',
  },
  // Consumer (the seed's pull-model knobs)
  {
    name: 'CONSUMER_GROUP',
    schema: z.string().min(1),
    default: 'fleet-processor',
    doc: 'Consumer group of `fleet process`.',
  },
  {
    name: 'MAX_POLL_RECORDS',
    schema: int(1, 1_000_000),
    default: '5000',
    doc: 'Max records handed to the topology per poll (per partition batch).',
  },
  {
    name: 'MAX_POLL_INTERVAL_MS',
    schema: int(1000),
    default: '300000',
    doc: 'Max time between polls before the member is evicted (rebalance timeout).',
  },
  { name: 'SESSION_TIMEOUT_MS', schema: int(1000), default: '30000', doc: 'Consumer session timeout.' },
  { name: 'HEARTBEAT_INTERVAL_MS', schema: int(100), default: '3000', doc: 'Consumer heartbeat interval.' },
  {
    name: 'FETCH_MIN_BYTES',
    schema: int(1),
    default: '1',
    doc: 'fetch.min.bytes: answer a fetch as soon as one byte is there.',
  },
  { name: 'FETCH_MAX_WAIT_MS', schema: int(0, 60_000), default: '500', doc: 'fetch.wait.max.ms.' },
  {
    name: 'FETCH_MAX_BYTES_PER_PARTITION',
    schema: int(1024),
    default: '262144',
    doc: 'Max bytes fetched per partition per request (256 KiB). kafkajs decodes a whole fetch at once, so this bounds the messages held in memory: 1 MiB of gzip batches held ~100k decoded messages.',
  },
  {
    name: 'AUTO_OFFSET_RESET',
    schema: z.enum(['earliest', 'latest']),
    default: 'earliest',
    doc: 'Where a new group starts.',
  },
  // Micro-batches and backpressure
  {
    name: 'BATCH_MAX_RECORDS',
    schema: int(1, 1_000_000),
    default: '10000',
    doc: 'Flush a micro-batch at this many records.',
  },
  {
    name: 'BATCH_MAX_BYTES',
    schema: int(1024),
    default: '8388608',
    doc: 'Flush a micro-batch at this many encoded bytes (8 MiB).',
  },
  {
    name: 'BATCH_MAX_WAIT_MS',
    schema: int(1, 600_000),
    default: '5000',
    doc: 'Flush a partial micro-batch after this long (5 s).',
  },
  {
    name: 'MAX_UNFLUSHED_BYTES',
    schema: int(1024),
    default: '16777216',
    doc: 'Pause fetching while this many bytes wait for the warehouse (16 MiB). Decoded records take several times their encoded size on the heap.',
  },
  {
    name: 'STATE_FLUSH_MAX_WAIT_MS',
    schema: int(0, 60_000),
    default: '0',
    doc: 'Max time positions wait before the Redis table is updated (latency knob). 0: each fetch is written at once, and fetches that arrive while Redis is busy are merged into the next write.',
  },
  {
    name: 'METRICS_PORT',
    schema: int(0, 65_535),
    default: '9464',
    doc: '`fleet process` serves `/metrics` and `/healthz` on this port (0 = off).',
  },
  // Redis
  {
    name: 'REDIS_URL',
    schema: z.string().url(),
    default: 'redis://127.0.0.1:6379',
    doc: 'Redis holding the latest-state table.',
  },
  {
    name: 'REDIS_PREFIX',
    schema: z.string().regex(/^[A-Za-z0-9:_.-]*$/),
    default: 'fleet:',
    doc: 'Key prefix of every key we write.',
  },
  // Warehouse
  {
    name: 'WAREHOUSE',
    schema: z.enum(['duckdb', 'snowflake']),
    default: 'duckdb',
    doc: 'Warehouse adapter.',
  },
  {
    name: 'DUCKDB_PATH',
    schema: z.string().min(1),
    default: 'data/fleet.duckdb',
    doc: 'DuckDB database file (`:memory:` for none).',
  },
  {
    name: 'DUCKDB_MEMORY_LIMIT',
    schema: size,
    default: '48MB',
    doc: "DuckDB's starting memory_limit: its buffer pool beyond this spills to the database file, so the embedded warehouse does not grow the processor's RSS with cached table data. The primary-key index (~13 MB per million rows) must stay in memory, so when a write runs out, the limit doubles, up to DUCKDB_MEMORY_MAX.",
  },
  {
    name: 'DUCKDB_MEMORY_MAX',
    schema: size.optional(),
    doc: "How far DuckDB's memory_limit may grow when its primary-key index outgrows it. @default a quarter of the machine's memory",
  },
  {
    name: 'SNOWFLAKE_ACCOUNT',
    schema: z.string().min(1).optional(),
    doc: 'Account identifier (orgname-account).',
  },
  { name: 'SNOWFLAKE_USER', schema: z.string().min(1).optional(), doc: 'User name.' },
  {
    name: 'SNOWFLAKE_PRIVATE_KEY_PATH',
    schema: z.string().optional(),
    doc: 'PKCS#8 private key file for key-pair (JWT) auth (recommended).',
  },
  {
    name: 'SNOWFLAKE_PRIVATE_KEY',
    schema: z.string().optional(),
    doc: 'PEM private key in the environment (alternative to the path).',
    secret: true,
  },
  {
    name: 'SNOWFLAKE_PRIVATE_KEY_PASSPHRASE',
    schema: z.string().optional(),
    doc: 'Passphrase of an encrypted private key.',
    secret: true,
  },
  {
    name: 'SNOWFLAKE_PASSWORD',
    schema: z.string().optional(),
    doc: 'Password auth (fallback when no key is given).',
    secret: true,
  },
  { name: 'SNOWFLAKE_ROLE', schema: z.string().optional(), doc: 'Role to use.' },
  { name: 'SNOWFLAKE_WAREHOUSE', schema: z.string().optional(), doc: 'Virtual warehouse.' },
  { name: 'SNOWFLAKE_DATABASE', schema: z.string().optional(), doc: 'Database.' },
  { name: 'SNOWFLAKE_SCHEMA', schema: z.string().optional(), default: 'PUBLIC', doc: 'Schema.' },
  {
    name: 'SNOWFLAKE_HOST',
    schema: z.string().optional(),
    doc: 'Override the account host (tests use a local stand-in).',
  },
  {
    name: 'SNOWFLAKE_CREATE_TABLE',
    schema: bool,
    default: 'true',
    doc: 'Create the table on start when missing; false = only verify it.',
  },
  {
    name: 'WAREHOUSE_TABLE',
    schema: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/),
    default: 'positions',
    doc: 'Table of every position.',
  },
  // API, gateway, map
  {
    name: 'HOST',
    schema: z.string().min(1),
    default: '127.0.0.1',
    doc: 'Interface the HTTP servers bind to (0.0.0.0 in containers).',
  },
  { name: 'PORT', schema: int(0, 65_535), default: '8080', doc: 'Query API + live map port.' },
  {
    name: 'GATEWAY_PORT',
    schema: int(0, 65_535),
    default: '5055',
    doc: 'Device ingest (OsmAnd/Traccar Client) port.',
  },
  {
    name: 'API_KEYS',
    schema: list,
    default: '',
    doc: 'Comma-separated API keys accepted in the `x-api-key` header.',
    secret: true,
  },
  {
    name: 'API_AUTH',
    schema: z.enum(['required', 'off']).optional(),
    doc: 'Default: `required`, or `off` when NODE_ENV=development / `fleet dev`.',
  },
  {
    name: 'MAX_SSE_CLIENTS',
    schema: int(1, 100_000),
    default: '500',
    doc: 'Concurrent `/v1/stream` connections.',
  },
  {
    name: 'STALE_AFTER_MS',
    schema: int(1000),
    default: '60000',
    doc: 'A vehicle not heard from for this long is flagged stale.',
  },
  {
    name: 'MAP_TILE_URL',
    schema: z.string().optional(),
    doc: 'Optional base-map tile URL template ({z}/{x}/{y}); a coordinate grid when unset.',
  },
  {
    name: 'TRIP_MIN_DISTANCE_M',
    schema: z.coerce.number().min(0),
    default: '500',
    doc: 'A trip covers at least this distance.',
  },
  {
    name: 'STOP_MIN_DURATION_S',
    schema: z.coerce.number().min(0),
    default: '300',
    doc: 'A stop lasts at least this long.',
  },
  {
    name: 'MOVING_MIN_SPEED_KMH',
    schema: z.coerce.number().min(0),
    default: '3',
    doc: 'Below this speed a vehicle counts as stopped.',
  },
  {
    name: 'API_URL',
    schema: z.string().url(),
    default: 'http://127.0.0.1:8080',
    doc: 'Query API the CLI commands `fleet where/nearby/history/summary` call (`--url`).',
  },
  {
    name: 'API_KEY',
    schema: z.string().optional(),
    doc: 'API key those CLI commands send in `x-api-key` (`--api-key`).',
    secret: true,
  },
  // General
  {
    name: 'LOG_LEVEL',
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    default: 'info',
    doc: 'pino log level.',
  },
  {
    name: 'FLEET_HOME',
    schema: z.string().min(1),
    default: '.cache/fleet',
    doc: 'Where local services keep jars, data and pid files.',
  },
] as const satisfies readonly VariableSpec[];

export type VariableName = (typeof variables)[number]['name'];
