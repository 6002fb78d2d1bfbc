import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ConfigError } from '../errors.js';
import type { StreamTokens } from './stream-tokens.js';

/** API key check: `x-api-key` header (or `Authorization: Bearer <key>`, for Prometheus scrapers). */
export interface AuthOptions {
  /** Accepted keys. */
  keys: readonly string[];
  /** When false every request passes. */
  required: boolean;
  /** Paths served without a key (health probes, the map page's static files, the docs). */
  isPublic: (path: string) => boolean;
  /**
   * Paths where a stream token (`?token=`, from `POST /v1/stream-tokens`) stands in for the key:
   * EventSource cannot send headers, and an API key never goes into a URL.
   */
  acceptsStreamToken: (path: string) => boolean;
  /** Verifies those tokens; absent: no path accepts one. */
  streamTokens?: StreamTokens;
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

function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header !== '') return header;
  const authorization = request.headers.authorization;
  if (authorization?.startsWith('Bearer ')) return authorization.slice('Bearer '.length).trim();
  return undefined;
}

function presentedToken(request: FastifyRequest): string | undefined {
  const token = (request.query as Record<string, unknown> | undefined)?.token;
  return typeof token === 'string' && token !== '' ? token : undefined;
}

function unauthorized(reply: FastifyReply, code: string, message: string): FastifyReply {
  return reply
    .code(401)
    .header('www-authenticate', 'ApiKey header="x-api-key"')
    .send({ statusCode: 401, error: 'Unauthorized', code, message });
}

/** An `onRequest` hook answering 401 for a missing or wrong key. */
export function apiKeyHook(options: AuthOptions) {
  assertKeysConfigured(options);
  const matches = keyMatcher(options.keys);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!options.required) return;
    const path = request.url.split('?', 1)[0] ?? '/';
    if (options.isPublic(path)) return;
    const key = presentedKey(request);
    if (key !== undefined) {
      if (matches(key)) return;
      return unauthorized(reply, 'invalid_api_key', 'the API key is not valid');
    }
    const tokens = options.acceptsStreamToken(path) ? options.streamTokens : undefined;
    const token = tokens ? presentedToken(request) : undefined;
    if (tokens && token !== undefined) {
      const check = tokens.verify(token);
      if (check === 'ok') return;
      return unauthorized(
        reply,
        `${check}_stream_token`,
        check === 'expired'
          ? 'the stream token has expired: get a new one from POST /v1/stream-tokens'
          : 'the stream token is not valid',
      );
    }
    return unauthorized(
      reply,
      'missing_api_key',
      tokens
        ? 'an API key is required: send it in the x-api-key header, or pass a stream token from POST /v1/stream-tokens as ?token='
        : 'an API key is required: send it in the x-api-key header',
    );
  };
}
