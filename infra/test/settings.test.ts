import { describe, expect, it } from 'vitest';
import { readSettings } from '../lib/settings.js';

const read = (context: Record<string, unknown>) => readSettings((key) => context[key]);

describe('settings from CDK context', () => {
  it('has the documented defaults', () => {
    const s = read({});
    expect(s).toMatchObject({
      envName: 'prod',
      region: 'eu-west-1',
      availabilityZones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'],
      brokerInstanceType: 'kafka.t3.small',
      brokerCount: 3,
      brokerVolumeGb: 100,
      kafkaAuth: 'iam',
      partitions: 3,
      processorDesiredCount: 1,
      simulatorDesiredCount: 0,
    });
  });

  it('reads -c strings and cdk.json numbers alike', () => {
    expect(read({ partitions: '6', processorDesiredCount: 4 })).toMatchObject({
      partitions: 6,
      processorDesiredCount: 4,
    });
  });

  it('refuses a bad value naming the context key', () => {
    expect(() => read({ processorDesiredCount: '4' })).toThrow(/'processorDesiredCount'.*1\.\.3/);
    expect(() => read({ brokerCount: '4' })).toThrow(/'brokerCount'.*multiple of the 3 AZs/);
    expect(() => read({ kafkaAuth: 'plain' })).toThrow(/'kafkaAuth'.*iam, scram/);
    expect(() => read({ logRetentionDays: '10' })).toThrow(/'logRetentionDays'/);
    expect(() => read({ availabilityZones: 'eu-west-1a,eu-west-1b' })).toThrow(/'availabilityZones'/);
  });
});
