import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type RunningApiServer } from '../../src/api/server.js';
import { silentLogger } from '../../src/logger.js';
import { startEventsProcessor, type EventsProcessorHandle } from '../../src/processor/events-processor.js';
import { vehicleEventFeed } from '../../src/sources/vehicle-event-feed.js';
import {
  clearRedisPrefix,
  createTestTopics,
  deleteTestTopics,
  eventually,
  testKafka,
} from '../support/env.js';
import { driveThrough, eventsTestConfig, publishGeofence, squareFeature } from '../support/events-env.js';
import {
  isColour,
  launchChromium,
  screenshotPixels,
  type Browser,
  type FleetMap,
} from '../support/map-browser.js';
import { produce, startTestPipeline, type TestPipeline } from '../support/processor-env.js';

/**
 * The live map's geofences and event feed in headless Chromium, over the real pipeline: positions
 * → Kafka → processor (Redis, DuckDB) and events processor (vehicle_events) → the API's SSE.
 */
const ARTIFACTS = path.resolve('test-artifacts');
const KEY = 'e2e-events-key-0123456789abcdef012345';
// The geofence outline (src/api/public/geofence-layer.js), written out by hand.
const ZONE = '#a78bfa';
const fleet = (): FleetMap => (globalThis as unknown as { fleetMap: FleetMap }).fleetMap;

describe('live map: geofences and the event feed (headless Chromium)', () => {
  const config = eventsTestConfig({
    API_AUTH: 'required',
    API_KEYS: KEY,
    PORT: '0',
    BATCH_MAX_WAIT_MS: '200',
    EVENTS_GRACE_MS: '500',
  });
  const feature = { ...squareFeature('Mitte', 30), id: 'mitte' };
  let pipeline: TestPipeline;
  let events: EventsProcessorHandle;
  let server: RunningApiServer;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
    page = browser.page;
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await createTestTopics(config);
    pipeline = await startTestPipeline(config);
    events = await startEventsProcessor(config);
    await publishGeofence(config, 'mitte', feature);
    await eventually(() => events.geofences.get('mitte') !== undefined);
    server = await startApiServer({
      config,
      table: pipeline.table,
      warehouse: pipeline.warehouse,
      registry: pipeline.registry,
      eventFeed: vehicleEventFeed(testKafka(config), config.events.topic, silentLogger),
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await events?.stop();
    await pipeline?.close();
    await clearRedisPrefix(config);
    await deleteTestTopics(config);
  });

  it('draws the geofences, shows a produced event on top of the feed, and a click on it focuses the vehicle', async () => {
    // Until GET /v1/geofences is served by this API, the page gets the same Feature the topic holds.
    await page.route('**/v1/geofences', async (route) => {
      const real = await route.fetch();
      if (real.status() !== 404) return route.fulfill({ response: real });
      return route.fulfill({ json: { geofences: [feature] } });
    });
    await page.goto(`${server.url}/?key=${KEY}`);
    await page.waitForFunction(() => fleet()?.ready && fleet().feedLive, undefined, { timeout: 20_000 });

    await expect
      .poll(() => page.evaluate(() => fleet().geofences()))
      .toEqual([{ id: 'mitte', name: 'Mitte', south: 52.515, west: 13.395, north: 52.525, east: 13.405 }]);
    // Drawn where it is: the outline on the square's west edge, at zoom 15.
    await page.evaluate(() => fleet().view(52.52, 13.4, 15));
    const edge = await page.evaluate(() => fleet().pointOf(52.52, 13.395));
    // The 2 px stroke, antialiased: one of the pixels across the edge has its colour.
    const across = [-2, -1, 0, 1, 2].map((dx) => ({ x: edge.x + dx, y: edge.y }));
    const shot = path.join(ARTIFACTS, 'live-map-geofence.png');
    await expect
      .poll(async () => {
        const pixels = await screenshotPixels(page, across, shot);
        return pixels.some((rgb) => isColour(rgb, ZONE, 40)) || pixels;
      })
      .toBe(true);

    const t0 = Date.now() - 30_000;
    await produce(config, driveThrough('car-1', t0));
    // Newest on top: the exit above the enter.
    await expect
      .poll(
        () =>
          page.evaluate(() =>
            fleet()
              .feed()
              .map((e) => `${e.vehicleId} ${e.type}`),
          ),
        { timeout: 60_000 },
      )
      .toEqual(expect.arrayContaining(['car-1 geofence_exit', 'car-1 geofence_enter']));
    const feed = await page.evaluate(() => fleet().feed());
    const types = feed.filter((e) => e.type.startsWith('geofence')).map((e) => e.type);
    expect(types).toEqual(['geofence_exit', 'geofence_enter']);
    expect(feed.find((e) => e.type === 'geofence_enter')!.text).toBe('entered Mitte');
    await page.screenshot({ path: path.join(ARTIFACTS, 'live-map-events.png') });

    await page.locator('#event-list li[data-type="geofence_enter"]').click();
    await page.waitForFunction(() => fleet().selected === 'car-1', undefined, { timeout: 10_000 });
    await expect.poll(() => page.locator('#details-title').textContent()).toBe('car-1');
    expect(pageErrors).toEqual([]);
  }, 150_000);
});
