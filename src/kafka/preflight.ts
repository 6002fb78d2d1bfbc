import type { KafkaConfig } from '../config/config.js';
import { ConfigError, errorMessage } from '../errors.js';
import { silentLogger } from '../logger.js';
import { createKafka, type CreateKafkaOptions } from './client.js';

/** TLS verification failures as Node reports them: a wrong CA or host, never "try again". */
const UNTRUSTED = /self[- ]signed|unable to (get|verify)|certificate|CERT_|altnames/i;

/**
 * One quick connection with the configured TLS and SASL, before a command starts its clients:
 * kafkajs retries a connection whose certificate is untrusted like any network error, for tens of
 * seconds. A refused login or an untrusted certificate becomes a {@link ConfigError} naming the
 * variable to fix; anything else (brokers still starting) is left to the clients' own retries.
 */
export async function checkKafkaAccess(
  config: KafkaConfig,
  options: Pick<CreateKafkaOptions, 'tokenSource'> & { timeoutMs?: number } = {},
): Promise<void> {
  if (!config.ssl && !config.sasl) return;
  const admin = createKafka(config, {
    logger: silentLogger,
    role: 'preflight',
    retry: { retries: 0 },
    connectionTimeout: options.timeoutMs ?? 5000,
    ...(options.tokenSource ? { tokenSource: options.tokenSource } : {}),
  }).admin();
  try {
    await admin.connect();
  } catch (err) {
    const message = errorMessage(err);
    if ((err as Error).name === 'KafkaJSSASLAuthenticationError') {
      const who = config.sasl && 'username' in config.sasl ? ` as ${config.sasl.username}` : '';
      throw new ConfigError(
        config.sasl?.mechanism === 'aws-msk-iam' ? 'KAFKA_SASL_MECHANISM' : 'KAFKA_SASL_PASSWORD',
        `the brokers refused the ${config.sasl?.mechanism ?? 'SASL'} login${who}: ${message}`,
      );
    }
    if (config.ssl && UNTRUSTED.test(message)) {
      throw new ConfigError(
        'KAFKA_SSL_CA_FILE',
        `the brokers' TLS certificate is not trusted (${message}); set KAFKA_SSL_CA_FILE to the CA that signed it`,
      );
    }
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
