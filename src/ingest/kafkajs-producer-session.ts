import { CompressionTypes, Partitioners, type Admin, type Kafka, type Producer } from 'kafkajs';
import type { SchedulerLike } from 'rxjs';
import { KafkaUnavailableError } from '../errors.js';
import type { Logger } from '../logger.js';
import {
  connectError,
  RouteCache,
  type ProduceRequest,
  type ProducerSession,
  type Route,
} from './producer-session.js';

export interface KafkajsSessionOptions {
  kafka: Kafka;
  topic: string;
  scheduler: SchedulerLike;
  logger: Logger;
  /** kafkajs maxInFlightRequests per broker connection. */
  maxInFlightRequests: number;
  /** How often the partition count is read again, ms. */
  metadataMaxAgeMs: number;
}

/**
 * The publisher's session on kafkajs: an idempotent producer, the partition count read through an
 * admin client. Connects lazily and again after failures; after a batch was given up the producer
 * is replaced, once no request is in flight, so a new producer id starts clean.
 */
export class KafkajsProducerSession implements ProducerSession {
  private partitions = 0;
  private metadataAt = 0;
  private readonly routes = new RouteCache();
  private admin: Admin | undefined;
  private producer: Producer | undefined;
  private stale = false;
  private active = 0;
  private connecting: Promise<void> | undefined;
  private resetting: Promise<void> | undefined;
  private idle: (() => void)[] = [];

  constructor(private readonly options: KafkajsSessionOptions) {
    const inFlight = options.maxInFlightRequests;
    if (!Number.isInteger(inFlight) || inFlight < 1 || inFlight > 5) {
      throw new RangeError('maxInFlightRequests must be an integer in 1..5');
    }
  }

  get partitionCount(): number {
    return this.partitions;
  }

  isReady(): boolean {
    return this.partitionCount > 0 && this.producer !== undefined && !this.metadataExpired();
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
      await producer.send({
        topic: request.topic,
        messages: request.messages,
        acks: -1,
        timeout: request.ackTimeoutMs,
        compression: request.compression === 'none' ? CompressionTypes.None : CompressionTypes.GZIP,
      });
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
    await this.producer?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
  }

  private metadataExpired(): boolean {
    return this.options.scheduler.now() - this.metadataAt > this.options.metadataMaxAgeMs;
  }

  private async connectOnce(): Promise<void> {
    try {
      if (!this.admin) {
        const admin = this.options.kafka.admin();
        await admin.connect();
        this.admin = admin;
      }
      if (this.partitionCount === 0 || this.metadataExpired()) await this.readPartitions(this.admin);
      if (!this.producer) {
        const producer = this.options.kafka.producer({
          idempotent: true,
          maxInFlightRequests: this.options.maxInFlightRequests,
          createPartitioner: Partitioners.DefaultPartitioner,
          allowAutoTopicCreation: false,
          // Short inner retries for blips (leader moves); longer outages are retried by the publisher.
          retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 },
        });
        await producer.connect();
        this.producer = producer;
        this.stale = false;
      }
    } catch (err) {
      throw connectError(this.options.topic, err);
    }
  }

  private async readPartitions(admin: Admin): Promise<void> {
    const meta = await admin.fetchTopicMetadata({ topics: [this.options.topic] });
    const count = meta.topics[0]?.partitions.length ?? 0;
    if (count === 0) throw new KafkaUnavailableError(`topic '${this.options.topic}' has no partitions`);
    this.partitions = count;
    this.metadataAt = this.options.scheduler.now();
  }

  private async replaceProducer(): Promise<void> {
    if (this.active > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
    const old = this.producer;
    this.producer = undefined;
    this.stale = false;
    this.options.logger.warn('replacing the producer (new producer id) after a failed batch');
    await old?.disconnect().catch(() => undefined);
  }
}
