import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { processEnv } from '../config/environment.js';
import { ServiceError } from '../errors.js';
import { createKafka } from '../kafka/client.js';
import { silentLogger, type Logger } from '../logger.js';
import { ensureKafkaLibs } from './kafka-jars.js';
import {
  formatNode,
  newClusterId,
  startNode,
  type KafkaNodeSpec,
  type SecureListener,
} from './kafka-node.js';
import {
  clusterAlive,
  startRedisCluster,
  stopRedisCluster,
  type LocalRedisCluster,
} from './redis-cluster.js';
import { makeTlsMaterial } from './tls-material.js';
import { startSchemaRegistry, type LocalSchemaRegistry } from './schema-registry.js';
import { commandExists, freePort, isAlive, spawnDetached, stopProcess, waitFor } from './processes.js';

/** How a client reaches the secure listener: TLS trusting `caFile`, SCRAM-SHA-512 as `username`. */
export interface SecureClientSettings {
  brokers: string[];
  caFile: string;
  username: string;
  password: string;
}

/** The variables a client needs for the secure listener, as `fleet services up --secure` prints them. */
export function secureClientEnv(secure: SecureClientSettings): Record<string, string> {
  return {
    KAFKA_BROKERS: secure.brokers.join(','),
    KAFKA_SSL: 'true',
    KAFKA_SSL_CA_FILE: secure.caFile,
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: secure.username,
    KAFKA_SASL_PASSWORD: secure.password,
  };
}

/** What `fleet services up` started; kept in `<home>/run/services.json`. */
export interface ServicesState {
  kafka?: {
    brokers: string[];
    nodes: { nodeId: number; pid: number; port: number; controllerPort: number; dir: string }[];
    libs: string;
    /** The SASL_SSL listener of `--secure`: what a client needs to reach it. */
    secure?: SecureClientSettings;
  };
  redis?: { url: string; pid: number; port: number };
  /** `--redis-cluster N`: a local Redis Cluster (instead of the single redis-server). */
  redisCluster?: LocalRedisCluster;
  schemaRegistry?: LocalSchemaRegistry;
}

export interface ServicesOptions {
  /** Root of cache, data and pid files. */
  home: string;
  logger: Logger;
  /** Number of KRaft nodes (each broker+controller). @default 1 */
  brokers?: number;
  /** Start Redis too (only when REDIS_URL is not set by the user). @default true */
  redis?: boolean;
  /** Start Kafka too (only when KAFKA_BROKERS is not set by the user). @default true */
  kafka?: boolean;
  /** Start a Redis Cluster of this many primaries instead of one redis-server. */
  redisCluster?: number;
  /** Replicas per cluster primary. @default 0 */
  redisReplicas?: number;
  /** Start Apicurio Registry too (Confluent-compatible API). @default false */
  schemaRegistry?: boolean;
  /** Preferred first broker port. @default 9092 */
  kafkaPort?: number;
  /** Delete data of a previous run before starting. @default true */
  fresh?: boolean;
  /**
   * Add a SASL_SSL client listener (throwaway CA, SCRAM-SHA-512 user, OAUTHBEARER with unsecured
   * JWTs); `reauthMs` shortens the brokers' session lifetime (tests of token refresh). @default off
   */
  secure?: boolean | { reauthMs?: number };
  /** Where KAFKA_HOME is read from. @default the process environment */
  env?: NodeJS.ProcessEnv;
}

const stateFile = (home: string) => path.resolve(home, 'run', 'services.json');

export function readState(home: string): ServicesState {
  const file = stateFile(home);
  if (!existsSync(file)) return {};
  return JSON.parse(readFileSync(file, 'utf8')) as ServicesState;
}

function writeState(home: string, state: ServicesState): void {
  mkdirSync(path.dirname(stateFile(home)), { recursive: true });
  writeFileSync(stateFile(home), JSON.stringify(state, null, 2));
}

/** Which of the recorded services are still running. */
export function status(home: string): {
  kafka: { brokers: string[]; alive: number; total: number } | null;
  redis: { url: string; alive: boolean } | null;
  redisCluster: { nodes: string[]; alive: number; total: number } | null;
  schemaRegistry: { url: string; alive: boolean } | null;
} {
  const state = readState(home);
  return {
    redisCluster: state.redisCluster
      ? {
          nodes: state.redisCluster.nodes,
          alive: clusterAlive(state.redisCluster),
          total: state.redisCluster.processes.length,
        }
      : null,
    kafka: state.kafka
      ? {
          brokers: state.kafka.brokers,
          alive: state.kafka.nodes.filter((n) => isAlive(n.pid)).length,
          total: state.kafka.nodes.length,
        }
      : null,
    redis: state.redis ? { url: state.redis.url, alive: isAlive(state.redis.pid) } : null,
    schemaRegistry: state.schemaRegistry
      ? { url: state.schemaRegistry.url, alive: isAlive(state.schemaRegistry.pid) }
      : null,
  };
}

async function kafkaReady(brokers: string[], expected: number): Promise<boolean> {
  // Connection refusals are the expected answer while the broker boots: keep them out of the logs.
  const admin = createKafka(
    { brokers, clientId: 'fleet-services', ssl: false },
    { logger: silentLogger, retry: { retries: 0 }, connectionTimeout: 1000 },
  ).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length >= expected && cluster.controller !== null;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function startKafka(
  options: ServicesOptions,
  logger: Logger,
): Promise<NonNullable<ServicesState['kafka']>> {
  const home = path.resolve(options.home);
  const count = options.brokers ?? 1;
  const libs = ensureKafkaLibs(path.join(home, 'cache'), logger, options.env ?? processEnv());
  const base = path.join(home, 'kafka');
  const previous = (options.fresh ?? true) || options.secure ? null : await reusablePorts(base, count);
  // A kept data directory belongs to its cluster: formatting it again needs the same cluster id.
  const keptClusterId = previous ? recordedClusterId(base) : null;
  if (!keptClusterId) rmSync(base, { recursive: true, force: true });
  const nodes: KafkaNodeSpec[] = [];
  for (let i = 0; i < count; i++) {
    const dir = path.join(base, `node-${i + 1}`);
    const reuse = keptClusterId ? previous?.[i] : undefined;
    if (reuse) {
      nodes.push({ nodeId: i + 1, ...reuse, dir });
      continue;
    }
    const port = await freePort(i === 0 ? (options.kafkaPort ?? 9092) : undefined);
    let controllerPort = await freePort();
    while (controllerPort === port) controllerPort = await freePort();
    nodes.push({ nodeId: i + 1, port, controllerPort, dir });
  }
  const secure = options.secure ? secureListener(base, options.secure) : undefined;
  if (secure) {
    const taken = new Set(nodes.flatMap((n) => [n.port, n.controllerPort]));
    for (const node of nodes) {
      let port = await freePort();
      while (taken.has(port)) port = await freePort();
      taken.add(port);
      node.securePort = port;
    }
  }
  const layout = { clusterId: keptClusterId ?? newClusterId(), nodes, ...(secure ? { secure } : {}) };
  for (const node of nodes) formatNode(libs, node, layout);
  const started = nodes.map((node) => ({ ...node, pid: startNode(libs, node) }));
  const brokers = nodes.map((n) => `127.0.0.1:${n.port}`);
  try {
    await waitFor(
      async () => {
        for (const n of started) {
          if (!isAlive(n.pid))
            throw new ServiceError(`Kafka node ${n.nodeId} exited; see ${path.join(n.dir, 'server.log')}`);
        }
        return kafkaReady(brokers, count);
      },
      `Kafka (${count} node(s)) to accept metadata requests`,
      120_000,
      500,
    );
  } catch (err) {
    await Promise.all(started.map((n) => stopProcess(n.pid, 2000)));
    throw err;
  }
  return {
    brokers,
    nodes: started,
    libs,
    ...(secure
      ? {
          secure: {
            brokers: nodes.map((n) => `127.0.0.1:${n.securePort}`),
            caFile: path.join(base, 'tls', 'ca.pem'),
            username: secure.username,
            password: secure.password,
          },
        }
      : {}),
  };
}

function secureListener(base: string, secure: true | { reauthMs?: number }): SecureListener {
  const tls = makeTlsMaterial(path.join(base, 'tls'));
  return {
    keystoreFile: tls.keystoreFile,
    keystorePassword: tls.keystorePassword,
    username: 'fleet',
    password: randomBytes(18).toString('base64url'),
    ...(secure !== true && secure.reauthMs !== undefined ? { reauthMs: secure.reauthMs } : {}),
  };
}

/**
 * The ports of a kept cluster of `count` nodes, when all are free again: KRaft records the
 * controller endpoints in its log, so a kept data directory must come back on the same ports.
 * Null = start afresh.
 */
async function reusablePorts(
  base: string,
  count: number,
): Promise<{ port: number; controllerPort: number }[] | null> {
  const out: { port: number; controllerPort: number }[] = [];
  for (let i = 1; i <= count; i++) {
    const file = path.join(base, `node-${i}`, 'server.properties');
    if (!existsSync(file)) return null;
    const match = /^listeners=PLAINTEXT:\/\/[^:]+:(\d+),CONTROLLER:\/\/[^:]+:(\d+)$/m.exec(
      readFileSync(file, 'utf8'),
    );
    if (!match) return null;
    const ports = { port: Number(match[1]), controllerPort: Number(match[2]) };
    if (
      (await freePort(ports.port)) !== ports.port ||
      (await freePort(ports.controllerPort)) !== ports.controllerPort
    )
      return null;
    out.push(ports);
  }
  return existsSync(path.join(base, `node-${count + 1}`)) ? null : out;
}

/** The cluster id a kept cluster was formatted with (`cluster.id` of node 1's meta.properties). */
function recordedClusterId(base: string): string | null {
  const file = path.join(base, 'node-1', 'data', 'meta.properties');
  if (!existsSync(file)) return null;
  return /^cluster\.id=(\S+)$/m.exec(readFileSync(file, 'utf8'))?.[1] ?? null;
}

/** Restarts one recorded Kafka node that was stopped (fault suite). */
export async function restartKafkaNode(home: string, nodeId: number): Promise<number> {
  const state = readState(home);
  const node = state.kafka?.nodes.find((n) => n.nodeId === nodeId);
  if (!state.kafka || !node) throw new ServiceError(`no Kafka node ${nodeId} recorded in ${stateFile(home)}`);
  if (isAlive(node.pid)) return node.pid;
  node.pid = startNode(state.kafka.libs, node);
  writeState(home, state);
  return node.pid;
}

async function startRedis(home: string): Promise<NonNullable<ServicesState['redis']>> {
  if (!commandExists('redis-server')) {
    throw new ServiceError(
      'redis-server not found: install Redis (Debian: apt-get install -y redis-server) or set REDIS_URL to an existing Redis.',
    );
  }
  const port = await freePort();
  const dir = path.resolve(home, 'redis');
  mkdirSync(dir, { recursive: true });
  const pid = spawnDetached(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--protected-mode',
      'yes',
    ],
    path.join(dir, 'redis.log'),
  );
  const url = `redis://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (!isAlive(pid)) throw new ServiceError(`redis-server exited; see ${path.join(dir, 'redis.log')}`);
      const client = new Redis(url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      client.on('error', () => undefined);
      try {
        await client.connect();
        return (await client.ping()) === 'PONG';
      } finally {
        client.disconnect();
      }
    },
    'redis-server',
    20_000,
    100,
  );
  return { url, pid, port };
}

/**
 * Starts what is not already running: a local KRaft Kafka (1 or N nodes), a redis-server and (when
 * asked) Apicurio Registry, each only when wanted. Idempotent: services recorded and alive are reused.
 */
export async function servicesUp(options: ServicesOptions): Promise<ServicesState> {
  const logger = options.logger.child({ component: 'services' });
  const state = readState(options.home);
  const wantKafka = options.kafka ?? true;
  const wantRedis = options.redis ?? true;
  const count = options.brokers ?? 1;
  const kafkaAlive =
    state.kafka &&
    state.kafka.nodes.every((n) => isAlive(n.pid)) &&
    state.kafka.nodes.length === count &&
    Boolean(state.kafka.secure) === Boolean(options.secure);
  if (wantKafka && !kafkaAlive) {
    if (state.kafka) await Promise.all(state.kafka.nodes.map((n) => stopProcess(n.pid)));
    state.kafka = await startKafka(options, logger);
    writeState(options.home, state);
    logger.info({ brokers: state.kafka.brokers }, 'kafka started');
  }
  if (wantRedis && options.redisCluster !== undefined) {
    const wanted = options.redisCluster * (1 + (options.redisReplicas ?? 0));
    const current = state.redisCluster;
    if (
      !current ||
      clusterAlive(current) !== current.processes.length ||
      current.processes.length !== wanted
    ) {
      if (current) await stopRedisCluster(current);
      state.redisCluster = await startRedisCluster({
        dir: path.resolve(options.home, 'redis-cluster'),
        primaries: options.redisCluster,
        replicas: options.redisReplicas ?? 0,
      });
      writeState(options.home, state);
      logger.info({ nodes: state.redisCluster.nodes }, 'redis cluster started');
    }
  } else if (wantRedis && !(state.redis && isAlive(state.redis.pid))) {
    state.redis = await startRedis(options.home);
    writeState(options.home, state);
    logger.info({ url: state.redis.url }, 'redis started');
  }
  if (options.schemaRegistry && !(state.schemaRegistry && isAlive(state.schemaRegistry.pid))) {
    state.schemaRegistry = await startSchemaRegistry(options.home, logger);
    writeState(options.home, state);
    logger.info({ url: state.schemaRegistry.url }, 'schema registry started');
  }
  return state;
}

/** Stops every recorded service of ours and forgets it. */
export async function servicesDown(home: string, logger: Logger): Promise<void> {
  const state = readState(home);
  await Promise.all([
    ...(state.kafka?.nodes ?? []).map((n) => stopProcess(n.pid)),
    ...(state.redis ? [stopProcess(state.redis.pid, 5000)] : []),
    ...(state.redisCluster ? [stopRedisCluster(state.redisCluster)] : []),
    ...(state.schemaRegistry ? [stopProcess(state.schemaRegistry.pid, 10_000)] : []),
  ]);
  rmSync(stateFile(home), { force: true });
  logger.child({ component: 'services' }).info('services stopped');
}
