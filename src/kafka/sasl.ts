import { readFileSync } from 'node:fs';
import type { KafkaConfig as KafkaJsConfig, SASLOptions } from 'kafkajs';
import type { KafkaConfig } from '../config/config.js';
import { ConfigError, errorMessage, KafkaUnavailableError } from '../errors.js';

/** A signed bearer token and when it stops being accepted (epoch ms). */
export interface BearerToken {
  token: string;
  expiryTime: number;
}

/** Where MSK IAM tokens come from: the AWS signer in production, our own in tests. */
export type TokenSource = (region: string) => Promise<BearerToken>;

/** The AWS signer, loaded only when MSK IAM is configured (it pulls in the AWS SDK). */
const awsSigner: TokenSource = async (region) => {
  const { generateAuthToken } = await import('aws-msk-iam-sasl-signer-js');
  return generateAuthToken({ region });
};

/**
 * Caches one token per client and signs a fresh one when less than `refreshBeforeMs` of it is left.
 * kafkajs asks for a token on every connection it opens and on every re-authentication (KIP-368:
 * the broker announces the session lifetime, kafkajs re-authenticates before it ends); when a
 * session ends anyway (a broker that closes expired sessions, a reconnect), the next connection
 * simply asks again, so an expiring token costs a reconnect, never an outage.
 */
export function cachedTokenProvider(
  region: string,
  source: TokenSource = awsSigner,
  options: { refreshBeforeMs?: number; now?: () => number } = {},
): () => Promise<{ value: string }> {
  const refreshBefore = options.refreshBeforeMs ?? 60_000;
  const now = options.now ?? Date.now;
  let current: BearerToken | null = null;
  let pending: Promise<BearerToken> | null = null;
  return async () => {
    if (current && current.expiryTime - now() > refreshBefore) return { value: current.token };
    pending ??= source(region)
      .then((t) => (current = t))
      .catch((err: unknown) => {
        throw new KafkaUnavailableError(
          `signing a Kafka IAM token for ${region} failed: ${errorMessage(err)}`,
          {
            cause: err,
          },
        );
      })
      .finally(() => (pending = null));
    return { value: (await pending).token };
  };
}

/** kafkajs `ssl`: off, the system CAs, or the CAs of KAFKA_SSL_CA_FILE. */
export function kafkaTls(config: Pick<KafkaConfig, 'ssl' | 'sslCaFile'>): KafkaJsConfig['ssl'] {
  if (!config.ssl) return false;
  if (config.sslCaFile === undefined) return true;
  try {
    return { ca: [readFileSync(config.sslCaFile, 'utf8')] };
  } catch (err) {
    throw new ConfigError('KAFKA_SSL_CA_FILE', `cannot read ${config.sslCaFile}: ${errorMessage(err)}`);
  }
}

/** kafkajs `sasl` for our config; MSK IAM becomes OAUTHBEARER with signed tokens. */
export function kafkaSasl(
  config: Pick<KafkaConfig, 'sasl'>,
  tokenSource?: TokenSource,
): SASLOptions | undefined {
  const sasl = config.sasl;
  if (!sasl) return undefined;
  if (sasl.mechanism === 'aws-msk-iam') {
    return { mechanism: 'oauthbearer', oauthBearerProvider: cachedTokenProvider(sasl.region, tokenSource) };
  }
  return { ...sasl };
}
