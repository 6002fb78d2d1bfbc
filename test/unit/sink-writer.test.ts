import { firstValueFrom, Subject, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FleetError, SinkError } from '../../src/errors.js';
import type { Batch } from '../../src/stream/batch.js';
import { writeToSink } from '../../src/topology/sink-writer.js';

const batchOf = (...items: number[]): Batch<number> => ({ items, bytes: items.length, acks: [] });
const instant = { sleep: async () => undefined, initialMs: 1, maxMs: 1 };

describe('writeToSink', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  beforeEach(() => process.on('unhandledRejection', onUnhandled));
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled);
    unhandled.length = 0;
  });

  it('ends the stream with the error of a throwing flush hook (no unhandled rejection, no stall)', async () => {
    const input = new Subject<Batch<number>>();
    const written: number[][] = [];
    const hookError = new Error('metrics hook broke');
    const out$ = input.pipe(
      writeToSink<number>({
        name: 'warehouse',
        write: async (items) => void written.push([...items]),
        onFlushed: () => {
          throw hookError;
        },
        maxCoalesce: 10,
      }),
    );
    const outcome = firstValueFrom(out$.pipe(toArray())).then(
      () => 'completed',
      (err: unknown) => err,
    );
    input.next(batchOf(1, 2));
    expect(await outcome).toBe(hookError);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(unhandled).toEqual([]);
    expect(written).toEqual([[1, 2]]);
  }, 5000);

  it('retries retriable write errors with the injected backoff, then emits the batch once', async () => {
    let calls = 0;
    const retries: number[] = [];
    const input = new Subject<Batch<number>>();
    const out = firstValueFrom(
      input.pipe(
        writeToSink<number>({
          name: 'table',
          write: async () => {
            if (++calls < 4) throw new SinkError('table', 'down', { retriable: true });
          },
          onRetry: ({ attempt }) => retries.push(attempt),
          retry: instant,
          maxCoalesce: 10,
        }),
        toArray(),
      ),
    );
    input.next(batchOf(1));
    input.complete();
    const emitted = await out;
    expect(emitted.map((d) => d.batch.items)).toEqual([[1]]);
    expect(retries).toEqual([1, 2, 3]);
  });

  it('bisects a non-retriable failure down to the poison record and isolates only it', async () => {
    const isolated: number[][] = [];
    const input = new Subject<Batch<number>>();
    const out = firstValueFrom(
      input.pipe(
        writeToSink<number>({
          name: 'warehouse',
          write: async (items) => {
            if (items.includes(3)) throw new FleetError('bad row');
          },
          ping: async () => undefined,
          isolate: async (items) => void isolated.push([...items]),
          retry: instant,
          maxCoalesce: 10,
        }),
        toArray(),
      ),
    );
    input.next(batchOf(1, 2, 3, 4));
    input.complete();
    expect((await out).length).toBe(1);
    expect(isolated).toEqual([[3]]);
  });

  it('fails the stream when the sink is unusable (write and ping fail non-retriably)', async () => {
    const denied = new SinkError('snowflake', 'JWT token is invalid');
    const input = new Subject<Batch<number>>();
    const out = firstValueFrom(
      input.pipe(
        writeToSink<number>({
          name: 'warehouse',
          write: () => Promise.reject(denied),
          ping: () => Promise.reject(denied),
          isolate: async () => undefined,
          retry: instant,
          maxCoalesce: 10,
        }),
      ),
    );
    input.next(batchOf(1));
    await expect(out).rejects.toThrow(/warehouse: unusable: snowflake: JWT token is invalid/);
  });
});
