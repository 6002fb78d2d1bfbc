import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/index.js';
import { fetchTopicId } from '../../src/kafka/topic-id.js';
import { standinFixture, type StandinFixture } from '../support/snowflake-standin/fixture.js';
import {
  createTestTopics,
  deleteTestTopics,
  eventually,
  testConfig,
  testKafka,
  uniqueSuffix,
} from '../support/env.js';
import {
  committedOffsets,
  fleetPositions,
  fullyCommitted,
  produce,
  startTestPipeline,
} from '../support/processor-env.js';

/**
 * SNOWFLAKE_INGEST=streaming end to end on real Kafka: the channel's committed offset token, not
 * the consumer group, says where each partition resumes. Rows the channel holds but whose Kafka
 * offsets were never committed must be neither loaded twice nor skipped.
 */
let fx: StandinFixture;
let config: Readonly<Config>;
let table: string;
/** The topic's id: channels are named `<topic>-<topic id>-<partition>`. */
let topicId: string;

beforeAll(async () => {
  fx = await standinFixture();
  table = `positions_resume_${uniqueSuffix()}`;
  const base = testConfig({ BATCH_MAX_WAIT_MS: '200', STATE_FLUSH_MAX_WAIT_MS: '20', TOPIC_PARTITIONS: '3' });
  const streaming = fx.config({ SNOWFLAKE_INGEST: 'streaming', WAREHOUSE_TABLE: table });
  config = { ...base, warehouse: streaming.warehouse };
  await createTestTopics(config);
  topicId = await fetchTopicId(testKafka(config), config.topic.name);
}, 120_000);

afterAll(async () => {
  await deleteTestTopics(config).catch(() => undefined);
  await fx?.close();
});

/** Rows in the stand-in's table: all, distinct (partition, offset), and the count per partition. */
async function stored(): Promise<{ n: number; distinct: number; perPartition: Map<number, number> }> {
  const rows = (await fx.standin.engine.query(
    `SELECT kafka_partition, COUNT(*), COUNT(DISTINCT kafka_offset) FROM ${table}
     WHERE kafka_topic = '${config.topic.name}' GROUP BY kafka_partition`,
  )) as [bigint, bigint, bigint][];
  const perPartition = new Map(rows.map(([p, , d]) => [Number(p), Number(d)]));
  return {
    n: rows.reduce((a, [, n]) => a + Number(n), 0),
    distinct: rows.reduce((a, [, , d]) => a + Number(d), 0),
    perPartition,
  };
}

/** Runs a processor until every produced record is committed in Kafka and stored; returns its log. */
async function runUntilCaughtUp(expected: number, during?: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
  const pipeline = await startTestPipeline(config, { logger });
  try {
    await during?.();
    await eventually(
      async () => (await stored()).distinct >= expected && (await fullyCommitted(config)),
      90_000,
      250,
    );
  } finally {
    await pipeline.close();
  }
  return lines;
}

const channel = (p: number) => `${config.topic.name}-${topicId}-${p}`;

describe('Snowpipe Streaming resumes from the channel offset token (real Kafka)', () => {
  it('after a lost Kafka commit and after invalidated channels, every record is stored exactly once', async () => {
    // 1. Load N records; channel tokens and group offsets agree at the end.
    await produce(config, fleetPositions(30, 4, 'first'));
    await runUntilCaughtUp(120);
    const { ends } = await committedOffsets(config);
    for (const [p, end] of ends) {
      expect(fx.standin.streaming.committedToken(channel(p)), `channel of partition ${p}`).toBe(
        end === 0n ? null : String(end - 1n),
      );
    }

    // 2. The group's commits are lost (reset to earliest) while the channels keep their rows.
    const admin = testKafka(config).admin();
    await admin.connect();
    try {
      await admin.resetOffsets({
        groupId: config.consumer.groupId,
        topic: config.topic.name,
        earliest: true,
      });
    } finally {
      await admin.disconnect();
    }
    expect([...(await committedOffsets(config)).committed.values()].every((o) => o <= 0n)).toBe(true);

    // 3. More records; the restarted processor seeks each partition to its token + 1.
    await produce(config, fleetPositions(30, 2, 'second'));
    const log = await runUntilCaughtUp(180);
    const seeks = log
      .map((l) => JSON.parse(l) as { msg: string; partition?: number; offset?: string })
      .filter((l) => l.msg === 'resuming where the warehouse committed');
    const expectedSeeks = [...ends].filter(([, end]) => end > 0n).map(([p, end]) => [p, String(end)]);
    expect(seeks.map((s) => [s.partition, s.offset]).sort()).toEqual(expectedSeeks.sort());
    let now = await stored();
    expect(now).toMatchObject({ n: 180, distinct: 180 });

    // 4. Every channel is invalidated under a running processor that has been writing to it: it
    //    reopens, resumes after the committed token, and loads the rest once.
    const reopened = await runUntilCaughtUp(240, async () => {
      await produce(config, fleetPositions(30, 1, 'third'));
      await eventually(async () => (await stored()).distinct >= 210, 90_000, 250);
      for (const p of ends.keys()) fx.standin.streaming.invalidate(channel(p));
      await produce(config, fleetPositions(30, 1, 'fourth'));
    });
    expect(reopened.some((l) => l.includes('channel reopened: resuming after its committed offset'))).toBe(
      true,
    );
    now = await stored();
    expect(now).toMatchObject({ n: 240, distinct: 240 });
    // Nothing lost: each partition holds every offset below its end.
    const after = await committedOffsets(config);
    for (const [p, end] of after.ends)
      expect(now.perPartition.get(p) ?? 0, `partition ${p}`).toBe(Number(end));
  }, 240_000);
});
