import type { Counter } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { SinkError } from '../../src/errors.js';
import type { WarehouseSink } from '../../src/sinks/warehouse-sink.js';
import {
  clearRedisPrefix,
  createTestTopics,
  deleteTestTopics,
  eventually,
  testConfig,
} from '../support/env.js';
import {
  committedOffsets,
  fleetPositions,
  fullyCommitted,
  newestPerVehicle,
  produce,
  startTestPipeline,
  testRegistry,
  type TestPipeline,
} from '../support/processor-env.js';
import { TcpProxy } from '../support/tcp-proxy.js';

/** A warehouse whose ping and writes fail with `failure()` whenever it returns an error. */
function failingWarehouse(name: string, failure: () => Error | undefined): WarehouseSink {
  const check = async () => {
    const err = failure();
    if (err) throw err;
  };
  return {
    name,
    ready: async () => undefined,
    ping: check,
    write: async (rows) => {
      await check();
      return { inserted: rows.length, duplicates: 0, positionDuplicates: 0 };
    },
    close: async () => undefined,
  };
}

const MAX_UNFLUSHED = 64 * 1024;
const MAX_POLL = 100;

describe('processor while Redis is unreachable (real Redis behind a cut TCP proxy)', () => {
  const config = testConfig({
    BATCH_MAX_WAIT_MS: '200',
    BATCH_MAX_BYTES: '16384',
    MAX_UNFLUSHED_BYTES: String(MAX_UNFLUSHED),
    MAX_POLL_RECORDS: String(MAX_POLL),
    HEARTBEAT_INTERVAL_MS: '500',
  });
  const registry = testRegistry();
  let proxy: TcpProxy;
  let pipeline: TestPipeline | undefined;

  afterAll(async () => {
    await pipeline?.close();
    await proxy?.close();
    await clearRedisPrefix(config);
    await deleteTestTopics(config);
  });

  it('retries, commits nothing, pauses fetching at MAX_UNFLUSHED_BYTES, drops nothing, resumes on recovery', async () => {
    await createTestTopics(config);
    const redis = new URL(config.redis.url);
    proxy = await TcpProxy.start(redis.hostname, Number(redis.port));
    pipeline = await startTestPipeline(config, {
      registry,
      table: {
        url: `redis://127.0.0.1:${proxy.port}`,
        connectTimeoutMs: 500,
        commandTimeoutMs: 1000,
        maxReconnectDelayMs: 200,
      },
    });
    const { table, warehouse, processor } = pipeline;

    const positions = fleetPositions(100, 40); // 4000 records, ~100 bytes each: far above 64 KiB
    await produce(config, positions.slice(0, 100));
    await eventually(() => fullyCommitted(config), 20_000);
    const before = await committedOffsets(config);

    proxy.cut();
    await produce(config, positions.slice(100), { chunk: 500 });
    await eventually(() => processor.health().paused, 30_000);

    const health = processor.health();
    expect(health.unflushedBytes).toBeGreaterThanOrEqual(MAX_UNFLUSHED);
    // Each step hands on at most one chunk (≤ MAX_POLL_RECORDS) past the limit.
    expect(health.unflushedBytes).toBeLessThan(MAX_UNFLUSHED + MAX_POLL * 200);
    expect(processor.source.recordsRead).toBeLessThan(positions.length);
    expect((await committedOffsets(config)).committed).toEqual(before.committed);
    // The first table write only fails at its command timeout (1 s): fetching may pause before that.
    const tableRetries = async () =>
      (await (registry.getSingleMetric('fleet_processor_sink_retries_total') as Counter).get()).values.find(
        (v) => v.labels.sink === 'table',
      )?.value ?? 0;
    await eventually(async () => (await tableRetries()) > 0, 10_000);
    expect(processor.state).toBe('RUNNING');

    proxy.restore();
    await eventually(() => fullyCommitted(config), 60_000);
    expect(await warehouse.count({ topic: config.topic.name })).toBe(positions.length);
    const newest = newestPerVehicle(positions);
    const states = await table.getMany([...newest.keys()]);
    expect(states.map((s) => s?.ts)).toEqual([...newest.values()].map((p) => p.ts));
    expect(processor.health().paused).toBe(false);
  }, 120_000);

  it('stops on a fatal sink error (non-retriable write, ping fails too) without committing it', async () => {
    const fatalConfig = testConfig({ BATCH_MAX_WAIT_MS: '100', HEARTBEAT_INTERVAL_MS: '500' });
    await createTestTopics(fatalConfig);
    const denied = new SinkError('snowflake', 'JWT token is invalid', { retriable: false });
    const fatal = await startTestPipeline(fatalConfig, {
      registry,
      processor: { warehouse: failingWarehouse('broken', () => denied) },
    });
    try {
      const broken = fatal.processor;
      await produce(fatalConfig, fleetPositions(5, 2));
      await expect(broken.done).rejects.toThrow(/warehouse: unusable: snowflake: JWT token is invalid/);
      expect(broken.state).toBe('FAILED');
      const { committed } = await committedOffsets(fatalConfig);
      expect([...committed.values()].every((o) => o < 0n)).toBe(true);
    } finally {
      await fatal.table.clear();
      await fatal.close();
      await deleteTestTopics(fatalConfig);
    }
  });

  it('a sink failure while draining ends FAILED: done rejects, the stop is not clean, nothing committed', async () => {
    // Windows stay open until the stop flushes them; the warehouse breaks just before.
    const drainConfig = testConfig({ BATCH_MAX_WAIT_MS: '600000', HEARTBEAT_INTERVAL_MS: '500' });
    await createTestTopics(drainConfig);
    const denied = new SinkError('snowflake', 'disk full', { retriable: false });
    let broken = false;
    const writes: number[] = [];
    const drain = await startTestPipeline(drainConfig, {
      registry,
      processor: {
        warehouse: {
          ...failingWarehouse('breaks-on-stop', () => (broken ? denied : undefined)),
          write: async (rows) => {
            if (broken) throw denied;
            writes.push(rows.length);
            return { inserted: rows.length, duplicates: 0, positionDuplicates: 0 };
          },
        },
      },
    });
    try {
      const draining = drain.processor;
      await produce(drainConfig, fleetPositions(5, 2));
      await eventually(() => draining.health().unflushedBytes > 0, 20_000);
      broken = true;
      const report = await draining.stop({ timeoutMs: 10_000 });
      expect(report.clean).toBe(false);
      expect(String(report.error)).toMatch(/unusable: snowflake: disk full/);
      await expect(draining.done).rejects.toThrow(/unusable: snowflake: disk full/);
      expect(draining.state).toBe('FAILED');
      expect(writes).toEqual([]);
      const { committed } = await committedOffsets(drainConfig);
      expect([...committed.values()].every((o) => o < 0n)).toBe(true);
    } finally {
      await drain.table.clear();
      await drain.close();
      await deleteTestTopics(drainConfig);
    }
  });
});
