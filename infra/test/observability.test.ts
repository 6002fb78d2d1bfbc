import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Metrics } from '../lib/metric-names.js';
import { refOf, synth, type Synthesized } from './support/synth.js';

let s: Synthesized;
beforeAll(() => {
  s = synth();
});

interface AlarmProps {
  AlarmName: string;
  MetricName?: string;
  Namespace?: string;
  Threshold: number;
  ComparisonOperator: string;
  EvaluationPeriods: number;
  Metrics?: { Id: string; Expression?: string; MetricStat?: { Metric: { MetricName: string } } }[];
  AlarmActions: unknown[];
}

function alarm(name: string): AlarmProps {
  const found = Object.values(s.resources('AWS::CloudWatch::Alarm')).find(
    (a) => a.Properties.AlarmName === `fleet-prod-${name}`,
  );
  if (!found) throw new Error(`no alarm ${name}`);
  return found.Properties as unknown as AlarmProps;
}

describe('alarms', () => {
  it('pages the SNS topic from every alarm', () => {
    const [topic] = Object.keys(s.resources('AWS::SNS::Topic'));
    const alarms = Object.values(s.resources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(4 + 3);
    for (const a of alarms) expect((a.Properties.AlarmActions as unknown[]).map(refOf)).toEqual([topic]);
  });

  it('alarms when the summed partition lag stays above the threshold for 5 minutes', () => {
    const lag = alarm('ConsumerLag');
    expect(lag).toMatchObject({ Threshold: 100000, EvaluationPeriods: 5, DatapointsToAlarm: 5 });
    expect(lag.ComparisonOperator).toBe('GreaterThanThreshold');
    expect(lag.Metrics!.find((m) => m.Expression)!.Expression).toBe('p0 + p1 + p2');
    expect(lag.Metrics!.filter((m) => m.MetricStat?.Metric.MetricName === 'ConsumerLag')).toHaveLength(3);
  });

  it('alarms on any dead letter, no running processor, API 5xx and MSK disk above 80 %', () => {
    expect(alarm('DeadLetters')).toMatchObject({ MetricName: 'DeadLetters', Threshold: 0 });
    expect(alarm('DeadLetters').ComparisonOperator).toBe('GreaterThanThreshold');
    expect(alarm('ProcessorNotRunning')).toMatchObject({
      Namespace: 'ECS/ContainerInsights',
      MetricName: 'RunningTaskCount',
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
    expect(alarm('Api5xx')).toMatchObject({ MetricName: 'HTTPCode_Target_5XX_Count', Threshold: 5 });
    for (const broker of [1, 2, 3])
      expect(alarm(`MskDiskBroker${broker}`)).toMatchObject({
        Namespace: 'AWS/Kafka',
        MetricName: 'KafkaDataLogsDiskUsed',
        Threshold: 80,
        ComparisonOperator: 'GreaterThanThreshold',
      });
  });
});

describe('processor autoscaling', () => {
  it('tracks consumer lag per running task between 1 and the partition count, slow to scale in', () => {
    s.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 1,
      MaxCapacity: 3,
      ResourceId: 'service/fleet-prod/fleet-prod-processor',
    });
    const [policy] = Object.values(s.resources('AWS::ApplicationAutoScaling::ScalingPolicy')).filter(
      (p) => p.Properties.PolicyName === 'fleet-prod-processor-backlog-per-task',
    );
    const config = policy!.Properties.TargetTrackingScalingPolicyConfiguration as {
      TargetValue: number;
      ScaleInCooldown: number;
      CustomizedMetricSpecification: { Metrics: { Id: string; Expression?: string; ReturnData: boolean }[] };
    };
    expect(policy!.Properties.PolicyType).toBe('TargetTrackingScaling');
    expect(config.TargetValue).toBe(20000);
    expect(config.ScaleInCooldown).toBe(300);
    const queries = config.CustomizedMetricSpecification.Metrics;
    expect(queries.filter((q) => q.ReturnData).map((q) => q.Expression)).toEqual([
      '(p0 + p1 + p2) / IF(tasks < 1, 1, tasks)',
    ]);
    expect(JSON.stringify(queries)).toContain('RunningTaskCount');
  });
});

describe('dashboard and logs', () => {
  it('graphs every application metric, Redis, MSK disk and the API', () => {
    const [dashboard] = Object.values(s.resources('AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard!.Properties.DashboardBody);
    for (const spec of Object.values(Metrics)) expect(body).toContain(spec.name);
    for (const name of ['EngineCPUUtilization', 'DatabaseMemoryUsagePercentage', 'KafkaDataLogsDiskUsed'])
      expect(body).toContain(name);
  });

  it('keeps every log group for a bounded time', () => {
    for (const group of Object.values(s.resources('AWS::Logs::LogGroup')))
      expect(group.Properties.RetentionInDays).toBe(30);
  });

  it('documents exactly the metric names the dashboard, alarms and scaling read', () => {
    for (const doc of ['../docs/deploy-aws.md', 'README.md']) {
      const text = readFileSync(new URL(`../${doc}`, import.meta.url), 'utf8');
      const documented = [...text.matchAll(/^\| `([A-Za-z0-9]+)` +\| (Count|Milliseconds) +\|/gm)].map(
        (m) => m[1],
      );
      expect(documented, doc).toEqual(Object.values(Metrics).map((m) => m.name));
    }
  });
});
