import type { PositionRecord } from '../domain/records.js';
import type { LatestStateTable, UpsertOptions, UpsertResult } from './latest-state-table.js';
import type { StateChangelog } from './state-changelog.js';

/**
 * A table whose upserts are logged (Kafka Streams' logged state store): `upsert` resolves only
 * after the changelog holds every record that is its vehicle's state after the call, so the
 * processor, which commits a range once the table stage resolved it, never commits an offset whose
 * update is missing from the changelog.
 *
 * At least once, not exactly once: a record applied to Redis whose changelog write was lost (a
 * crash, a failed send) is read again after the restart or retried; the table then already holds
 * that very record, the script reports it as current, and it is logged then. A state may so be
 * logged twice; that is harmless, since restoring applies the changelog through the same
 * forward-only rule and compaction keeps one of the equal copies.
 */
export function loggedTable(
  table: Pick<LatestStateTable, 'upsert' | 'ping'>,
  changelog: StateChangelog,
): Pick<LatestStateTable, 'upsert' | 'ping'> {
  return {
    async upsert(batch: readonly PositionRecord[], options?: UpsertOptions): Promise<UpsertResult> {
      const result = await table.upsert(batch, { ...options, current: true });
      const current = result.current;
      if (current) await changelog.append(current.records, current.updatedAt, current.states);
      return options?.current ? result : { applied: result.applied, ignored: result.ignored };
    },
    ping: () => table.ping(),
  };
}
