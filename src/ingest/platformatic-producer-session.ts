import type { MessageToProduce, Producer } from '@platformatic/kafka';
import type { KafkaConfig } from '../config/config.js';
import { errorMessage } from '../errors.js';
import { kafkaTls } from '../kafka/sasl.js';
import type { ProduceRequest } from './producer-session.js';
import { ReplacingProducerSession, type SessionOptions } from './replacing-session.js';

export interface PlatformaticSessionOptions extends SessionOptions {
  kafka: KafkaConfig;
  /** Produce request timeout (the broker's wait for the in-sync replicas), ms. */
  ackTimeoutMs: number;
}

/**
 * The publisher's session on `@platformatic/kafka` (PUBLISHER_KAFKA_CLIENT=platformatic): the same
 * contract as the kafkajs session — idempotent, acks=all, one request in flight per broker
 * connection (the client enforces it for idempotent producers), the producer replaced after a
 * give-up — with a client whose record-batch encoding costs a fraction of kafkajs's CPU (bench
 * "client A/B"). Plaintext and TLS; with SASL the config is refused at start (not wired here).
 */
export class PlatformaticProducerSession extends ReplacingProducerSession<Producer> {
  constructor(private readonly options: PlatformaticSessionOptions) {
    super(options);
  }

  /** The client is loaded on first use: kafkajs users never load it. */
  protected async openProducer(): Promise<Producer> {
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

  protected async produce(producer: Producer, request: ProduceRequest): Promise<void> {
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
    await producer.send({ messages, acks: -1, compression: request.compression });
  }

  protected async readPartitionCount(producer: Producer): Promise<number> {
    const meta = await producer.metadata({ topics: [this.options.topic], forceUpdate: true });
    return meta.topics.get(this.options.topic)?.partitionsCount ?? 0;
  }

  protected async closeProducer(producer: Producer): Promise<void> {
    await producer.close();
  }

  /** Also the client's own answer to metadata of a topic that does not exist (a UserError). */
  protected override topicMissing(err: unknown): boolean {
    const user = err instanceof Error && (err as { code?: unknown }).code === 'PLT_KFK_USER';
    return super.topicMissing(err) || (user && /^Unknown topic/.test(errorMessage(err)));
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
