import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

/**
 * CORS for pages served from other origins (API_CORS_ORIGINS). Off when the list is empty: no
 * plugin, so no CORS header is ever sent and browsers keep the API same-origin (the live map is
 * served by the API itself and needs none). Must be registered before the API-key hook: a
 * preflight carries no credentials, and the plugin answers it in its own `onRequest` hook.
 */
export async function registerCors(app: FastifyInstance, origins: readonly string[]): Promise<void> {
  if (origins.length === 0) return;
  const allowed = new Set(origins);
  await app.register(cors, {
    // `false` for an origin not on the list turns CORS off for that request: no header at all
    // (a list would still send the allowed methods and headers to anyone).
    origin: allowed.has('*')
      ? '*'
      : (origin, done) => done(null, origin !== undefined && allowed.has(origin) ? origin : false),
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'],
    // The key travels in a header, not a cookie: no credentials mode needed.
    credentials: false,
    maxAge: 600,
  });
}
