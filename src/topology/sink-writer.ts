import { Observable, type OperatorFunction } from 'rxjs';
import { errorMessage, FleetError, isRetriable, SinkError } from '../errors.js';
import { retry, type RetryOptions } from '../retry.js';
import { concatBatches, type Batch, type DurableBatch } from '../stream/batch.js';

/** How sink writes are retried. Writes retry until they succeed or `signal` aborts: never dropped. */
export type RetryPolicy = Pick<
  RetryOptions,
  'initialMs' | 'maxMs' | 'factor' | 'jitter' | 'signal' | 'sleep'
>;

export interface SinkWriterHooks<T> {
  onFlushed?(batch: Batch<T>, seconds: number): void;
  onRetry?(info: { sink: string; attempt: number; delayMs: number; error: unknown }): void;
}

export interface SinkWriterOptions<T> extends SinkWriterHooks<T> {
  /** Sink name for logs and metrics. */
  name: string;
  /** Makes the items durable; rejects with a FleetError saying whether a retry can help. */
  write(items: readonly T[]): Promise<void>;
  /**
   * Cheap round trip run after a non-retriable failure: if it fails non-retriably too the sink is
   * unusable (auth, permissions) and the failure is fatal; if it fails retriably the write is
   * retried; if it succeeds the batch is bisected to isolate the poison record(s).
   */
  ping?(): Promise<void>;
  /**
   * Takes records that fail alone (poison). Absent: such a failure is fatal. Must resolve only once
   * the records are durable elsewhere (the dead-letter queue).
   */
  isolate?(items: readonly T[], error: unknown): Promise<void>;
  retry?: RetryPolicy;
  /** While a write is in flight, queued batches are merged up to this many items. */
  maxCoalesce: number;
  /** Poison records in a row (no successful write between) before the failure counts as systemic. @default 8 */
  maxPoisonRun?: number;
}

/**
 * Writes batches to a sink one at a time, in order, and emits each batch once it is durable.
 * Batches arriving during a write are coalesced (up to `maxCoalesce` items), so a slow sink gets
 * fewer, larger writes instead of a growing queue. Retriable failures retry with backoff forever
 * (the unflushed bytes then pause the source); non-retriable ones isolate poison records by
 * bisection. Errors that escape (fatal sink, abort) end the stream with an error.
 */
export function writeToSink<T>(options: SinkWriterOptions<T>): OperatorFunction<Batch<T>, DurableBatch<T>> {
  const durably = durableWriter(options);
  return (source) =>
    new Observable<DurableBatch<T>>((subscriber) => {
      const queue: { parts: Batch<T>[]; count: number }[] = [];
      let busy = false;
      let inputDone = false;
      let failed = false;

      const pump = async (): Promise<void> => {
        busy = true;
        while (queue.length > 0 && !failed && !subscriber.closed) {
          const batch = concatBatches(queue.shift()!.parts);
          const started = performance.now();
          try {
            await durably(batch.items);
          } catch (err) {
            failed = true;
            subscriber.error(err);
            return;
          }
          options.onFlushed?.(batch, (performance.now() - started) / 1000);
          subscriber.next({ sink: options.name, batch });
        }
        busy = false;
        if (inputDone && queue.length === 0) subscriber.complete();
      };

      // A throwing hook (onFlushed) must end the stream with its error: never an unhandled
      // rejection with `busy` stuck true and the stream silently stalled.
      const startPump = () => {
        pump().catch((err: unknown) => {
          busy = false;
          if (failed) return;
          failed = true;
          subscriber.error(err);
        });
      };

      const subscription = source.subscribe({
        next(batch) {
          if (batch.items.length === 0) return;
          const last = queue[queue.length - 1];
          if (last && last.count + batch.items.length <= options.maxCoalesce) {
            last.parts.push(batch);
            last.count += batch.items.length;
          } else {
            queue.push({ parts: [batch], count: batch.items.length });
          }
          if (!busy) startPump();
        },
        error(err) {
          failed = true;
          subscriber.error(err);
        },
        complete() {
          inputDone = true;
          if (!busy && queue.length === 0) subscriber.complete();
        },
      });
      return () => subscription.unsubscribe();
    });
}

/** The retry + poison-isolation loop around one sink's `write`. */
function durableWriter<T>(options: SinkWriterOptions<T>): (items: readonly T[]) => Promise<void> {
  const policy = options.retry ?? {};
  const maxPoisonRun = options.maxPoisonRun ?? 8;
  let poisonRun = 0;

  /** 'up' when the sink answers, 'down' when it is (retriably) down, 'unusable' when fatal. */
  const probe = async (): Promise<{ state: 'up' | 'down' } | { state: 'unusable'; error: unknown }> => {
    if (!options.ping) return { state: 'up' };
    try {
      await options.ping();
      return { state: 'up' };
    } catch (error) {
      return error instanceof FleetError && !error.retriable
        ? { state: 'unusable', error }
        : { state: 'down' };
    }
  };

  const write = async (items: readonly T[], isolating: boolean): Promise<void> => {
    let unusable: SinkError | undefined;
    try {
      await retry(() => options.write(items), {
        ...policy,
        retries: Infinity,
        // Retriable errors retry; so does a non-retriable one while the sink does not answer.
        shouldRetry: async (error) => {
          if (isRetriable(error)) return true;
          if (isolating) return false;
          const sink = await probe();
          if (sink.state === 'unusable') {
            unusable = new SinkError(
              options.name,
              `unusable: ${errorMessage(error)} (ping: ${errorMessage(sink.error)})`,
              { cause: error },
            );
          }
          return sink.state === 'down';
        },
        onRetry: (info) => options.onRetry?.({ sink: options.name, ...info }),
      });
      poisonRun = 0;
      return;
    } catch (error) {
      if (unusable) throw unusable;
      if (policy.signal?.aborted) throw error;
      await isolate(items, error);
    }
  };

  /** A non-retriable failure while the sink answers: find the poison record(s) by bisection. */
  const isolate = async (items: readonly T[], error: unknown): Promise<void> => {
    if (!options.isolate) {
      throw new SinkError(
        options.name,
        `write failed and records cannot be isolated: ${errorMessage(error)}`,
        { cause: error },
      );
    }
    if (items.length > 1) {
      const mid = items.length >>> 1;
      await write(items.slice(0, mid), true);
      await write(items.slice(mid), true);
      return;
    }
    if (++poisonRun >= maxPoisonRun) {
      throw new SinkError(
        options.name,
        `${poisonRun} records in a row failed alone; the sink is failing, not the data: ${errorMessage(error)}`,
        { cause: error },
      );
    }
    await options.isolate(items, error);
  };

  return (items) => write(items, false);
}
