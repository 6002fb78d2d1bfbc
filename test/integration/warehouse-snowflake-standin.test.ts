import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, SinkError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { createWarehouse } from '../../src/sinks/create-warehouse.js';
import { SnowflakeWarehouse } from '../../src/sinks/snowflake-sink.js';
import { standinFixture, type StandinFixture } from '../support/snowflake-standin/fixture.js';
import { publicKeyFingerprint } from '../support/snowflake-standin/index.js';
import { track } from '../support/warehouse-records.js';
import { warehouseConformance } from '../support/warehouse-conformance.js';
import { eventsWarehouseConformance } from '../support/events-warehouse-conformance.js';

/**
 * The real snowflake-sdk against the wire-level stand-in: login (key-pair JWT, password), binds,
 * statement sequence and start-up errors, plus the conformance suite.
 */
let fx: StandinFixture;
const ready = standinFixture().then((f) => (fx = f));
afterAll(async () => {
  await ready;
  await fx.close();
});

warehouseConformance('snowflake stand-in, key-pair (JWT) auth', async () => {
  await ready;
  return createWarehouse(fx.config().warehouse, silentLogger);
});

warehouseConformance(
  'snowflake stand-in, password auth',
  async () => {
    await ready;
    const config = fx.config({
      SNOWFLAKE_USER: 'pw_user',
      SNOWFLAKE_PRIVATE_KEY_PATH: undefined,
      SNOWFLAKE_PASSWORD: fx.password,
      WAREHOUSE_TABLE: 'positions_pw',
    });
    return createWarehouse(config.warehouse, silentLogger);
  },
  { largeBatch: 10_000 },
);

eventsWarehouseConformance('snowflake stand-in, MERGE', async () => {
  await ready;
  const config = fx.config().warehouse;
  return { config, positions: await createWarehouse(config, silentLogger) };
});

describe('snowflake sink against the stand-in', () => {
  beforeAll(async () => {
    await ready;
  });

  /** A sink with fast retries, optionally with small statements, for looking at statements. */
  function sink(overrides: Parameters<StandinFixture['config']>[0] = {}, maxStatementBytes?: number) {
    return new SnowflakeWarehouse({
      config: fx.config(overrides).warehouse.snowflake!,
      table: 'positions_seq',
      driver: { loginRetries: 0 },
      retry: { retries: 0 },
      ...(maxStatementBytes ? { maxStatementBytes } : {}),
    });
  }

  it('logs in with the key-pair JWT, keep-alive on, session on the configured objects', async () => {
    const before = fx.standin.logins.length;
    const wh = sink();
    await wh.ready();
    await wh.close();
    const login = fx.standin.logins[before]!;
    expect(login).toMatchObject({
      user: 'key_user',
      authenticator: 'SNOWFLAKE_JWT',
      ok: true,
      params: {
        warehouse: 'fleet_wh',
        databaseName: 'fleet',
        schemaName: 'PUBLIC',
        roleName: 'FLEET_LOADER',
      },
      sessionParameters: { CLIENT_SESSION_KEEP_ALIVE: true },
    });
  });

  it('a batch that fits one statement is one bound-JSON MERGE, no transaction', async () => {
    const wh = sink();
    await wh.ready();
    const from = fx.standin.statements.length;
    expect(await wh.write(track('t-seq1', 'v-seq', 250))).toEqual({
      inserted: 250,
      duplicates: 0,
      positionDuplicates: 0,
    });
    const issued = fx.standin.statements.slice(from);
    // A new pooled session first gets its statement and lock timeouts.
    expect(issued.map((s) => s.kind)).toEqual(['ALTER SESSION', 'MERGE']);
    expect(issued[0]!.sql).toMatch(/STATEMENT_TIMEOUT_IN_SECONDS = 120, LOCK_TIMEOUT = 120/);
    expect(issued[1]!.binds).toBe(3); // the JSON text, min ts, max ts
    const next = fx.standin.statements.length;
    await wh.write(track('t-seq1', 'v-seq', 10, 250));
    expect(fx.standin.statements.slice(next).map((s) => s.kind)).toEqual(['MERGE']);
    await wh.close();
  });

  it('a larger batch is staged in a non-colliding temporary table, chunks under the size limit', async () => {
    const wh = sink({}, 20_000);
    await wh.ready();
    const from = fx.standin.statements.length;
    expect(await wh.write(track('t-seq2', 'v-seq2', 600))).toEqual({
      inserted: 600,
      duplicates: 0,
      positionDuplicates: 0,
    });
    const issued = fx.standin.statements.slice(from);
    const kinds = issued.map((s) => s.kind);
    const inserts = issued.filter((s) => s.kind === 'INSERT');
    expect(kinds.slice(0, 3)).toEqual(['ALTER SESSION', 'CREATE', 'DELETE']);
    expect(kinds.at(-1)).toBe('MERGE');
    expect(inserts.length).toBeGreaterThan(3);
    expect(inserts.every((s) => s.binds === 1 && s.bytes <= 20_000)).toBe(true);
    expect(issued[1]!.sql).toMatch(/^CREATE TEMPORARY TABLE fleet_stage_[0-9a-f]{12} \(/);
    // The pooled session keeps its stage table: the next staged write starts at DELETE.
    const next = fx.standin.statements.length;
    await wh.write(track('t-seq2', 'v-seq2', 600, 600));
    expect(fx.standin.statements.slice(next)[0]!.kind).toBe('DELETE');
    expect(await wh.count({ topic: 't-seq2' })).toBe(1200);
    await wh.close();
  });

  it('keeps every statement of a 50k batch within 1 MB (the documented recommendation)', async () => {
    const wh = sink();
    await wh.ready();
    const from = fx.standin.statements.length;
    const batch = track('t-big', 'v-big', 50_000);
    expect((await wh.write(batch)).inserted).toBe(50_000);
    const issued = fx.standin.statements.slice(from);
    expect(Math.max(...issued.map((s) => s.bytes))).toBeLessThanOrEqual(1_000_000);
    // ~150 bytes per row: 50k rows in about 8 chunks, instead of 12 array-bound INSERTs.
    expect(issued.filter((s) => s.kind === 'INSERT').length).toBeLessThanOrEqual(9);
    expect(fx.standin.statements.some((s) => /SYSTEM\$BIND|^PUT /i.test(s.sql))).toBe(false);
    await wh.close();
  });

  it('reuses pooled sessions and deletes them on close', async () => {
    const wh = sink();
    const logins = fx.standin.logins.length;
    await wh.ready();
    for (let i = 0; i < 5; i++) await wh.write(track('t-pool', 'v-pool', 20, i * 20));
    await Promise.all([wh.count({ topic: 't-pool' }), wh.count(), wh.ping()]);
    // One login to check settings at start, then at most the concurrent sessions the pool needed.
    expect(fx.standin.logins.length - logins).toBeLessThanOrEqual(4);
    expect(await wh.count({ topic: 't-pool' })).toBe(100);
    await wh.close();
    expect(fx.standin.sessionCount).toBe(0);
  });

  it('verifies an existing table when it may not create one', async () => {
    const wh = sink({ SNOWFLAKE_CREATE_TABLE: 'false' });
    await expect(wh.ready()).resolves.toBeUndefined();
    await wh.close();
  });
});

describe('snowflake start-up errors name the setting', () => {
  beforeAll(async () => {
    await ready;
  });

  async function startupError(overrides: Parameters<StandinFixture['config']>[0]): Promise<unknown> {
    const wh = await createWarehouse(fx.config(overrides).warehouse, silentLogger);
    const err = await wh.ready().then(
      () => undefined,
      (e: unknown) => e,
    );
    await wh.close();
    return err;
  }

  it('a key the user does not have: 390144, with the key fingerprint to compare', async () => {
    const err = await startupError({ SNOWFLAKE_PRIVATE_KEY_PATH: fx.strangerKeyFile });
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe('SNOWFLAKE_PRIVATE_KEY_PATH');
    expect((err as Error).message).toMatch(/390144.*JWT token is invalid/);
    const { readFileSync } = await import('node:fs');
    const { createPublicKey } = await import('node:crypto');
    const pub = createPublicKey(readFileSync(fx.strangerKeyFile, 'utf8')).export({
      type: 'spki',
      format: 'pem',
    });
    expect((err as Error).message).toContain(publicKeyFingerprint(pub.toString()));
    expect(fx.standin.logins.at(-1)).toMatchObject({ ok: false, code: '390144' });
  });

  it('an encrypted key: works with its passphrase, fails before any login without or with a wrong one', async () => {
    const ok = await createWarehouse(
      fx.config({
        SNOWFLAKE_USER: 'enc_user',
        SNOWFLAKE_PRIVATE_KEY_PATH: fx.encryptedKeyFile,
        SNOWFLAKE_PRIVATE_KEY_PASSPHRASE: fx.passphrase,
      }).warehouse,
      silentLogger,
    );
    await ok.ready();
    await ok.close();
    const logins = fx.standin.logins.length;
    const bad = (passphrase?: string) =>
      createWarehouse(
        fx.config({
          SNOWFLAKE_USER: 'enc_user',
          SNOWFLAKE_PRIVATE_KEY_PATH: fx.encryptedKeyFile,
          SNOWFLAKE_PRIVATE_KEY_PASSPHRASE: passphrase,
        }).warehouse,
        silentLogger,
      );
    await expect(bad('wrong')).rejects.toThrow(
      /SNOWFLAKE_PRIVATE_KEY_PATH: .*wrong SNOWFLAKE_PRIVATE_KEY_PASSPHRASE/,
    );
    await expect(bad(undefined)).rejects.toThrow(/encrypted: set SNOWFLAKE_PRIVATE_KEY_PASSPHRASE/);
    expect(fx.standin.logins.length).toBe(logins);
  });

  it('a PEM key in the environment (with literal \\n) works like the file', async () => {
    const { readFileSync } = await import('node:fs');
    const pem = readFileSync(fx.keyFile, 'utf8').trim().replace(/\n/g, '\\n');
    const wh = await createWarehouse(
      fx.config({ SNOWFLAKE_PRIVATE_KEY_PATH: undefined, SNOWFLAKE_PRIVATE_KEY: pem }).warehouse,
      silentLogger,
    );
    await wh.ready();
    await wh.close();
    expect(fx.standin.logins.at(-1)).toMatchObject({ ok: true, authenticator: 'SNOWFLAKE_JWT' });
  });

  it('a wrong password: 390100 naming SNOWFLAKE_PASSWORD', async () => {
    const err = await startupError({
      SNOWFLAKE_USER: 'pw_user',
      SNOWFLAKE_PRIVATE_KEY_PATH: undefined,
      SNOWFLAKE_PASSWORD: 'nope',
    });
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/^SNOWFLAKE_PASSWORD: .*390100.*Incorrect username or password/);
  });

  it('a role not granted, a missing database, schema or warehouse', async () => {
    expect(String(await startupError({ SNOWFLAKE_ROLE: 'SYSADMIN' }))).toMatch(/SNOWFLAKE_ROLE: .*390189/);
    expect(String(await startupError({ SNOWFLAKE_DATABASE: 'NOPE' }))).toMatch(
      /SNOWFLAKE_DATABASE: database 'NOPE' does not exist/,
    );
    expect(String(await startupError({ SNOWFLAKE_SCHEMA: 'NOPE' }))).toMatch(
      /SNOWFLAKE_SCHEMA: schema 'fleet.NOPE' does not exist/,
    );
    expect(String(await startupError({ SNOWFLAKE_WAREHOUSE: 'NOPE_WH' }))).toMatch(
      /SNOWFLAKE_WAREHOUSE: warehouse 'NOPE_WH' does not exist/,
    );
  });

  it('no table and no right to create it; a table without some column', async () => {
    expect(
      String(await startupError({ SNOWFLAKE_CREATE_TABLE: 'false', WAREHOUSE_TABLE: 'never_created' })),
    ).toMatch(/WAREHOUSE_TABLE: cannot read table FLEET\.PUBLIC\.never_created \[002003\]/);
    fx.standin.privileges.createTable = false;
    try {
      expect(String(await startupError({ WAREHOUSE_TABLE: 'never_created' }))).toMatch(
        /SNOWFLAKE_CREATE_TABLE: cannot create table .*\[003001\].*Insufficient privileges/,
      );
      // Without the privilege, an existing table is still fine.
      expect(await startupError({})).toBeUndefined();
    } finally {
      fx.standin.privileges.createTable = true;
    }
    await fx.standin.engine.query('CREATE TABLE old_positions (vehicle_id VARCHAR, ts TIMESTAMPTZ)');
    expect(
      String(await startupError({ SNOWFLAKE_CREATE_TABLE: 'false', WAREHOUSE_TABLE: 'old_positions' })),
    ).toMatch(/WAREHOUSE_TABLE: .*\[000904\].*invalid identifier/);
  });

  it('an unreachable host: a retriable error naming SNOWFLAKE_HOST', async () => {
    const wh = new SnowflakeWarehouse({
      config: fx.config({ SNOWFLAKE_HOST: 'http://127.0.0.1:9' }).warehouse.snowflake!,
      driver: { loginRetries: 0, startupRetries: 0 },
    });
    const err = await wh.ready().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SinkError);
    expect((err as SinkError).retriable).toBe(true);
    expect((err as Error).message).toMatch(/SNOWFLAKE_HOST/);
  });
  it('a warehouse suspended at start: the start-up check retries until it resumes', async () => {
    const before = fx.standin.faults.injected.get('warehouse-suspended') ?? 0;
    fx.standin.faults.failNext(2, 'warehouse-suspended');
    const wh = new SnowflakeWarehouse({
      config: fx.config({}).warehouse.snowflake!,
      driver: { loginRetries: 0, startupRetries: 3 },
    });
    try {
      await expect(wh.ready()).resolves.toBeUndefined();
      expect(fx.standin.faults.injected.get('warehouse-suspended')).toBe(before + 2);
    } finally {
      fx.standin.faults.clear();
      await wh.close();
    }
    // With no retries left, the same fault ends start-up with a retriable error.
    fx.standin.faults.failNext(1, 'warehouse-suspended');
    const once = new SnowflakeWarehouse({
      config: fx.config({}).warehouse.snowflake!,
      driver: { loginRetries: 0, startupRetries: 0 },
    });
    try {
      const err = await once.ready().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(SinkError);
      expect((err as SinkError).retriable).toBe(true);
    } finally {
      fx.standin.faults.clear();
      await once.close();
    }
  });
});
