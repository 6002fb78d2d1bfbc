import type { Kafka } from 'kafkajs';
import { geofenceSerde, type Geofence } from '../domain/geofence.js';
import { KafkaUnavailableError } from '../errors.js';
import { followTopic } from '../kafka/follow-topic.js';
import type { Logger } from '../logger.js';
import { GlobalTable, stringSerde } from '../stream/dsl/index.js';

/** A position in the geofences topic: a reader past it holds the change written there. */
export interface TopicOffset {
  partition: number;
  offset: bigint;
}

export interface FollowedGeofences {
  /** Every geofence by id, kept current; loaded (`markLoaded`) once the topic was read to its end. */
  readonly table: GlobalTable<string, Geofence>;
  /**
   * Resolves once the table has applied every given offset (read-your-writes after a publish);
   * rejects with a retriable KafkaUnavailableError after `timeoutMs`.
   */
  reached(offsets: readonly TopicOffset[], timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Reads the compacted geofences topic into a {@link GlobalTable} (to its end before resolving)
 * and, unless `stopWhenCaughtUp`, keeps following it. Used by the events processor, the API and
 * `fleet geofences list`. Records that are not valid geofences are skipped and logged.
 */
export async function followGeofences(
  kafka: Kafka,
  topic: string,
  options: { logger: Logger; stopWhenCaughtUp?: boolean },
): Promise<FollowedGeofences> {
  const table = new GlobalTable<string, Geofence>(
    topic,
    { key: stringSerde, value: geofenceSerde },
    (key, err) =>
      options.logger.warn({ geofence: key?.toString(), err: String(err) }, 'invalid geofence skipped'),
  );
  const applied = new Map<number, bigint>();
  const waiters = new Set<() => void>();
  const following = await followTopic(kafka, topic, {
    ...(options.stopWhenCaughtUp ? { stopWhenCaughtUp: true } : {}),
    onRecord: (partition, m) => {
      table.apply(m.key, m.value, Number(m.timestamp));
      applied.set(partition, BigInt(m.offset));
      for (const check of waiters) check();
    },
  });
  await following.caughtUp;
  table.markLoaded();
  const holds = (offsets: readonly TopicOffset[]) =>
    offsets.every((o) => (applied.get(o.partition) ?? -1n) >= o.offset);
  return {
    table,
    reached: (offsets, timeoutMs = 10_000) =>
      new Promise<void>((resolve, reject) => {
        if (holds(offsets)) return resolve();
        const check = () => {
          if (!holds(offsets)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new KafkaUnavailableError(`the geofences table did not catch up within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
      }),
    stop: () => following.stop(),
  };
}
