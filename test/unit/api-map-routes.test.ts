import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiServer } from '../../src/api/server.js';
import { publicDir } from '../../src/api/routes/map.js';
import { compileConfig, readRawConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';
import { FakeStateTable, FakeWarehouse } from '../support/api-fakes.js';

const configWith = (vars: Record<string, string>) =>
  compileConfig(readRawConfig({}, vars), { NODE_ENV: 'production' });

describe('live map routes', () => {
  let app: FastifyInstance;

  beforeAll(async () => {
    app = await createApiServer({
      config: configWith({
        API_KEYS: 'k-1'.padEnd(32, '-'),
        MAP_TILE_URL: 'https://tile.openstreetmap.org/{z}/{x}/{y}.png',
        MAP_TILE_ATTRIBUTION: '&copy; OpenStreetMap contributors',
      }),
      table: new FakeStateTable(),
      warehouse: new FakeWarehouse(),
      registry: new Registry(),
    });
  });
  afterAll(() => app.close());

  it('serve every file the page and its modules name, without an API key', async () => {
    const dir = publicDir();
    const names = new Set<string>();
    const html = readFileSync(path.join(dir, 'index.html'), 'utf8');
    for (const [, url] of html.matchAll(/(?:href|src)="(\/[^"]*)"/g)) names.add(url!);
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.js'))) {
      const js = readFileSync(path.join(dir, file), 'utf8');
      for (const [, url] of js.matchAll(/from '(\/vendor\/[^']+)'/g)) names.add(url!);
      // The Natural Earth files, named by scale: `/vendor/world-atlas/land-${scale}.json`.
      const scales = [...js.matchAll(/naturalEarth\('(\w+)'/g)].map((m) => m[1]!);
      for (const [, url] of js.matchAll(/[`'](\/vendor\/[^`']+\.json)[`']/g)) {
        for (const scale of scales) names.add(url!.replace('${scale}', scale));
      }
    }
    expect([...names].filter((u) => u.startsWith('/vendor/')).sort()).toEqual([
      '/vendor/leaflet/leaflet-src.esm.js',
      '/vendor/leaflet/leaflet.css',
      '/vendor/topojson-client/topojson-client.min.js',
      '/vendor/world-atlas/countries-110m.json',
      '/vendor/world-atlas/countries-50m.json',
      '/vendor/world-atlas/land-110m.json',
      '/vendor/world-atlas/land-50m.json',
    ]);
    for (const url of names) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
    }
  });

  it('serve Leaflet as a module with the images its stylesheet links, and Natural Earth as TopoJSON', async () => {
    const leaflet = await app.inject({ url: '/vendor/leaflet/leaflet-src.esm.js' });
    expect(leaflet.headers['content-type']).toMatch(/^text\/javascript/);
    expect(leaflet.body).toMatch(/export \{[^}]*\bMap\b/);
    const css = (await app.inject({ url: '/vendor/leaflet/leaflet.css' })).body;
    for (const [, image] of css.matchAll(/url\((images\/[\w-]+\.png)\)/g)) {
      const res = await app.inject({ url: `/vendor/leaflet/${image}` });
      expect(res.statusCode, image).toBe(200);
      expect(res.headers['content-type']).toBe('image/png');
    }
    const land = await app.inject({ url: '/vendor/world-atlas/land-50m.json' });
    expect(land.headers['content-type']).toMatch(/^application\/json/);
    expect(land.json()).toMatchObject({
      type: 'Topology',
      objects: { land: { type: 'GeometryCollection' } },
    });
    const countries = (await app.inject({ url: '/vendor/world-atlas/countries-50m.json' })).json();
    expect(countries.objects.countries.geometries.length).toBeGreaterThan(200);
  });

  it('serve nothing else from the packages', async () => {
    for (const url of [
      '/vendor/leaflet/package.json',
      '/vendor/leaflet/leaflet.js',
      '/vendor/world-atlas/land-10m.json',
      '/vendor/leaflet/../../package.json',
      '/vendor/%2e%2e/package.json',
      '/vendor/express/index.js',
    ]) {
      // 404, or 401 where the path normalises to a (protected) path outside /vendor.
      expect([401, 404], url).toContain((await app.inject({ url })).statusCode);
    }
  });

  it('hand the page the tile URL and its attribution', async () => {
    expect((await app.inject({ url: '/map-config.json' })).json()).toEqual({
      tileUrl: 'https://tile.openstreetmap.org/{z}/{x}/{y}.png',
      tileAttribution: '&copy; OpenStreetMap contributors',
      staleAfterMs: 60_000,
      authRequired: true,
    });
  });

  it('refuse a MAP_TILE_URL that is no tile template, naming the variable', () => {
    for (const url of ['tile.openstreetmap.org/{z}/{x}/{y}.png', 'https://tiles.example/{z}/{x}.png']) {
      expect(() => configWith({ API_KEYS: 'k'.repeat(32), MAP_TILE_URL: url })).toThrowError(ConfigError);
      expect(() => configWith({ API_KEYS: 'k'.repeat(32), MAP_TILE_URL: url })).toThrowError(/MAP_TILE_URL/);
    }
  });
});
