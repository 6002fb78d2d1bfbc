import type { Consumer } from 'kafkajs';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';

/** A sink's own record of where partitions resume (next offset to read), e.g. Snowpipe Streaming's. */
export type ResumeFrom = (
  topic: { topic: string; topicId: string },
  partitions: readonly number[],
) => Promise<readonly { partition: number; offset: string }[]>;

/**
 * Seeks newly assigned partitions (not `kept` from before) to where the sink says it has everything before. The answer
 * comes asynchronously: a fetch from the group's committed offset may already be on its way, and
 * the sink's own offset check drops what it re-delivers. Failures are logged, not thrown.
 */
export function seekWhereSinkResumes(
  consumer: Consumer,
  resumeFrom: ResumeFrom,
  source: { topic: string; topicId: string },
  kept: readonly { partition: number }[],
  assignment: () => readonly number[],
  logger: Logger,
): void {
  const fresh = assignment().filter((p) => !kept.some((k) => k.partition === p));
  if (fresh.length === 0) return;
  const { topic } = source;
  resumeFrom(source, fresh).then(
    (offsets) => {
      for (const o of offsets) {
        if (!assignment().includes(o.partition)) continue;
        consumer.seek({ topic, partition: o.partition, offset: o.offset });
        logger.info({ partition: o.partition, offset: o.offset }, 'resuming where the warehouse committed');
      }
    },
    (err: unknown) => logger.warn({ err: errorMessage(err) }, 'warehouse resume offsets unavailable'),
  );
}
