import { Duration } from 'aws-cdk-lib';
import type * as ecs from 'aws-cdk-lib/aws-ecs';

/**
 * A container health check that asks the service's own HTTP endpoint. The image has no curl, so it
 * uses Node's fetch: exit 0 on a 2xx answer, 1 otherwise (including no answer within 4 s).
 * ECS ignores a Dockerfile HEALTHCHECK, and one image runs every subcommand on different ports, so
 * each task definition carries the check of its own service.
 */
export function httpHealthCheckScript(port: number, path: string): string {
  return (
    `fetch('http://127.0.0.1:${port}${path}',{signal:AbortSignal.timeout(4000)})` +
    '.then(r=>process.exit(r.ok?0:1),()=>process.exit(1))'
  );
}

export function httpHealthCheck(port: number, path: string, startPeriodSeconds = 60): ecs.HealthCheck {
  return {
    command: ['CMD', 'node', '-e', httpHealthCheckScript(port, path)],
    interval: Duration.seconds(30),
    timeout: Duration.seconds(5),
    retries: 3,
    startPeriod: Duration.seconds(startPeriodSeconds),
  };
}
