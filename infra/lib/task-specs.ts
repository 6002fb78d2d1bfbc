import * as ecs from 'aws-cdk-lib/aws-ecs';
import type { AppSecrets } from './app-secrets.js';
import type { KafkaAccess } from './kafka-access.js';
import type { KafkaCluster } from './kafka-cluster.js';
import type { RedisCache } from './redis-cache.js';
import type { TaskName } from './security-groups.js';
import type { Settings } from './settings.js';

/** Ports the image's defaults use (Dockerfile ENV): API, gateway, processor metrics. */
export const PORTS = { api: 8080, gateway: 5055, metrics: 9464 } as const;

export interface TaskSpec {
  readonly name: TaskName;
  readonly command: string[];
  readonly cpu: number;
  readonly memoryMiB: number;
  /** Container port the load balancer sends to, if any. */
  readonly port?: number;
  /** Container health check: GET http://127.0.0.1:{port}{path}. */
  readonly health?: { readonly port: number; readonly path: string };
  readonly stopTimeoutSeconds?: number;
  readonly environment: Record<string, string>;
  readonly secrets: Record<string, ecs.Secret>;
  readonly kafka: KafkaAccess;
}

export interface SpecInputs {
  readonly settings: Settings;
  readonly kafka: KafkaCluster;
  readonly redis: RedisCache;
  readonly secrets: AppSecrets;
}

/**
 * What each task runs and may touch. Plain environment values are configuration only; every
 * credential is an ECS secret. Variable names are the application's (src/config/variables.ts).
 */
export function taskSpecs({ settings, kafka, redis, secrets }: SpecInputs): Record<TaskName, TaskSpec> {
  const dlq = `${settings.topic}.dlq`;
  const scram = kafka.scramSecret;
  const common = (name: TaskName): Record<string, string> => ({
    KAFKA_BROKERS: kafka.bootstrapBrokers,
    KAFKA_SSL: 'true',
    KAFKA_SASL_MECHANISM: settings.kafkaAuth === 'iam' ? 'aws-msk-iam' : 'scram-sha-512',
    KAFKA_CLIENT_ID: `fleet-${name}`,
    AWS_REGION: settings.region,
    TOPIC: settings.topic,
    DLQ_TOPIC: dlq,
    METRICS_EMF: 'true',
    METRICS_SERVICE: name,
    LOG_LEVEL: 'info',
  });
  const kafkaSecrets: Record<string, ecs.Secret> = scram
    ? {
        KAFKA_SASL_USERNAME: ecs.Secret.fromSecretsManager(scram, 'username'),
        KAFKA_SASL_PASSWORD: ecs.Secret.fromSecretsManager(scram, 'password'),
      }
    : {};
  const sf = settings.snowflake;
  const warehouse: Record<string, string> = Object.fromEntries(
    Object.entries({
      WAREHOUSE: 'snowflake',
      SNOWFLAKE_ACCOUNT: sf.account,
      SNOWFLAKE_USER: sf.user,
      SNOWFLAKE_ROLE: sf.role,
      SNOWFLAKE_WAREHOUSE: sf.warehouse,
      SNOWFLAKE_DATABASE: sf.database,
      SNOWFLAKE_SCHEMA: sf.schema,
    }).filter(([, value]) => value !== ''),
  );
  const stateAndWarehouseSecrets = {
    REDIS_PASSWORD: ecs.Secret.fromSecretsManager(redis.authToken),
    SNOWFLAKE_PRIVATE_KEY: ecs.Secret.fromSecretsManager(secrets.snowflakePrivateKey),
  };

  return {
    gateway: {
      name: 'gateway',
      command: ['gateway'],
      cpu: 256,
      memoryMiB: 512,
      port: PORTS.gateway,
      health: { port: PORTS.gateway, path: '/healthz' },
      environment: common('gateway'),
      secrets: kafkaSecrets,
      kafka: { produce: [settings.topic] },
    },
    api: {
      name: 'api',
      command: ['serve'],
      cpu: 512,
      memoryMiB: 1024,
      port: PORTS.api,
      // Liveness here; the load balancer asks /readyz (Kafka, Redis and the warehouse answer).
      health: { port: PORTS.api, path: '/healthz' },
      environment: { ...common('api'), REDIS_URL: redis.url, ...warehouse },
      secrets: {
        ...kafkaSecrets,
        ...stateAndWarehouseSecrets,
        API_KEYS: ecs.Secret.fromSecretsManager(secrets.apiKeys),
      },
      kafka: {},
    },
    processor: {
      name: 'processor',
      command: ['process'],
      cpu: 512,
      memoryMiB: 1024,
      health: { port: PORTS.metrics, path: '/healthz' },
      // The processor drains, flushes and commits within 25 s of SIGTERM (src/cli/commands/process.ts).
      stopTimeoutSeconds: 30,
      environment: {
        ...common('processor'),
        CONSUMER_GROUP: settings.consumerGroup,
        METRICS_PORT: String(PORTS.metrics),
        REDIS_URL: redis.url,
        ...warehouse,
      },
      secrets: { ...kafkaSecrets, ...stateAndWarehouseSecrets },
      kafka: { consume: { topics: [settings.topic], group: settings.consumerGroup }, produce: [dlq] },
    },
    simulator: {
      name: 'simulator',
      command: ['simulate', '--vehicles', String(settings.simulatorVehicles)],
      cpu: 256,
      memoryMiB: 512,
      environment: common('simulator'),
      secrets: kafkaSecrets,
      kafka: { produce: [settings.topic] },
    },
    topics: {
      name: 'topics',
      command: ['topics', 'create'],
      cpu: 256,
      memoryMiB: 512,
      environment: {
        ...common('topics'),
        TOPIC_PARTITIONS: String(settings.partitions),
        TOPIC_REPLICATION_FACTOR: String(settings.replicationFactor),
      },
      secrets: kafkaSecrets,
      kafka: { administer: [settings.topic, dlq] },
    },
  };
}
