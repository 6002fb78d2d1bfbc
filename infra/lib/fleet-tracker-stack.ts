import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { FleetAlarms } from './alarms.js';
import { AppSecrets } from './app-secrets.js';
import { FleetDashboard } from './dashboard.js';
import { FleetMetrics } from './fleet-metrics.js';
import { FleetServices } from './fleet-services.js';
import { KAFKA_PORTS, KafkaCluster } from './kafka-cluster.js';
import { PublicLoadBalancer } from './load-balancer.js';
import { Network } from './network.js';
import { ProcessorScaling } from './processor-scaling.js';
import { REDIS_PORT, RedisCache } from './redis-cache.js';
import { SecurityGroups } from './security-groups.js';
import type { Settings } from './settings.js';
import { PORTS, taskSpecs } from './task-specs.js';

export interface FleetTrackerStackProps extends StackProps {
  readonly settings: Settings;
}

/** The whole runtime: network, MSK, ElastiCache, the Fargate services, dashboard, alarms, scaling. */
export class FleetTrackerStack extends Stack {
  readonly network: Network;
  readonly kafka: KafkaCluster;
  readonly redis: RedisCache;
  readonly services: FleetServices;
  readonly alarms: FleetAlarms;
  readonly securityGroups: SecurityGroups;
  readonly secrets: AppSecrets;
  readonly loadBalancer: PublicLoadBalancer;

  constructor(scope: Construct, id: string, props: FleetTrackerStackProps) {
    super(scope, id, props);
    const { settings } = props;
    const logRetention = settings.logRetentionDays as logs.RetentionDays;
    const env = settings.envName;

    this.network = new Network(this, 'Network', { settings, logRetention });
    const { vpc } = this.network;
    const securityGroups = (this.securityGroups = new SecurityGroups(this, 'SecurityGroups', {
      vpc,
      kafkaPort: KAFKA_PORTS[settings.kafkaAuth],
      redisPort: REDIS_PORT,
    }));
    const dataKey = new kms.Key(this, 'DataKey', {
      description: `fleet-tracker ${env}: MSK and ElastiCache data at rest`,
      enableKeyRotation: true,
    });
    this.kafka = new KafkaCluster(this, 'Kafka', {
      settings,
      vpc,
      subnets: this.network.dataSubnets,
      securityGroup: securityGroups.kafka,
      key: dataKey,
      logRetention,
    });
    this.redis = new RedisCache(this, 'Redis', {
      settings,
      vpc,
      subnets: this.network.dataSubnets,
      securityGroup: securityGroups.redis,
      key: dataKey,
    });
    const secrets = (this.secrets = new AppSecrets(this, 'Secrets'));
    const specs = taskSpecs({ settings, kafka: this.kafka, redis: this.redis, secrets });
    this.services = new FleetServices(this, 'Services', {
      settings,
      vpc,
      taskSubnets: this.network.taskSubnets,
      securityGroups,
      kafka: this.kafka,
      specs,
      logRetention,
    });
    const { services } = this.services;

    const loadBalancer = (this.loadBalancer = new PublicLoadBalancer(this, 'LoadBalancer', {
      vpc,
      subnets: this.network.publicSubnets,
      securityGroup: securityGroups.loadBalancer,
      certificateArn: settings.certificateArn,
    }));
    const apiTargets = loadBalancer.addRoute({
      name: 'api',
      port: PORTS.api,
      service: services.api,
      healthCheckPath: '/readyz',
    });
    loadBalancer.addRoute({
      name: 'gateway',
      port: PORTS.gateway,
      service: services.gateway,
      healthCheckPath: '/healthz',
    });
    for (const name of ['api', 'gateway'] as const) {
      const desired = name === 'api' ? settings.apiDesiredCount : settings.gatewayDesiredCount;
      services[name]
        .autoScaleTaskCount({ minCapacity: desired, maxCapacity: settings.webMaxCount })
        .scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: 60 });
    }

    const clusterName = `fleet-${env}`;
    const serviceNames = {
      gateway: `${clusterName}-gateway`,
      api: `${clusterName}-api`,
      processor: `${clusterName}-processor`,
      simulator: `${clusterName}-simulator`,
    };
    const metrics = new FleetMetrics(settings.topic, settings.partitions, clusterName);
    new ProcessorScaling(this, 'ProcessorScaling', {
      settings,
      metrics,
      clusterName,
      service: services.processor,
      serviceName: serviceNames.processor,
    });
    this.alarms = new FleetAlarms(this, 'Alarms', {
      settings,
      metrics,
      processorServiceName: serviceNames.processor,
      apiTargetGroup: apiTargets,
      mskClusterName: this.kafka.clusterName,
    });
    new FleetDashboard(this, 'Dashboard', {
      settings,
      metrics,
      serviceNames,
      apiTargetGroup: apiTargets,
      redisNodeIds: this.redis.nodeIds,
      mskClusterName: this.kafka.clusterName,
    });

    const scheme = settings.certificateArn ? 'https' : 'http';
    new CfnOutput(this, 'ApiUrl', {
      value: `${scheme}://${loadBalancer.alb.loadBalancerDnsName}:${PORTS.api}`,
    });
    new CfnOutput(this, 'GatewayUrl', {
      value: `${scheme}://${loadBalancer.alb.loadBalancerDnsName}:${PORTS.gateway}`,
    });
    new CfnOutput(this, 'ClusterName', { value: this.services.cluster.clusterName });
    new CfnOutput(this, 'TopicsTaskDefinition', { value: this.services.taskDefinitions.topics.family });
    new CfnOutput(this, 'TopicsTaskSubnets', {
      value: vpc.selectSubnets(this.network.taskSubnets).subnetIds.join(','),
    });
    new CfnOutput(this, 'TopicsTaskSecurityGroup', { value: securityGroups.tasks.topics.securityGroupId });
    new CfnOutput(this, 'ApiKeysSecret', { value: secrets.apiKeys.secretArn });
    new CfnOutput(this, 'SnowflakeKeySecret', { value: secrets.snowflakePrivateKey.secretArn });
    new CfnOutput(this, 'AlarmTopic', { value: this.alarms.topic.topicArn });
  }
}
