import type { SinkError } from '../errors.js';

/**
 * What every warehouse adapter needs around its writes: one write at a time, in call order, and a
 * latch for *systemic* failures (auth, permissions, missing table or column). Once latched, every
 * write and ping rejects with that error, so the processor sees a fatal sink rather than a "poison
 * record" and stops committing instead of dead-lettering good records one by one.
 */
export class SinkGuard {
  private tail: Promise<unknown> = Promise.resolve();
  private fatal: SinkError | undefined;

  /** Runs `fn` after every earlier call has settled. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(() => {
      this.throwIfFatal();
      return fn();
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Remembers a systemic, non-retriable failure; later writes and pings fail fast with it. */
  latch(error: SinkError): void {
    if (!error.retriable) this.fatal ??= error;
  }

  throwIfFatal(): void {
    if (this.fatal) throw this.fatal;
  }

  /** Waits for the write in flight (if any). */
  async idle(): Promise<void> {
    await this.tail;
  }
}
