import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { compileConfig, readRawConfig, type Config, type RawConfig } from '../../../src/config/index.js';
import { generateKeyPair } from './index.js';
import { startSnowflakeStandin, type SnowflakeStandin } from './server.js';

/** The stand-in account used by the tests: three users, keys on disk like an operator keeps them. */
export interface StandinFixture {
  standin: SnowflakeStandin;
  dir: string;
  /** Key file of KEY_USER (unencrypted PKCS#8), of ENC_USER (encrypted with `passphrase`). */
  keyFile: string;
  encryptedKeyFile: string;
  passphrase: string;
  /** A different key, registered nowhere. */
  strangerKeyFile: string;
  password: string;
  /** A compiled config pointing at the stand-in (key-pair auth unless overridden). */
  config(overrides?: RawConfig): Readonly<Config>;
  close(): Promise<void>;
}

export async function standinFixture(account: { timezone?: string } = {}): Promise<StandinFixture> {
  // The driver probes cloud metadata endpoints on every login unless told not to.
  process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION = 'true';
  const dir = mkdtempSync(path.join(tmpdir(), 'fleet-snowflake-'));
  const passphrase = 'correct horse battery staple';
  const plain = generateKeyPair();
  const encrypted = generateKeyPair(passphrase);
  const stranger = generateKeyPair();
  const file = (name: string, pem: string) => {
    const p = path.join(dir, name);
    writeFileSync(p, pem, { mode: 0o600 });
    return p;
  };
  const password = 'pw-Ünïcode-123';
  const standin = await startSnowflakeStandin({
    ...account,
    users: [
      { name: 'KEY_USER', publicKeyPem: plain.publicKeyPem },
      { name: 'ENC_USER', publicKeyPem: encrypted.publicKeyPem },
      { name: 'PW_USER', password },
    ],
  });
  const keyFile = file('rsa_key.p8', plain.privateKeyPem);
  return {
    standin,
    dir,
    keyFile,
    encryptedKeyFile: file('rsa_key_enc.p8', encrypted.privateKeyPem),
    passphrase,
    strangerKeyFile: file('stranger.p8', stranger.privateKeyPem),
    password,
    config: (overrides = {}) =>
      compileConfig(
        // An empty environment: SNOWFLAKE_* of a real account in the shell must not leak in.
        readRawConfig(
          {},
          {
            DUCKDB_PATH: ':memory:',
            WAREHOUSE: 'snowflake',
            SNOWFLAKE_ACCOUNT: standin.accountName.toLowerCase(),
            SNOWFLAKE_USER: 'key_user',
            SNOWFLAKE_PRIVATE_KEY_PATH: keyFile,
            SNOWFLAKE_DATABASE: 'fleet',
            SNOWFLAKE_SCHEMA: 'PUBLIC',
            SNOWFLAKE_WAREHOUSE: 'fleet_wh',
            SNOWFLAKE_ROLE: 'FLEET_LOADER',
            SNOWFLAKE_HOST: standin.url,
            ...overrides,
          },
        ),
        { NODE_ENV: 'test' },
      ),
    close: async () => {
      await standin.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
