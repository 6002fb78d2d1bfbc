import type { Command } from 'commander';
import { servicesDown, servicesUp, status } from '../../local/services.js';
import { action, commandContext } from '../context.js';

export function registerServices(program: Command): void {
  const services = program
    .command('services')
    .description('local real Kafka (KRaft) and Redis for development and tests');
  services
    .command('up')
    .description(
      'start a local Kafka (jars from Maven Central, or KAFKA_HOME) and redis-server; prints their addresses',
    )
    .option('--brokers <n>', 'number of KRaft nodes (broker+controller each)', '1')
    .option('--keep-data', 'keep data of the previous run')
    .action(
      action(async (opts: { brokers: string; keepData?: boolean }) => {
        const { config, logger } = commandContext({}, { logToStderr: true });
        const brokers = Number(opts.brokers);
        if (!Number.isInteger(brokers) || brokers < 1 || brokers > 5)
          throw new Error('--brokers must be 1..5');
        const state = await servicesUp({
          home: config.home,
          logger,
          brokers,
          kafka: !process.env.KAFKA_BROKERS,
          redis: !process.env.REDIS_URL,
          fresh: !opts.keepData,
        });
        process.stdout.write(
          `KAFKA_BROKERS=${state.kafka?.brokers.join(',') ?? process.env.KAFKA_BROKERS}\n`,
        );
        process.stdout.write(`REDIS_URL=${state.redis?.url ?? process.env.REDIS_URL}\n`);
      }),
    );
  services
    .command('down')
    .description('stop the local Kafka and Redis started by `services up`')
    .action(
      action(async () => {
        const { config, logger } = commandContext({}, { logToStderr: true });
        await servicesDown(config.home, logger);
        process.stdout.write('services stopped\n');
      }),
    );
  services
    .command('status')
    .description('what runs')
    .action(
      action(async () => {
        const { config } = commandContext({}, { logToStderr: true });
        const s = status(config.home);
        process.stdout.write(
          s.kafka
            ? `kafka: ${s.kafka.alive}/${s.kafka.total} node(s) running, KAFKA_BROKERS=${s.kafka.brokers.join(',')}\n`
            : 'kafka: not started\n',
        );
        process.stdout.write(
          s.redis
            ? `redis: ${s.redis.alive ? 'running' : 'stopped'}, REDIS_URL=${s.redis.url}\n`
            : 'redis: not started\n',
        );
      }),
    );
}
