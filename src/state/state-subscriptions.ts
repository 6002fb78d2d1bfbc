import type { Logger } from '../logger.js';
import type { StateChange } from './latest-state-table.js';
import { isCluster, redisError, type RedisClient } from './redis-connection.js';
import { parseChanges } from './state-json.js';

type Listener = (change: StateChange) => void;

/**
 * Live subscribers of every shard's changes channel, multiplexed over one dedicated subscriber
 * connection (a subscribed connection can run no other command). On a cluster each shard channel
 * is SSUBSCRIBEd on its own (a sharded subscription must stay within one slot) and ioredis routes
 * it to the primary that owns the slot. Subscribes with the first listener, unsubscribes after the
 * last; ioredis resubscribes by itself after a reconnect or a failover.
 */
export class StateSubscriptions {
  private connection: RedisClient | undefined;
  private channelSet: Set<string> | undefined;
  /** Wrapped so the same function can be added twice and removed once. */
  private readonly listeners = new Set<{ listener: Listener }>();
  private subscribed: Promise<void> | undefined;

  constructor(
    private readonly connect: () => RedisClient,
    private readonly channels: () => Promise<readonly string[]>,
    private readonly logger: Logger,
  ) {}

  async add(listener: Listener): Promise<() => Promise<void>> {
    const entry = { listener };
    this.listeners.add(entry);
    try {
      await this.ensureSubscribed();
    } catch (err) {
      this.listeners.delete(entry);
      throw redisError('subscribe', err);
    }
    let active = true;
    return async () => {
      if (!active) return;
      active = false;
      this.listeners.delete(entry);
      if (this.listeners.size === 0) await this.unsubscribe();
    };
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.subscribed = undefined;
    const connection = this.connection;
    this.connection = undefined;
    if (connection) await connection.quit().catch(() => connection.disconnect());
  }

  private ensureSubscribed(): Promise<void> {
    if (this.subscribed === undefined) {
      const connection = (this.connection ??= this.open());
      const pending = this.channels().then(async (channels) => {
        this.channelSet = new Set(channels);
        if (isCluster(connection)) await Promise.all(channels.map((c) => connection.ssubscribe(c)));
        else await connection.subscribe(...channels);
      });
      this.subscribed = pending;
      pending.catch(() => {
        if (this.subscribed === pending) this.subscribed = undefined;
      });
    }
    return this.subscribed;
  }

  private async unsubscribe(): Promise<void> {
    if (this.subscribed === undefined || this.connection === undefined) return;
    this.subscribed = undefined;
    const connection = this.connection;
    const channels = [...(this.channelSet ?? [])];
    // Sent at once, so it is ordered before any SUBSCRIBE a later `add` issues.
    const done = isCluster(connection)
      ? Promise.all(channels.map((c) => connection.sunsubscribe(c)))
      : connection.unsubscribe(...channels);
    await done.catch((err: unknown) => {
      this.logger.warn({ err }, 'unsubscribe from state changes failed');
    });
  }

  private open(): RedisClient {
    const connection = this.connect();
    const onMessage = (channel: string, message: string) => {
      if (!this.channelSet?.has(channel)) return;
      let changes: StateChange[];
      try {
        changes = parseChanges(message);
      } catch (err) {
        this.logger.warn({ err: err }, 'unparsable state change message');
        return;
      }
      for (const change of changes) {
        for (const { listener } of this.listeners) {
          try {
            listener(change);
          } catch (err) {
            this.logger.error({ err: err }, 'state change listener threw');
          }
        }
      }
    };
    connection.on(isCluster(connection) ? 'smessage' : 'message', onMessage);
    return connection;
  }
}
