import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fetchTopicId } from '../../src/kafka/topic-id.js';
import {
  clearRedisPrefix,
  createTestTopics,
  deleteTestTopics,
  eventually,
  testConfig,
  testKafka,
} from '../support/env.js';
import { fleetPositions, fullyCommitted, produce, startTestPipeline } from '../support/processor-env.js';

/**
 * Issue 16 #4: a topic deleted and re-created under the same name restarts its offsets at 0. Rows
 * keyed on (topic, partition, offset) alone took the new topic's records for re-deliveries and
 * dropped them while their offsets were committed. With the topic id in the key nothing is lost.
 */
const dir = mkdtempSync(path.join(tmpdir(), 'fleet-recreate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a re-created topic', () => {
  it('produce N, delete and re-create the topic, produce M at the same offsets: N+M rows', async () => {
    const config = testConfig({
      DUCKDB_PATH: path.join(dir, 'fleet.duckdb'),
      BATCH_MAX_WAIT_MS: '300',
      STATE_FLUSH_MAX_WAIT_MS: '20',
      HEARTBEAT_INTERVAL_MS: '500',
    });
    const topic = config.topic.name;
    const kafka = testKafka(config);
    try {
      await createTestTopics(config);
      const firstId = await fetchTopicId(kafka, topic);
      const before = fleetPositions(20, 10, 'rc'); // N = 200
      await produce(config, before);
      let pipeline = await startTestPipeline(config);
      await eventually(async () => (await pipeline.warehouse.count({ topic })) === before.length, 60_000);
      await eventually(() => fullyCommitted(config), 30_000);
      await pipeline.close();

      await deleteTestTopics(config);
      // Deletion is asynchronous: re-create until the broker takes it (a new id is the proof).
      let secondId = firstId;
      await eventually(async () => {
        await createTestTopics(config).catch(() => undefined);
        secondId = await fetchTopicId(kafka, topic).catch(() => firstId);
        return secondId !== firstId;
      }, 60_000);
      // Later positions of the same vehicles; more than before, so a resume at the old offsets
      // would skip some of them too.
      const after = fleetPositions(20, 15, 'rc').map((p) => ({ ...p, ts: p.ts + 1_000 })); // M = 300
      expect(Math.min(...after.map((p) => p.ts))).toBeGreaterThan(Math.max(...before.map((p) => p.ts)));
      await produce(config, after);

      pipeline = await startTestPipeline(config);
      try {
        const total = before.length + after.length;
        await eventually(async () => (await pipeline.warehouse.count({ topic })) === total, 60_000);
        await eventually(() => fullyCommitted(config), 30_000);
        expect(await pipeline.warehouse.count({ topic })).toBe(total);
        // Every vehicle's history holds both incarnations, at overlapping offsets.
        const rows = await pipeline.warehouse.history({
          vehicleId: 'rc-3',
          from: 0,
          to: Date.now() + 60_000,
        });
        expect(rows).toHaveLength(25);
        const offsets = (n: number) =>
          new Set(rows.slice(n === 0 ? 0 : 10, n === 0 ? 10 : 25).map((r) => r.offset));
        expect([...offsets(1)].some((o) => offsets(0).has(o))).toBe(true);
      } finally {
        await pipeline.close();
      }
    } finally {
      await clearRedisPrefix(config);
      await deleteTestTopics(config);
    }
  }, 240_000);
});
