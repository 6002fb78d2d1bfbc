import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, SinkError } from '../../src/errors.js';
import { Registry } from 'prom-client';
import { retry } from '../../src/retry.js';
import { SnowflakeWarehouse } from '../../src/sinks/snowflake-sink.js';
import { standinFixture, type StandinFixture } from '../support/snowflake-standin/fixture.js';
import { track } from '../support/warehouse-records.js';
import { warehouseConformance } from '../support/warehouse-conformance.js';

/**
 * What a real account does that the happy path does not show: an account TIMEZONE other than UTC,
 * a role without the temporary-table privilege, a network that stops answering.
 */
let fx: StandinFixture;
// +05:30: a half-hour offset catches both hour and minute mistakes.
const ready = standinFixture({ timezone: 'Asia/Kolkata' }).then((f) => (fx = f));
afterAll(async () => {
  await ready;
  await fx.close();
});

warehouseConformance(
  'snowflake stand-in, account TIMEZONE Asia/Kolkata',
  async () => {
    await ready;
    return new SnowflakeWarehouse({ config: fx.config().warehouse.snowflake!, table: 'positions_tz' });
  },
  { largeBatch: 5_000 },
);

describe('snowflake sessions against a demanding stand-in', () => {
  beforeAll(async () => {
    await ready;
  });

  it('the stand-in answers TIMESTAMP_TZ in the session time zone, and the driver reads the instant', async () => {
    const wh = new SnowflakeWarehouse({ config: fx.config().warehouse.snowflake!, table: 'positions_tz2' });
    await wh.ready();
    const [r] = track('t-tz', 'v-tz', 1);
    await wh.write([r!]);
    await wh.close();
    const { connect, execute, destroy, connectionOptions } =
      await import('../../src/sinks/snowflake/connection.js');
    const conn = await connect(connectionOptions(fx.config().warehouse.snowflake!).options);
    const { rows } = await execute(conn, "SELECT ts FROM positions_tz2 WHERE kafka_topic = 't-tz'");
    await destroy(conn);
    // The raw value travels as "<epoch s>.<fraction> <offset index>", index 1440 + 330 for +05:30.
    expect((rows[0]![0] as Date).getTime()).toBe(r!.position.ts);
  });

  it('a role without CREATE TEMPORARY TABLE / CREATE TABLE fails at start, naming the privilege', async () => {
    fx.standin.privileges.createTable = false;
    fx.standin.privileges.createTemporaryTable = false;
    try {
      const wh = new SnowflakeWarehouse({ config: fx.config().warehouse.snowflake!, table: 'positions_tz' });
      const err = await wh.ready().then(
        () => undefined,
        (e: unknown) => e,
      );
      await wh.close();
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).variable).toBe('SNOWFLAKE_ROLE');
      expect((err as Error).message).toMatch(
        /CREATE TEMPORARY TABLE.*GRANT CREATE TABLE ON SCHEMA FLEET\.PUBLIC/,
      );
    } finally {
      fx.standin.privileges.createTable = true;
      fx.standin.privileges.createTemporaryTable = true;
    }
    // CREATE TEMPORARY TABLE alone is enough with a pre-created table.
    fx.standin.privileges.createTable = false;
    try {
      const wh = new SnowflakeWarehouse({ config: fx.config().warehouse.snowflake!, table: 'positions_tz' });
      await expect(wh.ready()).resolves.toBeUndefined();
      await wh.close();
    } finally {
      fx.standin.privileges.createTable = true;
    }
  });

  it('a stand-in that stops answering: the write fails retriably at the deadline, then recovers', async () => {
    const registry = new Registry();
    const wh = new SnowflakeWarehouse({
      config: fx.config().warehouse.snowflake!,
      table: 'positions_hang',
      statementTimeoutMs: 3000,
      driver: { loginRetries: 0 },
      retry: { retries: 0 },
      registry,
    });
    await wh.ready();
    await wh.write(track('t-hang', 'v', 5));
    fx.standin.faults.failFor(60_000, 'hang', { match: /^MERGE/ });
    const started = Date.now();
    const err = await wh.write(track('t-hang', 'v', 5, 5)).then(
      () => undefined,
      (e: unknown) => e,
    );
    const waited = Date.now() - started;
    expect(err).toBeInstanceOf(SinkError);
    expect((err as SinkError).retriable).toBe(true);
    expect((err as Error).message).toMatch(/DEADLINE.*statement deadline of 3000 ms/);
    expect(waited).toBeLessThan(8_000);
    // Pings and borrows are bounded too: a hung heartbeat (the borrow validation) fails in time.
    fx.standin.faults.clear();
    fx.standin.faults.failFor(60_000, 'hang', { match: /HEARTBEAT/ });
    const pingStarted = Date.now();
    await expect(wh.ping()).rejects.toMatchObject({ retriable: true });
    expect(Date.now() - pingStarted).toBeLessThan(8_000);
    fx.standin.faults.clear();
    // Recovery: new sessions log in (a busy test machine may need a retry, as the processor would).
    await retry(() => wh.write(track('t-hang', 'v', 5, 5)), { retries: 3, initialMs: 100 });
    expect(await wh.count({ topic: 't-hang' })).toBe(10);
    await wh.close();
  }, 60_000);
});
