import { errorMessage, KafkaUnavailableError } from '../errors.js';
import { partitionForKey } from '../kafka/partitioner.js';

/** A vehicle's Kafka key and partition. */
export interface Route {
  key: Buffer;
  partition: number;
}

/** One record of a produce request: keyed, routed, encoded. */
export interface OutgoingMessage {
  key: Buffer;
  value: Buffer;
  partition: number;
  headers: Record<string, string>;
}

/** One produce request, acks=all on an idempotent producer. */
export interface ProduceRequest {
  topic: string;
  messages: OutgoingMessage[];
  compression: 'gzip' | 'none';
  /** How long the broker waits for the in-sync replicas before answering, ms. */
  ackTimeoutMs: number;
}

/**
 * The publisher's port to Kafka: an idempotent producer, the topic's partition count and the
 * key -> partition routing (Kafka's default murmur2 partitioner, as the Java clients). One adapter
 * per client: kafkajs (the default) and `@platformatic/kafka` (PUBLISHER_KAFKA_CLIENT).
 */
export interface ProducerSession {
  /** Partitions of the topic, 0 until connected. */
  readonly partitionCount: number;
  /** Connected with a fresh partition count: publishes can be routed without waiting. */
  isReady(): boolean;
  /** Connects (or refreshes the partition count); rejects with KafkaUnavailableError. */
  ready(): Promise<void>;
  route(vehicleId: string): Route;
  /** One produce request on the current producer (replaced first when it was marked stale). */
  send(request: ProduceRequest): Promise<void>;
  /** The outcome of a request is unknown: use a new producer id from the next request on. */
  markStale(): void;
  close(): Promise<void>;
}

const MAX_CACHED_ROUTES = 100_000;

/** Key bytes and partition per vehicle id, cached (bounded) for one partition count. */
export class RouteCache {
  private routes = new Map<string, Route>();
  private partitions = 0;

  route(vehicleId: string, partitions: number): Route {
    if (partitions !== this.partitions) {
      this.routes.clear();
      this.partitions = partitions;
    }
    let route = this.routes.get(vehicleId);
    if (!route) {
      route = { key: Buffer.from(vehicleId), partition: partitionForKey(vehicleId, partitions) };
      if (this.routes.size >= MAX_CACHED_ROUTES) this.routes.clear();
      this.routes.set(vehicleId, route);
    }
    return route;
  }
}

/**
 * A KafkaUnavailableError saying what could not be reached, and the fix when there is one.
 * `missing`: the client said the topic does not exist.
 */
export function connectError(topic: string, err: unknown, missing: boolean): KafkaUnavailableError {
  if (err instanceof KafkaUnavailableError) return err;
  if (missing) {
    return new KafkaUnavailableError(`topic '${topic}' does not exist (create it: fleet topics create)`, {
      cause: err,
    });
  }
  return new KafkaUnavailableError(`cannot publish to Kafka topic '${topic}': ${errorMessage(err)}`, {
    cause: err,
  });
}
