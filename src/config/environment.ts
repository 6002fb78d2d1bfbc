/**
 * The process environment: the one module outside `config.ts` that touches `process.env`. Code
 * elsewhere gets what it needs from the config or from parameters the CLI passes down.
 */

/** The environment of this process. */
export function processEnv(): NodeJS.ProcessEnv {
  return process.env;
}

/** `fleet dev`: development mode (API keys optional) unless NODE_ENV says otherwise; a copy. */
export function devEnvironment(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  // A vehicle of the demo scenario goes silent after 20 s: show its offline event within a minute.
  return { ...env, NODE_ENV: env.NODE_ENV ?? 'development', OFFLINE_AFTER: env.OFFLINE_AFTER ?? '30s' };
}

/** Which service addresses the user set; the others may come from `fleet services up`. */
export function explicitServiceAddresses(env: NodeJS.ProcessEnv = process.env): {
  kafka: boolean;
  redis: boolean;
  schemaRegistry: boolean;
} {
  return {
    kafka: Boolean(env.KAFKA_BROKERS),
    redis: Boolean(env.REDIS_URL),
    schemaRegistry: Boolean(env.SCHEMA_REGISTRY_URL),
  };
}

/** LOG_LEVEL before a config exists (boot logs, the fault suite), or `fallback`. */
export function logLevelFromEnv(fallback: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.LOG_LEVEL || fallback;
}

/** FLEET_HOME before a config exists. */
export function fleetHomeFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env.FLEET_HOME || '.cache/fleet';
}

/**
 * Silences notices of libraries that are configured through the environment: kafkajs' partitioner
 * change (we pick the partitioner explicitly) and the AWS SDK's Node-version notice (bundled by
 * the Snowflake driver for stage transfers we never use). Called once at start.
 */
export function quietLibraryNotices(env: NodeJS.ProcessEnv = process.env): void {
  env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}
