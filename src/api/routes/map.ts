import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { ApiConfig } from '../../config/config.js';

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
};

/**
 * The third-party files the page loads, by package: only these, under `/vendor/<package>/<file>`
 * (`dist/` dropped, so the stylesheet's relative `images/...` links resolve).
 * Leaflet as an ES module (its stylesheet and the images the stylesheet names), Natural Earth
 * 1:110m and 1:50m land and countries as TopoJSON, and topojson-client's browser build to unpack them.
 */
export const VENDOR_FILES: Readonly<Record<string, readonly string[]>> = {
  leaflet: [
    'dist/leaflet-src.esm.js',
    'dist/leaflet.css',
    'dist/images/layers.png',
    'dist/images/layers-2x.png',
    'dist/images/marker-icon.png',
    'dist/images/marker-icon-2x.png',
    'dist/images/marker-shadow.png',
  ],
  'world-atlas': ['land-110m.json', 'countries-110m.json', 'land-50m.json', 'countries-50m.json'],
  'topojson-client': ['dist/topojson-client.min.js'],
};

/**
 * The live map's files: `src/api/public` next to this module when running from source, the same
 * folder of the package when running the compiled dist/ (tsc does not copy it).
 */
export function publicDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.resolve(here, '../public'), path.resolve(here, '../../../src/api/public')];
  const found = candidates.find((dir) => existsSync(path.join(dir, 'index.html')));
  if (!found) throw new Error(`live map files not found in ${candidates.join(' or ')}`);
  return found;
}

/**
 * A package's folder as Node resolves it from this module: node_modules of the checkout when run
 * from source, of the image's /app when run from dist/ (the runtime stage copies node_modules).
 */
export function packageDir(name: string): string {
  return path.dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));
}

/** The page's settings, public: no secrets, only what the browser needs to draw. */
export function mapSettings(api: Readonly<ApiConfig>) {
  return {
    tileUrl: api.mapTileUrl ?? null,
    tileAttribution: api.mapTileAttribution ?? null,
    staleAfterMs: api.staleAfterMs,
    authRequired: api.authRequired,
  };
}

/**
 * `/` (the live map), its files and the vendored libraries under `/vendor`, read once at start and
 * served from memory: a fixed list of routes, so no request path ever reaches the file system.
 * No CDN, no build step.
 */
export function registerMapRoutes(app: FastifyInstance, api: Readonly<ApiConfig>, dir = publicDir()): void {
  const headers = {
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    'content-security-policy':
      "default-src 'self'; img-src 'self' data: https: http:; style-src 'self'; script-src 'self'; connect-src 'self'",
  };
  const serve = (url: string, file: string) => {
    const type = types[path.extname(file)];
    if (!type) throw new Error(`live map: no content type for ${file}`);
    const body = readFileSync(file);
    app.get(url, { schema: { hide: true } }, async (_request, reply) =>
      reply.headers(headers).type(type).send(body),
    );
  };
  for (const name of readdirSync(dir)) {
    if (!types[path.extname(name)]) continue;
    serve(name === 'index.html' ? '/' : `/${name}`, path.join(dir, name));
  }
  for (const [pkg, files] of Object.entries(VENDOR_FILES)) {
    const root = packageDir(pkg);
    for (const file of files) serve(`/vendor/${pkg}/${file.replace(/^dist\//, '')}`, path.join(root, file));
  }
  app.get('/map-config.json', { schema: { hide: true } }, async () => mapSettings(api));
}
