import { loadConfig, type Config, type RawConfig } from '../config/index.js';
import { ConfigError, FleetError } from '../errors.js';
import { createLogger, type Logger } from '../logger.js';
import { status } from '../local/services.js';

export interface CommandContext {
  config: Readonly<Config>;
  logger: Logger;
}

/** Loads config (env + flag overrides) and a logger; the first thing every command does. */
export function commandContext(
  flags: RawConfig = {},
  options: { logToStderr?: boolean } = {},
): CommandContext {
  const config = loadConfig({ ...localServiceAddresses(), ...flags });
  const logger = createLogger({ level: config.logLevel, destination: options.logToStderr ? 2 : 1 });
  return { config, logger };
}

/**
 * Addresses of the services `fleet services up` started, used when KAFKA_BROKERS / REDIS_URL are
 * not set, so `fleet services up` followed by any command just works in a new shell.
 */
function localServiceAddresses(env: NodeJS.ProcessEnv = process.env): RawConfig {
  const home = env.FLEET_HOME || '.cache/fleet';
  const s = status(home);
  return {
    ...(!env.KAFKA_BROKERS && s.kafka && s.kafka.alive > 0
      ? { KAFKA_BROKERS: s.kafka.brokers.join(',') }
      : {}),
    ...(!env.REDIS_URL && s.redis?.alive ? { REDIS_URL: s.redis.url } : {}),
  };
}

/** Prints a FleetError as one clear line (no stack) and exits non-zero; anything else is a bug. */
export function reportFatal(err: unknown): never {
  if (err instanceof ConfigError) {
    process.stderr.write(`fleet: configuration error: ${err.message}\n`);
    process.exit(2);
  }
  if (err instanceof FleetError) {
    process.stderr.write(`fleet: ${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(
    `fleet: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
}

/** Wraps a commander action so errors end the process with a clear message. */
export function action<A extends unknown[]>(
  fn: (...args: A) => Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      reportFatal(err);
    }
  };
}

/** Parses durations like `500ms`, `5s`, `2m`, `1h`, `1d` (bare numbers are ms). */
export function parseDuration(text: string, flag = 'duration'): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) throw new ConfigError(flag, `'${text}' is not a duration (examples: 500ms, 5s, 2m, 1h)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(match[2] ?? 'ms') as 'ms'];
  return Math.round(Number(match[1]) * unit);
}
