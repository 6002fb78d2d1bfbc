import { Subject, type Observable } from 'rxjs';
import type { ReadOnlyKeyValueStore } from './store.js';
import type { KeyedRecord, Serde } from './types.js';

/**
 * A table read from a compacted topic into every instance (Kafka Streams' GlobalKTable): the
 * runtime reads the topic to its end before any task starts ({@link GlobalTable.markLoaded}), then
 * keeps applying new records. A null value (tombstone) deletes the key.
 */
export class GlobalTable<K, V> implements ReadOnlyKeyValueStore<K, V> {
  private readonly map = new Map<K, V>();
  private readonly changes = new Subject<KeyedRecord<K, V | null>>();
  private loadedFlag = false;
  /** Every applied change, after the store holds it. */
  readonly changes$: Observable<KeyedRecord<K, V | null>> = this.changes.asObservable();

  constructor(
    readonly topic: string,
    private readonly serdes: { key: Serde<K>; value: Serde<V> },
    /** A value that does not decode is skipped (and reported here), never fatal. */
    private readonly onInvalid: (key: Buffer | null, err: unknown) => void = () => undefined,
  ) {}

  get size(): number {
    return this.map.size;
  }
  get loaded(): boolean {
    return this.loadedFlag;
  }
  get(key: K): V | undefined {
    return this.map.get(key);
  }
  all(): IterableIterator<[K, V]> {
    return this.map.entries();
  }
  apply(key: Buffer | null, value: Buffer | null, ts: number): void {
    if (key === null) return this.onInvalid(key, new Error('record without a key'));
    let k: K;
    let v: V | null;
    try {
      k = this.serdes.key.deserialize(key);
      v = value === null ? null : this.serdes.value.deserialize(value);
    } catch (err) {
      return this.onInvalid(key, err);
    }
    if (v === null) this.map.delete(k);
    else this.map.set(k, v);
    this.changes.next({ key: k, value: v, ts });
  }
  markLoaded(): void {
    this.loadedFlag = true;
  }
}
