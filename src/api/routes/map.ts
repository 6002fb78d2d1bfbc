import { existsSync, readdirSync, readFileSync } from 'node:fs';
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

/** The page's settings, public: no secrets, only what the browser needs to draw. */
export function mapSettings(api: Readonly<ApiConfig>) {
  return {
    tileUrl: api.mapTileUrl ?? null,
    staleAfterMs: api.staleAfterMs,
    authRequired: api.authRequired,
  };
}

/**
 * `/` (the live map) and its files, read once at start and served from memory: a fixed list of
 * routes, so no request path ever reaches the file system. No CDN, no build step.
 */
export function registerMapRoutes(app: FastifyInstance, api: Readonly<ApiConfig>, dir = publicDir()): void {
  const headers = {
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    'content-security-policy':
      "default-src 'self'; img-src 'self' data: https: http:; style-src 'self'; script-src 'self'; connect-src 'self'",
  };
  for (const name of readdirSync(dir)) {
    const type = types[path.extname(name)];
    if (!type) continue;
    const body = readFileSync(path.join(dir, name));
    const url = name === 'index.html' ? '/' : `/${name}`;
    app.get(url, { schema: { hide: true } }, async (_request, reply) =>
      reply.headers(headers).type(type).send(body),
    );
  }
  app.get('/map-config.json', { schema: { hide: true } }, async () => mapSettings(api));
}
