import type { Redis } from 'ioredis';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { StateChange } from './latest-state-table.js';
import { redisError } from './redis-connection.js';
import { parseChanges } from './state-hash.js';

type Listener = (change: StateChange) => void;

/**
 * Live subscribers of the changes channel, multiplexed over one dedicated subscriber connection
 * (a subscribed connection can run no other command). Subscribes with the first listener,
 * unsubscribes after the last; ioredis resubscribes by itself after a reconnect.
 */
export class StateSubscriptions {
  private connection: Redis | undefined;
  /** Wrapped so the same function can be added twice and removed once. */
  private readonly listeners = new Set<{ listener: Listener }>();
  private subscribed: Promise<void> | undefined;

  constructor(
    private readonly connect: () => Redis,
    private readonly channel: string,
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
      const pending = connection.subscribe(this.channel).then(() => undefined);
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
    // Sent at once, so it is ordered before any SUBSCRIBE a later `add` issues.
    await this.connection.unsubscribe(this.channel).catch((err: unknown) => {
      this.logger.warn({ err: errorMessage(err) }, 'unsubscribe from state changes failed');
    });
  }

  private open(): Redis {
    const connection = this.connect();
    connection.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      let changes: StateChange[];
      try {
        changes = parseChanges(message);
      } catch (err) {
        this.logger.warn({ err: errorMessage(err) }, 'unparsable state change message');
        return;
      }
      for (const change of changes) {
        for (const { listener } of this.listeners) {
          try {
            listener(change);
          } catch (err) {
            this.logger.error({ err: errorMessage(err) }, 'state change listener threw');
          }
        }
      }
    });
    return connection;
  }
}
