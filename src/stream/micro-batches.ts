import {
  asyncScheduler,
  Observable,
  type OperatorFunction,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import type { Ack, Batch } from './batch.js';

export interface MicroBatchOptions<T> {
  /** Flush when the window holds this many items; a window never holds more. */
  maxRecords: number;
  /** Flush when the window holds this many bytes; only a single item larger than this exceeds it. */
  maxBytes: number;
  /** Flush a partial window this long after its first item arrived (ms); 0 = after every input. */
  maxWaitMs: number;
  /** Size of one item in bytes; must agree with `Batch.bytes`. */
  sizeOf: (item: T) => number;
  /** Where time comes from. @default asyncScheduler (tests pass a TestScheduler) */
  scheduler?: SchedulerLike;
  /** Every emission flushes the open window at once (rebalance, shutdown). */
  flush$?: Observable<unknown>;
}

/**
 * Tumbling windows over batches: an output batch is emitted on `maxRecords` items, `maxBytes`
 * bytes, or `maxWaitMs` after its first item — whichever comes first — and when the input
 * completes. Input batches are split across windows when they do not fit.
 *
 * Acks: every output batch holds each Ack of the inputs it took items from (once per output
 * batch), so whoever makes the output durable releases exactly what it holds. A window abandoned by
 * unsubscription keeps its holds: its records were never made durable and must not be committed.
 */
export function microBatches<T>(options: MicroBatchOptions<T>): OperatorFunction<Batch<T>, Batch<T>> {
  const { maxRecords, maxBytes, maxWaitMs, sizeOf } = options;
  const scheduler = options.scheduler ?? asyncScheduler;
  if (maxRecords < 1) throw new RangeError('microBatches: maxRecords must be >= 1');
  return (source) =>
    new Observable<Batch<T>>((subscriber) => {
      let items: T[] = [];
      let bytes = 0;
      let acks: Ack[] = [];
      let held = new Set<Ack>();
      let timer: Subscription | null = null;

      const flush = (): void => {
        timer?.unsubscribe();
        timer = null;
        if (items.length === 0) return;
        const out: Batch<T> = { items, bytes, acks };
        items = [];
        bytes = 0;
        acks = [];
        held = new Set();
        subscriber.next(out);
      };
      const opened = (): void => {
        if (maxWaitMs > 0 && timer === null) timer = scheduler.schedule(flush, maxWaitMs);
      };
      const holdAll = (from: readonly Ack[]): void => {
        for (const ack of from) {
          if (held.has(ack)) continue;
          ack.hold();
          held.add(ack);
          acks.push(ack);
        }
      };

      const flushSubscription = options.flush$?.subscribe(() => flush());
      const subscription = source.subscribe({
        next(batch) {
          const n = batch.items.length;
          if (n === 0) return;
          if (items.length + n <= maxRecords && bytes + batch.bytes <= maxBytes) {
            // Fast path: the whole input fits the open window.
            if (items.length === 0) opened();
            for (let i = 0; i < n; i++) items.push(batch.items[i]!);
            bytes += batch.bytes;
            holdAll(batch.acks);
          } else {
            for (let i = 0; i < n; i++) {
              const item = batch.items[i]!;
              const size = sizeOf(item);
              if (items.length > 0 && (items.length >= maxRecords || bytes + size > maxBytes)) flush();
              if (items.length === 0) opened();
              items.push(item);
              bytes += size;
              holdAll(batch.acks);
            }
          }
          if (items.length >= maxRecords || bytes >= maxBytes || maxWaitMs === 0) flush();
        },
        error(err) {
          timer?.unsubscribe();
          subscriber.error(err);
        },
        complete() {
          flush();
          subscriber.complete();
        },
      });
      return () => {
        subscription.unsubscribe();
        flushSubscription?.unsubscribe();
        timer?.unsubscribe();
      };
    });
}
