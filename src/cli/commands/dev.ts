import type { Command } from 'commander';
import { runApp } from '../../app/app.js';
import { startDev } from '../../app/dev.js';
import { prepareLocalInfrastructure } from '../../app/local-infrastructure.js';
import { untilSignal } from '../../app/until-signal.js';
import {
  devEnvironment,
  explicitServiceAddresses,
  fleetHomeFromEnv,
  logLevelFromEnv,
} from '../../config/index.js';
import { parseArea } from '../../ingest/simulator/area.js';
import { parseScenario, SCENARIO_PRESETS } from '../../ingest/simulator/scenario.js';
import { servicesDown } from '../../local/services.js';
import { createLogger, LogEvents } from '../../logger.js';
import { action, parseDuration } from '../context.js';

interface DevFlags {
  vehicles: string;
  interval: string;
  area: string;
  keepServices?: boolean;
  simulate: boolean;
  scenario: string;
  avro?: boolean;
}

/**
 * `fleet dev` (what `npm start` runs): local Kafka + Redis, topics, the simulator (with the `demo`
 * scenario: a speeder and a vehicle that goes silent), the processor, the events processor, the
 * ingest gateway and the API + live map, all in one process, DuckDB as the warehouse.
 */
export function registerDev(program: Command): void {
  program
    .command('dev')
    .description(
      'the whole pipeline on this machine: services, topics, simulator, processor, gateway, API + live map',
    )
    .option('--vehicles <n>', 'simulated vehicles', '5')
    .option('--interval <duration>', 'report interval of each vehicle', '5s')
    .option(
      '--area <name|bbox>',
      'simulated city (berlin, paris, london, nyc, sf or minLon,minLat,maxLon,maxLat)',
      'berlin',
    )
    .option(
      '--scenario <spec>',
      `speeders and silent vehicles, so events show up: ${Object.keys(SCENARIO_PRESETS).join(' | ')} or speeders=N,silent=M`,
      'demo',
    )
    .option('--no-simulate', 'run without the simulator (positions come from devices / fleet simulate)')
    .option('--keep-services', 'leave Kafka and Redis running on exit')
    .option(
      '--avro',
      'produce Avro (WIRE_FORMAT=avro) and start Apicurio Registry unless SCHEMA_REGISTRY_URL is set',
    )
    .action(
      action(async (flags: DevFlags) => {
        // Local development: API keys are optional unless API_AUTH says otherwise.
        const env = devEnvironment();
        const home = fleetHomeFromEnv(env);
        const bootLogger = createLogger({ level: logLevelFromEnv('info', env) });
        bootLogger.info(
          'starting local Kafka and Redis (first run resolves the Kafka jars from Maven Central)',
        );
        if (flags.avro) bootLogger.info('starting Apicurio Registry too (Java 21+; 10–90 s)');
        const { config, started } = await prepareLocalInfrastructure({
          home,
          logger: bootLogger,
          env,
          explicit: explicitServiceAddresses(env),
          avro: flags.avro === true,
        });
        const logger = createLogger({ level: config.logLevel });
        const vehicles = Number(flags.vehicles);
        const intervalMs = parseDuration(flags.interval, '--interval');
        const area = parseArea(flags.area);
        const scenario = parseScenario(flags.scenario);
        try {
          await runApp(config, logger, async (app) => {
            const dev = await startDev(app, {
              simulation: flags.simulate ? { vehicles, intervalMs, area, scenario } : null,
            });
            const mapUrl = dev.api.url.replace('127.0.0.1', 'localhost');
            process.stdout.write(
              [
                '',
                `  fleet-tracker is running`,
                `  live map      ${mapUrl}/`,
                `  API docs      ${mapUrl}/docs`,
                `  device ingest ${dev.gatewayAddress}/?id=truck-1&lat=52.52&lon=13.40  (OsmAnd / Traccar Client)`,
                `  Kafka         ${config.kafka.brokers.join(',')}   Redis ${config.redis.url}   DuckDB ${config.warehouse.duckdbPath}`,
                `  wire format   ${config.wireFormat}${config.schemaRegistry ? `   schema registry ${config.schemaRegistry.url}` : ''}`,
                dev.simulating
                  ? `  simulator     ${vehicles} vehicles, one report every ${flags.interval}, scenario ${flags.scenario}`
                  : '  simulator     off',
                '  Ctrl-C stops everything',
                '',
              ].join('\n') + '\n',
            );
            const reason = await Promise.race([
              untilSignal(),
              dev.processor.done.then(() => 'processor stopped'),
              dev.events.processor.done.then(
                () => 'events processor stopped',
                (err: unknown) => `events processor failed: ${String(err)}`,
              ),
            ]);
            logger.info({ event: LogEvents.shutdown, reason }, 'shutting down');
          });
        } finally {
          if (started && !flags.keepServices) await servicesDown(home, logger);
        }
        process.exit(0);
      }),
    );
}
