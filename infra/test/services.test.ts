import { beforeAll, describe, expect, it } from 'vitest';
import { refOf, synth, type Synthesized } from './support/synth.js';

let s: Synthesized;
beforeAll(() => {
  s = synth();
});

interface Container {
  Command: string[];
  Environment?: { Name: string; Value: unknown }[];
  Secrets?: { Name: string; ValueFrom: unknown }[];
  StopTimeout?: number;
  HealthCheck?: { Command: string[] };
}
interface Statement {
  Action: string | string[];
  Resource: unknown;
}

function taskDefinition(name: string) {
  const entry = Object.entries(s.resources('AWS::ECS::TaskDefinition')).find(
    ([, td]) => td.Properties.Family === `fleet-prod-${name}`,
  );
  if (!entry) throw new Error(`no task definition ${name}`);
  const [id, td] = entry;
  return { id, props: td.Properties, container: (td.Properties.ContainerDefinitions as Container[])[0]! };
}

function statementsOf(roleRef: unknown): Statement[] {
  const role = refOf(roleRef);
  return Object.values(s.resources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as unknown[]).some((r) => refOf(r) === role))
    .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}
const actions = (statements: Statement[]) => statements.flatMap((st) => [st.Action].flat());
const SECRET_NAMES = ['API_KEYS', 'REDIS_PASSWORD', 'SNOWFLAKE_PRIVATE_KEY', 'KAFKA_SASL_PASSWORD'];
const TASKS = ['gateway', 'api', 'processor', 'simulator', 'topics'];

describe('ECS services', () => {
  it('runs gateway, api, processor and simulator (desired 0) and a one-off topics task', () => {
    const services = Object.values(s.resources('AWS::ECS::Service')).map((svc) => [
      svc.Properties.ServiceName,
      svc.Properties.DesiredCount,
    ]);
    expect(services.sort()).toEqual(
      [
        ['fleet-prod-api', 1],
        ['fleet-prod-gateway', 1],
        ['fleet-prod-processor', 1],
        ['fleet-prod-simulator', 0],
      ].sort(),
    );
    expect(taskDefinition('topics').container.Command).toEqual(['topics', 'create']);
    expect(taskDefinition('processor').container.Command).toEqual(['process']);
  });

  it('gives no task a public IP', () => {
    for (const svc of Object.values(s.resources('AWS::ECS::Service')))
      expect(svc.Properties.NetworkConfiguration).toMatchObject({
        AwsvpcConfiguration: { AssignPublicIp: 'DISABLED' },
      });
  });

  it('gives the processor 30 s to drain after SIGTERM and a health check on its metrics port', () => {
    const { container } = taskDefinition('processor');
    expect(container.StopTimeout).toBe(30);
    expect(container.HealthCheck!.Command.join(' ')).toContain('http://127.0.0.1:9464/healthz');
  });

  it('keeps /metrics off the network: metrics go to CloudWatch as EMF, the processor binds them to loopback', () => {
    for (const name of TASKS) {
      const env = Object.fromEntries(
        (taskDefinition(name).container.Environment ?? []).map((e) => [e.Name, e.Value]),
      );
      expect(env.METRICS_EMF, name).toBe('true');
      // Unset: the application's default 127.0.0.1, where the container health check asks.
      expect(env.METRICS_HOST, name).toBeUndefined();
    }
  });

  it('checks api /readyz on 8080 and gateway /healthz on 5055 from the load balancer', () => {
    const groups = Object.values(s.resources('AWS::ElasticLoadBalancingV2::TargetGroup')).map((tg) => [
      tg.Properties.Port,
      tg.Properties.HealthCheckPath,
    ]);
    expect(groups.sort()).toEqual([
      [5055, '/healthz'],
      [8080, '/readyz'],
    ]);
  });
});

describe('secrets', () => {
  it('reach containers only as ECS secrets referencing Secrets Manager', () => {
    const secretIds = new Set(Object.keys(s.resources('AWS::SecretsManager::Secret')));
    for (const name of TASKS) {
      const { container } = taskDefinition(name);
      for (const env of container.Environment ?? []) expect(SECRET_NAMES).not.toContain(env.Name);
      for (const secret of container.Secrets ?? [])
        expect(secretIds.has(refOf(secret.ValueFrom)!)).toBe(true);
    }
    const names = (task: string) => (taskDefinition(task).container.Secrets ?? []).map((x) => x.Name).sort();
    expect(names('api')).toEqual(['API_KEYS', 'REDIS_PASSWORD', 'SNOWFLAKE_PRIVATE_KEY']);
    expect(names('processor')).toEqual(['REDIS_PASSWORD', 'SNOWFLAKE_PRIVATE_KEY']);
    expect(names('gateway')).toEqual([]);
  });

  it('are readable only by the execution role of a task that uses them', () => {
    for (const name of TASKS) {
      const { props, container } = taskDefinition(name);
      const allowed = new Set((container.Secrets ?? []).map((x) => refOf(x.ValueFrom)));
      const readable = statementsOf(props.ExecutionRoleArn)
        .filter((st) => actions([st]).includes('secretsmanager:GetSecretValue'))
        .map((st) => refOf(st.Resource));
      expect(new Set(readable), name).toEqual(allowed);
      expect(actions(statementsOf(props.TaskRoleArn)).filter((a) => a.startsWith('secretsmanager'))).toEqual(
        [],
      );
    }
  });
});

describe('MSK IAM permissions', () => {
  const kafkaActions = (task: string) =>
    actions(statementsOf(taskDefinition(task).props.TaskRoleArn)).filter((a) =>
      a.startsWith('kafka-cluster:'),
    );

  it('grant each task only what it does, never a wildcard action', () => {
    expect(kafkaActions('processor').sort()).toEqual(
      [
        'Connect',
        'DescribeCluster',
        'WriteDataIdempotently',
        'DescribeTopic',
        'WriteData',
        'DescribeTopic',
        'ReadData',
        'DescribeGroup',
        'AlterGroup',
      ]
        .map((a) => `kafka-cluster:${a}`)
        .sort(),
    );
    expect(kafkaActions('api').sort()).toEqual(['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster']);
    for (const task of TASKS) {
      expect(kafkaActions(task).some((a) => a.includes('*'))).toBe(false);
      const creates = kafkaActions(task).includes('kafka-cluster:CreateTopic');
      expect(creates, task).toBe(task === 'topics');
    }
  });

  it('scope topics and groups to this cluster by the UUID taken from its ARN', () => {
    const statements = statementsOf(taskDefinition('processor').props.TaskRoleArn);
    const resources = JSON.stringify(statements.map((st) => st.Resource));
    expect(resources).toContain(':topic/fleet-prod/');
    expect(resources).toContain('/vehicle_positions"');
    expect(resources).toContain(':group/fleet-prod/');
    expect(resources).toContain('/fleet-processor"');
    expect(resources).toContain('{"Fn::Select":[2,{"Fn::Split":["/",{"Fn::GetAtt":["KafkaCluster');
  });

  it('configures the clients for IAM over TLS', () => {
    const env = Object.fromEntries(
      (taskDefinition('processor').container.Environment ?? []).map((e) => [e.Name, e.Value]),
    );
    expect(env).toMatchObject({
      KAFKA_SSL: 'true',
      KAFKA_SASL_MECHANISM: 'aws-msk-iam',
      AWS_REGION: 'eu-west-1',
      METRICS_EMF: 'true',
      METRICS_SERVICE: 'processor',
    });
    expect(JSON.stringify(env.REDIS_URL)).toContain('rediss://');
  });
});

describe('the SCRAM option', () => {
  it('switches the brokers, security groups and clients to SCRAM on 9096 with the credentials as secrets', () => {
    const scram = synth({ kafkaAuth: 'scram' });
    scram.template.hasResourceProperties('AWS::MSK::Cluster', {
      ClientAuthentication: { Sasl: { Iam: { Enabled: false }, Scram: { Enabled: true } } },
    });
    scram.template.resourceCountIs('AWS::MSK::BatchScramSecret', 1);
    scram.template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'AmazonMSK_fleet-prod-fleet',
    });
    const ports = Object.values(scram.resources('AWS::EC2::SecurityGroupIngress')).map(
      (r) => r.Properties.FromPort,
    );
    expect(ports).toContain(9096);
    expect(ports).not.toContain(9098);
    const td = Object.values(scram.resources('AWS::ECS::TaskDefinition')).find(
      (t) => t.Properties.Family === 'fleet-prod-gateway',
    )!;
    const container = (td.Properties.ContainerDefinitions as Container[])[0]!;
    expect(container.Environment).toContainEqual({ Name: 'KAFKA_SASL_MECHANISM', Value: 'scram-sha-512' });
    expect((container.Secrets ?? []).map((x) => x.Name).sort()).toEqual([
      'KAFKA_SASL_PASSWORD',
      'KAFKA_SASL_USERNAME',
    ]);
  });
});
