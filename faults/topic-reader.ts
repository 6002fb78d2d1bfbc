import type { Admin, Kafka } from 'kafkajs';
import { jsonCodec } from '../src/domain/codec.js';
import { seqOf, type WorkloadPlan } from './workload.js';

/** How many times each position of a plan is in the topic (read earliest to its end offsets now). */
export async function positionsInTopic(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  plan: WorkloadPlan,
): Promise<{ copies: Uint16Array; records: number; foreign: number }> {
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
  const lows = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.low)]));
  const copies = new Uint16Array(plan.total);
  let records = 0;
  let foreign = 0;
  const pending = new Set([...ends].filter(([p, end]) => end > (lows.get(p) ?? 0n)).map(([p]) => p));
  if (pending.size === 0) return { copies, records, foreign };
  const consumer = kafka.consumer({ groupId: `faults-topic-reader-${Date.now()}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`topic read timed out after ${records} records`)),
        120_000,
      );
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          const offset = BigInt(message.offset);
          if (offset >= (ends.get(partition) ?? 0n)) return;
          records++;
          try {
            const p = jsonCodec.decode(message.value);
            const seq = seqOf(plan, p.vehicleId, p.ts);
            if (seq === undefined) foreign++;
            else copies[seq] = copies[seq]! + 1;
          } catch {
            foreign++;
          }
          if (offset >= ends.get(partition)! - 1n) pending.delete(partition);
          if (pending.size === 0) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return { copies, records, foreign };
}
