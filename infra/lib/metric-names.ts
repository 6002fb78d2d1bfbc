/**
 * The CloudWatch metrics contract between the application (Embedded Metric Format lines on stdout,
 * METRICS_EMF=true) and this app's dashboard, alarms and scaling policy. docs/deploy-aws.md and
 * infra/README.md list the same table; a rename here must be a rename in the app's EMF emitter.
 *
 * Every metric is in namespace `FleetTracker` with the dimension set {Service, Topic} (Service is one of
 * `ServiceName`, Topic the position topic, e.g. `vehicle_positions`); ConsumerLag has {Service, Topic,
 * Partition}. Values are per 60 s emission interval.
 */
export const NAMESPACE = 'FleetTracker';

export const ServiceName = {
  gateway: 'gateway',
  api: 'api',
  processor: 'processor',
  simulator: 'simulator',
} as const;
export type ServiceName = (typeof ServiceName)[keyof typeof ServiceName];

export interface MetricSpec {
  readonly name: string;
  readonly unit: 'Count' | 'Milliseconds';
  /** Statistic the dashboard, alarms and scaling read it with. */
  readonly statistic: 'Sum' | 'Maximum' | 'Average';
  readonly emittedBy: readonly ServiceName[];
  readonly meaning: string;
}

export const Metrics = {
  positionsIn: {
    name: 'PositionsIn',
    unit: 'Count',
    statistic: 'Sum',
    emittedBy: ['gateway', 'simulator'],
    meaning: 'positions acknowledged by Kafka in the interval',
  },
  recordsProcessed: {
    name: 'RecordsProcessed',
    unit: 'Count',
    statistic: 'Sum',
    emittedBy: ['processor'],
    meaning: 'records the processor consumed and handled in the interval',
  },
  consumerLag: {
    name: 'ConsumerLag',
    unit: 'Count',
    statistic: 'Maximum',
    emittedBy: ['processor'],
    meaning: 'high watermark minus committed offset of the group, per partition (extra dimension Partition)',
  },
  eventToRedisLatencyP99: {
    name: 'EventToRedisLatencyP99',
    unit: 'Milliseconds',
    statistic: 'Maximum',
    emittedBy: ['processor'],
    meaning: 'p99 of position timestamp → applied in Redis over the interval',
  },
  warehouseFlushDuration: {
    name: 'WarehouseFlushDuration',
    unit: 'Milliseconds',
    statistic: 'Maximum',
    emittedBy: ['processor'],
    meaning: 'longest warehouse micro-batch write in the interval',
  },
  deadLetters: {
    name: 'DeadLetters',
    unit: 'Count',
    statistic: 'Sum',
    emittedBy: ['processor'],
    meaning: 'records written to the dead-letter topic in the interval',
  },
  apiLatencyP99: {
    name: 'ApiLatencyP99',
    unit: 'Milliseconds',
    statistic: 'Maximum',
    emittedBy: ['api'],
    meaning: 'p99 of API request duration over the interval',
  },
  api5xx: {
    name: 'Api5xx',
    unit: 'Count',
    statistic: 'Sum',
    emittedBy: ['api'],
    meaning: 'API responses with status >= 500 in the interval',
  },
} as const satisfies Record<string, MetricSpec>;
