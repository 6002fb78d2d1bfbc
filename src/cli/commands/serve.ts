import type { Command } from 'commander';
import { runApp } from '../../app/app.js';
import { untilSignal } from '../../app/until-signal.js';
import { LogEvents } from '../../logger.js';
import { action, commandContext } from '../context.js';

interface ServeFlags {
  host?: string;
  port?: string;
  process?: boolean;
  ingest?: boolean;
  events?: boolean;
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
    .option(
      '--events',
      'also run the events processor and its warehouse sink in this process (fleet events-process; with DuckDB the process owning the file must store the events)',
    )
    .option('--ingest', 'also accept positions on POST /v1/positions (published to Kafka)')
    .action(
      action(async (flags: ServeFlags) => {
        const { config, logger } = commandContext({
          ...(flags.host ? { HOST: flags.host } : {}),
          ...(flags.port ? { PORT: flags.port } : {}),
        });
        await runApp(config, logger, async (app) => {
          const processor = flags.process ? await app.processor({ shareSinks: true }) : null;
          const events = flags.events ? await app.eventsProcessor() : null;
          const publisher = flags.ingest ? await app.publisher() : undefined;
          const server = await app.apiServer(publisher ? { publisher } : {});
          process.stderr.write(`fleet: live map ${server.url}/  ·  API docs ${server.url}/docs\n`);
          // A co-hosted processor that fails takes the server down with it (its error is reported).
          const reason = await Promise.race([
            untilSignal(),
            ...(processor ? [processor.done.then(() => 'processor stopped')] : []),
            ...(events ? [events.processor.done.then(() => 'events processor stopped')] : []),
            ...(events?.sink ? [events.sink.done.then(() => 'events sink stopped')] : []),
          ]);
          logger.info({ event: LogEvents.shutdown, reason }, 'shutting down');
        });
      }),
    );
}
