import { Observable, type OperatorFunction, type SchedulerLike } from 'rxjs';
import type { KeyedRecord } from './types.js';

/**
 * `wallClock`: every `every` ms of the scheduler's clock (offline detection: time passes even when
 * no record arrives). `streamTime`: each time the highest event time seen crosses a multiple of
 * `every` (replays give the same punctuations as live runs).
 */
export type PunctuationType = 'wallClock' | 'streamTime';

/** Gets the punctuation time (wall clock now, or the crossed stream-time boundary); returns records to forward. */
export type Punctuator<K, V> = (timestamp: number) => Iterable<KeyedRecord<K, V>>;

/**
 * Passes records through and merges in what the punctuator returns. Wall-clock punctuation runs on
 * the injected scheduler, so marble tests drive it with virtual time.
 */
export function punctuate<K, V>(
  type: PunctuationType,
  every: number,
  punctuator: Punctuator<K, V>,
  scheduler: SchedulerLike,
): OperatorFunction<KeyedRecord<K, V>, KeyedRecord<K, V>> {
  if (!(every > 0)) throw new RangeError('punctuate: every must be > 0');
  if (type === 'wallClock') {
    return (source) =>
      new Observable<KeyedRecord<K, V>>((subscriber) => {
        const timer = scheduler.schedule(function tick() {
          try {
            for (const record of punctuator(scheduler.now())) subscriber.next(record);
          } catch (err) {
            subscriber.error(err);
            return;
          }
          this.schedule(undefined, every);
        }, every);
        const subscription = source.subscribe({
          next: (record) => subscriber.next(record),
          error: (err) => subscriber.error(err),
          complete: () => subscriber.complete(),
        });
        return () => {
          timer.unsubscribe();
          subscription.unsubscribe();
        };
      });
  }
  return (source) =>
    new Observable((subscriber) => {
      let next = -Infinity;
      return source.subscribe({
        next(record) {
          subscriber.next(record);
          if (next === -Infinity) next = Math.floor(record.ts / every) * every + every;
          while (record.ts >= next) {
            for (const out of punctuator(next)) subscriber.next(out);
            next += every;
          }
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
}
