import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';

export interface FollowOptions {
  /** Only these partitions count (others are read and ignored). @default all */
  partitions?: readonly number[];
  /** Stop once caught up (a restore); otherwise keep following (a global table). */
  stopWhenCaughtUp?: boolean;
  onRecord: (partition: number, message: KafkaMessage) => void;
}

export interface Following {
  /** Resolves once every partition was read up to its end at the start (committed records only). */
  caughtUp: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Reads a topic from its beginning with a throwaway consumer group (read_committed), to the
 * high watermarks it had at the start and, unless told to stop, on. kafkajs has no manual
 * assignment, hence the group of one. A transaction marker at the end of a partition counts as
 * read (kafkajs reports it as the batch's last offset).
 */
export async function followTopic(kafka: Kafka, topic: string, options: FollowOptions): Promise<Following> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<number, bigint>();
  try {
    for (const p of await admin.fetchTopicOffsets(topic)) {
      if (!options.partitions || options.partitions.includes(p.partition))
        ends.set(p.partition, BigInt(p.high));
    }
  } finally {
    await admin.disconnect();
  }
  for (const [p, high] of ends) if (high === 0n) ends.delete(p);
  const consumer = kafka.consumer({
    groupId: `fleet-follow-${randomUUID()}`,
    maxWaitTimeInMs: 100,
    readUncommitted: false,
  });
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const caughtUp = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  const stop = async () => void (await consumer.disconnect());
  const check = () => {
    if (ends.size > 0) return;
    resolve();
    if (options.stopWhenCaughtUp) setImmediate(() => void stop().catch(() => undefined));
  };
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const wanted = !options.partitions || options.partitions.includes(batch.partition);
        if (wanted) for (const m of batch.messages) options.onRecord(batch.partition, m);
        const end = ends.get(batch.partition);
        if (end !== undefined && BigInt(batch.lastOffset()) >= end - 1n) {
          ends.delete(batch.partition);
          check();
        }
      },
    });
    consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error));
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
  check();
  return { caughtUp, stop };
}
