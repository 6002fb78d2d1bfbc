import { isRetriable } from './errors.js';

/**
 * The one retry module: exponential backoff with full jitter, retrying only what the caller's
 * `shouldRetry` accepts (by default retriable {@link FleetError}s). Used by the sink writer (forever,
 * until its signal aborts), the publisher (until its delivery deadline) and the Snowflake sink.
 */

/** Exponential backoff with full jitter. */
export interface BackoffOptions {
  /** First delay. @default 100 (ms) */
  initialMs?: number;
  /** Upper bound of one delay. @default 10_000 (ms) */
  maxMs?: number;
  /** Growth per attempt. @default 2 */
  factor?: number;
  /** Randomise each delay in [delay/2, delay]. @default true */
  jitter?: boolean;
}

/** Waits `ms`; rejects with the signal's reason when it aborts. Tests inject instant ones. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface RetryOptions extends BackoffOptions {
  /** Attempts after the first one; `Infinity` retries until `signal` aborts. @default 5 */
  retries?: number;
  /**
   * Whether to retry after `error`, knowing the delay before the next attempt (a caller with a
   * deadline can refuse a retry that would end after it). @default isRetriable
   */
  shouldRetry?: (error: unknown, next: { attempt: number; delayMs: number }) => boolean | Promise<boolean>;
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
  /** Stops retrying: checked before each attempt and interrupts the wait between attempts. */
  signal?: AbortSignal;
  /** @default sleep (setTimeout) */
  sleep?: Sleep;
}

export function backoffDelay(attempt: number, options: BackoffOptions = {}, random = Math.random): number {
  const { initialMs = 100, maxMs = 10_000, factor = 2, jitter = true } = options;
  const base = Math.min(maxMs, initialMs * factor ** attempt);
  return jitter ? Math.round(base / 2 + (random() * base) / 2) : base;
}

export const sleep: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason ?? new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/**
 * Runs `fn` until it succeeds, `shouldRetry` refuses (the error is rethrown), the retries run out
 * (the last error is rethrown) or `signal` aborts (its reason is thrown).
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const { retries = 5, shouldRetry = isRetriable, onRetry, signal, sleep: wait = sleep } = options;
  for (let attempt = 0; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (error) {
      const delayMs = backoffDelay(attempt, options);
      if (attempt >= retries || signal?.aborted) throw error;
      if (!(await shouldRetry(error, { attempt: attempt + 1, delayMs }))) throw error;
      onRetry?.({ attempt: attempt + 1, delayMs, error });
      await wait(delayMs, signal);
    }
  }
}
