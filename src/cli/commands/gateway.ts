import type { Command } from 'commander';
import { runApp } from '../../app/app.js';
import { untilSignal } from '../../app/until-signal.js';
import { LogEvents, logError } from '../../logger.js';
import { action, commandContext, parseDuration } from '../context.js';

export function registerGateway(program: Command): void {
  program
    .command('gateway')
    .description(
      'device ingest gateway: OsmAnd / Traccar Client on / and POST /v1/positions; answers 200 once Kafka acknowledged',
    )
    .option('--port <n>', 'port (default GATEWAY_PORT, 5055)')
    .option('--host <host>', 'interface to bind (default HOST)')
    .option('--publish-timeout <duration>', 'answer 503 when Kafka has not acknowledged within this', '10s')
    .action(
      action(async (opts: { port?: string; host?: string; publishTimeout: string }) => {
        const { config, logger } = commandContext({
          ...(opts.port !== undefined ? { GATEWAY_PORT: opts.port } : {}),
          ...(opts.host !== undefined ? { HOST: opts.host } : {}),
        });
        const publishTimeoutMs = parseDuration(opts.publishTimeout, '--publish-timeout');
        await runApp(config, logger, async (app) => {
          const publisher = await app.publisher({
            publishTimeoutMs,
            connect: false,
            closeTimeoutMs: publishTimeoutMs + 5000,
          });
          await app.gateway(publisher, { publishTimeoutMs });
          // Listen first: while Kafka is unreachable devices get 503 and retry; the gateway stays up.
          publisher
            .connect()
            .catch((err: unknown) =>
              logError(logger, err, 'Kafka not reachable yet: answering 503 until it is', {}, 'warn'),
            );
          const signal = await untilSignal();
          logger.info({ event: LogEvents.shutdown, signal }, 'gateway stopping');
        });
      }),
    );
}
