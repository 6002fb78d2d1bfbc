import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { PROCESSOR_HEAP_FLAG } from '../../src/config/runtime.js';
import { compileConfig, readRawConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';
import { maskSecrets } from '../../src/config/mask.js';

const compile = (env: Record<string, string>) => compileConfig(readRawConfig(env), env);

describe('config', () => {
  it('fills documented defaults', () => {
    const c = compile({});
    expect(c.topic).toMatchObject({
      name: 'vehicle_positions',
      dlq: 'vehicle_positions.dlq',
      partitions: 3,
      retentionMs: 86_400_000,
    });
    expect(c.consumer).toMatchObject({ fetchMinBytes: 1, fetchMaxWaitMs: 500, fromBeginning: true });
    expect(c.batch.maxWaitMs).toBe(5000);
    expect(c.warehouse.kind).toBe('duckdb');
    expect(c.api.authRequired).toBe(true);
    expect(Object.isFrozen(c.kafka)).toBe(true);
  });

  it.each([
    ['KAFKA_BROKERS', 'not a broker'],
    ['TOPIC_PARTITIONS', '0'],
    ['WAREHOUSE', 'oracle'],
    ['REDIS_URL', 'nope'],
    ['FETCH_MAX_WAIT_MS', '-1'],
  ])('rejects a bad %s naming the variable', (name, value) => {
    expect(() => compile({ [name]: value })).toThrowError(new RegExp(`^${name}: `));
  });

  it('cross-checks fields', () => {
    expect(() => compile({ HEARTBEAT_INTERVAL_MS: '40000' })).toThrowError(
      /HEARTBEAT_INTERVAL_MS: must be lower than SESSION_TIMEOUT_MS/,
    );
    expect(() => compile({ MAX_UNFLUSHED_BYTES: '2048', BATCH_MAX_BYTES: '4096' })).toThrowError(
      /MAX_UNFLUSHED_BYTES/,
    );
  });

  it('requires Snowflake settings only when WAREHOUSE=snowflake, naming the missing one', () => {
    expect(() => compile({ WAREHOUSE: 'snowflake' })).toThrowError(ConfigError);
    expect(() => compile({ WAREHOUSE: 'snowflake' })).toThrowError(/^SNOWFLAKE_ACCOUNT: is required/);
    expect(() =>
      compile({
        WAREHOUSE: 'snowflake',
        SNOWFLAKE_ACCOUNT: 'a',
        SNOWFLAKE_USER: 'u',
        SNOWFLAKE_DATABASE: 'd',
      }),
    ).toThrowError(/^SNOWFLAKE_PRIVATE_KEY_PATH: no credentials/);
    const c = compile({
      WAREHOUSE: 'snowflake',
      SNOWFLAKE_ACCOUNT: 'a',
      SNOWFLAKE_USER: 'u',
      SNOWFLAKE_DATABASE: 'd',
      SNOWFLAKE_PASSWORD: 'p',
    });
    expect(c.warehouse.snowflake?.auth).toEqual({ kind: 'password', password: 'p' });
  });

  it('puts REDIS_PASSWORD into the Redis URL, escaped, keeping TLS and the user', () => {
    const c = compile({ REDIS_URL: 'rediss://default@cache.example:6379', REDIS_PASSWORD: 'p@ss/word' });
    expect(c.redis.url).toBe('rediss://default:p%40ss%2Fword@cache.example:6379');
    expect(compile({ REDIS_URL: 'redis://h:1' }).redis.url).toBe('redis://h:1');
  });

  it('MSK IAM needs TLS and a region, naming the variable', () => {
    const base = { KAFKA_SASL_MECHANISM: 'aws-msk-iam' };
    expect(() => compile(base)).toThrow(/AWS_REGION/);
    expect(() => compile({ ...base, AWS_REGION: 'eu-west-1' })).toThrow(/KAFKA_SSL: must be true/);
    const c = compile({ ...base, AWS_REGION: 'eu-west-1', KAFKA_SSL: 'true' });
    expect(c.kafka.sasl).toEqual({ mechanism: 'aws-msk-iam', region: 'eu-west-1' });
    expect(compile({ KAFKA_SSL_CA_FILE: '/tmp/ca.pem' }).kafka).toMatchObject({
      ssl: true,
      sslCaFile: '/tmp/ca.pem',
    });
  });

  it('the publisher client is kafkajs unless asked; platformatic with SASL fails at start, naming the variable', () => {
    expect(compile({}).publisherClient).toBe('kafkajs');
    expect(compile({ PUBLISHER_KAFKA_CLIENT: 'platformatic', KAFKA_SSL: 'true' }).publisherClient).toBe(
      'platformatic',
    );
    expect(() => compile({ PUBLISHER_KAFKA_CLIENT: 'librdkafka' })).toThrow(/PUBLISHER_KAFKA_CLIENT/);
    const sasl = { KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' };
    expect(() => compile({ ...sasl, PUBLISHER_KAFKA_CLIENT: 'platformatic' })).toThrow(
      /PUBLISHER_KAFKA_CLIENT: 'platformatic' does not support KAFKA_SASL_MECHANISM \(plain\)/,
    );
    expect(compile(sasl).publisherClient).toBe('kafkajs');
  });

  it('EMF is on in ECS unless turned off, off elsewhere', () => {
    expect(compile({}).metrics.emf).toBe(false);
    expect(compile({ ECS_CONTAINER_METADATA_URI_V4: 'http://169.254.170.2/v4/x' }).metrics.emf).toBe(true);
    expect(compile({ ECS_CONTAINER_METADATA_URI_V4: 'http://x', METRICS_EMF: 'false' }).metrics.emf).toBe(
      false,
    );
  });

  it('turns API auth off only in development or when asked', () => {
    expect(compileConfig(readRawConfig({}), { NODE_ENV: 'development' }).api.authRequired).toBe(false);
    expect(compile({ API_AUTH: 'off' }).api.authRequired).toBe(false);
  });
});

describe('deployed processor heap cap', () => {
  it('the Dockerfile sets the heap cap the bench measures with', () => {
    const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
    const flags = /^ENV NODE_OPTIONS=(.+)$/m.exec(dockerfile)?.[1]?.split(/\s+/) ?? [];
    expect(flags).toContain(PROCESSOR_HEAP_FLAG);
  });

  it('prints no secret (fleet config): keys, passwords and the Redis URL password are masked', () => {
    const secrets = {
      API_KEYS: 'api-key-0123456789abcdef0123456789abcdef',
      METRICS_KEY: 'metrics-key-0123456789abcdef0123456789',
      REDIS_PASSWORD: 'redis-pass-s3cr3t',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'fleet',
      KAFKA_SASL_PASSWORD: 'kafka-pass-s3cr3t',
    };
    const printed = JSON.stringify(maskSecrets(compile(secrets)));
    for (const [name, value] of Object.entries(secrets)) {
      if (name.endsWith('KEY') || name.endsWith('KEYS') || name.endsWith('PASSWORD')) {
        expect(printed, name).not.toContain(value);
      }
    }
    expect(printed).toContain('redis://:***@127.0.0.1:6379');
    expect(printed).toContain('"username":"fleet"');
  });
});
