import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { counter, gauge, histogram, latencyBuckets } from '../metrics.js';

export interface ReplicaMetrics {
  ready: Gauge;
  vehicles: Gauge;
  feedDelaySeconds: Histogram;
  losses: Counter;
  reads: Counter<'source'>;
}

/** The in-memory replica's metrics (`replicated-state-table.ts`). */
export function replicaMetrics(registry: Registry): ReplicaMetrics {
  return {
    ready: gauge(registry, {
      name: 'fleet_state_replica_ready',
      help: '1 while reads by id are answered from the in-memory replica, 0 while they go to Redis.',
    }),
    vehicles: gauge(registry, {
      name: 'fleet_state_replica_vehicles',
      help: 'Vehicles held by the in-memory replica.',
    }),
    feedDelaySeconds: histogram(registry, {
      name: 'fleet_state_replica_feed_delay_seconds',
      help: 'Time from the processor stamping a state (updatedAt, just before its upsert) to the replica applying it from the change feed: an upper bound of the feed delay (includes the upsert itself; assumes synchronised clocks across hosts).',
      buckets: latencyBuckets,
    }),
    losses: counter(registry, {
      name: 'fleet_state_replica_feed_losses_total',
      help: 'Times the change feed may have lost messages (connection closed, shard subscriber replaced), each followed by a resync.',
    }),
    reads: counter(registry, {
      name: 'fleet_state_replica_reads_total',
      help: 'Reads by id, by where they were answered (replica, or redis while the replica is not ready or misses).',
      labelNames: ['source'],
    }),
  };
}
