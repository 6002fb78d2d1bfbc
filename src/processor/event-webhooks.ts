import type { Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import type { EventWebhookConfig } from '../config/events-config.js';
import { parseVehicleEvent, type VehicleEvent } from '../domain/vehicle-event.js';
import type { Logger } from '../logger.js';
import type { Sleep } from '../retry.js';
import { postWebhook } from '../sinks/event-webhook.js';
import { WebhookQueue } from '../sinks/webhook-queue.js';

export interface EventWebhooksOptions {
  kafka: Kafka;
  eventsTopic: string;
  webhook: Readonly<EventWebhookConfig>;
  logger: Logger;
  /** Backoff of one delivery. @default 500 ms doubling to 30 s */
  backoff?: { initialMs?: number; maxMs?: number; sleep?: Sleep };
  registry?: Registry;
}

export interface EventWebhooks {
  stop(): Promise<void>;
}

/**
 * A group that never committed starts at the topic's end as it is now (not at its 7 days of
 * history, and without the race of a consumer resolving "latest" only after it joined).
 */
async function startAtEndOnFirstRun(kafka: Kafka, groupId: string, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    if (committed?.partitions.some((p) => p.offset !== '-1')) return;
    const ends = await admin.fetchTopicOffsets(topic);
    await admin.setOffsets({
      groupId,
      topic,
      partitions: ends.map((p) => ({ partition: p.partition, offset: p.high })),
    });
  } finally {
    await admin.disconnect();
  }
}

/**
 * Delivers every committed event of the events topic to EVENT_WEBHOOK_URL, at least once. Its own
 * consumer group (`<EVENTS_GROUP>-webhooks`, read_committed) reads the topic beside the
 * transactional events pipeline, which therefore never waits for a receiver. Each fetched batch is
 * offered to the bounded {@link WebhookQueue}; its offset is committed once every event of it was
 * delivered or given up. A crash before that delivers them again: receivers dedupe on the event id.
 */
export async function startEventWebhooks(options: EventWebhooksOptions): Promise<EventWebhooks> {
  const { webhook, logger } = options;
  const log = logger.child({ component: 'event-webhooks' });
  const queue = new WebhookQueue<{ event: VehicleEvent; body: string }>({
    deliver: ({ event, body }) =>
      postWebhook({ url: webhook.url, secret: webhook.secret, timeoutMs: webhook.timeoutMs }, event.id, body),
    capacity: webhook.queueSize,
    retry: { retries: webhook.retries, initialMs: 500, maxMs: 30_000, ...options.backoff },
    describe: ({ event }) => ({ eventId: event.id, type: event.type, vehicleId: event.vehicleId }),
    logger: log,
    ...(options.registry ? { registry: options.registry } : {}),
  });
  await startAtEndOnFirstRun(options.kafka, webhook.groupId, options.eventsTopic);
  const consumer = options.kafka.consumer({ groupId: webhook.groupId, readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topic: options.eventsTopic, fromBeginning: true });
  await consumer.run({
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      const outcomes: Promise<string>[] = [];
      for (const m of batch.messages) {
        if (!isRunning() || isStale()) break;
        const body = m.value?.toString() ?? '';
        let event: VehicleEvent;
        try {
          event = parseVehicleEvent(JSON.parse(body));
        } catch (err) {
          log.warn(
            { partition: batch.partition, offset: m.offset, err: String(err) },
            'not an event: skipped',
          );
          outcomes.push(Promise.resolve('skipped'));
          continue;
        }
        outcomes.push((await queue.offer({ event, body })).done);
      }
      // Offsets are resolved in order up to the first delivery that did not end (shutdown).
      const ends = await Promise.all(outcomes);
      for (const [i, end] of ends.entries()) {
        if (end === 'aborted') break;
        resolveOffset(batch.messages[i]!.offset);
      }
      await heartbeat();
    },
  });
  log.info({ url: webhook.url, group: webhook.groupId }, 'event webhooks running');
  return {
    async stop() {
      queue.close();
      await consumer.disconnect();
    },
  };
}
