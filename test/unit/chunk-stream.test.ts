import { defer, lastValueFrom, map, Subject, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { Ack, Batch } from '../../src/stream/batch.js';
import { ChunkTopology } from '../../src/stream/dsl/chunk-stream.js';

const noAck: Ack = { hold: () => undefined, release: () => undefined };
const batchOf = (items: number[]): Batch<number> => ({ items, bytes: items.length, acks: [noAck] });

describe('ChunkStream (the chunked DSL)', () => {
  it('split: every branch gets its part of each chunk from one upstream subscription', async () => {
    const input = new Subject<number[]>();
    let subscriptions = 0;
    const topology = new ChunkTopology<string>();
    const [evens, odds] = topology
      .stream(
        defer(() => {
          subscriptions++;
          return input;
        }),
      )
      .mapValues((chunk) => ({
        even: batchOf(chunk.filter((n) => n % 2 === 0)),
        odd: batchOf(chunk.filter((n) => n % 2 === 1)),
      }))
      .split(
        (c) => c.even,
        (c) => c.odd,
      );
    evens.to(map((b) => `even:${b.items.join(',')}`));
    odds.filter((b) => b.items.length > 0).to(map((b) => `odd:${b.items.join(',')}`));
    const out = lastValueFrom(topology.build().pipe(toArray()));
    input.next([1, 2, 3, 4]);
    input.next([6, 8]);
    input.complete();
    expect(await out).toEqual(['even:2,4', 'odd:1,3', 'even:6,8']);
    expect(subscriptions).toBe(1);
  });

  it('windowedBy: micro-batches across chunks, one emission per window', async () => {
    const input = new Subject<Batch<number>>();
    const topology = new ChunkTopology<number[]>();
    topology
      .stream(input)
      .windowedBy({ maxRecords: 3, maxBytes: 100, maxWaitMs: 60_000, sizeOf: () => 1 })
      .to(map((b) => [...b.items]));
    const out = lastValueFrom(topology.build().pipe(toArray()));
    input.next(batchOf([1, 2]));
    input.next(batchOf([3, 4]));
    input.next(batchOf([5]));
    input.complete();
    expect(await out).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
  });

  it('a topology without sinks completes at once', async () => {
    expect(await lastValueFrom(new ChunkTopology<number>().build().pipe(toArray()))).toEqual([]);
  });
});
