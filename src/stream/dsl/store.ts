import type { RecordCollector, Serde } from './types.js';

/** What a table view or a punctuator may read. */
export interface ReadOnlyKeyValueStore<K, V> {
  get(key: K): V | undefined;
  /** Every entry, in insertion order. */
  all(): IterableIterator<[K, V]>;
  readonly size: number;
}

export interface KeyValueStore<K, V> extends ReadOnlyKeyValueStore<K, V> {
  put(key: K, value: V): void;
  delete(key: K): void;
}

/** Names a store and says how its changelog encodes keys and values. */
export interface StoreSpec<K, V> {
  readonly name: string;
  readonly keySerde: Serde<K>;
  readonly valueSerde: Serde<V>;
}

/** `aggregate(init, fn, store('trip-state', stringSerde, tripSerde))`. */
export function store<K, V>(name: string, keySerde: Serde<K>, valueSerde: Serde<V>): StoreSpec<K, V> {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new RangeError(`store name '${name}' must be [A-Za-z0-9._-]+`);
  return { name, keySerde, valueSerde };
}

/** The changelog topic of a store, as Kafka Streams names it. */
export const changelogTopic = (applicationId: string, storeName: string) =>
  `${applicationId}-${storeName}-changelog`;

/**
 * An in-memory store of one task whose every write is also sent to its changelog topic, in the
 * same transaction as the output and the offsets (the runtime's job). After a crash or a
 * rebalance the store is rebuilt by replaying the changelog ({@link LoggedStore.restore}).
 */
export class LoggedStore<K, V> implements KeyValueStore<K, V> {
  private readonly map = new Map<K, V>();

  constructor(
    private readonly spec: StoreSpec<K, V>,
    private readonly topic: string,
    private readonly collector: RecordCollector,
    private readonly now: () => number,
  ) {}

  get size(): number {
    return this.map.size;
  }
  get(key: K): V | undefined {
    return this.map.get(key);
  }
  all(): IterableIterator<[K, V]> {
    return this.map.entries();
  }
  put(key: K, value: V): void {
    this.map.set(key, value);
    this.collector.send({
      topic: this.topic,
      key: this.spec.keySerde.serialize(key),
      value: this.spec.valueSerde.serialize(value),
      ts: this.now(),
    });
  }
  delete(key: K): void {
    if (!this.map.delete(key)) return;
    this.collector.send({
      topic: this.topic,
      key: this.spec.keySerde.serialize(key),
      value: null,
      ts: this.now(),
    });
  }
  /** Applies one changelog record (no changelog write). Last write per key wins; null deletes. */
  restore(key: Buffer, value: Buffer | null): void {
    const k = this.spec.keySerde.deserialize(key);
    if (value === null) this.map.delete(k);
    else this.map.set(k, this.spec.valueSerde.deserialize(value));
  }
}
