import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { testMachine } from '../support/bench-machine.js';
import { resolveOptions } from '../../bench/options.js';
import type { PeerResult } from '../../bench/peer.js';
import { peerSourceHash } from '../../bench/peer-build.js';
import { comparePeer, cpuUsPerRecord } from '../../bench/peer-comparison.js';
import { markdownTable } from '../../bench/report.js';
import type { ReplayResult } from '../../bench/replay.js';
import { buildResults } from '../../bench/results.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-peer-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('ours ÷ the Kafka Streams peer', () => {
  it('turns CPU seconds into µs per record', () => {
    expect(cpuUsPerRecord(3.2, 100_000)).toBe(32);
    expect(cpuUsPerRecord(1, 3)).toBe(333333.3);
    expect(cpuUsPerRecord(undefined, 100_000)).toBeNull();
    expect(cpuUsPerRecord(3.2, 0)).toBeNull();
  });

  it('divides ours by the peer for throughput, CPU per record and RSS', () => {
    const ours = { records: 100_000, recordsPerS: 40_000, cpuSeconds: 3.2, peakRssMb: 250 };
    const peer = { records: 100_000, recordsPerS: 20_000, cpuSeconds: 6.4, peakRssMb: 500 };
    expect(comparePeer(ours, peer)).toEqual({
      processorCpuUsPerRecord: 32,
      peerCpuUsPerRecord: 64,
      throughput: 2,
      cpuPerRecord: 0.5,
      rss: 0.5,
    });
  });

  it('leaves a ratio out when either side is missing or zero', () => {
    const ours = { records: 100_000, recordsPerS: 40_000, cpuSeconds: undefined, peakRssMb: 250 };
    expect(comparePeer(ours, undefined)).toEqual({
      processorCpuUsPerRecord: null,
      peerCpuUsPerRecord: null,
      throughput: null,
      cpuPerRecord: null,
      rss: null,
    });
    const stalled = { records: 100_000, recordsPerS: 0, cpuSeconds: 1, peakRssMb: 0 };
    expect(comparePeer(ours, stalled)).toMatchObject({ throughput: null, rss: null });
  });
});

describe('the peer in the results and the table', () => {
  const machine = testMachine;
  const verified = { redisVehicles: 250, warehouseRows: 1000, ok: true };
  const replay = {
    records: 1000,
    recordsPerS: 30_000,
    peakRssMb: 240,
    cpuSeconds: { processor: 0.05, kafka: 0.01 },
    verified,
  } as unknown as ReplayResult;
  const peer: PeerResult = {
    tool: 'Kafka Streams',
    jvmFlags: ['-Xmx256m', '-XX:+UseSerialGC'],
    records: 1000,
    recordsPerS: 20_000,
    recordsPerSWithStartup: 5000,
    startupMs: 3000,
    elapsedMs: 50,
    peakRssMb: 300,
    cpuSeconds: { peer: 0.04, kafka: 0.01 },
    cpuUsPerRecord: 40,
    verified,
    exitCode: 143,
    build: { built: false, ms: 0 },
  };

  it('keeps the peer figures and ours ÷ peer at the top level', () => {
    const r = buildResults(resolveOptions({ quick: true }), machine, { replay, peer, errors: {} });
    expect(r.mode).toBe('quick');
    expect(r.peer_records_per_s).toBe(20_000);
    expect(r.peer_peak_rss_mb).toBe(300);
    expect(r.processor_vs_peer).toEqual({
      processorCpuUsPerRecord: 50,
      peerCpuUsPerRecord: 40,
      throughput: 1.5,
      cpuPerRecord: 1.25,
      rss: 0.8,
    });
  });

  it('prints ours beside the peer with the ≥ 1.0× verdict, and nothing without a peer', () => {
    const table = markdownTable(
      buildResults(resolveOptions({ quick: true }), machine, { replay, peer, errors: {} }),
    );
    expect(table).toContain(
      '| ours 30,000 records/s | peer: 20,000 records/s | ours ÷ peer: 1.50× | ≥ 1.0× ✅ |',
    );
    expect(table).toContain('| ours 50 µs | peer: 40 µs | ours ÷ peer: 1.25× |');
    expect(table).toContain('| ours 240 MB | peer: 300 MB | ours ÷ peer: 0.80× |');
    const slower = markdownTable(
      buildResults(resolveOptions({ quick: true }), machine, {
        replay: { ...replay, recordsPerS: 10_000 },
        peer,
        errors: {},
      }),
    );
    expect(slower).toContain('ours ÷ peer: 0.50× | ≥ 1.0× ❌ |');
    const alone = markdownTable(
      buildResults(resolveOptions({ quick: true }), machine, { replay, errors: {} }),
    );
    expect(alone).not.toContain('peer');
  });

  it('is a step of its own: --only peer, and part of every full run', () => {
    expect([...resolveOptions({ only: 'replay,peer' }).steps]).toEqual(['replay', 'peer']);
    expect(resolveOptions({}).steps.has('peer')).toBe(true);
    const full = buildResults(resolveOptions({}), machine, { errors: {} });
    expect(full.mode).toBe('full');
  });
});

describe('the peer build cache key', () => {
  it('changes when any source changes, and ignores the build output', () => {
    const dir = path.join(tmp, 'peer');
    mkdirSync(path.join(dir, 'src'), { recursive: true });
    writeFileSync(path.join(dir, 'pom.xml'), '<project/>');
    writeFileSync(path.join(dir, 'src', 'A.java'), 'class A {}');
    const before = peerSourceHash(dir);
    mkdirSync(path.join(dir, 'target'));
    writeFileSync(path.join(dir, 'target', 'out.jar'), 'binary');
    expect(peerSourceHash(dir)).toBe(before);
    writeFileSync(path.join(dir, 'src', 'A.java'), 'class A { int x; }');
    expect(peerSourceHash(dir)).not.toBe(before);
  });
});
