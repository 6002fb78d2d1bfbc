import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createGatewayServer } from '../../src/ingest/gateway/server.js';
import type { Publisher } from '../../src/ingest/publisher.js';
import { compileConfig, readRawConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';
import { isLoopbackHost, metricsAccess } from '../../src/http/metrics-access.js';
import { startMetricsServer, type MetricsServer } from '../../src/processor/metrics-server.js';

const METRICS_KEY = 'metrics-key-0123456789abcdef0123456789';
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const publisher: Publisher = { publish: async () => undefined };

describe('isLoopbackHost', () => {
  it('knows loopback from the rest', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    for (const host of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.2', 'example.com', '127.0.0.1.example.com']) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });
});

describe('metricsAccess', () => {
  it('without a key: loopback-bound servers answer, others refuse with 403 naming METRICS_KEY', () => {
    expect(metricsAccess({ host: '127.0.0.1' })(undefined)).toEqual({ ok: true });
    const refused = metricsAccess({ host: '0.0.0.0' })('Bearer anything');
    expect(refused).toMatchObject({ ok: false, status: 403, code: 'metrics_key_required' });
    expect(refused.ok || refused.message).toContain('METRICS_KEY');
  });

  it('with a key: the bearer must match, wherever the server listens', () => {
    for (const host of ['127.0.0.1', '0.0.0.0']) {
      const check = metricsAccess({ host, key: METRICS_KEY });
      expect(check(undefined)).toMatchObject({ status: 401, code: 'missing_metrics_key' });
      expect(check(`Bearer ${METRICS_KEY}x`)).toMatchObject({ status: 401, code: 'invalid_metrics_key' });
      expect(check(METRICS_KEY)).toMatchObject({ status: 401, code: 'missing_metrics_key' });
      expect(check(`Bearer ${METRICS_KEY}`)).toEqual({ ok: true });
    }
  });
});

describe("fleet process's metrics server", () => {
  let server: MetricsServer | undefined;
  afterEach(async () => server?.close());
  const health = () => ({ ok: true });

  it('refuses to listen beyond loopback without METRICS_KEY', async () => {
    const start = startMetricsServer({ host: '0.0.0.0', port: 0, registry: new Registry(), health });
    await expect(start).rejects.toThrowError(ConfigError);
    await expect(start).rejects.toThrowError(/^METRICS_KEY: METRICS_HOST=0\.0\.0\.0/);
  });

  it('with METRICS_KEY: /metrics needs the bearer key, /healthz (health checks) does not', async () => {
    server = await startMetricsServer({
      host: '127.0.0.1',
      key: METRICS_KEY,
      port: 0,
      registry: new Registry(),
      health,
    });
    const base = `http://127.0.0.1:${server.port}`;
    const missing = await fetch(`${base}/metrics`);
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ code: 'missing_metrics_key' });
    expect((await fetch(`${base}/metrics`, { headers: bearer('wrong') })).status).toBe(401);
    expect((await fetch(`${base}/metrics`, { headers: bearer(METRICS_KEY) })).status).toBe(200);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('binds to METRICS_HOST, 127.0.0.1 unless set; METRICS_KEY must be 32 characters or more', () => {
    const config = (vars: Record<string, string>) => compileConfig(readRawConfig({}, vars), {});
    expect(config({}).metrics).toMatchObject({ host: '127.0.0.1' });
    expect(config({}).metrics.key).toBeUndefined();
    expect(config({ METRICS_HOST: '0.0.0.0', METRICS_KEY }).metrics).toMatchObject({
      host: '0.0.0.0',
      key: METRICS_KEY,
    });
    expect(() => config({ METRICS_KEY: 'short' })).toThrowError(/^METRICS_KEY: invalid value \(hidden\)/);
  });
});

describe("the gateway's /metrics", () => {
  const gateway = (vars: Record<string, string>) =>
    createGatewayServer({
      config: compileConfig(readRawConfig({}, vars), {}),
      publisher,
      registry: new Registry(),
    });

  it('on HOST=0.0.0.0 without METRICS_KEY: 403, while ingest and /healthz still answer', async () => {
    const app = await gateway({ HOST: '0.0.0.0' });
    const res = await app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'metrics_key_required' });
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    await app.close();
  });

  it('with METRICS_KEY: the bearer key opens it; on loopback without a key it is open', async () => {
    const keyed = await gateway({ HOST: '0.0.0.0', METRICS_KEY });
    expect((await keyed.inject({ url: '/metrics' })).statusCode).toBe(401);
    const ok = await keyed.inject({ url: '/metrics', headers: bearer(METRICS_KEY) });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['content-type']).toContain('text/plain');
    await keyed.close();
    const local = await gateway({ HOST: '127.0.0.1' });
    expect((await local.inject({ url: '/metrics' })).statusCode).toBe(200);
    await local.close();
  });
});
