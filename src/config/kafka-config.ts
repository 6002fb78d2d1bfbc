import { ConfigError } from '../errors.js';
import type { ConfigValues } from './values.js';

export interface KafkaConfig {
  brokers: readonly string[];
  clientId: string;
  ssl: boolean;
  /** PEM file of the CAs to trust (KAFKA_SSL_CA_FILE); unset = the system CAs. */
  sslCaFile?: string;
  sasl?: KafkaSasl;
}

/** SASL of the Kafka clients: user/password mechanisms, or MSK IAM (tokens signed per region). */
export type KafkaSasl =
  | { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string }
  | { mechanism: 'aws-msk-iam'; region: string };

export interface TopicConfig {
  name: string;
  dlq: string;
  /** The table's compacted changelog topic; absent when STATE_CHANGELOG=false. */
  changelog?: string;
  partitions: number;
  /** Undefined = min(2, number of brokers). */
  replicationFactor?: number;
  retentionMs: number;
  minCompactionLagMs: number;
}

export interface ConsumerConfig {
  groupId: string;
  maxPollRecords: number;
  maxPollIntervalMs: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  fetchMinBytes: number;
  fetchMaxWaitMs: number;
  fetchMaxBytesPerPartition: number;
  fromBeginning: boolean;
}

/** KAFKA_SASL_* cross-checked: the fields each mechanism needs, TLS under MSK IAM. */
export function kafkaSasl(v: ConfigValues): KafkaSasl | undefined {
  const mechanism = v.KAFKA_SASL_MECHANISM;
  if (mechanism === undefined) return undefined;
  if (mechanism === 'aws-msk-iam') {
    if (!v.AWS_REGION)
      throw new ConfigError('AWS_REGION', 'is required with KAFKA_SASL_MECHANISM=aws-msk-iam');
    if (!v.KAFKA_SSL) {
      throw new ConfigError(
        'KAFKA_SSL',
        'must be true with KAFKA_SASL_MECHANISM=aws-msk-iam (MSK IAM listens on TLS, port 9098)',
      );
    }
    return { mechanism, region: v.AWS_REGION };
  }
  const username = v.KAFKA_SASL_USERNAME;
  const password = v.KAFKA_SASL_PASSWORD;
  if (!username || !password) {
    throw new ConfigError(
      'KAFKA_SASL_USERNAME',
      'KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required with KAFKA_SASL_MECHANISM',
    );
  }
  return { mechanism, username, password };
}

/** KAFKA_* (brokers, TLS, SASL). */
export function kafkaFrom(v: ConfigValues): KafkaConfig {
  const sasl = kafkaSasl(v);
  return {
    brokers: v.KAFKA_BROKERS,
    clientId: v.KAFKA_CLIENT_ID,
    ssl: v.KAFKA_SSL || v.KAFKA_SSL_CA_FILE !== undefined,
    ...(v.KAFKA_SSL_CA_FILE !== undefined ? { sslCaFile: v.KAFKA_SSL_CA_FILE } : {}),
    ...(sasl ? { sasl } : {}),
  };
}

/** TOPIC_*, DLQ_TOPIC: the positions topic and its dead letters. */
export function topicFrom(v: ConfigValues): TopicConfig {
  const topic = v.TOPIC;
  return {
    name: topic,
    dlq: v.DLQ_TOPIC ?? `${topic}.dlq`,
    ...(v.STATE_CHANGELOG ? { changelog: v.STATE_CHANGELOG_TOPIC ?? `${topic}-state-changelog` } : {}),
    partitions: v.TOPIC_PARTITIONS,
    ...(v.TOPIC_REPLICATION_FACTOR !== undefined ? { replicationFactor: v.TOPIC_REPLICATION_FACTOR } : {}),
    retentionMs: v.TOPIC_RETENTION_MS,
    minCompactionLagMs: v.TOPIC_MIN_COMPACTION_LAG_MS,
  };
}

/** The consumer's knobs; the heartbeat must come more often than the session times out. */
export function consumerFrom(v: ConfigValues): ConsumerConfig {
  const sessionTimeoutMs = v.SESSION_TIMEOUT_MS;
  const heartbeatIntervalMs = v.HEARTBEAT_INTERVAL_MS;
  if (heartbeatIntervalMs >= sessionTimeoutMs) {
    throw new ConfigError(
      'HEARTBEAT_INTERVAL_MS',
      `must be lower than SESSION_TIMEOUT_MS (${sessionTimeoutMs})`,
    );
  }
  return {
    groupId: v.CONSUMER_GROUP,
    maxPollRecords: v.MAX_POLL_RECORDS,
    maxPollIntervalMs: v.MAX_POLL_INTERVAL_MS,
    sessionTimeoutMs,
    heartbeatIntervalMs,
    fetchMinBytes: v.FETCH_MIN_BYTES,
    fetchMaxWaitMs: v.FETCH_MAX_WAIT_MS,
    fetchMaxBytesPerPartition: v.FETCH_MAX_BYTES_PER_PARTITION,
    fromBeginning: v.AUTO_OFFSET_RESET === 'earliest',
  };
}

/** The position publisher's Kafka client; `platformatic` has no SASL wired, so that pair fails at start. */
export function publisherClientFrom(v: ConfigValues): 'kafkajs' | 'platformatic' {
  const client = v.PUBLISHER_KAFKA_CLIENT;
  if (client === 'platformatic' && v.KAFKA_SASL_MECHANISM !== undefined) {
    throw new ConfigError(
      'PUBLISHER_KAFKA_CLIENT',
      `'platformatic' does not support KAFKA_SASL_MECHANISM (${v.KAFKA_SASL_MECHANISM}) yet: use kafkajs`,
    );
  }
  return client;
}
