import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SinkError } from '../../src/errors.js';
import { SnowflakeWarehouse } from '../../src/sinks/snowflake-sink.js';
import { standinFixture, type StandinFixture } from '../support/snowflake-standin/fixture.js';
import { track } from '../support/warehouse-records.js';

/**
 * Transient and fatal trouble injected at the wire: the real driver and the sink must end with
 * every record stored exactly once (transient), or stop loudly (fatal). Backoffs are instant.
 */
describe('snowflake sink under injected faults', () => {
  let fx: StandinFixture;
  let wh: SnowflakeWarehouse;
  const sleeps: number[] = [];

  beforeAll(async () => {
    fx = await standinFixture();
    wh = new SnowflakeWarehouse({
      config: fx.config().warehouse.snowflake!,
      table: 'positions_faults',
      poolSize: 2,
      driver: { loginRetries: 0 },
      retry: {
        retries: 3,
        sleep: async (ms) => {
          sleeps.push(ms);
        },
      },
    });
    await wh.ready();
  });
  afterAll(async () => {
    await wh?.close();
    await fx?.close();
  });
  beforeEach(() => {
    fx.standin.faults.clear();
    sleeps.length = 0;
  });

  async function rows(topic: string): Promise<{ n: number; distinct: number }> {
    const [[n, distinct]] = (await fx.standin.engine.query(
      `SELECT COUNT(*), COUNT(DISTINCT (kafka_partition, kafka_offset)) FROM positions_faults WHERE kafka_topic = '${topic}'`,
    )) as [[bigint, bigint]];
    return { n: Number(n), distinct: Number(distinct) };
  }

  it('warehouse suspended / resuming (000608) twice: retried with backoff, stored once', async () => {
    fx.standin.failNext(2, 'warehouse-suspended', { match: /^MERGE/ });
    expect(await wh.write(track('f-suspended', 'f-suspended', 300))).toEqual({
      inserted: 300,
      duplicates: 0,
      positionDuplicates: 0,
    });
    expect(fx.standin.faults.injected.get('warehouse-suspended')).toBe(2);
    expect(sleeps).toHaveLength(2);
    expect(await rows('f-suspended')).toEqual({ n: 300, distinct: 300 });
  });

  it('statement timeouts and internal errors are transient too', async () => {
    fx.standin.faults.failNext(1, 'statement-timeout', { match: /^MERGE/ });
    fx.standin.faults.failNext(1, 'internal-error', { match: /^MERGE/ });
    expect((await wh.write(track('f-timeout', 'f-timeout', 50))).inserted).toBe(50);
    expect(await rows('f-timeout')).toEqual({ n: 50, distinct: 50 });
  });

  it('HTTP 503 and dropped connections are retried inside the driver', async () => {
    fx.standin.faults.failNext(1, 'http-503', { match: /^MERGE/ });
    fx.standin.faults.failNext(1, 'drop', { match: /^MERGE/ });
    expect((await wh.write(track('f-http', 'f-http', 80))).inserted).toBe(80);
    expect(sleeps).toEqual([]); // the sink itself saw no failure
    expect(await rows('f-http')).toEqual({ n: 80, distinct: 80 });
  });

  it('an answer lost after the MERGE ran: the resubmitted request does not merge twice', async () => {
    fx.standin.faults.failNext(1, 'drop-after-execute', { match: /^MERGE/ });
    expect(await wh.write(track('f-lost', 'f-lost', 120))).toEqual({
      inserted: 120,
      duplicates: 0,
      positionDuplicates: 0,
    });
    expect(await rows('f-lost')).toEqual({ n: 120, distinct: 120 });
  });

  it('an expired session token is renewed by the driver', async () => {
    const renewals = fx.standin.requests.get('renew') ?? 0;
    fx.standin.faults.failNext(1, 'session-expired', { match: /^MERGE/ });
    expect((await wh.write(track('f-expired', 'f-expired', 30))).inserted).toBe(30);
    expect(fx.standin.requests.get('renew')).toBe(renewals + 1);
  });

  it('a session token past its validity is renewed with the master token, no new login', async () => {
    const { ok } = fx.standin.renewals;
    const logins = fx.standin.logins.length;
    fx.standin.expireSessionTokens();
    expect((await wh.write(track('f-validity', 'f-validity', 20))).inserted).toBe(20);
    expect(fx.standin.renewals.ok).toBeGreaterThan(ok);
    expect(fx.standin.requests.get('expired')).toBeGreaterThan(0);
    expect(fx.standin.logins.length).toBe(logins);
  });

  it('a refused renewal (503) ends the session: the write is retried on a new login', async () => {
    const logins = fx.standin.logins.length;
    fx.standin.expireSessionTokens();
    fx.standin.faults.failFor(60_000, 'http-503', { endpoint: 'renew' });
    expect((await wh.write(track('f-renew', 'f-renew', 20))).inserted).toBe(20);
    expect(fx.standin.faults.injectedAt.get('renew:http-503')).toBeGreaterThan(0);
    expect(fx.standin.logins.length).toBeGreaterThan(logins);
    expect(await rows('f-renew')).toEqual({ n: 20, distinct: 20 });
  });

  it('a login answered 503: the write is retried until a login succeeds', async () => {
    fx.standin.faults.failNext(1, 'session-gone', { match: /^MERGE/ });
    fx.standin.faults.failNext(1, 'http-503', { endpoint: 'login' });
    expect((await wh.write(track('f-login', 'f-login', 20))).inserted).toBe(20);
    expect(fx.standin.faults.injectedAt.get('login:http-503')).toBe(1);
    expect(await rows('f-login')).toEqual({ n: 20, distinct: 20 });
  });

  it('a session gone for good: the connection is dropped and the write retried on a new login', async () => {
    const logins = fx.standin.logins.length;
    fx.standin.faults.failNext(1, 'session-gone', { match: /^MERGE/ });
    expect((await wh.write(track('f-gone', 'f-gone', 40))).inserted).toBe(40);
    expect(sleeps).toHaveLength(1);
    expect(fx.standin.logins.length).toBe(logins + 1);
    expect(await rows('f-gone')).toEqual({ n: 40, distinct: 40 });
  });

  it('a slow query answered asynchronously: the driver polls the result URL', async () => {
    await wh.write(track('f-async', 'v-async', 25));
    const polls = fx.standin.requests.get('result') ?? 0;
    fx.standin.faults.failNext(1, 'in-progress', { match: /kafka_offset AS VARCHAR/ });
    const history = await wh.history({ vehicleId: 'v-async', from: 0, to: Date.UTC(2030, 0, 1) });
    expect(history).toHaveLength(25);
    expect(fx.standin.requests.get('result')).toBe(polls + 1);
  });

  it('an outage longer than the retries: retriable error, nothing half-written, the re-write stores all', async () => {
    fx.standin.faults.failNext(10, 'warehouse-suspended', { match: /^MERGE/ });
    const batch = track('f-outage', 'f-outage', 200);
    const err = await wh.write(batch).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SinkError);
    expect((err as SinkError).retriable).toBe(true);
    expect((err as Error).message).toMatch(/000608/);
    expect(await rows('f-outage')).toEqual({ n: 0, distinct: 0 });
    fx.standin.faults.clear();
    // The processor retries the same batch later.
    expect(await wh.write(batch)).toEqual({ inserted: 200, duplicates: 0, positionDuplicates: 0 });
  });

  it('a resource monitor suspending the warehouse: retried, with a loud log line and a metric', async () => {
    const { Registry } = await import('prom-client');
    const registry = new Registry();
    const lines: string[] = [];
    const { pino } = await import('pino');
    const logger = pino({ level: 'error' }, { write: (l: string) => lines.push(l) });
    const monitored = new SnowflakeWarehouse({
      config: fx.config().warehouse.snowflake!,
      table: 'positions_faults',
      driver: { loginRetries: 0 },
      retry: { retries: 1, sleep: async () => undefined },
      registry,
      logger,
    });
    await monitored.ready();
    fx.standin.faults.failNext(1, 'resource-monitor', { match: /^MERGE/ });
    expect((await monitored.write(track('f-monitor', 'f-monitor', 20))).inserted).toBe(20);
    const metric = await registry
      .getSingleMetric('fleet_snowflake_resource_monitor_suspensions_total')!
      .get();
    expect(metric.values[0]!.value).toBe(1);
    expect(lines.join('\n')).toMatch(/resource monitor suspended the warehouse/);
    await monitored.close();
  });

  it('lost privileges are fatal: the write and every later write and ping fail non-retriably', async () => {
    fx.standin.privileges.write = false;
    try {
      const err = await wh.write(track('f-fatal', 'f-fatal', 10)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(SinkError);
      expect((err as SinkError).retriable).toBe(false);
      expect((err as Error).message).toMatch(/003001.*Insufficient privileges/);
      expect(sleeps).toEqual([]);
      const statements = fx.standin.statements.length;
      await expect(wh.write(track('f-fatal', 'f-fatal', 10, 10))).rejects.toMatchObject({ retriable: false });
      await expect(wh.ping()).rejects.toMatchObject({ retriable: false });
      expect(fx.standin.statements.length).toBe(statements);
    } finally {
      fx.standin.privileges.write = true;
    }
  });
});
