import type { Logger } from '../logger.js';

/** Resources a component created itself and must close on stop (injected ones are left alone). */
export class OwnedResources {
  private readonly resources: { name: string; close(): Promise<void> }[] = [];

  constructor(private readonly logger: Logger) {}

  /** Registers `resource` to be closed by `closeAll()` and returns it. */
  own<T extends { close(): Promise<void> }>(name: string, resource: T): T {
    this.resources.push({ name, close: () => resource.close() });
    return resource;
  }

  /** Closes everything registered (in parallel), logging failures; idempotent. */
  async closeAll(): Promise<void> {
    await Promise.all(
      this.resources
        .splice(0)
        .map((r) =>
          r.close().catch((err) => this.logger.warn({ err: err, resource: r.name }, 'close failed')),
        ),
    );
  }
}

/** Waits for `promise` at most `ms`; true when it settled (either way) in time. */
export async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const settled = promise.then(
    () => true,
    () => true,
  );
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
