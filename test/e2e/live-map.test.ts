import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type RunningApiServer } from '../../src/api/server.js';
import { silentLogger } from '../../src/logger.js';
import { createWarehouse } from '../../src/sinks/create-warehouse.js';
import type { Warehouse } from '../../src/sinks/warehouse-sink.js';
import { createPublisher, type PositionPublisher } from '../../src/ingest/publisher.js';
import { createRedisStateTable, type RedisStateTable } from '../../src/state/redis-state-table.js';
import { startProcessor, type ProcessorHandle } from '../../src/processor/processor.js';
import {
  clearRedisPrefix,
  createTestTopics,
  deleteTestTopics,
  eventually,
  testConfig,
} from '../support/env.js';
import {
  isColour,
  launchChromium,
  screenshotPixels,
  type Browser,
  type FleetMap,
  vehiclePixel,
} from '../support/map-browser.js';
import { MovingFleet } from '../support/moving-fleet.js';
import { startTileServer } from '../support/tile-server.js';

/**
 * The live map in headless Chromium while vehicles drive: the real pipeline (publisher → Kafka →
 * processor → Redis + DuckDB) feeds the API the page talks to. Screenshots go to test-artifacts/.
 * No skipping: without /usr/bin/chromium the test fails.
 */
const ARTIFACTS = path.resolve('test-artifacts');
const KEY = 'e2e-map-key-0123456789abcdef0123456';
const FLEET = new MovingFleet(10);
// The page's colours (src/api/public/base-map.js, map.css, map-logic.js), written out by hand.
const [SEA, LAND, FRESH] = ['#0b1622', '#1d2b38', '#22c55e'];
// `window.fleetMap`, local on purpose: launchChromium defines the same `fleet()` in the page, where
// page.evaluate callbacks run; an imported name would be rewritten by Vite and undefined there.
const fleet = (): FleetMap => (globalThis as unknown as { fleetMap: FleetMap }).fleetMap;

describe('live map (headless Chromium)', () => {
  const config = testConfig({ API_AUTH: 'required', API_KEYS: KEY, PORT: '0', BATCH_MAX_WAIT_MS: '200' });
  let table: RedisStateTable;
  let warehouse: Warehouse;
  let processor: ProcessorHandle;
  let publisher: PositionPublisher;
  let server: RunningApiServer;
  let browser: Browser;
  let page: Page;
  let driving: NodeJS.Timeout | undefined;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
    page = browser.page;
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await createTestTopics(config);
    const registry = new Registry();
    table = createRedisStateTable({
      partitions: config.topic.partitions,
      url: config.redis.url,
      prefix: config.redis.prefix,
      registry,
    });
    warehouse = await createWarehouse(config.warehouse, silentLogger);
    await warehouse.ready();
    processor = await startProcessor(config, {
      table,
      warehouse,
      registry,
      retry: { initialMs: 20, maxMs: 200 },
    });
    server = await startApiServer({ config, table, warehouse, registry });
    publisher = createPublisher(config, { logger: silentLogger, registry });
    await publisher.connect();

    // The last five minutes of driving (the tracks), one parked van that went stale, then live.
    const start = Date.now();
    const past = FLEET.history(start - 300_000, start, 10_000);
    await publisher.publish([
      ...past,
      { vehicleId: 'parked-1', ts: start - 5 * 60_000, lat: 48.87, lon: 2.33 },
    ]);
    await eventually(
      async () => (await warehouse.count({ topic: config.topic.name })) === past.length + 1,
      30_000,
    );
    driving = setInterval(() => void publisher.publish(FLEET.now()).catch(() => undefined), 500);
  });

  afterAll(async () => {
    clearInterval(driving);
    await browser?.close();
    await publisher?.close();
    await server?.close();
    await processor?.stop({ timeoutMs: 10_000 });
    await warehouse?.close();
    await table?.close();
    await clearRedisPrefix(config);
    await deleteTestTopics(config);
  });

  const markers = async () => new Map((await page.evaluate(() => fleet().markers())).map((m) => [m.id, m]));

  it('draws the offline Natural Earth background: land, sea and the graticule', async () => {
    // The key comes in the address once and is remembered; the page then drops it from the URL.
    await page.goto(`${server.url}/?key=${KEY}`);
    await page.waitForFunction(() => fleet()?.ready && fleet().baseReady, undefined, { timeout: 20_000 });
    expect(new URL(page.url()).searchParams.has('key')).toBe(false);
    // Western Europe at zoom 4: the graticule is every 10°.
    await page.evaluate(() => fleet().view(42, -5, 4));
    await page.waitForTimeout(300);
    const at = (places: [number, number][]) =>
      Promise.all(
        places.map(([lat, lon]) => page.evaluate(([a, b]) => fleet().pointOf(a, b), [lat, lon] as const)),
      );
    const land = await at([
      [40.4, -3.7],
      [46.5, 2.5],
      [51, 10.5],
      [39.5, 16.5],
      [31, -6],
    ]); // Madrid, France, Germany, Calabria, Morocco
    const sea = await at([
      [45, -15],
      [36, -25],
      [39, 5],
      [55, -14],
    ]); // Bay of Biscay, Atlantic, Baleares sea, Rockall
    const meridian = await at([[44.5, -30]]); // 30°W in the open Atlantic
    const pixels = await screenshotPixels(
      page,
      [...land, ...sea, ...meridian],
      path.join(ARTIFACTS, 'live-map-base.png'),
    );
    for (const [i, rgb] of pixels.slice(0, land.length).entries())
      expect(isColour(rgb, LAND), `land ${i}: ${rgb}`).toBe(true);
    for (const [i, rgb] of pixels.slice(land.length, -1).entries())
      expect(isColour(rgb, SEA), `sea ${i}: ${rgb}`).toBe(true);
    // The meridian, anti-aliased: lighter than the sea around it.
    const line = pixels.at(-1)!;
    expect(!isColour(line, SEA) && line.every((v, i) => v >= [11, 22, 34][i]!), `graticule: ${line}`).toBe(
      true,
    );
    // The background canvas spans the map.
    const box = await page.locator('.leaflet-background-pane canvas').boundingBox();
    expect(box!.width).toBeGreaterThan(500);
    expect(box!.height).toBeGreaterThan(400);

    // Zoomed out, the Paris fleet is one cluster.
    await page.evaluate(() => fleet().view(48.86, 2.35, 5));
    await expect
      .poll(() =>
        page.evaluate(() =>
          fleet()
            .clusters()
            .map((c) => c.count),
        ),
      )
      .toEqual([FLEET.size + 1]);
    expect(await page.evaluate(() => fleet().markers())).toEqual([]);
  });

  it('shows every vehicle moving, and a clicked vehicle with its last-24h track', async () => {
    await page.click('#zoom-fit');
    await expect.poll(() => page.evaluate(() => fleet().zoom)).toBeGreaterThanOrEqual(12);
    await expect.poll(() => page.locator('#connection').textContent()).toBe('live');
    const before = await markers();
    expect(before.size).toBe(FLEET.size + 1);
    // The canvas shows what the layer says it drew: a fresh green dot under a van.
    const dot = await vehiclePixel(page, FLEET.id(0));
    expect(isColour(dot, FRESH, 10), `${dot}`).toBe(true);

    // Markers move: most vans are drawn somewhere else a few seconds later; the parked one stays.
    const previous = Object.fromEntries(before);
    await page.waitForFunction(
      ([prev, need]) =>
        fleet()
          .markers()
          .filter((m) => prev[m.id] && Math.hypot(m.x - prev[m.id]!.x, m.y - prev[m.id]!.y) > 3).length >=
        need,
      [previous, Math.ceil(FLEET.size * 0.8)] as const,
      { timeout: 20_000 },
    );
    const parked = (await markers()).get('parked-1')!;
    expect(
      Math.hypot(parked.x - before.get('parked-1')!.x, parked.y - before.get('parked-1')!.y),
    ).toBeLessThan(1);
    await expect.poll(async () => Number(await page.locator('#count-rate').textContent())).toBeGreaterThan(5);
    expect(Number(await page.locator('#count-vehicles').textContent())).toBe(FLEET.size + 1);
    expect(Number(await page.locator('#count-stale').textContent())).toBe(1);
    await page.screenshot({ path: path.join(ARTIFACTS, 'live-map-overview.png') });

    // Click a van where it is drawn right now: the details panel opens and its track is drawn.
    const target = FLEET.id(3);
    const marker = (await markers()).get(target)!;
    await page.mouse.click(marker.x, marker.y);
    await page.waitForFunction((id) => fleet().selected === id, target, { timeout: 5000 });
    expect(await page.locator('#details').isVisible()).toBe(true);
    await expect.poll(() => page.locator('#details-title').textContent()).toBe(target);
    // 5 minutes of history every 10 s: at least 30 positions from the warehouse (plus live ones since).
    await page.waitForFunction(() => fleet().trackLength >= 30, undefined, { timeout: 10_000 });
    const track = await page.locator('path.fleet-track').boundingBox();
    expect(track!.width * track!.height, 'the track polyline covers part of the van circle').toBeGreaterThan(
      40 * 40,
    );
    await expect
      .poll(() => page.locator('#details-track').textContent())
      .toMatch(/^\d+ positions drawn on the map$/);
    await expect.poll(() => page.locator('#details-summary').textContent()).toMatch(/distance/);
  });

  it('plays the track back: the slider and play move the playback marker along it', async () => {
    expect(await page.locator('#playback').isVisible()).toBe(true);
    expect(await page.evaluate(() => fleet().playback())).toBeNull();
    await page.locator('#playback-range').fill('0');
    const first = (await page.evaluate(() => fleet().playback()))!;
    const start = (await page.locator('path.fleet-track-start').boundingBox())!;
    expect(
      Math.hypot(first.x - (start.x + start.width / 2), first.y - (start.y + start.height / 2)),
    ).toBeLessThan(2);
    await page.locator('#playback-range').fill('500');
    const middle = (await page.evaluate(() => fleet().playback()))!;
    expect(middle.ts).toBeGreaterThan(first.ts + 60_000); // half of five minutes and more
    expect(Math.hypot(middle.x - first.x, middle.y - first.y)).toBeGreaterThan(10);

    // Play at one minute per second from the start: time runs, the marker and the slider follow.
    await page.locator('#playback-range').fill('0');
    await page.selectOption('#playback-speed', '60');
    await page.click('#playback-toggle');
    await page.waitForTimeout(1500);
    const playing = (await page.evaluate(() => fleet().playback()))!;
    expect(playing.playing).toBe(true);
    expect(playing.ts - first.ts).toBeGreaterThan(30_000);
    expect(Math.hypot(playing.x - first.x, playing.y - first.y)).toBeGreaterThan(3);
    expect(Number(await page.locator('#playback-range').inputValue())).toBeGreaterThan(0);
    await page.click('#playback-toggle');
    expect((await page.evaluate(() => fleet().playback()))!.playing).toBe(false);
    const trackShot = path.join(ARTIFACTS, 'live-map-track.png');
    await page.screenshot({ path: trackShot });
    copyFileSync(trackShot, path.resolve('docs/live-map.png'));

    // The search box finds a vehicle by id and selects it.
    await page.fill('#search-input', 'parked-1');
    await page.press('#search-input', 'Enter');
    await page.waitForFunction(() => fleet().selected === 'parked-1', undefined, { timeout: 5000 });
    await expect.poll(() => page.locator('#details-age').getAttribute('data-state')).toBe('stale');
    expect(pageErrors).toEqual([]);
  });

  it('lays MAP_TILE_URL tiles over the background; where a tile is missing, land still shows', async () => {
    // Tiles down to zoom 6 are magenta; deeper ones are 404.
    const tiles = await startTileServer((z) => z <= 6);
    const withTiles = await startApiServer({
      config: {
        api: { ...config.api, mapTileUrl: tiles.template, mapTileAttribution: 'Test tiles &copy; nobody' },
      },
      table,
      warehouse,
      registry: new Registry(),
    });
    try {
      await page.goto(`${withTiles.url}/?key=${KEY}`); // another port: another origin, another localStorage
      await page.waitForFunction(() => fleet()?.ready && fleet().baseReady, undefined, { timeout: 20_000 });
      await expect.poll(() => tiles.requested.length).toBeGreaterThan(0);
      // Every request is a real slippy-map tile; once fitted on the vans, the deep ones (all 404,
      // so the Natural Earth land shows) are around Paris.
      for (const { z, x, y } of tiles.requested) {
        expect(x).toBeLessThan(2 ** z);
        expect(y).toBeLessThan(2 ** z);
      }
      await expect.poll(() => tiles.requested.filter((t) => t.z >= 11).length).toBeGreaterThan(0);
      for (const { z, x, y } of tiles.requested.filter((t) => t.z >= 11)) {
        // Paris (2.35°E, 48.86°N) lies in the tile column/row of x ≈ 0.5065·2^z, y ≈ 0.3440·2^z.
        expect(Math.abs(x / 2 ** z - 0.5065)).toBeLessThan(0.01 + 4 / 2 ** z);
        expect(Math.abs(y / 2 ** z - 0.344)).toBeLessThan(0.01 + 4 / 2 ** z);
      }
      // North-east of the fleet, between graticule lines (every 0.02° at zoom 13), no van near;
      // centred, so no panel covers it (fitted on the vans it once lay under the side panel).
      await page.evaluate(() => fleet().view(48.89, 2.41, 13));
      const pixelAt = async (lat: number, lon: number, file: string) => {
        const at = await page.evaluate(([a, b]) => fleet().pointOf(a, b), [lat, lon] as const);
        return (await screenshotPixels(page, [at], path.join(ARTIFACTS, file)))[0]!;
      };
      await expect
        .poll(async () => {
          const rgb = await pixelAt(48.89, 2.41, 'live-map-tiles-missing.png');
          return isColour(rgb, LAND) || `${rgb} at zoom ${await page.evaluate(() => fleet().zoom)}`;
        })
        .toBe(true);
      // France at zoom 5: the tiles are there and cover the land (once faded in).
      await page.evaluate(() => fleet().view(46.5, 2.5, 5));
      await expect.poll(() => tiles.requested.some((t) => t.z === 5)).toBe(true);
      await expect
        .poll(async () => {
          const rgb = await pixelAt(46.5, 0, 'live-map-tiles.png');
          return isColour(rgb, '#ff00ff') || `${rgb}`;
        })
        .toBe(true);
      expect(await page.locator('.leaflet-control-attribution').textContent()).toContain(
        'Test tiles © nobody',
      );
    } finally {
      await withTiles.close();
      await tiles.close();
    }
  });
});
