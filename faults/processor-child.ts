/**
 * `fleet process` with its warehouse behind {@link FaultyWarehouse}: down while the file named by
 * FLEET_FAULT_WAREHOUSE_OUTAGE_FILE exists. Run by the warehouse-outage scenario as
 * `node --import tsx faults/processor-child.ts`; same lifecycle as `fleet process` (SIGTERM drains,
 * flushes, commits, exits 0).
 */
import { commandContext } from '../src/cli/context.js';
import { errorMessage } from '../src/errors.js';
import { createWarehouse } from '../src/sinks/create-warehouse.js';
import { startProcessor } from '../src/topology/processor.js';
import { FaultyWarehouse, outageWhileFileExists } from './faulty-warehouse.js';

const OUTAGE_FILE = process.env.FLEET_FAULT_WAREHOUSE_OUTAGE_FILE;

async function main(): Promise<void> {
  if (!OUTAGE_FILE) throw new Error('FLEET_FAULT_WAREHOUSE_OUTAGE_FILE is not set');
  const { config, logger } = commandContext();
  const inner = await createWarehouse(config.warehouse, logger);
  const warehouse = new FaultyWarehouse(inner, outageWhileFileExists(OUTAGE_FILE));
  await warehouse.ready();
  const processor = await startProcessor(config, { logger, warehouse });
  const stop = () => void processor.stop();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    await processor.done;
  } finally {
    await warehouse.close();
    logger.info({ refused: warehouse.refused }, 'faulty warehouse closed');
    await new Promise<void>((resolve) => logger.flush(() => resolve()));
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`processor-child: ${errorMessage(err)}\n`);
    process.exit(1);
  },
);
