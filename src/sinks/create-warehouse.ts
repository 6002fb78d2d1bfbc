import type { WarehouseConfig } from '../config/config.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../logger.js';
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
      ...(config.duckdbMemoryMax ? { maxMemoryLimit: config.duckdbMemoryMax } : {}),
      logger,
    });
  }
  if (!config.snowflake)
    throw new ConfigError('WAREHOUSE', 'snowflake selected but the SNOWFLAKE_* settings are missing');
  // The driver bundles the AWS SDK for stage transfers we never use; its Node-version notice is noise.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // Loaded on demand: DuckDB users never pay for the Snowflake driver.
  const { SnowflakeWarehouse } = await import('./snowflake-sink.js');
  return new SnowflakeWarehouse({ config: config.snowflake, table: config.table, logger });
}
