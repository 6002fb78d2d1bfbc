import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/**
 * Application secrets the stack creates with a random placeholder value; docs/deploy-aws.md shows how
 * to put the real values (`aws secretsmanager put-secret-value`). Tasks get them as ECS secrets, read
 * by each task's own execution role, so a value never appears in the template or the task definition.
 */
export class AppSecrets extends Construct {
  /** API_KEYS: comma-separated keys the query API accepts (the random value works as a first key). */
  readonly apiKeys: secretsmanager.Secret;
  /** SNOWFLAKE_PRIVATE_KEY: PEM (PKCS#8) private key of the Snowflake user. */
  readonly snowflakePrivateKey: secretsmanager.Secret;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.apiKeys = new secretsmanager.Secret(this, 'ApiKeys', {
      description: 'fleet-tracker API_KEYS (comma-separated x-api-key values)',
      generateSecretString: { excludePunctuation: true, passwordLength: 40 },
    });
    this.snowflakePrivateKey = new secretsmanager.Secret(this, 'SnowflakePrivateKey', {
      description: 'fleet-tracker SNOWFLAKE_PRIVATE_KEY (PEM); replace the placeholder before starting',
      generateSecretString: { excludePunctuation: true, passwordLength: 32 },
    });
  }
}
