import type { EmfSettings } from '../emf-services.js';
import { ConfigError } from '../errors.js';
import { apiFrom, type ApiConfig } from './api-config.js';
import { eventsFrom, type EventsConfig } from './events-config.js';
import { gatewayFrom, type GatewayConfig } from './gateway.js';
import {
  consumerFrom,
  kafkaFrom,
  publisherClientFrom,
  topicFrom,
  type ConsumerConfig,
  type KafkaConfig,
  type TopicConfig,
} from './kafka-config.js';
import { parseValues, readRawConfig, type ConfigValues, type RawConfig } from './values.js';
import { variables } from './variables.js';
import { warehouseFrom, type WarehouseConfig } from './warehouse-config.js';
import { wireFormatFrom, type SchemaRegistryConfig } from './wire-format.js';

export type { ApiConfig } from './api-config.js';
export type { ConsumerConfig, KafkaConfig, KafkaSasl, TopicConfig } from './kafka-config.js';
export { readRawConfig, type ConfigValues, type RawConfig } from './values.js';
export type { SnowflakeConfig, WarehouseConfig } from './warehouse-config.js';

export interface BatchConfig {
  maxRecords: number;
  maxBytes: number;
  maxWaitMs: number;
  maxUnflushedBytes: number;
  stateMaxWaitMs: number;
}

export interface Config {
  kafka: KafkaConfig;
  /** The position publisher's Kafka client (PUBLISHER_KAFKA_CLIENT). */
  publisherClient: 'kafkajs' | 'platformatic';
  topic: TopicConfig;
  consumer: ConsumerConfig;
  batch: BatchConfig;
  /** `fleet process` metrics + health endpoint (METRICS_PORT; 0 = off). */
  metrics: {
    port: number;
    /** Where `fleet process` serves /metrics (METRICS_HOST); beyond loopback it needs `key`. */
    host: string;
    /** Bearer key of /metrics (METRICS_KEY) of the processor and the gateway. */
    key?: string;
    /** Group lag refresh, ms (GROUP_LAG_INTERVAL_MS; 0 = off). */
    groupLagIntervalMs: number;
    /** CloudWatch EMF lines on stdout (METRICS_EMF; default on in ECS). */
    emf: boolean;
    emfIntervalMs: number;
  };
  redis: {
    url: string;
    prefix: string;
    /** Redis Cluster seed nodes (host:port); empty: a single Redis at `url`. */
    clusterNodes: readonly string[];
  };
  warehouse: WarehouseConfig;
  api: ApiConfig;
  events: EventsConfig;
  /** Furthest an event time may lie ahead of the clock, ms (MAX_FUTURE_SKEW_MS): gateway and processor. */
  maxFutureSkewMs: number;
  /** The ingest gateway's device registry and rate limits. */
  gateway: GatewayConfig;
  /** What producers write (WIRE_FORMAT). */
  wireFormat: 'json' | 'avro';
  /** SCHEMA_REGISTRY_URL (+ basic auth); absent: no Avro. */
  schemaRegistry?: SchemaRegistryConfig;
  logLevel: string;
  home: string;
}

/** REDIS_URL with REDIS_PASSWORD as its password (the token arrives as a secret of its own). */
function withPassword(url: string, password: string | undefined): string {
  if (password === undefined) return url;
  const u = new URL(url);
  u.password = encodeURIComponent(password);
  return u.toString();
}

/** BATCH_*, MAX_UNFLUSHED_BYTES, STATE_FLUSH_MAX_WAIT_MS; the unflushed bound must hold one batch. */
function batchFrom(v: ConfigValues): BatchConfig {
  const batch: BatchConfig = {
    maxRecords: v.BATCH_MAX_RECORDS,
    maxBytes: v.BATCH_MAX_BYTES,
    maxWaitMs: v.BATCH_MAX_WAIT_MS,
    maxUnflushedBytes: v.MAX_UNFLUSHED_BYTES,
    stateMaxWaitMs: v.STATE_FLUSH_MAX_WAIT_MS,
  };
  if (batch.maxUnflushedBytes < batch.maxBytes) {
    throw new ConfigError('MAX_UNFLUSHED_BYTES', `must be >= BATCH_MAX_BYTES (${batch.maxBytes})`);
  }
  return batch;
}

/**
 * Fills defaults, converts units, cross-checks fields and returns a complete, frozen config.
 * Throws {@link ConfigError} naming the variable on the first bad value.
 */
export function compileConfig(raw: RawConfig, env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const v = parseValues(raw);
  const devMode = env.NODE_ENV === 'development';
  const config: Config = {
    kafka: kafkaFrom(v),
    publisherClient: publisherClientFrom(v),
    topic: topicFrom(v),
    consumer: consumerFrom(v),
    batch: batchFrom(v),
    metrics: {
      port: v.METRICS_PORT,
      host: v.METRICS_HOST,
      ...(v.METRICS_KEY ? { key: v.METRICS_KEY } : {}),
      groupLagIntervalMs: v.GROUP_LAG_INTERVAL_MS,
      emf: v.METRICS_EMF ?? env.ECS_CONTAINER_METADATA_URI_V4 !== undefined,
      emfIntervalMs: v.METRICS_EMF_INTERVAL_MS,
    },
    redis: {
      url: withPassword(v.REDIS_URL, v.REDIS_PASSWORD),
      prefix: v.REDIS_PREFIX,
      clusterNodes: v.REDIS_CLUSTER_NODES,
    },
    warehouse: warehouseFrom(v),
    api: apiFrom(v, devMode),
    events: eventsFrom(v),
    maxFutureSkewMs: v.MAX_FUTURE_SKEW_MS,
    gateway: gatewayFrom(v, devMode),
    ...wireFormatFrom(v),
    logLevel: v.LOG_LEVEL,
    home: v.FLEET_HOME,
  };
  return deepFreeze(config);
}
/** Reads env (+ flags) and compiles; the one call commands make at start. */
export function loadConfig(flags: RawConfig = {}, env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  return compileConfig(readRawConfig(env, flags), env);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

export { variables };

/** The EMF settings of a service: METRICS_EMF, its interval and the position topic. */
export function emfSettings(config: Readonly<Pick<Config, 'metrics' | 'topic'>>): EmfSettings {
  return { enabled: config.metrics.emf, intervalMs: config.metrics.emfIntervalMs, topic: config.topic.name };
}
