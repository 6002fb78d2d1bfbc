import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { createKafka } from '../../src/kafka/client.js';
import { checkKafkaAccess } from '../../src/kafka/preflight.js';
import type { BearerToken } from '../../src/kafka/sasl.js';
import {
  secureClientEnv,
  servicesDown,
  servicesUp,
  type SecureClientSettings,
} from '../../src/local/services.js';
import { silentLogger } from '../../src/logger.js';
import { clearRedisPrefix, createTestTopics, eventually, testConfig } from '../support/env.js';
import {
  fleetPositions,
  fullyCommitted,
  newestPerVehicle,
  produce,
  startTestPipeline,
} from '../support/processor-env.js';

/**
 * `fleet services up --secure`: a broker of its own with a SASL_SSL listener (throwaway CA,
 * SCRAM-SHA-512 user, OAUTHBEARER) whose sessions last REAUTH_MS, so token expiry happens in-test.
 */
const REAUTH_MS = 12_000;
let home: string;
let secure: SecureClientSettings;

beforeAll(async () => {
  home = mkdtempSync(path.join(os.tmpdir(), 'fleet-secure-'));
  const state = await servicesUp({
    home,
    logger: silentLogger,
    redis: false,
    kafkaPort: 0,
    secure: { reauthMs: REAUTH_MS },
  });
  secure = state.kafka!.secure!;
}, 180_000);

afterAll(async () => {
  if (home) await servicesDown(home, silentLogger);
  if (home) rmSync(home, { recursive: true, force: true });
});

const secureConfig = (overrides: Record<string, string> = {}) =>
  testConfig({
    ...secureClientEnv(secure),
    BATCH_MAX_WAIT_MS: '300',
    STATE_FLUSH_MAX_WAIT_MS: '20',
    ...overrides,
  });

/** An unsecured JWT (alg none), as Kafka's default OAUTHBEARER validator accepts, expiring in `ttlMs`. */
function unsecuredJwt(ttlMs: number): BearerToken {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Date.now();
  const exp = now + ttlMs;
  return {
    token: `${b64({ alg: 'none' })}.${b64({ sub: 'fleet', iat: Math.floor(now / 1000), exp: Math.floor(exp / 1000) })}.`,
    expiryTime: exp,
  };
}

describe('Kafka over TLS + SASL (fleet services up --secure)', () => {
  it('topic admin, producer → processor → Redis + DuckDB over TLS + SCRAM-SHA-512', async () => {
    const config = secureConfig();
    expect(config.kafka.ssl).toBe(true);
    expect(config.kafka.sasl?.mechanism).toBe('scram-sha-512');
    await checkKafkaAccess(config.kafka);
    await createTestTopics(config);
    const { table, warehouse, processor, close } = await startTestPipeline(config);
    try {
      const positions = fleetPositions(20, 25);
      await produce(config, positions);
      await eventually(
        async () => (await warehouse.count({ topic: config.topic.name })) >= positions.length,
        60_000,
      );
      await eventually(() => fullyCommitted(config), 30_000);
      expect(await warehouse.count({ topic: config.topic.name })).toBe(positions.length);
      const newest = newestPerVehicle(positions);
      const states = await table.getMany([...newest.keys()]);
      expect(states.map((s) => s?.ts)).toEqual([...newest.values()].map((p) => p.ts));
      expect((await processor.stop()).clean).toBe(true);
    } finally {
      await close();
      await clearRedisPrefix(config);
    }
  }, 120_000);

  it('a wrong password fails fast, naming KAFKA_SASL_PASSWORD', async () => {
    const config = secureConfig({ KAFKA_SASL_PASSWORD: 'not-the-password' });
    const started = Date.now();
    const err = await checkKafkaAccess(config.kafka).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe('KAFKA_SASL_PASSWORD');
    expect((err as Error).message).toMatch(/refused the scram-sha-512 login as fleet/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('an untrusted broker certificate fails fast, naming KAFKA_SSL_CA_FILE', async () => {
    const config = testConfig({ ...secureClientEnv(secure), KAFKA_SSL_CA_FILE: '' });
    expect(config.kafka.ssl).toBe(true);
    expect(config.kafka.sslCaFile).toBeUndefined();
    const started = Date.now();
    const err = await checkKafkaAccess(config.kafka).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe('KAFKA_SSL_CA_FILE');
    expect((err as Error).message).toMatch(/not trusted/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('expiring bearer tokens (the MSK IAM path) are renewed without a failed send', async () => {
    // The same client code as KAFKA_SASL_MECHANISM=aws-msk-iam, with our own signer: tokens live
    // 6 s and sessions REAUTH_MS, so a 25 s run crosses several expiries.
    const config = secureConfig({
      KAFKA_SASL_MECHANISM: 'aws-msk-iam',
      AWS_REGION: 'eu-west-1',
      KAFKA_SASL_USERNAME: '',
      KAFKA_SASL_PASSWORD: '',
    });
    let signed = 0;
    const tokenSource = async () => {
      signed++;
      return unsecuredJwt(6000);
    };
    await checkKafkaAccess(config.kafka, { tokenSource });
    await createTestTopics(testConfig({ ...secureClientEnv(secure), TOPIC: config.topic.name }));
    const kafka = createKafka(config.kafka, { logger: silentLogger, role: 'test', tokenSource });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    let sent = 0;
    try {
      const until = Date.now() + 25_000;
      while (Date.now() < until) {
        await producer.send({
          topic: config.topic.name,
          acks: -1,
          messages: [{ key: `v${sent}`, value: '{}' }],
        });
        sent++;
        await new Promise((r) => setTimeout(r, 250));
      }
    } finally {
      await producer.disconnect();
    }
    expect(sent).toBeGreaterThan(50);
    // Renewed: more tokens signed than the one the first connection used.
    expect(signed).toBeGreaterThanOrEqual(3);
  }, 90_000);
});
