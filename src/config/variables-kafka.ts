import { z } from 'zod';
import { int, bool, brokers, topicName } from './variable-schemas.js';
import type { VariableSpec } from './variable-spec.js';

/** Kafka: brokers and security, the wire format, the consumer. */
export const kafkaVariables = [
  // Kafka
  {
    name: 'KAFKA_BROKERS',
    schema: brokers,
    default: 'localhost:9092',
    doc: 'Comma-separated bootstrap brokers (host:port).',
  },
  {
    name: 'KAFKA_CLIENT_ID',
    schema: z.string().min(1),
    default: 'fleet-tracker',
    doc: 'Kafka client id prefix.',
  },
  { name: 'KAFKA_SSL', schema: bool, default: 'false', doc: 'Use TLS to the brokers (MSK: true).' },
  {
    name: 'KAFKA_SSL_CA_FILE',
    schema: z.string().min(1).optional(),
    doc: "PEM file of the CA(s) to trust for the brokers' TLS certificates; unset = the system CAs (MSK). Implies KAFKA_SSL.",
  },
  {
    name: 'KAFKA_SASL_MECHANISM',
    schema: z.enum(['plain', 'scram-sha-256', 'scram-sha-512', 'aws-msk-iam']).optional(),
    doc: "SASL mechanism; unset = no SASL. `aws-msk-iam`: MSK IAM access control (OAUTHBEARER signed with the task's AWS credentials; needs KAFKA_SSL and AWS_REGION).",
  },
  { name: 'KAFKA_SASL_USERNAME', schema: z.string().optional(), doc: 'SASL user name.' },
  { name: 'KAFKA_SASL_PASSWORD', schema: z.string().optional(), doc: 'SASL password.', secret: true },
  {
    name: 'AWS_REGION',
    schema: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as eu-west-1')
      .optional(),
    doc: 'AWS region of the MSK cluster (KAFKA_SASL_MECHANISM=aws-msk-iam signs tokens for it). ECS sets it.',
  },
  {
    name: 'TOPIC',
    schema: topicName,
    default: 'vehicle_positions',
    doc: 'Position topic (key = vehicle id).',
  },
  { name: 'DLQ_TOPIC', schema: topicName.optional(), doc: 'Dead-letter topic. Default: `<TOPIC>.dlq`.' },
  {
    name: 'STATE_CHANGELOG',
    schema: bool,
    default: 'true',
    doc: 'Log every accepted update of the Redis table to the compacted changelog topic (restores with `fleet replay --from changelog`); `false` turns it off.',
  },
  {
    name: 'STATE_CHANGELOG_TOPIC',
    schema: topicName.optional(),
    doc: 'Changelog topic of the table (compacted, as many partitions as TOPIC). Default: `<TOPIC>-state-changelog`.',
  },
  {
    name: 'TOPIC_PARTITIONS',
    schema: int(1, 10_000),
    default: '3',
    doc: 'Partitions when `fleet topics create` creates the topic.',
  },
  {
    name: 'TOPIC_REPLICATION_FACTOR',
    schema: int(1, 7).optional(),
    doc: 'Replication factor; default min(2, brokers).',
  },
  {
    name: 'TOPIC_RETENTION_MS',
    schema: int(60_000),
    default: '86400000',
    doc: 'retention.ms (24 h) alongside compaction.',
  },
  {
    name: 'TOPIC_MIN_COMPACTION_LAG_MS',
    schema: int(0),
    default: '3600000',
    doc: 'min.compaction.lag.ms: how long every intermediate position is kept before compaction may drop it (1 h).',
  },
  // Wire format and schema registry
  {
    name: 'PUBLISHER_KAFKA_CLIENT',
    schema: z.enum(['kafkajs', 'platformatic']),
    default: 'kafkajs',
    doc: "The position publisher's Kafka client (gateway, `fleet simulate`): `kafkajs`, or `platformatic` (`@platformatic/kafka`: the same guarantees at a fraction of kafkajs's CPU per record, see bench/README.md; plaintext and TLS, no SASL yet). Consumers stay on kafkajs.",
  },
  {
    name: 'WIRE_FORMAT',
    schema: z.enum(['json', 'avro']),
    default: 'json',
    doc: 'What producers write: `json`, or `avro` (Confluent framing, schema in SCHEMA_REGISTRY_URL). The processor reads both.',
  },
  {
    name: 'SCHEMA_REGISTRY_URL',
    schema: z.url().optional(),
    doc: 'Confluent-compatible schema registry (Apicurio: `…/apis/ccompat/v7`). Required with WIRE_FORMAT=avro; lets the processor decode Avro records.',
  },
  {
    name: 'SCHEMA_REGISTRY_USERNAME',
    schema: z.string().min(1).optional(),
    doc: 'Registry basic-auth user (Confluent Cloud: API key).',
  },
  {
    name: 'SCHEMA_REGISTRY_PASSWORD',
    schema: z.string().min(1).optional(),
    doc: 'Registry basic-auth password (Confluent Cloud: API secret).',
    secret: true,
  },
  // Consumer (the seed's pull-model knobs)
  {
    name: 'CONSUMER_GROUP',
    schema: z.string().min(1),
    default: 'fleet-processor',
    doc: 'Consumer group of `fleet process`.',
  },
  {
    name: 'MAX_POLL_RECORDS',
    schema: int(1, 1_000_000),
    default: '5000',
    doc: 'Max records handed to the topology per poll (per partition batch).',
  },
  {
    name: 'MAX_POLL_INTERVAL_MS',
    schema: int(1000),
    default: '300000',
    doc: 'Max time between polls before the member is evicted (rebalance timeout).',
  },
  { name: 'SESSION_TIMEOUT_MS', schema: int(1000), default: '30000', doc: 'Consumer session timeout.' },
  { name: 'HEARTBEAT_INTERVAL_MS', schema: int(100), default: '3000', doc: 'Consumer heartbeat interval.' },
  {
    name: 'FETCH_MIN_BYTES',
    schema: int(1),
    default: '1',
    doc: 'fetch.min.bytes: answer a fetch as soon as one byte is there.',
  },
  { name: 'FETCH_MAX_WAIT_MS', schema: int(0, 60_000), default: '500', doc: 'fetch.wait.max.ms.' },
  {
    name: 'FETCH_MAX_BYTES_PER_PARTITION',
    schema: int(1024),
    default: '262144',
    doc: 'Max bytes fetched per partition per request (256 KiB). kafkajs decodes a whole fetch at once, so this bounds the messages held in memory: 1 MiB of gzip batches held ~100k decoded messages.',
  },
  {
    name: 'AUTO_OFFSET_RESET',
    schema: z.enum(['earliest', 'latest']),
    default: 'earliest',
    doc: 'Where a new group starts.',
  },
] as const satisfies readonly VariableSpec[];
