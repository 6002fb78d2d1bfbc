import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type RunningApiServer } from '../../src/api/server.js';
import { silentLogger } from '../../src/logger.js';
import { createWarehouse } from '../../src/sinks/create-warehouse.js';
import type { Warehouse } from '../../src/sinks/warehouse-sink.js';
import { createPublisher, type PositionPublisher } from '../../src/sources/publisher.js';
import { createRedisStateTable, type RedisStateTable } from '../../src/state/redis-state-table.js';
import { startProcessor, type ProcessorHandle } from '../../src/topology/processor.js';
import {
  clearRedisPrefix,
  createTestTopics,
  deleteTestTopics,
  eventually,
  testConfig,
} from '../support/env.js';
import { MovingFleet } from '../support/moving-fleet.js';

/**
 * The live map in headless Chromium while vehicles drive: the real pipeline (publisher → Kafka →
 * processor → Redis + DuckDB) feeds the API the page talks to. Screenshots go to test-artifacts/.
 */
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.resolve('test-artifacts');
const KEY = 'e2e-map-key';
const FLEET = new MovingFleet(10);
const present = existsSync(CHROMIUM);
if (!present) {
  console.warn(`live map e2e test skipped: ${CHROMIUM} not found (apt-get install -y chromium)`);
}

interface MapMarker {
  id: string;
  x: number;
  y: number;
}
/** What the page exposes as `(globalThis as unknown as FleetWindow).fleetMap` (the test project has no DOM types). */
interface FleetWindow {
  fleetMap: {
    ready: boolean;
    totalUpdates: number;
    selected: string | null;
    trackLength: number;
    vehicleCount(): number;
    markers(): MapMarker[];
  };
}

describe.skipIf(!present)('live map (headless Chromium)', () => {
  const config = testConfig({ API_AUTH: 'required', API_KEYS: KEY, PORT: '0', BATCH_MAX_WAIT_MS: '200' });
  let table: RedisStateTable;
  let warehouse: Warehouse;
  let processor: ProcessorHandle;
  let publisher: PositionPublisher;
  let server: RunningApiServer;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  let driving: NodeJS.Timeout | undefined;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await createTestTopics(config);
    const registry = new Registry();
    table = createRedisStateTable({ url: config.redis.url, prefix: config.redis.prefix, registry });
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

    profile = mkdtempSync(path.join(tmpdir(), 'fleet-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 800 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (err) => pageErrors.push(err.message));
  });

  afterAll(async () => {
    clearInterval(driving);
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await publisher?.close();
    await server?.close();
    await processor?.stop({ timeoutMs: 10_000 });
    await warehouse?.close();
    await table?.close();
    await clearRedisPrefix(config);
    await deleteTestTopics(config);
  });

  it('shows every vehicle moving, and a clicked vehicle with its last-24h track', async () => {
    // The key comes in the address once and is remembered; the page then drops it from the URL.
    await page.goto(`${server.url}/?key=${KEY}`);
    await page.waitForFunction(
      (n) =>
        (globalThis as unknown as FleetWindow).fleetMap?.ready &&
        (globalThis as unknown as FleetWindow).fleetMap.vehicleCount() >= n,
      FLEET.size + 1,
      {
        timeout: 20_000,
      },
    );
    expect(new URL(page.url()).searchParams.has('key')).toBe(false);
    await expect.poll(() => page.locator('#connection').textContent()).toBe('live');

    // Markers move: most vans are drawn somewhere else a few seconds later.
    const before = new Map(
      (await page.evaluate(() => (globalThis as unknown as FleetWindow).fleetMap.markers())).map((m) => [
        m.id,
        m,
      ]),
    );
    expect(before.size).toBeGreaterThanOrEqual(FLEET.size);
    await page.waitForFunction(
      ([previous, need]) => {
        const moved = (globalThis as unknown as FleetWindow).fleetMap
          .markers()
          .filter((m) => previous[m.id] && Math.hypot(m.x - previous[m.id]!.x, m.y - previous[m.id]!.y) > 3);
        return moved.length >= need;
      },
      [Object.fromEntries(before), Math.ceil(FLEET.size * 0.8)] as const,
      { timeout: 20_000 },
    );
    const parked = (
      await page.evaluate(() => (globalThis as unknown as FleetWindow).fleetMap.markers())
    ).find((m) => m.id === 'parked-1');
    expect(parked, 'the stale van is drawn too').toBeDefined();
    expect(
      Math.hypot(parked!.x - before.get('parked-1')!.x, parked!.y - before.get('parked-1')!.y),
    ).toBeLessThan(1);
    await expect.poll(async () => Number(await page.locator('#count-rate').textContent())).toBeGreaterThan(5);
    expect(Number(await page.locator('#count-vehicles').textContent())).toBe(FLEET.size + 1);
    expect(Number(await page.locator('#count-stale').textContent())).toBe(1);
    await page.screenshot({ path: path.join(ARTIFACTS, 'live-map-overview.png') });

    // Click a van where it is drawn right now: the details panel opens and its track is drawn.
    const target = FLEET.id(3);
    const marker = (
      await page.evaluate(() => (globalThis as unknown as FleetWindow).fleetMap.markers())
    ).find((m) => m.id === target)!;
    await page.mouse.click(marker.x, marker.y);
    await page.waitForFunction(
      (id) => (globalThis as unknown as FleetWindow).fleetMap.selected === id,
      target,
      { timeout: 5000 },
    );
    expect(await page.locator('#details').isVisible()).toBe(true);
    await expect.poll(() => page.locator('#details-title').textContent()).toBe(target);
    // 5 minutes of history every 10 s: at least 30 positions from the warehouse (plus live ones since).
    await page.waitForFunction(
      () => (globalThis as unknown as FleetWindow).fleetMap.trackLength >= 30,
      undefined,
      { timeout: 10_000 },
    );
    await expect
      .poll(() => page.locator('#details-track').textContent())
      .toMatch(/^\d+ positions drawn on the map$/);
    expect(parseInt((await page.locator('#details-track').textContent())!, 10)).toBeGreaterThanOrEqual(30);
    await expect.poll(() => page.locator('#details-summary').textContent()).toMatch(/distance/);
    await page.waitForTimeout(800); // let the glide animation settle for a crisp picture
    const trackShot = path.join(ARTIFACTS, 'live-map-track.png');
    await page.screenshot({ path: trackShot });
    mkdirSync(path.resolve('docs'), { recursive: true });
    copyFileSync(trackShot, path.resolve('docs/live-map.png'));

    // The search box finds a vehicle by id and selects it.
    await page.fill('#search-input', 'parked-1');
    await page.press('#search-input', 'Enter');
    await page.waitForFunction(
      () => (globalThis as unknown as FleetWindow).fleetMap.selected === 'parked-1',
      undefined,
      { timeout: 5000 },
    );
    await expect.poll(() => page.locator('#details-age').getAttribute('data-state')).toBe('stale');
    await page.screenshot({ path: path.join(ARTIFACTS, 'live-map-search.png') });

    expect(pageErrors).toEqual([]);
  });

  it('draws base-map tiles from MAP_TILE_URL (here a local tile server)', async () => {
    // A 1x1 grey PNG for every tile; the test only checks which tiles the page asks for.
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNwAAAAQgBBKTf07wAAAABJRU5ErkJggg==',
      'base64',
    );
    const requested: string[] = [];
    const tiles = http.createServer((req, res) => {
      requested.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'image/png' }).end(png);
    });
    await new Promise<void>((resolve) => tiles.listen(0, '127.0.0.1', resolve));
    const tileUrl = `http://127.0.0.1:${(tiles.address() as AddressInfo).port}/tiles/{z}/{x}/{y}.png`;
    const withTiles = await startApiServer({
      config: { api: { ...config.api, mapTileUrl: tileUrl } },
      table,
      warehouse,
      registry: new Registry(),
    });
    try {
      await page.goto(`${withTiles.url}/?key=${KEY}`); // another port: another origin, another localStorage
      await page.waitForFunction(() => (globalThis as unknown as FleetWindow).fleetMap?.ready, undefined, {
        timeout: 20_000,
      });
      await expect.poll(() => requested.length).toBeGreaterThan(0);
      // Slippy-map tiles around Paris at the fitted zoom: /tiles/z/x/y.png with x, y inside 2^z.
      for (const url of requested) {
        const [, z, x, y] = /^\/tiles\/(\d+)\/(\d+)\/(\d+)\.png$/.exec(url) ?? [];
        expect(z, url).toBeDefined();
        expect(Number(x)).toBeLessThan(2 ** Number(z));
        expect(Number(y)).toBeLessThan(2 ** Number(z));
        // Paris (2.35°E, 48.86°N) lies in the tile column/row of x ≈ 0.5065·2^z, y ≈ 0.3440·2^z.
        expect(Math.abs(Number(x) / 2 ** Number(z) - 0.5065)).toBeLessThan(0.01 + 4 / 2 ** Number(z));
        expect(Math.abs(Number(y) / 2 ** Number(z) - 0.344)).toBeLessThan(0.01 + 4 / 2 ** Number(z));
      }
      expect(await page.locator('#attribution').textContent()).toContain('127.0.0.1');
    } finally {
      await withTiles.close();
      tiles.close();
    }
  });
});
