import type { Command } from 'commander';
import { explicitServiceAddresses, processEnv } from '../../config/index.js';
import { ConfigError } from '../../errors.js';
import { secureClientEnv, servicesDown, servicesUp, status } from '../../local/services.js';
import { action, commandContext } from '../context.js';

interface UpFlags {
  brokers: string;
  keepData?: boolean;
  redisCluster?: string;
  redisReplicas: string;
  secure?: boolean;
  schemaRegistry?: boolean;
}

function clusterFlags(opts: UpFlags): { redisCluster?: number; redisReplicas?: number } {
  if (opts.redisCluster === undefined) return {};
  const primaries = Number(opts.redisCluster);
  const replicas = Number(opts.redisReplicas);
  if (!Number.isInteger(primaries) || primaries < 3 || primaries > 9) {
    throw new ConfigError('--redis-cluster', 'must be 3..9 primaries');
  }
  if (!Number.isInteger(replicas) || replicas < 0 || replicas > 2) {
    throw new ConfigError('--redis-replicas', 'must be 0..2');
  }
  return { redisCluster: primaries, redisReplicas: replicas };
}

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
    .option(
      '--redis-cluster <n>',
      'start a local Redis Cluster of n primaries (≥ 3) instead of one redis-server',
    )
    .option('--redis-replicas <n>', 'replicas per cluster primary (with --redis-cluster)', '0')
    .option(
      '--secure',
      'add a SASL_SSL listener (throwaway CA, SCRAM-SHA-512 user) and print the variables a client needs',
    )
    .option(
      '--schema-registry',
      'also start Apicurio Registry (Java 21+, from Maven Central) and print SCHEMA_REGISTRY_URL',
    )
    .action(
      action(async (opts: UpFlags) => {
        const { config, logger } = commandContext({}, { logToStderr: true });
        const brokers = Number(opts.brokers);
        if (!Number.isInteger(brokers) || brokers < 1 || brokers > 5)
          throw new ConfigError('--brokers', 'must be an integer in 1..5');
        const cluster = clusterFlags(opts);
        const explicit = explicitServiceAddresses();
        const state = await servicesUp({
          home: config.home,
          logger,
          brokers,
          ...cluster,
          kafka: !explicit.kafka,
          redis: !explicit.redis,
          fresh: !opts.keepData,
          secure: opts.secure ?? false,
          env: processEnv(),
          schemaRegistry: opts.schemaRegistry === true && !explicit.schemaRegistry,
        });
        if (opts.secure) {
          if (!state.kafka?.secure)
            throw new ConfigError('--secure', 'needs the local Kafka: unset KAFKA_BROKERS');
          for (const [k, v] of Object.entries(secureClientEnv(state.kafka.secure))) {
            process.stdout.write(`${k}=${v}\n`);
          }
        } else {
          process.stdout.write(
            `KAFKA_BROKERS=${state.kafka?.brokers.join(',') ?? config.kafka.brokers.join(',')}\n`,
          );
        }
        if (cluster.redisCluster !== undefined && state.redisCluster) {
          process.stdout.write(`REDIS_CLUSTER_NODES=${state.redisCluster.nodes.join(',')}\n`);
          process.stdout.write(
            `# ${state.redisCluster.primaries} primaries, ${state.redisCluster.replicas} replica(s) each; ` +
              `redis-cli -c -p ${state.redisCluster.processes[0]!.port} cluster nodes\n`,
          );
        } else {
          process.stdout.write(`REDIS_URL=${state.redis?.url ?? config.redis.url}\n`);
        }
        if (opts.schemaRegistry) {
          process.stdout.write(
            `SCHEMA_REGISTRY_URL=${state.schemaRegistry?.url ?? config.schemaRegistry?.url ?? ''}\n`,
          );
        }
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
        if (s.redisCluster) {
          process.stdout.write(
            `redis cluster: ${s.redisCluster.alive}/${s.redisCluster.total} node(s) running, ` +
              `REDIS_CLUSTER_NODES=${s.redisCluster.nodes.join(',')}\n`,
          );
        }
        if (s.schemaRegistry) {
          process.stdout.write(
            `schema registry: ${s.schemaRegistry.alive ? 'running' : 'stopped'}, SCHEMA_REGISTRY_URL=${s.schemaRegistry.url}\n`,
          );
        }
      }),
    );
}
