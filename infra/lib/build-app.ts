import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FleetTrackerStack } from './fleet-tracker-stack.js';
import { ImageRepositoryStack } from './image-repository-stack.js';
import { suppressReviewedFindings } from './nag-suppressions.js';
import { readSettings, type Settings } from './settings.js';

export interface FleetTrackerApp {
  readonly settings: Settings;
  readonly repository: ImageRepositoryStack;
  readonly runtime: FleetTrackerStack;
}

/**
 * Both stacks of an environment, checked by cdk-nag's AWS Solutions rules. Every finding we accept
 * is suppressed with its reason in nag-suppressions.ts; any other finding is an error at synth.
 */
export function buildApp(app: App): FleetTrackerApp {
  const settings = readSettings((key) => app.node.tryGetContext(key));
  const env = { account: settings.account, region: settings.region };
  const prefix = `FleetTracker-${settings.envName}`;
  const repository = new ImageRepositoryStack(app, `${prefix}-repo`, {
    env,
    repositoryName: settings.repositoryName,
    description: 'fleet-tracker: the image repository (deploy first, then push the image)',
  });
  const runtime = new FleetTrackerStack(app, prefix, {
    env,
    settings,
    description: 'fleet-tracker: MSK, ElastiCache, ECS Fargate services, dashboard, alarms',
  });
  suppressReviewedFindings(runtime);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { settings, repository, runtime };
}
