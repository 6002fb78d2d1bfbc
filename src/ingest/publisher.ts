import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { jsonCodec, type PositionCodec } from '../domain/codec.js';
import type { Position } from '../domain/position.js';
import { errorMessage, KafkaUnavailableError } from '../errors.js';
import type { Config } from '../config/config.js';
import { createKafka } from '../kafka/client.js';
import { classifyKafkaError } from '../kafka/kafka-errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { defaultRegistry } from '../metrics.js';
import { retry } from '../retry.js';
import { wireCodec } from './wire-codec.js';
import { ackOwners, encodeAll, failOwners, PartitionLane, PendingPublish } from './publisher-lane.js';
import type { LaneBatch } from './publisher-lane.js';
import { publisherMetrics, type PublisherMetrics } from './publisher-metrics.js';
import type { ProducerSession } from './producer-session.js';
import { KafkajsProducerSession } from './kafkajs-producer-session.js';
import { PlatformaticProducerSession } from './platformatic-producer-session.js';
import { publisherSettings } from './publisher-types.js';
import type * as T from './publisher-types.js';

export type * from './publisher-types.js';

/**
 * Kafka producer of positions: idempotent, acks=all, key = vehicle id (Java-compatible murmur2
 * partitioning). Publish calls arriving within `lingerMs` share produce requests; each partition
 * has one request in flight at a time, which keeps every vehicle's positions in publish order even
 * across retries. A batch that fails is retried with exponential backoff on the same producer (the
 * broker drops the duplicate if an earlier attempt was written) until `deliveryTimeoutMs`; after a
 * give-up the producer is replaced (new producer id) so no later batch can be mistaken for it.
 */
export class PositionPublisher implements T.Publisher {
  private readonly logger: Logger;
  private readonly scheduler: SchedulerLike;
  private readonly metrics: PublisherMetrics;
  private readonly headers: Record<string, string>;
  private readonly codec: PositionCodec;
  private readonly cfg: T.PublisherSettings;
  private readonly session: ProducerSession;
  private readonly counts = { sent: 0, acked: 0, retried: 0, failed: 0, requests: 0, queued: 0 };
  private state: T.PublisherState = 'IDLE';
  private lanes: PartitionLane[] = [];
  private lingerTimer: { unsubscribe(): void } | undefined;
  private waiters: { ready: () => boolean; resolve: () => void }[] = [];
  private closing: Promise<void> | undefined;

  constructor(private readonly options: T.PositionPublisherOptions) {
    this.codec = options.codec ?? jsonCodec;
    this.logger = (options.logger ?? silentLogger).child({ component: 'publisher', topic: options.topic });
    this.scheduler = options.scheduler ?? asyncScheduler;
    this.metrics = publisherMetrics(options.registry ?? defaultRegistry);
    this.headers = { 'content-type': this.codec.contentType };
    this.cfg = publisherSettings(options);
    const session = { topic: options.topic, scheduler: this.scheduler, logger: this.logger };
    const metadataMaxAgeMs = options.metadataMaxAgeMs ?? 300_000;
    this.session =
      'kafka' in options
        ? new KafkajsProducerSession({
            ...session,
            kafka: options.kafka,
            maxInFlightRequests: options.maxInFlightRequests ?? 1,
            metadataMaxAgeMs,
          })
        : new PlatformaticProducerSession({
            ...session,
            kafka: options.kafkaConfig,
            metadataMaxAgeMs,
            ackTimeoutMs: this.cfg.ackTimeoutMs,
          });
  }

  /** Connects now (otherwise the first publish does); rejects with KafkaUnavailableError. */
  async connect(): Promise<void> {
    await this.ready();
  }

  private async ready(): Promise<void> {
    await this.session.ready();
    for (let p = this.lanes.length; p < this.session.partitionCount; p++)
      this.lanes.push(new PartitionLane(p));
    if (this.state === 'IDLE') this.state = 'RUNNING';
  }

  stats(): T.PublisherStats {
    return { ...this.counts, state: this.state };
  }

  publish(positions: readonly Position[], options: T.PublishOptions = {}): Promise<void> {
    if (this.state === 'DRAINING' || this.state === 'STOPPED') {
      return Promise.reject(new KafkaUnavailableError('the publisher is closed', { retriable: false }));
    }
    const n = positions.length;
    if (n === 0) return Promise.resolve();
    if (this.counts.queued + n > this.cfg.maxQueued) {
      this.countFailed(n);
      return Promise.reject(
        new KafkaUnavailableError(
          `publisher buffer full: ${this.counts.queued} positions wait for Kafka (max ${this.cfg.maxQueued})`,
        ),
      );
    }
    let values: Buffer[];
    try {
      values = encodeAll(this.codec, positions);
    } catch (err) {
      return Promise.reject(err);
    }
    const pending = new PendingPublish(n, this.scheduler.now());
    const timeoutMs = options.timeoutMs ?? this.cfg.publishTimeoutMs;
    const timer = this.scheduler.schedule(() => {
      const unacked = pending.unacked;
      if (pending.fail(new KafkaUnavailableError(`not acknowledged by Kafka within ${timeoutMs} ms`))) {
        this.countFailed(unacked);
      }
    }, timeoutMs);
    pending.onSettle(() => timer.unsubscribe());
    this.counts.queued += n;
    this.metrics.queued.inc(n);
    if (this.state === 'RUNNING' && this.session.isReady()) {
      this.enqueue(pending, positions, values);
    } else {
      this.ready().then(
        () => this.enqueue(pending, positions, values),
        (err: unknown) => {
          this.dequeued(n);
          if (pending.fail(err)) this.countFailed(n);
          this.notify();
        },
      );
    }
    return pending.promise;
  }

  /** Flushes what is queued (waiting at most `timeoutMs`), then disconnects. */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.closing ??= this.shutdown(options.timeoutMs ?? this.cfg.deliveryTimeoutMs + 5000);
    return this.closing;
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    this.state = 'DRAINING';
    this.lingerTimer?.unsubscribe();
    this.lingerTimer = undefined;
    for (const lane of this.lanes) this.flushLane(lane);
    let timer: { unsubscribe(): void } | undefined;
    const drained = await Promise.race([
      // Queued counts publishes still waiting for the first connection too (no lane holds them yet).
      this.until(() => this.counts.queued === 0 && this.lanes.every((l) => l.length === 0 && !l.busy)).then(
        () => true,
      ),
      new Promise<boolean>((resolve) => {
        timer = this.scheduler.schedule(() => resolve(false), timeoutMs);
      }),
    ]);
    timer?.unsubscribe();
    this.state = 'STOPPED';
    if (!drained) {
      const error = new KafkaUnavailableError('the publisher closed before Kafka acknowledged');
      for (const lane of this.lanes) this.countFailed(failOwners(lane.drain(), error));
    }
    await this.session.close();
    this.logger.info({ ...this.counts, drained }, 'publisher closed');
  }

  private enqueue(pending: PendingPublish, positions: readonly Position[], values: Buffer[]): void {
    if (pending.settled) {
      this.dequeued(positions.length);
      return;
    }
    for (let i = 0; i < positions.length; i++) {
      const route = this.session.route(positions[i]!.vehicleId);
      const value = values[i]!;
      this.lanes[route.partition]!.push(
        { key: route.key, value, headers: this.headers, partition: route.partition },
        pending,
        route.key.length + value.length,
      );
    }
    let waiting = false;
    for (const lane of this.lanes) {
      if (lane.busy || lane.length === 0) continue;
      if (lane.bytes >= this.cfg.maxBatchBytes || this.state !== 'RUNNING') this.flushLane(lane);
      else waiting = true;
    }
    if (waiting && !this.lingerTimer) {
      this.lingerTimer = this.scheduler.schedule(() => {
        this.lingerTimer = undefined;
        for (const lane of this.lanes) if (!lane.busy && lane.length > 0) this.flushLane(lane);
      }, this.cfg.lingerMs);
    }
  }

  private flushLane(lane: PartitionLane): void {
    if (lane.busy) return;
    lane.busy = true;
    void this.drainLane(lane);
  }

  private async drainLane(lane: PartitionLane): Promise<void> {
    try {
      while (lane.length > 0) {
        const batch = lane.take(this.cfg.maxBatchBytes);
        if (batch.dropped > 0) this.dequeued(batch.dropped);
        if (batch.messages.length > 0) await this.deliver(batch);
      }
    } finally {
      lane.busy = false;
      this.notify();
    }
  }

  private async deliver(batch: LaneBatch): Promise<void> {
    const n = batch.messages.length;
    const started = this.scheduler.now();
    this.counts.sent += n;
    this.metrics.sent.inc(n);
    try {
      await retry(
        async () => {
          this.counts.requests++;
          await this.session.send({
            topic: this.options.topic,
            messages: batch.messages,
            ackTimeoutMs: this.cfg.ackTimeoutMs,
            compression: this.cfg.compression,
          });
        },
        {
          ...this.cfg.backoff,
          retries: Infinity,
          // Retried on the same producer (the broker drops a duplicate of an earlier attempt) while
          // someone waits for the batch and the retry ends before the delivery deadline.
          shouldRetry: (error, { delayMs }) => {
            const kind = classifyKafkaError(error);
            if (kind === 'reset') this.session.markStale();
            const live = batch.owners.some((o) => !o.settled);
            const late = this.scheduler.now() - started + delayMs > this.cfg.deliveryTimeoutMs;
            return kind !== 'fatal' && live && !late && this.state !== 'STOPPED';
          },
          onRetry: ({ attempt, delayMs, error }) => {
            this.counts.retried += n;
            this.metrics.retried.inc(n);
            this.logger.warn(
              { partition: batch.partition, records: n, attempt, delayMs, err: error },
              'produce failed; retrying',
            );
          },
          sleep: (ms) => this.delay(ms),
        },
      );
    } catch (error) {
      // Whether the broker wrote the last attempt is unknown: a new producer id keeps a later
      // batch from being taken for its duplicate.
      this.session.markStale();
      this.failed(batch, error);
      return;
    }
    this.acked(batch);
  }

  private acked(batch: LaneBatch): void {
    const n = batch.messages.length;
    this.counts.acked += n;
    this.metrics.acked.inc(n);
    this.dequeued(n);
    const now = this.scheduler.now();
    for (const done of ackOwners(batch.owners))
      this.metrics.ackLatency.observe((now - done.startedAt) / 1000);
  }

  private failed(batch: LaneBatch, cause: unknown): void {
    this.dequeued(batch.messages.length);
    const error = new KafkaUnavailableError(
      `Kafka did not acknowledge ${batch.messages.length} position(s) on ${this.options.topic}[${batch.partition}]: ${errorMessage(cause)}`,
      { cause },
    );
    this.logger.error(
      { partition: batch.partition, records: batch.messages.length, err: cause },
      'produce failed',
    );
    this.countFailed(failOwners(batch.owners, error));
  }

  private countFailed(n: number): void {
    this.counts.failed += n;
    this.metrics.failed.inc(n);
  }

  private dequeued(n: number): void {
    this.counts.queued -= n;
    this.metrics.queued.dec(n);
  }

  private until(ready: () => boolean): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ ready, resolve }));
  }

  private notify(): void {
    if (this.waiters.length === 0) return;
    this.waiters = this.waiters.filter((w) => (w.ready() ? (w.resolve(), false) : true));
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => this.scheduler.schedule(() => resolve(), ms));
  }
}

/**
 * A publisher for the configured position topic, with its own Kafka client (JSON unless `codec`):
 * kafkajs, or `@platformatic/kafka` with PUBLISHER_KAFKA_CLIENT=platformatic.
 */
export function createPublisher(
  config: Readonly<Config>,
  options: T.PublisherSettingsOptions & { logger: Logger },
): PositionPublisher {
  if (config.publisherClient === 'platformatic') {
    return new PositionPublisher({ ...options, kafkaConfig: config.kafka, topic: config.topic.name });
  }
  // kafkajs logs each inner retry (and bounded retries) loudly; the publisher logs failures itself.
  const quiet = options.logger.levelVal >= 60 ? options.logger : options.logger.child({}, { level: 'fatal' });
  // Connecting gives up within ~1 s, so callers learn at once that Kafka is down (gateway: 503).
  const retry = { initialRetryTime: 100, retries: 3, maxRetryTime: 1000 };
  const kafka = createKafka(config.kafka, { logger: quiet, role: 'producer', retry });
  return new PositionPublisher({ ...options, kafka, topic: config.topic.name });
}

/**
 * The publisher of the `fleet` commands: writes WIRE_FORMAT. With Avro the schema is registered
 * (or looked up) here, once; publishing never waits for the registry afterwards.
 */
export async function createWirePublisher(
  config: Readonly<Config>,
  options: Omit<T.PublisherSettingsOptions, 'codec'> & { logger: Logger },
): Promise<PositionPublisher> {
  return createPublisher(config, { ...options, codec: await wireCodec(config, options.logger) });
}
