import { errorMessage, FleetError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RedisClient } from './redis-connection.js';
import { layoutKey, legacyKeys } from './shard-keys.js';

export type TableLayout =
  /** Nothing stored yet. */
  | { kind: 'empty' }
  /** Sharded for the topic's current partition count. */
  | { kind: 'current'; partitions: number }
  /** Whole-table keys of the unsharded layout. */
  | { kind: 'legacy' }
  /** Sharded for another partition count: vehicles may sit in the wrong shard. */
  | { kind: 'repartitioned'; built: number; partitions: number };

/** What the table under `prefix` holds, compared with a topic of `partitions` partitions. */
export async function inspectLayout(
  client: RedisClient,
  prefix: string,
  partitions: number,
): Promise<TableLayout> {
  const marker = await client.get(layoutKey(prefix));
  if (marker !== null) {
    const built = Number(marker);
    return built === partitions
      ? { kind: 'current', partitions }
      : { kind: 'repartitioned', built, partitions };
  }
  // One EXISTS per key: on a cluster the legacy keys sit in different slots.
  const found = await Promise.all(legacyKeys(prefix).map((key) => client.exists(key)));
  return found.some((n) => n > 0) ? { kind: 'legacy' } : { kind: 'empty' };
}

/** The table must be rebuilt before a processor or the API may use it. */
export class TableLayoutError extends FleetError {
  constructor(
    readonly layout: TableLayout,
    message: string,
  ) {
    super(message, { retriable: false });
  }
}

/** The command that rebuilds the table (used in messages and the docs). */
export const REBUILD_COMMAND = 'fleet replay --from earliest --rebuild';

export function layoutProblem(layout: TableLayout, prefix: string): TableLayoutError | null {
  switch (layout.kind) {
    case 'empty':
    case 'current':
      return null;
    case 'legacy':
      return new TableLayoutError(
        layout,
        `the Redis table under "${prefix}" has the old unsharded layout (keys ${prefix}states, ${prefix}geo, …). ` +
          `Stop the processors and run \`${REBUILD_COMMAND}\`: it removes the old keys and rebuilds ` +
          `the table sharded by partition; then start the processors again.`,
      );
    case 'repartitioned':
      return new TableLayoutError(
        layout,
        `the Redis table under "${prefix}" was built for ${layout.built} partitions but the topic has ` +
          `${layout.partitions}: vehicles whose key moved partition would keep a stale state. Stop the ` +
          `processors and run \`${REBUILD_COMMAND}\`; then start the processors again.`,
      );
  }
}

/**
 * At start: a table that must be rebuilt fails the command (with what to run); a Redis or Kafka
 * that cannot be reached yet only warns, as every read and write retries or reports on its own.
 */
export async function checkTableLayout(
  table: { verifyLayout?(): Promise<void> },
  logger: Logger,
): Promise<void> {
  await table.verifyLayout?.().catch((err: unknown) => {
    if (!(err instanceof FleetError && err.retriable)) throw err;
    logger.warn(
      { err: errorMessage(err) },
      'latest-state table not reachable yet; its layout is checked later',
    );
  });
}
