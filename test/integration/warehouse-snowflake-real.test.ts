import { describe } from 'vitest';
import { compileConfig, readRawConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/logger.js';
import { createWarehouse } from '../../src/sinks/create-warehouse.js';
import { warehouseConformance } from '../support/warehouse-conformance.js';

/**
 * The conformance suite against a real Snowflake account, whenever SNOWFLAKE_ACCOUNT is set (with
 * the other SNOWFLAKE_* settings of `fleet process`); reported as skipped otherwise. Rows go to
 * WAREHOUSE_TABLE, default `positions_conformance`, created when missing; every test writes its
 * own topic, so the table can be kept between runs. See docs/snowflake.md.
 */
const account = process.env.SNOWFLAKE_ACCOUNT;
if (!account) {
  console.info(
    '[warehouse-snowflake-real] skipped: set SNOWFLAKE_ACCOUNT, SNOWFLAKE_USER, SNOWFLAKE_PRIVATE_KEY_PATH, SNOWFLAKE_DATABASE, SNOWFLAKE_WAREHOUSE (and SNOWFLAKE_ROLE) to run the suite against a real account (docs/snowflake.md)',
  );
}

/** Both write modes; streaming only when asked (it needs the pipe, see docs/snowflake.md). */
const modes = (process.env.SNOWFLAKE_TEST_MODES ?? 'merge').split(',') as ('merge' | 'streaming')[];

describe.skipIf(!account)('real Snowflake account (SNOWFLAKE_ACCOUNT set)', () => {
  for (const mode of modes) {
    // ready() runs the start-up check: login, objects, table, and (merge) the temporary stage table grant.
    warehouseConformance(
      `snowflake account ${account}, SNOWFLAKE_INGEST=${mode}`,
      () => {
        const config = compileConfig(
          readRawConfig(process.env, {
            WAREHOUSE: 'snowflake',
            SNOWFLAKE_INGEST: mode,
            WAREHOUSE_TABLE: process.env.WAREHOUSE_TABLE ?? `positions_conformance_${mode}`,
          }),
        );
        const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'warn', destination: 2 });
        return createWarehouse(config.warehouse, logger);
      },
      { timeoutMs: 300_000 },
    );
  }
});
