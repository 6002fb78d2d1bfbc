import type { Consumer } from 'kafkajs';
import { LogEvents, type Logger } from '../logger.js';
import type { ProcessorMetrics } from '../stream/processor-metrics.js';
import type { CommitTracker, TopicPartitionOffset } from './commit-tracker.js';

export interface OffsetCommitterOptions {
  consumer: Pick<Consumer, 'commitOffsets'>;
  /** Says which offsets every sink made durable. */
  tracker: CommitTracker;
  /** Partitions this member owns now: a revoked partition's offsets are its new owner's to commit. */
  owned: () => readonly number[];
  logger: Logger;
  metrics?: ProcessorMetrics;
}

/**
 * Commits the group's offsets explicitly: only what the {@link CommitTracker} says is durable in
 * every sink, for partitions still owned, at most one commit in flight (requests made meanwhile
 * coalesce into one more round).
 */
export class OffsetCommitter {
  private committing: Promise<void> | null = null;
  private commitAgain = false;

  constructor(private readonly options: OffsetCommitterOptions) {}

  /** Commits whatever became durable; coalesces: at most one commit in flight. */
  requestCommit(): void {
    if (this.committing) {
      this.commitAgain = true;
      return;
    }
    this.committing = this.commitLoop().finally(() => {
      this.committing = null;
    });
  }

  /** Waits for the commit in flight, then commits everything durable now. */
  async commitNow(): Promise<void> {
    while (this.committing) await this.committing;
    this.requestCommit();
    await this.committing;
  }

  private async commitLoop(): Promise<void> {
    do {
      this.commitAgain = false;
      const owned = new Set(this.options.owned());
      const offsets = this.options.tracker.committable().filter((o) => owned.has(o.partition));
      if (offsets.length === 0) return;
      try {
        await this.options.consumer.commitOffsets(offsets);
      } catch (err) {
        // Rebalance or coordinator move: the next commit (or the new owner) covers these offsets.
        this.options.metrics?.commits.inc({ result: 'failed' });
        this.options.logger.warn({ err: err, offsets }, 'offset commit failed');
        return;
      }
      this.options.tracker.markCommitted(offsets);
      this.recordCommit(offsets);
    } while (this.commitAgain);
  }

  private recordCommit(offsets: readonly TopicPartitionOffset[]): void {
    const m = this.options.metrics;
    m?.commits.inc({ result: 'ok' });
    for (const o of offsets)
      m?.committedOffset.set({ topic: o.topic, partition: String(o.partition) }, Number(o.offset));
    this.options.logger.debug({ event: LogEvents.offsetsCommitted, offsets }, 'offsets committed');
  }
}
