import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { TopicConfig } from '../config/config.js';
import { geofenceSerde, type Geofence } from '../domain/geofence.js';
import { KafkaUnavailableError, errorMessage } from '../errors.js';
import { geofencesTopicPlan } from '../kafka/event-topics.js';
import { brokerCount, ensureTopic } from '../kafka/topic-admin.js';

/** One change of the geofences table: a geofence to store, or `null` to delete `id` (a tombstone). */
export interface GeofenceChange {
  id: string;
  geofence: Geofence | null;
}

/** Where a change landed: readers that reached this offset of this partition hold it. */
export interface GeofenceOffset {
  partition: number;
  offset: bigint;
}

export interface GeofenceTopic {
  /** Settings of the position topic (replication factor) the geofences topic follows. */
  topic: TopicConfig;
  /** The compacted topic (GEOFENCES_TOPIC). */
  name: string;
}

/**
 * The one writer of the compacted geofences topic (key = id, value = the Feature, a tombstone
 * deletes), used by the API, `fleet geofences` and `fleet simulate --geofences`. acks=all and
 * idempotent: an answered write survives a broker loss. The topic is created when missing.
 */
export class GeofencePublisher {
  private producer: Producer | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly target: GeofenceTopic,
  ) {}

  async connect(): Promise<void> {
    if (this.producer) return;
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      const plan = geofencesTopicPlan(this.target.topic, this.target.name, await brokerCount(admin));
      await ensureTopic(admin, plan);
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await producer.connect();
      this.producer = producer;
    } catch (err) {
      throw new KafkaUnavailableError(`cannot open ${this.target.name}: ${errorMessage(err)}`, {
        cause: err,
      });
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /**
   * Publishes the changes in order, in one request. Resolves with the offset of the first record
   * each partition got — for a single change, where it landed (what read-your-writes waits for).
   */
  async publish(changes: readonly GeofenceChange[]): Promise<GeofenceOffset[]> {
    if (changes.length === 0) return [];
    await this.connect();
    try {
      const meta = await this.producer!.send({
        topic: this.target.name,
        acks: -1,
        messages: changes.map((c) => ({
          key: c.id,
          value: c.geofence ? geofenceSerde.serialize(c.geofence) : null,
        })),
      });
      return meta.map((m) => ({ partition: m.partition, offset: BigInt(m.baseOffset ?? '0') }));
    } catch (err) {
      throw new KafkaUnavailableError(`cannot write to ${this.target.name}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
  }

  async close(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect();
  }
}

/** Connects, publishes `changes` and disconnects (the CLI and the simulator publish once). */
export async function publishGeofences(
  kafka: Kafka,
  target: GeofenceTopic,
  changes: readonly GeofenceChange[],
): Promise<GeofenceOffset[]> {
  const publisher = new GeofencePublisher(kafka, target);
  try {
    return await publisher.publish(changes);
  } finally {
    await publisher.close();
  }
}
