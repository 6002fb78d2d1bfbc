/**
 * The record model of the DSL, named like Kafka Streams: a key, a value and an event time. Records
 * flow through RxJS one at a time inside a stream task; the runtime feeds a task whole fetches.
 */
export interface KeyedRecord<K, V> {
  readonly key: K;
  readonly value: V;
  /** Event time, epoch ms. */
  readonly ts: number;
}

/** How values (or keys) become record bytes and back. `null` is a tombstone. */
export interface Serde<T> {
  serialize(value: T): Buffer;
  deserialize(bytes: Buffer): T;
}

/** A record a task produced for an output topic (`to`) or a store changelog. */
export interface OutputRecord {
  readonly topic: string;
  readonly key: Buffer;
  /** `null`: a tombstone (a store entry was deleted). */
  readonly value: Buffer | null;
  readonly ts: number;
}

/** Where a task's `to(topic)` and store changelogs write; the runtime drains it per transaction. */
export interface RecordCollector {
  send(record: OutputRecord): void;
}

export const stringSerde: Serde<string> = {
  serialize: (v) => Buffer.from(v, 'utf8'),
  deserialize: (b) => b.toString('utf8'),
};

/** JSON values; `parse` validates (and may throw) after JSON.parse. */
export function jsonSerde<T>(parse: (value: unknown) => T = (v) => v as T): Serde<T> {
  return {
    serialize: (v) => Buffer.from(JSON.stringify(v)),
    deserialize: (b) => parse(JSON.parse(b.toString('utf8'))),
  };
}
