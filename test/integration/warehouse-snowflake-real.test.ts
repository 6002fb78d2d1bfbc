import { describe } from 'vitest';
import { compileConfig, readRawConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/logger.js';
import { createWarehouse } from '../../src/sinks/create-warehouse.js';
import { warehouseConformance } from '../support/warehouse-conformance.js';

/**
 * The conformance suite against a real Snowflake account, whenever SNOWFLAKE_ACCOUNT is set (with
 * the other SNOWFLAKE_* settings of `fleet process`); reported as skipped otherwise. Rows go to
 * WAREHOUSE_TABLE, default `positions_conformance`, created when missing; every test writes its
 * own topic, so the table can be kept between runs. See the README, section Warehouse.
 */
const account = process.env.SNOWFLAKE_ACCOUNT;

describe.skipIf(!account)('real Snowflake account (SNOWFLAKE_ACCOUNT set)', () => {
  warehouseConformance(
    `snowflake account ${account}`,
    () => {
      const config = compileConfig(
        readRawConfig(process.env, {
          WAREHOUSE: 'snowflake',
          WAREHOUSE_TABLE: process.env.WAREHOUSE_TABLE ?? 'positions_conformance',
        }),
      );
      const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'warn', destination: 2 });
      return createWarehouse(config.warehouse, logger);
    },
    { timeoutMs: 300_000 },
  );
});
