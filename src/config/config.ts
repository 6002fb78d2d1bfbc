import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { variables, type VariableName } from './variables.js';

export type RawConfig = Readonly<Partial<Record<VariableName, string | undefined>>>;

/** Reads the raw values: environment first, then flags (flags win). Nothing is converted yet. */
export function readRawConfig(env: NodeJS.ProcessEnv = process.env, flags: RawConfig = {}): RawConfig {
  const raw: Partial<Record<VariableName, string>> = {};
  for (const v of variables) {
    const value = flags[v.name] ?? env[v.name];
    if (value !== undefined && value !== '') raw[v.name] = value;
  }
  return raw;
}

function parseAll(raw: RawConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const v of variables) {
    const input = raw[v.name] ?? ('default' in v ? v.default : undefined);
    const result = (v.schema as z.ZodType).safeParse(input);
    if (!result.success) {
      const why = result.error.issues.map((i) => i.message).join('; ');
      throw new ConfigError(v.name, `invalid value ${JSON.stringify(input)}: ${why}. ${v.doc}`);
    }
    out[v.name] = result.data;
  }
  return out;
}

export interface KafkaConfig {
  brokers: readonly string[];
  clientId: string;
  ssl: boolean;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
}

export interface TopicConfig {
  name: string;
  dlq: string;
  partitions: number;
  /** Undefined = min(2, number of brokers). */
  replicationFactor?: number;
  retentionMs: number;
  minCompactionLagMs: number;
}

export interface ConsumerConfig {
  groupId: string;
  maxPollRecords: number;
  maxPollIntervalMs: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  fetchMinBytes: number;
  fetchMaxWaitMs: number;
  fetchMaxBytesPerPartition: number;
  fromBeginning: boolean;
}

export interface BatchConfig {
  maxRecords: number;
  maxBytes: number;
  maxWaitMs: number;
  maxUnflushedBytes: number;
  stateMaxWaitMs: number;
}

export interface SnowflakeConfig {
  account: string;
  user: string;
  auth:
    | { kind: 'key-pair'; privateKeyPath?: string; privateKey?: string; passphrase?: string }
    | { kind: 'password'; password: string };
  role?: string;
  warehouse?: string;
  database: string;
  schema: string;
  host?: string;
  createTable: boolean;
}

export interface WarehouseConfig {
  kind: 'duckdb' | 'snowflake';
  table: string;
  duckdbPath: string;
  /** DuckDB memory_limit, e.g. `128MB` (DUCKDB_MEMORY_LIMIT). */
  duckdbMemoryLimit: string;
  /** Ceiling of the DuckDB memory_limit's growth (DUCKDB_MEMORY_MAX); absent: a quarter of RAM. */
  duckdbMemoryMax?: string;
  snowflake?: SnowflakeConfig;
}

export interface ApiConfig {
  host: string;
  port: number;
  gatewayPort: number;
  apiKeys: readonly string[];
  authRequired: boolean;
  maxSseClients: number;
  staleAfterMs: number;
  mapTileUrl?: string;
  trips: { minDistanceM: number; minStopDurationS: number; movingMinSpeedKmh: number };
  /** Where CLI query commands find the API (API_URL, API_KEY). */
  client: { url: string; apiKey?: string };
}

export interface Config {
  kafka: KafkaConfig;
  topic: TopicConfig;
  consumer: ConsumerConfig;
  batch: BatchConfig;
  /** `fleet process` metrics + health endpoint (METRICS_PORT; 0 = off). */
  metrics: { port: number };
  redis: { url: string; prefix: string };
  warehouse: WarehouseConfig;
  api: ApiConfig;
  logLevel: string;
  home: string;
}

function snowflakeFrom(v: Record<string, unknown>): SnowflakeConfig {
  const need = (name: VariableName): string => {
    const value = v[name];
    if (typeof value !== 'string' || value === '') {
      throw new ConfigError(name, 'is required when WAREHOUSE=snowflake');
    }
    return value;
  };
  const account = need('SNOWFLAKE_ACCOUNT');
  const user = need('SNOWFLAKE_USER');
  const database = need('SNOWFLAKE_DATABASE');
  const keyPath = v.SNOWFLAKE_PRIVATE_KEY_PATH as string | undefined;
  const key = v.SNOWFLAKE_PRIVATE_KEY as string | undefined;
  const password = v.SNOWFLAKE_PASSWORD as string | undefined;
  let auth: SnowflakeConfig['auth'];
  if (keyPath && key) {
    throw new ConfigError(
      'SNOWFLAKE_PRIVATE_KEY',
      'set either SNOWFLAKE_PRIVATE_KEY or SNOWFLAKE_PRIVATE_KEY_PATH, not both',
    );
  } else if (keyPath || key) {
    if (key && !key.includes('PRIVATE KEY')) {
      throw new ConfigError('SNOWFLAKE_PRIVATE_KEY', 'expected a PEM block (-----BEGIN PRIVATE KEY-----)');
    }
    auth = {
      kind: 'key-pair',
      ...(keyPath ? { privateKeyPath: keyPath } : {}),
      ...(key ? { privateKey: key } : {}),
      ...(v.SNOWFLAKE_PRIVATE_KEY_PASSPHRASE
        ? { passphrase: v.SNOWFLAKE_PRIVATE_KEY_PASSPHRASE as string }
        : {}),
    };
  } else if (password) {
    auth = { kind: 'password', password };
  } else {
    throw new ConfigError(
      'SNOWFLAKE_PRIVATE_KEY_PATH',
      'no credentials: set SNOWFLAKE_PRIVATE_KEY_PATH (or SNOWFLAKE_PRIVATE_KEY) for key-pair auth, or SNOWFLAKE_PASSWORD',
    );
  }
  return {
    account,
    user,
    auth,
    database,
    schema: v.SNOWFLAKE_SCHEMA as string,
    createTable: v.SNOWFLAKE_CREATE_TABLE as boolean,
    ...(v.SNOWFLAKE_ROLE ? { role: v.SNOWFLAKE_ROLE as string } : {}),
    ...(v.SNOWFLAKE_WAREHOUSE ? { warehouse: v.SNOWFLAKE_WAREHOUSE as string } : {}),
    ...(v.SNOWFLAKE_HOST ? { host: v.SNOWFLAKE_HOST as string } : {}),
  };
}

/**
 * Fills defaults, converts units, cross-checks fields and returns a complete, frozen config.
 * Throws {@link ConfigError} naming the variable on the first bad value.
 */
export function compileConfig(raw: RawConfig, env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const v = parseAll(raw);
  const topic = v.TOPIC as string;
  const saslMechanism = v.KAFKA_SASL_MECHANISM as KafkaConfig['sasl'] extends infer S
    ? S extends { mechanism: infer M }
      ? M
      : never
    : never;
  if (saslMechanism && (!v.KAFKA_SASL_USERNAME || !v.KAFKA_SASL_PASSWORD)) {
    throw new ConfigError(
      'KAFKA_SASL_USERNAME',
      'KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required with KAFKA_SASL_MECHANISM',
    );
  }
  const apiKeys = v.API_KEYS as string[];
  const devMode = env.NODE_ENV === 'development';
  const authRequired = ((v.API_AUTH as string | undefined) ?? (devMode ? 'off' : 'required')) === 'required';
  if (authRequired && apiKeys.length === 0) {
    // Not an error here: commands that do not serve HTTP don't need keys. The API refuses to
    // start with auth required and no keys (see requireApiKeys).
  }
  const batch: BatchConfig = {
    maxRecords: v.BATCH_MAX_RECORDS as number,
    maxBytes: v.BATCH_MAX_BYTES as number,
    maxWaitMs: v.BATCH_MAX_WAIT_MS as number,
    maxUnflushedBytes: v.MAX_UNFLUSHED_BYTES as number,
    stateMaxWaitMs: v.STATE_FLUSH_MAX_WAIT_MS as number,
  };
  if (batch.maxUnflushedBytes < batch.maxBytes) {
    throw new ConfigError('MAX_UNFLUSHED_BYTES', `must be >= BATCH_MAX_BYTES (${batch.maxBytes})`);
  }
  const sessionTimeoutMs = v.SESSION_TIMEOUT_MS as number;
  const heartbeatIntervalMs = v.HEARTBEAT_INTERVAL_MS as number;
  if (heartbeatIntervalMs >= sessionTimeoutMs) {
    throw new ConfigError(
      'HEARTBEAT_INTERVAL_MS',
      `must be lower than SESSION_TIMEOUT_MS (${sessionTimeoutMs})`,
    );
  }
  const warehouseKind = v.WAREHOUSE as WarehouseConfig['kind'];
  const config: Config = {
    kafka: {
      brokers: v.KAFKA_BROKERS as string[],
      clientId: v.KAFKA_CLIENT_ID as string,
      ssl: v.KAFKA_SSL as boolean,
      ...(saslMechanism
        ? {
            sasl: {
              mechanism: saslMechanism,
              username: v.KAFKA_SASL_USERNAME as string,
              password: v.KAFKA_SASL_PASSWORD as string,
            },
          }
        : {}),
    },
    topic: {
      name: topic,
      dlq: (v.DLQ_TOPIC as string | undefined) ?? `${topic}.dlq`,
      partitions: v.TOPIC_PARTITIONS as number,
      ...(v.TOPIC_REPLICATION_FACTOR !== undefined
        ? { replicationFactor: v.TOPIC_REPLICATION_FACTOR as number }
        : {}),
      retentionMs: v.TOPIC_RETENTION_MS as number,
      minCompactionLagMs: v.TOPIC_MIN_COMPACTION_LAG_MS as number,
    },
    consumer: {
      groupId: v.CONSUMER_GROUP as string,
      maxPollRecords: v.MAX_POLL_RECORDS as number,
      maxPollIntervalMs: v.MAX_POLL_INTERVAL_MS as number,
      sessionTimeoutMs,
      heartbeatIntervalMs,
      fetchMinBytes: v.FETCH_MIN_BYTES as number,
      fetchMaxWaitMs: v.FETCH_MAX_WAIT_MS as number,
      fetchMaxBytesPerPartition: v.FETCH_MAX_BYTES_PER_PARTITION as number,
      fromBeginning: v.AUTO_OFFSET_RESET === 'earliest',
    },
    batch,
    metrics: { port: v.METRICS_PORT as number },
    redis: { url: v.REDIS_URL as string, prefix: v.REDIS_PREFIX as string },
    warehouse: {
      kind: warehouseKind,
      table: v.WAREHOUSE_TABLE as string,
      duckdbPath: v.DUCKDB_PATH as string,
      duckdbMemoryLimit: v.DUCKDB_MEMORY_LIMIT as string,
      ...(v.DUCKDB_MEMORY_MAX ? { duckdbMemoryMax: v.DUCKDB_MEMORY_MAX as string } : {}),
      ...(warehouseKind === 'snowflake' ? { snowflake: snowflakeFrom(v) } : {}),
    },
    api: {
      host: v.HOST as string,
      port: v.PORT as number,
      gatewayPort: v.GATEWAY_PORT as number,
      apiKeys,
      authRequired,
      maxSseClients: v.MAX_SSE_CLIENTS as number,
      staleAfterMs: v.STALE_AFTER_MS as number,
      ...(v.MAP_TILE_URL ? { mapTileUrl: v.MAP_TILE_URL as string } : {}),
      trips: {
        minDistanceM: v.TRIP_MIN_DISTANCE_M as number,
        minStopDurationS: v.STOP_MIN_DURATION_S as number,
        movingMinSpeedKmh: v.MOVING_MIN_SPEED_KMH as number,
      },
      client: {
        url: v.API_URL as string,
        ...(v.API_KEY ? { apiKey: v.API_KEY as string } : {}),
      },
    },
    logLevel: v.LOG_LEVEL as string,
    home: v.FLEET_HOME as string,
  };
  return deepFreeze(config);
}

/** Reads env (+ flags) and compiles; the one call commands make at start. */
export function loadConfig(flags: RawConfig = {}, env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  return compileConfig(readRawConfig(env, flags), env);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

export { variables };
