import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { keyMatcher } from '../../src/http/auth.js';
import { createApiServer } from '../../src/api/server.js';
import { compileConfig, readRawConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';
import { FakeStateTable, FakeWarehouse, vehicle } from '../support/api-fakes.js';

const KEY = 'k-3c1f9e0a7b-5d2e8f4a6c9b1d3e7f0a';
const OTHER_KEY = 'other-key-0123456789abcdef0123456';
const configWith = (vars: Record<string, string>) =>
  compileConfig(readRawConfig({}, vars), { NODE_ENV: 'production' });

describe('API keys', () => {
  const table = new FakeStateTable();
  table.put(vehicle('v1', 48.85, 2.35, Date.now()));
  let app: FastifyInstance;

  beforeAll(async () => {
    app = await createApiServer({
      config: configWith({ API_KEYS: `${OTHER_KEY},${KEY}` }),
      table,
      warehouse: new FakeWarehouse(),
      registry: new Registry(),
    });
  });
  afterAll(() => app.close());

  it('are required by default outside development: 401 without a key, naming the header', async () => {
    const res = await app.inject({ url: '/v1/vehicles/v1' });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: 'missing_api_key' });
    expect(res.json().message).toContain('x-api-key');
    expect(res.headers['www-authenticate']).toContain('x-api-key');
  });

  it('401 on a wrong key, 200 with any configured key (header or bearer)', async () => {
    const wrong = await app.inject({ url: '/v1/vehicles/v1', headers: { 'x-api-key': `${KEY}x` } });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ code: 'invalid_api_key' });
    expect((await app.inject({ url: '/v1/vehicles/v1', headers: { 'x-api-key': KEY } })).statusCode).toBe(
      200,
    );
    expect(
      (await app.inject({ url: '/v1/vehicles/v1', headers: { 'x-api-key': OTHER_KEY } })).statusCode,
    ).toBe(200);
    const bearer = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${KEY}` } });
    expect(bearer.statusCode).toBe(200);
  });

  it('are checked before parameters, so a bad request without a key is still 401', async () => {
    expect((await app.inject({ url: '/v1/vehicles/nearby?lat=900' })).statusCode).toBe(401);
    const withKey = await app.inject({ url: '/v1/vehicles/nearby?lat=900', headers: { 'x-api-key': KEY } });
    expect(withKey.statusCode).toBe(400);
  });

  it('are never accepted in the URL, not even on /v1/stream', async () => {
    expect((await app.inject({ url: `/v1/vehicles/v1?api_key=${KEY}` })).statusCode).toBe(401);
    const res = await app.inject({ url: `/v1/stream?api_key=${KEY}` });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: 'missing_api_key' });
    expect(res.json().message).toContain('/v1/stream-tokens');
    // Nor does a key work as a stream token.
    expect((await app.inject({ url: `/v1/stream?token=${KEY}` })).json()).toMatchObject({
      code: 'invalid_stream_token',
    });
  });

  it('protect data and metrics, not the probes, the docs or the map page', async () => {
    for (const url of ['/v1/vehicles', '/v1/vehicles/v1/history', '/v1/vehicles/v1/summary', '/metrics']) {
      expect((await app.inject({ url })).statusCode, url).toBe(401);
    }
    for (const url of ['/healthz', '/readyz', '/', '/map-config.json', '/docs/json']) {
      expect((await app.inject({ url })).statusCode, url).toBe(200);
    }
  });

  it('refuse to start with auth required and no key configured', async () => {
    const start = createApiServer({
      config: configWith({}),
      table,
      warehouse: new FakeWarehouse(),
      registry: new Registry(),
    });
    await expect(start).rejects.toThrowError(ConfigError);
    await expect(start).rejects.toThrowError(/^API_KEYS: /);
  });

  it('shorter than 32 characters are refused at start, naming API_KEYS and never echoing the key', () => {
    const short = 'only-31-characters-long-key-abc';
    expect(short).toHaveLength(31);
    const attempt = () => configWith({ API_KEYS: `${KEY},${short}` });
    expect(attempt).toThrowError(ConfigError);
    expect(attempt).toThrowError(/^API_KEYS: .*at least 32 characters/);
    expect(attempt).not.toThrowError(new RegExp(short));
    expect(configWith({ API_KEYS: `${short}x` }).api.apiKeys).toEqual([`${short}x`]);
  });

  it('are off with API_AUTH=off', async () => {
    const open = await createApiServer({
      config: configWith({ API_AUTH: 'off' }),
      table,
      warehouse: new FakeWarehouse(),
      registry: new Registry(),
    });
    expect((await open.inject({ url: '/v1/vehicles/v1' })).statusCode).toBe(200);
    await open.close();
  });
});

describe('keyMatcher', () => {
  it('matches exactly one of the keys, whatever their lengths', () => {
    const matches = keyMatcher(['short', 'a-much-longer-key-0123456789']);
    expect(matches('short')).toBe(true);
    expect(matches('a-much-longer-key-0123456789')).toBe(true);
    expect(matches('shor')).toBe(false);
    expect(matches('shortx')).toBe(false);
    expect(matches('')).toBe(false);
    expect(keyMatcher([])('anything')).toBe(false);
  });
});
