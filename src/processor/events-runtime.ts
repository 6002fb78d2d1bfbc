import type { Kafka, Producer } from 'kafkajs';
import type { SchedulerLike } from 'rxjs';
import { followTopic } from '../kafka/follow-topic.js';
import type { Logger } from '../logger.js';
import {
  StreamTask,
  type GlobalTable,
  type OutputRecord,
  type TopologyDefinition,
} from '../stream/dsl/index.js';

/**
 * Right after a commit the coordinator answers CONCURRENT_TRANSACTIONS until the previous
 * transaction's markers are written; the Java client retries it after retry.backoff.ms, kafkajs
 * gives up. So do we: up to ~3 s.
 */
async function whileConcurrent<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const type =
        (err as { type?: string; originalError?: { type?: string } }).type ??
        (err as { originalError?: { type?: string } }).originalError?.type;
      if (attempt >= 30 || !String(type ?? err).includes('CONCURRENT_TRANSACTIONS')) throw err;
      await new Promise((r) => setTimeout(r, 20 * Math.min(attempt, 10)));
    }
  }
}

type TxMessage = { key: Buffer; value: Buffer | null; timestamp: string; partition?: number };

/**
 * Bytes of records per `sendBatch` of a transaction. kafkajs sends one record batch per partition
 * and does not split it (the Java producer does, by batch.size): a sweep that changes thousands of
 * vehicles' state would exceed the broker's message.max.bytes (1 MiB by default) and fail for ever.
 */
export const TX_CHUNK_BYTES = 512 * 1024;

/**
 * The records of one transaction as `sendBatch` calls of at most `maxBytes` of keys and values
 * (plus a per-record allowance) each; a larger single record goes alone. Order within a topic is kept.
 */
export function transactionChunks(
  byTopic: ReadonlyMap<string, readonly TxMessage[]>,
  maxBytes = TX_CHUNK_BYTES,
): { topic: string; messages: TxMessage[] }[][] {
  const chunks: { topic: string; messages: TxMessage[] }[][] = [];
  let chunk: { topic: string; messages: TxMessage[] }[] = [];
  let bytes = 0;
  for (const [topic, messages] of byTopic) {
    for (const m of messages) {
      const size = m.key.length + (m.value?.length ?? 0) + 64;
      if (bytes > 0 && bytes + size > maxBytes) {
        chunks.push(chunk);
        chunk = [];
        bytes = 0;
      }
      const last = chunk[chunk.length - 1];
      if (last?.topic === topic) last.messages.push(m);
      else chunk.push({ topic, messages: [m] });
      bytes += size;
    }
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

export interface TaskRuntimeOptions {
  kafka: Kafka;
  applicationId: string;
  sourceTopic: string;
  definition: TopologyDefinition;
  scheduler: SchedulerLike;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tables of any key and value types
  tables: ReadonlyMap<string, GlobalTable<any, any>>;
  logger: Logger;
}

/**
 * One input partition's task with its own transactional producer (transactional id
 * `<app>-<topic>-<partition>`): a new owner of the partition fences the old one and aborts its open
 * transaction. Outputs, changelog writes and the consumed offset go in one transaction, so a crash
 * anywhere either commits all of them or none (Kafka Streams' EOS, one producer per task).
 */
export class PartitionTask {
  private task!: StreamTask;
  private producer!: Producer;
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly partition: number,
    private readonly options: TaskRuntimeOptions,
  ) {}

  /** Fences the previous owner, restores the stores from the changelog, starts the operators. */
  static async open(partition: number, options: TaskRuntimeOptions): Promise<PartitionTask> {
    const t = new PartitionTask(partition, options);
    t.producer = options.kafka.producer({
      transactionalId: `${options.applicationId}-${options.sourceTopic}-${partition}`,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 60_000,
    });
    await t.producer.connect();
    t.task = new StreamTask(options.definition, {
      applicationId: options.applicationId,
      partition,
      scheduler: options.scheduler,
      tables: options.tables,
      onInvalid: (topic, record, err) =>
        options.logger.debug({ topic, partition, err: String(err) }, 'record skipped: does not deserialize'),
    });
    let restored = 0;
    for (const [topic, store] of t.task.changelogs) {
      const following = await followTopic(options.kafka, topic, {
        partitions: [partition],
        stopWhenCaughtUp: true,
        onRecord: (_p, m) => {
          if (m.key) store.restore(m.key, m.value);
          restored++;
        },
      });
      await following.caughtUp;
    }
    options.logger.info({ partition, restored }, 'events task restored');
    t.task.start();
    return t;
  }

  /** Runs `fn` after everything queued on this partition (batches and punctuation commits are serial). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Processes records and commits their output, state and `nextOffset` in one transaction. */
  processBatch(
    records: { key: Buffer | null; value: Buffer | null; timestamp: string }[],
    nextOffset: string,
  ): Promise<number> {
    return this.serial(async () => {
      this.task.process(
        this.options.sourceTopic,
        records.map((m) => ({ key: m.key, value: m.value, ts: Number(m.timestamp) })),
      );
      return this.commit(this.task.drain(), nextOffset);
    });
  }

  /** Commits what wall-clock punctuations produced since the last transaction (no offsets). */
  flushPunctuations(): Promise<number> {
    return this.serial(async () => this.commit(this.task.drain(), undefined));
  }

  private async commit(out: readonly OutputRecord[], nextOffset: string | undefined): Promise<number> {
    if (out.length === 0 && nextOffset === undefined) return 0;
    const tx = await this.producer.transaction();
    try {
      const byTopic = new Map<string, TxMessage[]>();
      for (const r of out) {
        const list = byTopic.get(r.topic) ?? [];
        // Changelog records go to the task's own partition: partition p is restored into task p.
        const isChangelog =
          r.topic.startsWith(`${this.options.applicationId}-`) && r.topic.endsWith('-changelog');
        list.push({
          key: r.key,
          value: r.value,
          timestamp: String(r.ts),
          ...(isChangelog ? { partition: this.partition } : {}),
        });
        byTopic.set(r.topic, list);
      }
      for (const topicMessages of transactionChunks(byTopic))
        await whileConcurrent(() => tx.sendBatch({ topicMessages }));
      if (nextOffset !== undefined) {
        await whileConcurrent(() =>
          tx.sendOffsets({
            consumerGroupId: this.options.applicationId,
            topics: [
              {
                topic: this.options.sourceTopic,
                partitions: [{ partition: this.partition, offset: nextOffset }],
              },
            ],
          }),
        );
      }
      await tx.commit();
      return out.length;
    } catch (err) {
      await tx.abort().catch(() => undefined);
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.chain;
    this.task.close();
    await this.producer.disconnect();
  }
}
