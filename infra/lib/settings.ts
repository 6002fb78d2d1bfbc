/**
 * Every deployment parameter of the app, read from CDK context (`cdk.json`, or `-c key=value` on the
 * command line) with its default. `-c` values arrive as strings, `cdk.json` values as JSON, so each
 * reader accepts both. A bad value throws at synth time naming the context key and what it expects.
 */
export interface Settings {
  /** Environment name: prefixes stack and resource names. @default 'prod' */
  readonly envName: string;
  /** @default '123456789012' (a placeholder: synth needs no credentials; pass your own to deploy) */
  readonly account: string;
  /** @default 'eu-west-1' */
  readonly region: string;
  /** Three AZs of `region`. @default `${region}a`, `${region}b`, `${region}c` */
  readonly availabilityZones: readonly string[];
  /** @default '10.40.0.0/16' */
  readonly vpcCidr: string;
  /** NAT gateways for outbound internet (Snowflake is outside the VPC). 0 = VPC endpoints only. @default 1 */
  readonly natGateways: number;
  /** @default '3.6.0' (kafkajs 2.2 speaks its protocol versions) */
  readonly kafkaVersion: string;
  /** @default 'kafka.t3.small' */
  readonly brokerInstanceType: string;
  /** A multiple of the AZ count (3). @default 3 */
  readonly brokerCount: number;
  /** EBS volume per broker, GiB. @default 100 */
  readonly brokerVolumeGb: number;
  /** Client authentication: 'iam' (port 9098) or 'scram' (SASL/SCRAM-SHA-512, port 9096). @default 'iam' */
  readonly kafkaAuth: 'iam' | 'scram';
  /** Partitions of the position topic (1-9); also the processor's maximum task count. @default 3 */
  readonly partitions: number;
  /** Replication factor of the topics and the cluster default. @default 3 */
  readonly replicationFactor: number;
  /** @default 'vehicle_positions' */
  readonly topic: string;
  /** @default 'fleet-processor' */
  readonly consumerGroup: string;
  /** @default 'cache.t4g.small' */
  readonly cacheNodeType: string;
  /** 'valkey' or 'redis'. @default 'valkey' */
  readonly cacheEngine: 'valkey' | 'redis';
  /** @default '7.2' */
  readonly cacheEngineVersion: string;
  /** ECR repository (created by the `-repo` stack). @default 'fleet-tracker' */
  readonly repositoryName: string;
  /** Image tag the services run (tags are immutable: use the git SHA). @default '0.1.0' */
  readonly imageTag: string;
  /** @default 1 */ readonly gatewayDesiredCount: number;
  /** @default 1 */ readonly apiDesiredCount: number;
  /** Between 1 and `partitions`. @default 1 */
  readonly processorDesiredCount: number;
  /** @default 0 */ readonly simulatorDesiredCount: number;
  /** Vehicles the simulator service drives. @default 100 */
  readonly simulatorVehicles: number;
  /** Upper bound of the gateway and API CPU autoscaling. @default 4 */
  readonly webMaxCount: number;
  /** Total consumer lag (records) that alarms when exceeded for 5 minutes. @default 100000 */
  readonly lagAlarmThreshold: number;
  /** Backlog per processor task (records) the lag scaling keeps. @default 20000 */
  readonly lagTargetPerTask: number;
  /** API 5xx responses in 5 minutes that alarm. @default 5 */
  readonly api5xxThreshold: number;
  /** CloudWatch Logs retention, days (a value CloudWatch accepts). @default 30 */
  readonly logRetentionDays: number;
  /** Alarm e-mail subscription; none when empty. @default '' */
  readonly alarmEmail: string;
  /** ACM certificate: HTTPS listeners when set, plain HTTP (API keys in clear!) when empty. @default '' */
  readonly certificateArn: string;
  /** Snowflake (non-secret) connection settings; the private key is a secret. @default '' each */
  readonly snowflake: {
    readonly account: string;
    readonly user: string;
    readonly role: string;
    readonly warehouse: string;
    readonly database: string;
    readonly schema: string;
  };
}

/** Reads context values; `tryGetContext` of an App or Construct node. */
export type ContextReader = (key: string) => unknown;

export class SettingsError extends Error {
  constructor(key: string, problem: string) {
    super(`CDK context '${key}': ${problem} (set it in infra/cdk.json or with -c ${key}=...)`);
    this.name = 'SettingsError';
  }
}

const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

export function readSettings(context: ContextReader): Settings {
  const str = (key: string, fallback: string, pattern?: RegExp): string => {
    const raw = context(key);
    if (raw === undefined || raw === null) return fallback;
    if (typeof raw !== 'string' && typeof raw !== 'number') throw new SettingsError(key, 'expected a string');
    const value = String(raw).trim();
    if (pattern && !pattern.test(value)) throw new SettingsError(key, `'${value}' does not match ${pattern}`);
    return value;
  };
  const int = (key: string, fallback: number, min: number, max: number): number => {
    const raw = context(key);
    const value = raw === undefined || raw === null ? fallback : Number(raw);
    if (!Number.isInteger(value) || value < min || value > max)
      throw new SettingsError(key, `'${String(raw)}' must be an integer in ${min}..${max}`);
    return value;
  };
  const oneOf = <T extends string>(key: string, fallback: T, allowed: readonly T[]): T => {
    const value = str(key, fallback);
    if (!(allowed as readonly string[]).includes(value))
      throw new SettingsError(key, `'${value}' must be one of ${allowed.join(', ')}`);
    return value as T;
  };

  const region = str('region', 'eu-west-1', /^[a-z]{2}(-[a-z]+)+-\d$/);
  const azs = str('availabilityZones', `${region}a,${region}b,${region}c`)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (azs.length !== 3 || azs.some((az) => !az.startsWith(region)))
    throw new SettingsError('availabilityZones', `expected three AZs of ${region}, got '${azs.join(',')}'`);
  // The lag alarm and scaling sum per-partition metrics with metric math, which CloudWatch limits to
  // 10 metrics per alarm or policy (the partitions plus the running-task count).
  const partitions = int('partitions', 3, 1, 9);
  const brokerCount = int('brokerCount', 3, 3, 30);
  if (brokerCount % azs.length !== 0)
    throw new SettingsError('brokerCount', `${brokerCount} is not a multiple of the ${azs.length} AZs`);
  const logRetentionDays = int('logRetentionDays', 30, 1, 3653);
  if (!LOG_RETENTION_DAYS.includes(logRetentionDays))
    throw new SettingsError('logRetentionDays', `must be one of ${LOG_RETENTION_DAYS.join(', ')}`);
  const name = /^[A-Za-z0-9._-]{1,249}$/;
  const webMaxCount = int('webMaxCount', 4, 1, 100);

  return {
    envName: str('envName', 'prod', /^[a-z][a-z0-9-]{0,15}$/),
    account: str('account', '123456789012', /^\d{12}$/),
    region,
    availabilityZones: azs,
    vpcCidr: str('vpcCidr', '10.40.0.0/16', /^\d+\.\d+\.\d+\.\d+\/(1[6-9]|2[0-4])$/),
    natGateways: int('natGateways', 1, 0, 3),
    kafkaVersion: str('kafkaVersion', '3.6.0', /^\d+\.\d+\.\d+(\.[a-z]+)?$/),
    brokerInstanceType: str('brokerInstanceType', 'kafka.t3.small', /^kafka\.[a-z0-9]+\.[a-z0-9]+$/),
    brokerCount,
    brokerVolumeGb: int('brokerVolumeGb', 100, 1, 16384),
    kafkaAuth: oneOf('kafkaAuth', 'iam', ['iam', 'scram'] as const),
    partitions,
    replicationFactor: int('replicationFactor', 3, 1, Math.min(3, brokerCount)),
    topic: str('topic', 'vehicle_positions', name),
    consumerGroup: str('consumerGroup', 'fleet-processor', name),
    cacheNodeType: str('cacheNodeType', 'cache.t4g.small', /^cache\.[a-z0-9]+\.[a-z0-9]+$/),
    cacheEngine: oneOf('cacheEngine', 'valkey', ['valkey', 'redis'] as const),
    cacheEngineVersion: str('cacheEngineVersion', '7.2', /^\d+(\.\d+)*$/),
    repositoryName: str('repositoryName', 'fleet-tracker', /^[a-z0-9][a-z0-9._/-]{1,255}$/),
    imageTag: str('imageTag', '0.1.0', /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/),
    gatewayDesiredCount: int('gatewayDesiredCount', 1, 0, webMaxCount),
    apiDesiredCount: int('apiDesiredCount', 1, 0, webMaxCount),
    processorDesiredCount: int('processorDesiredCount', 1, 1, partitions),
    simulatorDesiredCount: int('simulatorDesiredCount', 0, 0, 10),
    simulatorVehicles: int('simulatorVehicles', 100, 1, 1_000_000),
    webMaxCount,
    lagAlarmThreshold: int('lagAlarmThreshold', 100_000, 1, Number.MAX_SAFE_INTEGER),
    lagTargetPerTask: int('lagTargetPerTask', 20_000, 1, Number.MAX_SAFE_INTEGER),
    api5xxThreshold: int('api5xxThreshold', 5, 1, 1_000_000),
    logRetentionDays,
    alarmEmail: str('alarmEmail', '', /^$|^[^@\s]+@[^@\s]+$/),
    certificateArn: str('certificateArn', '', /^$|^arn:aws[a-z-]*:acm:/),
    snowflake: {
      account: str('snowflakeAccount', ''),
      user: str('snowflakeUser', ''),
      role: str('snowflakeRole', ''),
      warehouse: str('snowflakeWarehouse', ''),
      database: str('snowflakeDatabase', ''),
      schema: str('snowflakeSchema', 'PUBLIC'),
    },
  };
}
