import type { Kafka } from 'kafkajs';
import type { KafkaConfig } from '../config/config.js';
import type { Registry } from 'prom-client';
import type { SchedulerLike } from 'rxjs';
import type { PositionCodec } from '../domain/codec.js';
import type { Position } from '../domain/position.js';
import type { Logger } from '../logger.js';
import type { BackoffOptions } from '../retry.js';

/** Where positions go: resolves only once Kafka acknowledged all of them. The gateway's port. */
export interface Publisher {
  /**
   * Publishes positions keyed by vehicle id. Resolves when Kafka acknowledged every one (acks=all);
   * rejects with KafkaUnavailableError when it could not within the deadline.
   */
  publish(positions: readonly Position[], options?: PublishOptions): Promise<void>;
}

export interface PublishOptions {
  /** Deadline of this call (waiting, sending and retrying). @default the publisher's publishTimeoutMs */
  timeoutMs?: number;
}

/** How the publisher reaches Kafka: a kafkajs client, or `@platformatic/kafka` built from the config. */
export type PublisherClientOptions = { kafka: Kafka } | { kafkaConfig: KafkaConfig };

export type PositionPublisherOptions = PublisherSettingsOptions & PublisherClientOptions & { topic: string };

/** Everything but the client and the topic. */
export interface PublisherSettingsOptions {
  /** @default jsonCodec */
  codec?: PositionCodec;
  logger?: Logger;
  /** Where the `fleet_producer_*` metrics live. @default defaultRegistry */
  registry?: Registry;
  /** Timers (linger, deadlines, backoff). @default asyncScheduler */
  scheduler?: SchedulerLike;
  /** How long a publish waits for others to share its produce request. @default 5 (ms) */
  lingerMs?: number;
  /**
   * Largest produce request per partition, in uncompressed key + value bytes. kafkajs groups a
   * request's messages in O(n²), so bigger is not faster: 128 KiB measured best. @default 128 KiB
   */
  maxBatchBytes?: number;
  /** Positions accepted but not yet acknowledged; beyond it publish fails at once. @default 500_000 */
  maxQueued?: number;
  /** @default 'gzip' */
  compression?: 'gzip' | 'none';
  /** How long one batch is retried before its publish calls fail. @default 120_000 (ms) */
  deliveryTimeoutMs?: number;
  /** Default deadline of one publish call. @default deliveryTimeoutMs */
  publishTimeoutMs?: number;
  /** Backoff between attempts of a batch. @default { initialMs: 100, maxMs: 5000 } */
  retry?: BackoffOptions;
  /** Produce requests in flight per broker connection (kafkajs), 1..5. @default 1 */
  maxInFlightRequests?: number;
  /** How long the broker waits for the in-sync replicas before answering. @default 30_000 (ms) */
  ackTimeoutMs?: number;
  /** How often the topic's partition count is read again. @default 300_000 (ms) */
  metadataMaxAgeMs?: number;
}

export interface PublisherStats {
  sent: number;
  acked: number;
  retried: number;
  failed: number;
  /** Produce calls made (attempts included): how well publishes were coalesced. */
  requests: number;
  /** Accepted, not yet acknowledged or failed. */
  queued: number;
  state: PublisherState;
}

export type PublisherState = 'IDLE' | 'RUNNING' | 'DRAINING' | 'STOPPED';

/** The options with their defaults filled in. */
export function publisherSettings(o: PublisherSettingsOptions) {
  const deliveryTimeoutMs = o.deliveryTimeoutMs ?? 120_000;
  return {
    lingerMs: o.lingerMs ?? 5,
    maxBatchBytes: o.maxBatchBytes ?? 128 * 1024,
    maxQueued: o.maxQueued ?? 500_000,
    compression: o.compression ?? 'gzip',
    deliveryTimeoutMs,
    publishTimeoutMs: o.publishTimeoutMs ?? deliveryTimeoutMs,
    backoff: { initialMs: 100, maxMs: 5000, ...o.retry } satisfies BackoffOptions,
    ackTimeoutMs: o.ackTimeoutMs ?? 30_000,
  };
}

export type PublisherSettings = ReturnType<typeof publisherSettings>;
