import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createApiServer } from '../../src/api/server.js';
import { compileConfig, readRawConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';
import { FakeStateTable, FakeWarehouse, vehicle } from '../support/api-fakes.js';

const KEY = 'cors-test-key-0123456789abcdef0123';
const ALLOWED = 'https://ops.example.com';
const configWith = (vars: Record<string, string>) =>
  compileConfig(readRawConfig({}, { API_KEYS: KEY, ...vars }), { NODE_ENV: 'production' });

const preflight = (app: FastifyInstance, origin: string) =>
  app.inject({
    method: 'OPTIONS',
    url: '/v1/vehicles/v1',
    headers: {
      origin,
      'access-control-request-method': 'GET',
      'access-control-request-headers': 'x-api-key',
    },
  });
const corsHeaders = (headers: Record<string, unknown>) =>
  Object.keys(headers).filter((h) => h.startsWith('access-control-'));

describe('CORS (API_CORS_ORIGINS)', () => {
  let app: FastifyInstance | undefined;
  const start = async (vars: Record<string, string>) => {
    const table = new FakeStateTable();
    table.put(vehicle('v1', 48.85, 2.35, Date.now()));
    app = await createApiServer({
      config: configWith(vars),
      table,
      warehouse: new FakeWarehouse(),
      registry: new Registry(),
    });
    return app;
  };
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('answers a preflight from an allowed origin before the API key is asked for', async () => {
    const api = await start({ API_CORS_ORIGINS: `http://localhost:5173, ${ALLOWED}` });
    const res = await preflight(api, ALLOWED);
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(String(res.headers['access-control-allow-methods'])).toContain('GET');
    expect(String(res.headers['access-control-allow-headers'])).toContain('x-api-key');
    const get = await api.inject({ url: '/v1/vehicles/v1', headers: { origin: ALLOWED, 'x-api-key': KEY } });
    expect(get.statusCode).toBe(200);
    expect(get.headers['access-control-allow-origin']).toBe(ALLOWED);
  });

  it('sends no CORS header to an origin that is not on the list', async () => {
    const api = await start({ API_CORS_ORIGINS: ALLOWED });
    const res = await preflight(api, 'https://evil.example.net');
    expect(corsHeaders(res.headers)).toEqual([]);
    const get = await api.inject({
      url: '/v1/vehicles/v1',
      headers: { origin: 'https://ops.example.com.evil.net', 'x-api-key': KEY },
    });
    expect(get.statusCode).toBe(200);
    expect(corsHeaders(get.headers)).toEqual([]);
  });

  it('is off by default: no CORS header on a preflight or a request', async () => {
    const api = await start({});
    const res = await preflight(api, ALLOWED);
    expect(corsHeaders(res.headers)).toEqual([]);
    // Without the plugin no OPTIONS route exists, and the key is still asked for first.
    expect(res.statusCode).toBe(401);
    const get = await api.inject({ url: '/v1/vehicles/v1', headers: { origin: ALLOWED, 'x-api-key': KEY } });
    expect(get.statusCode).toBe(200);
    expect(corsHeaders(get.headers)).toEqual([]);
  });

  it('allows any origin only with an explicit `*`', async () => {
    const api = await start({ API_CORS_ORIGINS: '*' });
    const res = await preflight(api, 'https://anywhere.example.org');
    expect(res.headers['access-control-allow-origin']).toBe('*');
  });

  it('sends the header on the SSE stream too (EventSource across origins)', async () => {
    const api = await start({ API_CORS_ORIGINS: ALLOWED });
    const url = await api.listen({ host: '127.0.0.1', port: 0 });
    const controller = new AbortController();
    const res = await fetch(`${url}/v1/stream`, {
      headers: { origin: ALLOWED, 'x-api-key': KEY },
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    controller.abort();
  });

  it.each([
    ['https://ops.example.com/', 'a trailing slash'],
    ['https://ops.example.com/map', 'a path'],
    ['ops.example.com', 'no scheme'],
    ['ftp://ops.example.com', 'not http(s)'],
    [`*,${ALLOWED}`, '`*` combined with origins'],
  ])('refuses %s (%s) at start, naming API_CORS_ORIGINS', (value) => {
    const compile = () => configWith({ API_CORS_ORIGINS: value });
    expect(compile).toThrowError(ConfigError);
    expect(compile).toThrowError(/^API_CORS_ORIGINS: /);
  });
});
