import type { Admin } from 'kafkajs';
import type { Gauge } from 'prom-client';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { retry } from '../retry.js';

/**
 * The consumer group's lag per partition, from the committed offsets and the high watermarks:
 * what the autoscaling and the lag alarm read. A partition with no commit yet counts from its
 * earliest offset.
 */
export async function readGroupLag(
  admin: Admin,
  groupId: string,
  topic: string,
): Promise<Map<number, number>> {
  // Right after a group forms its coordinator may still be moving (NOT_COORDINATOR): retriable.
  const [committed] = await retry(() => admin.fetchOffsets({ groupId, topics: [topic] }), {
    retries: 5,
    shouldRetry: (err) => (err as { retriable?: unknown }).retriable === true,
  });
  const ends = await admin.fetchTopicOffsets(topic);
  const byPartition = new Map((committed?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  const lag = new Map<number, number>();
  for (const end of ends) {
    const at = byPartition.get(end.partition) ?? -1;
    const from = at >= 0 ? at : Number(end.low);
    lag.set(end.partition, Math.max(0, Number(end.high) - from));
  }
  return lag;
}

/** Refreshes `gauge` every `intervalMs` until stopped; a failed read keeps the last values. */
export function watchGroupLag(options: {
  admin: Admin;
  groupId: string;
  topic: string;
  gauge: Gauge<'topic' | 'partition'>;
  intervalMs: number;
  logger: Logger;
}): { stop(): Promise<void> } {
  let connected: Promise<void> | null = null;
  let failing = false;
  const refresh = async () => {
    try {
      connected ??= options.admin.connect();
      await connected;
      const lag = await readGroupLag(options.admin, options.groupId, options.topic);
      for (const [partition, value] of lag) {
        options.gauge.set({ topic: options.topic, partition: String(partition) }, value);
      }
      failing = false;
    } catch (err) {
      connected = null;
      if (!failing) options.logger.warn({ err: errorMessage(err) }, 'reading the group lag failed; retrying');
      failing = true;
    }
  };
  let running: Promise<void> = refresh();
  const timer = setInterval(() => {
    running = running.then(refresh);
  }, options.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
      await options.admin.disconnect().catch(() => undefined);
    },
  };
}
