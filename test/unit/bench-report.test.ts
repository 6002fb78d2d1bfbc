import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventTimeOf } from '../../bench/fleet-positions.js';
import type { RateLatency } from '../../bench/latency.js';
import { testMachine } from '../support/bench-machine.js';
import { resolveOptions } from '../../bench/options.js';
import type { RedisReplayResult } from '../../bench/redis-replay.js';
import type { ReplayResult } from '../../bench/replay.js';
import { markdownTable, writeResults } from '../../bench/report.js';
import { buildResults, type BenchParts } from '../../bench/results.js';

// The honesty rules of issue 17 item 6: what a run did not measure must show in the table, the
// JSON and the exit code (runFromCli exits 1 when details.errors is not empty).

const tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-report-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const machine = testMachine;
const summary = (p99: number) => ({ p50: 2, p95: 3, p99, max: p99 + 1, count: 1000 });

function replay(verified: { redisVehicles: number; warehouseRows: number }): ReplayResult {
  const ok = verified.redisVehicles === 100 && verified.warehouseRows === 1000;
  return {
    records: 1000,
    recordsPerS: 20_000,
    recordsPerSWithStartup: 10_000,
    startupMs: 1000,
    elapsedMs: 50,
    peakRssMb: 280,
    // 0.032 s over 1000 records = 32 µs each.
    cpuSeconds: { processor: 0.032, kafka: 0.003, redis: 0.0114 },
    redisCommandSeconds: {},
    progress: [],
    verified: { ...verified, expectedVehicles: 100, ok },
    exitCode: 0,
  };
}

const redisReplay: RedisReplayResult = {
  records: 1000,
  recordsPerS: 50_000,
  elapsedMs: 20,
  startupMs: 900,
  peakRssMb: 200,
  cpuSeconds: { replay: 0.012, kafka: 0.002, redis: 0.01 },
  verified: { redisVehicles: 100, expectedVehicles: 100, ok: true },
  exitCode: 0,
};

function rate(
  r: number,
  options: { p99: number; bareP99?: number; caughtUp?: boolean; errors?: number; skipped?: number },
): RateLatency {
  return {
    rate: r,
    achievedRate: r,
    produced: r * 10,
    failed: 0,
    ackTailMs: 5,
    redis: summary(options.p99),
    ...(options.bareP99 !== undefined ? { bareKafka: summary(options.bareP99) } : {}),
    catchUp: { redis: options.caughtUp ?? true, bareKafka: true, waitedMs: 60_000 },
    lookups: {
      byId: summary(3),
      nearby: summary(4),
      errors: options.errors ?? 0,
      skipped: options.skipped ?? 0,
    },
    cpuSeconds: { processor: r * 10 * 50e-6, api: r * 10 * 5e-6 },
    processorRssMb: 200,
  };
}

const results = (parts: Omit<BenchParts, 'errors'>, errors: Record<string, string> = {}) =>
  buildResults(
    resolveOptions({ quick: true }),
    machine,
    { ...parts, errors },
    new Date('2026-01-02T03:04:05Z'),
  );

describe('bench honesty: verification', () => {
  it('fails the run when a replay stored the wrong counts, and says so in the table', () => {
    const r = results({ replay: replay({ redisVehicles: 99, warehouseRows: 1000 }) });
    expect(r.details.errors['processor replay verification']).toBe(
      '99 vehicles in Redis (expected 100), 1000 rows in DuckDB (expected 1000)',
    );
    const table = markdownTable(r);
    expect(table).toContain('20,000 records/s **❌ verification failed: 99 vehicles in Redis, 1,000 rows');
    expect(table).toContain('- **processor replay verification failed**: 99 vehicles in Redis');
  });

  it('adds no error when the counts match', () => {
    const r = results({ replay: replay({ redisVehicles: 100, warehouseRows: 1000 }), redisReplay });
    expect(r.details.errors).toEqual({});
    expect(markdownTable(r)).not.toContain('verification failed');
  });

  it('fails on a Redis-only replay that lost vehicles', () => {
    const r = results({
      redisReplay: { ...redisReplay, verified: { redisVehicles: 7, expectedVehicles: 100, ok: false } },
    });
    expect(r.details.errors['fleet replay (Redis only) verification']).toBe(
      '7 vehicles in Redis (expected 100)',
    );
  });
});

describe('bench honesty: headline figures', () => {
  it('gives CPU µs per record for every process of every run', () => {
    const r = results({
      replay: replay({ redisVehicles: 100, warehouseRows: 1000 }),
      redisReplay,
      latency: [rate(5000, { p99: 40, bareP99: 20 })],
    });
    expect(r.cpu_us_per_record.replay).toEqual({ processor: 32, kafka: 3, redis: 11.4 });
    expect(r.cpu_us_per_record.redis_replay).toEqual({ replay: 12, kafka: 2, redis: 10 });
    expect(r.cpu_us_per_record.latency['5000']).toEqual({ processor: 50, api: 5 });
    expect(markdownTable(r)).toContain('processor 32 µs, kafka 3 µs, redis 11.4 µs');
  });

  it('puts the Redis-only replay beside the processor replay, with the ratio and its 2× target', () => {
    const r = results({ replay: replay({ redisVehicles: 100, warehouseRows: 1000 }), redisReplay });
    expect(r.redis_replay_vs_processor).toBe(2.5);
    expect(markdownTable(r)).toMatch(
      /`fleet replay` → Redis only .*50,000 records\/s.*\| 2\.50× \| ≥ 2× ✅ \|/,
    );
    const slow = results({
      replay: replay({ redisVehicles: 100, warehouseRows: 1000 }),
      redisReplay: { ...redisReplay, recordsPerS: 30_000 },
    });
    expect(markdownTable(slow)).toMatch(/\| 1\.50× \| ≥ 2× ❌ \|/);
  });

  it('shows ours ÷ the bare Kafka path for every rate and checks it at 5k msg/s', () => {
    const r = results({
      latency: [rate(1000, { p99: 30, bareP99: 20 }), rate(5000, { p99: 80, bareP99: 20 })],
    });
    expect(r.e2e_latency_vs_bare_kafka).toEqual({ '1000': 1.5, '5000': 4 });
    expect(r.e2e_bare_kafka_latency_ms['5000']).toEqual({ p50: 2, p95: 3, p99: 20, max: 21 });
    const table = markdownTable(r);
    expect(table).toMatch(
      /at 1,000 msg\/s .*bare Kafka path .*p99 20 ms.*\| p99 ours ÷ bare: 1\.50× \| — \|/,
    );
    expect(table).toMatch(
      /at 5,000 msg\/s .*p99 ours ÷ bare: 4\.00× \| p99 ≤ 100 ms ✅, ≤ 3× bare Kafka ❌ \|/,
    );
  });
});

describe('bench honesty: what a latency run did not measure', () => {
  it('says when the observers gave up waiting for catch-up, and then meets no target', () => {
    const r = results({ latency: [rate(5000, { p99: 40, bareP99: 20, caughtUp: false })] });
    expect(r.e2e_latency_incomplete).toEqual(['5000']);
    const table = markdownTable(r);
    expect(table).toContain('gave up waiting for Redis to catch up after 60 s');
    expect(table).toMatch(/p99 ≤ 100 ms ❌, ≤ 3× bare Kafka ❌/);
    const caughtUp = markdownTable(results({ latency: [rate(5000, { p99: 40, bareP99: 20 })] }));
    expect(caughtUp).not.toContain('gave up');
    expect(caughtUp).toMatch(/p99 ≤ 100 ms ✅, ≤ 3× bare Kafka ✅/);
  });

  it('counts lookups that failed or were never sent, and then gives no ✅', () => {
    const r = results({ latency: [rate(5000, { p99: 40, errors: 3, skipped: 12 })] });
    expect(r.lookups_not_measured).toEqual({ errors: 3, skipped: 12 });
    const table = markdownTable(r);
    expect(table).toContain('3 non-200 or failed, 12 skipped (too many in flight)');
    expect(table).toMatch(/vehicles\/:id under 5,000 msg\/s .*p99 ≤ 5 ms ❌/);
    const clean = markdownTable(results({ latency: [rate(5000, { p99: 40 })] }));
    expect(clean).toMatch(/vehicles\/:id under 5,000 msg\/s .*p99 ≤ 5 ms ✅/);
  });
});

describe('bench results files', () => {
  it('writes a new timestamped file per run and never overwrites one', async () => {
    const dir = path.join(tmp, 'out');
    const r = results({});
    const first = await writeResults(dir, r, 'T');
    expect(path.basename(first)).toBe('2026-01-02T03-04-05Z-quick.json');
    writeFileSync(first, 'KEEP');
    const second = await writeResults(dir, r, 'T');
    expect(path.basename(second)).toBe('2026-01-02T03-04-05Z-quick-2.json');
    expect(readFileSync(first, 'utf8')).toBe('KEEP');
    expect(JSON.parse(readFileSync(second, 'utf8')).mode).toBe('quick');
    expect(readdirSync(path.join(dir, 'results')).sort()).toEqual([
      '2026-01-02T03-04-05Z-quick-2.json',
      '2026-01-02T03-04-05Z-quick.json',
    ]);
  });
});

describe('the bare Kafka consumer', () => {
  it('reads the event time of a JSON position without decoding it', () => {
    const value = Buffer.from(JSON.stringify({ vehicleId: 'v-1', ts: 1764620000123, lat: 1, lon: 2 }));
    expect(eventTimeOf(value)).toBe(1764620000123);
    expect(eventTimeOf(Buffer.from('{"vehicleId":"v"}'))).toBeNaN();
    expect(eventTimeOf(null)).toBeNaN();
  });
});
