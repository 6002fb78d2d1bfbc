import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';

export interface TailOptions {
  onRecord: (partition: number, message: KafkaMessage) => void;
  /** Told when the consumer crashed for good (kafkajs gave up restarting it). */
  onFailure?: (err: unknown) => void;
  /** Consumer group name prefix (the group is throwaway: nothing is ever committed). @default fleet-tail */
  groupPrefix?: string;
}

export interface Tail {
  stop(): Promise<void>;
}

/**
 * Follows a topic from its end (what is written from now on), read_committed, with a throwaway
 * consumer group that never commits: a live view (SSE, `--follow`), not a processor. Resolves once
 * the consumer has resolved its start offsets (its first fetch), so what is written afterwards is
 * seen.
 */
export async function tailTopic(kafka: Kafka, topic: string, options: TailOptions): Promise<Tail> {
  const consumer = kafka.consumer({
    groupId: `${options.groupPrefix ?? 'fleet-tail'}-${randomUUID()}`,
    maxWaitTimeInMs: 100,
    readUncommitted: false,
  });
  const stop = async () => void (await consumer.disconnect());
  let live!: () => void;
  let failed!: (err: unknown) => void;
  const started = new Promise<void>((resolve, reject) => ((live = resolve), (failed = reject)));
  // Every fetch resolves the offsets of all assigned partitions first: after one, the tail is live.
  const offFetch = consumer.on(consumer.events.FETCH, () => {
    offFetch();
    live();
  });
  consumer.on(consumer.events.CRASH, (e) => {
    if (e.payload.restart) return;
    failed(e.payload.error);
    options.onFailure?.(e.payload.error);
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) options.onRecord(batch.partition, m);
      },
    });
    await started;
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
  return { stop };
}
