import { errorMessage, FleetError } from '../errors.js';
import { logError, type Logger } from '../logger.js';

/** A close that failed while shutting down; the shutdown as a whole is then FAILED, not clean. */
export class ShutdownError extends FleetError {
  constructor(
    readonly resource: string,
    cause: unknown,
    /** How many closes failed in this shutdown (this one was the first). */
    readonly failures: number,
  ) {
    const more = failures > 1 ? ` (and ${failures - 1} more close(s) failed, see the log)` : '';
    super(`shutdown failed: ${resource}: ${errorMessage(cause)}${more}`, {
      cause,
    });
  }
}

/**
 * Resources acquired in a fixed order and released in the reverse order. Every release runs even
 * when an earlier one throws; `close()` then rejects with the first failure as a
 * {@link ShutdownError}, so a failed shutdown is never reported as a clean exit.
 */
export class Scope {
  private readonly resources: { name: string; release: () => Promise<unknown> }[] = [];
  private closing: Promise<void> | undefined;

  constructor(private readonly logger: Logger) {}

  /** Registers `resource` (already acquired): `release` runs at `close()`, before earlier ones. */
  add<T>(name: string, resource: T, release: (resource: T) => Promise<unknown> | unknown): T {
    if (this.closing) throw new FleetError(`cannot acquire ${name}: the scope is closing`);
    this.resources.push({ name, release: async () => release(resource) });
    return resource;
  }

  /** Acquires and registers in one step; nothing is registered when `acquire` throws. */
  async acquire<T>(
    name: string,
    acquire: () => Promise<T> | T,
    release: (resource: T) => Promise<unknown> | unknown,
  ): Promise<T> {
    return this.add(name, await acquire(), release);
  }

  /** Releases everything in reverse order of acquisition; idempotent. */
  close(): Promise<void> {
    this.closing ??= this.releaseAll();
    return this.closing;
  }

  private async releaseAll(): Promise<void> {
    const failures: { name: string; error: unknown }[] = [];
    for (const { name, release } of this.resources.splice(0).reverse()) {
      try {
        await release();
      } catch (error) {
        failures.push({ name, error });
        logError(this.logger, error, `closing ${name} failed`, { resource: name });
      }
    }
    const first = failures[0];
    if (first) throw new ShutdownError(first.name, first.error, failures.length);
  }
}

/**
 * Runs `body` with a fresh scope and closes the scope afterwards, also when `body` throws. The
 * body's error wins (a close failing after it is logged); otherwise a failed close rejects.
 */
export async function withScope<T>(logger: Logger, body: (scope: Scope) => Promise<T>): Promise<T> {
  const scope = new Scope(logger);
  let result: T;
  try {
    result = await body(scope);
  } catch (err) {
    await scope.close().catch(() => undefined);
    throw err;
  }
  await scope.close();
  return result;
}
