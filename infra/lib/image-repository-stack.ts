import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import type { Construct } from 'constructs';

/**
 * The ECR repository, in its own stack so the image can be pushed before the services that run it
 * are deployed. Tags are immutable: a tag names one build forever, so a rollback by tag is exact.
 */
export class ImageRepositoryStack extends Stack {
  readonly repository: ecr.Repository;

  constructor(scope: Construct, id: string, props: StackProps & { repositoryName: string }) {
    super(scope, id, props);
    this.repository = new ecr.Repository(this, 'Repository', {
      repositoryName: props.repositoryName,
      imageScanOnPush: true,
      imageTagMutability: ecr.TagMutability.IMMUTABLE,
      encryption: ecr.RepositoryEncryption.AES_256,
      lifecycleRules: [{ description: 'keep the last 30 images', maxImageCount: 30 }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
