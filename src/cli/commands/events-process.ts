import type { Command } from 'commander';
import { runApp } from '../../app/app.js';
import { untilSignal } from '../../app/until-signal.js';
import { LogEvents } from '../../logger.js';
import { action, commandContext } from '../context.js';

/**
 * `fleet events-process`: vehicle_positions → vehicle_events, exactly once (Kafka transactions),
 * and the events sink that stores vehicle_events in the warehouse table of the same name.
 */
export function registerEventsProcess(program: Command): void {
  program
    .command('events-process')
    .description(
      'detect vehicle events (geofences, overspeed, trips, offline, battery) from <TOPIC> into <EVENTS_TOPIC>, exactly once, and store them in the warehouse table vehicle_events',
    )
    .option('--group <id>', 'consumer group and application id (EVENTS_GROUP)')
    .option(
      '--no-warehouse',
      'do not run the events sink (another process stores vehicle_events, e.g. the one owning the DuckDB file)',
    )
    .action(
      action(async (opts: { group?: string; warehouse: boolean }) => {
        const { config, logger } = commandContext({ EVENTS_GROUP: opts.group });
        await runApp(config, logger, async (app) => {
          const { processor, sink } = await app.eventsProcessor({ sink: opts.warehouse });
          logger.info(
            { event: LogEvents.serviceStarted, topic: config.events.topic, sink: opts.warehouse },
            'events processor running',
          );
          // A failing processor or sink rejects: the command ends with its error (exit 1).
          const reason = await Promise.race([
            untilSignal(),
            processor.done.then(() => 'events processor stopped'),
            ...(sink ? [sink.done.then(() => 'events sink stopped')] : []),
          ]);
          logger.info({ event: LogEvents.shutdown, reason }, 'shutting down');
        });
      }),
    );
}
