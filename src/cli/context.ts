import {
  explicitServiceAddresses,
  fleetHomeFromEnv,
  loadConfig,
  type Config,
  type RawConfig,
} from '../config/index.js';
import { ShutdownError } from '../app/scope.js';
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
function localServiceAddresses(): RawConfig {
  const explicit = explicitServiceAddresses();
  const s = status(fleetHomeFromEnv());
  return {
    ...(!explicit.kafka && s.kafka && s.kafka.alive > 0 ? { KAFKA_BROKERS: s.kafka.brokers.join(',') } : {}),
    ...(!explicit.redis && s.redis?.alive ? { REDIS_URL: s.redis.url } : {}),
  };
}

/**
 * What a fatal error prints and the exit code: a {@link FleetError} (a user mistake or an
 * unreachable service) is one clear line without a stack; anything else is a bug and shows its
 * stack, also when it made a shutdown fail.
 */
export function formatFatal(err: unknown): { text: string; exitCode: number } {
  if (err instanceof ConfigError)
    return { text: `fleet: configuration error: ${err.message}\n`, exitCode: 2 };
  if (err instanceof ShutdownError && !(err.cause instanceof FleetError)) {
    return { text: `fleet: ${err.message}\n${stackOf(err.cause)}\n`, exitCode: 1 };
  }
  if (err instanceof FleetError) return { text: `fleet: ${err.message}\n`, exitCode: 1 };
  return { text: `fleet: unexpected error: ${stackOf(err)}\n`, exitCode: 1 };
}

function stackOf(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

/** Prints the fatal error (see {@link formatFatal}) and exits. */
export function reportFatal(err: unknown): never {
  const { text, exitCode } = formatFatal(err);
  process.stderr.write(text);
  process.exit(exitCode);
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
