import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { refOf, synth, type Synthesized } from './support/synth.js';

let s: Synthesized;
beforeAll(() => {
  s = synth();
});

interface IngressRule {
  CidrIp?: string;
  CidrIpv6?: string;
  FromPort?: number;
  ToPort?: number;
  SourceSecurityGroupId?: unknown;
  GroupId?: unknown;
}

/** Every ingress rule of the template, inline or standalone, with the group it belongs to. */
function ingressRules(): { group: string; rule: IngressRule }[] {
  const rules: { group: string; rule: IngressRule }[] = [];
  for (const [id, sg] of Object.entries(s.resources('AWS::EC2::SecurityGroup')))
    for (const rule of (sg.Properties.SecurityGroupIngress as IngressRule[] | undefined) ?? [])
      rules.push({ group: id, rule });
  for (const ingress of Object.values(s.resources('AWS::EC2::SecurityGroupIngress'))) {
    const rule = ingress.Properties as IngressRule;
    rules.push({ group: refOf(rule.GroupId) ?? '?', rule });
  }
  return rules;
}

const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
  s.runtime.getLogicalId(construct.node.defaultChild as never);

describe('MSK', () => {
  it('runs 3 kafka.t3.small brokers with 100 GB each on a supported Kafka version', () => {
    s.template.hasResourceProperties('AWS::MSK::Cluster', {
      NumberOfBrokerNodes: 3,
      KafkaVersion: '3.6.0',
      BrokerNodeGroupInfo: {
        InstanceType: 'kafka.t3.small',
        StorageInfo: { EBSStorageInfo: { VolumeSize: 100 } },
      },
    });
  });

  it('speaks TLS only, encrypts at rest with our key and authenticates clients with IAM', () => {
    s.template.hasResourceProperties('AWS::MSK::Cluster', {
      EncryptionInfo: {
        EncryptionInTransit: { ClientBroker: 'TLS', InCluster: true },
        EncryptionAtRest: {
          DataVolumeKMSKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('DataKey'), 'Arn'] },
        },
      },
      ClientAuthentication: {
        Sasl: { Iam: { Enabled: true }, Scram: { Enabled: false } },
        Unauthenticated: { Enabled: false },
      },
    });
  });

  it('publishes per-partition metrics (consumer lag) and sends broker logs to CloudWatch', () => {
    s.template.hasResourceProperties('AWS::MSK::Cluster', {
      EnhancedMonitoring: 'PER_TOPIC_PER_PARTITION',
      LoggingInfo: { BrokerLogs: { CloudWatchLogs: { Enabled: true } } },
    });
  });

  it('never auto-creates topics and sets the replication defaults', () => {
    const [config] = Object.values(s.resources('AWS::MSK::Configuration'));
    const properties = String(config!.Properties.ServerProperties).split('\n');
    expect(properties).toEqual(
      expect.arrayContaining([
        'auto.create.topics.enable=false',
        'default.replication.factor=3',
        'min.insync.replicas=2',
      ]),
    );
  });

  it('places the brokers in isolated subnets of 3 AZs', () => {
    const [cluster] = Object.values(s.resources('AWS::MSK::Cluster'));
    const subnets = (cluster!.Properties.BrokerNodeGroupInfo as { ClientSubnets: unknown[] }).ClientSubnets;
    const all = s.resources('AWS::EC2::Subnet');
    const zones = subnets.map((ref) => all[refOf(ref)!]!.Properties.AvailabilityZone);
    expect(new Set(zones)).toEqual(new Set(['eu-west-1a', 'eu-west-1b', 'eu-west-1c']));
    for (const ref of subnets) expect(all[refOf(ref)!]!.Properties.MapPublicIpOnLaunch).toBe(false);
  });
});

describe('ElastiCache', () => {
  it('is Multi-AZ with automatic failover, TLS, encryption at rest and an AUTH token from Secrets Manager', () => {
    s.template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      NumCacheClusters: 2,
      MultiAZEnabled: true,
      AutomaticFailoverEnabled: true,
      TransitEncryptionEnabled: true,
      AtRestEncryptionEnabled: true,
      Port: 6379,
      AuthToken: {
        'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('^\\{\\{resolve:secretsmanager:')])],
      },
    });
  });
});

describe('network', () => {
  it('reaches ECR, S3, CloudWatch Logs and Secrets Manager through VPC endpoints', () => {
    const names = Object.values(s.resources('AWS::EC2::VPCEndpoint')).map((e) =>
      JSON.stringify(e.Properties.ServiceName),
    );
    for (const service of ['ecr.api', 'ecr.dkr', 'logs', 'secretsmanager', '.s3'])
      expect(
        names.some((n) => n.includes(service)),
        service,
      ).toBe(true);
  });

  it('admits nothing from 0.0.0.0/0 or ::/0 except the load balancer listener ports', () => {
    const lb = logicalId(s.runtime.securityGroups.loadBalancer);
    const open = ingressRules().filter(({ rule }) => rule.CidrIp === '0.0.0.0/0' || rule.CidrIpv6 === '::/0');
    expect(open.map(({ group, rule }) => [group, rule.FromPort, rule.ToPort])).toEqual([
      [lb, 8080, 8080],
      [lb, 5055, 5055],
    ]);
  });

  it('lets only Kafka clients reach the brokers on 9098 and only api/processor reach Redis on 6379', () => {
    const groups = s.runtime.securityGroups;
    const rulesOf = (group: string) =>
      ingressRules()
        .filter((r) => r.group === group)
        .map(({ rule }) => [refOf(rule.SourceSecurityGroupId), rule.FromPort, rule.ToPort]);
    const tasks = (names: (keyof typeof groups.tasks)[]) => names.map((n) => logicalId(groups.tasks[n]));
    expect(rulesOf(logicalId(groups.kafka)).sort()).toEqual(
      tasks(['gateway', 'api', 'processor', 'simulator', 'topics'])
        .map((t) => [t, 9098, 9098])
        .sort(),
    );
    expect(rulesOf(logicalId(groups.redis)).sort()).toEqual(
      tasks(['api', 'processor'])
        .map((t) => [t, 6379, 6379])
        .sort(),
    );
  });

  it('puts only the load balancer in public subnets', () => {
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internet-facing',
    });
    const publicSubnets = new Set(
      Object.entries(s.resources('AWS::EC2::Subnet'))
        .filter(([, subnet]) => subnet.Properties.MapPublicIpOnLaunch === true)
        .map(([id]) => id),
    );
    expect(publicSubnets.size).toBe(3);
    const [alb] = Object.values(s.resources('AWS::ElasticLoadBalancingV2::LoadBalancer'));
    const albSubnets = (alb!.Properties.Subnets as unknown[]).map((ref) => refOf(ref));
    expect(new Set(albSubnets)).toEqual(publicSubnets);
    for (const service of Object.values(s.resources('AWS::ECS::Service'))) {
      const vpc = (service.Properties.NetworkConfiguration as { AwsvpcConfiguration: { Subnets: unknown[] } })
        .AwsvpcConfiguration;
      for (const subnet of vpc.Subnets) expect(publicSubnets.has(refOf(subnet)!)).toBe(false);
    }
  });
});
