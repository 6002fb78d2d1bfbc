import { pino, type Logger } from 'pino';

export type { Logger };

/** Root logger: JSON lines on stdout (or stderr for CLI commands whose stdout is data). */
export function createLogger(options: { level?: string; name?: string; destination?: 1 | 2 } = {}): Logger {
  return pino(
    { name: options.name ?? 'fleet', level: options.level ?? 'info' },
    pino.destination({ fd: options.destination ?? 1, sync: false }),
  );
}

/**
 * The one way to log an error: under `err`, which pino's error serializer turns into type,
 * message, stack and cause, so a log line of a failure always carries its stack.
 */
export function logError(
  logger: Logger,
  err: unknown,
  msg: string,
  fields: Record<string, unknown> = {},
  level: 'fatal' | 'error' | 'warn' = 'error',
): void {
  logger[level]({ ...fields, err }, msg);
}

/** A logger that drops everything; the default in tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });

/** Event names used in logs, so they can be searched for and alerted on. */
export const LogEvents = {
  serviceStarted: 'service.started',
  serviceStopped: 'service.stopped',
  batchFlushed: 'batch.flushed',
  batchRetry: 'batch.retry',
  offsetsCommitted: 'offsets.committed',
  deadLetter: 'record.dead_lettered',
  backpressurePause: 'backpressure.pause',
  backpressureResume: 'backpressure.resume',
  rebalance: 'consumer.rebalance',
  shutdown: 'lifecycle.shutdown',
} as const;
