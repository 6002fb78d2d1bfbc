import type { Counter, Histogram, Registry } from 'prom-client';
import { counter, histogram, latencyBuckets } from '../metrics.js';

export interface StateMetrics {
  records: Counter<'outcome'>;
  upsertSeconds: Histogram;
  readSeconds: Histogram<'op'>;
}

/** The table's metrics in `registry`, shared by every table using that registry. */
export function stateMetrics(registry: Registry): StateMetrics {
  return {
    records: counter(registry, {
      name: 'fleet_state_records_total',
      help: 'Records offered to the latest-state table, by outcome (applied, or ignored as not newer).',
      labelNames: ['outcome'],
    }),
    upsertSeconds: histogram(registry, {
      name: 'fleet_state_upsert_seconds',
      help: 'Time to apply one batch to the latest-state table.',
      buckets: latencyBuckets,
    }),
    readSeconds: histogram(registry, {
      name: 'fleet_state_read_seconds',
      help: 'Latest-state table read latency, by operation.',
      labelNames: ['op'],
      buckets: latencyBuckets,
    }),
  };
}
