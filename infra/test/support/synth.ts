import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp, type FleetTrackerApp } from '../../lib/build-app.js';

export interface Synthesized extends FleetTrackerApp {
  readonly app: App;
  readonly template: Template;
  /** Resources of one CloudFormation type, by logical id. */
  resources(type: string): Record<string, { Properties: Record<string, unknown> }>;
}

/** Builds the app as `cdk synth` would, with extra context, and the runtime stack's template. */
export function synth(context: Record<string, unknown> = {}): Synthesized {
  const app = new App({ context });
  const built = buildApp(app);
  const template = Template.fromStack(built.runtime);
  return {
    ...built,
    app,
    template,
    resources: (type) =>
      template.findResources(type) as Record<string, { Properties: Record<string, unknown> }>,
  };
}

/** The logical id a `{ Ref }` or `{ Fn::GetAtt }` points to, if the value is one. */
export function refOf(value: unknown): string | undefined {
  if (value && typeof value === 'object') {
    const v = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
    return v.Ref ?? v['Fn::GetAtt']?.[0];
  }
  return undefined;
}
