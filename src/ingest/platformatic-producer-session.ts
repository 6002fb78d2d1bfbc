import type { MessageToProduce, Producer } from '@platformatic/kafka';
import type { SchedulerLike } from 'rxjs';
import type { KafkaConfig } from '../config/config.js';
import { errorMessage, KafkaUnavailableError } from '../errors.js';
import { kafkaTls } from '../kafka/sasl.js';
import type { Logger } from '../logger.js';
import {
  connectError,
  RouteCache,
  type ProduceRequest,
  type ProducerSession,
  type Route,
} from './producer-session.js';

export interface PlatformaticSessionOptions {
  kafka: KafkaConfig;
  topic: string;
  scheduler: SchedulerLike;
  logger: Logger;
  /** How often the partition count is read again, ms. */
  metadataMaxAgeMs: number;
  /** Produce request timeout (the broker's wait for the in-sync replicas), ms. */
  ackTimeoutMs: number;
}

/**
 * The publisher's session on `@platformatic/kafka` (PUBLISHER_KAFKA_CLIENT=platformatic): the same
 * contract as the kafkajs session — idempotent, acks=all, one request in flight per broker
 * connection (the client enforces it for idempotent producers), the producer replaced after a
 * give-up — with a client that encodes a record batch for about a third of kafkajs's CPU (bench
 * "client A/B"). Plaintext and TLS; with SASL the config is refused at start (not wired here).
 */
export class PlatformaticProducerSession implements ProducerSession {
  private partitions = 0;
  private metadataAt = 0;
  private readonly routes = new RouteCache();
  private producer: Producer | undefined;
  private stale = false;
  private active = 0;
  private connecting: Promise<void> | undefined;
  private resetting: Promise<void> | undefined;
  private idle: (() => void)[] = [];

  constructor(private readonly options: PlatformaticSessionOptions) {}

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
    const messages = new Array<MessageToProduce>(request.messages.length);
    for (let i = 0; i < messages.length; i++) {
      const m = request.messages[i]!;
      messages[i] = {
        topic: request.topic,
        key: m.key,
        value: m.value,
        partition: m.partition,
        headers: headerBytes(m.headers),
      };
    }
    this.active++;
    try {
      await producer.send({ messages, acks: -1, compression: request.compression });
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
    await this.producer?.close().catch(() => undefined);
  }

  private metadataExpired(): boolean {
    return this.options.scheduler.now() - this.metadataAt > this.options.metadataMaxAgeMs;
  }

  /** The client is loaded on first use: kafkajs users never load it. */
  private async newProducer(): Promise<Producer> {
    const { Producer } = await import('@platformatic/kafka');
    const tls = kafkaTls(this.options.kafka);
    return new Producer({
      clientId: this.options.kafka.clientId,
      bootstrapBrokers: [...this.options.kafka.brokers],
      idempotent: true,
      acks: -1,
      timeout: this.options.ackTimeoutMs,
      // Short inner retries for blips (leader moves); longer outages are retried by the publisher.
      retries: 5,
      retryDelay: 100,
      autocreateTopics: false,
      ...(tls === false ? {} : { tls: tls === true ? {} : tls }),
    });
  }

  private async connectOnce(): Promise<void> {
    try {
      const producer = (this.producer ??= await this.newProducer());
      this.stale = false;
      if (this.partitions === 0 || this.metadataExpired()) {
        const meta = await producer.metadata({ topics: [this.options.topic], forceUpdate: true });
        const count = meta.topics.get(this.options.topic)?.partitionsCount ?? 0;
        if (count === 0) throw new KafkaUnavailableError(`topic '${this.options.topic}' has no partitions`);
        this.partitions = count;
        this.metadataAt = this.options.scheduler.now();
      }
    } catch (err) {
      // The client's answer to metadata of a topic that does not exist (a UserError).
      const missing =
        err instanceof Error &&
        (err as { code?: unknown }).code === 'PLT_KFK_USER' &&
        /^Unknown topic/.test(errorMessage(err));
      throw connectError(this.options.topic, err, missing || undefined);
    }
  }

  private async replaceProducer(): Promise<void> {
    if (this.active > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
    const old = this.producer;
    this.producer = undefined;
    this.stale = false;
    this.options.logger.warn('replacing the producer (new producer id) after a failed batch');
    await old?.close().catch(() => undefined);
  }
}

const headerCache = new WeakMap<Record<string, string>, Map<Buffer, Buffer>>();

/**
 * Headers as the client takes them without serialisers: a Map of bytes (a plain object with string
 * keys made 1.35.0's send hang, never settling). The publisher's headers are one shared object.
 */
function headerBytes(headers: Record<string, string>): Map<Buffer, Buffer> {
  let bytes = headerCache.get(headers);
  if (!bytes) {
    bytes = new Map(Object.entries(headers).map(([k, v]) => [Buffer.from(k), Buffer.from(v)]));
    headerCache.set(headers, bytes);
  }
  return bytes;
}
