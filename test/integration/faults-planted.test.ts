import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { drive, type AckingPublisher } from '../../faults/driver.js';
import { AckLedger } from '../../faults/ledger.js';
import { PROCESSOR_ENV } from '../../faults/processor-crashes.js';
import { readRawTable } from '../../faults/redis-table.js';
import { runScenario } from '../../faults/run.js';
import { passed, type Check, type Scenario, type SuiteContext } from '../../faults/scenario.js';
import { Stage } from '../../faults/stage.js';
import { workloadPlan } from '../../faults/workload.js';
import { silentLogger } from '../../src/logger.js';
import { testConfig } from '../support/env.js';

/**
 * The fault suite must fail on purpose: a tiny scenario runs the real `fleet process` on the test
 * Kafka, Redis and a DuckDB file, then plants three defects — a publish that fails while no fault
 * is active, a warehouse row deleted, a Redis state overwritten with a raw HSET — and the
 * scenario's verdict must fail, naming each one.
 */
const home = mkdtempSync(path.join(tmpdir(), 'faults-planted-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

const suite: SuiteContext = {
  quick: true,
  runDir: home,
  logger: silentLogger,
  seed: 1,
  say: () => undefined,
  services: async () => {
    const test = testConfig();
    return { home, brokers: [...test.kafka.brokers], redisUrl: test.redis.url };
  },
};

const VICTIM = 'veh-00007';
let beforePlanting: Check[] = [];
const planted: { row?: string } = {};

async function deleteWarehouseRow(stage: Stage): Promise<string> {
  const row = (await stage.rows()).find((r) => r.vehicleId === 'veh-00003')!;
  const instance = await DuckDBInstance.create(stage.env.DUCKDB_PATH!);
  const connection = await instance.connect();
  try {
    await connection.run(
      `DELETE FROM ${stage.config.warehouse.table}
       WHERE kafka_topic = $1 AND kafka_partition = $2 AND kafka_offset = CAST($3 AS BIGINT)`,
      [stage.config.topic.name, row.partition, row.offset],
    );
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  return `${row.partition}:${row.offset}`;
}

async function overwriteState(stage: Stage): Promise<void> {
  const { url, prefix } = stage.config.redis;
  const shard = (await readRawTable(url, prefix, stage.config.topic.partitions)).find(
    (s) => s.states[VICTIM],
  )!;
  const state = JSON.parse(shard.states[VICTIM]!) as { lat: number };
  const redis = new Redis(url);
  try {
    await redis.hset(
      `${prefix}{p${shard.partition}}:states`,
      VICTIM,
      JSON.stringify({ ...state, lat: state.lat + 0.5 }),
    );
  } finally {
    redis.disconnect();
  }
}

const plantedDefects: Scenario = {
  id: 'planted-defects',
  number: 99,
  title: 'planted defects',
  async run(ctx) {
    const stage = new Stage(ctx, await ctx.services(1), 'planted', {
      ...PROCESSOR_ENV,
      TOPIC_PARTITIONS: '3',
    });
    await stage.setUp();
    const plan = workloadPlan({ total: 600, vehicles: 20 });
    const ledger = new AckLedger(plan.total);
    const real = stage.publisher();
    await real.connect();
    // Defect (c): the second publish call (seq 100..199) fails while no fault is active.
    let calls = 0;
    const publisher: AckingPublisher = {
      publish: (positions) =>
        calls++ === 1 ? Promise.reject(new Error('planted: publish refused')) : real.publish(positions),
      close: () => real.close(),
    };
    const processor = stage.start(['process']);
    try {
      const sending = { plan, publisher, ledger, batch: 100, maxInFlight: 1 };
      await drive({ ...sending, to: 300 });
      // Generous: a loaded machine takes long to start a `fleet process` child.
      await stage.committedOnce(300_000, processor);
      // A fault window in which failures would be allowed (none happens there).
      await ctx.faults.during('harmless fault', () => drive({ ...sending, from: 300 }));
      await stage.drained(300_000, processor);
      await processor.stop();
      beforePlanting = (await stage.verify(plan, ledger, await stage.rows())).checks;
      planted.row = await deleteWarehouseRow(stage); // defect (a)
      await overwriteState(stage); // defect (b)
      return await stage.verify(plan, ledger, await stage.rows());
    } finally {
      await processor.kill();
      await publisher.close();
      await stage.tearDown();
    }
  },
};

const failing = (checks: readonly Check[]) => checks.filter((c) => !c.ok);

describe('fault suite with planted defects (real Kafka, Redis, DuckDB, fleet process)', () => {
  it('fails the scenario, naming the record the warehouse misses, the vehicle Redis has wrong and the publish that failed outside a fault window', async () => {
    const outcome = await runScenario(plantedDefects, suite);
    expect(outcome.error).toBeUndefined();
    const result = outcome.result!;

    // Before planting (a) and (b), only the publish outside a window fails.
    expect(failing(beforePlanting).map((c) => c.name)).toEqual([
      'publishes failed only inside fault windows, within the bound',
    ]);

    expect(passed(result)).toBe(false);
    const byName = new Map(failing(result.checks).map((c) => [c.name, c.detail]));
    expect([...byName.keys()].sort()).toEqual(
      [
        'warehouse holds every acknowledged position once',
        'warehouse holds every valid record of the topic once, the DLQ every invalid one',
        'Redis table holds the newest position on the topic for every vehicle (raw read: states, GEO, last-seen)',
        'publishes failed only inside fault windows, within the bound',
      ].sort(),
    );
    expect(
      byName.get('warehouse holds every valid record of the topic once, the DLQ every invalid one'),
    ).toContain(`topic record ${planted.row} (veh-00003 @`);
    expect(
      byName.get(
        'Redis table holds the newest position on the topic for every vehicle (raw read: states, GEO, last-seen)',
      ),
    ).toContain(`${VICTIM}: state lat`);
    expect(byName.get('publishes failed only inside fault windows, within the bound')).toContain(
      '100 outside; outside: seq 100..199',
    );
    expect(result.figures).toMatchObject({ lost: 1, duplicated: 0, failedInFaults: 0 });
    expect(result.checks.find((c) => c.name === 'fault window(s) recorded')).toMatchObject({ ok: true });
  }, 900_000);
});
