import { errorMessage, isRetriable } from './errors.js';

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

export interface RetryOptions extends BackoffOptions {
  /** Attempts after the first one; `Infinity` retries until `signal` aborts. @default 5 */
  retries?: number;
  /** Which errors to retry. @default isRetriable (FleetError.retriable) */
  shouldRetry?: (err: unknown) => boolean;
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
  signal?: AbortSignal;
  /** Injected for tests; resolves after `ms`. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export function backoffDelay(attempt: number, options: BackoffOptions = {}, random = Math.random): number {
  const { initialMs = 100, maxMs = 10_000, factor = 2, jitter = true } = options;
  const base = Math.min(maxMs, initialMs * factor ** attempt);
  return jitter ? Math.round(base / 2 + (random() * base) / 2) : base;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
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
}

/** Runs `fn` until it succeeds, a non-retriable error is thrown, or the retries run out. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const { retries = 5, shouldRetry = isRetriable, onRetry, signal, sleep: wait = sleep } = options;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= retries || !shouldRetry(error) || signal?.aborted) throw error;
      const delayMs = backoffDelay(attempt, options);
      onRetry?.({ attempt: attempt + 1, delayMs, error });
      await wait(delayMs, signal);
    }
  }
}

export { errorMessage };
