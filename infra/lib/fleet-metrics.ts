import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { type MetricSpec, Metrics, NAMESPACE, type ServiceName } from './metric-names.js';

const MINUTE = Duration.minutes(1);

/** The application's EMF metrics, the ECS and the MSK metrics the dashboard, alarms and scaling read. */
export class FleetMetrics {
  constructor(
    private readonly topic: string,
    private readonly partitions: number,
    private readonly clusterName: string,
  ) {}

  app(spec: MetricSpec, service: ServiceName, label?: string): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: NAMESPACE,
      metricName: spec.name,
      dimensionsMap: { Service: service, Topic: this.topic },
      statistic: spec.statistic,
      period: MINUTE,
      // A label turns an alarm's metric into a metric-math query: only graphs get one.
      ...(label ? { label } : {}),
    });
  }

  /** One ConsumerLag series per partition, keyed p0, p1, ... for metric math. */
  partitionLag(): Record<string, cloudwatch.Metric> {
    const spec = Metrics.consumerLag;
    return Object.fromEntries(
      Array.from({ length: this.partitions }, (_, p) => [
        `p${p}`,
        new cloudwatch.Metric({
          namespace: NAMESPACE,
          metricName: spec.name,
          dimensionsMap: { Service: 'processor', Topic: this.topic, Partition: String(p) },
          statistic: spec.statistic,
          period: MINUTE,
          label: `partition ${p}`,
        }),
      ]),
    );
  }

  /** Sum of the partitions' lag (records the group has not committed yet). */
  totalLag(): cloudwatch.MathExpression {
    const lag = this.partitionLag();
    return new cloudwatch.MathExpression({
      expression: Object.keys(lag).join(' + '),
      usingMetrics: lag,
      label: 'total consumer lag',
      period: MINUTE,
    });
  }

  /** Container Insights' running-task count of an ECS service. */
  runningTasks(serviceName: string, label?: string): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'ECS/ContainerInsights',
      metricName: 'RunningTaskCount',
      dimensionsMap: { ClusterName: this.clusterName, ServiceName: serviceName },
      statistic: 'Minimum',
      period: MINUTE,
      ...(label ? { label } : {}),
    });
  }

  /** A per-interval count as a per-second rate; `id` must be unique within one graph (a-z, 0-9). */
  perSecond(metric: cloudwatch.Metric, id: string, label: string): cloudwatch.MathExpression {
    return new cloudwatch.MathExpression({
      expression: `${id} / PERIOD(${id})`,
      usingMetrics: { [id]: metric },
      label,
      period: MINUTE,
    });
  }
}
