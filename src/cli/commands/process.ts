import type { Command } from 'commander';
import { runApp } from '../../app/app.js';
import { untilSignal } from '../../app/until-signal.js';
import { assertMetricsExposure } from '../../http/metrics-access.js';
import { LogEvents } from '../../logger.js';
import { DEFAULT_STOP_TIMEOUT_MS } from '../../processor/processor.js';
import { action, commandContext } from '../context.js';

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
        // Before anything starts: metrics beyond loopback without METRICS_KEY are refused.
        if (config.metrics.port > 0) assertMetricsExposure(config.metrics);
        await runApp(config, logger, async (app) => {
          const processor = await app.processor();
          if (config.metrics.port > 0) {
            const server = await app.metricsServer(() => ({
              ok: processor.state === 'RUNNING',
              ...processor.health(),
            }));
            logger.info(
              { port: server.port },
              `metrics on http://${config.metrics.host}:${server.port}/metrics`,
            );
          }
          const signal = await Promise.race([untilSignal(), processor.done.then(() => null)]);
          if (signal) {
            logger.info({ event: LogEvents.shutdown, signal }, `${signal}: draining`);
            // Fargate kills 30 s after SIGTERM: if draining somehow hangs, leave a little earlier.
            setTimeout(() => {
              logger.error('shutdown took too long: exiting');
              process.exit(1);
            }, HARD_EXIT_MS).unref();
          }
          // Leaving runApp stops the processor (drain, flush, commit); a FAILED stop rejects.
        });
        await new Promise<void>((resolve) => logger.flush(() => resolve()));
        process.exit(0);
      }),
    );
}
