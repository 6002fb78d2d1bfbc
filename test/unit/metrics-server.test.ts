import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { startMetricsServer, type MetricsServer } from '../../src/processor/metrics-server.js';
import { processorMetrics } from '../../src/stream/processor-metrics.js';

describe('metrics server', () => {
  let server: MetricsServer | undefined;
  afterEach(async () => server?.close());

  it('serves the processor metrics and a health document that turns 503 when not running', async () => {
    const registry = new Registry();
    const metrics = processorMetrics(registry);
    expect(processorMetrics(registry)).toBe(metrics); // one set per registry
    metrics.recordsIn.inc({ topic: 't', partition: '0' }, 42);
    let state = 'RUNNING';
    server = await startMetricsServer({
      host: '127.0.0.1',
      port: 0,
      registry,
      health: () => ({ ok: state === 'RUNNING', state }),
    });
    const base = `http://127.0.0.1:${server.port}`;

    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain('fleet_processor_records_in_total{topic="t",partition="0"} 42');
    expect(text).toContain('fleet_processor_event_to_visible_seconds_bucket');

    const ok = await fetch(`${base}/healthz`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ok: true, state: 'RUNNING' });
    state = 'DRAINING';
    expect((await fetch(`${base}/healthz`)).status).toBe(503);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });
});
