import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { eventMatches } from '../../src/api/routes/event-stream.js';
import { SinkError } from '../../src/errors.js';
import { parseScenario, scenarioReport } from '../../src/ingest/simulator/scenario.js';
import { silentLogger } from '../../src/logger.js';
import { WebhookQueue } from '../../src/sinks/webhook-queue.js';

const instant = async () => undefined;
const counterValue = async (registry: Registry, name: string, labels: Record<string, string> = {}) =>
  (await registry.getSingleMetric(name)!.get()).values
    .filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))
    .reduce((sum, v) => sum + v.value, 0);

describe('WebhookQueue', () => {
  it('retries retriable failures, gives up after the retries, and refuses final answers at once', async () => {
    const registry = new Registry();
    const attempts = new Map<string, number>();
    const queue = new WebhookQueue<string>({
      deliver: async (id) => {
        const n = (attempts.get(id) ?? 0) + 1;
        attempts.set(id, n);
        if (id === 'flaky' && n <= 2) throw new SinkError('webhook', '503', { retriable: true });
        if (id === 'dead') throw new SinkError('webhook', 'refused', { retriable: true });
        if (id === 'refused') throw new SinkError('webhook', 'HTTP 400', { retriable: false });
      },
      capacity: 10,
      retry: { retries: 3, sleep: instant },
      describe: (id) => ({ id }),
      logger: silentLogger,
      registry,
    });
    const outcomes = await Promise.all(
      ['flaky', 'dead', 'refused', 'fine'].map(async (id) => (await queue.offer(id)).done),
    );
    expect(outcomes).toEqual(['delivered', 'failed', 'failed', 'delivered']);
    expect(Object.fromEntries(attempts)).toEqual({ flaky: 3, dead: 4, refused: 1, fine: 1 });
    expect(await counterValue(registry, 'fleet_webhook_deliveries_total', { outcome: 'failed' })).toBe(2);
    expect(await counterValue(registry, 'fleet_webhook_retries_total')).toBe(2 + 3);
  });

  it('makes the reader wait while it is full (counted), and ends what is left as aborted on close', async () => {
    const registry = new Registry();
    const release: (() => void)[] = [];
    const queue = new WebhookQueue<number>({
      deliver: () => new Promise<void>((resolve) => release.push(resolve)),
      capacity: 2,
      concurrency: 1,
      retry: { retries: 0, sleep: instant },
      describe: (n) => ({ n }),
      logger: silentLogger,
      registry,
    });
    const first = await queue.offer(1);
    await queue.offer(2);
    const third = queue.offer(3);
    let admitted = false;
    void third.then(() => (admitted = true));
    await new Promise((r) => setImmediate(r));
    expect(admitted).toBe(false);
    expect(await counterValue(registry, 'fleet_webhook_queue_full_total')).toBe(1);
    release.shift()!();
    expect(await first.done).toBe('delivered');
    const done3 = (await third).done;
    expect(admitted).toBe(true);
    queue.close();
    expect(await done3).toBe('aborted');
  });
});

describe('simulator scenario', () => {
  it('reads presets and key=value lists, and names --scenario on bad input', () => {
    expect(parseScenario('demo')).toMatchObject({ speeders: 1, silent: 1, speedKmh: 150 });
    expect(parseScenario('speeders=3,silent=2,speedKmh=140')).toMatchObject({
      speeders: 3,
      silent: 2,
      speedKmh: 140,
    });
    expect(() => parseScenario('speeders=x')).toThrow(/--scenario: 'speeders=x'/);
    expect(() => parseScenario('fast=1')).toThrow(/--scenario/);
  });

  it('raises a moving speeder in the first half of each minute, silences the silent after silentAfterMs', () => {
    const s = parseScenario('speeders=1,silent=1');
    const at = (ts: number, speed: number) => ({ vehicleId: 'v', ts, lat: 1, lon: 2, speed });
    expect(scenarioReport(s, 0, 0, at(10_000, 40))?.speed).toBe(150);
    expect(scenarioReport(s, 0, 0, at(40_000, 40))?.speed).toBe(40);
    expect(scenarioReport(s, 0, 0, at(10_000, 0))?.speed).toBe(0); // standing: not speeding
    expect(scenarioReport(s, 1, 0, at(19_999, 40))).not.toBeNull();
    expect(scenarioReport(s, 1, 0, at(20_000, 40))).toBeNull();
    expect(scenarioReport(s, 2, 0, at(99_000, 40))?.speed).toBe(40);
  });
});

describe('event stream filter', () => {
  const e = { id: 'a', type: 'overspeed' as const, vehicleId: 'v1', ts: 1 };
  it('keeps an event only when vehicle and type match', () => {
    expect(eventMatches({}, e)).toBe(true);
    expect(eventMatches({ vehicleId: 'v2' }, e)).toBe(false);
    expect(eventMatches({ types: new Set(['overspeed', 'online'] as const) }, e)).toBe(true);
    expect(eventMatches({ vehicleId: 'v1', types: new Set(['online'] as const) }, e)).toBe(false);
  });
});
