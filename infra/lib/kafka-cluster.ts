import { Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as msk from 'aws-cdk-lib/aws-msk';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { Settings } from './settings.js';

/** Client port of each authentication: SASL/IAM over TLS, SASL/SCRAM over TLS. */
export const KAFKA_PORTS = { iam: 9098, scram: 9096 } as const;

export interface KafkaClusterProps {
  readonly settings: Settings;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroup: ec2.ISecurityGroup;
  readonly key: kms.IKey;
  readonly logRetention: logs.RetentionDays;
}

/**
 * A provisioned MSK cluster: TLS between clients and brokers only, encryption at rest with our KMS key,
 * IAM client authentication (or SCRAM), broker logs in CloudWatch, PER_TOPIC_PER_PARTITION monitoring
 * (publishes MSK's consumer-lag metrics), and a configuration that never auto-creates topics.
 */
export class KafkaCluster extends Construct {
  readonly cluster: msk.CfnCluster;
  readonly clusterName: string;
  readonly port: number;
  /** Bootstrap brokers (host:port,...) of the chosen authentication, read at deploy time. */
  readonly bootstrapBrokers: string;
  /** SCRAM only: the `AmazonMSK_` secret holding `username` and `password`. */
  readonly scramSecret?: secretsmanager.Secret;
  /** The UUID part of the cluster ARN, which topic and group ARNs repeat. */
  private readonly clusterUuid: string;

  constructor(scope: Construct, id: string, props: KafkaClusterProps) {
    super(scope, id);
    const { settings } = props;
    this.clusterName = `fleet-${settings.envName}`;
    this.port = KAFKA_PORTS[settings.kafkaAuth];

    const configuration = new msk.CfnConfiguration(this, 'Configuration', {
      name: `${this.clusterName}-config`,
      description: 'fleet-tracker: topics only through `fleet topics create`',
      kafkaVersionsList: [settings.kafkaVersion],
      serverProperties: serverProperties(settings),
    });
    const brokerLogs = new logs.LogGroup(this, 'BrokerLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const iamAuth = settings.kafkaAuth === 'iam';
    this.cluster = new msk.CfnCluster(this, 'Cluster', {
      clusterName: this.clusterName,
      kafkaVersion: settings.kafkaVersion,
      numberOfBrokerNodes: settings.brokerCount,
      brokerNodeGroupInfo: {
        instanceType: settings.brokerInstanceType,
        clientSubnets: props.vpc.selectSubnets(props.subnets).subnetIds,
        securityGroups: [props.securityGroup.securityGroupId],
        storageInfo: { ebsStorageInfo: { volumeSize: settings.brokerVolumeGb } },
      },
      encryptionInfo: {
        encryptionAtRest: { dataVolumeKmsKeyId: props.key.keyArn },
        encryptionInTransit: { clientBroker: 'TLS', inCluster: true },
      },
      clientAuthentication: {
        sasl: { iam: { enabled: iamAuth }, scram: { enabled: !iamAuth } },
        unauthenticated: { enabled: false },
      },
      configurationInfo: { arn: configuration.attrArn, revision: configuration.attrLatestRevisionRevision },
      enhancedMonitoring: 'PER_TOPIC_PER_PARTITION',
      loggingInfo: {
        brokerLogs: { cloudWatchLogs: { enabled: true, logGroup: brokerLogs.logGroupName } },
      },
    });
    this.clusterUuid = Fn.select(2, Fn.split('/', this.cluster.attrArn));

    if (!iamAuth) {
      // MSK only accepts SCRAM secrets named AmazonMSK_* and encrypted with a customer managed key.
      this.scramSecret = new secretsmanager.Secret(this, 'ScramSecret', {
        secretName: `AmazonMSK_${this.clusterName}-fleet`,
        encryptionKey: props.key,
        generateSecretString: {
          secretStringTemplate: JSON.stringify({ username: 'fleet' }),
          generateStringKey: 'password',
          excludePunctuation: true,
          passwordLength: 32,
        },
      });
      new msk.CfnBatchScramSecret(this, 'ScramAssociation', {
        clusterArn: this.cluster.attrArn,
        secretArnList: [this.scramSecret.secretArn],
      });
    }

    // CloudFormation has no attribute for the bootstrap brokers: one SDK call at deploy time reads them.
    const field = iamAuth ? 'BootstrapBrokerStringSaslIam' : 'BootstrapBrokerStringSaslScram';
    const call: cr.AwsSdkCall = {
      service: 'Kafka',
      action: 'getBootstrapBrokers',
      parameters: { ClusterArn: this.cluster.attrArn },
      physicalResourceId: cr.PhysicalResourceId.of(`${this.clusterName}-bootstrap`),
      outputPaths: [field],
    };
    const bootstrap = new cr.AwsCustomResource(this, 'BootstrapBrokers', {
      onCreate: call,
      onUpdate: call,
      installLatestAwsSdk: false,
      logGroup: new logs.LogGroup(this, 'BootstrapBrokersLogs', {
        retention: props.logRetention,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({
          actions: ['kafka:GetBootstrapBrokers'],
          resources: [this.cluster.attrArn],
        }),
      ]),
    });
    this.bootstrapBrokers = bootstrap.getResponseField(field);
  }

  get clusterArn(): string {
    return this.cluster.attrArn;
  }

  /** arn:aws:kafka:region:account:topic/cluster-name/cluster-uuid/topic (MSK IAM resource ARN). */
  topicArn(topic: string): string {
    return this.resourceArn('topic', topic);
  }

  /** arn:aws:kafka:region:account:group/cluster-name/cluster-uuid/group */
  groupArn(group: string): string {
    return this.resourceArn('group', group);
  }

  private resourceArn(type: 'topic' | 'group', name: string): string {
    const stack = Stack.of(this);
    return Fn.join('', [
      `arn:${stack.partition}:kafka:${stack.region}:${stack.account}:${type}/${this.clusterName}/`,
      this.clusterUuid,
      `/${name}`,
    ]);
  }
}

/** Broker defaults: our topic design sets its own configs, these catch anything created otherwise. */
function serverProperties(settings: Settings): string {
  const rf = settings.replicationFactor;
  return [
    'auto.create.topics.enable=false',
    `default.replication.factor=${rf}`,
    `min.insync.replicas=${Math.max(1, rf - 1)}`,
    `num.partitions=${settings.partitions}`,
    'unclean.leader.election.enable=false',
    `offsets.topic.replication.factor=${Math.min(3, settings.brokerCount)}`,
    `transaction.state.log.replication.factor=${Math.min(3, settings.brokerCount)}`,
    `transaction.state.log.min.isr=${Math.min(2, settings.brokerCount)}`,
  ].join('\n');
}
