import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { Settings } from './settings.js';

export const REDIS_PORT = 6379;

export interface RedisCacheProps {
  readonly settings: Settings;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroup: ec2.ISecurityGroup;
  readonly key: kms.IKey;
}

/**
 * The latest-state table's home: an ElastiCache replication group (cluster mode off: the upsert script
 * touches many vehicles per call) with a primary and a replica in different AZs, automatic failover,
 * TLS in transit, encryption at rest and an AUTH token generated into Secrets Manager. CloudFormation
 * resolves the token from the secret at deploy time; the template holds only the reference.
 */
export class RedisCache extends Construct {
  readonly replicationGroup: elasticache.CfnReplicationGroup;
  readonly authToken: secretsmanager.Secret;
  /** rediss://host:port of the primary (no credentials: REDIS_PASSWORD is a secret). */
  readonly url: string;
  /** Cache cluster ids of the two nodes (ElastiCache metrics are per node). */
  readonly nodeIds: readonly string[];

  constructor(scope: Construct, id: string, props: RedisCacheProps) {
    super(scope, id);
    const { settings } = props;
    this.authToken = new secretsmanager.Secret(this, 'AuthToken', {
      description: 'fleet-tracker ElastiCache AUTH token (REDIS_PASSWORD)',
      // ElastiCache accepts 16-128 printable characters without @, " or /.
      generateSecretString: { excludePunctuation: true, passwordLength: 48 },
    });
    const subnetGroup = new elasticache.CfnSubnetGroup(this, 'Subnets', {
      description: 'fleet-tracker Redis: isolated data subnets',
      subnetIds: props.vpc.selectSubnets(props.subnets).subnetIds,
    });
    const replicationGroupId = `fleet-${settings.envName}`;
    this.nodeIds = [`${replicationGroupId}-001`, `${replicationGroupId}-002`];
    this.replicationGroup = new elasticache.CfnReplicationGroup(this, 'ReplicationGroup', {
      replicationGroupId,
      replicationGroupDescription: `fleet-tracker ${settings.envName} latest-state table`,
      engine: settings.cacheEngine,
      engineVersion: settings.cacheEngineVersion,
      cacheNodeType: settings.cacheNodeType,
      numCacheClusters: 2,
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
      port: REDIS_PORT,
      cacheSubnetGroupName: subnetGroup.ref,
      securityGroupIds: [props.securityGroup.securityGroupId],
      transitEncryptionEnabled: true,
      atRestEncryptionEnabled: true,
      kmsKeyId: props.key.keyArn,
      authToken: this.authToken.secretValue.unsafeUnwrap(),
      snapshotRetentionLimit: 1,
      autoMinorVersionUpgrade: true,
    });
    this.url = `rediss://${this.replicationGroup.attrPrimaryEndPointAddress}:${REDIS_PORT}`;
  }
}
