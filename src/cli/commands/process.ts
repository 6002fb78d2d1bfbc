import type { Command } from 'commander';
import type { Logger } from '../../logger.js';
import { LogEvents } from '../../logger.js';
import { defaultRegistry } from '../../metrics.js';
import { startMetricsServer, type MetricsServer } from '../../topology/metrics-server.js';
import { DEFAULT_STOP_TIMEOUT_MS, startProcessor, type ProcessorHandle } from '../../topology/processor.js';
import { action, commandContext } from '../context.js';

/** Fargate kills 30 s after SIGTERM; if draining somehow hangs, leave a little earlier. */
const HARD_EXIT_MS = DEFAULT_STOP_TIMEOUT_MS + 3000;

export function registerProcess(program: Command): void {
  program
    .command('process')
    .description(
      'run the stream processor: <TOPIC> → latest position per vehicle in Redis + every position in the warehouse (bad records → DLQ)',
    )
    .option('--group <id>', 'consumer group; instances in one group share the partitions (CONSUMER_GROUP)')
    .option('--metrics-port <port>', 'serve /metrics and /healthz on this port, 0 = off (METRICS_PORT)')
    .action(
      action(async (opts: { group?: string; metricsPort?: string }) => {
        const { config, logger } = commandContext({
          CONSUMER_GROUP: opts.group,
          METRICS_PORT: opts.metricsPort,
        });
        const processor = await startProcessor(config, { logger });
        let server: MetricsServer | null = null;
        if (config.metrics.port > 0) {
          server = await startMetricsServer({
            host: config.api.host,
            port: config.metrics.port,
            registry: defaultRegistry,
            health: () => ({ ok: processor.state === 'RUNNING', ...processor.health() }),
          });
          logger.info({ port: server.port }, `metrics on http://${config.api.host}:${server.port}/metrics`);
        }
        onShutdownSignal(processor, logger);
        try {
          await processor.done;
        } finally {
          await server?.close();
          await new Promise<void>((resolve) => logger.flush(() => resolve()));
        }
        process.exit(0);
      }),
    );
}

/** SIGTERM / SIGINT: drain, flush, commit and leave the group; a second signal exits at once. */
function onShutdownSignal(processor: ProcessorHandle, logger: Logger): void {
  let received = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (received) {
      logger.warn({ signal }, 'second signal: exiting without draining');
      process.exit(130);
    }
    received = true;
    logger.info({ event: LogEvents.shutdown, signal }, `${signal}: draining`);
    setTimeout(() => {
      logger.error('shutdown took too long: exiting');
      process.exit(1);
    }, HARD_EXIT_MS).unref();
    void processor.stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
