import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface PublicLoadBalancerProps {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroup: ec2.SecurityGroup;
  /** HTTPS listeners with this ACM certificate; plain HTTP when empty. */
  readonly certificateArn: string;
}

export interface Route {
  readonly name: string;
  /** Listener port on the load balancer and the container port behind it. */
  readonly port: number;
  readonly service: ecs.FargateService;
  readonly healthCheckPath: string;
}

/**
 * The only internet-facing resource: one Application Load Balancer in the public subnets, one
 * listener per route (api 8080, gateway 5055). Its security group admits exactly the listener ports
 * from anywhere; the targets' groups admit the container port from this group only. Access logs go to
 * an encrypted, private bucket.
 */
export class PublicLoadBalancer extends Construct {
  readonly alb: elbv2.ApplicationLoadBalancer;
  readonly accessLogs: s3.Bucket;
  readonly targetGroups: Record<string, elbv2.ApplicationTargetGroup> = {};
  private readonly props: PublicLoadBalancerProps;

  constructor(scope: Construct, id: string, props: PublicLoadBalancerProps) {
    super(scope, id);
    this.props = props;
    const accessLogs = (this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    }));
    this.alb = new elbv2.ApplicationLoadBalancer(this, 'Alb', {
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      internetFacing: true,
      securityGroup: props.securityGroup,
      dropInvalidHeaderFields: true,
    });
    this.alb.logAccessLogs(accessLogs);
  }

  addRoute(route: Route): elbv2.ApplicationTargetGroup {
    const https = this.props.certificateArn !== '';
    const listener = this.alb.addListener(`${route.name}Listener`, {
      port: route.port,
      protocol: https ? elbv2.ApplicationProtocol.HTTPS : elbv2.ApplicationProtocol.HTTP,
      ...(https
        ? {
            certificates: [elbv2.ListenerCertificate.fromArn(this.props.certificateArn)],
            sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
          }
        : {}),
      // The ingress rule is added explicitly below, IPv4 only.
      open: false,
    });
    this.props.securityGroup.addIngressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(route.port),
      `${route.name} listener from the internet`,
    );
    const targetGroup = listener.addTargets(route.name, {
      port: route.port,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targets: [route.service],
      deregistrationDelay: Duration.seconds(30),
      healthCheck: {
        path: route.healthCheckPath,
        healthyHttpCodes: '200',
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
      },
    });
    this.targetGroups[route.name] = targetGroup;
    return targetGroup;
  }
}
