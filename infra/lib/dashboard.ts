import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import type { FleetMetrics } from './fleet-metrics.js';
import { Metrics } from './metric-names.js';
import type { Settings } from './settings.js';

export interface FleetDashboardProps {
  readonly settings: Settings;
  readonly metrics: FleetMetrics;
  readonly serviceNames: Record<'gateway' | 'api' | 'processor' | 'simulator', string>;
  readonly apiTargetGroup: elbv2.ApplicationTargetGroup;
  readonly redisNodeIds: readonly string[];
  readonly mskClusterName: string;
}

const WIDE = 12;
const HEIGHT = 6;

/** One dashboard: the data path left to right (in, processed, lag, latency, warehouse, DLQ), then API, Redis, MSK. */
export class FleetDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: FleetDashboardProps) {
    super(scope, id);
    const { metrics, settings } = props;
    const graph = (
      title: string,
      left: cloudwatch.IMetric[],
      unit?: string,
      right: cloudwatch.IMetric[] = [],
    ) =>
      new cloudwatch.GraphWidget({
        title,
        left,
        right,
        width: WIDE,
        height: HEIGHT,
        ...(unit ? { leftYAxis: { label: unit, showUnits: false, min: 0 } } : {}),
      });
    const lag = metrics.partitionLag();
    const node = (metricName: string, nodeId: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/ElastiCache',
        metricName,
        dimensionsMap: { CacheClusterId: nodeId },
        statistic: 'Maximum',
        period: Duration.minutes(1),
        label: `${metricName} ${nodeId}`,
      });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `fleet-tracker-${settings.envName}`,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      graph('Positions in (per second)', [
        metrics.perSecond(metrics.app(Metrics.positionsIn, 'gateway'), 'gw', 'gateway'),
        metrics.perSecond(metrics.app(Metrics.positionsIn, 'simulator'), 'sim', 'simulator'),
      ]),
      graph(
        'Processor records (per second) and running tasks',
        [metrics.perSecond(metrics.app(Metrics.recordsProcessed, 'processor'), 'rec', 'records/s')],
        undefined,
        [metrics.runningTasks(props.serviceNames.processor, 'processor tasks')],
      ),
    );
    this.dashboard.addWidgets(
      graph('Consumer lag per partition (records)', [...Object.values(lag), metrics.totalLag()], 'records'),
      graph(
        'Event → Redis latency p99 (ms)',
        [metrics.app(Metrics.eventToRedisLatencyP99, 'processor', 'p99 (ms)')],
        'ms',
      ),
    );
    this.dashboard.addWidgets(
      graph(
        'Warehouse flush duration (ms, max per minute)',
        [metrics.app(Metrics.warehouseFlushDuration, 'processor', 'max flush (ms)')],
        'ms',
      ),
      graph(
        'Dead letters (per minute)',
        [metrics.app(Metrics.deadLetters, 'processor', 'dead letters')],
        'records',
      ),
    );
    const tg = props.apiTargetGroup.metrics;
    this.dashboard.addWidgets(
      graph(
        'API latency p99 (ms) and 5xx',
        [
          metrics.app(Metrics.apiLatencyP99, 'api', 'app p99 (ms)'),
          tg.targetResponseTime({ statistic: 'p99', period: Duration.minutes(1), label: 'ALB p99 (s)' }),
        ],
        undefined,
        [
          metrics.app(Metrics.api5xx, 'api', 'app 5xx'),
          tg.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, {
            period: Duration.minutes(1),
            label: 'ALB target 5xx',
          }),
        ],
      ),
      graph(
        'Redis CPU and memory (%)',
        props.redisNodeIds.flatMap((id) => [
          node('EngineCPUUtilization', id),
          node('DatabaseMemoryUsagePercentage', id),
        ]),
        '%',
      ),
    );
    this.dashboard.addWidgets(
      graph(
        'MSK data disk used (%)',
        Array.from(
          { length: settings.brokerCount },
          (_, i) =>
            new cloudwatch.Metric({
              namespace: 'AWS/Kafka',
              metricName: 'KafkaDataLogsDiskUsed',
              dimensionsMap: { 'Cluster Name': props.mskClusterName, 'Broker ID': String(i + 1) },
              statistic: 'Maximum',
              period: Duration.minutes(5),
              label: `broker ${i + 1}`,
            }),
        ),
        '%',
      ),
      graph(
        'Running tasks per service',
        Object.entries(props.serviceNames).map(([name, serviceName]) =>
          metrics.runningTasks(serviceName, name),
        ),
      ),
    );
  }
}
