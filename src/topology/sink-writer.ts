import { Observable, type OperatorFunction } from 'rxjs';
import { FleetError, isRetriable, SinkError } from '../errors.js';
import { backoffDelay, sleep as defaultSleep, type BackoffOptions } from '../retry.js';
import { concatBatches, type Batch, type DurableBatch } from './batch.js';

/** How sink writes are retried. Writes retry until they succeed or `signal` aborts: never dropped. */
export interface RetryPolicy extends BackoffOptions {
  /** Aborts the waiting between attempts (hard shutdown). */
  signal?: AbortSignal;
  /** Injected in tests so backoffs are instant. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface SinkWriterHooks<T> {
  onFlushed?(batch: Batch<T>, seconds: number): void;
  onRetry?(info: { sink: string; attempt: number; delayMs: number; error: unknown }): void;
  onIsolated?(info: { sink: string; records: number; error: unknown }): void;
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
          if (!busy) void pump();
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
  const wait = policy.sleep ?? defaultSleep;
  const maxPoisonRun = options.maxPoisonRun ?? 8;
  let poisonRun = 0;

  const backoff = async (attempt: number, error: unknown): Promise<void> => {
    const delayMs = backoffDelay(attempt, policy);
    options.onRetry?.({ sink: options.name, attempt: attempt + 1, delayMs, error });
    await wait(delayMs, policy.signal);
  };

  /** Resolves true when the sink answers, false when it is (retriably) down; throws when fatal. */
  const probe = async (writeError: unknown): Promise<boolean> => {
    if (!options.ping) return true;
    try {
      await options.ping();
      return true;
    } catch (pingError) {
      if (pingError instanceof FleetError && !pingError.retriable) {
        throw new SinkError(options.name, `unusable: ${message(writeError)} (ping: ${message(pingError)})`, {
          cause: writeError,
        });
      }
      return false;
    }
  };

  const write = async (items: readonly T[], isolating: boolean): Promise<void> => {
    for (let attempt = 0; ;) {
      policy.signal?.throwIfAborted();
      try {
        await options.write(items);
        poisonRun = 0;
        return;
      } catch (error) {
        if (isRetriable(error) || (!isolating && !(await probe(error)))) {
          await backoff(attempt++, error);
          continue;
        }
        if (!options.isolate) {
          throw new SinkError(
            options.name,
            `write failed and records cannot be isolated: ${message(error)}`,
            {
              cause: error,
            },
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
            `${poisonRun} records in a row failed alone; the sink is failing, not the data: ${message(error)}`,
            { cause: error },
          );
        }
        options.onIsolated?.({ sink: options.name, records: items.length, error });
        await options.isolate(items, error);
        return;
      }
    }
  };

  return (items) => write(items, false);
}

/** Retries `fn` on retriable errors with backoff until it succeeds or the policy's signal aborts. */
export async function retryForever<R>(
  name: string,
  fn: () => Promise<R>,
  policy: RetryPolicy = {},
  onRetry?: SinkWriterHooks<unknown>['onRetry'],
): Promise<R> {
  const wait = policy.sleep ?? defaultSleep;
  for (let attempt = 0; ; attempt++) {
    policy.signal?.throwIfAborted();
    try {
      return await fn();
    } catch (error) {
      if (!isRetriable(error)) throw error;
      const delayMs = backoffDelay(attempt, policy);
      onRetry?.({ sink: name, attempt: attempt + 1, delayMs, error });
      await wait(delayMs, policy.signal);
    }
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
