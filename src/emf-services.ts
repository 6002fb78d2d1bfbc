import type { Registry } from 'prom-client';
import { EmfCollector, startEmfReporter, type EmfMetric } from './emf.js';
import { errorMessage } from './errors.js';
import type { Logger } from './logger.js';

/** The CloudWatch namespace of every fleet-tracker metric. */
export const EMF_NAMESPACE = 'FleetTracker';

/** The services that emit EMF, as named in the `Service` dimension. */
export type EmfService = 'gateway' | 'api' | 'processor' | 'simulator';

const positionsIn: EmfMetric = {
  name: 'PositionsIn',
  unit: 'Count',
  source: { kind: 'increase', metric: 'fleet_producer_acked_total' },
};

/**
 * What each service emits: the contract of infra/lib/metric-names.ts (the dashboard, alarms and
 * lag scaling read exactly these names), computed from our Prometheus metrics.
 */
export const emfMetrics: Record<EmfService, readonly EmfMetric[]> = {
  gateway: [positionsIn],
  simulator: [positionsIn],
  processor: [
    {
      name: 'RecordsProcessed',
      unit: 'Count',
      source: { kind: 'increase', metric: 'fleet_processor_records_in_total' },
    },
    {
      name: 'DeadLetters',
      unit: 'Count',
      source: { kind: 'increase', metric: 'fleet_processor_dead_lettered_total' },
    },
    {
      name: 'EventToRedisLatencyP99',
      unit: 'Milliseconds',
      source: { kind: 'quantileMs', metric: 'fleet_processor_event_to_visible_seconds', q: 0.99 },
    },
    {
      name: 'WarehouseFlushDuration',
      unit: 'Milliseconds',
      source: {
        kind: 'quantileMs',
        metric: 'fleet_processor_flush_duration_seconds',
        q: 1,
        where: (labels) => labels.sink === 'warehouse',
      },
    },
    {
      name: 'ConsumerLag',
      unit: 'Count',
      source: {
        kind: 'gaugeBy',
        metric: 'fleet_processor_group_lag',
        label: 'partition',
        dimension: 'Partition',
      },
    },
  ],
  api: [
    {
      name: 'ApiLatencyP99',
      unit: 'Milliseconds',
      source: { kind: 'quantileMs', metric: 'fleet_api_request_duration_seconds', q: 0.99 },
    },
    {
      name: 'Api5xx',
      unit: 'Count',
      source: {
        kind: 'increase',
        metric: 'fleet_api_request_duration_seconds',
        series: 'fleet_api_request_duration_seconds_count',
        where: (labels) => String(labels.status).startsWith('5'),
      },
    },
  ],
};

/** METRICS_EMF, METRICS_EMF_INTERVAL_MS and the topic of the Topic dimension. */
export interface EmfSettings {
  enabled: boolean;
  intervalMs: number;
  topic: string;
}

/**
 * Starts the EMF lines of `service` when enabled (METRICS_EMF), dimensions Service and Topic;
 * null when off. Lines go to stdout, where the awslogs driver picks them up.
 */
export function startServiceEmf(
  service: EmfService,
  options: EmfSettings & { registry: Registry; logger: Logger; write?: (line: string) => void },
): { stop(): Promise<void> } | null {
  if (!options.enabled) return null;
  const collector = new EmfCollector(
    options.registry,
    EMF_NAMESPACE,
    { Service: service, Topic: options.topic },
    emfMetrics[service],
  );
  return startEmfReporter(collector, {
    intervalMs: options.intervalMs,
    write: options.write ?? ((line) => process.stdout.write(line)),
    onError: (err) => options.logger.warn({ err: errorMessage(err) }, 'EMF metrics collection failed'),
  });
}
