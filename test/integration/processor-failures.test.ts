import type { Counter } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { SinkError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { createWarehouse } from '../../src/sinks/create-warehouse.js';
import type { Warehouse } from '../../src/sinks/warehouse-sink.js';
import { createRedisStateTable, type RedisStateTable } from '../../src/state/redis-state-table.js';
import { startProcessor, type ProcessorHandle } from '../../src/topology/processor.js';
import {
  clearRedisPrefix,
  createTestTopics,
  deleteTestTopics,
  eventually,
  testConfig,
} from '../support/env.js';
import {
  committedOffsets,
  fastConsumerRetry,
  fastRetry,
  fleetPositions,
  fullyCommitted,
  newestPerVehicle,
  produce,
  testRegistry,
} from '../support/processor-env.js';
import { TcpProxy } from '../support/tcp-proxy.js';

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
  let table: RedisStateTable;
  let warehouse: Warehouse;
  let processor: ProcessorHandle | undefined;

  afterAll(async () => {
    await processor?.stop();
    await table?.close();
    await warehouse?.close();
    await proxy?.close();
    await clearRedisPrefix(config);
    await deleteTestTopics(config);
  });

  it('retries, commits nothing, pauses fetching at MAX_UNFLUSHED_BYTES, drops nothing, resumes on recovery', async () => {
    await createTestTopics(config);
    const redis = new URL(config.redis.url);
    proxy = await TcpProxy.start(redis.hostname, Number(redis.port));
    table = createRedisStateTable({
      url: `redis://127.0.0.1:${proxy.port}`,
      prefix: config.redis.prefix,
      registry,
      connectTimeoutMs: 500,
      commandTimeoutMs: 1000,
      maxReconnectDelayMs: 200,
    });
    warehouse = await createWarehouse(config.warehouse, silentLogger);
    await warehouse.ready();
    processor = await startProcessor(config, {
      logger: silentLogger,
      registry,
      table,
      warehouse,
      retry: fastRetry,
      consumerRetry: fastConsumerRetry,
    });

    const positions = fleetPositions(100, 40); // 4000 records, ~100 bytes each: far above 64 KiB
    await produce(config, positions.slice(0, 100));
    await eventually(() => fullyCommitted(config), 20_000);
    const before = await committedOffsets(config);

    proxy.cut();
    await produce(config, positions.slice(100), { chunk: 500 });
    await eventually(() => processor!.health().paused, 30_000);

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
    const fatalTable = createRedisStateTable({ ...fatalConfig.redis, registry });
    try {
      const broken = await startProcessor(fatalConfig, {
        logger: silentLogger,
        registry,
        table: fatalTable,
        warehouse: {
          name: 'broken',
          ready: async () => undefined,
          ping: async () => Promise.reject(denied),
          write: async () => Promise.reject(denied),
          close: async () => undefined,
        },
        retry: fastRetry,
        consumerRetry: fastConsumerRetry,
      });
      await produce(fatalConfig, fleetPositions(5, 2));
      await expect(broken.done).rejects.toThrow(/warehouse: unusable: snowflake: JWT token is invalid/);
      expect(broken.state).toBe('STOPPED');
      const { committed } = await committedOffsets(fatalConfig);
      expect([...committed.values()].every((o) => o < 0n)).toBe(true);
    } finally {
      await fatalTable.clear();
      await fatalTable.close();
      await deleteTestTopics(fatalConfig);
    }
  });
});
