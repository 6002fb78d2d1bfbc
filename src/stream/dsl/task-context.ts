import type { Observable, SchedulerLike } from 'rxjs';
import type { KeyValueStore, StoreSpec } from './store.js';
import type { RecordCollector } from './types.js';

/** What the operators of one stream task share: its clock, its collector and its stores. */
export interface TaskContext {
  readonly partition: number;
  readonly scheduler: SchedulerLike;
  readonly collector: RecordCollector;
  /** The task's store of that name (created on first use, restored by the runtime). */
  store<K, V>(spec: StoreSpec<K, V>): KeyValueStore<K, V>;
  /** Terminal subscriptions (`to`, `forEach`) start when the task starts. */
  subscribe<T>(source$: Observable<T>, next: (value: T) => void): void;
  /** Counts a record dropped as late. */
  late(): void;
}
