import { randomBytes } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { FleetError } from '../errors.js';

export interface ReadTopicOptions {
  /** Fail when the end offsets are not reached within this time. @default 60_000 (ms) */
  timeoutMs?: number;
  /**
   * Keep reading after the end offsets until this signal aborts (`onCaughtUp` marks the end of the
   * records that were there at the start). Without it the read resolves at the end offsets.
   */
  follow?: AbortSignal;
  onCaughtUp?: () => void;
}

/**
 * Reads every record of `topic` from the earliest offset up to the high watermarks found at the
 * start (records in partition order per partition), with a throwaway consumer group that commits
 * nothing and is deleted afterwards. For small operational topics (DLQ, replay markers) that are
 * written without transactions, so offsets up to the high watermark are all data records.
 */
export async function readTopicToEnd(
  kafka: Kafka,
  topic: string,
  onMessage: (partition: number, message: KafkaMessage) => void,
  options: ReadTopicOptions = {},
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `fleet-reader-${randomBytes(6).toString('hex')}`;
  try {
    const offsets = await admin.fetchTopicOffsets(topic).catch((err: unknown) => {
      throw new FleetError(`cannot read topic ${topic}: ${(err as Error).message}`, { cause: err });
    });
    const ends = new Map<number, bigint>();
    for (const o of offsets) if (BigInt(o.high) > BigInt(o.low)) ends.set(o.partition, BigInt(o.high));
    if (ends.size === 0 && !options.follow) return;
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200, allowAutoTopicCreation: false });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const caughtUp = () => [...ends.keys()].length === 0;
        let ended = false;
        const end = () => {
          if (ended) return;
          ended = true;
          clearTimeout(timer);
          options.onCaughtUp?.();
          if (!options.follow) return resolve();
          if (options.follow.aborted) return resolve();
          options.follow.addEventListener('abort', () => resolve(), { once: true });
        };
        const timer = setTimeout(
          () => reject(new FleetError(`reading ${topic} did not reach its end offsets in time`)),
          options.timeoutMs ?? 60_000,
        );
        consumer
          .run({
            autoCommit: false,
            eachMessage: async ({ partition, message }) => {
              if (ended && !options.follow) return;
              onMessage(partition, message);
              const last = ends.get(partition);
              if (last !== undefined && BigInt(message.offset) >= last - 1n) ends.delete(partition);
              if (caughtUp()) end();
            },
          })
          .catch(reject);
        if (caughtUp()) end();
      });
    } finally {
      await consumer.disconnect();
    }
  } finally {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}
