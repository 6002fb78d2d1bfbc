import { ConfigError } from '../errors.js';
import type { ConfigValues } from './values.js';

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
  /** SNOWFLAKE_INGEST: `merge` (default) or `streaming` (Snowpipe Streaming). */
  ingest: 'merge' | 'streaming';
  /** SNOWFLAKE_PIPE: streaming mode's pipe (default `<table>-STREAMING`). */
  pipe?: string;
  /** SNOWFLAKE_STATEMENT_TIMEOUT_MS. */
  statementTimeoutMs: number;
}

export interface WarehouseConfig {
  kind: 'duckdb' | 'snowflake';
  table: string;
  duckdbPath: string;
  /** DuckDB memory_limit, e.g. `128MB` (DUCKDB_MEMORY_LIMIT). */
  duckdbMemoryLimit: string;
  /** DuckDB worker threads (DUCKDB_THREADS). */
  duckdbThreads: number;
  /** Ceiling of the DuckDB memory_limit's growth (DUCKDB_MEMORY_MAX); absent: a quarter of RAM. */
  duckdbMemoryMax?: string;
  snowflake?: SnowflakeConfig;
}

function snowflakeFrom(v: ConfigValues): SnowflakeConfig {
  const need = (name: 'SNOWFLAKE_ACCOUNT' | 'SNOWFLAKE_USER' | 'SNOWFLAKE_DATABASE'): string => {
    const value = v[name];
    if (typeof value !== 'string' || value === '') {
      throw new ConfigError(name, 'is required when WAREHOUSE=snowflake');
    }
    return value;
  };
  const account = need('SNOWFLAKE_ACCOUNT');
  const user = need('SNOWFLAKE_USER');
  const database = need('SNOWFLAKE_DATABASE');
  const keyPath = v.SNOWFLAKE_PRIVATE_KEY_PATH;
  const key = v.SNOWFLAKE_PRIVATE_KEY;
  const password = v.SNOWFLAKE_PASSWORD;
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
      ...(v.SNOWFLAKE_PRIVATE_KEY_PASSPHRASE ? { passphrase: v.SNOWFLAKE_PRIVATE_KEY_PASSPHRASE } : {}),
    };
  } else if (password) {
    if (v.SNOWFLAKE_INGEST === 'streaming') {
      throw new ConfigError(
        'SNOWFLAKE_INGEST',
        'streaming needs key-pair auth (the Snowpipe Streaming REST API takes a key-pair JWT): set SNOWFLAKE_PRIVATE_KEY_PATH',
      );
    }
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
    schema: v.SNOWFLAKE_SCHEMA,
    createTable: v.SNOWFLAKE_CREATE_TABLE,
    ingest: v.SNOWFLAKE_INGEST,
    statementTimeoutMs: v.SNOWFLAKE_STATEMENT_TIMEOUT_MS,
    ...(v.SNOWFLAKE_PIPE ? { pipe: v.SNOWFLAKE_PIPE } : {}),
    ...(v.SNOWFLAKE_ROLE ? { role: v.SNOWFLAKE_ROLE } : {}),
    ...(v.SNOWFLAKE_WAREHOUSE ? { warehouse: v.SNOWFLAKE_WAREHOUSE } : {}),
    ...(v.SNOWFLAKE_HOST ? { host: v.SNOWFLAKE_HOST } : {}),
  };
}

/** WAREHOUSE, DUCKDB_*, and SNOWFLAKE_* when the warehouse is Snowflake. */
export function warehouseFrom(v: ConfigValues): WarehouseConfig {
  const kind = v.WAREHOUSE;
  return {
    kind,
    table: v.WAREHOUSE_TABLE,
    duckdbPath: v.DUCKDB_PATH,
    duckdbMemoryLimit: v.DUCKDB_MEMORY_LIMIT,
    duckdbThreads: v.DUCKDB_THREADS,
    ...(v.DUCKDB_MEMORY_MAX ? { duckdbMemoryMax: v.DUCKDB_MEMORY_MAX } : {}),
    ...(kind === 'snowflake' ? { snowflake: snowflakeFrom(v) } : {}),
  };
}
