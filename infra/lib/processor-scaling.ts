import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';
import type { FleetMetrics } from './fleet-metrics.js';
import type { Settings } from './settings.js';

/** Seconds between scale-ins: a rebalance (revoke, rejoin, resume) must settle before the next. */
export const SCALE_IN_COOLDOWN_S = 300;
export const SCALE_OUT_COOLDOWN_S = 120;

export interface ProcessorScalingProps {
  readonly settings: Settings;
  readonly metrics: FleetMetrics;
  readonly clusterName: string;
  readonly service: ecs.FargateService;
  readonly serviceName: string;
}

/**
 * Target tracking on backlog per task: (sum of the partitions' consumer lag) / running tasks, kept
 * near `lagTargetPerTask`. 1 to `partitions` tasks (more consumers than partitions would sit idle).
 * Written with the L1 policy because the metric is a metric-math expression, which the L2
 * `scaleToTrackCustomMetric` cannot express.
 */
export class ProcessorScaling extends Construct {
  readonly target: appscaling.ScalableTarget;
  readonly policy: appscaling.CfnScalingPolicy;

  constructor(scope: Construct, id: string, props: ProcessorScalingProps) {
    super(scope, id);
    const { settings, metrics } = props;
    this.target = new appscaling.ScalableTarget(this, 'Target', {
      serviceNamespace: appscaling.ServiceNamespace.ECS,
      resourceId: `service/${props.clusterName}/${props.serviceName}`,
      scalableDimension: 'ecs:service:DesiredCount',
      minCapacity: 1,
      maxCapacity: settings.partitions,
    });
    this.target.node.addDependency(props.service);

    const stat = (id: string, metric: cloudwatch.Metric) => {
      const config = metric.toMetricConfig().metricStat!;
      return {
        id,
        returnData: false,
        metricStat: {
          stat: config.statistic,
          metric: {
            namespace: config.namespace,
            metricName: config.metricName,
            dimensions: (config.dimensions ?? []).map((d) => ({ name: d.name, value: String(d.value) })),
          },
        },
      };
    };
    const lag = metrics.partitionLag();
    const queries = [
      ...Object.entries(lag).map(([key, metric]) => stat(key, metric)),
      stat('tasks', metrics.runningTasks(props.serviceName)),
      {
        id: 'backlogPerTask',
        label: 'consumer lag per running processor task',
        // Never divide by zero: with no task reported, the whole backlog is one task's.
        expression: `(${Object.keys(lag).join(' + ')}) / IF(tasks < 1, 1, tasks)`,
        returnData: true,
      },
    ];
    this.policy = new appscaling.CfnScalingPolicy(this, 'LagPolicy', {
      policyName: `fleet-${settings.envName}-processor-backlog-per-task`,
      policyType: 'TargetTrackingScaling',
      scalingTargetId: this.target.scalableTargetId,
      targetTrackingScalingPolicyConfiguration: {
        targetValue: settings.lagTargetPerTask,
        scaleInCooldown: SCALE_IN_COOLDOWN_S,
        scaleOutCooldown: SCALE_OUT_COOLDOWN_S,
        customizedMetricSpecification: { metrics: queries },
      },
    });
  }
}
