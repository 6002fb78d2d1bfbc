import type { Kafka } from 'kafkajs';
import type { Config } from '../config/config.js';
import { parseVehicleEvent, type VehicleEvent } from '../domain/vehicle-event.js';
import { errorMessage } from '../errors.js';
import { createKafka } from '../kafka/client.js';
import { eventsTopicPlan } from '../kafka/event-topics.js';
import { brokerCount, ensureTopic } from '../kafka/topic-admin.js';
import { silentLogger, type Logger } from '../logger.js';
import { retry, type RetryOptions } from '../retry.js';
import type { EventsWarehouse } from '../sinks/events-warehouse.js';

export interface EventsSinkDeps {
  warehouse: EventsWarehouse;
  logger?: Logger;
  kafka?: Kafka;
  /** Retries of a retriable warehouse failure before the sink fails. @default 10 tries, up to 10 s apart */
  retry?: RetryOptions;
}

export interface EventsSinkHandle {
  /** Rejects when the sink failed for good (a fatal warehouse error, retries used up). */
  readonly done: Promise<void>;
  /** Events written so far (new rows and duplicates). */
  written(): number;
  stop(): Promise<void>;
}

/** The sink's consumer group: beside the events processor's, never shared with it. */
export const eventsSinkGroup = (config: Readonly<Config>) => `${config.events.applicationId}-warehouse`;

/**
 * `vehicle_events` → the warehouse table `vehicle_events`. Its own consumer group reads committed
 * records only (aborted transactions of the events processor are never stored); each fetched
 * batch of a partition is one warehouse write, and its offset is committed only after the write.
 * A crash between the two re-delivers the batch: the table is unique on the event id, so it adds
 * nothing. Records that are not events are logged and skipped (they come from our own processor).
 */
export async function startEventsSink(
  config: Readonly<Config>,
  deps: EventsSinkDeps,
): Promise<EventsSinkHandle> {
  const logger = (deps.logger ?? silentLogger).child({ component: 'events-sink' });
  const kafka = deps.kafka ?? createKafka(config.kafka, { logger, role: 'events-sink' });
  const stopping = new AbortController();
  let written = 0;
  let failed: (err: unknown) => void = () => undefined;
  const done = new Promise<void>((_, reject) => (failed = reject));
  done.catch(() => undefined);

  // The sink may start before the events processor: the topic is created here too (same plan).
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopic(admin, eventsTopicPlan(config.topic, config.events.topic, await brokerCount(admin)));
  } finally {
    await admin.disconnect();
  }
  const consumer = kafka.consumer({
    groupId: eventsSinkGroup(config),
    readUncommitted: false,
    sessionTimeout: config.consumer.sessionTimeoutMs,
    heartbeatInterval: config.consumer.heartbeatIntervalMs,
  });
  consumer.on(consumer.events.CRASH, (e) => {
    logger.error({ err: String(e.payload.error), restart: e.payload.restart }, 'events sink crashed');
    if (!e.payload.restart) failed(e.payload.error);
  });
  await consumer.connect();
  await consumer.subscribe({ topic: config.events.topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, heartbeat, resolveOffset, isRunning, isStale }) => {
      if (batch.messages.length === 0 || !isRunning() || isStale()) return;
      const events: VehicleEvent[] = [];
      for (const m of batch.messages) {
        try {
          events.push(parseVehicleEvent(JSON.parse(m.value?.toString('utf8') ?? 'null')));
        } catch (err) {
          logger.warn(
            { partition: batch.partition, offset: m.offset, err: errorMessage(err) },
            'not an event: skipped',
          );
        }
      }
      try {
        await retry(() => deps.warehouse.write(events), {
          retries: 10,
          maxMs: 10_000,
          ...deps.retry,
          signal: stopping.signal,
          onRetry: ({ attempt, delayMs, error }) =>
            logger.warn({ attempt, delayMs, err: errorMessage(error) }, 'events write failed: retrying'),
        });
      } catch (err) {
        if (!stopping.signal.aborted) {
          logger.error({ err: errorMessage(err) }, 'events write failed for good: the sink stops');
          failed(err);
        }
        throw err;
      }
      written += events.length;
      const next = (BigInt(batch.lastOffset()) + 1n).toString();
      try {
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
      } catch (err) {
        // A rebalance (this member fenced or expired): the batch is stored, so the partition's next
        // owner reads it again and stores nothing twice. kafkajs wraps the error so its runner does
        // not see a rebalance in it: thrown, it would crash the consumer for good.
        logger.warn(
          { partition: batch.partition, offset: next, err: errorMessage(err) },
          'offset commit failed',
        );
      }
      resolveOffset(batch.lastOffset());
      await heartbeat();
    },
  });
  logger.info({ topic: config.events.topic, group: eventsSinkGroup(config) }, 'events sink running');
  return {
    done,
    written: () => written,
    async stop() {
      stopping.abort(new Error('events sink stopping'));
      await consumer.disconnect();
    },
  };
}
