import { Kafka, logLevel as KafkaLogLevel, type KafkaConfig as KafkaJsConfig, type LogEntry } from 'kafkajs';
import type { KafkaConfig } from '../config/config.js';
import type { Logger } from '../logger.js';

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
}

/** The one place a kafkajs client is built from config. */
export function createKafka(config: KafkaConfig, options: CreateKafkaOptions): Kafka {
  return new Kafka({
    clientId: options.role ? `${config.clientId}-${options.role}` : config.clientId,
    brokers: [...config.brokers],
    ssl: config.ssl,
    ...(config.sasl ? { sasl: { ...config.sasl } as KafkaJsConfig['sasl'] } : {}),
    connectionTimeout: options.connectionTimeout ?? 3000,
    requestTimeout: options.requestTimeout ?? 30_000,
    retry: options.retry ?? { initialRetryTime: 100, retries: 8, maxRetryTime: 10_000 },
    logLevel: KafkaLogLevel.WARN,
    logCreator: logCreator(options.logger),
  });
}
