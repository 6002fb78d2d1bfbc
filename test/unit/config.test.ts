import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { PROCESSOR_HEAP_FLAG } from '../../src/config/runtime.js';
import { compileConfig, readRawConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';

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
});
