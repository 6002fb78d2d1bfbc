import { describe, expect, it } from 'vitest';

/** The live map's Web Mercator module (plain browser JS, no types): loaded by path. */
interface Viewport {
  lat: number;
  lon: number;
  zoom: number;
  width: number;
  height: number;
  resize(width: number, height: number): void;
  toScreen(lat: number, lon: number): { x: number; y: number };
  toLatLon(x: number, y: number): { lat: number; lon: number };
  panBy(dx: number, dy: number): void;
  zoomAround(x: number, y: number, zoom: number): void;
  fit(points: { lat: number; lon: number }[], margin?: number): void;
}
interface ProjectionModule {
  project(lat: number, lon: number, zoom: number): { x: number; y: number };
  unproject(x: number, y: number, zoom: number): { lat: number; lon: number };
  Viewport: new () => Viewport;
}
const modulePath = '../../src/api/public/projection.js';
const { project, unproject, Viewport } = (await import(modulePath)) as ProjectionModule;

describe('live map projection (Web Mercator)', () => {
  it('puts places in their slippy-map tiles', () => {
    // Tile z=12 of Paris Notre-Dame is 12/2074/1409 (x = floor((lon+180)/360 * 2^z)).
    const p = project(48.853, 2.3499, 12);
    expect(Math.floor(p.x / 256)).toBe(2074);
    expect(Math.floor(p.y / 256)).toBe(1409);
    expect(project(0, 0, 0)).toEqual({ x: 128, y: 128 });
  });

  it('round-trips lat/lon through world pixels', () => {
    for (const [lat, lon] of [
      [48.8566, 2.3522],
      [-33.8688, 151.2093],
      [64.1466, -21.9426],
    ] as const) {
      const p = project(lat, lon, 15.5);
      const back = unproject(p.x, p.y, 15.5);
      expect(back.lat).toBeCloseTo(lat, 9);
      expect(back.lon).toBeCloseTo(lon, 9);
    }
  });

  it('zooms around the pointer: the point under it stays put', () => {
    const view = new Viewport();
    view.resize(800, 600);
    view.lat = 48.85;
    view.lon = 2.35;
    view.zoom = 12;
    const under = view.toLatLon(100, 450);
    view.zoomAround(100, 450, 14.3);
    const after = view.toScreen(under.lat, under.lon);
    expect(after.x).toBeCloseTo(100, 6);
    expect(after.y).toBeCloseTo(450, 6);
    expect(view.zoom).toBe(14.3);
  });

  it('pans by screen pixels and fits every point inside the margins', () => {
    const view = new Viewport();
    view.resize(800, 600);
    view.zoom = 10;
    const before = view.toScreen(48.85, 2.35);
    view.panBy(30, -20);
    const moved = view.toScreen(48.85, 2.35);
    expect(moved.x - before.x).toBeCloseTo(30, 6);
    expect(moved.y - before.y).toBeCloseTo(-20, 6);

    const points = [
      { lat: 48.8, lon: 2.2 },
      { lat: 48.95, lon: 2.5 },
      { lat: 48.86, lon: 2.35 },
    ];
    view.fit(points, 60);
    for (const p of points) {
      const s = view.toScreen(p.lat, p.lon);
      expect(s.x).toBeGreaterThanOrEqual(59.9);
      expect(s.x).toBeLessThanOrEqual(740.1);
      expect(s.y).toBeGreaterThanOrEqual(59.9);
      expect(s.y).toBeLessThanOrEqual(540.1);
    }
  });
});
