import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { latencyBuckets } from '../metrics.js';

/** Prometheus side of the publisher's counters; shared by every publisher on one registry. */
export interface PublisherMetrics {
  sent: Counter;
  acked: Counter;
  retried: Counter;
  failed: Counter;
  queued: Gauge;
  ackLatency: Histogram;
}

function getOrCreate<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

export function publisherMetrics(registry: Registry): PublisherMetrics {
  const registers = [registry];
  return {
    sent: getOrCreate(
      registry,
      'fleet_producer_sent_total',
      () =>
        new Counter({
          name: 'fleet_producer_sent_total',
          help: 'Positions handed to Kafka (first attempt).',
          registers,
        }),
    ),
    acked: getOrCreate(
      registry,
      'fleet_producer_acked_total',
      () =>
        new Counter({
          name: 'fleet_producer_acked_total',
          help: 'Positions acknowledged by Kafka (acks=all).',
          registers,
        }),
    ),
    retried: getOrCreate(
      registry,
      'fleet_producer_retried_total',
      () =>
        new Counter({
          name: 'fleet_producer_retried_total',
          help: 'Positions sent again after a failed produce request.',
          registers,
        }),
    ),
    failed: getOrCreate(
      registry,
      'fleet_producer_failed_total',
      () =>
        new Counter({
          name: 'fleet_producer_failed_total',
          help: 'Positions whose publish call failed (not acknowledged in time, buffer full, closed).',
          registers,
        }),
    ),
    queued: getOrCreate(
      registry,
      'fleet_producer_queued',
      () =>
        new Gauge({
          name: 'fleet_producer_queued',
          help: 'Positions waiting in the publisher (not yet acknowledged).',
          registers,
        }),
    ),
    ackLatency: getOrCreate(
      registry,
      'fleet_producer_ack_latency_seconds',
      () =>
        new Histogram({
          name: 'fleet_producer_ack_latency_seconds',
          help: 'Time from publish() to the acknowledgement of its last position.',
          buckets: latencyBuckets,
          registers,
        }),
    ),
  };
}
