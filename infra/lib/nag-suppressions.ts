import { type Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { FleetTrackerStack } from './fleet-tracker-stack.js';

/** The custom-resource provider CDK adds once per stack for AwsCustomResource (bootstrap brokers). */
const AWS_CUSTOM_RESOURCE_PROVIDER_ID = 'AWS679f53fac002430cb0da5b7982bd2287';

function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/**
 * Each cdk-nag AwsSolutions finding we accept, on the one construct it concerns, with the reason.
 * Anything not listed here fails `cdk synth` and the template tests.
 */
export function suppressReviewedFindings(stack: FleetTrackerStack): void {
  acknowledge(
    stack.securityGroups.loadBalancer,
    'AwsSolutions-EC23',
    'The public load balancer: devices and API clients connect from anywhere. Only the two listener ports ' +
      '(api 8080, gateway 5055) are open; targets admit traffic from this group only.',
  );

  for (const [name, taskDefinition] of Object.entries(stack.services.taskDefinitions)) {
    acknowledge(
      taskDefinition,
      'AwsSolutions-ECS2',
      `Task ${name}: the environment holds configuration only (brokers, topic, region, URLs without ` +
        'credentials). Every credential (API_KEYS, REDIS_PASSWORD, SNOWFLAKE_PRIVATE_KEY, SCRAM) is an ' +
        'ECS secret from Secrets Manager.',
    );
    const executionPolicy = taskDefinition.executionRole?.node.tryFindChild('DefaultPolicy');
    if (!executionPolicy) throw new Error(`task ${name}: no execution role policy to review`);
    acknowledge(
      executionPolicy,
      'AwsSolutions-IAM5[Resource::*]',
      'ecr:GetAuthorizationToken has no resource-level permissions (it must be "*"); image pulls are ' +
        'scoped to the one repository, logs to the task log group, secrets to this task’s secrets.',
    );
  }

  acknowledge(
    stack.redis.authToken,
    'AwsSolutions-SMG4',
    'ElastiCache AUTH token: rotating it needs a coordinated modify-replication-group (ROTATE, then SET) ' +
      'while clients reconnect; docs/deploy-aws.md describes the manual rotation.',
  );
  acknowledge(
    stack.secrets.apiKeys,
    'AwsSolutions-SMG4',
    'API keys are handed to API clients; rotation is adding the new key to the list, then removing the ' +
      'old one once clients moved (docs/deploy-aws.md), which a rotation Lambda cannot coordinate.',
  );
  acknowledge(
    stack.secrets.snowflakePrivateKey,
    'AwsSolutions-SMG4',
    'Snowflake key-pair rotation registers the new public key as RSA_PUBLIC_KEY_2 in Snowflake first; ' +
      'it is an operator step (docs/deploy-aws.md), not something Secrets Manager can do alone.',
  );
  if (stack.kafka.scramSecret)
    acknowledge(
      stack.kafka.scramSecret,
      'AwsSolutions-SMG4',
      'MSK SCRAM credentials (kafkaAuth=scram option): MSK reads the secret when it is associated; ' +
        'rotation is a new password put into the secret, then the tasks redeployed (docs/deploy-aws.md).',
    );
  acknowledge(
    stack.loadBalancer.accessLogs,
    'AwsSolutions-S1',
    'This bucket receives the load balancer access logs; logging access to the log bucket itself would ' +
      'need yet another bucket. It is private, encrypted, SSL-only and expires objects after 90 days.',
  );

  const provider = findChild(stack, AWS_CUSTOM_RESOURCE_PROVIDER_ID);
  acknowledge(
    provider.node.findChild('ServiceRole'),
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    'The deploy-time Lambda that reads the MSK bootstrap brokers (kafka:GetBootstrapBrokers on this cluster ' +
      'only) uses the AWS basic execution policy to write its own logs; it holds no other permission.',
  );
}

function findChild(stack: Stack, id: string): IConstruct {
  const child = stack.node.tryFindChild(id);
  if (!child) throw new Error(`${stack.stackName}: expected construct ${id} to review its cdk-nag findings`);
  return child;
}
