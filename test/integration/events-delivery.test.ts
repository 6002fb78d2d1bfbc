import { createHmac } from 'node:crypto';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type RunningApiServer } from '../../src/api/server.js';
import type { Config } from '../../src/config/index.js';
import { silentLogger } from '../../src/logger.js';
import { startEventsProcessor, type EventsProcessorHandle } from '../../src/processor/events-processor.js';
import { createWarehouse } from '../../src/sinks/create-warehouse.js';
import type { Warehouse } from '../../src/sinks/warehouse-sink.js';
import { vehicleEventFeed } from '../../src/sources/vehicle-event-feed.js';
import { createRedisStateTable, type RedisStateTable } from '../../src/state/redis-state-table.js';
import { clearRedisPrefix, createTestTopics, eventually, testKafka } from '../support/env.js';
import {
  driveThrough,
  eventsTestConfig,
  publishGeofence,
  readEvents,
  speedsOf,
  squareFeature,
} from '../support/events-env.js';
import { produce } from '../support/processor-env.js';
import { cliEnv, runCli } from '../support/cli-process.js';
import { SseReader } from '../support/sse-client.js';
import { startWebhookReceiver } from '../support/webhook-receiver.js';

const rules = { EVENTS_GRACE_MS: '500', OVERSPEED_LIMIT_KMH: '80', OVERSPEED_MIN_DURATION_MS: '2000' };
const fast = { webhookBackoff: { initialMs: 20, maxMs: 100 } };

/** Starts the events processor with the Mitte square loaded. */
async function eventsWithGeofence(config: Readonly<Config>, registry = new Registry()) {
  const processor = await startEventsProcessor(config, { ...fast, registry });
  await publishGeofence(config, 'mitte', squareFeature('Mitte'));
  await eventually(() => processor.geofences.get('mitte') !== undefined);
  return processor;
}

describe('GET /v1/events/stream (real Kafka: events processor → vehicle_events → SSE)', () => {
  const config = eventsTestConfig({ ...rules, PORT: '0' });
  let processor: EventsProcessorHandle;
  let table: RedisStateTable;
  let warehouse: Warehouse;
  let server: RunningApiServer | null = null;
  const readers: SseReader[] = [];
  const apiRegistry = new Registry();

  beforeAll(async () => {
    await createTestTopics(config);
    processor = await eventsWithGeofence(config);
    table = createRedisStateTable({ partitions: 3, url: config.redis.url, prefix: config.redis.prefix });
    warehouse = await createWarehouse(config.warehouse, silentLogger);
    await warehouse.ready();
    server = await startApiServer({
      config,
      table,
      warehouse,
      registry: apiRegistry,
      eventFeed: vehicleEventFeed(testKafka(config), config.events.topic, silentLogger),
    });
  }, 120_000);

  afterAll(async () => {
    for (const r of readers) r.close();
    await server?.close();
    await processor?.stop();
    await warehouse?.close();
    await table?.close();
    await clearRedisPrefix(config);
  });

  const connect = async (query = '') => {
    const reader = new SseReader();
    readers.push(reader);
    await reader.open(`${server!.url}/v1/events/stream${query}`);
    return reader;
  };

  it('streams committed events to every client by its filters, refuses unknown types, ends on server stop', async () => {
    const bad = await connect('?type=overspeed,speeding');
    expect(bad.status).toBe(400);
    expect(bad.body).toContain("unknown event type 'speeding'");

    const all = await connect();
    const car1 = await connect('?vehicleId=car-1');
    const speeding = await connect('?type=overspeed,overspeed_end');
    for (const r of [all, car1, speeding]) await r.waitFor('ready');
    // `fleet events --follow` reads the same stream.
    const cli = runCli(
      ['events', '--follow', '--type', 'geofence_enter,geofence_exit', '--json', '--url', server!.url],
      cliEnv(config),
    );
    const streams = async () =>
      (await apiRegistry.getSingleMetric('fleet_api_sse_clients')!.get()).values.find(
        (v) => v.labels.stream === 'events',
      )?.value;
    await eventually(async () => (await streams()) === 4, 30_000);

    const t0 = Date.now() - 30_000;
    await produce(config, [...driveThrough('car-1', t0), ...speedsOf('car-2', t0, [100, 100, 100, 100, 40])]);
    const isExit = (e: unknown) => (e as { type: string }).type === 'geofence_exit';
    const isEnd = (e: unknown) => (e as { type: string }).type === 'overspeed_end';
    await all.waitFor('vehicle_event', 1, isExit, 60_000);
    await all.waitFor('vehicle_event', 1, isEnd, 60_000);
    await car1.waitFor('vehicle_event', 1, isExit, 30_000);
    await speeding.waitFor('vehicle_event', 1, isEnd, 30_000);

    // What the topic holds (read_committed) is what the unfiltered client got, in the same ids.
    const committed = await readEvents(config);
    const got = (r: SseReader) =>
      r.events
        .filter((e) => e.event === 'vehicle_event')
        .map((e) => JSON.parse(e.data) as { id: string; type: string; vehicleId: string });
    expect(
      got(all)
        .map((e) => e.id)
        .sort(),
    ).toEqual(committed.map((e) => e.id).sort());
    expect(got(all).filter((e) => e.vehicleId === 'car-1' && e.type === 'geofence_enter')).toHaveLength(1);
    expect(got(car1).every((e) => e.vehicleId === 'car-1')).toBe(true);
    expect(got(car1).map((e) => e.type)).toEqual(expect.arrayContaining(['geofence_enter', 'geofence_exit']));
    expect(
      got(speeding)
        .map((e) => e.type)
        .sort(),
    ).toEqual(['overspeed', 'overspeed_end']);

    await eventually(() => cli.output().includes('"geofence_exit"'), 10_000);
    const printed = cli
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { type: string; vehicleId: string });
    expect(printed.map((e) => `${e.vehicleId} ${e.type}`)).toEqual([
      'car-1 geofence_enter',
      'car-1 geofence_exit',
    ]);
    cli.child.kill('SIGINT');
    expect(await cli.exited).toBe(0);

    await server!.close();
    server = null;
    for (const r of [all, car1, speeding]) await r.waitForEnd();
  }, 120_000);
});

describe('event webhooks (real Kafka, a local receiver)', () => {
  const secret = 'test-webhook-secret-0123456789';
  let processor: EventsProcessorHandle | undefined;
  afterEach(async () => {
    await processor?.stop();
    processor = undefined;
  });

  it('delivers every event signed, retrying a receiver that fails twice, with the event id', async () => {
    const receiver = await startWebhookReceiver((_id, attempt) => (attempt <= 2 ? 503 : 200));
    const config = eventsTestConfig({
      ...rules,
      EVENT_WEBHOOK_URL: receiver.url,
      EVENT_WEBHOOK_SECRET: secret,
    });
    await createTestTopics(config);
    try {
      processor = await eventsWithGeofence(config);
      const t0 = Date.now() - 30_000;
      await produce(config, [
        ...driveThrough('car-1', t0),
        ...speedsOf('car-2', t0, [100, 100, 100, 100, 40]),
      ]);
      await eventually(
        async () => (await readEvents(config)).some((e) => e.type === 'overspeed_end'),
        60_000,
        500,
      );
      const committed = await readEvents(config);
      const delivered = () => receiver.requests.filter((r) => r.status === 200);
      await eventually(() => delivered().length >= committed.length, 30_000);

      expect(
        delivered()
          .map((r) => r.headers['x-fleet-event-id'])
          .sort(),
      ).toEqual(committed.map((e) => e.id).sort());
      for (const r of receiver.requests) {
        // The receiver's check, written out: HMAC-SHA256 of "<timestamp>.<body>" with the secret.
        const ts = Number(r.headers['x-fleet-timestamp']);
        const want = createHmac('sha256', secret).update(`${ts}.${r.body}`).digest('hex');
        expect(r.headers['x-fleet-signature']).toBe(`sha256=${want}`);
        expect(Math.abs(ts - Date.now() / 1000)).toBeLessThan(300);
        expect(JSON.parse(r.body)).toMatchObject({ id: r.headers['x-fleet-event-id'] });
      }
      // Each event: two 503s, then the 200.
      for (const e of committed)
        expect(
          receiver.requests.filter((r) => r.headers['x-fleet-event-id'] === e.id).map((r) => r.status),
        ).toEqual([503, 503, 200]);
      expect(receiver.requests.find((r) => r.body.includes('"geofence_enter"'))).toBeDefined();
    } finally {
      await receiver.close();
    }
  }, 120_000);

  it('a dead receiver does not hold up the events: they are committed, the deliveries are given up and counted', async () => {
    const dead = await startWebhookReceiver();
    await dead.close(); // nothing listens on its port any more
    const registry = new Registry();
    const config = eventsTestConfig({
      ...rules,
      EVENT_WEBHOOK_URL: dead.url,
      EVENT_WEBHOOK_SECRET: secret,
      EVENT_WEBHOOK_RETRIES: '2',
      EVENT_WEBHOOK_QUEUE: '1',
    });
    await createTestTopics(config);
    processor = await eventsWithGeofence(config, registry);
    const t0 = Date.now() - 30_000;
    await produce(config, [...driveThrough('car-1', t0), ...speedsOf('car-2', t0, [100, 100, 100, 100, 40])]);
    await eventually(
      async () => (await readEvents(config)).some((e) => e.type === 'overspeed_end'),
      60_000,
      500,
    );
    const committed = await readEvents(config);
    expect(committed.length).toBeGreaterThanOrEqual(4);
    const metric = async (name: string) =>
      (await registry.getSingleMetric(name)!.get()).values.reduce(
        (sum, v) => sum + (v.labels.outcome === 'delivered' ? 0 : v.value),
        0,
      );
    await eventually(
      async () => (await metric('fleet_webhook_deliveries_total')) >= committed.length,
      30_000,
    );
    expect(await metric('fleet_webhook_queue_full_total')).toBeGreaterThan(0);
  }, 120_000);
});
