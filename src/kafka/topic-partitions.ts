import type { Kafka } from 'kafkajs';
import { errorMessage, FleetError } from '../errors.js';

/**
 * The topic's partition count from its metadata, read once and cached (the state table's shard
 * count). A failed lookup is not cached: the next call asks again.
 */
export function topicPartitionCount(kafka: Kafka, topic: string): () => Promise<number> {
  let cached: Promise<number> | undefined;
  return () => {
    if (cached === undefined) {
      const pending = readPartitionCount(kafka, topic);
      cached = pending;
      pending.catch(() => {
        if (cached === pending) cached = undefined;
      });
    }
    return cached;
  };
}

async function readPartitionCount(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    const count = meta.topics[0]?.partitions.length ?? 0;
    if (count < 1) {
      throw new FleetError(`topic ${topic} has no partitions; create it with \`fleet topics create\``);
    }
    return count;
  } catch (err) {
    if (err instanceof FleetError) throw err;
    throw new FleetError(`could not read the partition count of topic ${topic}: ${errorMessage(err)}`, {
      retriable: true,
      cause: err,
    });
  } finally {
    await admin.disconnect();
  }
}
