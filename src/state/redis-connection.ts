import { Redis } from 'ioredis';
import { errorMessage, FleetError, SinkError } from '../errors.js';
import type { Logger } from '../logger.js';

export interface RedisConnectionOptions {
  /** Give up connecting (one attempt) after this long. @default 2000 (ms) */
  connectTimeoutMs?: number;
  /**
   * Reject a command (queued or sent) that has no reply after this long: covers a Redis that
   * accepts connections but does not answer. Generous, as one big batch is a few long scripts.
   * @default 10_000 (ms)
   */
  commandTimeoutMs?: number;
  /** Longest pause between reconnect attempts; reconnecting never stops. @default 1000 (ms) */
  maxReconnectDelayMs?: number;
  /** CLIENT SETNAME, to find our connections in CLIENT LIST. */
  connectionName?: string;
}

/**
 * A client that fails fast while Redis is down and reconnects by itself when it is back: commands
 * wait in the offline queue for at most one reconnect attempt (`maxRetriesPerRequest: 1`) and never
 * longer than the command timeout, so callers get a retriable error and retry with their own backoff.
 */
export function createRedisConnection(
  url: string,
  logger: Logger,
  options: RedisConnectionOptions = {},
): Redis {
  const maxDelay = options.maxReconnectDelayMs ?? 1000;
  const client = new Redis(url, {
    connectTimeout: options.connectTimeoutMs ?? 2000,
    commandTimeout: options.commandTimeoutMs ?? 10_000,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), maxDelay),
    ...(options.connectionName ? { connectionName: options.connectionName } : {}),
  });
  let down = false;
  client.on('error', (err: Error) => {
    // ioredis emits one error per failed attempt; log the transition, not every retry.
    if (!down) logger.warn({ err: errorMessage(err) }, 'redis connection lost; reconnecting');
    down = true;
  });
  client.on('ready', () => {
    if (down) logger.info('redis connection restored');
    down = false;
  });
  return client;
}

/** Server replies that mean "try again later" rather than "this command is wrong". */
const RETRIABLE_REPLIES = /^(LOADING|BUSY|TRYAGAIN|MASTERDOWN|READONLY|CLUSTERDOWN|NOSCRIPT)\b/;

/**
 * Wraps a Redis failure in a {@link SinkError}: connection loss and timeouts are retriable, a
 * rejected command (bad arguments, wrong type) is not. Our own errors (a bad cursor) pass through.
 */
export function redisError(operation: string, err: unknown): FleetError {
  if (err instanceof FleetError) return err;
  const message = errorMessage(err);
  const isReply = err instanceof Error && err.name === 'ReplyError';
  const retriable = !isReply || RETRIABLE_REPLIES.test(message);
  return new SinkError('redis', `${operation} failed: ${message}`, { retriable, cause: err });
}
