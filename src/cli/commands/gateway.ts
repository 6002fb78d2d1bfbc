import type { Command } from 'commander';
import { startGatewayServer } from '../../api/gateway/server.js';
import { errorMessage } from '../../errors.js';
import { LogEvents } from '../../logger.js';
import { createPublisher } from '../../sources/publisher.js';
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
        const publisher = createPublisher(config, { logger, publishTimeoutMs });
        const { app } = await startGatewayServer({ config, publisher, logger, publishTimeoutMs });
        // Listen first: while Kafka is unreachable devices get 503 and retry; the gateway stays up.
        publisher
          .connect()
          .catch((err: unknown) =>
            logger.warn({ err: errorMessage(err) }, 'Kafka not reachable yet: answering 503 until it is'),
          );
        await new Promise<void>((resolve) => {
          const stop = () => resolve();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        logger.info({ event: LogEvents.shutdown }, 'gateway stopping');
        await app.close();
        await publisher.close({ timeoutMs: publishTimeoutMs + 5000 });
      }),
    );
}
