import { tap, type MonoTypeOperatorFunction } from 'rxjs';
import { releaseAll, type DurableBatch } from './batch.js';

/** Whatever commits offsets (the Kafka source). */
export interface Committer {
  /** Commits the offsets that became durable since the last commit (asynchronously, coalesced). */
  requestCommit(): void;
}

/**
 * The commit step: every batch arriving here is durable in its sink, so its acks are released.
 * A source range whose every holder (table, warehouse, dead letters) has released it is durable
 * everywhere; the committer commits the contiguous durable prefix of each partition.
 */
export function commitWhenDurable<T extends DurableBatch>(
  committer?: Committer,
): MonoTypeOperatorFunction<T> {
  return tap((durable) => {
    releaseAll(durable.batch.acks);
    committer?.requestCommit();
  });
}
