import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium; CI installs it (.ci/run). The live map test fails without it. */
export const CHROMIUM = '/usr/bin/chromium';

export interface PagePoint {
  x: number;
  y: number;
}
export interface MapMarker extends PagePoint {
  id: string;
}
/** What the page exposes as `window.fleetMap` (src/api/public/inspect.js); no DOM types here. */
export interface FleetMap {
  ready: boolean;
  baseReady: boolean;
  totalUpdates: number;
  selected: string | null;
  trackLength: number;
  zoom: number;
  vehicleCount(): number;
  markers(): MapMarker[];
  clusters(): (PagePoint & { count: number })[];
  playback(): (PagePoint & { ts: number; playing: boolean }) | null;
  pointOf(lat: number, lon: number): PagePoint;
  /** Whether the event feed's stream is open. */
  feedLive: boolean;
  /** Geofences drawn, with their bounds (degrees). */
  geofences(): {
    id: string;
    name: string | null;
    south: number;
    west: number;
    north: number;
    east: number;
  }[];
  /** The event feed as shown, newest first. */
  feed(): { id: string; type: string; vehicleId: string; text: string }[];
  view(lat: number, lon: number, zoom: number): void;
}

export interface Browser {
  page: Page;
  close(): Promise<void>;
}

/**
 * Headless Chromium with the machine's flags and a fresh profile. Throws when the browser is
 * missing: the live map test is part of CI, it never skips.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)`);
  }
  const profile = mkdtempSync(path.join(tmpdir(), 'fleet-chromium-'));
  let context: BrowserContext | undefined;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 800 },
      deviceScaleFactor: 1,
    });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
  // Tests call `fleet()` (window.fleetMap) inside page.evaluate callbacks: define it in the page.
  await context.addInitScript(() => {
    const g = globalThis as unknown as { fleet: () => unknown; fleetMap: unknown };
    g.fleet = () => g.fleetMap;
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    page,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * The colours at `points` (page pixels) of a real screenshot of the page, decoded by the browser
 * itself (an <img> of the PNG drawn on a canvas), as [r, g, b].
 */
export async function screenshotPixels(page: Page, points: PagePoint[], file?: string): Promise<number[][]> {
  const png = await page.screenshot(file ? { path: file } : {});
  return page.evaluate(
    async ([base64, at]) => {
      const doc = (globalThis as unknown as { document: DocumentLike }).document;
      const img = doc.createElement('img') as unknown as ImageLike;
      img.src = `data:image/png;base64,${base64}`;
      await img.decode();
      const canvas = doc.createElement('canvas') as unknown as CanvasLike;
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
      const ctx = canvas.getContext('2d');
      ctx.drawImage(img, 0, 0);
      return at.map((p) => [...ctx.getImageData(Math.round(p.x), Math.round(p.y), 1, 1).data.slice(0, 3)]);
    },
    [png.toString('base64'), points] as const,
  );
}

/** Whether `rgb` is `hex` (#rrggbb) give or take `tolerance` per channel. */
export function isColour(rgb: number[], hex: string, tolerance = 6): boolean {
  const want = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return want.every((v, i) => Math.abs(v - (rgb[i] ?? -1000)) <= tolerance);
}

/**
 * The colour at the centre of vehicle `id` as drawn on the vehicles' canvas, read in the same
 * task as the layer's record of where it drew it (markers glide between frames).
 */
export async function vehiclePixel(page: Page, id: string): Promise<number[]> {
  return page.evaluate((vehicle) => {
    const g = globalThis as unknown as {
      fleetMap: FleetMap;
      document: { querySelector(s: string): CanvasEl };
    };
    const m = g.fleetMap.markers().find((v) => v.id === vehicle);
    if (!m) throw new Error(`vehicle ${vehicle} is not drawn on its own`);
    const canvas = g.document.querySelector('canvas.fleet-vehicles');
    const rect = canvas.getBoundingClientRect();
    const dpr = canvas.width / rect.width;
    return [
      ...canvas.getContext('2d').getImageData((m.x - rect.left) * dpr, (m.y - rect.top) * dpr, 1, 1).data,
    ];
  }, id);
}

// Just enough DOM typing for screenshotPixels (the test project compiles without lib.dom).
interface DocumentLike {
  createElement(tag: string): unknown;
}
interface ImageLike {
  src: string;
  naturalWidth: number;
  naturalHeight: number;
  decode(): Promise<void>;
}
interface CanvasLike {
  width: number;
  height: number;
  getContext(kind: '2d'): {
    drawImage(img: ImageLike, x: number, y: number): void;
    getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
  };
}
interface CanvasEl {
  width: number;
  getBoundingClientRect(): { left: number; top: number; width: number };
  getContext(kind: '2d'): {
    getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
  };
}
