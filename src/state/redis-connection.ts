import { Cluster, Redis } from 'ioredis';
import { errorMessage, FleetError, SinkError } from '../errors.js';
import type { Logger } from '../logger.js';

/** Where the table lives: one Redis, or a Redis Cluster (seed nodes). */
export interface RedisTarget {
  /** Redis URL, e.g. `redis://127.0.0.1:6379`; with a cluster it only lends user, password and TLS. */
  url: string;
  /** Redis Cluster seed nodes (`host:port`). Non-empty: connect to the cluster. @default [] */
  clusterNodes?: readonly string[];
}

/** A single Redis or a cluster: the commands the table uses are the same on both. */
export type RedisClient = Redis | Cluster;

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
 * A client (a `Cluster` when `clusterNodes` is given) that fails fast while Redis is down and reconnects by itself when it is back: commands
 * wait in the offline queue for at most one reconnect attempt (`maxRetriesPerRequest: 1`) and never
 * longer than the command timeout, so callers get a retriable error and retry with their own backoff.
 */
export function createRedisConnection(
  target: RedisTarget | string,
  logger: Logger,
  options: RedisConnectionOptions = {},
): RedisClient {
  const { url, clusterNodes = [] } = typeof target === 'string' ? { url: target } : target;
  const maxDelay = options.maxReconnectDelayMs ?? 1000;
  const retryStrategy = (times: number) => Math.min(50 * 2 ** Math.min(times, 10), maxDelay);
  const common = {
    connectTimeout: options.connectTimeoutMs ?? 2000,
    commandTimeout: options.commandTimeoutMs ?? 10_000,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    ...(options.connectionName ? { connectionName: options.connectionName } : {}),
  };
  const client =
    clusterNodes.length === 0
      ? new Redis(url, { ...common, retryStrategy })
      : new Cluster(clusterNodes.map(seedNode), {
          redisOptions: { ...common, ...credentials(url) },
          clusterRetryStrategy: retryStrategy,
          // A node that restarts with the same slots is reconnected; MOVED refreshes the rest.
          clusterNodeRetryStrategy: retryStrategy,
          enableOfflineQueue: true,
          // Sharded pub/sub: one subscriber connection per primary, SSUBSCRIBE routed by slot.
          shardedSubscribers: true,
          // After a failover the old primary answers MOVED/READONLY for a moment: retry it.
          retryDelayOnFailover: 100,
          // A primary killed for good: its node connection keeps retrying (above), so commands
          // fail with "max retries per request" rather than "connection closed", which is the
          // only error ioredis refreshes the slot map on. Refresh it on a timer so the promoted
          // replica is found (the cluster-failover fault scenario saw a processor stuck for 5 min).
          slotsRefreshInterval: 2000,
          retryDelayOnClusterDown: 200,
        });
  let down = false;
  client.on('error', (err: Error) => {
    // ioredis emits one error per failed attempt; log the transition, not every retry.
    if (!down) logger.warn({ err: err }, 'redis connection lost; reconnecting');
    down = true;
  });
  client.on('ready', () => {
    if (down) logger.info('redis connection restored');
    down = false;
  });
  return client;
}

/** True when the client talks to a Redis Cluster. */
export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster;
}

function seedNode(node: string): { host: string; port: number } {
  const at = node.lastIndexOf(':');
  return { host: node.slice(0, at), port: Number(node.slice(at + 1)) };
}

/** User, password and TLS of REDIS_URL, applied to every cluster node. */
function credentials(url: string): { username?: string; password?: string; tls?: object } {
  const parsed = new URL(url);
  return {
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/**
 * Every key matching `pattern`: SCAN on the one Redis, or on every primary of a cluster (a
 * cluster's SCAN only walks the node it is sent to).
 */
export async function scanKeys(client: RedisClient, pattern: string): Promise<string[]> {
  const nodes = isCluster(client) ? client.nodes('master') : [client];
  const found: string[] = [];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      found.push(...keys);
      cursor = next;
    } while (cursor !== '0');
  }
  return found;
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
