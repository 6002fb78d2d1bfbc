import { App, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../lib/build-app.js';

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing unacknowledged in the whole app, and every acknowledgement gives a reason', () => {
    const app = new App();
    const { runtime, repository } = buildApp(app);
    const report = new AwsSolutionsChecks(app).validateScope(app);
    expect(
      report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.resourceLogicalId)}`),
    ).toEqual([]);
    expect(report.success).toBe(true);

    const acknowledged = [runtime, repository].flatMap((stack) =>
      stack.node
        .findAll()
        .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
        .flatMap((m) => Object.entries(m.data as Record<string, string>)),
    );
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const [id, reason] of acknowledged) expect(reason.length, id).toBeGreaterThan(40);
  });

  it('does report a finding nobody acknowledged (the check is live)', () => {
    const app = new App();
    const { runtime } = buildApp(app);
    const open = new ec2.SecurityGroup(runtime, 'OpenToTheWorld', { vpc: runtime.network.vpc });
    open.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(22));
    const report = new AwsSolutionsChecks(app).validateScope(app);
    expect(report.success).toBe(false);
    expect(report.violations.map((v) => v.ruleName)).toContain('AwsSolutions-EC23');
  });
});
