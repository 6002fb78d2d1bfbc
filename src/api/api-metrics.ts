import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { counter, gauge, histogram, latencyBuckets } from '../metrics.js';

/** Metrics of the query API, registered once per registry. */
export interface ApiMetrics {
  requestDuration: Histogram<'method' | 'route' | 'status'>;
  /** Label `stream`: `positions` (/v1/stream) or `events` (/v1/events/stream). */
  sseClients: Gauge<'stream'>;
  sseEvents: Counter<'stream'>;
  sseCoalesced: Counter<'stream'>;
  sseDropped: Counter<'stream'>;
  sseRejected: Counter<'stream'>;
}

const stream = ['stream'] as const;

export function apiMetrics(registry: Registry): ApiMetrics {
  return {
    requestDuration: histogram(registry, {
      name: 'fleet_api_request_duration_seconds',
      help: 'Query API request latency by route and status.',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: latencyBuckets,
    }),
    sseClients: gauge(registry, {
      name: 'fleet_api_sse_clients',
      help: 'Open live streams (/v1/stream, /v1/events/stream).',
      labelNames: stream,
    }),
    sseEvents: counter(registry, {
      name: 'fleet_api_sse_events_total',
      help: 'Positions or vehicle events queued to SSE clients (one per client).',
      labelNames: stream,
    }),
    sseCoalesced: counter(registry, {
      name: 'fleet_api_sse_coalesced_total',
      help: 'Updates replaced by a newer one of the same vehicle while a slow client caught up.',
      labelNames: stream,
    }),
    sseDropped: counter(registry, {
      name: 'fleet_api_sse_dropped_total',
      help: 'Updates dropped for slow clients with too many distinct vehicles pending.',
      labelNames: stream,
    }),
    sseRejected: counter(registry, {
      name: 'fleet_api_sse_rejected_total',
      help: 'Stream connections refused (503) at MAX_SSE_CLIENTS.',
      labelNames: stream,
    }),
  };
}
