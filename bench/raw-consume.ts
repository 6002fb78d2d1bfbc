import type { Config } from '../src/config/index.js';
import { ServiceError } from '../src/errors.js';
import { cpuWindow, type CpuWindowResult } from './proc.js';
import type { BenchServices } from './services.js';

export interface RawConsumeResult extends CpuWindowResult {
  /** From group join to the last record (like ConsumerPerformance's fetch time). */
  recordsPerS: number;
  mbPerS: number;
  joinMs: number;
}

/**
 * The kafkajs ceiling: a consumer with the processor's fetch settings that only counts records
 * (eachBatch, no decoding, no commits), from the beginning, in a fresh group.
 */
export async function rawKafkajsConsume(
  services: BenchServices,
  config: Readonly<Config>,
  records: number,
  timeoutMs = 60_000 + records,
): Promise<RawConsumeResult> {
  const consumer = services.kafka.consumer({
    groupId: `bench-raw-${Date.now()}`,
    sessionTimeout: config.consumer.sessionTimeoutMs,
    heartbeatInterval: config.consumer.heartbeatIntervalMs,
    minBytes: config.consumer.fetchMinBytes,
    maxWaitTimeInMs: config.consumer.fetchMaxWaitMs,
    maxBytesPerPartition: config.consumer.fetchMaxBytesPerPartition,
  });
  const started = performance.now();
  let joinedAt = started;
  // This process's and the broker's CPU from the join to the last record.
  let window = cpuWindow(services.pids.kafka);
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joinedAt = performance.now();
    window = cpuWindow(services.pids.kafka);
  });
  let measured: CpuWindowResult | undefined;
  let seen = 0;
  let bytes = 0;
  let finishedAt = 0;
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: config.topic.name, fromBeginning: true });
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new ServiceError(`raw kafkajs consume saw ${seen} of ${records} records in ${timeoutMs} ms`),
          ),
        timeoutMs,
      );
      void consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          seen += batch.messages.length;
          for (const m of batch.messages) bytes += m.value?.length ?? 0;
          if (seen >= records && finishedAt === 0) {
            finishedAt = performance.now();
            measured = window(seen);
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    await done;
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  const ms = finishedAt - joinedAt;
  if (!measured) throw new ServiceError('raw kafkajs consume ended without its last record');
  return {
    ...measured,
    mbPerS: Math.round((bytes / 1024 / 1024 / (ms / 1000)) * 100) / 100,
    joinMs: Math.round(joinedAt - started),
  };
}
