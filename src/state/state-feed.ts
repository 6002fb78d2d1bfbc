import type { StateChange, VehicleState } from './latest-state-table.js';

/** What a follower of the table's change feed is told. */
export interface StateFeedListener {
  /** A state the table now holds (published by the upsert after the write). */
  change(state: StateChange): void;
  /**
   * Changes may have been lost from now on (the subscriber connection dropped, or a shard's
   * subscriber went away): whatever the follower built from the feed may be stale until it has
   * called `resubscribe()` and read a fresh `scan()`.
   */
  lost(reason: string): void;
}

/**
 * The table's change feed with its gaps made visible, plus a snapshot scan: what an in-memory
 * replica needs (Redis adapter: `redis-state-feed.ts`). A follower subscribes, then scans, and
 * orders the two by version (event time, then partition offset), as the table itself does.
 */
export interface StateFeed {
  /**
   * Subscribes to every shard's changes; resolves once the subscriptions are confirmed, so every
   * change committed after that is delivered (or reported `lost`). Only one listener.
   */
  follow(listener: StateFeedListener): Promise<void>;
  /** Subscribes every shard again (after `lost`); resolves once confirmed. */
  resubscribe(): Promise<void>;
  /** Every state the table holds, in batches (not atomic: a concurrent write may or may not show). */
  scan(onBatch: (states: VehicleState[]) => void): Promise<void>;
  /** Unsubscribes and closes the feed's own connection. */
  close(): Promise<void>;
}
