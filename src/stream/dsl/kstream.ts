import { filter, map, mergeMap, type Observable, type OperatorFunction, share } from 'rxjs';
import { punctuate, type PunctuationType, type Punctuator } from './punctuate.js';
import type { KeyValueStore, ReadOnlyKeyValueStore, StoreSpec } from './store.js';
import type { KeyedRecord, Serde } from './types.js';
import { windowedAggregate, type OpenWindow, type Windowed, type Windows } from './windows.js';
import type { TaskContext } from './task-context.js';

/** A record stream of one task, like Kafka Streams' KStream. Every operator returns a new stream. */
export class KStream<K, V> {
  /** Shared so branches and several `to`s see each record once. */
  readonly records$: Observable<KeyedRecord<K, V>>;

  constructor(
    records$: Observable<KeyedRecord<K, V>>,
    protected readonly ctx: TaskContext,
  ) {
    this.records$ = records$.pipe(share());
  }

  /** Escape hatch: any RxJS operator over records. */
  pipe<K2, V2>(op: OperatorFunction<KeyedRecord<K, V>, KeyedRecord<K2, V2>>): KStream<K2, V2> {
    return new KStream(this.records$.pipe(op), this.ctx);
  }
  filter(predicate: (key: K, value: V) => boolean): KStream<K, V> {
    return this.pipe(filter((r) => predicate(r.key, r.value)));
  }
  map<K2, V2>(fn: (key: K, value: V) => [K2, V2]): KStream<K2, V2> {
    return this.pipe(
      map((r) => {
        const [key, value] = fn(r.key, r.value);
        return { key, value, ts: r.ts };
      }),
    );
  }
  mapValues<V2>(fn: (value: V, key: K) => V2): KStream<K, V2> {
    return this.pipe(map((r) => ({ key: r.key, value: fn(r.value, r.key), ts: r.ts })));
  }
  /** Each record becomes zero or more records (of any key and event time). */
  flatMap<K2, V2>(fn: (key: K, value: V, ts: number) => Iterable<KeyedRecord<K2, V2>>): KStream<K2, V2> {
    return this.pipe(mergeMap((r) => [...fn(r.key, r.value, r.ts)]));
  }
  flatMapValues<V2>(fn: (value: V, key: K) => Iterable<V2>): KStream<K, V2> {
    return this.flatMap((key, value, ts) => [...fn(value, key)].map((v) => ({ key, value: v, ts })));
  }
  /**
   * Like Kafka Streams' `processValues`: `fn` reads and writes the task's store `spec` (logged, so
   * in the same transaction as the output) and returns zero or more values for the record's key.
   */
  processValues<S, R>(
    spec: StoreSpec<K, S>,
    fn: (key: K, value: V, store: KeyValueStore<K, S>, ts: number) => Iterable<R>,
  ): KStream<K, R> {
    const store = this.ctx.store(spec);
    return this.flatMap((key, value, ts) =>
      [...fn(key, value, store, ts)].map((v) => ({ key, value: v, ts })),
    );
  }
  /** One stream per predicate; a record goes to the first that matches (others: dropped). */
  branch(...predicates: ((key: K, value: V) => boolean)[]): KStream<K, V>[] {
    const tagged$ = this.records$.pipe(
      map((r) => ({ r, i: predicates.findIndex((p) => p(r.key, r.value)) })),
      share(),
    );
    return predicates.map(
      (_, i) =>
        new KStream(
          tagged$.pipe(
            filter((t) => t.i === i),
            map((t) => t.r),
          ),
          this.ctx,
        ),
    );
  }
  groupByKey(): KGroupedStream<K, V> {
    return new KGroupedStream(this, this.ctx);
  }
  /**
   * Stream-table join: each record is joined with the table's current value for its key (or for
   * `keyOf(record)`); records with no table value are dropped (inner) unless `left` is set.
   */
  join<TK, TV, R>(
    table: KTable<TK, TV>,
    joiner: (value: V, tableValue: TV | undefined, key: K) => R,
    options: { keyOf?: (key: K, value: V) => TK; left?: boolean } = {},
  ): KStream<K, R> {
    const keyOf = options.keyOf ?? ((key: K) => key as unknown as TK);
    return this.flatMap((key, value, ts) => {
      const tv = table.store.get(keyOf(key, value));
      return tv === undefined && !options.left ? [] : [{ key, value: joiner(value, tv, key), ts }];
    });
  }
  punctuate(type: PunctuationType, every: number, fn: Punctuator<K, V>): KStream<K, V> {
    return this.pipe(punctuate(type, every, fn, this.ctx.scheduler));
  }
  /** Sends every record to `topic` (through the task's collector, so inside its transaction). */
  to(topic: string, serdes: { key: Serde<K>; value: Serde<V> }): void {
    this.ctx.subscribe(this.records$, (r) =>
      this.ctx.collector.send({
        topic,
        key: serdes.key.serialize(r.key),
        value: serdes.value.serialize(r.value),
        ts: r.ts,
      }),
    );
  }
  /** Runs `fn` for every record (tests, metrics). */
  forEach(fn: (key: K, value: V, ts: number) => void): void {
    this.ctx.subscribe(this.records$, (r) => fn(r.key, r.value, r.ts));
  }
}

export class KGroupedStream<K, V> {
  constructor(
    private readonly stream: KStream<K, V>,
    private readonly ctx: TaskContext,
  ) {}

  /** A running aggregate per key in a logged store; the table's stream emits every update. */
  aggregate<A>(init: () => A, fn: (key: K, value: V, agg: A) => A, spec: StoreSpec<K, A>): KTable<K, A> {
    const store = this.ctx.store(spec);
    const updates$ = this.stream.records$.pipe(
      map((r) => {
        const next = fn(r.key, r.value, store.get(r.key) ?? init());
        store.put(r.key, next);
        return { key: r.key, value: next, ts: r.ts };
      }),
    );
    const updates = new KStream(updates$, this.ctx);
    // The aggregate runs whether or not anything reads the table's stream (as in Kafka Streams).
    this.ctx.subscribe(updates.records$, () => undefined);
    return new KTable(store, updates);
  }
  windowedBy(windows: Windows): WindowedKStream<K, V> {
    return new WindowedKStream(this.stream, windows, this.ctx);
  }
}

export class WindowedKStream<K, V> {
  constructor(
    private readonly stream: KStream<K, V>,
    private readonly windows: Windows,
    private readonly ctx: TaskContext,
  ) {}

  /** Final result per window (emitted when it closes); `merge` is required for session windows. */
  aggregate<A>(
    init: () => A,
    add: (key: K, value: V, agg: A) => A,
    spec: StoreSpec<K, OpenWindow<A>[]>,
    merge?: (key: K, a: A, b: A) => A,
  ): KStream<Windowed<K>, A> {
    const store: KeyValueStore<K, OpenWindow<A>[]> = this.ctx.store(spec);
    return this.stream.pipe(
      windowedAggregate(this.windows, {
        init,
        add,
        store,
        ...(merge ? { merge } : {}),
        onLate: () => this.ctx.late(),
      }),
    );
  }
}

/** A changelog-backed table (aggregate result) or a global table read from a compacted topic. */
export class KTable<K, V> {
  constructor(
    readonly store: ReadOnlyKeyValueStore<K, V>,
    private readonly updates: KStream<K, V>,
  ) {}
  toStream(): KStream<K, V> {
    return this.updates;
  }
}
