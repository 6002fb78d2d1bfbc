import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApiServer, startApiServer, type RunningApiServer } from '../../src/api/server.js';
import { compileConfig, readRawConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';
import { StreamTokens } from '../../src/http/stream-tokens.js';
import { FakeStateTable, FakeWarehouse } from '../support/api-fakes.js';
import { SseReader } from '../support/sse-client.js';

const KEY = 'stream-token-test-key-0123456789abcdef';
const configWith = (vars: Record<string, string>) =>
  compileConfig(readRawConfig({}, { API_KEYS: KEY, PORT: '0', ...vars }), { NODE_ENV: 'production' });

describe('StreamTokens', () => {
  let clock = 1_800_000_000_000;
  const tokens = StreamTokens.fromApiKeys([KEY], 300_000, () => clock);

  it('verifies what it issued until the expiry, then answers expired', () => {
    const { token, expiresAt } = tokens.issue();
    expect(expiresAt).toBe(clock + 300_000);
    expect(tokens.verify(token)).toBe('ok');
    clock += 299_999;
    expect(tokens.verify(token)).toBe('ok');
    clock += 1;
    expect(tokens.verify(token)).toBe('expired');
  });

  it('refuses forged, altered, truncated and foreign tokens', () => {
    const { token } = tokens.issue();
    const [version, expiry, nonce, mac] = token.split('.') as [string, string, string, string];
    // A later expiry with the old signature: the signature covers the expiry.
    const later = (parseInt(expiry, 36) + 3_600_000).toString(36);
    expect(tokens.verify([version, later, nonce, mac].join('.'))).toBe('invalid');
    expect(tokens.verify([version, expiry, `${nonce}x`, mac].join('.'))).toBe('invalid');
    expect(tokens.verify([version, expiry, nonce, mac.slice(1)].join('.'))).toBe('invalid');
    expect(tokens.verify([version, expiry, nonce].join('.'))).toBe('invalid');
    expect(tokens.verify(['st2', expiry, nonce, mac].join('.'))).toBe('invalid');
    expect(tokens.verify(KEY)).toBe('invalid');
    expect(tokens.verify('')).toBe('invalid');
    // Another deployment's keys: another signing key.
    const other = StreamTokens.fromApiKeys([`${KEY}-other`], 300_000, () => clock);
    expect(other.verify(token)).toBe('invalid');
  });

  it('are accepted by every replica with the same API keys, whatever their order', () => {
    const a = StreamTokens.fromApiKeys([KEY, `${KEY}-2`], 60_000);
    const b = StreamTokens.fromApiKeys([`${KEY}-2`, KEY], 60_000);
    expect(b.verify(a.issue().token)).toBe('ok');
  });
});

describe('POST /v1/stream-tokens and GET /v1/stream?token=', () => {
  let now = Date.now();
  let server: RunningApiServer;
  const readers: SseReader[] = [];

  beforeAll(async () => {
    server = await startApiServer({
      config: configWith({ STREAM_TOKEN_TTL_MS: '60000' }),
      table: new FakeStateTable(),
      warehouse: new FakeWarehouse(),
      registry: new Registry(),
      now: () => now,
    });
  });
  afterEach(() => {
    for (const r of readers.splice(0)) r.close();
  });
  afterAll(() => server.close());

  const open = async (query: string) => {
    const reader = new SseReader();
    readers.push(reader);
    await reader.open(`${server.url}/v1/stream${query}`);
    return reader;
  };
  const issue = async (headers: Record<string, string> = { 'x-api-key': KEY }) =>
    server.app.inject({ method: 'POST', url: '/v1/stream-tokens', headers });

  it('issues tokens only behind the API key, with their expiry', async () => {
    expect((await issue({})).statusCode).toBe(401);
    const res = await issue();
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.expiresInS).toBe(60);
    expect(Date.parse(body.expiresAt)).toBe(now + 60_000);
    expect(body.token).not.toContain(KEY);
  });

  it('a valid token opens the stream; expired and forged ones are 401 naming why', async () => {
    const { token } = (await issue()).json();
    const ok = await open(`?token=${encodeURIComponent(token)}&vehicle=v1`);
    expect(ok.status).toBe(200);
    await ok.waitFor('ready');

    const forged = await open(`?token=${encodeURIComponent(token.slice(0, -2))}AA`);
    expect(forged.status).toBe(401);
    expect(JSON.parse(forged.body)).toMatchObject({ code: 'invalid_stream_token' });

    now += 60_000;
    const expired = await open(`?token=${encodeURIComponent(token)}`);
    expect(expired.status).toBe(401);
    expect(JSON.parse(expired.body)).toMatchObject({ code: 'expired_stream_token' });
    expect(JSON.parse(expired.body).message).toContain('POST /v1/stream-tokens');
  });

  it('a token opens nothing but the stream', async () => {
    const { token } = (await issue()).json();
    const q = `token=${encodeURIComponent(token)}`;
    for (const url of [`/v1/vehicles?${q}`, `/v1/vehicles/v1?${q}`, `/metrics?${q}`]) {
      expect((await server.app.inject({ url })).statusCode, url).toBe(401);
    }
    expect((await server.app.inject({ method: 'POST', url: `/v1/stream-tokens?${q}` })).statusCode).toBe(401);
  });
});

it('STREAM_TOKEN_TTL_MS is checked at start', () => {
  expect(() => configWith({ STREAM_TOKEN_TTL_MS: '5' })).toThrowError(ConfigError);
  expect(() => configWith({ STREAM_TOKEN_TTL_MS: '5' })).toThrowError(/^STREAM_TOKEN_TTL_MS: /);
});

it('with API_AUTH=off tokens are still issued (harmless: the stream is open anyway)', async () => {
  const app = await createApiServer({
    config: configWith({ API_AUTH: 'off' }),
    table: new FakeStateTable(),
    warehouse: new FakeWarehouse(),
    registry: new Registry(),
  });
  expect((await app.inject({ method: 'POST', url: '/v1/stream-tokens' })).statusCode).toBe(201);
  await app.close();
});
