import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';

export type TaskName = 'gateway' | 'api' | 'processor' | 'simulator' | 'topics';

/** Which tasks talk to Redis; every task talks to Kafka. */
const REDIS_CLIENTS: readonly TaskName[] = ['api', 'processor'];
const TASKS: readonly TaskName[] = ['gateway', 'api', 'processor', 'simulator', 'topics'];
const HTTPS = ec2.Port.tcp(443);

export interface SecurityGroupsProps {
  readonly vpc: ec2.IVpc;
  /** 9098 (IAM) or 9096 (SCRAM). */
  readonly kafkaPort: number;
  readonly redisPort: number;
}

/**
 * One security group per task, one for the brokers, one for Redis, one for the load balancer; no
 * group allows all outbound. The rules are exactly the flows the system has:
 *  - task → brokers on the Kafka port, api/processor → Redis on its port;
 *  - task → HTTPS anywhere (VPC endpoints for ECR, Logs, Secrets Manager; Snowflake through NAT);
 *  - load balancer → api/gateway container ports (added by the listeners' targets);
 *  - internet → load balancer listener ports (added with the listeners).
 */
export class SecurityGroups extends Construct {
  readonly tasks: Record<TaskName, ec2.SecurityGroup>;
  readonly kafka: ec2.SecurityGroup;
  readonly redis: ec2.SecurityGroup;
  readonly loadBalancer: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: SecurityGroupsProps) {
    super(scope, id);
    const group = (name: string, description: string) =>
      new ec2.SecurityGroup(this, name, { vpc: props.vpc, description, allowAllOutbound: false });
    this.kafka = group('Kafka', 'MSK brokers: Kafka clients only');
    this.redis = group('Redis', 'ElastiCache: api and processor only');
    this.loadBalancer = group('LoadBalancer', 'Public load balancer: listeners from the internet');
    this.tasks = Object.fromEntries(
      TASKS.map((task) => [task, group(`${capitalize(task)}Task`, `Fargate task ${task}`)]),
    ) as Record<TaskName, ec2.SecurityGroup>;

    for (const task of TASKS) {
      const sg = this.tasks[task];
      sg.connections.allowTo(this.kafka, ec2.Port.tcp(props.kafkaPort), `${task} to Kafka`);
      sg.addEgressRule(ec2.Peer.anyIpv4(), HTTPS, 'AWS endpoints (ECR, Logs, Secrets Manager) and Snowflake');
      if (REDIS_CLIENTS.includes(task))
        sg.connections.allowTo(this.redis, ec2.Port.tcp(props.redisPort), `${task} to Redis`);
    }
  }
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
