import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { FleetMetrics } from './fleet-metrics.js';
import { Metrics } from './metric-names.js';
import type { Settings } from './settings.js';

export interface FleetAlarmsProps {
  readonly settings: Settings;
  readonly metrics: FleetMetrics;
  readonly processorServiceName: string;
  readonly apiTargetGroup: elbv2.ApplicationTargetGroup;
  readonly mskClusterName: string;
}

/**
 * The alarms an operator is paged for, all to one SNS topic (encrypted with a key CloudWatch may use):
 * lag above the threshold for 5 minutes, any dead letter, no processor task running, API 5xx answers,
 * a broker's data disk above 80 %.
 */
export class FleetAlarms extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  private readonly prefix: string;

  constructor(scope: Construct, id: string, props: FleetAlarmsProps) {
    super(scope, id);
    const { settings, metrics } = props;
    this.prefix = `fleet-${settings.envName}`;
    const key = new kms.Key(this, 'TopicKey', {
      description: 'fleet-tracker alarm topic',
      enableKeyRotation: true,
    });
    key.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: `fleet-tracker ${settings.envName} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    if (settings.alarmEmail)
      this.topic.addSubscription(new subscriptions.EmailSubscription(settings.alarmEmail));

    this.add('ConsumerLag', {
      metric: metrics.totalLag(),
      threshold: settings.lagAlarmThreshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
      treatMissingData: cloudwatch.TreatMissingData.MISSING,
      alarmDescription: `Consumer lag above ${settings.lagAlarmThreshold} records for 5 minutes`,
    });
    this.add('DeadLetters', {
      metric: metrics.app(Metrics.deadLetters, 'processor'),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: 'A record went to the dead-letter topic',
    });
    this.add('ProcessorNotRunning', {
      metric: metrics.runningTasks(props.processorServiceName),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 2,
      // No data from Container Insights means no task reported: as bad as zero.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      alarmDescription: 'No processor task running for 2 minutes',
    });
    this.add('Api5xx', {
      metric: props.apiTargetGroup.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, {
        period: Duration.minutes(5),
        statistic: 'Sum',
      }),
      threshold: settings.api5xxThreshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `At least ${settings.api5xxThreshold} API 5xx answers in 5 minutes`,
    });
    for (let broker = 1; broker <= settings.brokerCount; broker++) {
      this.add(`MskDiskBroker${broker}`, {
        metric: new cloudwatch.Metric({
          namespace: 'AWS/Kafka',
          metricName: 'KafkaDataLogsDiskUsed',
          dimensionsMap: { 'Cluster Name': props.mskClusterName, 'Broker ID': String(broker) },
          statistic: 'Maximum',
          period: Duration.minutes(5),
        }),
        threshold: 80,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 2,
        treatMissingData: cloudwatch.TreatMissingData.MISSING,
        alarmDescription: `MSK broker ${broker} data disk above 80 %`,
      });
    }
  }

  private add(id: string, props: cloudwatch.AlarmProps): void {
    const alarm = new cloudwatch.Alarm(this, id, { ...props, alarmName: `${this.prefix}-${id}` });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    alarm.addOkAction(new actions.SnsAction(this.topic));
    this.alarms.push(alarm);
  }
}
