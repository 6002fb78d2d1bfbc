import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { Settings } from './settings.js';

/** Subnet group names: public (load balancers only), tasks (Fargate), data (MSK and ElastiCache). */
export const SubnetNames = { public: 'public', tasks: 'tasks', data: 'data' } as const;

export interface NetworkProps {
  readonly settings: Settings;
  readonly logRetention: logs.RetentionDays;
}

/**
 * A VPC over three AZs. Only the load balancers sit in public subnets; tasks use private subnets
 * (with NAT egress when `natGateways` > 0, for Snowflake), the brokers and Redis isolated ones.
 * ECR, CloudWatch Logs and Secrets Manager are reached through interface endpoints and S3 (ECR's
 * image layers) through a gateway endpoint, so image pulls and logs never need the NAT.
 */
export class Network extends Construct {
  readonly vpc: ec2.Vpc;
  readonly taskSubnets: ec2.SubnetSelection = { subnetGroupName: SubnetNames.tasks };
  readonly dataSubnets: ec2.SubnetSelection = { subnetGroupName: SubnetNames.data };
  readonly publicSubnets: ec2.SubnetSelection = { subnetGroupName: SubnetNames.public };

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const { settings } = props;
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(settings.vpcCidr),
      availabilityZones: [...settings.availabilityZones],
      natGateways: settings.natGateways,
      // false: true would add a Lambda-backed custom resource to empty the default security group.
      // Nothing here uses the default group (every resource gets its own), so it stays unused.
      restrictDefaultSecurityGroup: false,
      subnetConfiguration: [
        { name: SubnetNames.public, subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        {
          name: SubnetNames.tasks,
          subnetType:
            settings.natGateways > 0 ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED,
          cidrMask: 20,
        },
        { name: SubnetNames.data, subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
    });
    const flowLogs = new logs.LogGroup(this, 'FlowLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.vpc.addFlowLog('RejectedFlows', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs),
      trafficType: ec2.FlowLogTrafficType.REJECT,
    });

    this.vpc.addGatewayEndpoint('S3', {
      service: ec2.GatewayVpcEndpointAwsService.S3,
      subnets: [this.taskSubnets],
    });
    const endpoints = {
      EcrApi: ec2.InterfaceVpcEndpointAwsService.ECR,
      EcrDocker: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
      Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
      SecretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    };
    for (const [name, service] of Object.entries(endpoints)) {
      const endpoint = this.vpc.addInterfaceEndpoint(name, {
        service,
        subnets: this.taskSubnets,
        privateDnsEnabled: true,
        open: false,
      });
      // HTTPS from inside the VPC only; the literal CIDR (not the VPC's CidrBlock attribute) lets
      // cdk-nag's open-ingress rule evaluate the group instead of failing on a token.
      endpoint.connections.allowFrom(
        ec2.Peer.ipv4(settings.vpcCidr),
        ec2.Port.tcp(443),
        'HTTPS from the VPC',
      );
    }
  }
}
