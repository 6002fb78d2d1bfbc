import {
  Partitioners,
  type Admin,
  type Kafka,
  type PartitionMetadata,
  type Producer,
  type ProducerRecord,
} from 'kafkajs';
import type { SchedulerLike } from 'rxjs';
import { errorMessage, KafkaUnavailableError } from '../errors.js';
import { kafkaErrorType } from '../kafka/kafka-errors.js';
import type { Logger } from '../logger.js';

export interface ProducerSessionOptions {
  kafka: Kafka;
  topic: string;
  scheduler: SchedulerLike;
  logger: Logger;
  /** kafkajs maxInFlightRequests per broker connection. */
  maxInFlightRequests: number;
  /** How often the partition count is read again, ms. */
  metadataMaxAgeMs: number;
}

/** A vehicle's Kafka key and partition. */
export interface Route {
  key: Buffer;
  partition: number;
}

const MAX_CACHED_ROUTES = 100_000;

/**
 * The publisher's connection to Kafka: an idempotent producer, the topic's partition count (read
 * through an admin client) and the key -> partition routing (kafkajs' Java-compatible murmur2
 * DefaultPartitioner). Connects lazily and again after failures; after a batch was given up the
 * producer is replaced, once no request is in flight, so a new producer id starts clean.
 */
export class ProducerSession {
  private readonly partitioner = Partitioners.DefaultPartitioner();
  private partitionMetadata: PartitionMetadata[] = [];
  private metadataAt = 0;
  private routes = new Map<string, Route>();
  private admin: Admin | undefined;
  private producer: Producer | undefined;
  private stale = false;
  private active = 0;
  private connecting: Promise<void> | undefined;
  private resetting: Promise<void> | undefined;
  private idle: (() => void)[] = [];

  constructor(private readonly options: ProducerSessionOptions) {
    const inFlight = options.maxInFlightRequests;
    if (!Number.isInteger(inFlight) || inFlight < 1 || inFlight > 5) {
      throw new RangeError('maxInFlightRequests must be an integer in 1..5');
    }
  }

  get partitionCount(): number {
    return this.partitionMetadata.length;
  }

  /** Connected with a fresh partition count: publishes can be routed without waiting. */
  isReady(): boolean {
    return this.partitionCount > 0 && this.producer !== undefined && !this.metadataExpired();
  }

  /** Connects (or refreshes the partition count); rejects with KafkaUnavailableError. */
  ready(): Promise<void> {
    if (this.isReady()) return Promise.resolve();
    this.connecting ??= this.connectOnce().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  route(vehicleId: string): Route {
    let route = this.routes.get(vehicleId);
    if (!route) {
      const key = Buffer.from(vehicleId);
      const partition = this.partitioner({
        topic: this.options.topic,
        partitionMetadata: this.partitionMetadata,
        message: { key, value: null },
      });
      route = { key, partition };
      if (this.routes.size >= MAX_CACHED_ROUTES) this.routes.clear();
      this.routes.set(vehicleId, route);
    }
    return route;
  }

  /** One produce call on the current producer (replacing it first when it was marked stale). */
  async send(record: ProducerRecord): Promise<void> {
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
      await producer.send(record);
    } finally {
      this.active--;
      if (this.active === 0) for (const resolve of this.idle.splice(0)) resolve();
    }
  }

  /** The outcome of a request is unknown: use a new producer id from the next request on. */
  markStale(): void {
    this.stale = true;
  }

  async close(): Promise<void> {
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
    if (count !== this.partitionCount) {
      this.partitionMetadata = Array.from({ length: count }, (_, partitionId) => ({
        partitionId,
        leader: 0,
        partitionErrorCode: 0,
        replicas: [],
        isr: [],
      }));
      this.routes.clear();
    }
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

/** A KafkaUnavailableError saying what could not be reached, and the fix when there is one. */
function connectError(topic: string, err: unknown): KafkaUnavailableError {
  if (err instanceof KafkaUnavailableError) return err;
  if (kafkaErrorType(err) === 'UNKNOWN_TOPIC_OR_PARTITION') {
    return new KafkaUnavailableError(`topic '${topic}' does not exist (create it: fleet topics create)`, {
      cause: err,
    });
  }
  return new KafkaUnavailableError(`cannot publish to Kafka topic '${topic}': ${errorMessage(err)}`, {
    cause: err,
  });
}
