import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { EmfCollector, emfDocument } from '../../src/emf.js';
import { emfMetrics, startServiceEmf } from '../../src/emf-services.js';
import { silentLogger } from '../../src/logger.js';
import { processorMetrics } from '../../src/stream/processor-metrics.js';
import { emfProblems } from '../support/emf/emf-conformance.js';

const dims = { Service: 'processor', Topic: 'vehicle_positions' };

describe('EMF conformance check', () => {
  it('accepts a document of the specification and refuses broken ones', () => {
    const good = emfDocument(
      'FleetTracker',
      dims,
      [{ name: 'RecordsProcessed', unit: 'Count', value: 3 }],
      1,
    );
    expect(emfProblems(good)).toEqual([]);
    expect(emfProblems({ ...good, RecordsProcessed: 'three' })).toEqual([
      'metric RecordsProcessed has no numeric member in the root',
    ]);
    expect(emfProblems({ ...good, Service: 7 })).toEqual([
      'dimension Service is not a string member of the root',
    ]);
    const badUnit = structuredClone(good) as {
      _aws: { CloudWatchMetrics: { Metrics: { Unit: string }[] }[] };
    };
    badUnit._aws.CloudWatchMetrics[0]!.Metrics[0]!.Unit = 'Records';
    expect(emfProblems(badUnit).length).toBeGreaterThan(0);
    expect(emfProblems({ RecordsProcessed: 1 })).not.toEqual([]);
  });
});

describe('EmfCollector', () => {
  it('reports the processor metrics of an interval as conforming EMF lines', async () => {
    const registry = new Registry();
    const m = processorMetrics(registry);
    const collector = new EmfCollector(registry, 'FleetTracker', dims, emfMetrics.processor);
    m.recordsIn.inc({ topic: 't', partition: '0' }, 500);
    m.eventToVisible.observe(0.003);
    m.groupLag.set({ topic: 't', partition: '0' }, 12);
    m.groupLag.set({ topic: 't', partition: '1' }, 0);
    // First call: counters and histograms only take their baseline; gauges are reported.
    const first = await collector.collect(1000);
    expect(first.map((d) => d.ConsumerLag)).toEqual([12, 0]);

    m.recordsIn.inc({ topic: 't', partition: '0' }, 70);
    m.recordsIn.inc({ topic: 't', partition: '1' }, 30);
    for (let i = 0; i < 99; i++) m.eventToVisible.observe(0.004); // ≤ 5 ms bucket
    m.eventToVisible.observe(0.4); // ≤ 500 ms bucket: the slowest 1 %
    m.flushDuration.observe({ sink: 'warehouse' }, 0.2);
    m.flushDuration.observe({ sink: 'table' }, 4); // not the warehouse: ignored
    m.deadLettered.inc({ stage: 'decode' }, 2);
    const docs = await collector.collect(2000);
    for (const doc of docs) expect(emfProblems(doc)).toEqual([]);
    const [main, ...lag] = docs;
    expect(main).toMatchObject({
      Service: 'processor',
      Topic: 'vehicle_positions',
      RecordsProcessed: 100,
      DeadLetters: 2,
      EventToRedisLatencyP99: 5,
      WarehouseFlushDuration: 250,
    });
    expect(lag.map((d) => [d.Partition, d.ConsumerLag])).toEqual([
      ['0', 12],
      ['1', 0],
    ]);
    // The next interval counts from here: counts of 0 (an alarm on "any dead letter" needs the
    // zeros), no latency figures without observations.
    const [quiet] = await collector.collect(3000);
    expect(quiet).toMatchObject({ RecordsProcessed: 0, DeadLetters: 0 });
    expect(quiet!.EventToRedisLatencyP99).toBeUndefined();
    expect(quiet!.WarehouseFlushDuration).toBeUndefined();
  });

  it('counts API 5xx from the request histogram and the p99 latency', async () => {
    const registry = new Registry();
    const h = new Histogram({
      name: 'fleet_api_request_duration_seconds',
      help: 'x',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.005, 0.01],
      registers: [registry],
    });
    const collector = new EmfCollector(registry, 'FleetTracker', { ...dims, Service: 'api' }, emfMetrics.api);
    h.observe({ method: 'GET', route: '/x', status: '200' }, 0.001);
    await collector.collect();
    h.observe({ method: 'GET', route: '/x', status: '503' }, 0.002);
    h.observe({ method: 'GET', route: '/x', status: '500' }, 0.002);
    h.observe({ method: 'GET', route: '/x', status: '200' }, 0.02);
    const [doc] = await collector.collect();
    expect(emfProblems(doc)).toEqual([]);
    expect(doc).toMatchObject({ Api5xx: 2, ApiLatencyP99: 10 });
  });

  it('writes nothing when off, and a final line on stop when on', async () => {
    const registry = new Registry();
    const counter = new Counter({ name: 'fleet_producer_acked_total', help: 'x', registers: [registry] });
    const base = { intervalMs: 60_000, topic: 'vehicle_positions', registry, logger: silentLogger };
    expect(startServiceEmf('gateway', { ...base, enabled: false })).toBeNull();
    const lines: string[] = [];
    const emf = startServiceEmf('gateway', { ...base, enabled: true, write: (l) => lines.push(l) })!;
    await new Promise((r) => setTimeout(r, 10));
    counter.inc(42);
    await emf.stop();
    expect(lines).toHaveLength(1);
    const doc = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(emfProblems(doc)).toEqual([]);
    expect(doc).toMatchObject({ Service: 'gateway', PositionsIn: 42 });
  });
});
