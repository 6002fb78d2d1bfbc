import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import type { Position } from '../../src/domain/position.js';
import { newDevice } from '../../src/domain/device.js';
import { createApiServer } from '../../src/api/server.js';
import { openDeviceRegistry, type OpenDeviceRegistry } from '../../src/ingest/gateway/device-registry.js';
import { createGatewayServer } from '../../src/ingest/gateway/server.js';
import { createPublisher, type PositionPublisher } from '../../src/ingest/publisher.js';
import { silentLogger } from '../../src/logger.js';
import { startProcessor, type ProcessorHandle } from '../../src/processor/processor.js';
import { createWarehouse } from '../../src/sinks/create-warehouse.js';
import type { Warehouse } from '../../src/sinks/warehouse-sink.js';
import { createRedisStateTable, type RedisStateTable } from '../../src/state/redis-state-table.js';
import {
  clearRedisPrefix,
  createTestTopics,
  deleteTestTopics,
  eventually,
  testConfig,
  uniqueSuffix,
} from '../support/env.js';
import { fastConsumerRetry, fastRetry, produce } from '../support/processor-env.js';
import { readTopic } from '../support/read-topic.js';

const TOKEN = 'truck-token-0123456789';
const API_KEY = 'k'.repeat(32);

describe('gateway security on real Kafka + Redis (issue 19 #11)', () => {
  const config = testConfig({
    BATCH_MAX_WAIT_MS: '300',
    STATE_FLUSH_MAX_WAIT_MS: '20',
    HEARTBEAT_INTERVAL_MS: '500',
    GATEWAY_UNKNOWN_DEVICES: 'reject',
    GATEWAY_DEVICE_RATE: '1',
    GATEWAY_DEVICE_BURST: '3',
    GATEWAY_ADDRESS_RATE: '1000',
    GATEWAY_ADDRESS_BURST: '1000',
    API_KEYS: API_KEY,
    API_AUTH: 'required',
  });
  const suffix = uniqueSuffix();
  const truck = `truck-${suffix}`;
  const chatty = `chatty-${suffix}`;
  const ghost = `ghost-${suffix}`;
  const metrics = new Registry();
  let table: RedisStateTable;
  let warehouse: Warehouse;
  let processor: ProcessorHandle;
  let publisher: PositionPublisher;
  let devices: OpenDeviceRegistry;
  let gateway: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    await createTestTopics(config);
    table = createRedisStateTable({
      partitions: config.topic.partitions,
      ...config.redis,
      registry: new Registry(),
    });
    warehouse = await createWarehouse(config.warehouse, silentLogger);
    await warehouse.ready();
    processor = await startProcessor(config, {
      logger: silentLogger,
      registry: new Registry(),
      table,
      warehouse,
      retry: fastRetry,
      consumerRetry: fastConsumerRetry,
    });
    devices = openDeviceRegistry(config, silentLogger);
    await devices.store.put(newDevice(truck, { token: TOKEN }));
    await devices.store.put(newDevice(chatty, {}));
    publisher = createPublisher(config, { logger: silentLogger, registry: new Registry() });
    gateway = await createGatewayServer({
      config,
      publisher,
      registry: metrics,
      maxFutureMs: config.maxFutureSkewMs,
      security: devices.security,
    });
    base = await gateway.listen({ host: '127.0.0.1', port: 0 });
  }, 120_000);
  afterAll(async () => {
    await gateway?.close();
    await publisher?.close();
    await processor?.stop();
    await devices?.close();
    await table?.close();
    await warehouse?.close();
    await clearRedisPrefix(config);
    await deleteTestTopics(config);
  });

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}/v1/positions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const osmand = (id: string, tsMs: number) =>
    fetch(`${base}/?id=${id}&lat=10&lon=10&timestamp=${Math.floor(tsMs / 1000)}`);
  const rejected = async (reason: string) =>
    (await metrics.getSingleMetric('fleet_gateway_rejected_total')?.get())?.values.find(
      (v) => v.labels.reason === reason,
    )?.value ?? 0;

  it('a forged report cannot move or freeze a vehicle; the registered device with its token moves it', async () => {
    const t0 = Date.now();
    const first = await post(
      { vehicleId: truck, ts: t0, lat: 52.5, lon: 13.4 },
      { authorization: `Bearer ${TOKEN}` },
    );
    expect(first.status).toBe(200);
    await eventually(async () => (await table.get(truck))?.ts === t0);

    // Future-dated (10 min): refused at the gateway, whoever sends it.
    const future = await osmand(truck, t0 + 600_000);
    expect(future.status).toBe(400);
    expect(await future.json()).toMatchObject({ code: 'future_timestamp', parameter: 'timestamp' });
    const futureNative = await post(
      { vehicleId: truck, ts: t0 + 600_000, lat: 0, lon: 0 },
      { 'x-device-token': TOKEN },
    );
    expect(futureNative.status).toBe(400);
    expect(await futureNative.json()).toMatchObject({ code: 'future_timestamp' });
    expect(await rejected('future_timestamp')).toBe(2);

    // In-window but unauthenticated: no token, a wrong token, an unregistered id.
    expect((await osmand(truck, t0 + 1000)).status).toBe(401);
    const wrong = await post(
      { vehicleId: truck, ts: t0 + 1000, lat: 0, lon: 0 },
      { 'x-device-token': 'x'.repeat(20) },
    );
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ code: 'bad_token' });
    const unknown = await osmand(ghost, t0);
    expect(unknown.status).toBe(403);
    expect(await unknown.json()).toMatchObject({ code: 'unknown_device' });
    expect(await rejected('bad_token')).toBe(2);
    expect(await rejected('unknown_device')).toBe(1);

    // Produced straight to the topic, past the gateway: the processor dead-letters it.
    await produce(config, [{ vehicleId: truck, ts: t0 + 600_000, lat: 0, lon: 0 } satisfies Position]);
    const dlq = await readTopic(
      { ...config, topic: { ...config.topic, name: config.topic.dlq } },
      { expected: 1 },
    );
    expect(dlq).toHaveLength(1);
    expect(dlq[0]!.headers['x-dlq-error-type']).toBe('EventTimeError');
    expect(dlq[0]!.headers['x-dlq-reason']).toMatch(/in the future/);

    // The vehicle is not frozen: the genuine next report (1 s later) moves it.
    const next = await post(
      { vehicleId: truck, ts: t0 + 1000, lat: 52.6, lon: 13.5 },
      { authorization: `Bearer ${TOKEN}` },
    );
    expect(next.status).toBe(200);
    await eventually(async () => (await table.get(truck))?.ts === t0 + 1000);
    expect(await table.get(truck)).toMatchObject({ lat: 52.6, lon: 13.5 });
  }, 60_000);

  it('answers 429 with Retry-After on a burst from one device', async () => {
    const now = Date.now();
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await osmand(chatty, now + i));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429, 429]);
    expect(Number(answers[3]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await answers[3]!.json()).toMatchObject({ code: 'rate_device' });
    expect(await rejected('rate_device')).toBe(2);
  });

  it('manages devices through /v1/devices behind the API key', async () => {
    const api = await createApiServer({
      config,
      table,
      warehouse,
      devices: devices.store,
      registry: new Registry(),
    });
    try {
      const headers = { 'x-api-key': API_KEY };
      expect((await api.inject({ method: 'GET', url: '/v1/devices' })).statusCode).toBe(401);
      const id = `api-dev-${suffix}`;
      const put = await api.inject({
        method: 'PUT',
        url: `/v1/devices/${id}`,
        headers,
        payload: { name: 'van', token: TOKEN },
      });
      expect(put.statusCode).toBe(201);
      expect(put.json()).toMatchObject({ id, name: 'van', hasToken: true });
      expect(JSON.stringify(put.json())).not.toContain(TOKEN);
      const list = await api.inject({ method: 'GET', url: '/v1/devices', headers });
      expect(list.json().devices.map((d: { id: string }) => d.id)).toEqual(
        expect.arrayContaining([id, truck, chatty]),
      );
      expect(
        (await api.inject({ method: 'PUT', url: `/v1/devices/${id}`, headers, payload: { token: 'short' } }))
          .statusCode,
      ).toBe(400);
      expect((await api.inject({ method: 'DELETE', url: `/v1/devices/${id}`, headers })).statusCode).toBe(
        204,
      );
      expect((await api.inject({ method: 'GET', url: `/v1/devices/${id}`, headers })).statusCode).toBe(404);
    } finally {
      await api.close();
    }
  });
});
