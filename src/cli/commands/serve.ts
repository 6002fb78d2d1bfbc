import type { Command } from 'commander';
import { kafkaReadiness } from '../../api/kafka-readiness.js';
import { startApiServer } from '../../api/server.js';
import { createKafka } from '../../kafka/client.js';
import { LogEvents } from '../../logger.js';
import { createWarehouse } from '../../sinks/create-warehouse.js';
import { createPublisher } from '../../sources/publisher.js';
import { createRedisStateTable } from '../../state/redis-state-table.js';
import { startProcessor } from '../../topology/processor.js';
import { action, commandContext } from '../context.js';

interface ServeFlags {
  host?: string;
  port?: string;
  process?: boolean;
  ingest?: boolean;
}

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const done = (signal: NodeJS.Signals) => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve(signal);
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}

/** `fleet serve`: the query API, SSE stream, OpenAPI docs and live map. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Query API, live stream (SSE), OpenAPI docs (/docs) and the live map (/)')
    .option('--host <host>', 'interface to bind (HOST)')
    .option('--port <port>', 'port (PORT, default 8080)')
    .option(
      '--process',
      'also run the stream processor in this process (one DuckDB file can only be opened by one process; its metrics join /metrics)',
    )
    .option('--ingest', 'also accept positions on POST /v1/positions (published to Kafka)')
    .action(
      action(async (flags: ServeFlags) => {
        const { config, logger } = commandContext({
          ...(flags.host ? { HOST: flags.host } : {}),
          ...(flags.port ? { PORT: flags.port } : {}),
        });
        const table = createRedisStateTable({ url: config.redis.url, prefix: config.redis.prefix, logger });
        const warehouse = await createWarehouse(config.warehouse, logger);
        await warehouse.ready();
        const kafka = kafkaReadiness(
          createKafka(config.kafka, { logger, role: 'api', retry: { retries: 0 }, requestTimeout: 2000 }),
        );
        const processor = flags.process ? await startProcessor(config, { logger, table, warehouse }) : null;
        const publisher = flags.ingest ? createPublisher(config, { logger }) : null;
        await publisher?.connect();
        const server = await startApiServer({
          config,
          table,
          warehouse,
          readiness: { kafka: kafka.check },
          logger,
          ...(publisher ? { publisher } : {}),
        });
        process.stderr.write(`fleet: live map ${server.url}/  ·  API docs ${server.url}/docs\n`);
        try {
          // A co-hosted processor that fails takes the server down with it (its error is reported).
          const reason = await Promise.race([
            untilSignal(),
            ...(processor ? [processor.done.then(() => 'processor stopped')] : []),
          ]);
          logger.info({ event: LogEvents.shutdown, reason }, 'shutting down');
        } finally {
          await server.close();
          await publisher?.close();
          if (processor) await processor.stop();
          await kafka.close();
          await warehouse.close();
          await table.close();
        }
      }),
    );
}
