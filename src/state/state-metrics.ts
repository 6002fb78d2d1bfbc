import { Counter, Histogram, type Registry } from 'prom-client';
import { latencyBuckets } from '../metrics.js';

export interface StateMetrics {
  records: Counter<'outcome'>;
  upsertSeconds: Histogram;
  readSeconds: Histogram<'op'>;
}

/** The table's metrics in `registry`, shared by every table using that registry. */
export function stateMetrics(registry: Registry): StateMetrics {
  const existing = <T>(name: string) => registry.getSingleMetric(name) as T | undefined;
  return {
    records:
      existing<Counter<'outcome'>>('fleet_state_records_total') ??
      new Counter({
        name: 'fleet_state_records_total',
        help: 'Records offered to the latest-state table, by outcome (applied, or ignored as not newer).',
        labelNames: ['outcome'],
        registers: [registry],
      }),
    upsertSeconds:
      existing<Histogram>('fleet_state_upsert_seconds') ??
      new Histogram({
        name: 'fleet_state_upsert_seconds',
        help: 'Time to apply one batch to the latest-state table.',
        buckets: latencyBuckets,
        registers: [registry],
      }),
    readSeconds:
      existing<Histogram<'op'>>('fleet_state_read_seconds') ??
      new Histogram({
        name: 'fleet_state_read_seconds',
        help: 'Latest-state table read latency, by operation.',
        labelNames: ['op'],
        buckets: latencyBuckets,
        registers: [registry],
      }),
  };
}
