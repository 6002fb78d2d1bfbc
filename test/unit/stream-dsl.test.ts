import { Subject, map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import {
  GlobalTable,
  hopping,
  jsonSerde,
  punctuate,
  session,
  store,
  StreamTask,
  stringSerde,
  tumbling,
  windowedAggregate,
  type KeyedRecord,
  type KeyValueStore,
  type OpenWindow,
  type Windowed,
  type Windows,
} from '../../src/stream/dsl/index.js';

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** A plain map store (no changelog) for operator tests. */
function memoryStore<K, V>(): KeyValueStore<K, V> {
  const map = new Map<K, V>();
  return {
    get: (k) => map.get(k),
    put: (k, v) => void map.set(k, v),
    delete: (k) => void map.delete(k),
    all: () => map.entries(),
    get size() {
      return map.size;
    },
  };
}

/** A record of key `k` at event time `ts` counting 1. */
const rec = (key: string, ts: number): KeyedRecord<string, number> => ({ key, value: 1, ts });
const show = (r: KeyedRecord<Windowed<string>, number>) =>
  `${r.key.key}[${r.key.start},${r.key.end})=${r.value}`;

function counted(windows: Windows, late: KeyedRecord<string, number>[] = []) {
  return windowedAggregate<string, number, number>(windows, {
    init: () => 0,
    add: (_k, v, agg) => agg + v,
    merge: (_k, a, b) => a + b,
    store: memoryStore<string, OpenWindow<number>[]>(),
    onLate: (r) => late.push(r),
  });
}

describe('windowedBy (marble tests; event time comes from the records)', () => {
  it('tumbling: emits each window once, when stream time reaches end + grace', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      // Windows of 10; grace 5. a@1, a@4 → [0,10); b@12 → [10,20); c@15 closes [0,10) (15 >= 10+5).
      const input$ = cold('a-b-c-d-|', { a: rec('a', 1), b: rec('a', 4), c: rec('b', 12), d: rec('a', 15) });
      const out$ = input$.pipe(counted(tumbling(10, { grace: 5 })), map(show));
      expectObservable(out$).toBe('------x-|', { x: 'a[0,10)=2' });
      expectSubscriptions(input$.subscriptions).toBe('^-------!');
    });
  });

  it('tumbling: a record within grace still counts; after grace it is late and dropped', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const late: KeyedRecord<string, number>[] = [];
      // c@13 advances stream time; b@8 (out of order, 13 < 10+5) still lands in [0,10);
      // d@16 closes [0,10) with 2; e@9 is late (16 >= 15) and dropped; f@31 closes [10,20).
      const input$ = cold('a-c-b-d-e-f|', {
        a: rec('k', 1),
        c: rec('k', 13),
        b: rec('k', 8),
        d: rec('k', 16),
        e: rec('k', 9),
        f: rec('k', 31),
      });
      expectObservable(input$.pipe(counted(tumbling(10, { grace: 5 }), late), map(show))).toBe(
        '------x---y|',
        { x: 'k[0,10)=2', y: 'k[10,20)=2' },
      );
      ts.flush();
      expect(late.map((r) => r.ts)).toEqual([9]);
    });
  });

  it('hopping: a record counts in every window that contains it', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      // size 10, advance 5, no grace: @7 is in [0,10) and [5,15); @12 is in [5,15) and [10,20) and
      // closes [0,10); @30 closes the other two.
      const input$ = cold('a-b-c 4ms |', { a: rec('k', 7), b: rec('k', 12), c: rec('k', 30) });
      expectObservable(input$.pipe(counted(hopping(10, 5)), map(show))).toBe('--x-(yz)-|', {
        x: 'k[0,10)=1',
        y: 'k[5,15)=2',
        z: 'k[10,20)=1',
      });
    });
  });

  it('session: records closer than the gap share a session; a late record within grace bridges two', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      // gap 10, grace 20. @0 and @5 → session [0,5]; @30 → a new session; @17 (out of order, 12
      // after 5 and 13 before 30) → its own session; @12 bridges [0,5] and [17,17] (12-5 < 10,
      // 17-12 < 10) into [0,17] with 4 records. @70 closes [0,17] (17+10+20 = 47 <= 70) and [30,30].
      const input$ = cold('a-b-c-d-e-f 3ms |', {
        a: rec('k', 0),
        b: rec('k', 5),
        c: rec('k', 30),
        d: rec('k', 17),
        e: rec('k', 12),
        f: rec('k', 70),
      });
      expectObservable(input$.pipe(counted(session(10, { grace: 20 })), map(show))).toBe('----------(xy)|', {
        x: 'k[0,17)=4',
        y: 'k[30,30)=1',
      });
    });
  });

  it('session: a record after the gap + grace of a closed session is late', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const late: KeyedRecord<string, number>[] = [];
      const input$ = cold('a-b-c|', { a: rec('k', 0), b: rec('k', 100), c: rec('k', 3) });
      expectObservable(input$.pipe(counted(session(10, { grace: 5 }), late), map(show))).toBe('--x--|', {
        x: 'k[0,0)=1',
      });
      ts.flush();
      expect(late.map((r) => r.ts)).toEqual([3]);
    });
  });
});

describe('punctuate', () => {
  it('wallClock: runs every period of the injected scheduler, until the source completes', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const input$ = cold('a 49ms b 30ms |', { a: rec('k', 1), b: rec('k', 2) });
      const out$ = input$.pipe(
        punctuate<string, number>('wallClock', 20, (now) => [{ key: 'tick', value: now, ts: now }], ts),
        map((r) => `${r.key}@${r.value}`),
      );
      // Ticks at 20, 40, 60, 80; b at 50; completion at 81.
      expectObservable(out$).toBe('a 19ms t 19ms u 9ms b 9ms v 19ms w |', {
        a: 'k@1',
        b: 'k@1',
        t: 'tick@20',
        u: 'tick@40',
        v: 'tick@60',
        w: 'tick@80',
      });
      expectSubscriptions(input$.subscriptions).toBe('^ 80ms !');
    });
  });

  it('streamTime: runs once per boundary crossed by event time, whatever the wall clock does', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const input$ = cold('a 999ms b-c 5ms |', { a: rec('k', 5), b: rec('k', 9), c: rec('k', 31) });
      const out$ = input$.pipe(
        punctuate<string, number>('streamTime', 10, (t) => [{ key: 'p', value: t, ts: t }], ts),
        map((r) => (r.key === 'p' ? `p${r.value}` : `r${r.ts}`)),
      );
      expectObservable(out$).toBe('a 999ms b-(cxyz)|', {
        a: 'r5',
        b: 'r9',
        c: 'r31',
        x: 'p10',
        y: 'p20',
        z: 'p30',
      });
    });
  });
});

describe('StreamTask', () => {
  const counts = store('counts', stringSerde, jsonSerde<number>());
  const input = (key: string, ts: number) => ({ key: Buffer.from(key), value: Buffer.from('1'), ts });

  it('runs a topology per partition: aggregate into a logged store, join a global table, to(topic)', () => {
    const ts = scheduler();
    const names = new GlobalTable('names', { key: stringSerde, value: stringSerde });
    names.apply(Buffer.from('a'), Buffer.from('Alice'), 0);
    names.markLoaded();
    const task = new StreamTask(
      (b) => {
        const names$ = b.table<string, string>('names');
        b.stream('in', { key: stringSerde, value: jsonSerde<number>() })
          .filter((k) => k !== 'skip')
          .groupByKey()
          .aggregate(
            () => 0,
            (_k, v, agg) => agg + v,
            counts,
          )
          .toStream()
          .join(names$, (count, name) => `${name}:${count}`)
          .to('out', { key: stringSerde, value: stringSerde });
      },
      { applicationId: 'app', partition: 0, scheduler: ts, tables: new Map([['names', names]]) },
    );
    task.start();
    task.process('in', [input('a', 1), input('skip', 2), input('b', 3), input('a', 4)]);
    const out = task.drain().map((r) => `${r.topic} ${r.key.toString()}=${r.value?.toString()}`);
    // b has no name: the inner join drops it, but its count is still stored and logged.
    expect(out).toEqual([
      'app-counts-changelog a=1',
      'out a=Alice:1',
      'app-counts-changelog b=1',
      'app-counts-changelog a=2',
      'out a=Alice:2',
    ]);
    expect(task.drain()).toEqual([]);

    // A new task for the same partition restores the store from the changelog and carries on.
    const again = new StreamTask(
      (b) =>
        b
          .stream('in', { key: stringSerde, value: jsonSerde<number>() })
          .groupByKey()
          .aggregate(
            () => 0,
            (_k, v, agg) => agg + v,
            counts,
          )
          .toStream()
          .mapValues(String)
          .to('out', { key: stringSerde, value: stringSerde }),
      { applicationId: 'app', partition: 0, scheduler: ts },
    );
    const changelog = again.changelogs.get('app-counts-changelog')!;
    changelog.restore(Buffer.from('a'), Buffer.from('2'));
    again.start();
    again.process('in', [input('a', 5)]);
    expect(again.drain().map((r) => `${r.topic} ${r.value?.toString()}`)).toEqual([
      'app-counts-changelog 3',
      'out 3',
    ]);
  });

  it('skips and counts records that do not deserialize', () => {
    const ts = scheduler();
    const bad: string[] = [];
    const task = new StreamTask(
      (b) =>
        b
          .stream('in', { key: stringSerde, value: jsonSerde<number>() })
          .to('out', { key: stringSerde, value: jsonSerde() }),
      { applicationId: 'app', partition: 1, scheduler: ts, onInvalid: (_t, r) => bad.push(String(r.value)) },
    );
    task.start();
    task.process('in', [{ key: Buffer.from('a'), value: Buffer.from('{oops'), ts: 1 }, input('a', 2)]);
    expect(bad).toEqual(['{oops']);
    expect(task.invalid).toBe(1);
    expect(task.drain().map((r) => r.value?.toString())).toEqual(['1']);
  });

  it('a wall-clock punctuation adds output between process calls', () => {
    const ts = scheduler();
    ts.run(({ flush }) => {
      const ticks = new Subject<number>();
      const task = new StreamTask(
        (b) =>
          b
            .stream('in', { key: stringSerde, value: jsonSerde<number>() })
            .punctuate('wallClock', 100, (now) => {
              ticks.next(now);
              return [{ key: 'tick', value: now, ts: now }];
            })
            .to('out', { key: stringSerde, value: jsonSerde() }),
        { applicationId: 'app', partition: 0, scheduler: ts },
      );
      task.start();
      ts.schedule(() => task.close(), 250);
      flush();
      expect(task.drain().map((r) => r.value?.toString())).toEqual(['100', '200']);
    });
  });
});
