import type { Config } from '../../src/config/index.js';
import { uniqueSuffix, testKafka } from './env.js';

export interface ReadRecord {
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

/**
 * Reads every record of the config's position topic up to the high watermarks at call time
 * (or `expected` records, when given), with a throwaway consumer group. Records come back in
 * partition, then offset order.
 */
export async function readTopic(
  config: Readonly<Config>,
  options: { expected?: number; timeoutMs?: number } = {},
): Promise<ReadRecord[]> {
  const kafka = testKafka(config);
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<number, bigint>();
  try {
    for (const p of await admin.fetchTopicOffsets(config.topic.name)) ends.set(p.partition, BigInt(p.high));
  } finally {
    await admin.disconnect();
  }
  const total = [...ends.values()].reduce((a, b) => a + b, 0n);
  if (total === 0n && !options.expected) return [];
  const consumer = kafka.consumer({ groupId: `test-reader-${uniqueSuffix()}`, maxWaitTimeInMs: 200 });
  const out: ReadRecord[] = [];
  const last = new Map<number, bigint>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: config.topic.name, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`read ${out.length} records, expected ${options.expected ?? total}`)),
        options.timeoutMs ?? 30_000,
      );
      const done = () =>
        options.expected !== undefined
          ? out.length >= options.expected
          : [...ends].every(([p, end]) => end === 0n || (last.get(p) ?? -1n) >= end - 1n);
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
          out.push({
            partition,
            offset: message.offset,
            key: message.key?.toString() ?? null,
            value: message.value?.toString() ?? null,
            headers,
          });
          last.set(partition, BigInt(message.offset));
          if (done()) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return out.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}
