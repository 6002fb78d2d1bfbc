import { lastValueFrom, Subject, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { BatchConfig } from '../../src/config/config.js';
import { jsonCodec } from '../../src/domain/codec.js';
import type { Position } from '../../src/domain/position.js';
import type { DeadLetter, PositionRecord } from '../../src/domain/records.js';
import { SinkError } from '../../src/errors.js';
import { Backpressure } from '../../src/sources/backpressure.js';
import { CommitTracker, type TopicPartitionOffset } from '../../src/sources/commit-tracker.js';
import type { RawRecord, SourceChunk } from '../../src/stream/source-chunk.js';
import { positionsTopology, type TopologySinks } from '../../src/topology/pipeline.js';

const batch: BatchConfig = {
  maxRecords: 100,
  maxBytes: 1 << 20,
  maxWaitMs: 0,
  maxUnflushedBytes: 1 << 20,
  stateMaxWaitMs: 0,
};
const instant = { sleep: async () => undefined, initialMs: 1, maxMs: 1 };
const NOW = Date.now();

function position(vehicleId: string, i: number): Position {
  return { vehicleId, ts: NOW - 1000 + i, lat: 52 + i / 1000, lon: 13 };
}

function record(offset: number, value: Buffer | string | null, key: string | null = null): RawRecord {
  return {
    key: key === null ? null : Buffer.from(key),
    value: typeof value === 'string' ? Buffer.from(value) : value,
    timestamp: String(NOW),
    offset: String(offset),
  };
}

const valid = (offset: number, vehicleId = `v${offset % 3}`) =>
  record(offset, jsonCodec.encode(position(vehicleId, offset)), vehicleId);

/** A fake Kafka source: chunks over a Subject with a real CommitTracker, and the commits it made. */
function fakeSource() {
  const tracker = new CommitTracker({ backpressure: new Backpressure({ highWaterBytes: 1 << 30 }) });
  const chunks$ = new Subject<SourceChunk>();
  const commits: TopicPartitionOffset[][] = [];
  const committer = {
    requestCommit() {
      const offsets = tracker.committable();
      if (offsets.length === 0) return;
      tracker.markCommitted(offsets);
      commits.push(offsets);
    },
  };
  const emit = (partition: number, records: RawRecord[]) => {
    const bytes = records.reduce((n, r) => n + (r.value?.length ?? 0) + (r.key?.length ?? 0), 0);
    const ack = tracker.openTicket('positions', partition, records[0]!.offset, records.at(-1)!.offset, bytes);
    chunks$.next({ topic: 'positions', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partition, records, bytes, ack });
    ack.seal();
  };
  const committed = () => Object.fromEntries(tracker.durableOffsets().map((o) => [o.partition, o.offset]));
  return { tracker, chunks$, commits, committer, emit, committed };
}

/** Fakes of our own ports that record what they were given. */
function fakeSinks() {
  const table: PositionRecord[] = [];
  const warehouse: PositionRecord[] = [];
  const dlq: DeadLetter[] = [];
  const sinks = {
    table: {
      upsert: async (b: readonly PositionRecord[]) => (table.push(...b), { applied: b.length, ignored: 0 }),
      ping: async () => undefined,
    },
    warehouse: {
      write: async (b: readonly PositionRecord[]) => (
        warehouse.push(...b),
        { inserted: b.length, duplicates: 0, positionDuplicates: 0 }
      ),
      ping: async () => undefined,
    },
    deadLetters: { write: async (l: readonly DeadLetter[]) => void dlq.push(...l) },
  } satisfies TopologySinks;
  return { sinks, table, warehouse, dlq };
}

const settle = () => new Promise((r) => setTimeout(r, 5));

describe('positions topology (fake sinks)', () => {
  it('routes valid positions to table and warehouse, bad records to the DLQ, and commits after all', async () => {
    const src = fakeSource();
    const { sinks, table, warehouse, dlq } = fakeSinks();
    const done = lastValueFrom(
      positionsTopology(src.chunks$, sinks, src.committer, { batch, retry: instant }).pipe(toArray()),
    );
    src.emit(0, [
      valid(0),
      record(1, '{not json'),
      valid(2),
      record(3, JSON.stringify({ vehicleId: 'x', ts: NOW, lat: 95, lon: 0 })),
    ]);
    src.emit(1, [valid(10), record(11, JSON.stringify(position('v1', 1)), 'someone-else')]);
    src.chunks$.complete();
    await done;

    expect(table.map((r) => r.offset)).toEqual(['0', '2', '10']);
    expect(warehouse.map((r) => `${r.partition}@${r.offset}`)).toEqual(['0@0', '0@2', '1@10']);
    expect(dlq.map((l) => [l.partition, l.offset, l.errorType])).toEqual([
      [0, '1', 'DecodeError'],
      [0, '3', 'ValidationError'],
      [1, '11', 'ValidationError'],
    ]);
    expect(dlq[1]!.reason).toMatch(/lat/);
    expect(dlq[2]!.reason).toMatch(/not the vehicleId/);
    expect(src.committed()).toEqual({ 0: '4', 1: '12' });
  });

  it('commits nothing until the slowest sink holds the data', async () => {
    const src = fakeSource();
    const { sinks, table } = fakeSinks();
    let openGate!: () => void;
    const gate = new Promise<void>((r) => (openGate = r));
    const slow = {
      ...sinks,
      warehouse: {
        ...sinks.warehouse,
        write: async (b: readonly PositionRecord[]) => (await gate, sinks.warehouse.write(b)),
      },
    };
    const done = lastValueFrom(
      positionsTopology(src.chunks$, slow, src.committer, { batch, retry: instant }).pipe(toArray()),
    );
    src.emit(0, [valid(0), valid(1)]);
    await settle();
    expect(table).toHaveLength(2);
    expect(src.commits).toEqual([]);
    openGate();
    src.chunks$.complete();
    await done;
    expect(src.commits.flat()).toEqual([{ topic: 'positions', partition: 0, offset: '2' }]);
  });

  it('retries a retriable failure without committing meanwhile, and never drops a record', async () => {
    const src = fakeSource();
    const { sinks, table } = fakeSinks();
    let failures = 3;
    const retries: number[] = [];
    const flaky = {
      ...sinks,
      table: {
        ...sinks.table,
        upsert: async (b: readonly PositionRecord[]) => {
          if (failures-- > 0) {
            expect(src.commits).toEqual([]);
            throw new SinkError('redis', 'connection lost', { retriable: true });
          }
          return sinks.table.upsert(b);
        },
      },
    };
    const sleep = async (ms: number) => void retries.push(ms);
    const done = lastValueFrom(
      positionsTopology(src.chunks$, flaky, src.committer, {
        batch,
        retry: { sleep, initialMs: 10, maxMs: 40, jitter: false },
      }).pipe(toArray()),
    );
    src.emit(0, [valid(0), valid(1), valid(2)]);
    src.chunks$.complete();
    await done;
    expect(retries).toEqual([10, 20, 40]);
    expect(table.map((r) => r.offset)).toEqual(['0', '1', '2']);
    expect(src.committed()).toEqual({ 0: '3' });
  });

  it('isolates a poison record by bisection: it goes to the DLQ, its neighbours to the warehouse', async () => {
    const src = fakeSource();
    const { sinks, warehouse, dlq } = fakeSinks();
    let writes = 0;
    const picky = {
      ...sinks,
      warehouse: {
        ...sinks.warehouse,
        write: async (b: readonly PositionRecord[]) => {
          writes++;
          if (b.some((r) => r.offset === '5'))
            throw new SinkError('duckdb', 'conversion error', { retriable: false });
          return sinks.warehouse.write(b);
        },
      },
    };
    const done = lastValueFrom(
      positionsTopology(src.chunks$, picky, src.committer, { batch, retry: instant }).pipe(toArray()),
    );
    src.emit(
      0,
      Array.from({ length: 8 }, (_, i) => valid(i)),
    );
    src.chunks$.complete();
    await done;
    expect(warehouse.map((r) => r.offset).sort()).toEqual(['0', '1', '2', '3', '4', '6', '7']);
    expect(dlq).toHaveLength(1);
    expect(dlq[0]).toMatchObject({ offset: '5', errorType: 'SinkError', key: Buffer.from('v2') });
    expect(dlq[0]!.reason).toMatch(/rejected by the warehouse: duckdb: conversion error/);
    expect(JSON.parse(dlq[0]!.value!.toString())).toMatchObject({ vehicleId: 'v2' });
    expect(writes).toBeLessThanOrEqual(1 + 2 * Math.ceil(Math.log2(8)) + 1);
    expect(src.committed()).toEqual({ 0: '8' });
  });

  it('treats a non-retriable failure whose ping also fails as fatal: error, nothing committed', async () => {
    const src = fakeSource();
    const { sinks } = fakeSinks();
    const denied = new SinkError('snowflake', 'authentication failed', { retriable: false });
    const broken = {
      ...sinks,
      warehouse: {
        write: async () => {
          throw denied;
        },
        ping: async () => {
          throw denied;
        },
      },
    };
    const done = lastValueFrom(
      positionsTopology(src.chunks$, broken, src.committer, { batch, retry: instant }).pipe(toArray()),
    );
    src.emit(0, [valid(0)]);
    await expect(done).rejects.toThrow(/warehouse: unusable: snowflake: authentication failed/);
    expect(src.commits).toEqual([]);
  });

  it('declares a failure systemic when records keep failing alone', async () => {
    const src = fakeSource();
    const { sinks, dlq } = fakeSinks();
    const broken = {
      ...sinks,
      warehouse: {
        write: async () => {
          throw new SinkError('duckdb', 'table has no column speed', { retriable: false });
        },
        ping: async () => undefined,
      },
    };
    const done = lastValueFrom(
      positionsTopology(src.chunks$, broken, src.committer, { batch, retry: instant }).pipe(toArray()),
    );
    src.emit(
      0,
      Array.from({ length: 20 }, (_, i) => valid(i)),
    );
    await expect(done).rejects.toThrow(/records in a row failed alone/);
    expect(dlq.length).toBeLessThan(8);
    expect(src.commits).toEqual([]);
  });
});
