import type { Consumer, EachBatchPayload, Kafka, RetryOptions } from 'kafkajs';
import { Subject, type Observable } from 'rxjs';
import type { ConsumerConfig } from '../config/config.js';
import { errorMessage, KafkaUnavailableError } from '../errors.js';
import { LogEvents, silentLogger, type Logger } from '../logger.js';
import type { ProcessorMetrics } from '../stream/processor-metrics.js';
import { Backpressure } from './backpressure.js';
import { CommitTracker } from './commit-tracker.js';
import { OffsetCommitter } from './offset-committer.js';
import { seekWhereSinkResumes, type ResumeFrom } from './resume-from.js';
import { TopicIdentity, TopicRecreatedError } from './topic-identity.js';
import { fetchTopicId } from '../kafka/topic-id.js';
import type { SourceChunk } from '../stream/source-chunk.js';

export interface KafkaSourceOptions {
  kafka: Kafka;
  topic: string;
  /** Group, poll and fetch knobs (CONSUMER_GROUP, MAX_POLL_RECORDS, FETCH_*, ...). */
  consumer: ConsumerConfig;
  /** Pause fetching at this many bytes read but not yet durable (MAX_UNFLUSHED_BYTES). */
  maxUnflushedBytes: number;
  /** … or at this many records (bounds the heap: decoded records are larger than encoded). @default Infinity */
  maxUnflushedRecords?: number;
  logger?: Logger;
  metrics?: ProcessorMetrics;
  /** kafkajs retry of the consumer (tests: fast and short). */
  retry?: RetryOptions;
  /** Where a sink says newly assigned partitions resume (resume-from.ts). */
  resumeFrom?: ResumeFrom;
  /** Reads the topic's id (tests inject their own). @default fetchTopicId on `kafka` */
  topicIdLookup?: (topic: string) => Promise<string>;
}

/** Where a partition's reading stands, as of the last fetch. */
export interface PartitionProgress {
  partition: number;
  /** Next offset to fetch. */
  next: bigint;
  highWatermark: bigint;
}

/**
 * A Kafka consumer group as an Observable of chunks (≤ MAX_POLL_RECORDS records of one partition).
 * Pull-based: each fetched batch is handed downstream only while fewer than MAX_UNFLUSHED_BYTES are
 * waiting to be made durable; above that, fetching pauses (heartbeats continue) until the sinks
 * drain. Offsets are committed explicitly, only for contiguous ranges every sink made durable
 * (see {@link CommitTracker}); kafkajs auto-commit and auto-resolve are off.
 */
export class KafkaSource {
  readonly backpressure: Backpressure;
  readonly tracker: CommitTracker;
  /** Emits when the group starts rebalancing: windows should flush so progress can be committed. */
  readonly rebalance$ = new Subject<void>();
  readonly chunks$: Observable<SourceChunk>;
  /** Records handed downstream since start. */
  recordsRead = 0;

  private readonly subject = new Subject<SourceChunk>();
  private readonly consumer: Consumer;
  private readonly logger: Logger;
  private readonly identity: TopicIdentity;
  private readonly progress = new Map<number, PartitionProgress>();
  private assignment: number[] = [];
  private stopping = false;
  private paused = false;
  private readonly committer: OffsetCommitter;
  private onFatal: (err: Error) => void = () => undefined;

  constructor(private readonly options: KafkaSourceOptions) {
    this.logger = (options.logger ?? silentLogger).child({ component: 'kafka-source', topic: options.topic });
    this.backpressure = new Backpressure({
      highWaterBytes: options.maxUnflushedBytes,
      ...(options.maxUnflushedRecords ? { highWaterRecords: options.maxUnflushedRecords } : {}),
    });
    this.tracker = new CommitTracker({ backpressure: this.backpressure });
    this.chunks$ = this.subject.asObservable();
    this.identity = new TopicIdentity({
      topic: options.topic,
      lookup: options.topicIdLookup ?? ((topic) => fetchTopicId(options.kafka, topic)),
      logger: this.logger,
    });
    const c = options.consumer;
    this.consumer = options.kafka.consumer({
      groupId: c.groupId,
      sessionTimeout: c.sessionTimeoutMs,
      rebalanceTimeout: c.maxPollIntervalMs,
      heartbeatInterval: c.heartbeatIntervalMs,
      minBytes: c.fetchMinBytes,
      maxWaitTimeInMs: c.fetchMaxWaitMs,
      maxBytesPerPartition: c.fetchMaxBytesPerPartition,
      ...(options.retry ? { retry: options.retry } : {}),
    });
    this.committer = new OffsetCommitter({
      consumer: this.consumer,
      tracker: this.tracker,
      owned: () => this.assignment,
      logger: this.logger,
      ...(options.metrics ? { metrics: options.metrics } : {}),
    });
    this.listen();
  }

  /**
   * Joins the group and starts fetching. `onFatal` is told when the consumer gives up for good
   * (a crash kafkajs does not restart from).
   */
  async start(onFatal: (err: Error) => void): Promise<void> {
    this.onFatal = onFatal;
    try {
      await this.consumer.connect();
      await this.consumer.subscribe({
        topic: this.options.topic,
        fromBeginning: this.options.consumer.fromBeginning,
      });
    } catch (err) {
      throw new KafkaUnavailableError(`cannot start consuming ${this.options.topic}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.eachBatch(payload),
    });
  }

  /** True while fetching is paused because the sinks are behind. */
  get isPaused(): boolean {
    return this.paused;
  }

  /** Partitions this member owns now. */
  assigned(): readonly number[] {
    return this.assignment;
  }

  /** Fetch position and high watermark per partition, as of the last fetch. */
  partitionProgress(): PartitionProgress[] {
    return [...this.progress.values()];
  }

  /** Commits whatever became durable; coalesces: at most one commit in flight. */
  requestCommit(): void {
    this.committer.requestCommit();
  }

  /** Waits for the commit in flight, then commits everything durable now. */
  commitNow(): Promise<void> {
    return this.committer.commitNow();
  }

  /** Stops handing records downstream: pauses fetching and completes `chunks$`. Idempotent. */
  stopFetching(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.backpressure.wake();
    try {
      this.consumer.pause([{ topic: this.options.topic }]);
    } catch {
      // Not running (never started or crashed): nothing is being fetched anyway.
    }
    this.subject.complete();
    this.rebalance$.complete();
  }

  /** Leaves the group and closes the connections. */
  async disconnect(): Promise<void> {
    this.stopFetching();
    await this.consumer.disconnect();
  }

  private async eachBatch({
    batch,
    resolveOffset,
    heartbeat,
    isRunning,
    isStale,
  }: EachBatchPayload): Promise<void> {
    const { topic, partition, messages } = batch;
    const max = this.options.consumer.maxPollRecords;
    const highWatermark = BigInt(batch.highWatermark);
    const canEmit = () => !this.stopping && isRunning() && !isStale() && this.subject.observed;
    const stood = this.progress.get(partition)?.next;
    let topicId: string;
    try {
      topicId = await this.identity.forBatch(stood !== undefined && BigInt(messages[0]!.offset) < stood);
    } catch (err) {
      if (!(err instanceof TopicRecreatedError)) throw err; // kafkajs retries the batch
      this.logger.error({ err }, err.message);
      this.stopFetching();
      this.onFatal(err);
      return;
    }
    for (let i = 0; i < messages.length; i += max) {
      if (this.backpressure.saturated && canEmit()) await this.waitForCapacity(heartbeat);
      if (!canEmit()) return;
      const records = messages.length <= max ? messages : messages.slice(i, i + max);
      let bytes = 0;
      for (const m of records) bytes += (m.value?.length ?? 0) + (m.key?.length ?? 0);
      const first = records[0]!.offset;
      const last = records[records.length - 1]!.offset;
      const ticket = this.tracker.openTicket(topic, partition, first, last, bytes, records.length);
      try {
        this.subject.next({ topic, topicId, partition, records, bytes, ack: ticket });
      } finally {
        ticket.seal();
      }
      resolveOffset(last);
      this.recordsRead += records.length;
      const next = BigInt(last) + 1n;
      this.progress.set(partition, { partition, next, highWatermark });
      const m = this.options.metrics;
      if (m) {
        const labels = { topic, partition: String(partition) };
        m.recordsIn.inc(labels, records.length);
        m.consumerLag.set(labels, Number(highWatermark > next ? highWatermark - next : 0n));
        m.unflushedBytes.set(this.backpressure.bytes);
      }
    }
  }

  /** Pauses fetching and waits (heartbeating) until enough is durable; a rebalance ends the wait. */
  private async waitForCapacity(heartbeat: () => Promise<void>): Promise<void> {
    const interval = this.options.consumer.heartbeatIntervalMs;
    this.setPaused(true);
    try {
      while (!this.backpressure.drained && !this.stopping) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          this.backpressure.whenDrained(),
          new Promise<void>((resolve) => (timer = setTimeout(resolve, interval))),
        ]);
        clearTimeout(timer);
        await heartbeat();
      }
    } finally {
      this.setPaused(false);
    }
  }

  private setPaused(paused: boolean): void {
    if (this.paused === paused) return;
    this.paused = paused;
    this.options.metrics?.paused.set(paused ? 1 : 0);
    this.options.metrics?.unflushedBytes.set(this.backpressure.bytes);
    const topics = [{ topic: this.options.topic }];
    if (paused) {
      this.consumer.pause(topics);
      this.logger.info(
        { event: LogEvents.backpressurePause, unflushedBytes: this.backpressure.bytes },
        'sinks are behind: fetching paused',
      );
    } else if (!this.stopping) {
      this.consumer.resume(topics);
      this.logger.info(
        { event: LogEvents.backpressureResume, unflushedBytes: this.backpressure.bytes },
        'sinks caught up: fetching resumed',
      );
    }
  }

  private listen(): void {
    const { events } = this.consumer;
    this.consumer.on(events.GROUP_JOIN, ({ payload }) => {
      const { topic } = this.options;
      this.assignment = [...(payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b);
      // Partitions kept across the rebalance continue after what is already in flight (kafkajs
      // would go back to the last commit); revoked ones are left to their new owner.
      const kept = this.tracker.retain(topic, this.assignment);
      for (const resume of kept) this.consumer.seek(resume);
      const sink = this.options.resumeFrom;
      const reading = this.identity.refresh();
      if (sink) {
        const current = () => this.assignment;
        reading.then(
          (topicId) =>
            seekWhereSinkResumes(this.consumer, sink, { topic, topicId }, kept, current, this.logger),
          () => undefined, // logged; the next batch reads the id again (or stops on a re-created topic)
        );
      }
      for (const p of this.progress.keys()) if (!this.assignment.includes(p)) this.progress.delete(p);
      this.options.metrics?.rebalances.inc();
      this.logger.info(
        { event: LogEvents.rebalance, memberId: payload.memberId, partitions: this.assignment },
        'joined the consumer group',
      );
    });
    this.consumer.on(events.REBALANCING, () => {
      this.logger.info({ event: LogEvents.rebalance }, 'group rebalancing: flushing and committing');
      this.rebalance$.next();
      this.requestCommit();
    });
    this.consumer.on(events.CRASH, ({ payload }) => {
      this.assignment = [];
      if (payload.restart) {
        this.logger.warn({ err: payload.error }, 'consumer crashed; kafkajs restarts it');
        return;
      }
      this.logger.error({ err: payload.error }, 'consumer crashed and will not restart');
      this.onFatal(payload.error);
    });
  }
}
