import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileConfig, readRawConfig, type RawConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { createWarehouse } from '../../src/sinks/create-warehouse.js';
import { DuckDbWarehouse } from '../../src/sinks/duckdb-sink.js';

const dir = mkdtempSync(path.join(tmpdir(), 'fleet-settings-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
};
const rsa = (passphrase?: string) =>
  generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: passphrase
      ? { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }
      : { type: 'pkcs8', format: 'pem' },
  }).privateKey;

const good: RawConfig = {
  WAREHOUSE: 'snowflake',
  SNOWFLAKE_ACCOUNT: 'myorg-fleet',
  SNOWFLAKE_USER: 'FLEET_LOADER',
  SNOWFLAKE_DATABASE: 'FLEET',
  SNOWFLAKE_PRIVATE_KEY_PATH: file('good.p8', rsa()),
};
const compile = (flags: RawConfig) => compileConfig(readRawConfig({}, flags), {});
/** compileConfig + createWarehouse, the start of `fleet process`, without connecting anywhere. */
const start = async (flags: RawConfig) => createWarehouse(compile(flags).warehouse, silentLogger);

describe('warehouse settings fail at start, naming the problem', () => {
  it('defaults to the embedded DuckDB warehouse', async () => {
    expect(await start({})).toBeInstanceOf(DuckDbWarehouse);
  });

  it.each([
    ['SNOWFLAKE_ACCOUNT', { SNOWFLAKE_ACCOUNT: undefined }, /is required when WAREHOUSE=snowflake/],
    ['SNOWFLAKE_USER', { SNOWFLAKE_USER: undefined }, /is required/],
    ['SNOWFLAKE_DATABASE', { SNOWFLAKE_DATABASE: undefined }, /is required/],
    ['SNOWFLAKE_PRIVATE_KEY_PATH', { SNOWFLAKE_PRIVATE_KEY_PATH: undefined }, /no credentials/],
    ['SNOWFLAKE_PRIVATE_KEY', { SNOWFLAKE_PRIVATE_KEY: 'not a pem' }, /set either .* not both/],
  ])('missing or contradictory %s (config)', (variable, flags, why) => {
    expect(() => compile({ ...good, ...flags })).toThrowError(ConfigError);
    expect(() => compile({ ...good, ...flags })).toThrowError(new RegExp(`^${variable}: ${why.source}`));
  });

  it.each([
    [
      'an unreadable key file',
      { SNOWFLAKE_PRIVATE_KEY_PATH: path.join(dir, 'missing.p8') },
      /^SNOWFLAKE_PRIVATE_KEY_PATH: cannot read the private key file .*missing\.p8/,
    ],
    [
      'a file that is no key',
      { SNOWFLAKE_PRIVATE_KEY_PATH: file('junk.p8', 'hello') },
      /^SNOWFLAKE_PRIVATE_KEY_PATH: not a usable private key/,
    ],
    [
      'an encrypted key without passphrase',
      { SNOWFLAKE_PRIVATE_KEY_PATH: file('enc.p8', rsa('pw')) },
      /set SNOWFLAKE_PRIVATE_KEY_PASSPHRASE/,
    ],
    [
      'an encrypted key with a wrong passphrase',
      { SNOWFLAKE_PRIVATE_KEY_PATH: file('enc2.p8', rsa('pw')), SNOWFLAKE_PRIVATE_KEY_PASSPHRASE: 'nope' },
      /wrong SNOWFLAKE_PRIVATE_KEY_PASSPHRASE/,
    ],
    [
      'a non-RSA key',
      {
        SNOWFLAKE_PRIVATE_KEY_PATH: file(
          'ec.p8',
          generateKeyPairSync('ec', {
            namedCurve: 'P-256',
            privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
            publicKeyEncoding: { type: 'spki', format: 'pem' },
          }).privateKey,
        ),
      },
      /needs an RSA key/,
    ],
    [
      'a PEM in the environment that does not parse',
      {
        SNOWFLAKE_PRIVATE_KEY_PATH: undefined,
        SNOWFLAKE_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\\nAAAA\\n-----END PRIVATE KEY-----',
      },
      /^SNOWFLAKE_PRIVATE_KEY: not a usable private key/,
    ],
    ['an account that is no identifier', { SNOWFLAKE_ACCOUNT: 'my org/acct' }, /^SNOWFLAKE_ACCOUNT: /],
  ])('%s (createWarehouse)', async (_what, flags, why) => {
    const err = await start({ ...good, ...flags }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(why);
  });

  it('accepts good key-pair and password settings without connecting', async () => {
    expect((await start(good)).name).toBe('snowflake');
    const password = { ...good, SNOWFLAKE_PRIVATE_KEY_PATH: undefined, SNOWFLAKE_PASSWORD: 'pw' };
    expect((await start(password)).name).toBe('snowflake');
  });
});
