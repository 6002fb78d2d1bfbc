import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../../bench/options.js';
import { buildResults } from '../../bench/results.js';
import { scaleOutRows } from '../../bench/scale-out-report.js';
import type { ScaleOutRun } from '../../bench/scale-out.js';
import { ConfigError } from '../../src/errors.js';

const machine = {
  cpu: 'test',
  cores: 2,
  memoryGb: 8,
  os: 'linux',
  node: 'v20',
  java: 'java',
  kafka: '4.1',
  redis: '7',
  loadAtStart: 0,
  concurrentTestProcesses: 0,
};

const run = (processors: number, cpuUsPerRecord: number): ScaleOutRun => ({
  processors,
  records: 100_000,
  beforeAllJoined: 0,
  elapsedMs: 10_000,
  recordsPerS: 10_000,
  cpuSecondsPerProcess: Array.from({ length: processors }, () => 1),
  cpuSeconds: processors,
  cpuUsPerRecord,
  kafkaCpuUsPerRecord: 12,
  redisCpuUsPerRecord: 7,
  verified: { redisVehicles: 25_000, warehouseRows: 100_000, ok: true },
  exitCodes: Array.from({ length: processors }, () => 0),
});

describe('bench --processors', () => {
  it('parses the counts, runs nothing else with --only scale, and needs a partition per processor', () => {
    expect(resolveOptions({ quick: true, processors: '1, 2,3' }).processors).toEqual([1, 2, 3]);
    expect(resolveOptions({ quick: true }).processors).toEqual([]);
    const only = resolveOptions({ quick: true, processors: '1,2', only: 'scale' });
    expect([...only.steps]).toEqual([]);
    expect(() => resolveOptions({ only: 'scale' })).toThrow(/needs --processors/);
    expect(() => resolveOptions({ processors: '1,4' })).toThrow(ConfigError);
    expect(() => resolveOptions({ processors: '1,4', partitions: '4' })).not.toThrow();
    expect(() => resolveOptions({ processors: '0' })).toThrow(/--processors/);
  });

  it('reports one row per count, with the CPU per record against the first count', () => {
    const options = resolveOptions({ quick: true, processors: '1,3', only: 'scale' });
    const r = buildResults(options, machine, {
      errors: {},
      scaleOut: { runs: [run(1, 100), run(3, 110)], errors: { 2: 'timed out' }, cpuPerRecordGrowth: 1.1 },
    });
    expect(r.options.processors).toEqual([1, 3]);
    const rows = scaleOutRows(r);
    expect(rows).toHaveLength(3);
    expect(rows[2]).toContain('2 × `fleet process` in one group | failed: timed out');
    expect(rows[0]).toContain('1 × `fleet process`');
    expect(rows[0]).toContain('100 µs per record (1 s)');
    expect(rows[1]).toContain('1 s + 1 s + 1 s');
    expect(rows[1]).toContain('1.10× the CPU per record of 1');
  });
});
