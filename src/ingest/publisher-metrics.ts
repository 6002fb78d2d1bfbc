import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { counter, gauge, histogram, latencyBuckets } from '../metrics.js';

/** Prometheus side of the publisher's counters; shared by every publisher on one registry. */
export interface PublisherMetrics {
  sent: Counter;
  acked: Counter;
  retried: Counter;
  failed: Counter;
  queued: Gauge;
  ackLatency: Histogram;
}

export function publisherMetrics(registry: Registry): PublisherMetrics {
  return {
    sent: counter(registry, {
      name: 'fleet_producer_sent_total',
      help: 'Positions handed to Kafka (first attempt).',
    }),
    acked: counter(registry, {
      name: 'fleet_producer_acked_total',
      help: 'Positions acknowledged by Kafka (acks=all).',
    }),
    retried: counter(registry, {
      name: 'fleet_producer_retried_total',
      help: 'Positions sent again after a failed produce request.',
    }),
    failed: counter(registry, {
      name: 'fleet_producer_failed_total',
      help: 'Positions whose publish call failed (not acknowledged in time, buffer full, closed).',
    }),
    queued: gauge(registry, {
      name: 'fleet_producer_queued',
      help: 'Positions waiting in the publisher (not yet acknowledged).',
    }),
    ackLatency: histogram(registry, {
      name: 'fleet_producer_ack_latency_seconds',
      help: 'Time from publish() to the acknowledgement of its last position.',
      buckets: latencyBuckets,
    }),
  };
}
