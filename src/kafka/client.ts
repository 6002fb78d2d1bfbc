import { Kafka, logLevel as KafkaLogLevel, type KafkaConfig as KafkaJsConfig, type LogEntry } from 'kafkajs';
import type { KafkaConfig } from '../config/config.js';
import type { Logger } from '../logger.js';
import { kafkaSasl, kafkaTls, type TokenSource } from './sasl.js';

const levels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [KafkaLogLevel.ERROR]: 'error',
  [KafkaLogLevel.WARN]: 'warn',
  [KafkaLogLevel.INFO]: 'info',
  [KafkaLogLevel.DEBUG]: 'debug',
};

/** kafkajs log lines go to our pino logger, under `kafkajs`. */
function logCreator(logger: Logger) {
  const child = logger.child({ component: 'kafkajs' });
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, ...extra } = log;
      child[levels[level] ?? 'info'](extra, message);
    };
}

export interface CreateKafkaOptions {
  logger: Logger;
  /** Suffix of the client id (`fleet-tracker-processor`). */
  role?: string;
  /** Overrides for tests (fast retries). */
  retry?: KafkaJsConfig['retry'];
  connectionTimeout?: number;
  requestTimeout?: number;
  /** MSK IAM token signer (tests inject their own). @default the AWS signer */
  tokenSource?: TokenSource;
}

/** A threshold no session lifetime reaches: kafkajs never re-authenticates a live connection. */
const NO_REAUTHENTICATION = -Number.MAX_SAFE_INTEGER;

/** The one place a kafkajs client is built from config. */
export function createKafka(config: KafkaConfig, options: CreateKafkaOptions): Kafka {
  return new Kafka({
    clientId: options.role ? `${config.clientId}-${options.role}` : config.clientId,
    brokers: [...config.brokers],
    ssl: kafkaTls(config),
    ...(config.sasl ? { sasl: kafkaSasl(config, options.tokenSource) } : {}),
    connectionTimeout: options.connectionTimeout ?? 3000,
    requestTimeout: options.requestTimeout ?? 30_000,
    retry: options.retry ?? { initialRetryTime: 100, retries: 8, maxRetryTime: 10_000 },
    // kafkajs's re-authentication on a live connection (KIP-368) is refused by the broker with
    // ILLEGAL_SASL_STATE (seen against Kafka 4.1 with expiring OAUTHBEARER tokens), which fails the
    // request. Never attempt it: when a session ends the broker closes the connection, kafkajs
    // reconnects (a retriable connection error) and logs in again with a fresh token.
    ...(config.sasl ? { reauthenticationThreshold: NO_REAUTHENTICATION } : {}),
    logLevel: KafkaLogLevel.WARN,
    logCreator: logCreator(options.logger),
  });
}
