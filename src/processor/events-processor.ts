import { asyncScheduler, type SchedulerLike } from 'rxjs';
import type { Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import type { Config } from '../config/config.js';
import type { Geofence } from '../domain/geofence.js';
import { indexGeofences } from '../events/geofence-index.js';
import { eventsTopology, vehicleStateStore } from '../events/events-topology.js';
import { createKafka } from '../kafka/client.js';
import { eventTopicPlans } from '../kafka/event-topics.js';
import { brokerCount, ensureTopic } from '../kafka/topic-admin.js';
import { silentLogger, type Logger } from '../logger.js';
import { changelogTopic, type GlobalTable } from '../stream/dsl/index.js';
import { PartitionTask } from './events-runtime.js';
import { followGeofences } from './geofence-table.js';
import { startEventWebhooks, type EventWebhooks, type EventWebhooksOptions } from './event-webhooks.js';

export interface EventsProcessorDeps {
  logger?: Logger;
  kafka?: Kafka;
  /** Clock of the wall-clock punctuations. @default asyncScheduler */
  scheduler?: SchedulerLike;
  /** How often punctuation output is committed (ms). @default 1000 */
  punctuateEveryMs?: number;
  /** Backoff of webhook deliveries (tests inject fast ones). @default 500 ms doubling to 30 s */
  webhookBackoff?: EventWebhooksOptions['backoff'];
  /** Where the webhook metrics go. @default defaultRegistry */
  registry?: Registry;
}

export interface EventsProcessorHandle {
  /** Rejects when the processor failed for good. */
  readonly done: Promise<void>;
  readonly geofences: GlobalTable<string, Geofence>;
  partitions(): number[];
  stop(): Promise<void>;
}

/**
 * `fleet events-process`: vehicle_positions → vehicle_events, exactly once. Its own consumer
 * group (EVENTS_GROUP) reads the positions, so the positions pipeline keeps its speed. Before any
 * task starts, the geofences table is read to its end; each assigned partition then gets a task
 * (fenced producer, state restored from the changelog) and every fetch is one transaction.
 */
export async function startEventsProcessor(
  config: Readonly<Config>,
  deps: EventsProcessorDeps = {},
): Promise<EventsProcessorHandle> {
  const logger = (deps.logger ?? silentLogger).child({ component: 'events-processor' });
  const kafka = deps.kafka ?? createKafka(config.kafka, { logger, role: 'events' });
  const scheduler = deps.scheduler ?? asyncScheduler;
  const { events } = config;
  const changelog = changelogTopic(events.applicationId, vehicleStateStore.name);

  const admin = kafka.admin();
  await admin.connect();
  try {
    const brokers = await brokerCount(admin);
    for (const plan of eventTopicPlans(
      config.topic,
      { events: events.topic, geofences: events.geofencesTopic, changelog },
      brokers,
    ))
      await ensureTopic(admin, plan);
  } finally {
    await admin.disconnect();
  }

  // Webhooks read the committed events in their own group: a slow or dead receiver never holds up the transactions.
  const webhooks: EventWebhooks | null = events.webhook
    ? await startEventWebhooks({
        kafka,
        eventsTopic: events.topic,
        webhook: events.webhook,
        logger,
        ...(deps.webhookBackoff ? { backoff: deps.webhookBackoff } : {}),
        ...(deps.registry ? { registry: deps.registry } : {}),
      })
    : null;

  const followed = await followGeofences(kafka, events.geofencesTopic, { logger });
  const geofences = followed.table;
  const { index, subscription } = indexGeofences(geofences);
  logger.info({ geofences: geofences.size }, 'geofences loaded');

  const definition = eventsTopology({
    positionsTopic: config.topic.name,
    eventsTopic: events.topic,
    context: { index, rules: events.rules },
    now: () => scheduler.now(),
    onSweep: (vehicles) => logger.trace({ vehicles }, 'sweep'),
  });
  const runtime = {
    kafka,
    applicationId: events.applicationId,
    sourceTopic: config.topic.name,
    definition,
    scheduler,
    tables: new Map([[events.geofencesTopic, geofences]]),
    logger,
  };
  // Where each newly opened task must start: the group's committed offset, read after the task's
  // producer fenced the previous owner (which completes or aborts its open transaction, so the
  // offset is stable). kafkajs's own position can be behind it after a failed commit whose
  // transaction did commit, or a rejoin that fetched offsets while such a transaction was
  // completing; processing from there would emit those positions' events a second time.
  const offsetsAdmin = kafka.admin();
  await offsetsAdmin.connect();
  const startAt = new Map<PartitionTask, bigint>();
  const committedOffset = async (p: number): Promise<bigint> => {
    const [entry] = await offsetsAdmin.fetchOffsets({
      groupId: events.applicationId,
      topics: [config.topic.name],
    });
    const offset = entry?.partitions.find((x) => x.partition === p)?.offset ?? '-1';
    return BigInt(offset);
  };
  const tasks = new Map<number, Promise<PartitionTask>>();
  const taskFor = (p: number) => {
    let t = tasks.get(p);
    if (!t) {
      t = PartitionTask.open(p, runtime).then(async (task) => {
        startAt.set(task, await committedOffset(p));
        return task;
      });
      const opening = t;
      t.catch(() => tasks.get(p) === opening && tasks.delete(p));
      tasks.set(p, t);
    }
    return t;
  };
  const dropAll = async () => {
    const open = [...tasks.values()];
    tasks.clear();
    for (const t of open) await t.then((x) => x.close()).catch(() => undefined);
  };

  const consumer = kafka.consumer({
    groupId: events.applicationId,
    readUncommitted: false,
    sessionTimeout: config.consumer.sessionTimeoutMs,
    heartbeatInterval: config.consumer.heartbeatIntervalMs,
    maxBytesPerPartition: config.consumer.fetchMaxBytesPerPartition,
  });
  let failed: (err: unknown) => void = () => undefined;
  const done = new Promise<void>((_, reject) => (failed = reject));
  done.catch(() => undefined);
  // A rebalance may hand our partitions to another instance: its producers fence ours, so tasks are rebuilt.
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    logger.info({ assignment: e.payload.memberAssignment }, 'events group joined');
    void dropAll();
    // Open (fence) every assigned task now, not on its first fetch: a partition with nothing new
    // to read would otherwise leave a crashed owner's open transaction hanging, and read_committed
    // readers of the events topic stuck behind it until the transaction timeout.
    for (const p of e.payload.memberAssignment[config.topic.name] ?? [])
      taskFor(p).catch((err: unknown) => logger.warn({ partition: p, err: String(err) }, 'task open failed'));
  });
  consumer.on(consumer.events.CRASH, (e) => {
    logger.error({ err: String(e.payload.error), restart: e.payload.restart }, 'events consumer crashed');
    void dropAll();
    if (!e.payload.restart) failed(e.payload.error);
  });
  await consumer.connect();
  await consumer.subscribe({ topic: config.topic.name, fromBeginning: config.consumer.fromBeginning });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, heartbeat, resolveOffset }) => {
      if (batch.messages.length === 0) return;
      const opening = taskFor(batch.partition);
      const task = await opening;
      let messages = batch.messages;
      const start = startAt.get(task);
      if (start !== undefined) {
        startAt.delete(task);
        const first = BigInt(batch.firstOffset() ?? batch.messages[0]!.offset);
        if (start >= 0n && start < first) {
          // Behind the fetch position: the records in between were never processed (a compacted
          // gap is skipped by the fetch itself).
          logger.info(
            { partition: batch.partition, from: String(first), to: String(start) },
            'events task starts at the committed offset',
          );
          consumer.seek({ topic: batch.topic, partition: batch.partition, offset: String(start) });
          return;
        }
        if (start > first) {
          logger.info(
            { partition: batch.partition, from: String(first), to: String(start) },
            'events task skips records its group already committed',
          );
          messages = messages.filter((m) => BigInt(m.offset) >= start);
        }
      }
      const next = (BigInt(batch.lastOffset()) + 1n).toString();
      try {
        if (messages.length > 0) await task.processBatch(messages, next);
      } catch (err) {
        // The task's memory holds what the aborted transaction wrote: rebuild it from the changelog
        // (and, through startAt, restart at the offset the group really committed).
        logger.warn({ partition: batch.partition, err: String(err) }, 'transaction failed: task rebuilt');
        if (tasks.get(batch.partition) === opening) tasks.delete(batch.partition);
        await task.close().catch(() => undefined);
        throw err;
      }
      // Committed by the transaction; kafkajs only needs to know it may fetch on (it commits nothing).
      resolveOffset(batch.lastOffset());
      await heartbeat();
    },
  });

  const timer = setInterval(() => {
    for (const [p, t] of tasks) {
      void t
        .then((task) => task.flushPunctuations())
        .then((n) => n > 0 && logger.debug({ partition: p, records: n }, 'punctuation output committed'))
        .catch((err: unknown) => {
          logger.warn({ partition: p, err: String(err) }, 'punctuation commit failed; task rebuilt');
          tasks.delete(p);
        });
    }
  }, deps.punctuateEveryMs ?? 1000);

  return {
    done,
    geofences,
    partitions: () => [...tasks.keys()].sort((a, b) => a - b),
    async stop() {
      clearInterval(timer);
      await consumer.disconnect();
      await dropAll();
      await offsetsAdmin.disconnect().catch(() => undefined);
      subscription.unsubscribe();
      await followed.stop();
      await webhooks?.stop();
    },
  };
}
