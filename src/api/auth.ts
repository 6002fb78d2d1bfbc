import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ConfigError } from '../errors.js';

/** API key check: `x-api-key` header (or `Authorization: Bearer <key>`, for Prometheus scrapers). */
export interface AuthOptions {
  /** Accepted keys. */
  keys: readonly string[];
  /** When false every request passes. */
  required: boolean;
  /** Paths served without a key (health probes, the map page's static files, the docs). */
  isPublic: (path: string) => boolean;
  /** Paths where `?api_key=` is also accepted (EventSource cannot send headers). */
  acceptsQueryKey: (path: string) => boolean;
}

const digest = (key: string) => createHash('sha256').update(key, 'utf8').digest();

/**
 * Compares against every key in constant time: both sides are hashed to the same length first, and
 * the loop never stops early, so timing reveals neither a key's length nor which key matched.
 */
export function keyMatcher(keys: readonly string[]): (candidate: string) => boolean {
  const digests = keys.map(digest);
  return (candidate) => {
    const given = digest(candidate);
    let ok = false;
    for (const d of digests) ok = timingSafeEqual(d, given) || ok;
    return ok;
  };
}

/** Refuses to serve with auth required and no key configured. */
export function assertKeysConfigured(options: Pick<AuthOptions, 'keys' | 'required'>): void {
  if (options.required && options.keys.length === 0) {
    throw new ConfigError(
      'API_KEYS',
      'no API key configured while API auth is required: set API_KEYS=<key>[,<key>...] (or API_AUTH=off for local development only)',
    );
  }
}

function presentedKey(request: FastifyRequest, allowQuery: boolean): string | undefined {
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header !== '') return header;
  const authorization = request.headers.authorization;
  if (authorization?.startsWith('Bearer ')) return authorization.slice('Bearer '.length).trim();
  if (allowQuery) {
    const key = (request.query as Record<string, unknown> | undefined)?.api_key;
    if (typeof key === 'string' && key !== '') return key;
  }
  return undefined;
}

/** An `onRequest` hook answering 401 for a missing or wrong key. */
export function apiKeyHook(options: AuthOptions) {
  assertKeysConfigured(options);
  const matches = keyMatcher(options.keys);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!options.required) return;
    const path = request.url.split('?', 1)[0] ?? '/';
    if (options.isPublic(path)) return;
    const key = presentedKey(request, options.acceptsQueryKey(path));
    if (key !== undefined && matches(key)) return;
    reply
      .code(401)
      .header('www-authenticate', 'ApiKey header="x-api-key"')
      .send({
        statusCode: 401,
        error: 'Unauthorized',
        code: key === undefined ? 'missing_api_key' : 'invalid_api_key',
        message:
          key === undefined
            ? 'an API key is required: send it in the x-api-key header'
            : 'the API key is not valid',
      });
    return reply;
  };
}
