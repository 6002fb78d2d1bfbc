import type { WarehouseConfig } from '../config/config.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { EventsWarehouse } from './events-warehouse.js';
import type { Warehouse } from './warehouse-sink.js';

/**
 * The one place an adapter is chosen: DuckDB (embedded, default) or Snowflake. Settings are
 * checked here (a bad key file or account fails now, naming the variable); connecting, logging
 * in and creating the table happen in `ready()`, which the caller runs.
 */
export async function createWarehouse(config: WarehouseConfig, logger: Logger): Promise<Warehouse> {
  if (config.kind === 'duckdb') {
    // Loaded on demand too: DuckDB's native library is ~34 MB of RSS a Snowflake processor never uses.
    const { DuckDbWarehouse } = await import('./duckdb-sink.js');
    return new DuckDbWarehouse({
      path: config.duckdbPath,
      table: config.table,
      memoryLimit: config.duckdbMemoryLimit,
      threads: config.duckdbThreads,
      ...(config.duckdbMemoryMax ? { maxMemoryLimit: config.duckdbMemoryMax } : {}),
      logger,
    });
  }
  if (!config.snowflake)
    throw new ConfigError('WAREHOUSE', 'snowflake selected but the SNOWFLAKE_* settings are missing');
  const options = {
    config: config.snowflake,
    table: config.table,
    logger,
    statementTimeoutMs: config.snowflake.statementTimeoutMs,
  };
  // Loaded on demand: DuckDB users never pay for the Snowflake driver.
  if (config.snowflake.ingest === 'streaming') {
    const { SnowpipeStreamingWarehouse } = await import('./snowpipe-streaming-sink.js');
    return new SnowpipeStreamingWarehouse(options);
  }
  const { SnowflakeWarehouse } = await import('./snowflake-sink.js');
  return new SnowflakeWarehouse(options);
}

/**
 * The events table (`vehicle_events`) in the same warehouse as `positions`, on its connection: the
 * DuckDB instance (one process per file) or the Snowflake session pool (both ingest modes store
 * events with a MERGE). `positions` must be ready; the caller runs `ready()` on the result.
 */
export async function createEventsWarehouse(
  config: WarehouseConfig,
  positions: Warehouse,
): Promise<EventsWarehouse> {
  if (config.kind === 'duckdb') {
    const [{ DuckDbEventsWarehouse }, { DuckDbWarehouse }] = await Promise.all([
      import('./duckdb-events-warehouse.js'),
      import('./duckdb-sink.js'),
    ]);
    if (!(positions instanceof DuckDbWarehouse))
      throw new ConfigError('WAREHOUSE', 'duckdb: expected the DuckDB warehouse');
    return new DuckDbEventsWarehouse(() => positions.database, undefined, positions);
  }
  const [{ SnowflakeEventsWarehouse }, { SnowflakeBase }] = await Promise.all([
    import('./snowflake-events-warehouse.js'),
    import('./snowflake/snowflake-base.js'),
  ]);
  if (!(positions instanceof SnowflakeBase))
    throw new ConfigError('WAREHOUSE', 'snowflake: expected a Snowflake warehouse');
  return new SnowflakeEventsWarehouse(positions.sessions, config.snowflake?.createTable ?? true);
}
