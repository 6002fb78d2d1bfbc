import { FleetError, errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { retry, type RetryOptions } from '../retry.js';

/** The consumed topic was deleted and re-created while this processor was reading it. */
export class TopicRecreatedError extends FleetError {
  constructor(
    readonly topic: string,
    readonly was: string,
    readonly now: string,
  ) {
    super(
      `topic ${topic} was re-created while this processor read it (topic id ${was} → ${now}): ` +
        'stopping; a restart reads the new topic from its own committed offsets',
    );
  }
}

export interface TopicIdentityOptions {
  topic: string;
  /** Reads the topic's id from the cluster now (`fetchTopicId`). */
  lookup: (topic: string) => Promise<string>;
  logger: Logger;
  /** Re-read the id before a batch when the last read is older than this (ms). @default 30_000 */
  recheckMs?: number;
  /** Retries of one read. @default 5 attempts more, 200 ms doubling */
  retry?: RetryOptions;
  /** @default Date.now */
  now?: () => number;
}

/**
 * Which incarnation of the topic the source reads: the topic id is read when partitions are
 * assigned, and again before a batch whose first offset lies below where the partition stood (a
 * re-created topic restarts at 0, so its records arrive after an offset reset) or when the last
 * read is older than `recheckMs`. The first id read is the one this source tags records with; a
 * different id later means the topic was re-created under us, and the batch is refused with a
 * {@link TopicRecreatedError} (fatal: commits and in-flight offsets belong to the old topic).
 */
export class TopicIdentity {
  private first: string | undefined;
  private current: Promise<string> | undefined;
  private readAt = 0;
  private readonly now: () => number;

  constructor(private readonly options: TopicIdentityOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The id as first read (undefined before the first read succeeded). */
  get id(): string | undefined {
    return this.first;
  }

  /** Reads the id again (on assignment); resolves with it, rejects on a change or a failed read. */
  refresh(): Promise<string> {
    const { topic, lookup, logger } = this.options;
    this.readAt = this.now();
    const reading = retry(() => lookup(topic), {
      retries: 5,
      initialMs: 200,
      maxMs: 5_000,
      ...this.options.retry,
    }).then((id) => {
      if (this.first === undefined) {
        this.first = id;
        logger.info({ topic, topicId: id }, 'topic id read');
      } else if (id !== this.first) {
        throw new TopicRecreatedError(topic, this.first, id);
      }
      return id;
    });
    this.current = reading;
    // The rejection is for whoever awaits the id next; an unawaited read must not crash the process.
    reading.catch((err: unknown) => logger.warn({ topic, err: errorMessage(err) }, 'topic id read failed'));
    return reading;
  }

  /**
   * The id to tag a batch with. `offsetWentBack`: the batch starts below where its partition
   * stood, which is how a re-created topic's records first show up.
   */
  async forBatch(offsetWentBack: boolean): Promise<string> {
    const stale = this.now() - this.readAt >= (this.options.recheckMs ?? 30_000);
    if (!this.current || offsetWentBack || stale) return this.refresh();
    try {
      return await this.current;
    } catch (err) {
      if (err instanceof TopicRecreatedError) throw err;
      return this.refresh();
    }
  }
}
