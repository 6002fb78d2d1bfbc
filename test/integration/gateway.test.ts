import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { createGatewayServer } from '../../src/ingest/gateway/server.js';
import type { Position } from '../../src/domain/position.js';
import { createKafka } from '../../src/kafka/client.js';
import { silentLogger } from '../../src/logger.js';
import { createPublisher, PositionPublisher } from '../../src/ingest/publisher.js';
import { createTestTopics, deleteTestTopics, testConfig, uniqueSuffix } from '../support/env.js';
import { readTopic } from '../support/read-topic.js';

const nowS = Math.floor(Date.now() / 1000);

describe('ingest gateway on the real broker', () => {
  const config = testConfig();
  let publisher: PositionPublisher;
  let app: FastifyInstance;
  let base: string;
  const accepted: string[] = [];
  const rejectedIds: string[] = [];
  const id = (name: string) => `${name}-${uniqueSuffix()}`;

  beforeAll(async () => {
    await createTestTopics(config);
    publisher = createPublisher(config, { logger: silentLogger, registry: new Registry() });
    app = await createGatewayServer({ config, publisher, registry: new Registry() });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app.close();
    await publisher.close();
    await deleteTestTopics(config);
  });

  it('accepts Traccar Client OsmAnd requests: GET, POST with a query, POST with a form', async () => {
    const device = id('phone');
    const query = `id=${device}&timestamp=${nowS}&lat=52.520008&lon=13.404954&speed=10.5&bearing=91.5&altitude=41&accuracy=4.8&batt=87.0&charge=true&hdop=0.9&driverUniqueId=d-7`;
    const get = await fetch(`${base}/?${query}`);
    expect(get.status).toBe(200);
    expect(await get.text()).toBe('');
    const postQuery = await fetch(`${base}/?${query.replace(`${nowS}`, `${nowS + 1}`)}`, { method: 'POST' });
    expect(postQuery.status).toBe(200);
    const form = await fetch(`${base}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: query.replace(`timestamp=${nowS}`, `timestamp=${new Date((nowS + 2) * 1000).toISOString()}`),
    });
    expect(form.status).toBe(200);
    accepted.push(device, device, device);

    const records = (await readTopic(config, { expected: 3 })).filter((r) => r.key === device);
    const positions = records.map((r) => JSON.parse(r.value!) as Position);
    expect(positions.map((p) => p.ts)).toEqual([nowS * 1000, (nowS + 1) * 1000, (nowS + 2) * 1000]);
    expect(positions[0]).toEqual({
      vehicleId: device,
      ts: nowS * 1000,
      lat: 52.520008,
      lon: 13.404954,
      speed: 10.5 * 1.852,
      heading: 91.5,
      altitude: 41,
      accuracy: 4.8,
      battery: 87,
      attributes: { charge: true, hdop: 0.9, driverUniqueId: 'd-7' },
    });
  });

  it('accepts the Traccar Client JSON body', async () => {
    const device = id('tc-json');
    const timestamp = new Date(nowS * 1000 - 30_000).toISOString();
    const res = await fetch(`${base}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({
        location: {
          timestamp,
          coords: {
            latitude: 48.8584,
            longitude: 2.2945,
            accuracy: 12.5,
            speed: 13.9,
            heading: 270,
            altitude: 35.2,
          },
          is_moving: true,
          odometer: 15342,
          event: 'motionchange',
          battery: { level: 0.64, is_charging: true },
          activity: { type: 'in_vehicle' },
          extras: {},
        },
        device_id: device,
      }),
    });
    expect(res.status).toBe(200);
    accepted.push(device);
    const [record] = (await readTopic(config)).filter((r) => r.key === device);
    expect(JSON.parse(record!.value!)).toEqual({
      vehicleId: device,
      ts: Date.parse(timestamp),
      lat: 48.8584,
      lon: 2.2945,
      speed: 13.9 * 3.6,
      heading: 270,
      altitude: 35.2,
      accuracy: 12.5,
      battery: 64,
      attributes: {
        charge: true,
        motion: true,
        odometer: 15342,
        event: 'motionchange',
        activity: 'in_vehicle',
      },
    });
  });

  it('rejects bad device requests with 400 naming the parameter, and writes nothing', async () => {
    const bad = id('bad');
    rejectedIds.push(bad);
    const cases: [string, RequestInit | undefined, string][] = [
      [`/?timestamp=${nowS}&lat=1&lon=2`, undefined, 'id'],
      [`/?id=${bad}&timestamp=${nowS}&lat=91&lon=2`, undefined, 'lat'],
      [`/?id=${bad}&timestamp=${nowS}&lat=1&lon=abc`, undefined, 'lon'],
      [`/?id=${bad}&timestamp=yesterday&lat=1&lon=2`, undefined, 'timestamp'],
      [`/?id=${bad}&timestamp=${nowS}&lat=1&lon=2&bearing=-5`, undefined, 'bearing'],
      [
        '/',
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            device_id: bad,
            location: { timestamp: new Date().toISOString(), coords: { latitude: 'x', longitude: 2 } },
          }),
        },
        'location.coords.latitude',
      ],
      ['/', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"device_id": ' }, ''],
    ];
    for (const [path, init, parameter] of cases) {
      const res = await fetch(`${base}${path}`, init);
      expect(res.status, path).toBe(400);
      const body = (await res.json()) as { message: string; parameter?: string };
      if (parameter) expect(body.parameter, path).toBe(parameter);
      expect(body.message.length).toBeGreaterThan(0);
    }
  });

  it('POST /v1/positions: single, batch with per-item failures (207), nothing valid (400)', async () => {
    const one = id('native');
    const ts = Date.now() - 1000;
    const single = await fetch(`${base}/v1/positions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ vehicleId: one, ts, lat: 40.7, lon: -74 }),
    });
    expect(single.status).toBe(200);
    expect(await single.json()).toEqual({ accepted: 1, rejected: 0 });
    accepted.push(one);

    const good = id('native-batch');
    const bad = id('native-bad');
    rejectedIds.push(bad);
    const mixed = await fetch(`${base}/v1/positions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        { vehicleId: good, ts, lat: 40.7, lon: -74, speed: 30 },
        { vehicleId: bad, ts, lat: 400, lon: -74 },
        { vehicleId: good, ts: ts + 1, lat: 40.71, lon: -74 },
        { vehicleId: bad, ts, lat: 40, lon: -74, colour: 'red' },
      ]),
    });
    expect(mixed.status).toBe(207);
    const body = (await mixed.json()) as { accepted: number; rejected: number; errors: { index: number }[] };
    expect(body).toMatchObject({ accepted: 2, rejected: 2 });
    expect(body.errors.map((e) => e.index)).toEqual([1, 3]);
    accepted.push(good, good);

    const none = await fetch(`${base}/v1/positions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ vehicleId: bad, ts, lat: 1 }]),
    });
    expect(none.status).toBe(400);
    expect(await none.json()).toMatchObject({ parameter: '[0].lon', errors: [{ index: 0 }] });

    const tooMany = await fetch(`${base}/v1/positions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(Array.from({ length: 1001 }, () => ({ vehicleId: bad, ts, lat: 1, lon: 1 }))),
    });
    expect(tooMany.status).toBe(400);
  });

  it('wrote exactly the accepted positions', async () => {
    const records = await readTopic(config);
    expect(records.map((r) => r.key).sort()).toEqual([...accepted].sort());
    for (const bad of rejectedIds) expect(records.some((r) => r.key === bad)).toBe(false);
  });
});

describe('ingest gateway without Kafka', () => {
  it('answers 503 with Retry-After when Kafka does not acknowledge', async () => {
    const config = testConfig({ KAFKA_BROKERS: '127.0.0.1:1' });
    const kafka = createKafka(config.kafka, {
      logger: silentLogger,
      retry: { retries: 0 },
      connectionTimeout: 200,
    });
    const publisher = new PositionPublisher({ kafka, topic: config.topic.name, registry: new Registry() });
    const app = await createGatewayServer({
      config,
      publisher,
      registry: new Registry(),
      publishTimeoutMs: 1500,
    });
    try {
      const res = await app.inject({ method: 'GET', url: `/?id=dev1&lat=1&lon=2&timestamp=${nowS}` });
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.json()).toMatchObject({ statusCode: 503, code: 'kafka_unavailable' });
      const native = await app.inject({
        method: 'POST',
        url: '/v1/positions',
        payload: { vehicleId: 'dev1', ts: Date.now(), lat: 1, lon: 2 },
      });
      expect(native.statusCode).toBe(503);
    } finally {
      await app.close();
      await publisher.close({ timeoutMs: 100 });
    }
  });
});
