import { Subject, type Observable, type SchedulerLike, type Subscription } from 'rxjs';
import type { GlobalTable } from './global-table.js';
import { KStream, KTable } from './kstream.js';
import { changelogTopic, LoggedStore, type KeyValueStore, type StoreSpec } from './store.js';
import type { TaskContext } from './task-context.js';
import type { KeyedRecord, OutputRecord, Serde } from './types.js';

/** A record as the runtime hands it to a task. */
export interface InputRecord {
  key: Buffer | null;
  value: Buffer | null;
  /** Event time, epoch ms (the record timestamp unless the serde's value carries its own). */
  ts: number;
}

/** What a topology definition is given: the task's sources and the global tables. */
export interface StreamsBuilder {
  stream<K, V>(
    topic: string,
    serdes: { key: Serde<K>; value: Serde<V>; ts?: (value: V) => number },
  ): KStream<K, V>;
  /** A global table, fully loaded by the runtime before the task starts. */
  table<K, V>(topic: string): KTable<K, V>;
  /** The task's logged store (for punctuators; operators given the same spec share it). */
  store<K, V>(spec: StoreSpec<K, V>): KeyValueStore<K, V>;
}

/** Builds the operators of one task; called once per task (one per input partition). */
export type TopologyDefinition = (builder: StreamsBuilder) => void;

export interface StreamTaskOptions {
  applicationId: string;
  partition: number;
  scheduler: SchedulerLike;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tables of any key and value types
  tables?: ReadonlyMap<string, GlobalTable<any, any>>;
  /** A record that did not deserialize (skipped, as Kafka Streams' LogAndContinue handler does). */
  onInvalid?: (topic: string, record: InputRecord, err: unknown) => void;
}

interface Source {
  subject: Subject<KeyedRecord<unknown, unknown>>;
  serdes: { key: Serde<unknown>; value: Serde<unknown>; ts?: (value: unknown) => number };
}

/**
 * One partition's instance of a topology: its sources, its logged stores and its collected output.
 * Records are pushed through RxJS synchronously, so after {@link process} returns, {@link drain}
 * holds everything they produced (outputs and changelog writes) for the runtime's transaction.
 * Wall-clock punctuations add output between calls; the runtime drains those on a timer.
 */
export class StreamTask {
  private readonly sources = new Map<string, Source>();
  private readonly stores = new Map<string, LoggedStore<unknown, unknown>>();
  private readonly starts: (() => Subscription)[] = [];
  private readonly subscriptions: Subscription[] = [];
  private output: OutputRecord[] = [];
  private lateCount = 0;
  private invalidCount = 0;

  constructor(
    definition: TopologyDefinition,
    private readonly options: StreamTaskOptions,
  ) {
    const ctx: TaskContext = {
      partition: options.partition,
      scheduler: options.scheduler,
      collector: { send: (record) => this.output.push(record) },
      store: <K, V>(spec: StoreSpec<K, V>): KeyValueStore<K, V> => this.storeFor(spec),
      subscribe: <T>(source$: Observable<T>, next: (value: T) => void) => {
        this.starts.push(() => source$.subscribe({ next, error: (err) => this.fail(err) }));
      },
      late: () => void this.lateCount++,
    };
    definition({
      stream: <K, V>(
        topic: string,
        serdes: { key: Serde<K>; value: Serde<V>; ts?: (value: V) => number },
      ) => {
        if (this.sources.has(topic)) throw new RangeError(`stream('${topic}') defined twice`);
        const subject = new Subject<KeyedRecord<unknown, unknown>>();
        this.sources.set(topic, { subject, serdes: serdes as unknown as Source['serdes'] });
        return new KStream(subject as unknown as Observable<KeyedRecord<K, V>>, ctx);
      },
      store: <K, V>(spec: StoreSpec<K, V>) => this.storeFor(spec),
      table: <K, V>(topic: string) => {
        const table = options.tables?.get(topic) as GlobalTable<K, V> | undefined;
        if (!table) throw new RangeError(`table('${topic}') is not provided by the runtime`);
        if (!table.loaded) throw new RangeError(`table('${topic}') is not loaded yet`);
        return new KTable(table, new KStream(table.changes$ as Observable<KeyedRecord<K, V>>, ctx));
      },
    });
  }

  private error: unknown;
  private fail(err: unknown): void {
    this.error ??= err;
  }

  get partition(): number {
    return this.options.partition;
  }
  get sourceTopics(): string[] {
    return [...this.sources.keys()];
  }
  /** Changelog topic → store, for restoring. */
  get changelogs(): ReadonlyMap<string, LoggedStore<unknown, unknown>> {
    return new Map(
      [...this.stores].map(([name, s]) => [changelogTopic(this.options.applicationId, name), s]),
    );
  }
  get late(): number {
    return this.lateCount;
  }
  get invalid(): number {
    return this.invalidCount;
  }

  private storeFor<K, V>(spec: StoreSpec<K, V>): KeyValueStore<K, V> {
    let store = this.stores.get(spec.name) as LoggedStore<K, V> | undefined;
    if (!store) {
      const topic = changelogTopic(this.options.applicationId, spec.name);
      const collector = { send: (r: OutputRecord) => this.output.push(r) };
      store = new LoggedStore(spec, topic, collector, () => this.options.scheduler.now());
      this.stores.set(spec.name, store as LoggedStore<unknown, unknown>);
    }
    return store;
  }

  /** Starts the operators; call after restoring the stores. */
  start(): void {
    for (const start of this.starts) this.subscriptions.push(start());
  }

  /** Pushes records through the topology; throws the first operator error. */
  process(topic: string, records: readonly InputRecord[]): void {
    const source = this.sources.get(topic);
    if (!source) throw new RangeError(`no stream('${topic}') in this topology`);
    for (const record of records) {
      let keyed: KeyedRecord<unknown, unknown>;
      try {
        const value = source.serdes.value.deserialize(record.value ?? Buffer.alloc(0));
        const key = source.serdes.key.deserialize(record.key ?? Buffer.alloc(0));
        keyed = { key, value, ts: source.serdes.ts ? source.serdes.ts(value) : record.ts };
      } catch (err) {
        this.invalidCount++;
        this.options.onInvalid?.(topic, record, err);
        continue;
      }
      source.subject.next(keyed);
      if (this.error !== undefined) throw this.error;
    }
  }

  /** Everything produced since the last drain, in production order. */
  drain(): OutputRecord[] {
    if (this.error !== undefined) throw this.error;
    const out = this.output;
    this.output = [];
    return out;
  }

  close(): void {
    for (const s of this.subscriptions) s.unsubscribe();
    for (const source of this.sources.values()) source.subject.complete();
  }
}
