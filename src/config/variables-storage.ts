import { z } from 'zod';
import { int, bool, list, hostPort, secretKey, size } from './variable-schemas.js';
import type { VariableSpec } from './variable-spec.js';

/** Micro-batches and backpressure, Redis, the warehouse. */
export const storageVariables = [
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
  {
    name: 'METRICS_HOST',
    schema: z.string().min(1),
    default: '127.0.0.1',
    doc: "Interface `fleet process`'s `/metrics` + `/healthz` server binds to. Anything but loopback needs METRICS_KEY (the process refuses to start without it).",
  },
  {
    name: 'METRICS_KEY',
    schema: secretKey.optional(),
    doc: 'Bearer key for `/metrics` of `fleet process` and `fleet gateway` (`Authorization: Bearer <key>`, ≥ 32 characters). Unset: `/metrics` is served only by servers bound to loopback (the gateway on HOST=0.0.0.0 answers 403). `/healthz` never needs it.',
    secret: true,
  },
  {
    name: 'GROUP_LAG_INTERVAL_MS',
    schema: int(0),
    default: '15000',
    doc: "How often `fleet process` reads its group's lag per partition (committed offset vs high watermark; `fleet_processor_group_lag`, EMF ConsumerLag); 0 = off.",
  },
  {
    name: 'METRICS_EMF',
    schema: bool.optional(),
    doc: 'Write CloudWatch Embedded Metric Format lines to stdout (namespace FleetTracker). Default: on when running in ECS (ECS_CONTAINER_METADATA_URI_V4 set), off elsewhere.',
  },
  {
    name: 'METRICS_EMF_INTERVAL_MS',
    schema: int(1000),
    default: '60000',
    doc: 'Interval of the EMF lines, ms.',
  },
  // Redis
  {
    name: 'REDIS_URL',
    schema: z.string().url(),
    default: 'redis://127.0.0.1:6379',
    doc: 'Redis holding the latest-state table. `rediss://` for TLS (ElastiCache in-transit encryption).',
  },
  {
    name: 'REDIS_PASSWORD',
    schema: z.string().min(1).optional(),
    doc: 'Redis AUTH password or token (ElastiCache AUTH token from Secrets Manager); overrides the password of REDIS_URL, so the URL itself holds no secret.',
    secret: true,
  },
  {
    name: 'REDIS_PREFIX',
    schema: z.string().regex(/^[A-Za-z0-9:_.-]*$/),
    default: 'fleet:',
    doc: 'Key prefix of every key we write.',
  },
  {
    name: 'REDIS_CLUSTER_NODES',
    schema: list.pipe(z.array(hostPort)),
    default: '',
    doc: 'Comma-separated Redis Cluster seed nodes (host:port). Set: the table runs on that cluster (ioredis Cluster, sharded pub/sub, Redis >= 7) and REDIS_URL only lends its user, password and TLS; empty: a single Redis at REDIS_URL.',
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
    name: 'DUCKDB_THREADS',
    schema: int(1, 256),
    default: '1',
    doc: "DuckDB's worker threads. The processor's writes are small batches on one connection: with one thread they cost ~20 % less CPU and ~45 MB less RSS than with one per core (1M positions, bench/README.md), and leave the cores to Kafka, Redis and Node. Raise it for heavy warehouse reads.",
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
  { name: 'SNOWFLAKE_SCHEMA', schema: z.string().min(1), default: 'PUBLIC', doc: 'Schema.' },
  {
    name: 'SNOWFLAKE_HOST',
    schema: z.string().optional(),
    doc: 'Override the account host (tests use a local stand-in).',
  },
  {
    name: 'SNOWFLAKE_INGEST',
    schema: z.enum(['merge', 'streaming']),
    default: 'merge',
    doc: 'How batches reach Snowflake: `merge` (bound JSON + MERGE on a warehouse, deduplicated) or `streaming` (Snowpipe Streaming REST API, append-only with offset tokens; key-pair auth and a pipe, see docs/snowflake.md).',
  },
  {
    name: 'SNOWFLAKE_PIPE',
    schema: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_$-]{0,254}$/)
      .optional(),
    doc: 'Streaming mode: the pipe to stream into. @default `<WAREHOUSE_TABLE>-STREAMING` (the default pipe Snowflake keeps for a table)',
  },
  {
    name: 'SNOWFLAKE_STATEMENT_TIMEOUT_MS',
    schema: int(1000, 3_600_000),
    default: '120000',
    doc: "Client-side deadline of every Snowflake statement, session borrow and streaming request; also the sessions' STATEMENT_TIMEOUT_IN_SECONDS and LOCK_TIMEOUT. A hung network fails a write retriably after this instead of blocking for hours in the driver's retries.",
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
] as const satisfies readonly VariableSpec[];
