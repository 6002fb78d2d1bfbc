import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConsumerPerformance, parseProducerPerformance } from '../../bench/kafka-tools.js';
import { testMachine } from '../support/bench-machine.js';
import { resolveOptions } from '../../bench/options.js';
import { summarizeProfile } from '../../bench/profile.js';
import { parseRedisBenchmarkCsv } from '../../bench/redis-benchmark.js';
import { markdownTable, writeResults } from '../../bench/report.js';
import { clientRatios } from '../../bench/client-ab-report.js';
import type { ClientRun } from '../../bench/client-ab.js';
import { buildResults, type BenchParts } from '../../bench/results.js';
import { LatencyRecorder, summarize } from '../../bench/stats.js';
import { ConfigError } from '../../src/errors.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-harness-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('bench statistics', () => {
  it('takes nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted on purpose
    expect(summarize(values)).toEqual({ p50: 50, p95: 95, p99: 99, max: 100, count: 100 });
    expect(summarize([7])).toEqual({ p50: 7, p95: 7, p99: 7, max: 7, count: 1 });
    expect(summarize([]).count).toBe(0);
  });

  it('records more samples than its initial capacity', () => {
    const recorder = new LatencyRecorder();
    for (let i = 1; i <= 5000; i++) recorder.record(i);
    expect(recorder.count).toBe(5000);
    expect(recorder.summary()).toMatchObject({ p50: 2500, p99: 4950, max: 5000 });
  });
});

describe('bench options', () => {
  it('uses full sizes by default and small ones with --quick', () => {
    expect(resolveOptions({})).toMatchObject({ records: 1_000_000, vehicles: 250_000, durationMs: 60_000 });
    expect(resolveOptions({ quick: true })).toMatchObject({
      records: 100_000,
      vehicles: 25_000,
      quick: true,
    });
  });

  it('lets flags win and keeps vehicles within records', () => {
    const o = resolveOptions({ quick: true, records: '20_000', rates: '100, 200', only: 'replay' });
    expect(o).toMatchObject({ records: 20_000, vehicles: 20_000, rates: [100, 200] });
    expect([...o.steps]).toEqual(['replay']);
    expect(() => resolveOptions({ records: '10', vehicles: '11' })).toThrow(ConfigError);
    expect(() => resolveOptions({ only: 'replay,warp' })).toThrow(/unknown step 'warp'/);
    expect(() => resolveOptions({ records: '-3' })).toThrow(/--records/);
  });
});

// Verbatim output of the Kafka 4.1.1 tools and redis-benchmark 7.0 on this machine.
const PRODUCER_PERF = [
  '20000 records sent, 19861.0 records/sec (3.73 MB/sec), 202.35 ms avg latency, 359.00 ms max latency, 205 ms 50th, 322 ms 95th, 335 ms 99th, 337 ms 99.9th.',
].join('\n');
const CONSUMER_PERF = [
  'start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec',
  '2026-11-25 20:26:55:654, 2026-11-25 20:26:56:530, 3.9767, 4.5396, 20000, 22831.0502, 616, 260, 15.2950, 76923.0769',
].join('\n');
const REDIS_CSV = [
  '"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"',
  '"SET","629132.12","4.669","0.880","4.615","5.943","9.527","10.039"',
].join('\n');

describe('tool output parsing', () => {
  it('reads ProducerPerformance’s summary line', () => {
    expect(parseProducerPerformance(PRODUCER_PERF)).toEqual({
      records: 20_000,
      recordsPerS: 19_861,
      mbPerS: 3.73,
      avgLatencyMs: 202.35,
      p99LatencyMs: 335,
    });
    expect(
      parseProducerPerformance('org.apache.kafka.common.InvalidRecordException: x\n' + PRODUCER_PERF),
    ).toBeNull();
    expect(parseProducerPerformance('')).toBeNull();
  });

  it('reads ConsumerPerformance by column name, fetch rate excluding the group join', () => {
    expect(parseConsumerPerformance(`some warning\n${CONSUMER_PERF}\n`)).toEqual({
      records: 20_000,
      recordsPerS: 76_923,
      mbPerS: 15.3,
      recordsPerSWithJoin: 22_831,
      rebalanceMs: 616,
      fetchMs: 260,
    });
    expect(parseConsumerPerformance(CONSUMER_PERF.split('\n')[0]!)).toBeNull();
  });

  it('reads redis-benchmark CSV', () => {
    expect(parseRedisBenchmarkCsv(REDIS_CSV)).toBe(629_132);
    expect(parseRedisBenchmarkCsv(REDIS_CSV.split('\n')[0]!)).toBeNull();
  });
});

describe('CPU profile summary', () => {
  it('charges node internals and natives to the nearest caller with an area', async () => {
    const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({
      id,
      callFrame: { functionName, url, lineNumber: 0, columnNumber: 0, scriptId: '0' },
      hitCount: 0,
      children,
    });
    const profile = {
      nodes: [
        frame(1, '(root)', '', [2, 5, 8, 9]),
        frame(2, 'fetch', 'file:///app/node_modules/kafkajs/src/consumer/fetch.js', [3]),
        frame(3, 'onread', 'node:internal/stream_base_commons', [4]),
        frame(4, 'inflate', ''),
        frame(5, 'decode', 'file:///app/src/domain/codec.ts', [6]),
        frame(6, 'parse', ''),
        frame(8, '(garbage collector)', ''),
        frame(9, '(idle)', ''),
      ],
      // 3 samples in zlib under kafkajs, 2 in JSON.parse under our codec, 1 GC, 4 idle; 1 ms each.
      samples: [4, 4, 4, 6, 6, 8, 9, 9, 9, 9],
      timeDeltas: Array(10).fill(1000),
    };
    const file = path.join(tmp, 'test.cpuprofile');
    writeFileSync(file, JSON.stringify(profile));
    const summary = await summarizeProfile(file);
    expect(summary.totalMs).toBe(10);
    expect(summary.busyMs).toBe(6);
    expect(Object.fromEntries(summary.areas.map((a) => [a.area, a.ms]))).toEqual({
      'idle (waiting on I/O)': 4,
      'kafkajs (fetch, decode)': 3,
      'decode (JSON.parse)': 2,
      GC: 1,
    });
    expect(summary.topFunctions[0]).toEqual({ fn: 'inflate native', ms: 3, pct: 30 });
  });
});

describe('results and the markdown table', () => {
  const machine = testMachine;
  const latency = (p99: number) => ({ p50: 5, p95: 10, p99, max: 120, count: 1000 });
  const parts: BenchParts = {
    simulator: {
      tool: 'fleet simulate',
      records: 900,
      recordsPerS: 30_000,
      mbPerS: 6,
      avgRecordBytes: 190,
      failed: 0,
      seconds: 8,
      cpuSeconds: {},
      peakRssMb: 150,
    },
    producer: {
      tool: 'PositionPublisher',
      records: 1000,
      recordsPerS: 40_000,
      mbPerS: 8,
      avgRecordBytes: 200,
      failed: 0,
    },
    producerPerf: {
      records: 1000,
      recordsPerS: 100_000,
      mbPerS: 20,
      avgLatencyMs: 3,
      p99LatencyMs: 9,
      recordSize: 200,
    },
    consumerPerf: {
      records: 1000,
      recordsPerS: 200_000,
      mbPerS: 40,
      recordsPerSWithJoin: 90_000,
      rebalanceMs: 3000,
      fetchMs: 5,
    },
    rawConsume: {
      records: 1000,
      recordsPerS: 150_000,
      mbPerS: 30,
      joinMs: 3000,
      cpuUsPerRecord: 4,
      brokerCpuUsPerRecord: 1,
    },
    latency: [1000, 5000].map((rate) => ({
      rate,
      achievedRate: rate,
      produced: rate * 10,
      failed: 0,
      ackTailMs: 20,
      redis: latency(rate === 5000 ? 150 : 20),
      warehouse: latency(5000),
      lookups: { byId: latency(4), nearby: latency(8), errors: 0, skipped: 0 },
      cpuSeconds: {},
      processorRssMb: 200,
    })),
    errors: { 'processor replay': 'fleet process exited early (code 1)\nstack' },
  };

  it('computes the ratios to the ceilings and keeps the issue’s keys', () => {
    const r = buildResults(resolveOptions({ quick: true }), machine, parts, new Date('2026-01-02T03:04:05Z'));
    expect(r.mode).toBe('quick');
    expect(r.producer_records_per_s).toBe(30_000);
    expect(r.producer_tool).toBe('fleet simulate');
    expect(r.publisher_records_per_s).toBe(40_000);
    expect(r.ratios).toEqual({
      processor_vs_consumer_perf: null,
      producer_vs_producer_perf: 0.3,
      publisher_vs_producer_perf: 0.4,
      publisher_platformatic_vs_producer_perf: null,
      processor_vs_kafkajs_raw: null,
      kafkajs_raw_vs_consumer_perf: 0.75,
    });
    expect(r.e2e_latency_ms['5000']).toEqual({ p50: 5, p95: 10, p99: 150, max: 120 });
    expect(r.lookup_by_id_ms).toEqual({ p50: 5, p99: 4 });
    expect(r.processor_records_per_s).toBeNull();
  });

  it('prints targets with their verdict and the failed steps', () => {
    const r = buildResults(resolveOptions({ quick: true }), machine, parts);
    const table = markdownTable(r);
    expect(table).toContain('| 0.30× |');
    expect(table).toContain('| 0.40× |');
    expect(table).toMatch(/5,000 msg\/s .*p99 ≤ 100 ms ❌/);
    expect(table).toMatch(/vehicles\/:id .*p99 ≤ 5 ms ✅/);
    expect(table).toContain('- **processor replay failed**: fleet process exited early (code 1)');
    expect(table).not.toContain('stack');
  });

  it('shows the client A/B as means of both runs, platformatic ÷ kafkajs', () => {
    const run = (client: ClientRun['client'], recordsPerS: number, cpuUsPerRecord: number): ClientRun => ({
      client,
      records: 1000,
      recordsPerS,
      cpuUsPerRecord,
      brokerCpuUsPerRecord: 1,
    });
    const consume = [
      run('kafkajs', 100_000, 10),
      run('@platformatic/kafka', 150_000, 6),
      run('kafkajs', 300_000, 10),
      run('@platformatic/kafka', 250_000, 9),
    ];
    expect(clientRatios(consume)).toEqual({ throughput: 1, cpu: 0.75 });
    const produce = [run('kafkajs', 50_000, 20), run('@platformatic/kafka', 100_000, 10)];
    const r = buildResults(resolveOptions({ quick: true }), machine, {
      ...parts,
      clients: { consume, produce, produceRecords: 1000, messagesPerSend: 500 },
    });
    const table = markdownTable(r);
    expect(table).toContain('@platformatic/kafka 1.x: 150,000/s, 6 µs; 250,000/s, 9 µs');
    expect(table).toContain('platformatic ÷ kafkajs: 1.00× records/s, 0.75× CPU per record');
    expect(table).toContain('platformatic ÷ kafkajs: 2.00× records/s, 0.50× CPU per record');
    expect(markdownTable(buildResults(resolveOptions({ quick: true }), machine, parts))).not.toContain(
      'Client A/B',
    );
  });

  it('writes the JSON and replaces only the README section of a full run', async () => {
    const readme = path.join(tmp, 'README.md');
    writeFileSync(readme, 'intro\n<!-- bench:results:start -->\nold\n<!-- bench:results:end -->\noutro\n');
    const full = buildResults(resolveOptions({}), machine, parts, new Date('2026-01-02T03:04:05Z'));
    const file = await writeResults(tmp, full, 'THE TABLE');
    expect(path.basename(file)).toBe('2026-01-02T03-04-05Z.json');
    expect(JSON.parse(readFileSync(file, 'utf8')).producer_records_per_s).toBe(30_000);
    const text = readFileSync(readme, 'utf8');
    expect(text).toMatch(/^intro\n<!-- bench:results:start -->\n+THE TABLE\n/);
    expect(text).toMatch(/<!-- bench:results:end -->\n+outro\n$/);
    expect(text).not.toContain('old');

    const quick = buildResults(
      resolveOptions({ quick: true }),
      machine,
      parts,
      new Date('2026-01-02T03:04:05Z'),
    );
    expect(path.basename(await writeResults(tmp, quick, 'QUICK'))).toBe('2026-01-02T03-04-05Z-quick.json');
    expect(readFileSync(readme, 'utf8')).not.toContain('QUICK');
  });
});
