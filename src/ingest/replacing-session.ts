import type { SchedulerLike } from 'rxjs';
import { KafkaUnavailableError } from '../errors.js';
import { kafkaErrorType } from '../kafka/kafka-errors.js';
import type { Logger } from '../logger.js';
import {
  connectError,
  RouteCache,
  type ProduceRequest,
  type ProducerSession,
  type Route,
} from './producer-session.js';

export interface SessionOptions {
  topic: string;
  scheduler: SchedulerLike;
  logger: Logger;
  /** How often the partition count is read again, ms. */
  metadataMaxAgeMs: number;
}

/**
 * What both client adapters share: connect lazily (and again after failures), keep the partition
 * count fresh, and after a batch was given up replace the producer — once no request is in flight —
 * so a new producer id starts clean. An adapter says how its client opens, sends, counts
 * partitions and closes.
 */
export abstract class ReplacingProducerSession<P> implements ProducerSession {
  private partitions = 0;
  private metadataAt = 0;
  private readonly routes = new RouteCache();
  private producer: P | undefined;
  private stale = false;
  private active = 0;
  private connecting: Promise<void> | undefined;
  private resetting: Promise<void> | undefined;
  private idle: (() => void)[] = [];

  constructor(protected readonly session: SessionOptions) {}

  /** A new idempotent producer, connected. */
  protected abstract openProducer(): Promise<P>;
  protected abstract produce(producer: P, request: ProduceRequest): Promise<void>;
  /** The topic's partition count; rejects when the topic cannot be read. */
  protected abstract readPartitionCount(producer: P): Promise<number>;
  protected abstract closeProducer(producer: P): Promise<void>;
  /** Whether `err` says the topic does not exist (the protocol error; a client may add its own). */
  protected topicMissing(err: unknown): boolean {
    return kafkaErrorType(err) === 'UNKNOWN_TOPIC_OR_PARTITION';
  }
  /** Closes what else the adapter opened (kafkajs: its admin client). */
  protected async closeRest(): Promise<void> {}

  get partitionCount(): number {
    return this.partitions;
  }

  isReady(): boolean {
    return this.partitions > 0 && this.producer !== undefined && !this.metadataExpired();
  }

  ready(): Promise<void> {
    if (this.isReady()) return Promise.resolve();
    this.connecting ??= this.connectOnce().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  route(vehicleId: string): Route {
    return this.routes.route(vehicleId, this.partitions);
  }

  async send(request: ProduceRequest): Promise<void> {
    if (this.stale) {
      this.resetting ??= this.replaceProducer().finally(() => {
        this.resetting = undefined;
      });
      await this.resetting;
    }
    if (!this.producer) await this.ready();
    const producer = this.producer;
    if (!producer) throw new KafkaUnavailableError('the producer is being replaced');
    this.active++;
    try {
      await this.produce(producer, request);
    } finally {
      this.active--;
      if (this.active === 0) for (const resolve of this.idle.splice(0)) resolve();
    }
  }

  markStale(): void {
    this.stale = true;
  }

  async close(): Promise<void> {
    // A connection being opened now would outlive the close.
    await this.connecting?.catch(() => undefined);
    if (this.producer) await this.closeProducer(this.producer).catch(() => undefined);
    await this.closeRest().catch(() => undefined);
  }

  private metadataExpired(): boolean {
    return this.session.scheduler.now() - this.metadataAt > this.session.metadataMaxAgeMs;
  }

  private async connectOnce(): Promise<void> {
    try {
      if (!this.producer) {
        this.producer = await this.openProducer();
        this.stale = false;
      }
      if (this.partitions === 0 || this.metadataExpired()) {
        const count = await this.readPartitionCount(this.producer);
        if (count === 0) throw new KafkaUnavailableError(`topic '${this.session.topic}' has no partitions`);
        this.partitions = count;
        this.metadataAt = this.session.scheduler.now();
      }
    } catch (err) {
      throw connectError(this.session.topic, err, this.topicMissing(err));
    }
  }

  private async replaceProducer(): Promise<void> {
    if (this.active > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
    const old = this.producer;
    this.producer = undefined;
    this.stale = false;
    this.session.logger.warn('replacing the producer (new producer id) after a failed batch');
    if (old) await this.closeProducer(old).catch(() => undefined);
  }
}
