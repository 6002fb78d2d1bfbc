import * as iam from 'aws-cdk-lib/aws-iam';
import type { KafkaCluster } from './kafka-cluster.js';

/** What a task does with Kafka; each grant becomes MSK IAM actions on exactly those ARNs. */
export interface KafkaAccess {
  /** Topics it produces to (idempotent producers). */
  readonly produce?: readonly string[];
  /** Topics it consumes in `group`. */
  readonly consume?: { readonly topics: readonly string[]; readonly group: string };
  /** Topics it creates and alters (`fleet topics create`). */
  readonly administer?: readonly string[];
}

/**
 * MSK IAM policy statements for one task role. Every client needs Connect and DescribeCluster (the
 * metadata kafkajs reads first, and the API's /readyz check); the rest follows `access`.
 */
export function kafkaStatements(cluster: KafkaCluster, access: KafkaAccess): iam.PolicyStatement[] {
  const statement = (sid: string, actions: string[], resources: string[]) =>
    new iam.PolicyStatement({ sid, actions: actions.map((a) => `kafka-cluster:${a}`), resources });
  const topics = (names: readonly string[]) => names.map((name) => cluster.topicArn(name));
  const statements = [statement('Cluster', ['Connect', 'DescribeCluster'], [cluster.clusterArn])];
  if (access.produce?.length) {
    statements.push(statement('IdempotentProducer', ['WriteDataIdempotently'], [cluster.clusterArn]));
    statements.push(statement('Produce', ['DescribeTopic', 'WriteData'], topics(access.produce)));
  }
  if (access.consume) {
    statements.push(statement('Consume', ['DescribeTopic', 'ReadData'], topics(access.consume.topics)));
    statements.push(
      statement('ConsumerGroup', ['DescribeGroup', 'AlterGroup'], [cluster.groupArn(access.consume.group)]),
    );
  }
  if (access.administer?.length) {
    statements.push(
      statement(
        'AdministerTopics',
        [
          'CreateTopic',
          'DescribeTopic',
          'AlterTopic',
          'DescribeTopicDynamicConfiguration',
          'AlterTopicDynamicConfiguration',
        ],
        topics(access.administer),
      ),
    );
  }
  return statements;
}
