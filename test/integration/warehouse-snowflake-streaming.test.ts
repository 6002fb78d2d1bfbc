import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, SinkError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { createWarehouse } from '../../src/sinks/create-warehouse.js';
import { SnowpipeStreamingWarehouse } from '../../src/sinks/snowpipe-streaming-sink.js';
import { standinFixture, type StandinFixture } from '../support/snowflake-standin/fixture.js';
import { topicIdOf, track } from '../support/warehouse-records.js';
import { warehouseConformance } from '../support/warehouse-conformance.js';
import { eventsWarehouseConformance } from '../support/events-warehouse-conformance.js';

/** The channel of a partition of a test topic (topic ids as `rec()` makes them). */
const channel = (topic: string, partition: number) => `${topic}-${topicIdOf(topic)}-${partition}`;

/** SNOWFLAKE_INGEST=streaming against the stand-in's Snowpipe Streaming REST endpoints. */
let fx: StandinFixture;
const ready = standinFixture().then((f) => (fx = f));
afterAll(async () => {
  await ready;
  await fx.close();
});

warehouseConformance(
  'snowflake stand-in, Snowpipe Streaming',
  async () => {
    await ready;
    return createWarehouse(
      fx.config({ SNOWFLAKE_INGEST: 'streaming', WAREHOUSE_TABLE: 'positions_stream' }).warehouse,
      silentLogger,
    );
  },
  { appendOnly: true },
);

eventsWarehouseConformance('snowflake stand-in, streaming mode (events by MERGE)', async () => {
  await ready;
  const config = fx.config({ SNOWFLAKE_INGEST: 'streaming', WAREHOUSE_TABLE: 'positions_stream' }).warehouse;
  return { config, positions: await createWarehouse(config, silentLogger) };
});

describe('snowpipe streaming against the stand-in', () => {
  beforeAll(async () => {
    await ready;
  });

  function sink(table: string, overrides: Parameters<StandinFixture['config']>[0] = {}) {
    return new SnowpipeStreamingWarehouse({
      config: fx.config({ SNOWFLAKE_INGEST: 'streaming', ...overrides }).warehouse.snowflake!,
      table,
      driver: { loginRetries: 0 },
      retry: { retries: 0 },
      statementTimeoutMs: 3000,
      commitPollMs: 20,
    });
  }

  async function stored(table: string, topic: string): Promise<{ n: number; distinct: number }> {
    const [[n, distinct]] = (await fx.standin.engine.query(
      `SELECT COUNT(*), COUNT(DISTINCT (kafka_partition, kafka_offset)) FROM ${table} WHERE kafka_topic = '${topic}'`,
    )) as [[bigint, bigint]];
    return { n: Number(n), distinct: Number(distinct) };
  }

  it('password auth is refused at start for streaming, naming SNOWFLAKE_INGEST', () => {
    expect(() =>
      fx.config({
        SNOWFLAKE_INGEST: 'streaming',
        SNOWFLAKE_USER: 'pw_user',
        SNOWFLAKE_PRIVATE_KEY_PATH: undefined,
        SNOWFLAKE_PASSWORD: fx.password,
      }),
    ).toThrow(ConfigError);
  });

  it('a key the user does not have: the JWT is refused by the hostname endpoint, not retried forever', async () => {
    const wh = sink('positions_s1', { SNOWFLAKE_PRIVATE_KEY_PATH: fx.strangerKeyFile });
    // The SQL login refuses it first (390144), naming the key variable.
    await expect(wh.ready()).rejects.toThrow(/SNOWFLAKE_PRIVATE_KEY_PATH/);
    await wh.close();
  });

  it('waits for the commit: a write resolves only once the channel reports its last offset committed', async () => {
    const wh = sink('positions_s2');
    await wh.ready();
    fx.standin.streaming.commitDelayMs = 300;
    try {
      const started = Date.now();
      expect(await wh.write(track('s-commit', 'v', 50))).toEqual({
        inserted: 50,
        duplicates: 0,
        positionDuplicates: 0,
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(280);
      expect(fx.standin.streaming.committedToken(channel('s-commit', 0))).toBe('49');
    } finally {
      fx.standin.streaming.commitDelayMs = 0;
    }
    await wh.close();
  });

  it('an invalidated channel is reopened; rows resume after the committed offset token, none twice', async () => {
    const wh = sink('positions_s3');
    await wh.ready();
    await wh.write(track('s-inval', 'v', 30));
    fx.standin.streaming.invalidate(channel('s-inval', 0));
    const batch = track('s-inval', 'v', 30, 30);
    await expect(wh.write(batch)).rejects.toMatchObject({ retriable: true });
    // The processor retries the same batch.
    expect(await wh.write(batch)).toEqual({ inserted: 30, duplicates: 0, positionDuplicates: 0 });
    expect(await stored('positions_s3', 's-inval')).toEqual({ n: 60, distinct: 60 });
    await wh.close();
  });

  it('an answer lost after the append: the channel is reopened and nothing is loaded twice', async () => {
    const wh = sink('positions_s4');
    await wh.ready();
    const batch = track('s-lost', 'v', 40);
    fx.standin.streaming.failNextAppends('lose-answer');
    const err = await wh.write(batch).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SinkError);
    expect((err as SinkError).retriable).toBe(true);
    // Committed server-side despite the lost answer: the retry finds it all there.
    expect(await wh.write(batch)).toEqual({ inserted: 0, duplicates: 40, positionDuplicates: 0 });
    fx.standin.streaming.failNextAppends('http-503');
    await expect(wh.write(track('s-lost', 'v', 10, 40))).rejects.toMatchObject({ retriable: true });
    expect(await wh.write(track('s-lost', 'v', 10, 40))).toEqual({
      inserted: 10,
      duplicates: 0,
      positionDuplicates: 0,
    });
    expect(await stored('positions_s4', 's-lost')).toEqual({ n: 50, distinct: 50 });
    await wh.close();
  });

  it('a hung append fails retriably at the deadline', async () => {
    const wh = sink('positions_s5');
    await wh.ready();
    fx.standin.streaming.failNextAppends('hang');
    const started = Date.now();
    await expect(wh.write(track('s-hang', 'v', 5))).rejects.toMatchObject({ retriable: true });
    expect(Date.now() - started).toBeLessThan(6000);
    expect(await wh.write(track('s-hang', 'v', 5))).toEqual({
      inserted: 5,
      duplicates: 0,
      positionDuplicates: 0,
    });
    await wh.close();
  });

  it('committedOffsets: where each partition resumes, from the channels (a new sink, as after a restart)', async () => {
    const first = sink('positions_s6');
    await first.ready();
    await first.write([...track('s-resume', 'v', 25), ...track('s-resume', 'w', 7, 0, 2)]);
    await first.close();
    const second = sink('positions_s6');
    await second.ready();
    const source = { topic: 's-resume', topicId: topicIdOf('s-resume') };
    expect(await second.committedOffsets(source, [0, 1, 2])).toEqual([
      { partition: 0, offset: '25' },
      { partition: 2, offset: '7' },
    ]);
    await second.close();
  });
});
