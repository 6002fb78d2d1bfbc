import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * The process-wide metrics registry served at `/metrics`. Components take a `registry` option
 * (tests pass their own) and default to this one; metric names start with `fleet_`.
 */
export const defaultRegistry = new Registry();
collectDefaultMetrics({ register: defaultRegistry, prefix: 'fleet_process_' });

/** Latency buckets in seconds, from 1 ms to 30 s. */
export const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
