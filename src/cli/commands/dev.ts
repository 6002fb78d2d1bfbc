import type { Command } from 'commander';
import { kafkaReadiness } from '../../api/kafka-readiness.js';
import { startGatewayServer } from '../../api/gateway/server.js';
import { startApiServer } from '../../api/server.js';
import { loadConfig, type Config } from '../../config/index.js';
import { createKafka } from '../../kafka/client.js';
import { brokerCount, dlqTopicPlan, ensureTopic, positionTopicPlan } from '../../kafka/topic-admin.js';
import { servicesDown, servicesUp } from '../../local/services.js';
import { createLogger, LogEvents, type Logger } from '../../logger.js';
import { createWarehouse } from '../../sinks/create-warehouse.js';
import { createPublisher } from '../../sources/publisher.js';
import { parseArea } from '../../sources/simulator/area.js';
import { Fleet } from '../../sources/simulator/fleet.js';
import { steadyProfile } from '../../sources/simulator/profile.js';
import { Simulation } from '../../sources/simulator/simulation.js';
import { createRedisStateTable } from '../../state/redis-state-table.js';
import { startProcessor } from '../../topology/processor.js';
import { action, parseDuration } from '../context.js';

interface DevFlags {
  vehicles: string;
  interval: string;
  area: string;
  keepServices?: boolean;
  simulate: boolean;
}

/** Local services (unless KAFKA_BROKERS / REDIS_URL point elsewhere) and the topics. */
async function prepareInfrastructure(
  home: string,
  logger: Logger,
): Promise<{ config: Readonly<Config>; started: boolean }> {
  const needKafka = !process.env.KAFKA_BROKERS;
  const needRedis = !process.env.REDIS_URL;
  const state =
    needKafka || needRedis
      ? await servicesUp({ home, logger, kafka: needKafka, redis: needRedis, fresh: false })
      : {};
  const config = loadConfig({
    ...(needKafka && state.kafka ? { KAFKA_BROKERS: state.kafka.brokers.join(',') } : {}),
    ...(needRedis && state.redis ? { REDIS_URL: state.redis.url } : {}),
  });
  const admin = createKafka(config.kafka, { logger, role: 'admin' }).admin();
  await admin.connect();
  try {
    const brokers = await brokerCount(admin);
    for (const plan of [positionTopicPlan(config.topic, brokers), dlqTopicPlan(config.topic, brokers)]) {
      const outcome = await ensureTopic(admin, plan);
      if (outcome.action === 'differs')
        logger.warn(
          { topic: plan.name, differences: outcome.differences },
          'topic settings differ (run fleet topics create --alter)',
        );
    }
  } finally {
    await admin.disconnect();
  }
  return { config, started: needKafka || needRedis };
}

/**
 * `fleet dev` (what `npm start` runs): local Kafka + Redis, topics, the simulator, the processor,
 * the ingest gateway and the API + live map, all in one process, DuckDB as the warehouse.
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
    .option('--no-simulate', 'run without the simulator (positions come from devices / fleet simulate)')
    .option('--keep-services', 'leave Kafka and Redis running on exit')
    .action(
      action(async (flags: DevFlags) => {
        // Local development: API keys are optional unless API_AUTH says otherwise.
        process.env.NODE_ENV ??= 'development';
        const home = process.env.FLEET_HOME || '.cache/fleet';
        const bootLogger = createLogger({ level: process.env.LOG_LEVEL ?? 'info' });
        bootLogger.info(
          'starting local Kafka and Redis (first run resolves the Kafka jars from Maven Central)',
        );
        const { config, started } = await prepareInfrastructure(home, bootLogger);
        const logger = createLogger({ level: config.logLevel });

        const table = createRedisStateTable({ url: config.redis.url, prefix: config.redis.prefix, logger });
        const warehouse = await createWarehouse(config.warehouse, logger);
        await warehouse.ready();
        const processor = await startProcessor(config, { logger, table, warehouse });
        const publisher = createPublisher(config, { logger });
        await publisher.connect();
        const kafka = kafkaReadiness(
          createKafka(config.kafka, { logger, role: 'api', retry: { retries: 0 }, requestTimeout: 2000 }),
        );
        const api = await startApiServer({
          config,
          table,
          warehouse,
          publisher,
          readiness: { kafka: kafka.check },
          logger,
        });
        const gateway = await startGatewayServer({ config, publisher, logger });
        const vehicles = Number(flags.vehicles);
        const intervalMs = parseDuration(flags.interval, '--interval');
        const simulation = flags.simulate
          ? new Simulation({
              fleet: new Fleet({
                seed: Date.now() % 2 ** 31,
                vehicles,
                area: parseArea(flags.area),
                intervalMs,
                startMs: Date.now(),
                profile: steadyProfile,
                idPrefix: 'sim-',
              }),
              publisher,
              logger,
              tickMs: Math.min(100, intervalMs),
            })
          : null;
        const simulated = simulation?.run();

        const mapUrl = api.url.replace('127.0.0.1', 'localhost');
        process.stdout.write(
          [
            '',
            `  fleet-tracker is running`,
            `  live map      ${mapUrl}/`,
            `  API docs      ${mapUrl}/docs`,
            `  device ingest ${gateway.address}/?id=truck-1&lat=52.52&lon=13.40  (OsmAnd / Traccar Client)`,
            `  Kafka         ${config.kafka.brokers.join(',')}   Redis ${config.redis.url}   DuckDB ${config.warehouse.duckdbPath}`,
            simulation
              ? `  simulator     ${vehicles} vehicles, one report every ${flags.interval}`
              : '  simulator     off',
            '  Ctrl-C stops everything',
            '',
          ].join('\n') + '\n',
        );

        const reason = await new Promise<string>((resolve) => {
          process.once('SIGINT', () => resolve('SIGINT'));
          process.once('SIGTERM', () => resolve('SIGTERM'));
          processor.done.then(
            () => resolve('processor stopped'),
            (err: unknown) => resolve(`processor failed: ${String(err)}`),
          );
        });
        logger.info({ event: LogEvents.shutdown, reason }, 'shutting down');
        simulation?.stop();
        await simulated;
        await api.close();
        await gateway.app.close();
        await publisher.close({ timeoutMs: 5000 });
        await processor.stop();
        await kafka.close();
        await warehouse.close();
        await table.close();
        if (started && !flags.keepServices) await servicesDown(home, logger);
        process.exit(0);
      }),
    );
}
