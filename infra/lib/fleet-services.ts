import { Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { httpHealthCheck } from './health-check.js';
import { kafkaStatements } from './kafka-access.js';
import type { KafkaCluster } from './kafka-cluster.js';
import type { SecurityGroups, TaskName } from './security-groups.js';
import type { Settings } from './settings.js';
import type { TaskSpec } from './task-specs.js';

export type ServiceName = Exclude<TaskName, 'topics'>;

export interface FleetServicesProps {
  readonly settings: Settings;
  readonly vpc: ec2.IVpc;
  readonly taskSubnets: ec2.SubnetSelection;
  readonly securityGroups: SecurityGroups;
  readonly kafka: KafkaCluster;
  readonly specs: Record<TaskName, TaskSpec>;
  readonly logRetention: logs.RetentionDays;
}

/**
 * The ECS Fargate cluster (Container Insights on: RunningTaskCount feeds an alarm and the lag scaling),
 * one task definition per spec, all from the one image in ECR, and a service for each but `topics`,
 * which is run once by hand (docs/deploy-aws.md). Tasks get no public IP and run in the private subnets.
 */
export class FleetServices extends Construct {
  readonly cluster: ecs.Cluster;
  readonly services = {} as Record<ServiceName, ecs.FargateService>;
  readonly taskDefinitions = {} as Record<TaskName, ecs.FargateTaskDefinition>;

  constructor(scope: Construct, id: string, props: FleetServicesProps) {
    super(scope, id);
    const { settings } = props;
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      clusterName: `fleet-${settings.envName}`,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });
    // Referenced by name (no lookup): the `-repo` stack creates it, the image is pushed before deploy.
    const repository = ecr.Repository.fromRepositoryName(this, 'Repository', settings.repositoryName);
    const image = ecs.ContainerImage.fromEcrRepository(repository, settings.imageTag);

    for (const spec of Object.values(props.specs)) {
      const taskDefinition = this.taskDefinition(spec, image, props);
      this.taskDefinitions[spec.name] = taskDefinition;
      if (spec.name === 'topics') continue;
      this.services[spec.name] = new ecs.FargateService(this, `${spec.name}Service`, {
        cluster: this.cluster,
        serviceName: `fleet-${settings.envName}-${spec.name}`,
        taskDefinition,
        desiredCount: desiredCount(settings, spec.name),
        vpcSubnets: props.taskSubnets,
        securityGroups: [props.securityGroups.tasks[spec.name]],
        assignPublicIp: false,
        circuitBreaker: { enable: true, rollback: true },
        minHealthyPercent: 100,
        maxHealthyPercent: 200,
        ...(spec.port ? { healthCheckGracePeriod: Duration.seconds(60) } : {}),
      });
    }
  }

  private taskDefinition(
    spec: TaskSpec,
    image: ecs.ContainerImage,
    props: FleetServicesProps,
  ): ecs.FargateTaskDefinition {
    const taskDefinition = new ecs.FargateTaskDefinition(this, `${spec.name}Task`, {
      family: `fleet-${props.settings.envName}-${spec.name}`,
      cpu: spec.cpu,
      memoryLimitMiB: spec.memoryMiB,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.X86_64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    const logGroup = new logs.LogGroup(this, `${spec.name}Logs`, {
      logGroupName: `/fleet-tracker/${props.settings.envName}/${spec.name}`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    taskDefinition.addContainer(spec.name, {
      image,
      command: spec.command,
      environment: spec.environment,
      secrets: spec.secrets,
      // Non-blocking: a slow CloudWatch Logs never stalls the processor; 25 MB buffers any burst.
      logging: ecs.LogDrivers.awsLogs({
        streamPrefix: spec.name,
        logGroup,
        mode: ecs.AwsLogDriverMode.NON_BLOCKING,
        maxBufferSize: Size.mebibytes(25),
      }),
      ...(spec.port ? { portMappings: [{ containerPort: spec.port }] } : {}),
      ...(spec.health ? { healthCheck: httpHealthCheck(spec.health.port, spec.health.path) } : {}),
      ...(spec.stopTimeoutSeconds ? { stopTimeout: Duration.seconds(spec.stopTimeoutSeconds) } : {}),
    });
    if (props.settings.kafkaAuth === 'iam') {
      for (const statement of kafkaStatements(props.kafka, spec.kafka))
        taskDefinition.addToTaskRolePolicy(statement);
    }
    return taskDefinition;
  }
}

function desiredCount(settings: Settings, name: ServiceName): number {
  return {
    gateway: settings.gatewayDesiredCount,
    api: settings.apiDesiredCount,
    processor: settings.processorDesiredCount,
    simulator: settings.simulatorDesiredCount,
  }[name];
}
