/**
 * `fleet process` with its warehouse behind {@link FaultyWarehouse}: down while the file named by
 * FLEET_FAULT_WAREHOUSE_OUTAGE_FILE exists, and capped at FLEET_FAULT_WAREHOUSE_RECORDS_PER_S
 * records/s when that is set. Run by the warehouse-outage and surge scenarios as
 * `node --import tsx faults/processor-child.ts`; same lifecycle as `fleet process` (SIGTERM drains,
 * flushes, commits, exits 0).
 */
import { commandContext } from '../src/cli/context.js';
import { errorMessage } from '../src/errors.js';
import { defaultRegistry } from '../src/metrics.js';
import { createWarehouse } from '../src/sinks/create-warehouse.js';
import { startMetricsServer } from '../src/processor/metrics-server.js';
import { startProcessor } from '../src/processor/processor.js';
import { FaultyWarehouse, outageWhileFileExists } from './faulty-warehouse.js';

const OUTAGE_FILE = process.env.FLEET_FAULT_WAREHOUSE_OUTAGE_FILE;
const RECORDS_PER_S = Number(process.env.FLEET_FAULT_WAREHOUSE_RECORDS_PER_S ?? 0);

async function main(): Promise<void> {
  const { config, logger } = commandContext();
  const inner = await createWarehouse(config.warehouse, logger);
  const warehouse = new FaultyWarehouse(inner, {
    ...(OUTAGE_FILE ? { down: outageWhileFileExists(OUTAGE_FILE) } : {}),
    ...(RECORDS_PER_S > 0 ? { recordsPerSecond: RECORDS_PER_S } : {}),
  });
  await warehouse.ready();
  const processor = await startProcessor(config, { logger, warehouse });
  const metrics =
    config.metrics.port > 0
      ? await startMetricsServer({
          host: config.api.host,
          port: config.metrics.port,
          registry: defaultRegistry,
          health: () => ({ ok: processor.state === 'RUNNING', ...processor.health() }),
        })
      : null;
  const stop = () => void processor.stop();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    await processor.done;
  } finally {
    await metrics?.close();
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
