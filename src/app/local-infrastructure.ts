import { loadConfig, type Config } from '../config/index.js';
import { createKafka } from '../kafka/client.js';
import { brokerCount, ensureTopic, topicPlans } from '../kafka/topic-admin.js';
import { servicesUp } from '../local/services.js';
import type { Logger } from '../logger.js';

export interface LocalInfrastructureOptions {
  home: string;
  logger: Logger;
  /** The environment the config is read from (the CLI passes it from src/config). */
  env: NodeJS.ProcessEnv;
  /** Service addresses the user set: those services are used as they are, the others started. */
  explicit: { kafka: boolean; redis: boolean; schemaRegistry: boolean };
  /** Produce Avro (WIRE_FORMAT=avro), with a local schema registry unless one is set. */
  avro?: boolean;
}

/**
 * `fleet dev`'s infrastructure: a local Kafka and Redis unless KAFKA_BROKERS / REDIS_URL point
 * elsewhere, then the position and dead-letter topics. `started`: something was started here.
 */
export async function prepareLocalInfrastructure(
  options: LocalInfrastructureOptions,
): Promise<{ config: Readonly<Config>; started: boolean }> {
  const { home, logger, env } = options;
  const needKafka = !options.explicit.kafka;
  const needRedis = !options.explicit.redis;
  const avro = options.avro === true;
  const needRegistry = avro && !options.explicit.schemaRegistry;
  const state =
    needKafka || needRedis || needRegistry
      ? await servicesUp({
          home,
          logger,
          kafka: needKafka,
          redis: needRedis,
          schemaRegistry: needRegistry,
          fresh: false,
          env,
        })
      : {};
  const config = loadConfig(
    {
      ...(needKafka && state.kafka ? { KAFKA_BROKERS: state.kafka.brokers.join(',') } : {}),
      ...(needRedis && state.redis ? { REDIS_URL: state.redis.url } : {}),
      ...(needRegistry && state.schemaRegistry ? { SCHEMA_REGISTRY_URL: state.schemaRegistry.url } : {}),
      ...(avro ? { WIRE_FORMAT: 'avro' } : {}),
    },
    env,
  );
  const admin = createKafka(config.kafka, { logger, role: 'admin' }).admin();
  await admin.connect();
  try {
    const brokers = await brokerCount(admin);
    for (const plan of topicPlans(config.topic, brokers)) {
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
  return { config, started: needKafka || needRedis || needRegistry };
}
