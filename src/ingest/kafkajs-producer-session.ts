import { CompressionTypes, Partitioners, type Admin, type Kafka, type Producer } from 'kafkajs';
import type { ProduceRequest } from './producer-session.js';
import { ReplacingProducerSession, type SessionOptions } from './replacing-session.js';

export interface KafkajsSessionOptions extends SessionOptions {
  kafka: Kafka;
  /** kafkajs maxInFlightRequests per broker connection. */
  maxInFlightRequests: number;
}

/**
 * The publisher's session on kafkajs (the default): an idempotent producer, the partition count
 * read through an admin client.
 */
export class KafkajsProducerSession extends ReplacingProducerSession<Producer> {
  private admin: Admin | undefined;

  constructor(private readonly options: KafkajsSessionOptions) {
    super(options);
    const inFlight = options.maxInFlightRequests;
    if (!Number.isInteger(inFlight) || inFlight < 1 || inFlight > 5) {
      throw new RangeError('maxInFlightRequests must be an integer in 1..5');
    }
  }

  protected async openProducer(): Promise<Producer> {
    const producer = this.options.kafka.producer({
      idempotent: true,
      maxInFlightRequests: this.options.maxInFlightRequests,
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
      // Short inner retries for blips (leader moves); longer outages are retried by the publisher.
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 },
    });
    await producer.connect();
    return producer;
  }

  protected async produce(producer: Producer, request: ProduceRequest): Promise<void> {
    await producer.send({
      topic: request.topic,
      messages: request.messages,
      acks: -1,
      timeout: request.ackTimeoutMs,
      compression: request.compression === 'none' ? CompressionTypes.None : CompressionTypes.GZIP,
    });
  }

  protected async readPartitionCount(): Promise<number> {
    if (!this.admin) {
      const admin = this.options.kafka.admin();
      await admin.connect();
      this.admin = admin;
    }
    const meta = await this.admin.fetchTopicMetadata({ topics: [this.options.topic] });
    return meta.topics[0]?.partitions.length ?? 0;
  }

  protected async closeProducer(producer: Producer): Promise<void> {
    await producer.disconnect();
  }

  protected override async closeRest(): Promise<void> {
    await this.admin?.disconnect();
  }
}
