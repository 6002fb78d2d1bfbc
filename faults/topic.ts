import type { Kafka, KafkaMessage } from 'kafkajs';
import { codecFor } from '../src/domain/codec.js';
import type { Position } from '../src/domain/position.js';
import { errorMessage } from '../src/errors.js';

/**
 * Reads a topic itself, every partition from its earliest offset to its end offset at call time,
 * with a throwaway consumer group, calling `onMessage` for each record. Fails (never resolves
 * quietly) when the end is not reached within `timeoutMs`.
 */
export async function readToEnd(
  kafka: Kafka,
  topic: string,
  onMessage: (partition: number, message: KafkaMessage) => void,
  timeoutMs = 120_000,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<number, bigint>();
  const starts = new Map<number, bigint>();
  try {
    for (const p of await admin.fetchTopicOffsets(topic)) {
      ends.set(p.partition, BigInt(p.high));
      starts.set(p.partition, BigInt(p.low));
    }
  } finally {
    await admin.disconnect();
  }
  const pending = new Set([...ends].filter(([p, end]) => end > starts.get(p)!).map(([p]) => p));
  if (pending.size === 0) return;
  const consumer = kafka.consumer({
    groupId: `faults-reader-${topic}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`,
    maxWaitTimeInMs: 200,
  });
  let read = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `reading ${topic}: ${read} records after ${timeoutMs} ms, partitions ${[...pending].join(',')} unfinished`,
            ),
          ),
        timeoutMs,
      );
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            const end = ends.get(partition) ?? 0n;
            if (BigInt(message.offset) >= end) return;
            read++;
            onMessage(partition, message);
            if (BigInt(message.offset) >= end - 1n) pending.delete(partition);
            if (pending.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch((err: unknown) => {
          clearTimeout(timer);
          reject(new Error(`reading ${topic}: ${errorMessage(err)}`));
        });
    });
  } finally {
    await consumer.disconnect();
  }
}

/** One record of the position topic as it is on the broker, classified the way a consumer must. */
export interface TopicRecord {
  partition: number;
  offset: string;
  /** The position it carries, when it is a valid one; otherwise why it is not. */
  position?: Position;
  invalid?: string;
}

/**
 * Decodes a raw record: valid when its value is a position (JSON; the suite writes no Avro) within
 * the event-time bounds at the moment it was appended, and its key is its vehicle id.
 */
export function classify(
  partition: number,
  message: KafkaMessage,
  bounds: { maxFutureMs: number },
): TopicRecord {
  const at = { partition, offset: message.offset };
  try {
    const contentType = message.headers?.['content-type']?.toString();
    const position = codecFor(contentType).decode(message.value, {
      now: Number(message.timestamp),
      maxFutureMs: bounds.maxFutureMs,
    });
    const key = message.key?.toString('latin1');
    if (key !== undefined && key !== position.vehicleId) return { ...at, invalid: `key ${key} ≠ vehicleId` };
    return { ...at, position };
  } catch (err) {
    return { ...at, invalid: errorMessage(err) };
  }
}

/** Every record of the position topic, classified. */
export async function readPositionTopic(
  kafka: Kafka,
  topic: string,
  bounds: { maxFutureMs: number },
): Promise<TopicRecord[]> {
  const out: TopicRecord[] = [];
  await readToEnd(kafka, topic, (partition, message) => out.push(classify(partition, message, bounds)));
  return out;
}
