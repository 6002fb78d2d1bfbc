import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
  type CounterConfiguration,
  type GaugeConfiguration,
  type HistogramConfiguration,
} from 'prom-client';

/**
 * The process-wide metrics registry served at `/metrics`. Components take a `registry` option
 * (tests pass their own) and default to this one; metric names start with `fleet_`.
 */
export const defaultRegistry = new Registry();
collectDefaultMetrics({ register: defaultRegistry, prefix: 'fleet_process_' });

/** Latency buckets in seconds, from 1 ms to 30 s. */
export const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

type Named = { name: string };

function once<T>(registry: Registry, spec: Named, create: () => T): T {
  return (registry.getSingleMetric(spec.name) as T | undefined) ?? create();
}

/**
 * Get-or-create helpers: a metric is registered once per registry, and every component instance
 * using that registry (two tables, several publishers) shares it.
 */
export function counter<L extends string = string>(
  registry: Registry,
  spec: CounterConfiguration<L>,
): Counter<L> {
  return once(registry, spec, () => new Counter<L>({ ...spec, registers: [registry] }));
}

export function gauge<L extends string = string>(registry: Registry, spec: GaugeConfiguration<L>): Gauge<L> {
  return once(registry, spec, () => new Gauge<L>({ ...spec, registers: [registry] }));
}

export function histogram<L extends string = string>(
  registry: Registry,
  spec: HistogramConfiguration<L>,
): Histogram<L> {
  return once(registry, spec, () => new Histogram<L>({ ...spec, registers: [registry] }));
}
