import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Position } from '../../src/domain/position.js';
import type { PositionRecord } from '../../src/domain/records.js';
import { loggedTable } from '../../src/state/logged-state-table.js';
import type { StateChangelog } from '../../src/state/state-changelog.js';
import { stateJson } from '../../src/state/upsert-script.js';
import { changelogTopicPlan, positionTopicPlan } from '../../src/kafka/topic-admin.js';
import { silentLogger } from '../../src/logger.js';
import { runReplay } from '../../src/processor/replay.js';
import { createRedisStateTable, type RedisStateTable } from '../../src/state/redis-state-table.js';
import {
  clearRedisPrefix,
  createTestTopics,
  deleteTestTopics,
  eventually,
  testConfig,
  testKafka,
} from '../support/env.js';
import { forceCompaction } from '../support/compaction.js';
import { UNKNOWN_TOPIC_ID } from '../../src/kafka/topic-id.js';
import {
  fastConsumerRetry,
  fastRetry,
  fullyCommitted,
  produce,
  startTestPipeline,
  testRegistry,
} from '../support/processor-env.js';

const VEHICLES = 60;
const LATE_MS = 60_000;

/** Vehicle `v` at time t (the newest), then a late report from t − 60 s written after it. */
function lateReports(now: number): { written: Position[]; newest: Map<string, Position> } {
  const written: Position[] = [];
  const newest = new Map<string, Position>();
  for (let v = 0; v < VEHICLES; v++) {
    const t = now - 120_000 + v;
    const early = { vehicleId: `late-${v}`, ts: t - 10_000, lat: 50, lon: 10 + v / 100 };
    const current = { vehicleId: `late-${v}`, ts: t, lat: 51 + v / 1000, lon: 11 + v / 100, speed: 42 };
    const late = { vehicleId: `late-${v}`, ts: t - LATE_MS, lat: 49, lon: 9 + v / 100, speed: 7 };
    written.push(early, current, late);
    newest.set(current.vehicleId, current);
  }
  return { written, newest };
}

async function expectTable(table: RedisStateTable, want: Map<string, Position>): Promise<void> {
  const ids = [...want.keys()];
  const states = await table.getMany(ids);
  states.forEach((state, i) => {
    const p = want.get(ids[i]!)!;
    expect(state, ids[i]).toMatchObject({ vehicleId: p.vehicleId, ts: p.ts, lat: p.lat, lon: p.lon });
  });
}

describe('table changelog: restore after late reports and compaction', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fleet-changelog-'));
  const config = testConfig({ DUCKDB_PATH: path.join(dir, 'fleet.duckdb'), BATCH_MAX_WAIT_MS: '200' });
  const admin = testKafka(config).admin();
  let table: RedisStateTable;

  beforeAll(async () => {
    await admin.connect();
    await createTestTopics(config, admin);
    table = createRedisStateTable({
      partitions: config.topic.partitions,
      ...config.redis,
      registry: testRegistry(),
    });
  });
  afterAll(async () => {
    await table.close();
    await admin.disconnect();
    await clearRedisPrefix(config);
    await deleteTestTopics(config);
    rmSync(dir, { recursive: true, force: true });
  });

  it('restores the newest acknowledged position where the raw topic only kept a late report', async () => {
    const { written, newest } = lateReports(Date.now());
    await produce(config, written, { chunk: 30 });
    const pipeline = await startTestPipeline(config);
    await eventually(() => fullyCommitted(config), 60_000);
    await pipeline.close();
    await expectTable(table, newest);

    // Positions acknowledged after the processors stopped: only the topic has them (uncommitted).
    const after = [...newest.values()].slice(0, 10).map((p) => ({ ...p, ts: p.ts + 1000, lat: p.lat + 0.5 }));
    const brokers = (await admin.describeCluster()).brokers.length;
    const changelog = config.topic.changelog!;
    await forceCompaction(testKafka(config), [
      positionTopicPlan(config.topic, brokers),
      changelogTopicPlan({ ...config.topic, changelog }, brokers),
    ]);
    await produce(config, after);

    // The raw topic now holds only each vehicle's late report (plus `after`): a replay of it
    // restores the older position — the reason for the changelog.
    await clearRedisPrefix(config);
    await runReplay(
      config,
      { from: 'earliest', rebuild: true },
      { logger: silentLogger, registry: testRegistry(), retry: fastRetry, consumerRetry: fastConsumerRetry },
    );
    const late = new Map(
      written.filter((p) => p.ts === newest.get(p.vehicleId)!.ts - LATE_MS).map((p) => [p.vehicleId, p]),
    );
    for (const p of after) late.set(p.vehicleId, p);
    await expectTable(table, late);

    // Redis wiped; restore from the changelog, then the topic after the committed offsets.
    await clearRedisPrefix(config);
    const result = await runReplay(
      config,
      { from: 'changelog', rebuild: true },
      { logger: silentLogger, registry: testRegistry(), retry: fastRetry, consumerRetry: fastConsumerRetry },
    );
    expect(result.complete).toBe(true);
    expect(result.restored).toEqual({ records: VEHICLES, applied: VEHICLES });
    expect(result.records).toBe(after.length + config.topic.partitions); // the tail and the roll markers
    const want = new Map(newest);
    for (const p of after) want.set(p.vehicleId, p);
    await expectTable(table, want);
    expect(await table.count()).toBe(VEHICLES);
  }, 300_000);
});

describe('logged table: what reaches the changelog', () => {
  const config = testConfig();
  const table = createRedisStateTable({ partitions: 3, ...config.redis, registry: testRegistry() });
  const logged: string[][] = [];
  // The state JSON the table hands over (built once for Redis and the changelog) must be exactly
  // what it stored for each record.
  const handedOver: { stored: string; built: string }[] = [];
  const changelog: StateChangelog = {
    append: (records, updatedAt, states) => {
      logged.push(records.map((r) => `${r.position.vehicleId}@${r.position.ts}/${r.offset}`).sort());
      records.forEach((r, i) =>
        handedOver.push({ stored: states?.[i] ?? 'none', built: stateJson(r, updatedAt) }),
      );
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  };
  const rec = (id: string, ts: number, offset: number): PositionRecord => ({
    topic: config.topic.name,
    topicId: UNKNOWN_TOPIC_ID,
    partition: 0,
    offset: String(offset),
    kafkaTs: ts,
    bytes: 100,
    position: { vehicleId: id, ts, lat: 50, lon: 10 },
  });
  afterAll(async () => {
    await table.clear();
    await table.close();
  });

  it('logs accepted updates and a re-read of the held record, never an older one', async () => {
    const t = Date.now() - 60_000;
    const logging = loggedTable(table, changelog);
    expect(await logging.upsert([rec('a', t, 1), rec('b', t, 2)])).toEqual({ applied: 2, ignored: 0 });
    // Late (older) report of a: ignored and not logged; b moves forward.
    await logging.upsert([rec('a', t - 60_000, 3), rec('b', t + 1, 4)]);
    // A restart re-reads a's record at offset 1 (its changelog write may have been lost): logged again.
    expect(await logging.upsert([rec('a', t, 1)])).toEqual({ applied: 0, ignored: 1 });
    expect(logged).toEqual([[`a@${t}/1`, `b@${t}/2`], [`b@${t + 1}/4`], [`a@${t}/1`]]);
    expect(handedOver).toHaveLength(4);
    for (const { stored, built } of handedOver) expect(stored).toBe(built);
    // What Redis holds for b is the JSON handed over with its last accepted record.
    expect(await table.get('b')).toEqual(JSON.parse(handedOver[2]!.stored));
  });
});
