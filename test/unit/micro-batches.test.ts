import { map, Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import type { Ack, Batch } from '../../src/stream/batch.js';
import { releaseAll } from '../../src/stream/batch.js';
import { microBatches } from '../../src/stream/micro-batches.js';

/** An Ack that counts holds, so tests can check every hold is matched by one release. */
class CountingAck implements Ack {
  holds = 0;
  releases = 0;
  constructor(readonly name: string) {}
  hold(): void {
    this.holds++;
  }
  release(): void {
    this.releases++;
    if (this.releases > this.holds) throw new Error(`${this.name} released more than held`);
  }
}

interface Item {
  id: string;
  size: number;
}

/** A batch of items named `<batch><index>`, each `size` bytes, carrying its own ack. */
function batch(name: string, count: number, size = 10): Batch<Item> & { ack: CountingAck } {
  const ack = new CountingAck(name);
  const items = Array.from({ length: count }, (_, i) => ({ id: `${name}${i}`, size }));
  return { items, bytes: count * size, acks: [ack], ack };
}

const ids = (b: Batch<Item>) => b.items.map((i) => i.id).join(',');
const sizeOf = (i: Item) => i.size;

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('microBatches (marble tests)', () => {
  it('flushes on max records, splitting an input that does not fit, and holds only full windows', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const values = { a: batch('a', 2), b: batch('b', 2), c: batch('c', 2) };
      const input$ = cold('a 9ms b 9ms c', values);
      const out$ = input$.pipe(
        microBatches<Item>({ maxRecords: 3, maxBytes: 1e9, maxWaitMs: 5000, sizeOf, scheduler: ts }),
        map(ids),
      );
      // a (2) + b (2) = 4 > 3 → [a0,a1,b0] at b's frame (10); b1 + c (2) = 3 → flush at c's frame (20).
      expectObservable(out$).toBe('10ms x 9ms y', { x: 'a0,a1,b0', y: 'b1,c0,c1' });
    });
  });

  it('flushes on max bytes before a record would push the window over', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const values = {
        a: batch('a', 1, 40),
        b: batch('b', 1, 40),
        c: batch('c', 1, 40),
        d: batch('d', 1, 20),
      };
      const input$ = cold('a 9ms b 9ms c 9ms d|', values);
      const out$ = input$.pipe(
        microBatches<Item>({ maxRecords: 100, maxBytes: 100, maxWaitMs: 5000, sizeOf, scheduler: ts }),
        map(ids),
      );
      // 40 + 40 = 80; +40 would be 120 > 100 → [a0,b0] flushed when c arrives (frame 20);
      // c (40) + d (20) = 60 → flushed by completion (frame 31).
      expectObservable(out$).toBe('20ms x 10ms (y|)', { x: 'a0,b0', y: 'c0,d0' });
    });
  });

  it('flushes exactly at max bytes, and lets one oversize record through alone', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const values = { a: batch('a', 2, 50), b: batch('b', 1, 300), c: batch('c', 1, 10) };
      const input$ = cold('a 9ms b 9ms c', values);
      const out$ = input$.pipe(
        microBatches<Item>({ maxRecords: 100, maxBytes: 100, maxWaitMs: 5000, sizeOf, scheduler: ts }),
        map(ids),
      );
      expectObservable(out$).toBe('x 9ms y 5009ms z', { x: 'a0,a1', y: 'b0', z: 'c0' });
    });
  });

  it('flushes a partial window 5 s after its first record, then starts a new window', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const values = { a: batch('a', 1), b: batch('b', 1), c: batch('c', 1) };
      const input$ = cold('a 999ms b 4999ms c', values);
      const out$ = input$.pipe(
        microBatches<Item>({ maxRecords: 1000, maxBytes: 1e9, maxWaitMs: 5000, sizeOf, scheduler: ts }),
        map(ids),
      );
      // Window 1 opens at 0 (a), closes at 5000 with a and b. c arrives at 6000 and opens window 2,
      // which closes at 11000.
      expectObservable(out$).toBe('5000ms x 5999ms y', { x: 'a0,b0', y: 'c0' });
    });
  });

  it('restarts the timer after a size flush', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const values = { a: batch('a', 2), b: batch('b', 1) };
      const input$ = cold('a 2999ms b', values);
      const out$ = input$.pipe(
        microBatches<Item>({ maxRecords: 2, maxBytes: 1e9, maxWaitMs: 5000, sizeOf, scheduler: ts }),
        map(ids),
      );
      // a fills the window at 0; b opens a new one at 3000 that times out at 8000 (not at 5000).
      expectObservable(out$).toBe('x 7999ms y', { x: 'a0,a1', y: 'b0' });
    });
  });

  it('flushes the open window on completion and on the flush$ notifier; passes errors on', () => {
    const ts = scheduler();
    ts.run(({ cold, hot, expectObservable }) => {
      const values = { a: batch('a', 1), b: batch('b', 1) };
      const flush$ = hot('--- 100ms f', { f: undefined });
      const out$ = cold('a 200ms b 9ms |', values).pipe(
        microBatches<Item>({ maxRecords: 10, maxBytes: 1e9, maxWaitMs: 5000, sizeOf, scheduler: ts, flush$ }),
        map(ids),
      );
      expectObservable(out$).toBe('103ms x 107ms (y|)', { x: 'a0', y: 'b0' });

      const failing$ = cold('a 9ms #', values).pipe(
        microBatches<Item>({ maxRecords: 10, maxBytes: 1e9, maxWaitMs: 5000, sizeOf, scheduler: ts }),
        map(ids),
      );
      expectObservable(failing$).toBe('10ms #');
    });
  });

  it('flushes after every input when maxWaitMs is 0', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const values = { a: batch('a', 2), b: batch('b', 1) };
      const out$ = cold('a 5ms b', values).pipe(
        microBatches<Item>({ maxRecords: 10, maxBytes: 1e9, maxWaitMs: 0, sizeOf, scheduler: ts }),
        map(ids),
      );
      expectObservable(out$).toBe('x 5ms y', { x: 'a0,a1', y: 'b0' });
    });
  });

  it('holds each ack once per output batch that carries its records', () => {
    const input$ = new Subject<Batch<Item>>();
    const outputs: Batch<Item>[] = [];
    input$
      .pipe(microBatches<Item>({ maxRecords: 4, maxBytes: 1e9, maxWaitMs: 5000, sizeOf }))
      .subscribe((b) => outputs.push(b));
    const a = batch('a', 3);
    const b = batch('b', 6); // splits across three windows: 1 + 4 + 1
    input$.next(a);
    input$.next(b);
    input$.next({ items: [], bytes: 0, acks: [batch('empty', 0).ack] });
    input$.complete();

    expect(outputs.map(ids)).toEqual(['a0,a1,a2,b0', 'b1,b2,b3,b4', 'b5']);
    expect(outputs.map((o) => o.acks.map((k) => (k as CountingAck).name))).toEqual([
      ['a', 'b'],
      ['b'],
      ['b'],
    ]);
    expect(a.ack.holds).toBe(1);
    expect(b.ack.holds).toBe(3);
    expect(outputs.map((o) => o.bytes)).toEqual([40, 40, 10]);
    for (const o of outputs) releaseAll(o.acks);
    expect([a.ack.releases, b.ack.releases]).toEqual([1, 3]);
  });
});
