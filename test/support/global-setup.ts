import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { servicesDown, servicesUp } from '../../src/local/services.js';
import { createLogger } from '../../src/logger.js';

/**
 * Once per `npm test`: reuse KAFKA_BROKERS / REDIS_URL when set, otherwise start a real local
 * Kafka and redis-server (in their own FLEET_HOME, apart from `fleet services up`) and stop them
 * afterwards. Workers inherit the addresses through the environment.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const home = path.resolve('.cache/fleet-test');
  const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'warn', destination: 2 });
  const needKafka = !process.env.KAFKA_BROKERS;
  const needRedis = !process.env.REDIS_URL;
  if (needKafka || needRedis) {
    const state = await servicesUp({ home, logger, kafka: needKafka, redis: needRedis, kafkaPort: 0 });
    if (needKafka) process.env.KAFKA_BROKERS = state.kafka!.brokers.join(',');
    if (needRedis) process.env.REDIS_URL = state.redis!.url;
  }
  process.env.FLEET_TEST_HOME = home;
  project.provide('kafkaBrokers', process.env.KAFKA_BROKERS!);
  project.provide('redisUrl', process.env.REDIS_URL!);
  return async () => {
    if (needKafka || needRedis) await servicesDown(home, logger);
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
    redisUrl: string;
  }
}
