import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { latencyBuckets } from '../metrics.js';

/** Metrics of the query API, registered once per registry. */
export interface ApiMetrics {
  requestDuration: Histogram<'method' | 'route' | 'status'>;
  sseClients: Gauge;
  sseEvents: Counter;
  sseCoalesced: Counter;
  sseDropped: Counter;
  sseRejected: Counter;
}

function metric<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

export function apiMetrics(registry: Registry): ApiMetrics {
  const registers = [registry];
  return {
    requestDuration: metric(
      registry,
      'fleet_api_request_duration_seconds',
      () =>
        new Histogram({
          name: 'fleet_api_request_duration_seconds',
          help: 'Query API request latency by route and status.',
          labelNames: ['method', 'route', 'status'] as const,
          buckets: latencyBuckets,
          registers,
        }),
    ),
    sseClients: metric(
      registry,
      'fleet_api_sse_clients',
      () => new Gauge({ name: 'fleet_api_sse_clients', help: 'Open /v1/stream connections.', registers }),
    ),
    sseEvents: metric(
      registry,
      'fleet_api_sse_events_total',
      () =>
        new Counter({
          name: 'fleet_api_sse_events_total',
          help: 'Position events queued to SSE clients (one per client).',
          registers,
        }),
    ),
    sseCoalesced: metric(
      registry,
      'fleet_api_sse_coalesced_total',
      () =>
        new Counter({
          name: 'fleet_api_sse_coalesced_total',
          help: 'Updates replaced by a newer one of the same vehicle while a slow client caught up.',
          registers,
        }),
    ),
    sseDropped: metric(
      registry,
      'fleet_api_sse_dropped_total',
      () =>
        new Counter({
          name: 'fleet_api_sse_dropped_total',
          help: 'Updates dropped for slow clients with too many distinct vehicles pending.',
          registers,
        }),
    ),
    sseRejected: metric(
      registry,
      'fleet_api_sse_rejected_total',
      () =>
        new Counter({
          name: 'fleet_api_sse_rejected_total',
          help: 'Stream connections refused (503) at MAX_SSE_CLIENTS.',
          registers,
        }),
    ),
  };
}
